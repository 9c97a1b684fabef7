"""The activity log: what every administrator did, newest first, paged from the database.

Filters (admin, action, user id, text in the target) narrow the query in SQL; the list is a
PagedTable, so millions of audit entries page without loading. One change is one row (a deny
of 20,000 accounts too): enter opens it (its accounts, or the entry in full), u undoes it.
With a user or text filter each matching entry is a row. x exports exactly what the filters
select, entry by entry.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Select, Static

from extgw_tui.errors import InvalidInput
from extgw_tui.resources import stylesheet
from extgw_tui.screens.activity_undo import ask_undo
from extgw_tui.services import activity
from extgw_tui.services.activity import ActivityFilter, ActivityRow
from extgw_tui.widgets.dbwork import db_work
from extgw_tui.widgets.debounced_input import DebouncedInput
from extgw_tui.widgets.list_screen import EnterOpens, ListStatus
from extgw_tui.widgets.paged_table import PagedColumn, PagedTable
from extgw_tui.widgets.status_line import StatusLine

#: Seconds of quiet typing before the text filter queries the database.
TYPING_PAUSE = 0.3

COLUMNS = [
    PagedColumn("at", "When", 16),
    PagedColumn("admin", "Admin", 10),
    PagedColumn("action", "Action", 14),
    PagedColumn("user", "User", 6),
    PagedColumn("target", "Target", 16, flex=True),
    PagedColumn("outcome", "Outcome", 7, hide_below=100),
    PagedColumn("detail", "Detail", 30, hide_below=120),
]


def log_cells(row: ActivityRow) -> tuple[str, ...]:
    return (
        row.at.strftime("%Y-%m-%d %H:%M"),
        row.admin,
        row.action,
        "" if row.user_id is None or row.size > 1 else str(row.user_id),
        row.what,
        row.outcome,
        row.detail,
    )


class LogTable(PagedTable):
    """The log's list: always newest first and never marked, so those keys are switched off."""

    UNUSED_ACTIONS = frozenset(
        {"toggle_mark", "mark_all", "clear_marks", "next_sort", "reverse_sort"}
    )


class ActivityLogScreen(ListStatus, EnterOpens, Screen[None]):
    """The audit trail as a filterable list; escape goes back."""

    TITLE = "Activity log"
    CSS_PATH = stylesheet("activity.tcss")
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the users", id="activity.back"),
        Binding(
            "slash",
            "focus_filter",
            "Filter",
            tooltip="Filter by admin, action, user or target",
            id="activity.filter",
        ),
        Binding(
            "e",
            "open",
            "Open",
            tooltip="Open the change: its accounts, or every field",
            id="activity.open",
        ),
        Binding(
            "u",
            "undo",
            "Undo batch",
            id="activity.undo",
            tooltip="Undo this change (asks first)",
        ),
        Binding(
            "f",
            "this_user",
            "This user",
            id="activity.this_user",
            tooltip="Only the entries of this entry's user",
        ),
        Binding(
            "x",
            "export",
            "Export",
            tooltip="Export the filtered log to Excel",
            id="activity.export",
        ),
        Binding(
            "ctrl+r,f5",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Refresh from the database",
            id="app.refresh",
        ),
        Binding(
            "ctrl+l", "clear_filters", "Clear filters", show=False, id="activity.clear_filters"
        ),
    ]

    def __init__(self, user_id: int | None = None) -> None:
        super().__init__()
        self.start_user = user_id
        self.filter = ActivityFilter(user_id=user_id)

    def compose(self) -> ComposeResult:
        yield Static(
            "Activity log: what administrators did, newest first, one row per change",
            id="activity-title",
        )
        with Horizontal(id="activity-filters"):
            yield Select([], prompt="Any admin", compact=True, id="activity-admin")
            yield Select([], prompt="Any action", compact=True, id="activity-action")
            yield DebouncedInput(
                "" if self.start_user is None else str(self.start_user),
                delay=TYPING_PAUSE,
                placeholder="User ID",
                restrict=r"[0-9]*",
                max_length=18,
                compact=True,
                id="activity-user",
            )
            yield DebouncedInput(
                placeholder="Target contains…",
                max_length=300,
                compact=True,
                id="activity-text",
                delay=TYPING_PAUSE,
            )
        yield LogTable(COLUMNS, log_cells, lambda row: row.id, markable=False, id="activity-table")
        yield StatusLine("Loading…", id="activity-status")
        yield Footer()

    def on_mount(self) -> None:
        self._load_choices()
        self._query()
        self.query_one(PagedTable).focus()

    def on_screen_resume(self) -> None:
        """Back from the entry or export dialog: entries may have been added meanwhile."""
        if self.query_one(PagedTable).total:
            self.query_one(PagedTable).reload()

    # ----- the query ---------------------------------------------------------------------

    def _load_choices(self) -> None:
        db_work(
            self,
            lambda: (activity.admins(), activity.actions()),
            on_success=self._show_choices,
            group="activity-choices",
            exclusive=True,
        )

    def _show_choices(self, choices: tuple[list[str], list[str]]) -> None:
        admins, actions = choices
        for select_id, values in (("#activity-admin", admins), ("#activity-action", actions)):
            select: Select[str] = self.query_one(select_id, Select)
            current = select.value
            with select.prevent(Select.Changed):
                select.set_options((value, value) for value in values)
                if current in values:
                    select.value = current

    def _query(self) -> None:
        flt = self.filter
        table = self.query_one(PagedTable)
        table.set_source(
            lambda offset, limit: activity.changes(flt, offset=offset, limit=limit),
            lambda: activity.count_changes(flt),
        )

    def _read_filters(self) -> ActivityFilter | None:
        """The filter the widgets describe, or None (with the reason shown) if it is invalid."""
        admin = self.query_one("#activity-admin", Select).value
        action = self.query_one("#activity-action", Select).value
        try:
            user_id = activity.parse_user_id(self.query_one("#activity-user", Input).value)
        except InvalidInput as exc:
            self._status(str(exc))
            return None
        return ActivityFilter(
            admin=admin if isinstance(admin, str) else None,
            action=action if isinstance(action, str) else None,
            user_id=user_id,
            text=self.query_one("#activity-text", Input).value.strip() or None,
        )

    def _apply_filters(self) -> None:
        flt = self._read_filters()
        if flt is not None and flt != self.filter:
            self.filter = flt
            self._query()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._apply_filters()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()

    def on_debounced_input_settled(self, event: DebouncedInput.Settled) -> None:
        event.stop()
        self._apply_filters()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply_filters()
        self.set_focus(self.query_one(PagedTable))

    def _show_status(self) -> None:
        table = self.query_one(PagedTable)
        self._status(f"{table.status_text()} · {self.filter.describe()}")

    def _status(self, text: str) -> None:
        self.query_one("#activity-status", StatusLine).show(text)

    # ----- actions ------------------------------------------------------------------------

    def action_back(self) -> None:
        """Escape leaves a filter box first, then the screen."""
        focused = self.focused
        if isinstance(focused, Input | Select):
            self.set_focus(self.query_one(PagedTable))
            return
        self.dismiss()

    def action_focus_filter(self) -> None:
        self.set_focus(self.query_one("#activity-text", Input))  # at once: keys typed next go in

    def action_refresh(self) -> None:
        self._load_choices()
        self.query_one(PagedTable).reload()

    def action_clear_filters(self) -> None:
        for select_id in ("#activity-admin", "#activity-action"):
            with self.prevent(Select.Changed):
                self.query_one(select_id, Select).clear()
        for input_id in ("#activity-user", "#activity-text"):
            with self.prevent(Input.Changed):
                self.query_one(input_id, Input).value = ""
        self._apply_filters()

    def action_open(self) -> None:
        row = self.query_one(PagedTable).current_row
        if row is None:
            return
        if row.size > 1:
            from extgw_tui.screens.activity_batch import ActivityBatchScreen

            self.app.push_screen(ActivityBatchScreen(row))
            return
        from extgw_tui.screens.activity_entry import ActivityEntryModal

        self.app.push_screen(ActivityEntryModal(row))

    def action_undo(self) -> None:
        ask_undo(self, self.query_one(PagedTable).current_row, self.action_refresh)

    def action_this_user(self) -> None:
        """Narrow the log to the user of the entry under the cursor."""
        row = self.query_one(PagedTable).current_row
        if row is None or row.user_id is None:
            self.notify("This entry is not about a user.", severity="warning")
            return
        self.query_one("#activity-user", Input).value = str(row.user_id)
        self._apply_filters()

    def action_export(self) -> None:
        table = self.query_one(PagedTable)
        if not table.total:
            self.notify("There is nothing to export: no entry matches the filters.")
            return
        from extgw_tui.screens.activity_export import ActivityExportModal

        self.app.push_screen(ActivityExportModal(self.filter, table.total), self._exported)

    def _exported(self, path: Path | None) -> None:
        if path is not None:
            self.notify(f"Exported the activity log to {path}.", timeout=8)
