"""The roll: every pupil, searchable, filtered on roll / left / all, paged from the database.

Only a window of the result is loaded (PagedTable); the holders per licence type and the
contacts are counted in SQL for that window (services/pupils.py). The licence types are read
first, in a worker, since each gets its own column. Enter opens the pupil; C shows coverage.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from extgw_tui.resources import stylesheet
from extgw_tui.services import pupils
from extgw_tui.services.licences import licence_types
from extgw_tui.services.pupils import PupilRow
from extgw_tui.widgets.dbwork import db_work
from extgw_tui.widgets.debounced_input import DebouncedInput
from extgw_tui.widgets.list_screen import EnterOpens, ListStatus
from extgw_tui.widgets.paged_table import PagedColumn, PagedTable
from extgw_tui.widgets.status_line import StatusLine

#: Seconds of quiet typing before the search runs.
DEBOUNCE = 0.15
#: Licence types after the first two get a column only on terminals at least this wide (+20
#: for each further one).
EXTRA_TYPE_WIDTH = 110


def pupil_columns(types: list[tuple[int, str]]) -> list[PagedColumn]:
    """The list's columns: the pupil, then a count per licence type, then contacts."""
    columns = [
        PagedColumn("name", "Name", 16, sort="name", flex=True),
        PagedColumn("year", "Year", 4, sort="year"),
        PagedColumn("form", "Form", 6, sort="form"),
        PagedColumn("admission", "Adm. no", 9, sort="admission", hide_below=96),
        PagedColumn("upn", "UPN", 13, hide_below=124),
        PagedColumn("roll", "On roll", 7, sort="roll"),
        PagedColumn("left", "Left on", 10, hide_below=106),
    ]
    for index, (type_id, name) in enumerate(types):
        hide = 0 if index < 2 else EXTRA_TYPE_WIDTH + 20 * (index - 2)
        columns.append(PagedColumn(f"type-{type_id}", name, max(len(name), 5), hide_below=hide))
    columns.append(PagedColumn("contacts", "Contacts", 8))
    return columns


def renderer(types: list[tuple[int, str]]):
    """The cells of a row, in pupil_columns' order."""

    def render(row: PupilRow) -> tuple:
        counts = [str(row.holders.get(type_id, 0) or "-") for type_id, _ in types]
        return (
            f"{row.surname}, {row.forename}",
            "" if row.year_group is None else str(row.year_group),
            row.form,
            row.admission_number or "",
            row.upn or "",
            "yes" if row.on_roll else "left",
            row.left_on.isoformat() if row.left_on else "",
            *counts,
            str(row.contacts or "-"),
        )

    return render


class PupilsScreen(ListStatus, EnterOpens, Screen[None]):
    """Every pupil, with their holders per licence type and contacts; escape goes back."""

    CSS_PATH = stylesheet("pupils.tcss")
    TITLE = "Pupils"
    BINDINGS = [
        Binding(
            "slash",
            "focus_search",
            "Search",
            id="pupils.search",
            tooltip="Search by name, UPN, admission number, form or year",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            id="pupils.back",
            tooltip="Leave the search box, else back to the users",
            show=False,
        ),
        Binding(
            "f",
            "cycle_roll",
            "On roll/left/all",
            id="pupils.roll_filter",
            tooltip="Show the pupils on roll, those who left, or all",
        ),
        Binding("e", "open", "Open", id="pupils.open", tooltip="Open the pupil under the cursor"),
        Binding(
            "C",
            "coverage",
            "Coverage",
            id="pupils.coverage",
            tooltip="Coverage: pupils with an active parent or pupil account, per form",
        ),
        Binding("x", "export", "Export", id="pupils.export", tooltip="Export to Excel"),
        Binding(
            "K",
            "licence_keys",
            "Licence keys",
            id="pupils.licence_keys",
            tooltip="Licence keys: generate for the marked pupils (or the cursor's), follow up",
        ),
        Binding(
            "ctrl+r,f5",
            "refresh",
            "Refresh",
            id="pupils.refresh",
            tooltip="Refresh from the database",
            show=False,
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.term = ""
        self.roll = pupils.ON_ROLL
        self.types: list[tuple[int, str]] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="pupils-search-bar"):
            yield Static("Search", id="pupils-search-label")
            yield DebouncedInput(
                placeholder="name, UPN, admission no., form or year  (/ to focus)",
                id="pupils-search",
                compact=True,
                delay=DEBOUNCE,
            )
        yield Static("", id="pupils-filter", markup=False)
        yield StatusLine("Loading…", id="pupils-status")
        yield Footer()

    def on_mount(self) -> None:
        self._show_filter()
        db_work(self, licence_types, on_success=self._got_types, group="pupils-types")

    def _got_types(self, types: list[tuple[int, str]]) -> None:
        self.types = types
        table = PagedTable(
            pupil_columns(types),
            renderer(types),
            lambda row: row.id,
            markable=True,  # marked pupils get licence keys (K)
            sort="name",
            id="pupils-table",
        )
        self.mount(table, before="#pupils-status")
        table.focus()
        self._query()

    @property
    def table(self) -> PagedTable | None:
        found = self.query(PagedTable)
        return found.first() if found else None

    def on_screen_resume(self) -> None:
        """Back from a pupil or a dialog: holders may have changed meanwhile."""
        if self.table is not None and self.table.total:
            self.table.reload()

    # ----- the query ----------------------------------------------------------------------

    def _query(self) -> None:
        table = self.table
        if table is None:
            return
        term, roll = self.term, self.roll
        table.set_source(
            lambda offset, limit, sort, descending: pupils.search_pupils(
                term, roll=roll, sort=sort, descending=descending, offset=offset, limit=limit
            ),
            lambda: pupils.count_pupils(term, roll),
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()

    def on_debounced_input_settled(self, event: DebouncedInput.Settled) -> None:
        event.stop()
        self._search_now()

    def _search_now(self) -> None:
        value = self.query_one("#pupils-search", Input).value
        if value != self.term:
            self.term = value
            self._query()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._search_now()
        if self.table is not None:
            self.set_focus(self.table)

    def _show_status(self) -> None:
        table = self.table
        if table is None:
            return
        label = pupils.ROLL_LABELS[self.roll]
        count = "counting…" if table.counting else f"{table.total:,} {label}"
        if self.term.strip():
            count += " matching"
        self.query_one("#pupils-status", StatusLine).show(f"{count} · {table.status_text()}")

    def _show_filter(self) -> None:
        shown = " / ".join(
            f"[{label}]" if key == self.roll else label for key, label in pupils.ROLL_LABELS.items()
        )
        self.query_one("#pupils-filter", Static).update(f"Showing (f): {shown}")

    # ----- actions ------------------------------------------------------------------------

    def action_focus_search(self) -> None:
        self.set_focus(self.query_one("#pupils-search", Input))  # at once: typed keys go in

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            if self.table is not None:
                self.set_focus(self.table)
            return
        self.dismiss()

    def action_cycle_roll(self) -> None:
        filters = pupils.ROLL_FILTERS
        self.roll = filters[(filters.index(self.roll) + 1) % len(filters)]
        self._show_filter()
        self._query()

    def action_refresh(self) -> None:
        if self.table is not None:
            self.table.reload()

    def action_open(self) -> None:
        """The pupil under the cursor, once its window has landed if it is on its way."""
        table = self.table
        if table is None:
            return
        if table.current_row is None and not table.fetching:
            self.notify("There is no pupil under the cursor.", severity="warning")
            return
        table.with_current_row(self._open)

    def _open(self, row: PupilRow) -> None:
        from extgw_tui.screens.pupil_detail import PupilDetailScreen

        self.app.push_screen(PupilDetailScreen(row.id))

    def action_licence_keys(self) -> None:
        from extgw_tui.screens.licence_keys import LicenceKeysScreen

        table = self.table
        chosen: list[int] = sorted(table.marks) if table is not None else []
        if not chosen and table is not None and table.current_row is not None:
            chosen = [table.current_row.id]
        self.app.push_screen(LicenceKeysScreen(chosen))

    def action_coverage(self) -> None:
        from extgw_tui.screens.coverage import CoverageScreen

        self.app.push_screen(CoverageScreen())

    def action_export(self) -> None:
        from extgw_tui.screens.export import ExportModal

        self.app.push_screen(ExportModal())
