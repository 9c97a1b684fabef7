"""`extgw-tui import pupils FILE [--map HEADER=field ...] [--sheet NAME] [--partial]
[--dry-run | --yes]`: bring the roll and parental contacts in from an MIS export.

Without --yes the preview is printed first (new, changed, unchanged, leaving, contacts,
refused rows) and the import asks before writing; --dry-run stops after the preview; --yes
applies without asking (for scripts). On a terminal a progress bar is drawn on stderr. Ctrl+C
(or SIGTERM, SIGHUP) at any point leaves the database as it was.

Exit codes:
  0  the preview was printed, or the import was applied (or had nothing to change)
  1  error: an unreadable file, no recognisable header, a bad --map, several sheets without
     --sheet, or no terminal to confirm on without --yes
  2  the database cannot be opened (from cli.py)
  4  the administrator declined the confirmation
  130, 143, 129  interrupted by Ctrl+C, SIGTERM, SIGHUP (from cli.py)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import TextIO

from extgw_tui.errors import ExtgwError
from extgw_tui.services import audit, roll_import
from extgw_tui.services.roll_columns import parse_mapping

EXIT_OK = 0
EXIT_DECLINED = 4
BAR_WIDTH = 30
STAGES = {"reading": "Reading", "comparing": "Comparing", "applying": "Applying", "done": "Done"}


class StageBar:
    """A one-line bar per stage, redrawn in place on a terminal; silent otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.active = stream.isatty()
        self.shown: tuple[str, int] | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        percent = max(0, min(100, int(fraction * 100)))
        if not self.active or self.shown == (stage, percent):
            return
        self.shown = (stage, percent)
        filled = BAR_WIDTH * percent // 100
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\r{STAGES.get(stage, stage):<9} [{bar}] {percent:3d}%")
        self.stream.flush()

    def finish(self) -> None:
        if self.active and self.shown is not None:
            with contextlib.suppress(OSError):
                self.stream.write("\n")
                self.stream.flush()
            self.shown = None


def _print(lines) -> None:
    for line in lines:
        print(audit.clean(line))


def _confirmed() -> bool:
    try:
        answer = input("Apply these changes? Type 'yes' to import: ")
    except EOFError:
        return False
    return answer.strip().casefold() == "yes"


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except BrokenPipeError:  # `| head`: the reader has seen enough (a preview wrote nothing)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    options = roll_import.ImportOptions(
        mapping=parse_mapping(args.map or []), sheet=args.sheet, partial=args.partial
    )
    path = Path(args.file)
    if not args.yes and not args.dry_run and not sys.stdin.isatty():
        raise ExtgwError(
            "Refusing to import without a terminal to confirm on; add --yes, or --dry-run "
            "for the preview only."
        )
    bar = StageBar(sys.stderr)
    try:
        if args.yes:
            result = roll_import.apply(path, options, progress=bar)
            bar.finish()
            _print(result.summary_lines())
            print(f"Imported {path.name}: one audit batch, {result.batch}.")
            return EXIT_OK
        preview = roll_import.preview(path, options, progress=bar)
        bar.finish()
        _print(preview.summary_lines())
        if args.dry_run:
            _print(preview.detail_lines())
            return EXIT_OK
        if not preview.changes_anything:
            return EXIT_OK
        if not _confirmed():
            print("Nothing was imported.")
            return EXIT_DECLINED
        result = roll_import.apply(path, options, progress=bar)
        bar.finish()
        print(f"Imported {path.name}: one audit batch, {result.batch}.")
        return EXIT_OK
    finally:
        bar.finish()
