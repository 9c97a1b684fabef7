"""`extgw-tui outbox [--retry]`: every email sent from the app, and resending the failed ones.

Without --retry: a count per status, then every message newest first (when, the admin who
wrote it, to, subject, status, and the error of a failed one or the .eml file of a queued one),
streamed from the database. With --retry: failed messages (and queued ones, once a mail server
is configured) are sent again, oldest first, with a summary; discarded ones never are.

Exit codes:
  0  listed; or every retried message was sent or queued
  1  some messages still failed (or the SMTP settings are wrong)
  2  the database cannot be opened (from cli.py)
"""

from __future__ import annotations

import argparse
import sys

from extgw_tui.commands.table import TextTable
from extgw_tui.exit_codes import EXIT_ERROR, EXIT_OK
from extgw_tui.services import audit, mail
from extgw_tui.text import plural

#: The last column (error or .eml file) is never cut, so a path stays usable.
_TABLE = TextTable(
    (
        ("When", 16),
        ("Admin", 12),
        ("To", 30),
        ("Subject", 24),
        ("Status", 9),
        ("Error or file", 0),
    )
)


def _detail(row: mail.OutboxRow) -> str:
    """Why a message did not go out, or where a queued one waits."""
    if row.status == mail.QUEUED:
        return row.eml_path
    return row.error


def _list() -> int:
    counts = mail.outbox_counts()
    total = sum(counts.values())
    if not total:
        print("The outbox is empty: no email has been sent from extgw-tui.")
        return EXIT_OK
    parts = ", ".join(f"{n:,} {status}" for status, n in sorted(counts.items()))
    print(f"{plural(total, 'message')}: {parts}.")
    _TABLE.print_heading()
    for row in mail.iter_outbox():
        when = row.created_at.strftime("%Y-%m-%d %H:%M")
        _TABLE.print_row((when, row.admin, row.to_addr, row.subject, row.status, _detail(row)))
    return EXIT_OK


def _retry() -> int:
    def progress(done: int) -> None:
        if done % 50 == 0:
            print(f"  {done:,} done…", file=sys.stderr)

    summary = mail.retry_failed(progress=progress)
    for result in summary.failures:
        print(f"failed: {audit.clean(result.to)}: {audit.clean(result.error)}")
    print(summary.text())
    return EXIT_ERROR if summary.failed or summary.untried else EXIT_OK


def run(args: argparse.Namespace) -> int:
    return _retry() if args.retry else _list()
