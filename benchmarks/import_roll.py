"""The roll import benchmark: a local authority's roll into the large demo, preview and apply.

The roll file is the demo's own (services/demo_roll.py: 120,000 pupils less ~0.5% leavers, plus
~0.5% arrivals, ~1% moved form, about 200,000 contacts), so the import matches nearly every
pupil and adds every contact: the work a first import of contacts into a live database does.
SQLite: on a scratch copy of the large demo. PostgreSQL: when EXTGW_BENCH_PG_URL names a
database (it is emptied), the large demo is generated into it first (timed, reported).
Preview and apply each run in a child process (probe_import.py) for their own peak memory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from common import BENCH, ROOT, parse

PREVIEW_LIMIT, APPLY_LIMIT, MEMORY_LIMIT = 10.0, 30.0, 300.0


def _probe(env: dict, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(BENCH / "probe_import.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"probe_import.py {args[0]} failed:\n{done.stderr[-3000:]}")
    return parse(done.stdout)


def _pg_demo(url: str, size: str) -> float:
    """Empty the PostgreSQL database and generate the demo into it; seconds taken."""
    from extgw_tui.db import open_database
    from extgw_tui.services import demo

    db = open_database(url)
    db.execute_sql("DROP SCHEMA public CASCADE")
    db.execute_sql("CREATE SCHEMA public")
    db.close()
    db = open_database(url)
    started = time.perf_counter()
    demo.generate(size, today=date.today())
    db.close()
    return time.perf_counter() - started


def measure(env: dict, large: Path, scratch: Path, size: str) -> dict:
    """Figures per backend: roll file size, preview and apply seconds and peak memory."""
    scratch.mkdir(parents=True, exist_ok=True)
    copy = scratch / "import-work.sqlite3"
    roll = scratch / "import-roll.csv"
    figures: dict = {}
    try:
        for suffix in ("-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(large, copy)
        url = f"sqlite:///{copy}"
        made = _probe(env, "roll", url, str(roll))
        figures["file"] = {**made, "mb": roll.stat().st_size / 1e6}
        figures["sqlite"] = {
            "preview": _probe(env, "preview", url, str(roll)),
            "apply": _probe(env, "apply", url, str(roll)),
            "again": _probe(env, "preview", url, str(roll)),
        }
        pg_url = os.environ.get("EXTGW_BENCH_PG_URL", "")
        if pg_url:
            generated = _pg_demo(pg_url, size)
            figures["postgres"] = {
                "generation_seconds": generated,
                "preview": _probe(env, "preview", pg_url, str(roll)),
                "apply": _probe(env, "apply", pg_url, str(roll)),
                "again": _probe(env, "preview", pg_url, str(roll)),
            }
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
        roll.unlink(missing_ok=True)
    return figures


def targets(figures: dict, target_type) -> list:
    """PASS/MISS rows of the import, per backend measured."""
    found = []
    for backend in ("sqlite", "postgres"):
        runs = figures.get(backend)
        if not runs:
            continue
        found += [
            target_type(
                f"roll import preview ({backend})", runs["preview"]["seconds"], PREVIEW_LIMIT, "s"
            ),
            target_type(
                f"roll import apply ({backend})", runs["apply"]["seconds"], APPLY_LIMIT, "s"
            ),
            target_type(
                f"roll import peak memory ({backend})",
                max(runs["preview"]["vmhwm_mb"], runs["apply"]["vmhwm_mb"]),
                MEMORY_LIMIT,
                "MB",
            ),
        ]
    return found


def lines(figures: dict) -> list[str]:
    f = figures["file"]
    out = [
        f"roll import: a file of {f['pupils']:,} pupils, {f['contacts']:,} contacts "
        f"({f['mb']:.1f} MB)"
    ]
    for backend in ("sqlite", "postgres"):
        runs = figures.get(backend)
        if not runs:
            out.append(f"roll import on {backend}: not measured (set EXTGW_BENCH_PG_URL)")
            continue
        p, a, again = runs["preview"], runs["apply"], runs["again"]
        out.append(
            f"roll import on {backend}: preview {p['seconds']:.1f} s (CPU here "
            f"{p['cpu_seconds']:.1f} s, {p['vmhwm_mb']:.0f} MB), apply {a['seconds']:.1f} s "
            f"(CPU {a['cpu_seconds']:.1f} s, {a['vmhwm_mb']:.0f} MB): {a['new']:,} new, "
            f"{a['changed']:,} changed, {a['leaving']:,} leaving, {a['contacts_added']:,} "
            f"contacts added; the same file again: {again['new'] + again['changed']} changes, "
            f"{again['contacts_added'] + again['contacts_changed']} contact changes"
        )
    return out
