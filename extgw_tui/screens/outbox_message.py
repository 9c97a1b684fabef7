"""One outbox message in full: the list shows only its first line."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from extgw_tui.resources import stylesheet
from extgw_tui.screens.dialog import Dialog
from extgw_tui.services.mail import OutboxRow


class OutboxMessageModal(Dialog[None]):
    """Headers, what became of it, and the text; escape or enter closes it."""

    TITLE = "Outbox message"
    CSS_PATH = stylesheet("outbox_message.tcss")
    BINDINGS = [
        Binding("escape", "close", "Close", id="outbox_message.close"),
        Binding("enter", "close", "Close", show=False, id="outbox_message.close_enter"),
    ]

    def __init__(self, row: OutboxRow, body: str) -> None:
        super().__init__()
        self.row = row
        self.body = body

    def compose(self) -> ComposeResult:
        row = self.row
        fields = [
            ("To", row.to_addr),
            ("Subject", row.subject),
            ("Status", row.status),
            ("Created", row.created_at.strftime("%Y-%m-%d %H:%M:%S")),
            ("Sent", row.sent_at.strftime("%Y-%m-%d %H:%M:%S") if row.sent_at else ""),
            ("Tries", str(row.attempts)),
            ("Admin", row.admin),
            ("Error", row.error),
            ("File", row.eml_path),
        ]
        with Vertical(id="outbox-message-dialog", classes="dialog"):
            yield Static("Outbox message", classes="dialog-title")
            with VerticalScroll(id="outbox-message-text"):
                for label, value in fields:
                    if value:
                        with Horizontal(classes="outbox-message-field"):
                            yield Static(label, classes="outbox-message-label", markup=False)
                            yield Static(value, classes="outbox-message-value", markup=False)
                yield Static(self.body, id="outbox-message-body", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close (esc)", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#outbox-message-text").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
