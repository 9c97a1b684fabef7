"""Reading a drawn bar chart's text in tests (a helper module)."""

from __future__ import annotations

import re


def inside_plot(chart: str) -> str:
    """The plot's rows inside the frame, without the y axis's labels: where a legend drawn by
    plotext would land over the bars."""
    lines = chart.splitlines()
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    return "\n".join(re.split(r"[│┤]", line, maxsplit=1)[1] for line in lines[top + 1 : bottom])
