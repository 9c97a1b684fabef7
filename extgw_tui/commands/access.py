"""`extgw-tui access allow|deny --filter TEXT [--reason TEXT] [--dry-run] [--yes]`.

Allows or denies every account the filter (the search box's language) finds, in one audited
batch, as the app's A and D do. It says first how many will actually change; --dry-run stops
there, and without --yes it asks on the terminal.

Exit codes: 0 done, nothing to change, or a dry run; 1 refused (a filter that cannot be
understood, no terminal to confirm on); 2 database; 4 declined at the prompt.
"""

from __future__ import annotations

import argparse
import sys

from extgw_tui.errors import ExtgwError
from extgw_tui.exit_codes import EXIT_DECLINED, EXIT_OK
from extgw_tui.services import access, filters, users
from extgw_tui.text import plural


def run(args: argparse.Namespace) -> int:
    allowed = args.verb == "allow"
    if not filters.cleaned(args.filter):
        raise ExtgwError("Name the accounts with --filter (e.g. --filter 'licence:none').")
    filters.search_condition(args.filter)  # a filter that cannot be understood: one sentence
    ids = users.user_ids_matching(args.filter)
    state = "allowed" if allowed else "denied"
    already = users.count_among(f"access:{state}", ids)
    verb = "Allow" if allowed else "Deny"
    print(
        f"{verb} {plural(len(ids), 'account')}? {already:,} already {state}: "
        f"{len(ids) - already:,} will change."
    )
    if len(ids) == already or args.dry_run:
        return EXIT_OK
    if not args.yes:
        if not sys.stdin.isatty():
            raise ExtgwError(
                "Refusing to change access without a terminal to confirm on; add --yes."
            )
        try:
            answer = input("Type 'yes' to go ahead: ")
        except EOFError:
            answer = ""
        if answer.strip().casefold() != "yes":
            print("Nothing was changed.")
            return EXIT_DECLINED
    print(access.set_access(ids, allowed, reason=args.reason or "").summary())
    return EXIT_OK
