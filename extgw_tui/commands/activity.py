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

from extgw_tui.commands.table import TextTable
from extgw_tui.errors import InvalidInput
from extgw_tui.exit_codes import EXIT_OK
from extgw_tui.services import activity
from extgw_tui.text import plural

#: Most rows one command prints; a larger --limit is cut to this.
MAX_LIMIT = 100_000

_TABLE = TextTable(
    (
        ("When", 19),
        ("Admin", 14),
        ("Action", 16),
        ("User", 7),
        ("Target", 30),
        ("Detail", 40),
    )
)


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
    if not total:
        print(f"0 entries ({flt.describe()}).")
        return EXIT_OK
    entries = plural(total, "entry", "entries")
    print(f"{entries} ({flt.describe()}); showing the newest {min(total, limit):,}.")
    _TABLE.print_heading()
    for row in activity.iter_entries(flt, limit=limit):
        _TABLE.print_row(
            (_when(row.at), row.admin, row.action, row.user_id, row.target, row.detail)
        )
    return EXIT_OK
