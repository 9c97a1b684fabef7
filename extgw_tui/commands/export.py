"""`extgw-tui export users|holders|pupils-with|pupils-without|pupils-contacts|leavers
[--licence NAME] [--search TEXT] [-o FILE] [--force]`: the Excel exports of the app, through the
same service code.

Without -o the file gets the proposed name (kind, licence type, date) in the export folder
($EXTGW_EXPORT_DIR, config.toml's export_dir, else the folder this administrator last exported
to, else Downloads: services/export_folder.py); -o FOLDER puts the proposed name in that folder.
An existing file is replaced only with --force. On a terminal a progress bar is drawn on
stderr; the summary line goes to stdout either way. Ctrl+C, SIGTERM or a closed terminal
(SIGHUP) stops the export and leaves no partial file.

Exit codes:
  0  the file was written
  1  error: a missing, unknown or unwanted licence type, a search on a pupil export, an
     unwritable path, a file that exists (without --force)
  2  the database cannot be opened (from cli.py)
  130, 143, 129  interrupted by Ctrl+C, SIGTERM, SIGHUP (from cli.py)
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TextIO

from extgw_tui.errors import InvalidInput
from extgw_tui.exit_codes import EXIT_OK
from extgw_tui.services import exports
from extgw_tui.text import plural

BAR_WIDTH = 30


class ProgressBar:
    """A one-line bar redrawn in place on a terminal; silent when the stream is not one."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.active = stream.isatty()
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        if not self.active:
            return
        percent = 100 if total <= 0 else min(100, done * 100 // total)
        if percent == self.shown and done != total:
            return
        self.shown = percent
        filled = BAR_WIDTH * percent // 100
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\rExporting [{bar}] {percent:3d}%  {done:,} of {total:,} rows")
        self.stream.flush()

    def finish(self) -> None:
        if self.active and self.shown >= 0:
            with contextlib.suppress(OSError):  # the terminal closed (SIGHUP) mid-export
                self.stream.write("\n")
                self.stream.flush()


def run(args: argparse.Namespace) -> int:
    kind = exports.ExportKind(args.kind)
    licence = (args.licence or "").strip()
    if kind in exports.NEEDS_LICENCE and not licence:
        known = ", ".join(exports.licence_choices())
        raise InvalidInput(
            f"The {kind.value} export needs --licence NAME (licence types: {known})."
        )
    if kind not in exports.NEEDS_LICENCE and licence:
        raise InvalidInput(
            f"The {kind.value} export takes no --licence; for the users holding a licence "
            "type, use `export holders --licence NAME`."
        )
    request = exports.make_request(kind, args.licence, args.search)
    path = exports.output_path(args.output, request)
    if path.exists() and not args.force:
        raise InvalidInput(f"{path} already exists; add --force to replace it.")
    bar = ProgressBar(sys.stderr)
    try:
        result = exports.run_export(request, path, progress=bar)
    finally:
        bar.finish()
    print(f"Exported {plural(result.rows, 'row')} ({request.label.lower()}) to {result.path}")
    return EXIT_OK
