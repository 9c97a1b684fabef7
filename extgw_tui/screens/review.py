"""Review user accounts: no pupils and no login for at least N months, then delete them safely.

The list is a PagedTable over services/review.py, so any number of candidates pages from the
database. The threshold box re-queries as it changes (marks are cleared, since they were chosen
under the old rule). Deleting asks first, naming the number of accounts, and runs in a worker;
the service re-checks every account inside its transaction and the screen reports what was
kept and why. Escape during a deletion stops it with nothing deleted. x exports the whole list
to Excel, which is worth doing before deleting.
"""

from __future__ import annotations

import threading
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Label, Static

from extgw_tui.errors import InvalidInput
from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.dbwork import db_work
from extgw_tui.services import purge, review
from extgw_tui.services.review import ReviewDeleteResult, ReviewRow
from extgw_tui.widgets.paged_table import PagedColumn, PagedTable

#: Seconds of quiet typing before the threshold re-queries the database.
TYPING_PAUSE = 0.3
#: Kept accounts named one by one in the report after a deletion; the rest are counted.
KEPT_SHOWN = 5

#: At 80 columns Created and Title go first: Access matters more (a denied account is a
#: candidate too), and months inactive already says how old the last activity is.
COLUMNS = [
    PagedColumn("id", "ID", 6, sort="id"),
    PagedColumn("title", "Title", 5, sort="title", hide_below=100),
    PagedColumn("surname", "Surname", 12, sort="surname"),
    PagedColumn("email", "Email", 16, sort="email", flex=True),
    PagedColumn("created", "Created", 10, sort="created", hide_below=90),
    PagedColumn("last_login", "Last login", 10, sort="last_login"),
    PagedColumn("months", "Months", 8, sort="months"),  # 8: room for the sort arrow
    PagedColumn("access", "Access", 7, sort="access"),
]


def _cells(row: ReviewRow) -> tuple[str | Text, ...]:
    """One row's cells; PagedTable shows str as typed (never as markup)."""
    return (
        str(row.id),
        row.title,
        row.surname,
        row.email,
        row.created_at.strftime("%Y-%m-%d"),
        row.last_login_at.strftime("%Y-%m-%d") if row.last_login_at else "Never",
        Text(str(row.months_inactive), justify="right"),
        "allowed" if row.access_allowed else "denied",
    )


def _plural(count: int, word: str = "account") -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


class ReviewTable(PagedTable):
    """The candidates: the list's marking keys, named in the footer, since marking comes
    before deleting."""

    BINDINGS = [
        Binding("space", "toggle_mark", "Mark", tooltip="Mark/unmark row"),
        Binding("a", "mark_all", "Mark all", tooltip="Mark every account on the list"),
    ]


class ReviewScreen(Screen[None]):
    """Candidates for deletion, with the threshold, marks, delete and export; escape goes back."""

    CSS_PATH = stylesheet("review.tcss")
    TITLE = "Review user accounts"
    BINDINGS = [
        Binding("slash", "focus_months", "Threshold", tooltip="Change the months threshold"),
        Binding(
            "d,delete", "delete", "Delete", tooltip="Delete the marked accounts, or the cursor's"
        ),
        Binding("x", "export", "Export", tooltip="Export the whole list to Excel"),
        Binding(
            "escape", "back", "Back", tooltip="Back to the users (or stop a deletion)", show=False
        ),
        Binding("e", "open", "Open", tooltip="Open the account under the cursor", show=False),
        Binding("ctrl+r,f5", "refresh", "Refresh", tooltip="Refresh from the database", show=False),
    ]

    def __init__(self, months: int = review.DEFAULT_MONTHS) -> None:
        super().__init__()
        self.months = review.check_months(months)
        self._typing: Timer | None = None
        #: Set while a deletion runs; setting the event stops it (the transaction rolls back).
        self._stop_delete: threading.Event | None = None

    def compose(self) -> ComposeResult:
        yield Static("Review user accounts", id="review-title")
        yield Static(review.WHY, id="review-why")
        with Horizontal(id="review-threshold"):
            yield Label("No pupils and no login for at least", id="review-months-label")
            yield Input(
                str(self.months),
                restrict=r"[0-9]*",
                max_length=3,
                id="review-months",
                tooltip=f"Months, {review.MIN_MONTHS} to {review.MAX_MONTHS}",
            )
            yield Label(self._unit(), id="review-months-unit")
            yield Static("counting…", id="review-count", markup=False)
        yield ReviewTable(
            COLUMNS, _cells, lambda row: row.id, sort="months", descending=True, id="review-table"
        )
        yield Static("Loading…", id="review-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._query()
        self.query_one(PagedTable).focus()

    def on_screen_resume(self) -> None:
        """Back from a dialog: another admin or the edit modal may have changed things."""
        table = self.query_one(PagedTable)
        if table.total:
            table.reload()

    # ----- the query ---------------------------------------------------------------------

    def _query(self) -> None:
        months = self.months
        self.query_one("#review-count", Static).update("counting…")
        self.query_one(PagedTable).set_source(
            lambda offset, limit, sort, descending: review.candidates(
                months, sort=sort, descending=descending, offset=offset, limit=limit
            ),
            lambda: review.count_candidates(months),
            lambda: review.candidate_ids(months),
        )

    def _apply_months(self) -> None:
        text = self.query_one("#review-months", Input).value.strip()
        try:
            months = review.check_months(int(text) if text else 0)
        except InvalidInput as exc:
            self.query_one("#review-count", Static).update(str(exc))
            return
        if months == self.months:
            self._show_count()
            return
        self.months = months
        self.query_one("#review-months-unit", Label).update(self._unit())
        table = self.query_one(PagedTable)
        if table.marks:
            table.set_marks(set())
            self.notify("Marks cleared: the threshold changed.")
        self._query()

    def _unit(self) -> str:
        return "month:" if self.months == 1 else "months:"

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(TYPING_PAUSE, self._apply_months)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._typing is not None:
            self._typing.stop()
        self._apply_months()
        self.query_one(PagedTable).focus()

    def on_paged_table_loaded(self, event: PagedTable.Loaded) -> None:
        event.stop()
        self._show_count()
        self._show_status()

    def on_paged_table_marks_changed(self, event: PagedTable.MarksChanged) -> None:
        event.stop()
        self._show_status()

    def on_paged_table_moved(self, event: PagedTable.Moved) -> None:
        event.stop()
        self._show_status()

    def _show_count(self) -> None:
        table = self.query_one(PagedTable)
        self.query_one("#review-count", Static).update(_plural(table.total))

    def _show_status(self) -> None:
        table = self.query_one(PagedTable)
        cutoff = review.cutoff_day(self.months).isoformat()
        self.query_one("#review-status", Static).update(
            f"{table.status_text()} · {table.marks_text()} · last active on or before {cutoff}"
        )

    # ----- actions ------------------------------------------------------------------------

    def action_back(self) -> None:
        """Escape stops a running deletion, else leaves the threshold box, else the screen."""
        if self._stop_delete is not None:
            self._stop_delete.set()
            self.query_one("#review-status", Static).update("Stopping the deletion…")
            return
        if isinstance(self.focused, Input):
            self.query_one(PagedTable).focus()
            return
        self.dismiss()

    def action_focus_months(self) -> None:
        self.set_focus(self.query_one("#review-months", Input))  # at once: keys typed next go in

    def action_refresh(self) -> None:
        self.query_one(PagedTable).reload()

    def _chosen_ids(self) -> list[int]:
        """The marked accounts, or else the one under the cursor."""
        table = self.query_one(PagedTable)
        if table.marks:
            return sorted(table.marks)
        row = table.current_row
        return [row.id] if row is not None else []

    def action_delete(self) -> None:
        if self._stop_delete is not None:
            self.notify("A deletion is already running.")
            return
        ids = self._chosen_ids()
        if not ids:
            self.notify("There is no account to delete.", severity="warning")
            return
        months = self.months
        days = purge.retention_days()  # config.toml, read again: an edit since start counts
        question = (
            f"Delete {_plural(len(ids))} with no pupils and no login for at least "
            f"{review.months_text(months)}? They can no longer log in and disappear from every "
            f"list. For {days} days the activity log (L, then u) can restore them with their "
            "login history; then they are purged for good, and their login history stays in "
            "the statistics without their names."
        )
        self.app.push_screen(
            ConfirmModal(question, title=f"Delete {_plural(len(ids))}", yes_label="Delete"),
            lambda yes: self._delete(ids, months) if yes else None,
        )

    def _delete(self, ids: list[int], months: int) -> None:
        stop = self._stop_delete = threading.Event()
        total = len(ids)
        self._delete_progress(0, total)
        db_work(
            self,
            review.delete_accounts,
            ids,
            months,
            progress=lambda done: self.app.call_from_thread(self._delete_progress, done, total),
            should_cancel=stop.is_set,
            on_success=self._deleted,
            on_error=self._delete_failed,
            group="review-delete",
        )

    def _delete_progress(self, done: int, total: int) -> None:
        if self._stop_delete is not None and not self._stop_delete.is_set():
            self.query_one("#review-status", Static).update(
                f"Deleting: checked {done:,} of {_plural(total)} · escape stops, deleting none"
            )

    def _deleted(self, result: ReviewDeleteResult) -> None:
        self._stop_delete = None
        table = self.query_one(PagedTable)
        table.set_marks(set())
        table.reload()
        if not result.kept:
            self.notify(result.summary(), timeout=8)
            return
        lines = [f"ID {user_id}: {reason}" for user_id, reason in result.kept[:KEPT_SHOWN]]
        if len(result.kept) > KEPT_SHOWN:
            lines.append(f"and {len(result.kept) - KEPT_SHOWN:,} more")
        self.notify(
            result.summary() + "\n" + "\n".join(lines),
            severity="warning",
            timeout=15,
            markup=False,
        )

    def _delete_failed(self, message: str) -> None:
        self._stop_delete = None
        self._show_status()
        self.notify(message, severity="warning", timeout=10, markup=False)

    def action_export(self) -> None:
        table = self.query_one(PagedTable)
        if not table.total:
            self.notify("There is nothing to export: no account matches.")
            return
        from extgw_tui.screens.review_export import ReviewExportModal

        self.app.push_screen(ReviewExportModal(self.months, table.total), self._exported)

    def _exported(self, path: Path | None) -> None:
        if path is not None:
            self.notify(f"Exported the review list to {path}.", timeout=10, markup=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        """The user's details and login statistics, in the same modal as the main screen."""
        row = self.query_one(PagedTable).current_row
        if row is None:
            return
        from extgw_tui.screens.edit_user import EditUserModal

        self.app.push_screen(EditUserModal(row.id), self._edited)

    def _edited(self, changed: bool | None) -> None:
        if changed:
            self.query_one(PagedTable).reload()
