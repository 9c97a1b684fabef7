"""Licence keys at scale: generate 2 keys for each of 120,000 pupils with the letters file, then
look keys up as the portal does.

    python benchmarks/bench_keys.py [--pupils 120000] [--db URL] [--json FILE] [--check]

Without --db a fresh SQLite file in a temporary folder; a PostgreSQL URL is emptied first
(DROP SCHEMA public CASCADE: give it a database of its own). Targets: generation + letters
<= 30 s; a key lookup (digest, row lock, batch and pupil checks: registration's _lock_key)
<= 5 ms at p95. Seeding the pupils and their contacts is not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from common import median, p95  # noqa: F401  (puts the repository on sys.path)
from openpyxl import load_workbook

from extgw_tui.db import open_database
from extgw_tui.models import Contact, LicenceType, Pupil, database, name_key, text_key
from extgw_tui.services import audit
from extgw_tui.services.key_codes import key_digest
from extgw_tui.services.key_issue import issue
from extgw_tui.services.key_letters import COLUMNS
from extgw_tui.services.licence_keys import KeyScope, Plan
from extgw_tui.services.registration import _lock_key

LOOKUPS = 1000


def _reset_postgres(url: str) -> None:
    handle = open_database(url)
    handle.execute_sql("DROP SCHEMA public CASCADE")
    handle.execute_sql("CREATE SCHEMA public")
    handle.close()


def seed(pupils: int) -> None:
    """`pupils` on roll in 7 years x 8 forms, two contacts each (one with an address)."""
    rng = random.Random(15)
    rows = []
    for n in range(pupils):
        year = 7 + n % 7
        surname = f"Surname{rng.randrange(5000):04d}"
        rows.append(
            {
                "forename": f"Forename{n % 997}",
                "forename_key": name_key(f"Forename{n % 997}"),
                "surname": surname,
                "surname_key": name_key(surname),
                "year_group": year,
                "form": f"{year}{'ABCDEFGH'[n % 8]}",
                "upn": f"B{n:012d}",
            }
        )
    with database.atomic():
        for start in range(0, len(rows), 500):
            Pupil.insert_many(rows[start : start + 500]).execute()
    ids = [r[0] for r in Pupil.select(Pupil.id).order_by(Pupil.id).tuples()]
    contacts = []
    for pupil_id in ids:
        for priority in (1, 2):
            email = f"c{pupil_id}-{priority}@example.org"
            contacts.append(
                {
                    "pupil": pupil_id,
                    "priority": priority,
                    "title": "Ms",
                    "forename": f"Carer{priority}",
                    "surname": "Family",
                    "email": email,
                    "email_key": text_key(email),
                    "parental_responsibility": True,
                    "address": f"{pupil_id} High Street\nTown" if priority == 1 else "",
                }
            )
    with database.atomic():
        for start in range(0, len(contacts), 500):
            Contact.insert_many(contacts[start : start + 500]).execute()


def sample_keys(path: Path, count: int) -> list[str]:
    wb = load_workbook(path, read_only=True)
    try:
        rows = wb["Licence keys"].iter_rows(min_row=2, max_row=count + 1, values_only=True)
        column = [c.title for c in COLUMNS].index("Licence key")
        return [row[column] for row in rows]
    finally:
        wb.close()


def lookups(keys: list[str]) -> list[float]:
    times = []
    for key in keys:
        started = time.perf_counter()
        with database.atomic():
            _lock_key(key_digest(key))
        times.append(time.perf_counter() - started)
    return times


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of this process, and of its finished children: the letters
    file is written by a child process (services/key_issue)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def run(url: str, pupils: int, folder: Path) -> dict:
    if url.startswith("postgres"):
        _reset_postgres(url)
    open_database(url)
    audit.set_admin("bench")
    started = time.perf_counter()
    seed(pupils)
    seeded = time.perf_counter() - started
    parent = LicenceType.get(LicenceType.name == "Parent/Guardian").id
    letters = folder / "letters.xlsx"
    load_before = os.getloadavg()
    started, (own, children) = time.perf_counter(), cpu_seconds()
    result = issue(Plan(KeyScope(parent), 2), letters=letters)
    generation = time.perf_counter() - started
    own_after, children_after = cpu_seconds()
    print(f"generated {result.keys:,} keys in {generation:.1f} s", file=sys.stderr)
    keys = sample_keys(letters, LOOKUPS)
    rng = random.Random(1)
    rng.shuffle(keys)
    lookups(keys[:50])  # warm the caches, as a running portal's are
    times = lookups(keys)
    database.close()
    return {
        "backend": "postgresql" if url.startswith("postgres") else "sqlite",
        "pupils": pupils,
        "keys": result.keys,
        "seed_seconds": round(seeded, 2),
        "generate_and_letters_seconds": round(generation, 2),
        # this process and its letters writer (the machine is shared; PostgreSQL's own work
        # is not in it), then the two apart
        "generate_and_letters_cpu_seconds": round(own_after - own + children_after - children, 2),
        "generate_cpu_seconds": round(own_after - own, 2),
        "letters_writer_cpu_seconds": round(children_after - children, 2),
        "load_average_before": load_before,
        "load_average": os.getloadavg(),
        "letters_mb": round(letters.stat().st_size / 1e6, 1),
        "lookup_median_ms": round(median(times) * 1000, 3),
        "lookup_p95_ms": round(p95(times) * 1000, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=120_000)
    parser.add_argument("--db", help="a database URL (default: a new SQLite file)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="extgw-keys-bench-") as temp:
        folder = Path(temp)
        url = args.db or f"sqlite:///{folder / 'keys.sqlite3'}"
        figures = run(url, args.pupils, folder)
    text = json.dumps(figures, indent=2)
    print(text)
    print("RESULT " + json.dumps(figures))  # for run.py's probe
    if args.json:
        args.json.write_text(text + "\n")
    ok = figures["generate_and_letters_seconds"] <= 30 and figures["lookup_p95_ms"] <= 5
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
