"""One activity-log entry in full: the list cuts long targets and details to fit a line."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from extgw_tui.resources import stylesheet
from extgw_tui.screens.dialog import Dialog
from extgw_tui.services.activity import ActivityRow


class ActivityEntryModal(Dialog[None]):
    """Every field of one audit entry; escape or enter closes it."""

    TITLE = "Activity entry"

    CSS_PATH = stylesheet("activity_entry.tcss")
    BINDINGS = [
        Binding("escape", "close", "Close", id="entry.close"),
        Binding("enter", "close", "Close", show=False, id="entry.ok"),
    ]

    def __init__(self, row: ActivityRow) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        row = self.row
        fields = [
            ("When", row.at.strftime("%Y-%m-%d %H:%M:%S")),
            ("Admin", row.admin),
            ("Action", row.action),
            ("User ID", "" if row.user_id is None else str(row.user_id)),
            ("Target", row.target),
            ("Outcome", row.outcome),
            ("Detail", row.detail),
            ("Batch", row.batch),
            ("Entry", str(row.id)),
        ]
        with Vertical(id="activity-entry-dialog", classes="dialog"):
            yield Static("Activity log entry", classes="activity-entry-title")
            with VerticalScroll(id="activity-entry-fields"):
                for label, value in fields:
                    with Horizontal(classes="activity-entry-field"):
                        yield Static(label, classes="activity-entry-label", markup=False)
                        yield Static(value or "—", classes="activity-entry-value", markup=False)
            with Horizontal(classes="activity-entry-buttons"):
                yield Button("Close (esc)", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#activity-entry-fields").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
