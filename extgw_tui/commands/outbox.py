"""`extgw-tui outbox [--retry]`: every email sent from the app, and resending the failed ones.

Without --retry: a count per status, then every message newest first (when, to, subject,
status, error), streamed from the database. With --retry: failed messages (and queued ones,
once a mail server is configured) are sent again, oldest first, with a summary.

Exit codes:
  0  listed; or every retried message was sent or queued
  1  some messages still failed (or the SMTP settings are wrong)
  2  the database cannot be opened (from cli.py)
"""

from __future__ import annotations

import argparse
import sys

from extgw_tui.services import audit, mail

EXIT_OK = 0
EXIT_FAILED = 1

_COLUMNS = (("When", 16), ("To", 30), ("Subject", 30), ("Status", 7), ("Error", 60))


def _cell(value: object, width: int) -> str:
    """One cell: control characters escaped, cut to fit."""
    text = audit.clean("" if value is None else str(value))
    return text if len(text) <= width else text[: width - 1] + "…"


def _line(values: tuple[object, ...]) -> str:
    cells = [_cell(v, w).ljust(w) for v, (_, w) in zip(values, _COLUMNS, strict=True)]
    return "  ".join(cells).rstrip()


def _list() -> int:
    counts = mail.outbox_counts()
    total = sum(counts.values())
    if not total:
        print("The outbox is empty: no email has been sent from extgw-tui.")
        return EXIT_OK
    parts = ", ".join(f"{n:,} {status}" for status, n in sorted(counts.items()))
    print(f"{total:,} message{'s' if total != 1 else ''}: {parts}.")
    print(_line(tuple(name for name, _ in _COLUMNS)))
    for row in mail.iter_outbox():
        when = row.created_at.strftime("%Y-%m-%d %H:%M")
        print(_line((when, row.to_addr, row.subject, row.status, row.error)))
    return EXIT_OK


def _retry() -> int:
    def progress(done: int) -> None:
        if done % 50 == 0:
            print(f"  {done:,} done…", file=sys.stderr)

    summary = mail.retry_failed(progress=progress)
    for result in summary.failures:
        print(f"failed: {audit.clean(result.to)}: {audit.clean(result.error)}")
    print(summary.text())
    return EXIT_FAILED if summary.failed or summary.untried else EXIT_OK


def run(args: argparse.Namespace) -> int:
    return _retry() if args.retry else _list()
