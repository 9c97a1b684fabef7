"""`extgw-tui undo [BATCH] [--dry-run] [--yes]`: undo one batch, as the activity log's u does.

Without BATCH: the newest changes that can be undone, with their batch ids. With BATCH (the
id, or its first 6 or more characters, as the activity log shows them): what the undo would
change, then, after a confirmation typed on the terminal (or --yes), the undo itself. Accounts
changed since the batch are left as they are and counted (services/undo.py).

Exit codes:
  0  listed, previewed (--dry-run) or undone
  1  the batch cannot be undone (the reason is printed), or no terminal to confirm on
  2  the database cannot be opened (from cli.py)
  4  the administrator declined the confirmation
"""

from __future__ import annotations

import argparse
import sys

from extgw_tui.errors import ExtgwError
from extgw_tui.exit_codes import EXIT_DECLINED, EXIT_OK
from extgw_tui.services import audit, undo

#: Changes listed when no batch is given.
LISTED = 20


def _list() -> int:
    plans = undo.recent(LISTED)
    if not plans:
        print("Nothing to undo: no allow, deny, pupil removal or deletion has been recorded.")
        return EXIT_OK
    print(f"The newest {len(plans)} changes that undo knows; `extgw-tui undo BATCH` undoes one.")
    print(f"{'Batch':<9} {'When':<16} {'Admin':<14} {'Action':<15} {'Accounts':>8}  Now")
    for plan in plans:
        state = plan.refusal or f"{plan.will_change:,} would change"
        print(
            f"{plan.batch[:8]:<9} {plan.at:%Y-%m-%d %H:%M} {audit.clean(plan.admin)[:14]:<14} "
            f"{plan.action:<15} {plan.accounts:>8,}  {state}"
        )
    return EXIT_OK


def _confirmed() -> bool:
    try:
        answer = input("Undo it? Type 'yes' to undo: ")
    except EOFError:
        return False
    return answer.strip().casefold() == "yes"


def run(args: argparse.Namespace) -> int:
    if not args.batch:
        return _list()
    plan = undo.preview(args.batch)
    if plan.refusal:
        raise ExtgwError(plan.refusal)
    print(audit.clean(plan.question()))
    if args.dry_run:
        print("Nothing was changed (--dry-run).")
        return EXIT_OK
    if not args.yes:
        if not sys.stdin.isatty():
            raise ExtgwError("Refusing to undo without a terminal to confirm on; add --yes.")
        if not _confirmed():
            print("Nothing was changed.")
            return EXIT_DECLINED
    result = undo.undo(plan.batch)
    print(audit.clean(result.summary()))
    print(f"The undo is batch {result.batch[:8]} in the activity log.")
    return EXIT_OK
