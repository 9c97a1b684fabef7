"""A yes/no confirmation: y or enter confirms, n or escape declines."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from extgw_tui.resources import stylesheet
from extgw_tui.screens.dialog import Dialog


class ConfirmModal(Dialog[bool]):
    """Ask before a change; dismisses with True only on an explicit yes."""

    TITLE = "Please confirm"
    CSS_PATH = stylesheet("confirm.tcss")

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", show=True, id="confirm.yes"),
        Binding("n", "answer(False)", "No", show=True, id="confirm.no"),
        Binding("escape", "answer(False)", "Cancel", show=False, id="confirm.cancel"),
    ]

    def __init__(
        self, question: str, *, title: str = "Please confirm", yes_label: str = "Yes"
    ) -> None:
        super().__init__()
        self.question = question
        self.title_text = title
        self.yes_label = yes_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(self.title_text, classes="dialog-title")
            yield Static(self.question, id="confirm-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes_label} (y)", id="yes", variant="error")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()  # enter presses the default button (keymap)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
