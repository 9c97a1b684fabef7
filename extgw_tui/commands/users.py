"""`extgw-tui users [--filter TEXT] [--format table|csv|json]`: the accounts a search finds.

The filter is the search box's language (names, email, #ID, access:denied, licence:none ...;
`extgw-tui users --help-filters` lists it), so a script and the app find the same accounts.
Rows stream from the database in surname order; csv and json suit other programs (json is
one object per line).

Exit codes: 0 listed (perhaps nothing); 1 a filter that cannot be understood; 2 database.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys

from extgw_tui.commands.table import TextTable
from extgw_tui.exit_codes import EXIT_OK
from extgw_tui.services import filters, users

_TABLE = TextTable(
    (
        ("ID", 7),
        ("Title", 5),
        ("Forename", 12),
        ("Surname", 18),
        ("Email", 32),
        ("Created", 10),
        ("ADR", 3),
        ("Access", 7),
        ("Last login", 10),
    )
)
FIELDS = ("id", "title", "forename", "surname", "email", "created", "adr", "access", "last_login")


def _values(row: users.UserRow) -> tuple:
    return (
        row.id,
        row.title,
        row.forename,
        row.surname,
        row.email,
        row.created_at.isoformat(sep=" "),
        row.adr,
        "allowed" if row.access_allowed else "denied",
        row.last_login_at.isoformat(sep=" ") if row.last_login_at else None,
    )


def run(args: argparse.Namespace) -> int:
    if args.help_filters:
        width = max(len(example) for example, _ in filters.HELP)
        for example, meaning in filters.HELP:
            print(f"{example.ljust(width)}  {meaning}")
        return EXIT_OK
    rows = users.iter_users(args.filter)
    if args.format == "csv":
        out = csv.writer(sys.stdout)
        out.writerow(FIELDS)
        for row in rows:
            out.writerow(_values(row))
    elif args.format == "json":
        for row in rows:
            print(json.dumps(dict(zip(FIELDS, _values(row), strict=True)), ensure_ascii=False))
    else:
        _TABLE.print_heading()
        for row in rows:
            values = list(_values(row))
            values[5], values[6] = values[5][:10], "yes" if row.adr else "no"
            values[8] = values[8][:10] if values[8] else "never"
            _TABLE.print_row(values)
    return EXIT_OK
