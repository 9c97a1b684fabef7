"""Login statistics: a bar chart of logins and distinct users per period, for a chosen group.

As on the original page, the links directly under the chart choose the licence type whose
holders the chart shows (All first). Left/right, the number keys and the mouse choose a link;
`p` or a click on the period line switches between months, weeks and school years. The figures
come from services/statistics.py in a worker behind a loading indicator; the chart follows the
terminal's size, the theme, and NO_COLOR (bars told apart by their marker, not their colour).
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import Vertical
from textual.markup import escape
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Footer, Static
from textual_plotext import PlotextPlot

from extgw_tui.resources import stylesheet
from extgw_tui.services import login_chart, periods, statistics
from extgw_tui.services.periods import PERIOD_NAMES
from extgw_tui.services.statistics import Group, GroupStatistics
from extgw_tui.widgets.dbwork import db_work

#: Links 1 to 9 have a number key; further ones are reached with left/right or the mouse.
LINK_KEYS = 9


class LoginChart(PlotextPlot):
    """The bar chart, or a one-line note when the window leaves it too few rows to be read."""

    #: Fewer rows than this and plotext's bars, legend and axis labels run into each other.
    MIN_ROWS = 7

    def render(self) -> RenderResult:
        if self.size.height < self.MIN_ROWS:
            return Text(" Enlarge the window to see the chart.", style="italic")
        return super().render()


#: Why the licence types' figures need not add up to All's.
OVERLAP_NOTE = "Types overlap (an account may hold both, or none), so need not add up to All."


class StatsScreen(Screen[None]):
    """Logins per period for all users or one licence type's holders; escape goes back."""

    CSS_PATH = stylesheet("stats.tcss")
    TITLE = "Login statistics"
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the users", id="stats.back"),
        Binding(
            "left",
            "step(-1)",
            "Previous",
            key_display="←",
            tooltip="Previous licence type",
            id="stats.previous",
        ),
        Binding(
            "right",
            "step(1)",
            "Next",
            key_display="→",
            tooltip="Next licence type",
            id="stats.next",
        ),
        # The help and the palette name the licence type each shows (binding_description).
        *(
            Binding(
                str(n),
                f"choose({n - 1})",
                f"Show licence type {n}",
                show=False,
                id=f"stats.link{n}",
            )
            for n in range(1, LINK_KEYS + 1)
        ),
        Binding(
            "p",
            "cycle_period",
            "Period",
            tooltip="Switch period: months, weeks, school years",
            id="stats.period",
        ),
        Binding(
            "ctrl+r,f5", "refresh", "Refresh", tooltip="Refresh from the database", id="app.refresh"
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[Group] = [statistics.ALL]
        self.chosen = 0
        self.mode = periods.MONTHS
        self.shown: GroupStatistics | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="stats-title", markup=False)
        with Vertical(id="stats-body"):
            yield LoginChart(id="stats-plot")
            yield Static("", id="stats-links")
            yield Static("", id="stats-figures", markup=False)
            yield Static(OVERLAP_NOTE, id="stats-note", markup=False)
        yield Static("", id="stats-period")
        yield Footer()

    def on_resize(self, event: events.Resize) -> None:
        """The note on overlapping licence types gives way first in a small window."""
        self.query_one("#stats-note").display = event.size.width >= 80 and event.size.height >= 24

    def on_mount(self) -> None:
        self._show_links()
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self.action_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Number keys only for the links there are (the help and palette list no others)."""
        if action == "choose":
            index = parameters[0] if parameters else None
            return isinstance(index, int) and index < len(self.groups)
        return True

    # ----- actions --------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        """Reload the licence types (one may have been added), then the chart."""
        db_work(self, statistics.groups, on_success=self._got_groups, group="stats-groups")

    def action_step(self, delta: int) -> None:
        self.action_choose((self.chosen + delta) % len(self.groups))

    def action_choose(self, index: int) -> None:
        if 0 <= index < len(self.groups) and index != self.chosen:
            self.chosen = index
            self._load()

    def action_cycle_period(self) -> None:
        self.action_period(periods.MODES[(periods.MODES.index(self.mode) + 1) % 3])

    def action_period(self, mode: str) -> None:
        if mode in periods.MODES and mode != self.mode:
            self.mode = mode
            self._load()

    # ----- loading --------------------------------------------------------------------------

    def _got_groups(self, groups: list[Group]) -> None:
        current = self.groups[self.chosen]
        self.groups = groups
        self.chosen = next((i for i, g in enumerate(groups) if g == current), 0)
        self.refresh_bindings()  # the number keys there are now
        self._load()

    def binding_description(self, binding: Binding) -> str | None:
        """Key n's entry in the help and the palette names its licence type: "Show Pupil"."""
        if binding.id and binding.id.startswith("stats.link"):
            index = int(binding.id.removeprefix("stats.link")) - 1
            if index < len(self.groups):
                return f"Show {self.groups[index].name}"
        return None

    def _load(self) -> None:
        self._show_links()
        group = self.groups[self.chosen]
        self.query_one("#stats-title", Static).update(
            f"Login statistics · {group.name} · {PERIOD_NAMES[self.mode]}"
        )
        self.query_one("#stats-body").loading = True
        db_work(
            self,
            statistics.group_statistics,
            group,
            self.mode,
            on_success=self._show,
            on_error=self._problem,
            group="stats",
            exclusive=True,
        )

    def _problem(self, message: str) -> None:
        self.query_one("#stats-body").loading = False
        self.query_one("#stats-figures", Static).update(f"Statistics unavailable: {message}")

    def _show_links(self) -> None:
        links = []
        for index, group in enumerate(self.groups):
            key = f"{index + 1} " if index < LINK_KEYS else ""
            text = escape(f"{key}{group.name}")
            style = "reverse bold" if index == self.chosen else "underline"
            links.append(f"[{style}][@click=screen.choose({index})] {text} [/][/]")
        self.query_one("#stats-links", Static).update("  ".join(links))
        modes = []
        for mode in periods.MODES:
            style = "reverse bold" if mode == self.mode else "underline"
            modes.append(f"[{style}][@click=screen.period('{mode}')] {mode} [/][/]")
        self.query_one("#stats-period", Static).update("Period (p): " + " ".join(modes))

    # ----- drawing --------------------------------------------------------------------------

    def _show(self, shown: GroupStatistics) -> None:
        self.shown = shown
        self.query_one("#stats-body").loading = False
        series, f = shown.series, shown.figures
        self.query_one("#stats-figures", Static).update(
            f"{f.accounts:,} accounts · {f.allowed:,} allowed · "
            f"{f.denied:,} denied · {sum(series.logins):,} logins shown\n"
            f"Logged in: last 30 days {f.last_30_days:,} · since {f.year_from:%-d %b %Y} "
            f"(12 months) {f.last_12_months:,} · never {f.never:,}"
        )
        self._draw()

    def _theme_changed(self, theme: Theme) -> None:
        """The bars take the theme's colours, so a new theme (ctrl+p) redraws them."""
        self._draw()

    def _plain(self) -> bool:
        """No colours on the chart: NO_COLOR is set, or the theme uses the terminal's own."""
        return self.app.no_color or self.app.current_theme.ansi

    def _draw(self) -> None:
        if self.shown is None:
            return
        plot = self.query_one(LoginChart)
        plain = self._plain()
        plot.theme = "clear" if plain else "auto"
        plot.plt.clear_data()
        colours = (
            None
            if plain
            else [Color.parse(self.app.theme_variables[name]).rgb for name in ("primary", "accent")]
        )
        login_chart.draw(plot.plt, self.shown.series, colours, plain=plain)
        plot.refresh()
