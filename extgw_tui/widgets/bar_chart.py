"""A bar chart widget: services/bar_chart.py's drawing in the theme's colours, redrawn when the
theme or the size changes, and a one-line note when too few rows are left to read it.

Colours come from the theme (primary, then accent); with NO_COLOR, or a theme that uses the
terminal's own colours, the bars are drawn without colour and told apart by their marker.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import RenderResult
from textual.color import Color
from textual.theme import Theme
from textual_plotext import PlotextPlot

from extgw_tui.services import bar_chart
from extgw_tui.services.bar_chart import Bars

#: The theme variables whose colours the series take, in order.
SERIES_COLOURS = ("primary", "accent")


class BarChart(PlotextPlot):
    """One chart of `Bars`; `show` draws it. palette: the theme variables its series' colours
    come from (a chart of one series shown beside another may take the second colour)."""

    #: Fewer rows than this and the bars, figures and axis labels run into each other.
    MIN_ROWS = 7

    def __init__(
        self,
        *,
        palette: tuple[str, ...] = SERIES_COLOURS,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.palette = palette
        self.bars: Bars | None = None

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    @property
    def plain(self) -> bool:
        """No colours: NO_COLOR is set, or the theme uses the terminal's own."""
        return self.app.no_color or self.app.current_theme.ansi

    def colours(self) -> list[tuple[int, int, int]]:
        return [Color.parse(self.app.theme_variables[name]).rgb for name in self.palette]

    def legend(self) -> Text:
        """The series' markers and names, in their colours: the line a screen shows beside a
        chart of several series (never drawn inside the plot, where it would cover bars)."""
        if self.bars is None:
            return Text()
        colours = [None] * len(self.palette) if self.plain else self.colours()
        line = Text()
        for (marker, name), colour in zip(bar_chart.legend(self.bars), colours, strict=False):
            line.append(marker * 2, style=Style(color=Color(*colour).rich_color) if colour else "")
            line.append(f" {name}   ")
        return line

    def show(self, bars: Bars) -> None:
        self.bars = bars
        self._draw()

    def on_resize(self, event: events.Resize) -> None:
        """The figures on the bars are shortened to fit the width, so a new width redraws."""
        self._draw()

    def _theme_changed(self, theme: Theme) -> None:
        self._draw()

    def _draw(self) -> None:
        if self.bars is None:
            return
        plain = self.plain
        self.theme = "clear" if plain else "auto"
        self.plt.clear_data()
        if plain:  # before the bars: plotext gives a bar of "default" colour the theme's first
            self.plt.theme("clear")  # colour, and a render before this one left "auto" set
        background = Color.parse(self.app.theme_variables["background"]).rgb
        colours = None if plain else self.colours()
        bar_chart.draw(
            self.plt, self.bars, self.size.width, colours, plain=plain, figure_colour=background
        )
        self.refresh()

    def render(self) -> RenderResult:
        if self.size.height < self.MIN_ROWS:
            return Text(" Enlarge the window to see the chart.", style="italic")
        return super().render()
