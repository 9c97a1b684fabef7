"""Bar charts drawn with plotext's calls, the same for a screen and for a command's output.

A screen draws through textual-plotext's Plot, a command through the plotext module, so `draw`
takes either as `plt`. No legend is drawn inside the plot (plotext puts it over the bars): a
chart of one series names it in its title, one of several has a legend line of its own
(`legend`). A chart of one series writes each bar's figure on it, in full where the bar's slot
is wide enough, else shortened ("36.2k", "145k").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotext

Colour = str | tuple[int, int, int]

#: Markers that tell series apart without colour, in order.
MARKERS = ("█", "▒")
#: The share of a bar's slot its bar takes.
BAR_WIDTH = 0.6
#: About how many steps the y axis is divided into.
Y_STEPS = 4


@dataclass(frozen=True)
class Series:
    name: str
    values: list[int]


@dataclass(frozen=True)
class Bars:
    """What one chart shows: bars per label, one group of bars per label when several series."""

    title: str  # "" for none (where the screen's own title says it)
    labels: list[str]
    series: list[Series]
    #: The title where `title` is too wide for the plot (plotext would leave it out).
    short_title: str = ""
    #: The y axis: (ticks, their labels) and its top; None: round ticks up to the tallest bar.
    ticks: tuple[list[int], list[str]] | None = None
    top: int | None = None


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


def figure(value: int, room: int) -> str:
    """value in at most `room` characters if it can be: "36,170", else "36.2k", "145k", "1.2M"."""
    full = f"{value:,}"
    if len(full) <= room or value < 1000:
        return full
    shorter = [f"{value / 1e3:.1f}k", f"{value / 1e3:.0f}k", f"{value / 1e6:.1f}M"]
    for candidate in shorter:  # "1000k" is never written: "1.0M"
        if len(candidate) <= room and not candidate.startswith("1000"):
            return candidate
    return f"{value / 1e6:.0f}M"


def _plot_width(width: int, tick_labels: Sequence[str]) -> int:
    """The plot's width inside the y axis's labels and the frame."""
    return width - max((len(t) for t in tick_labels), default=1) - 2


def _room(bars: Bars, plot_width: int) -> int:
    """How many characters a bar's figure may take: its slot less a space between figures."""
    return max(1, plot_width // max(1, len(bars.labels)) - 1)


def draw(
    plt: Any,
    bars: Bars,
    width: int,
    colours: Sequence[Colour] | None = None,
    *,
    plain: bool = False,
    figure_colour: Colour | None = None,
) -> None:
    """Draw `bars` on plt, `width` columns wide (to fit the figures on the bars).

    plain: no colours, series told apart by marker; else `colours` (plotext's when None), and
    the figures in `figure_colour` on the bar's colour.
    """
    values = [s.values for s in bars.series]
    top = bars.top if bars.top is not None else max((max(v, default=0) for v in values), default=0)
    ticks = bars.ticks or y_ticks(top)
    if len(values) == 1:
        colour = "default" if plain else (colours[0] if colours else None)
        plt.bar(bars.labels, values[0], marker=MARKERS[0], color=colour, width=BAR_WIDTH)
        on_bar: dict[str, Any] = {}
        if not plain and colours and figure_colour is not None:
            on_bar = {"color": figure_colour, "background": colours[0]}
        room = _room(bars, _plot_width(width, ticks[1]))
        for x, value in enumerate(values[0], start=1):
            plt.text(figure(value, room), x, value, alignment="center", **on_bar)
    else:
        options: dict[str, Any] = {"marker": list(MARKERS[: len(values)]), "width": BAR_WIDTH}
        if plain:
            options.update(color=["default"] * len(values))
        elif colours:
            options.update(color=list(colours[: len(values)]))
        plt.multiple_bar(bars.labels, values, **options)
    plt.ylim(0, max(top, 1))
    plt.yticks(*ticks)
    fits = len(bars.title) <= _plot_width(width, ticks[1])
    title = bars.title if fits else bars.short_title
    if title:
        plt.title(title)


def legend(bars: Bars) -> list[tuple[str, str]]:
    """(marker, name) for each series: a chart of several series shows this line beside it."""
    return list(zip(MARKERS, (s.name for s in bars.series), strict=False))


def text(bars: Bars, width: int, height: int, *, plain: bool) -> str:
    """The chart as terminal text (ANSI colours unless plain), through the plotext module."""
    plotext.clear_figure()
    plotext.plotsize(width, height)
    if plain:
        plotext.theme("clear")
    draw(plotext, bars, width, plain=plain)
    built = plotext.build()
    return plotext.uncolorize(built) if plain else built
