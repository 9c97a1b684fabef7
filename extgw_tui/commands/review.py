"""`extgw-tui review [--months N] [--delete [--yes]]`: list, then perhaps delete, inactive accounts.

Candidates are external users with no pupils and no login (or, never having logged in, no
account creation) for at least N months (default 12); see services/review.py for the exact rule.
The list is printed as a count and a table, streamed from the database. With --delete the
listed accounts are deleted after a confirmation typed on the terminal; --yes skips it for
scripts. Each account is re-checked inside the deleting transaction, and any that logged in or
gained a pupil meanwhile is kept and reported.

Exit codes:
  0  nothing to delete, the list was printed, or the deletion was done
  1  error: a bad threshold, or --delete without a terminal to confirm on and without --yes
  2  the database cannot be opened (from cli.py)
  4  the administrator declined the confirmation
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, datetime

from extgw_tui.commands.table import TextTable
from extgw_tui.errors import ExtgwError
from extgw_tui.exit_codes import EXIT_DECLINED, EXIT_OK
from extgw_tui.services import review
from extgw_tui.text import plural

_TABLE = TextTable(
    (
        ("ID", 7),
        ("Title", 6),
        ("Surname", 18),
        ("Email", 30),
        ("Created", 10),
        ("Last login", 10),
        ("Months", 6),
        ("Access", 7),
    )
)


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "Never"


def _print_table(months: int, today: date) -> None:
    _TABLE.print_heading()
    for row in review.iter_candidates(months, today):
        _TABLE.print_row(
            (
                row.id,
                row.title,
                row.surname,
                row.email,
                _day(row.created_at),
                _day(row.last_login_at),
                row.months_inactive,
                "allowed" if row.access_allowed else "denied",
            )
        )


def _confirmed(count: int) -> bool:
    try:
        answer = input(f"Delete these {plural(count, 'account')}? Type 'yes' to delete: ")
    except EOFError:
        return False
    return answer.strip().casefold() == "yes"


def run(args: argparse.Namespace) -> int:
    months = review.check_months(args.months)
    today = date.today()
    cutoff = review.cutoff_day(months, today)
    ids = review.candidate_ids(months, today)
    print(
        f"{plural(len(ids), 'account')} with no pupils and no login for at least "
        f"{review.months_text(months)} (last activity on or before {cutoff.isoformat()})."
    )
    if not ids:
        return EXIT_OK
    try:
        _print_table(months, today)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if args.delete:
            raise ExtgwError(
                "The output was closed before the list ended; nothing was deleted."
            ) from None
        return EXIT_OK
    if not args.delete:
        return EXIT_OK
    if not args.yes:
        if not sys.stdin.isatty():
            raise ExtgwError("Refusing to delete without a terminal to confirm on; add --yes.")
        if not _confirmed(len(ids)):
            print("Nothing was deleted.")
            return EXIT_DECLINED
    result = review.delete_accounts(ids, months, today=today)
    print(result.summary())
    for user_id, reason in result.kept:
        print(f"  kept {user_id}: {reason}")
    return EXIT_OK
