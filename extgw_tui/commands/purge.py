"""`extgw-tui purge [--yes]`: remove for good the accounts deleted longer ago than the retention.

A deleted account stays restorable (the activity log's Undo, `extgw-tui undo`) for
`purge_after_days` days (config.toml or EXTGW_PURGE_AFTER_DAYS, default 30); this removes those
past it, as the app does at start-up (services/purge.py). Asks first on a terminal, unless
--yes.

Exit codes:
  0  nothing was due, or the due accounts were purged
  1  error: a bad retention setting, or no terminal to confirm on and no --yes
  2  the database cannot be opened (from cli.py)
  4  the administrator declined the confirmation
"""

from __future__ import annotations

import argparse
import sys

from extgw_tui.errors import ExtgwError
from extgw_tui.exit_codes import EXIT_DECLINED, EXIT_OK
from extgw_tui.services import purge


def _confirmed(count: int) -> bool:
    noun = "account" if count == 1 else "accounts"
    try:
        answer = input(f"Purge these {count:,} {noun} for good? Type 'yes' to purge: ")
    except EOFError:
        return False
    return answer.strip().casefold() == "yes"


def run(args: argparse.Namespace) -> int:
    days = purge.retention_days()
    due = purge.count_due(days)
    waiting = purge.count_deleted() - due
    print(
        f"{due:,} deleted account{'s' if due != 1 else ''} older than {days} days "
        f"({waiting:,} more still restorable)."
    )
    if not due:
        return EXIT_OK
    if not args.yes:
        if not sys.stdin.isatty():
            raise ExtgwError("Refusing to purge without a terminal to confirm on; add --yes.")
        if not _confirmed(due):
            print("Nothing was purged.")
            return EXIT_DECLINED
    print(purge.purge_due(days=days).summary())
    return EXIT_OK
