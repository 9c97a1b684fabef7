"""Login statistics: logins and distinct users per period, for a chosen group, as two charts
stacked (each its own axis, each bar's figure on it, each titled with what it counts and the
period's name: no legend, and no colour, is needed to tell them apart).

As on the original page, the links directly under the charts choose the licence type whose
holders they show (All first). Left/right, the number keys and the mouse choose a link; `p` or
a click on the period line switches between months, weeks and school years. The figures come
from services/statistics.py in a worker behind a loading indicator; the charts follow the
terminal's size, the theme, and NO_COLOR (widgets/bar_chart.py).
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, Static

from extgw_tui.resources import stylesheet
from extgw_tui.services import login_chart, periods, statistics
from extgw_tui.services.statistics import Group, GroupStatistics
from extgw_tui.widgets.bar_chart import BarChart
from extgw_tui.widgets.dbwork import db_work

#: Links 1 to 9 have a number key; further ones are reached with left/right or the mouse.
LINK_KEYS = 9


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
            yield BarChart(id="stats-logins", classes="stats-chart")
            yield BarChart(palette=("accent",), id="stats-users", classes="stats-chart")
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
        self.query_one("#stats-title", Static).update(f"Login statistics · {group.name} · …")
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
        self.query_one("#stats-title", Static).update(
            f"Login statistics · {shown.group.name} · {statistics.period_name(series)}"
        )
        self.query_one("#stats-figures", Static).update(
            f"{f.accounts:,} accounts · {f.allowed:,} allowed · "
            f"{f.denied:,} denied · {sum(series.logins):,} logins shown\n" + statistics.logged_in(f)
        )
        logins, users = login_chart.charts(series)
        self.query_one("#stats-logins", BarChart).show(logins)
        self.query_one("#stats-users", BarChart).show(users)
