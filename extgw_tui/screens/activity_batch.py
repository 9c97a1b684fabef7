"""One change of the activity log opened: its entries, one per account, paged from the database.

A bulk deny of 20,000 accounts is one row in the log; here are its 20,000 entries. u undoes
the whole change (as in the log), enter opens one entry in full, escape goes back.
"""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from extgw_tui.resources import stylesheet
from extgw_tui.screens.activity import COLUMNS, LogTable, log_cells
from extgw_tui.screens.activity_undo import ask_undo
from extgw_tui.services import activity
from extgw_tui.services.activity import ActivityRow
from extgw_tui.widgets.list_screen import EnterOpens, ListStatus
from extgw_tui.widgets.paged_table import PagedTable

_STATE = {
    "undoable": "u undoes it",
    "undone": "undone",
    "undo": "an undo (it cannot be undone)",
    "": "it cannot be undone",
}


class ActivityBatchScreen(ListStatus, EnterOpens, Screen[None]):
    """The entries of one batch; escape goes back to the log."""

    TITLE = "Activity log: one change"
    CSS_PATH = stylesheet("activity_batch.tcss")
    BINDINGS = [
        Binding("escape", "back", "Back", id="activity_batch.back", tooltip="Back to the log"),
        Binding("e", "open", "Open", id="activity_batch.open", tooltip="Every field of the entry"),
        Binding(
            "u",
            "undo",
            "Undo batch",
            id="activity_batch.undo",
            tooltip="Undo this whole change (asks first)",
        ),
        Binding(
            "ctrl+r,f5",
            "refresh",
            "Refresh",
            show=False,
            id="activity_batch.refresh",
            tooltip="Refresh from the database",
        ),
    ]

    def __init__(self, head: ActivityRow) -> None:
        super().__init__()
        self.head = head

    def compose(self) -> ComposeResult:
        yield Static(self._title(self.head), id="batch-title", markup=False)
        yield LogTable(COLUMNS, log_cells, lambda row: row.id, markable=False, id="batch-table")
        yield Static("Loading…", id="batch-status", markup=False)
        yield Footer()

    def _title(self, head: ActivityRow) -> str:
        return (
            f"{head.action} by {head.admin} on {head.at:%Y-%m-%d %H:%M}: "
            f"{head.size:,} entries · batch {head.batch[:8]} · {_STATE.get(head.state, '')}"
        )

    def on_mount(self) -> None:
        batch = self.head.batch
        self.query_one(PagedTable).set_source(
            lambda offset, limit: activity.batch_entries(batch, offset=offset, limit=limit),
            lambda: activity.count_batch(batch),
        )
        self.query_one(PagedTable).focus()

    def _table_loaded(self) -> None:
        first = self.query_one(PagedTable).current_row
        if first is not None and first.state != self.head.state:  # undone meanwhile
            self.head = replace(self.head, state=first.state)
            self.query_one("#batch-title", Static).update(self._title(self.head))
        self._show_status()

    def _show_status(self) -> None:
        self.query_one("#batch-status", Static).update(self.query_one(PagedTable).status_text())

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self.query_one(PagedTable).reload()

    def action_open(self) -> None:
        row = self.query_one(PagedTable).current_row
        if row is None:
            return
        from extgw_tui.screens.activity_entry import ActivityEntryModal

        self.app.push_screen(ActivityEntryModal(row))

    def action_undo(self) -> None:
        ask_undo(self, self.head, self.action_refresh)
