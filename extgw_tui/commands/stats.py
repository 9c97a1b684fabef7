"""`extgw-tui stats [--licence NAME] [--period months|weeks|years]`: login statistics.

Prints the same figures as the statistics screen, under the same period's name: the group's
accounts, then logins and distinct users per period as a table, and, when stdout is a
terminal, the screen's two bar charts (without colours when NO_COLOR is set).

Exit codes:
  0  the figures were printed
  1  error: an unknown licence type
  2  the database cannot be opened (from cli.py)
"""

from __future__ import annotations

import argparse

from extgw_tui.commands.chart_output import print_charts
from extgw_tui.exit_codes import EXIT_OK
from extgw_tui.services import audit, login_chart, statistics
from extgw_tui.services.statistics import GroupStatistics

#: Each of the two charts' height.
CHART_HEIGHT = 14


def report(shown: GroupStatistics) -> str:
    """The figures and the per-period table, as plain text."""
    f, series = shown.figures, shown.series
    lines = [
        f"Login statistics: {audit.clean(shown.group.name)}, {statistics.period_name(series)}",
        f"Accounts {f.accounts:,} · allowed {f.allowed:,} · denied {f.denied:,}",
        statistics.logged_in(f),
        "",
        f"{'Period':<10}{'Logins':>12}{'Users':>12}",
    ]
    for label, logins, users in zip(series.labels, series.logins, series.users, strict=True):
        lines.append(f"{label:<10}{logins:>12,}{users:>12,}")
    lines.append(f"{'Total':<10}{sum(series.logins):>12,}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    group = statistics.group_named(args.licence)
    shown = statistics.group_statistics(group, args.period)
    print(report(shown))
    print_charts(login_chart.charts(shown.series), CHART_HEIGHT)
    return EXIT_OK
