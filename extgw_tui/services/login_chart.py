"""The login bar chart, drawn the same way on the statistics screen and by `extgw-tui stats`.

Both draw with plotext's calls (the screen through textual-plotext's Plot, the command through
the plotext module), so this takes either as `plt`. Without colour the two series are told
apart by their marker; the y axis has round ticks with thousands separators.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from extgw_tui.services.periods import short_label
from extgw_tui.services.statistics import LoginSeries

LOGINS_MARKER, USERS_MARKER = "█", "▒"
SERIES_NAMES = ["logins", "distinct users"]

#: About how many steps the y axis is divided into.
Y_STEPS = 4

Colour = str | tuple[int, int, int]


def y_ticks(top: int, steps: int = Y_STEPS) -> tuple[list[int], list[str]]:
    """Ticks from 0 to at most top at a round step (1, 2, 2.5 or 5 times a power of ten),
    labelled like "150,000". None above top: plotext would print it over the frame or title."""
    if top <= 0:
        return [0], ["0"]
    rough = top / steps
    power = 10 ** math.floor(math.log10(rough))
    steps_here = (1, 2, 2.5, 5, 10) if power >= 10 else (1, 2, 5, 10)  # whole numbers only
    step = max(1, int(next(m * power for m in steps_here if m * power >= rough)))
    ticks = list(range(0, top + 1, step))
    return ticks, [f"{tick:,}" for tick in ticks]


def draw(
    plt: Any, series: LoginSeries, colours: Sequence[Colour] | None = None, *, plain: bool = False
) -> None:
    """Logins and distinct users per period as pairs of bars, with a title naming the span.

    plain: no colours, the series told apart by marker; else `colours` (plotext's when None).
    """
    labels = [short_label(series.mode, label) for label in series.labels]
    options: dict[str, Any] = {"labels": SERIES_NAMES}
    if plain:
        options.update(marker=[LOGINS_MARKER, USERS_MARKER], color=["default", "default"])
    elif colours is not None:
        options.update(color=list(colours))
    plt.multiple_bar(labels, [series.logins, series.users], **options)
    plt.yticks(*y_ticks(max(series.logins, default=0)))
    first, last = series.labels[0], series.labels[-1]
    plt.title(f"{first} to {last}" if first != last else first)
