"""The Outbox screen: every message sent, queued, pending, failed or discarded, newest first.

Paged from the database (a PagedTable), narrowed by status in SQL. enter reads one message;
R retries the marked messages (or the one under the cursor) through services/mail's retry, in
a worker that can be cancelled; X discards them after asking, each audited as `email.discard`.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Select, Static
from textual.worker import get_current_worker

from extgw_tui.models import database
from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.services import mail
from extgw_tui.services.mail import OutboxRow
from extgw_tui.widgets.dbwork import db_work, error_message
from extgw_tui.widgets.list_screen import EnterOpens, ListStatus
from extgw_tui.widgets.paged_table import PagedColumn, PagedTable
from extgw_tui.widgets.to_ui import post_to_ui

COLUMNS = [
    PagedColumn("at", "Created", 16),
    PagedColumn("status", "Status", 9),
    PagedColumn("to", "To", 20, flex=True),
    PagedColumn("subject", "Subject", 20, hide_below=90),
    PagedColumn("tries", "Tries", 5, hide_below=110),
    PagedColumn("admin", "Admin", 10, hide_below=120),
]

STATUS_LABELS = {
    mail.QUEUED: "queued (no mail server: written as a file)",
    mail.PENDING: "pending (licence keys not sent yet)",
    mail.SENDING: "sending",
    mail.SENT: "sent",
    mail.FAILED: "failed",
    mail.DISCARDED: "discarded",
}


def _cells(row: OutboxRow) -> tuple[str, ...]:
    return (
        row.created_at.strftime("%Y-%m-%d %H:%M"),
        row.status,
        row.to_addr,
        row.subject,
        str(row.attempts),
        row.admin,
    )


class OutboxTable(PagedTable):
    """Always newest first, so the sort keys are switched off; marks choose what to retry."""

    UNUSED_ACTIONS = frozenset({"next_sort", "reverse_sort"})


class OutboxScreen(ListStatus, EnterOpens, Screen[None]):
    """The outbox as a list with a status filter; escape goes back."""

    TITLE = "Outbox"
    CSS_PATH = stylesheet("outbox.tcss")
    BINDINGS = [
        Binding("escape", "back", "Back", id="outbox.back", tooltip="Back to the users"),
        Binding(
            "slash", "focus_filter", "Status", id="outbox.filter", tooltip="Show one status only"
        ),
        Binding("e", "open", "Read", id="outbox.open", tooltip="Read the message in full"),
        Binding(
            "R",
            "retry",
            "Retry",
            id="outbox.retry",
            tooltip="Send the marked (or this) failed or queued messages again",
        ),
        Binding(
            "X",
            "discard",
            "Discard",
            id="outbox.discard",
            tooltip="Give up on the marked (or this) failed or queued messages (asks first)",
        ),
        Binding(
            "ctrl+r,f5",
            "refresh",
            "Refresh",
            show=False,
            id="outbox.refresh",
            tooltip="Refresh from the database",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.status: str | None = None
        self.counts: dict[str, int] = {}
        self.retrying = False

    def compose(self) -> ComposeResult:
        yield Static("Outbox: every message, newest first", id="outbox-title")
        yield Select(
            [(STATUS_LABELS[s], s) for s in mail.STATUSES],
            prompt="Every status",
            compact=True,
            id="outbox-status",
        )
        yield OutboxTable(COLUMNS, _cells, lambda row: row.id, id="outbox-table")
        yield Static("Loading…", id="outbox-counts", markup=False)
        yield Static("", id="outbox-line", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._query()
        self.query_one(PagedTable).focus()

    def _query(self) -> None:
        status = self.status
        self.query_one(PagedTable).set_source(
            lambda offset, limit: mail.outbox_page(status, offset, limit),
            lambda: mail.outbox_count(status),
        )
        self._load_counts()

    def _load_counts(self) -> None:
        db_work(self, mail.outbox_counts, on_success=self._show_counts, group="outbox-counts")

    def _show_counts(self, counts: dict[str, int]) -> None:
        self.counts = counts
        parts = [f"{counts[s]:,} {s}" for s in mail.STATUSES if counts.get(s)]
        self.query_one("#outbox-counts", Static).update(", ".join(parts) or "The outbox is empty.")

    @on(Select.Changed, "#outbox-status")
    def _status_chosen(self, event: Select.Changed) -> None:
        event.stop()
        value = event.value
        self.status = value if isinstance(value, str) else None
        self._query()

    def _show_status(self) -> None:
        table = self.query_one(PagedTable)
        marks = f" · {table.marks_text()}" if table.marks else ""
        self._line(f"{table.status_text()}{marks}")

    def _line(self, text: str) -> None:
        self.query_one("#outbox-line", Static).update(text)

    # ----- actions ------------------------------------------------------------------------

    def action_back(self) -> None:
        """Escape leaves the status filter first, then the screen."""
        if isinstance(self.focused, Select):
            self.set_focus(self.query_one(PagedTable))
            return
        if self.retrying:
            self.workers.cancel_group(self, "outbox-retry")
        self.dismiss()

    def action_focus_filter(self) -> None:
        self.set_focus(self.query_one("#outbox-status", Select))

    def action_refresh(self) -> None:
        self.query_one(PagedTable).reload()
        self._load_counts()

    def action_open(self) -> None:
        row = self.query_one(PagedTable).current_row
        if row is None:
            return
        from extgw_tui.screens.outbox_message import OutboxMessageModal

        db_work(
            self,
            mail.outbox_body,
            row.id,
            on_success=lambda body: self.app.push_screen(OutboxMessageModal(row, body)),
            group="outbox-read",
            exclusive=True,
        )

    def _chosen(self) -> set[int]:
        """The marked messages, or the one under the cursor when none is marked."""
        table = self.query_one(PagedTable)
        if table.marks:
            return set(table.marks)
        row = table.current_row
        return set() if row is None else {row.id}

    def action_retry(self) -> None:
        if self.retrying:
            self.notify("A retry is already running.")
            return
        ids = self._chosen()
        if not ids:
            return
        self.retrying = True
        self._line(f"Retrying {len(ids):,} message(s)… (escape stops)")
        self._retry(ids)

    @work(thread=True, group="outbox-retry", exclusive=True, exit_on_error=False)
    def _retry(self, ids: set[int]) -> None:
        worker = get_current_worker()
        try:
            with database.connection_context():
                summary = mail.retry_failed(
                    ids=ids,
                    progress=lambda n: post_to_ui(self, self._line, f"Retried {n:,}…"),
                    should_cancel=lambda: worker.is_cancelled,
                )
            text, severity = summary.text(), "warning" if summary.failed else "information"
            if summary.failures:
                text += " " + summary.failures[0].error
        except Exception as exc:  # every failure becomes a sentence
            text, severity = error_message(exc), "error"
        # to the app: the outcome is told even once escape has stopped the retry and left
        post_to_ui(self.app, self._retried, text, severity)

    def _retried(self, text: str, severity: str) -> None:
        self.retrying = False
        if text == "Nothing to retry.":
            text = "Nothing to retry: only failed messages (and queued ones once a mail server "
            text += "is set) are sent again; pending licence keys go from the Licence keys screen."
        self.notify(text, severity=severity, timeout=10)  # type: ignore[arg-type]
        if self.is_attached:
            self.query_one(PagedTable).set_marks(set())
            self.action_refresh()

    def action_discard(self) -> None:
        ids = self._chosen()
        if not ids:
            return
        table = self.query_one(PagedTable)
        what = f"the {len(ids):,} marked messages" if table.marks else "this message"
        question = (
            f"Discard {what}? Failed and queued ones will never be sent; "
            "sent and pending ones stay as they are."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                db_work(self, mail.discard_messages, ids, on_success=self._discarded)

        self.app.push_screen(
            ConfirmModal(question, title="Discard?", yes_label="Discard"), answered
        )

    def _discarded(self, count: int) -> None:
        self.notify(f"Discarded {count:,} message(s)." if count else "Nothing was discarded.")
        self.query_one(PagedTable).set_marks(set())
        self.action_refresh()
