"""A command's charts after its table: only when stdout is a terminal (a pipe or file gets the
table alone), at most CHART_MAX_WIDTH wide, without colours when NO_COLOR is set."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence

from extgw_tui.services import bar_chart
from extgw_tui.services.bar_chart import Bars

CHART_MAX_WIDTH = 120


def print_charts(charts: Sequence[Bars], height: int) -> None:
    """Each chart below the last, a chart of several series under its legend line."""
    if not sys.stdout.isatty():
        return
    width = min(shutil.get_terminal_size().columns, CHART_MAX_WIDTH)
    plain = bool(os.environ.get("NO_COLOR"))
    for bars in charts:
        print()
        if len(bars.series) > 1:
            print("   ".join(f"{marker * 2} {name}" for marker, name in bar_chart.legend(bars)))
        print(bar_chart.text(bars, width, height, plain=plain))
