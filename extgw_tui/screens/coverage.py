"""Coverage: per year group and form, the pupils on roll whose parents (and who themselves) have
an account used in the last 12 months: who will see a report released on the portal.

The figures come from services/coverage.py in one SQL statement, in a worker behind a loading
indicator. A bar chart per year group sits above a table of every year and form (a PagedTable
over the computed rows, so thousands of forms never sit in the widget at once); `o` sorts it,
e.g. by the Parent/Guardian share, lowest first, to find the forms to chase. `x` exports it.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Footer, Static

from extgw_tui.resources import stylesheet
from extgw_tui.services import coverage
from extgw_tui.services.coverage import FORM, CoverageReport, CoverageRow, percent
from extgw_tui.widgets.bar_chart import BarChart
from extgw_tui.widgets.dbwork import db_work
from extgw_tui.widgets.paged_table import PagedColumn, PagedTable

COLUMNS = [
    PagedColumn("group", "Year / form", 12, sort="group", flex=True),
    PagedColumn("pupils", "Pupils", 7, sort="pupils"),
    PagedColumn("parents", "Parent/Guardian", 15, sort="parents"),
    PagedColumn("parent_share", "%", 5, sort="parent_share"),
    PagedColumn("own", "Pupil", 7, sort="own", hide_below=60),
    PagedColumn("own_share", "%", 5, sort="own_share"),
]

#: How each sortable column orders the rows (ties keep the year-and-form order).
SORT_KEYS = {
    "pupils": lambda r: r.pupils,
    "parents": lambda r: r.parents,
    "parent_share": lambda r: r.parent_share,
    "own": lambda r: r.own,
    "own_share": lambda r: r.own_share,
}


def _cells(row: CoverageRow) -> tuple:
    label = f"  {row.label}" if row.kind == FORM else row.label
    style = "" if row.kind == FORM else "bold"
    return (
        Text(label, style=style),
        Text(f"{row.pupils:,}", justify="right"),
        Text(f"{row.parents:,}", justify="right"),
        Text(percent(row.parent_share), justify="right"),
        Text(f"{row.own:,}", justify="right"),
        Text(percent(row.own_share), justify="right"),
    )


def ordered(rows: list[CoverageRow], sort: str, descending: bool) -> list[CoverageRow]:
    """The table's rows in the chosen order (the report's own order for "group")."""
    key = SORT_KEYS.get(sort)
    if key is None:
        return list(reversed(rows)) if descending else rows
    return sorted(rows, key=key, reverse=descending)


class CoverageScreen(Screen[None]):
    """Coverage per year group and form; escape goes back to the pupils."""

    CSS_PATH = stylesheet("coverage.tcss")
    TITLE = "Coverage"
    BINDINGS = [
        Binding("escape", "back", "Back", id="coverage.back", tooltip="Back to the pupils"),
        Binding("x", "export", "Export", id="coverage.export", tooltip="Export to Excel"),
        Binding(
            "ctrl+r,f5",
            "refresh",
            "Refresh",
            id="coverage.refresh",
            tooltip="Count again from the database",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.report: CoverageReport | None = None
        #: Each row's key in the table: its place in the report.
        self._keys: dict[CoverageRow, int] = {}

    def compose(self) -> ComposeResult:
        yield Static("Coverage", id="coverage-title", markup=False)
        with Vertical(id="coverage-body"):
            yield Static("", id="coverage-legend")
            yield BarChart(id="coverage-chart")
            yield PagedTable(
                COLUMNS,
                _cells,
                lambda row: self._keys[row],
                markable=False,
                sort="group",
                id="coverage-table",
            )
        yield Static("Counting…", id="coverage-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(PagedTable).focus()
        self.app.theme_changed_signal.subscribe(self, self._show_legend)
        self.action_refresh()

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self.query_one("#coverage-body").loading = True
        db_work(
            self,
            coverage.coverage,
            on_success=self._show,
            on_error=self._problem,
            group="coverage",
            exclusive=True,
        )

    def _problem(self, message: str) -> None:
        self.query_one("#coverage-body").loading = False
        self.query_one("#coverage-status", Static).update(f"Coverage unavailable: {message}")

    def _show(self, report: CoverageReport) -> None:
        self.report = report
        self.query_one("#coverage-body").loading = False
        school = report.school
        self.query_one("#coverage-title", Static).update(
            f"Coverage: pupils on roll with an account used since {report.since.isoformat()}"
        )
        rows = list(report.rows())
        self._keys = {row: index for index, row in enumerate(rows)}
        self.query_one(PagedTable).set_source(
            lambda offset, limit, sort, descending: ordered(rows, sort, descending)[
                offset : offset + limit
            ],
            lambda: len(rows),
        )
        self.query_one("#coverage-status", Static).update(
            f"Whole school: {school.pupils:,} on roll · Parent/Guardian "
            f"{percent(school.parent_share)} · Pupil {percent(school.own_share)} · "
            "o sorts (e.g. by %, lowest first)"
        )
        self.query_one(BarChart).show(coverage.bars(report))
        self._show_legend()

    def _show_legend(self, theme: Theme | None = None) -> None:
        """The legend line, above the chart (never over its bars), in the bars' colours."""
        self.query_one("#coverage-legend", Static).update(self.query_one(BarChart).legend())

    def action_export(self) -> None:
        from extgw_tui.screens.coverage_export import CoverageExportModal

        self.app.push_screen(CoverageExportModal(), self._exported)

    def _exported(self, path: Path | None) -> None:
        if path is not None:
            self.notify(f"Exported the coverage to {path}.", timeout=10, markup=False)
