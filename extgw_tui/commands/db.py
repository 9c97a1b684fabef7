"""`extgw-tui db copy --to URL`: move a school's database to another backend or server.

The database named by --db (or the default) is copied whole into the empty database at URL
(see services/db_copy.py); progress goes to stderr. Point the tool at the copy afterwards with
`--db URL` or `database = "URL"` in config.toml.

Exit codes:
  0  copied and verified
  1  refused: the target is not empty, or the copy did not match (the target is left empty)
  2  a database cannot be opened (from cli.py)
"""

from __future__ import annotations

import argparse
import sys
import time

from extgw_tui.db import redact_url
from extgw_tui.exit_codes import EXIT_OK
from extgw_tui.services import db_copy


class _Progress:
    """One line per table on stderr, rewritten in place on a terminal at most 5 times a second."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.shown = 0.0

    def __call__(self, table: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = done == total
        if not finished and (not self.live or now - self.shown < 0.2):
            return
        self.shown = now
        line = f"  {table}: {done:,} of {total:,} rows"
        print(("\r" + line) if self.live else line, end="\n" if finished else "", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    source = args.db_url_in_force
    print(f"Copying {redact_url(source)} to {redact_url(args.to)}", file=sys.stderr)
    report = db_copy.copy_database(args.to, progress=_Progress())
    db_copy.record_copy(source, report)
    print(
        f"Copied {report.rows:,} rows in {len(report.tables)} tables to {report.target}; "
        "every table's row count and checksum match."
    )
    return EXIT_OK
