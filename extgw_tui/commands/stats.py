"""`extgw-tui stats [--licence NAME] [--period months|weeks|years]`: login statistics.

Prints the same figures as the statistics screen: the group's accounts, then logins and
distinct users per period as a table, and, when stdout is a terminal, a bar chart (without
colours when NO_COLOR is set).

Exit codes:
  0  the figures were printed
  1  error: an unknown licence type
  2  the database cannot be opened (from cli.py)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

import plotext

from extgw_tui.exit_codes import EXIT_OK
from extgw_tui.services import audit, login_chart, statistics
from extgw_tui.services.periods import PERIOD_NAMES
from extgw_tui.services.statistics import GroupStatistics, LoginSeries

CHART_HEIGHT = 20
CHART_MAX_WIDTH = 120


def report(shown: GroupStatistics) -> str:
    """The figures and the per-period table, as plain text."""
    f, series = shown.figures, shown.series
    lines = [
        f"Login statistics: {audit.clean(shown.group.name)}, {PERIOD_NAMES[series.mode]}",
        f"Accounts {f.accounts:,} · allowed {f.allowed:,} · denied {f.denied:,}",
        f"Logged in: last 30 days {f.last_30_days:,} · last 12 months {f.last_12_months:,} · "
        f"never {f.never:,}",
        "",
        f"{'Period':<10}{'Logins':>12}{'Users':>12}",
    ]
    for label, logins, users in zip(series.labels, series.logins, series.users, strict=True):
        lines.append(f"{label:<10}{logins:>12,}{users:>12,}")
    lines.append(f"{'Total':<10}{sum(series.logins):>12,}")
    return "\n".join(lines)


def chart(series: LoginSeries, width: int, *, plain: bool) -> str:
    """A bar chart of logins and distinct users per period, `width` columns wide."""
    plotext.clear_figure()
    plotext.plotsize(width, CHART_HEIGHT)
    if plain:
        plotext.theme("clear")
    login_chart.draw(plotext, series, plain=plain)
    text = plotext.build()
    return plotext.uncolorize(text) if plain else text


def run(args: argparse.Namespace) -> int:
    group = statistics.group_named(args.licence)
    shown = statistics.group_statistics(group, args.period)
    print(report(shown))
    if sys.stdout.isatty():
        width = min(shutil.get_terminal_size().columns, CHART_MAX_WIDTH)
        print()
        print(chart(shown.series, width, plain=bool(os.environ.get("NO_COLOR"))))
    return EXIT_OK
