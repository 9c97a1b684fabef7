"""`extgw-tui activity [--admin-filter NAME] [--action A] [--user ID] [--limit N]`: the audit log.

Prints how many entries match, then the newest N of them (default 50) as a table, streamed
from the database. Every cell has its control characters escaped, so nothing stored can send
escape sequences to the terminal.

Exit codes:
  0  the table was printed (perhaps empty)
  1  error: a limit below 1
  2  the database cannot be opened (from cli.py)
"""

from __future__ import annotations

import argparse
from datetime import datetime

from extgw_tui.errors import InvalidInput
from extgw_tui.services import activity, audit

EXIT_OK = 0

#: Most rows one command prints; a larger --limit is cut to this.
MAX_LIMIT = 100_000

_COLUMNS = (
    ("When", 19),
    ("Admin", 14),
    ("Action", 16),
    ("User", 7),
    ("Target", 30),
    ("Detail", 40),
)


def _cell(value: object, width: int) -> str:
    """One cell: control characters escaped, cut to fit."""
    text = audit.clean("" if value is None else str(value))
    return text if len(text) <= width else text[: width - 1] + "…"


def _line(values: tuple[object, ...]) -> str:
    cells = [_cell(v, w).ljust(w) for v, (_, w) in zip(values, _COLUMNS, strict=True)]
    return "  ".join(cells).rstrip()


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def run(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise InvalidInput("--limit must be at least 1.")
    limit = min(args.limit, MAX_LIMIT)
    flt = activity.ActivityFilter(
        admin=args.admin_filter or None, action=args.action or None, user_id=args.user
    )
    total = activity.count(flt)
    noun = "entry" if total == 1 else "entries"
    if not total:
        print(f"0 entries ({flt.describe()}).")
        return EXIT_OK
    print(f"{total:,} {noun} ({flt.describe()}); showing the newest {min(total, limit):,}.")
    print(_line(tuple(name for name, _ in _COLUMNS)))
    for row in activity.iter_entries(flt, limit=limit):
        print(_line((_when(row.at), row.admin, row.action, row.user_id, row.target, row.detail)))
    return EXIT_OK
