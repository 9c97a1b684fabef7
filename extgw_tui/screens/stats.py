"""Login statistics: a bar chart of logins and distinct users per period, for a chosen group.

As on the original page, the links directly under the chart choose the licence type whose
holders the chart shows (All first). Left/right, the number keys and the mouse choose a link;
`p` or a click on the period line switches between months, weeks and school years. The figures
come from services/statistics.py in a worker behind a loading indicator; the chart follows the
terminal's size, the theme, and NO_COLOR (bars told apart by their marker, not their colour).
"""

from __future__ import annotations

from datetime import date

from textual.app import ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import Vertical
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual_plotext import PlotextPlot

from extgw_tui.resources import stylesheet
from extgw_tui.screens.dbwork import db_work
from extgw_tui.services import periods, statistics
from extgw_tui.services.statistics import Group, GroupStatistics

PERIOD_NAMES = {
    periods.MONTHS: "last 12 months by month",
    periods.WEEKS: "last 12 weeks by ISO week",
    periods.YEARS: "all time by school year",
}
LOGINS_MARKER, USERS_MARKER = "█", "▒"


def short_label(mode: str, label: str) -> str:
    """A label narrow enough for 12 pairs of bars at 80 columns: "Apr", "W05", "24/25"."""
    if mode == periods.MONTHS:
        return date.fromisoformat(f"{label}-01").strftime("%b")
    if mode == periods.WEEKS:
        return label.split("-")[1]
    return label[2:]


class StatsScreen(Screen[None]):
    """Logins per period for all users or one licence type's holders; escape goes back."""

    CSS_PATH = stylesheet("stats.tcss")
    TITLE = "Login statistics"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("left", "step(-1)", "Previous licence type", key_display="←"),
        Binding("right", "step(1)", "Next licence type", key_display="→"),
        *(
            Binding(str(n), f"choose({n - 1})", f"Show licence type link {n}", show=False)
            for n in range(1, 10)
        ),
        Binding("p", "cycle_period", "Switch period"),
        Binding("ctrl+r,f5", "refresh", "Refresh"),
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
            yield PlotextPlot(id="stats-plot")
            yield Static("", id="stats-links")
            yield Static("", id="stats-figures", markup=False)
        yield Static("", id="stats-period")
        yield Footer()

    def on_mount(self) -> None:
        self._show_links()
        self.action_refresh()

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
        self._load()

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
            key = f"{index + 1} " if index < 9 else ""
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
            f"Logged in: last 30 days {f.last_30_days:,} · last 12 months "
            f"{f.last_12_months:,} · never {f.never:,}"
        )
        self._draw()

    def _plain(self) -> bool:
        """No colours on the chart: NO_COLOR is set, or the theme uses the terminal's own."""
        return self.app.no_color or self.app.current_theme.ansi

    def _draw(self) -> None:
        if self.shown is None:
            return
        series = self.shown.series
        plot = self.query_one(PlotextPlot)
        plot.theme = "clear" if self._plain() else "auto"
        plt = plot.plt
        plt.clear_data()
        labels = [short_label(series.mode, label) for label in series.labels]
        names = ["logins", "distinct users"]
        if self._plain():
            plt.multiple_bar(
                labels,
                [series.logins, series.users],
                labels=names,
                marker=[LOGINS_MARKER, USERS_MARKER],
                color=["default", "default"],
            )
        else:
            variables = self.app.theme_variables
            colours = [Color.parse(variables[name]).rgb for name in ("primary", "accent")]
            plt.multiple_bar(labels, [series.logins, series.users], labels=names, color=colours)
        top = max(series.logins, default=0)
        step = max(1, -(-top // 4))
        plt.yticks(list(range(0, top + step, step)))
        first, last = series.labels[0], series.labels[-1]
        plt.title(f"{first} to {last}" if first != last else first)
        plot.refresh()
