"""The key email as one real contact would get it (with a sample key that is not stored)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from extgw_tui.resources import stylesheet
from extgw_tui.screens.dialog import Dialog
from extgw_tui.services.key_mail import Preview


class KeyPreviewModal(Dialog[None]):
    CSS_PATH = stylesheet("key_generate.tcss")
    TITLE = "Email preview"
    BINDINGS = [
        Binding("escape,enter", "close", "Close", tooltip="Close the preview", id="keyprev.close")
    ]

    def __init__(self, preview: Preview) -> None:
        super().__init__()
        self.preview = preview

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="keyprev-dialog", classes="dialog"):
            yield Static("Email preview (the key shown is a sample)", classes="dialog-title")
            yield Static(f"To: {self.preview.to}", markup=False)
            yield Static(f"Subject: {self.preview.subject}", markup=False)
            yield Static(self.preview.body, id="keyprev-body", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close (esc)", id="keyprev-close")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
