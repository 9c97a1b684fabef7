"""`extgw-tui review [--rule inactive|left] [--months N] [--delete [--yes]]`: list, then perhaps
delete, accounts nobody needs.

Candidates under the inactive rule (the default) are external users with no pupils and no login
(or, never having logged in, no account creation) for at least N months (default 12); under
`--rule left`, accounts every one of whose pupils left the roll at least N months ago (default
6). See services/review.py for the exact rules.
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

_COLUMNS = (
    ("ID", 7),
    ("Title", 6),
    ("Surname", 18),
    ("Email", 30),
    ("Created", 10),
    ("Last login", 10),
    ("Months", 6),
    ("Access", 7),
)
#: The "left" rule's table: when the last pupil left instead of the creation day.
_LEFT_COLUMNS = (*_COLUMNS[:4], ("Left on", 10), *_COLUMNS[5:])


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "Never"


def _print_table(months: int, today: date, rule: str = review.INACTIVE) -> None:
    left = rule == review.LEFT
    table = TextTable(_LEFT_COLUMNS if left else _COLUMNS)
    table.print_heading()
    for row in review.iter_candidates(months, today, rule=rule):
        since = row.last_left_on.isoformat() if left and row.last_left_on else ""
        table.print_row(
            (
                row.id,
                row.title,
                row.surname,
                row.email,
                since if left else _day(row.created_at),
                _day(row.last_login_at),
                row.months(rule),
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
    rule = review.check_rule(getattr(args, "rule", None) or review.INACTIVE)
    months_given = getattr(args, "months", None)
    months = review.check_months(
        review.default_months(rule) if months_given is None else months_given
    )
    today = date.today()
    cutoff = review.cutoff_day(months, today)
    ids = review.candidate_ids(months, today, rule=rule)
    accounts = plural(len(ids), "account")
    threshold = review.months_text(months)
    if rule == review.LEFT:
        print(
            f"{accounts} whose pupils all left the roll at least {threshold} ago "
            f"(the last on or before {cutoff.isoformat()})."
        )
    else:
        print(
            f"{accounts} with no pupils and no login for at least "
            f"{threshold} (last activity on or before {cutoff.isoformat()})."
        )
    if not ids:
        return EXIT_OK
    try:
        _print_table(months, today, rule)
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
    result = review.delete_accounts(ids, months, today=today, rule=rule)
    print(result.summary())
    for user_id, reason in result.kept:
        print(f"  kept {user_id}: {reason}")
    return EXIT_OK
