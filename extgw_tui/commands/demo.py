"""`extgw-tui demo` and `--demo`: make the demo database on first use, atomically.

cli.py calls ensure_demo before anything else, for both; the `demo` command then stops.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path

from extgw_tui.db import open_database, sqlite_path
from extgw_tui.errors import ExtgwError
from extgw_tui.services import demo


def _reporter():
    """Progress on stderr: a live percentage on a terminal, a few plain lines otherwise."""
    tty = sys.stderr.isatty()
    seen: set[str] = set()

    def report(step: str, fraction: float) -> None:
        if tty:
            print(f"\rMaking demo data: {step:<8} {fraction:4.0%}", end="", file=sys.stderr, flush=True)
        elif step not in seen:
            seen.add(step)
            print(f"Making demo data: {step}", file=sys.stderr, flush=True)

    return report, tty


def ensure_demo(url: str, size: str, *, force: bool = False) -> None:
    """Generate the demo database at `url` if it is missing (or `force`), never half-written."""
    path = sqlite_path(url)
    if path is None:
        raise ExtgwError("The demo database must be an SQLite file.")
    if path.exists() and path.stat().st_size > 0 and not force:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    _remove(temp)
    report, tty = _reporter()
    started = time.perf_counter()
    try:
        db = open_database(f"sqlite:///{temp}")
        try:
            # A scratch file renamed into place at the end needs no journal while it is filled.
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-200000"):
                db.execute_sql(f"PRAGMA {pragma}")
            summary = demo.generate(size, today=date.today(), progress=report)
            db.execute_sql("PRAGMA journal_mode=WAL")
        finally:
            db.close()
        _remove(path)
        os.replace(temp, path)
    finally:
        _remove(temp)
    if tty:
        print(file=sys.stderr)
    print(
        f"Demo database ({size}): {summary.users:,} users, {summary.pupils:,} pupils, "
        f"{summary.licences:,} licences, {summary.logins:,} logins in "
        f"{time.perf_counter() - started:.1f} s; every account's password is "
        f"{demo.DEMO_PASSWORD!r}. {path}",
        file=sys.stderr,
    )


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)

