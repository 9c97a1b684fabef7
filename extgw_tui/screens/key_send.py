"""Send a batch's key emails, with progress; escape stops after the message in flight.

What has gone never goes again (services/key_mail), so stopping and sending later, or a
failure and a retry, never sends a key twice to an address.
"""

from __future__ import annotations

import threading

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, ProgressBar, Static

from extgw_tui.resources import stylesheet
from extgw_tui.screens.dialog import Dialog
from extgw_tui.services import key_mail
from extgw_tui.widgets.dbwork import db_work
from extgw_tui.widgets.to_ui import post_to_ui


class SendKeysModal(Dialog[None]):
    CSS_PATH = stylesheet("key_generate.tcss")
    TITLE = "Send key emails"
    BINDINGS = [
        Binding("enter", "send", "Send", tooltip="Send the waiting emails", id="keysend.send"),
        Binding("escape", "close", "Close", tooltip="Stop sending, or close", id="keysend.close"),
    ]

    def __init__(self, batch_id: int) -> None:
        super().__init__()
        self.batch_id = batch_id
        self.stop = threading.Event()
        self.running = False
        self.waiting = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="keysend-dialog", classes="dialog"):
            yield Static(f"Send the key emails of batch {self.batch_id}", classes="dialog-title")
            yield Static("Counting…", id="keysend-status", markup=False)
            yield ProgressBar(total=None, show_eta=False, id="keysend-progress")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send (enter)", id="keysend-go", variant="primary", disabled=True)
                yield Button("Close (esc)", id="keysend-close")

    def on_mount(self) -> None:
        db_work(
            self,
            key_mail.waiting_count,
            self.batch_id,
            on_success=self._counted,
            on_error=self._status,
        )

    def _counted(self, waiting: int) -> None:
        self.waiting = waiting
        go = self.query_one("#keysend-go", Button)
        go.disabled = not waiting
        self._status(
            f"{waiting:,} email(s) to send (new, failed, or queued while no server was set)."
            if waiting
            else "Nothing to send: every key email of this batch has gone."
        )
        (go if waiting else self.query_one("#keysend-close", Button)).focus()

    def _status(self, text: str) -> None:
        self.query_one("#keysend-status", Static).update(text)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_send() if event.button.id == "keysend-go" else self.action_close()

    def action_send(self) -> None:
        if self.running or not self.waiting:
            return
        self.running = True
        self.stop.clear()
        self.query_one("#keysend-go", Button).disabled = True
        self.query_one("#keysend-close", Button).label = "Stop (esc)"
        bar = self.query_one("#keysend-progress", ProgressBar)
        bar.update(total=self.waiting, progress=0)
        self._status("Sending…  escape stops after the message in flight.")
        db_work(
            self,
            key_mail.send_batch,
            self.batch_id,
            progress=lambda done: post_to_ui(self, self._progress, done),
            should_cancel=self.stop.is_set,
            on_success=self._sent,
            on_error=self._failed,
            group="keysend",
        )

    def _progress(self, done: int) -> None:
        self.query_one("#keysend-progress", ProgressBar).update(progress=done)

    def _sent(self, summary: key_mail.SendSummary) -> None:
        self.running = False
        self.query_one("#keysend-close", Button).label = "Close (esc)"
        text = summary.text()
        if summary.errors:
            text += "\n" + "\n".join(summary.errors[:3])
        if self.stop.is_set():
            text = "Stopped. " + text + " m sends the rest later."
        self._status(text)
        self.query_one("#keysend-close", Button).focus()

    def _failed(self, message: str) -> None:
        self.running = False
        self.query_one("#keysend-close", Button).label = "Close (esc)"
        self._status(message)

    def action_close(self) -> None:
        if self.running:
            self.stop.set()
            self._status("Stopping after the message in flight…")
            return
        self.dismiss(None)

    def unsaved_work(self) -> str | None:
        return "the key emails being sent" if self.running else None
