"""`extgw-tui demo` and `--demo`: make the demo database on first use, never half-written.

cli.py calls ensure_demo before opening the database, for both. The data is generated into a
scratch file beside the demo file and renamed into place only when complete, so an interrupted
generation (Ctrl+C, a full disk) leaves either the old demo database or none.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import peewee

from extgw_tui import email_index
from extgw_tui.db import make_database, open_database, redact_url, sqlite_path
from extgw_tui.errors import ExtgwError
from extgw_tui.exit_codes import EXIT_OK
from extgw_tui.models import ALL_MODELS
from extgw_tui.services import demo, users
from extgw_tui.services.demo_copy import generate_copy

#: Fast settings for a scratch file nobody else has open; the normal ones return on next open.
_SCRATCH_PRAGMAS = ("journal_mode=OFF", "synchronous=OFF", "cache_size=-200000")


def _reporter(tty: bool) -> Callable[[str, float], None]:
    """Progress on stderr: a live percentage on a terminal, one plain line per stage otherwise."""
    seen: set[str] = set()

    def report(stage: str, fraction: float) -> None:
        if tty:
            line = f"\rMaking demo data: {stage:<10} {fraction:4.0%}"
            print(line, end="", file=sys.stderr, flush=True)
        elif stage not in seen:
            seen.add(stage)
            print(f"Making demo data: {stage}...", file=sys.stderr, flush=True)

    return report


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def ensure_demo(url: str, size: str, *, force: bool = False) -> None:
    """Generate the demo database at `url` if it is missing or empty (or `force`), then close it."""
    path = sqlite_path(url)
    if path is None:
        _demo_on_server(url, size)
        return
    if size in demo.SERVER_ONLY:
        raise ExtgwError(demo.SERVER_ONLY_REFUSAL)
    if not force and path.is_file() and path.stat().st_size > 0:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExtgwError(
            f"The demo database folder {path.parent} cannot be created: {exc.strerror or exc}."
        ) from exc
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tty = sys.stderr.isatty()
    started = time.perf_counter()
    try:
        _remove(temp)
        db = open_database(f"sqlite:///{temp}")
        try:
            for pragma in _SCRATCH_PRAGMAS:
                db.execute_sql(f"PRAGMA {pragma}")
            summary = demo.generate(size, today=date.today(), progress=_reporter(tty))
            db.execute_sql("PRAGMA journal_mode=WAL")
        finally:
            db.close()
        _remove(path)
        os.replace(temp, path)
    except OSError as exc:
        raise ExtgwError(
            f"The demo database {path} cannot be written: {exc.strerror or exc}."
        ) from exc
    finally:
        _remove(temp)
        if tty:
            print(file=sys.stderr)
    print(
        f"{summary.text()} Made in {time.perf_counter() - started:.1f} s: {path}", file=sys.stderr
    )


def _demo_on_server(url: str, size: str) -> None:
    """The demo data into an EMPTY PostgreSQL database (`extgw-tui demo --db URL`).

    A database with any table in it is refused; an interrupted or failed generation drops the
    tables it made, so the database is left empty again.
    """
    probe = make_database(url)
    try:
        probe.connect()
        if probe.get_tables():
            raise ExtgwError(
                f"The database {redact_url(url)} is not empty; "
                "demo data goes only into a new, empty database."
            )
    finally:
        probe.close()
    tty = sys.stderr.isatty()
    started = time.perf_counter()
    db = open_database(url)
    phases: list[tuple[str, float]] = []
    try:
        # every size through COPY: the same rows as demo.generate (tests/test_demo_huge.py),
        # several times faster than INSERTs on a server
        summary = generate_copy(size, today=date.today(), progress=_reporter(tty), phases=phases)
        analyzing = time.perf_counter()
        # the planner's statistics, or the first queries crawl; VACUUM also sets the visibility
        # map of the few pages COPY FREEZE did not write (the audit rows)
        db.execute_sql("VACUUM ANALYZE")
        phases.append(("vacuum analyze", time.perf_counter() - analyzing))
    except BaseException:
        with contextlib.suppress(peewee.DatabaseError):  # the first error is the one to tell
            db.rollback()
            email_index.drop(db)  # made by open_database, beside the models' tables
            db.drop_tables(ALL_MODELS, safe=True, cascade=True)
        raise
    finally:
        if tty:
            print(file=sys.stderr)
    print(
        f"{summary.text()} Made in {time.perf_counter() - started:.1f} s: {redact_url(url)}",
        file=sys.stderr,
    )
    if len(phases) > 1:
        print("Phases: " + ", ".join(f"{n} {s:.1f} s" for n, s in phases) + ".", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """`extgw-tui demo`: ensure_demo has run; say where the demo database is and what it holds
    (and with --roll-file, write a roll file matching it, to try the import on)."""
    if getattr(args, "roll_file", None):
        from extgw_tui.services.demo_roll import write_roll_file

        print(write_roll_file(Path(args.roll_file)).text())
    totals = users.totals()
    print(
        f"The demo database holds {totals.users:,} users ({totals.denied:,} denied); "
        f"open it with: {_open_with(args)}. "
        f"Every demo account's portal password is {demo.DEMO_PASSWORD!r}."
    )
    return EXIT_OK


def _open_with(args: argparse.Namespace) -> str:
    if getattr(args, "db", None):
        return f"extgw-tui --db {redact_url(args.db)}"
    return f"extgw-tui --demo{' --demo-size ' + args.size if args.size != 'small' else ''}"
