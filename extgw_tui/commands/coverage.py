"""`extgw-tui coverage [--forms] [-o FILE]`: who would see a report released on the portal.

Prints, per year group (and with --forms per form), the pupils on roll and the share of them
with an active Parent/Guardian holder and with an active Pupil account (allowed, and logged in
during the last 12 months), then the whole school; on a terminal, a bar chart per year group
(without colours when NO_COLOR is set). -o FILE (or FOLDER) also writes the table to .xlsx,
audited like every export; Ctrl+C leaves no partial file.

Exit codes:
  0  the figures were printed (and the file written)
  1  error: an unwritable file
  2  the database cannot be opened (from cli.py)
  130, 143, 129  interrupted by Ctrl+C, SIGTERM, SIGHUP (from cli.py)
"""

from __future__ import annotations

import argparse
import sys

from extgw_tui.commands.chart_output import print_charts
from extgw_tui.commands.export import ProgressBar
from extgw_tui.exit_codes import EXIT_OK
from extgw_tui.services import audit, coverage, exports
from extgw_tui.services.coverage import FORM, SCHOOL, CoverageReport, percent
from extgw_tui.text import plural

CHART_HEIGHT = 18


def report(shown: CoverageReport, *, forms: bool) -> str:
    """The table as plain text: years (and their forms), then the whole school."""
    lines = [
        f"Pupils on roll with an account used since {shown.since.isoformat()} "
        "(allowed, logged in during the last 12 months)",
        "",
        f"{'Year / form':<16}{'Pupils':>8}{'Parent/Guardian':>17}{'%':>6}{'Pupil':>8}{'%':>6}",
    ]
    for row in shown.rows():
        if row.kind == FORM and not forms:
            continue
        if row.kind == SCHOOL:
            lines.append("")
        label = audit.clean(f"  {row.label}" if row.kind == FORM else row.label)[:15]
        lines.append(
            f"{label:<16}{row.pupils:>8,}{row.parents:>17,}{percent(row.parent_share):>6}"
            f"{row.own:>8,}{percent(row.own_share):>6}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    shown = coverage.coverage()
    print(report(shown, forms=args.forms))
    print_charts([coverage.bars(shown)], CHART_HEIGHT)
    if args.output:
        target = exports.chosen_path(args.output, coverage.default_export_path())
        bar = ProgressBar(sys.stderr)
        try:
            result = coverage.export_coverage(target, progress=bar)
        finally:
            bar.finish()
        print(f"Exported {plural(result.rows, 'row')} (coverage) to {result.path}")
    return EXIT_OK
