"""Emailing one user: write, check, send in a worker, see what happened, retry without retyping.

Dismisses with True once the message was sent or queued in the local outbox, False otherwise.
The text stays in the form after a failure; escape asks before throwing typed text away.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static, TextArea

from extgw_tui.errors import InvalidInput
from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.dbwork import db_work
from extgw_tui.screens.dialog import Dialog
from extgw_tui.services import mail, users


class EmailUserModal(Dialog[bool]):
    """To (the stored address), Subject, Body; Send and Cancel."""

    TITLE = "Email a user"

    CSS_PATH = stylesheet("email_user.tcss")
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "send", "Send"),
    ]

    def __init__(self, user_id: int) -> None:
        super().__init__()
        self.user_id = user_id
        self._to = ""
        self._sending = False
        self._done = False
        self._failed_id: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="email-dialog", classes="dialog"):
            yield Static("Email a user", classes="dialog-title")
            yield Static("To: …", id="email-to", markup=False)
            yield Label("Subject")
            yield Input(id="email-subject", placeholder="Subject", max_length=mail.MAX_SUBJECT)
            yield Label("Message (tab leaves the box)")
            yield TextArea(id="email-body", soft_wrap=True, tab_behavior="focus")
            yield Static("", id="email-status", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send (ctrl+s)", id="send", variant="primary", disabled=True)
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#email-subject", Input).focus()
        db_work(self, users.user_row, self.user_id, on_success=self._loaded, on_error=self._gone)

    def _loaded(self, row: users.UserRow) -> None:
        self._to = row.email
        name = " ".join(p for p in (row.title, row.forename, row.surname) if p)
        self.query_one("#email-to", Static).update(f"To: {row.email}  ({name})")
        self.query_one("#send", Button).disabled = False

    def _gone(self, message: str) -> None:
        self.query_one("#email-to", Static).update("To: (unknown)")
        self._status(message, "error")

    # -- reading the form -------------------------------------------------------------------

    @property
    def subject(self) -> str:
        return self.query_one("#email-subject", Input).value

    @property
    def body(self) -> str:
        return self.query_one("#email-body", TextArea).text

    def _typed(self) -> bool:
        return bool(self.subject.strip() or self.body.strip())

    def _status(self, text: str, kind: str = "") -> None:
        status = self.query_one("#email-status", Static)
        status.set_classes(kind)
        status.update(text)

    # -- sending ----------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_send()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "send":
            self.action_send()
        else:
            self.action_cancel()

    def action_send(self) -> None:
        if self._sending or self._done or not self._to:
            return
        try:
            mail.validate(self._to, self.subject, self.body)
        except InvalidInput as exc:
            self._status(str(exc), "error")
            empty_subject = not self.subject.strip() or "subject" in str(exc).lower()
            self.query_one("#email-subject" if empty_subject else "#email-body").focus()
            return
        self._sending = True
        self.query_one("#send", Button).disabled = True
        self._status(f"Sending to {self._to}…", "busy")
        if self._failed_id is None:
            call, args = mail.send_to_user, (self.user_id, self.subject, self.body)
        else:
            call, args = mail.retry_message, (self._failed_id, self.subject, self.body)
        db_work(self, call, *args, on_success=self._sent, on_error=self._refused, group="email")

    def _sent(self, result: mail.OutboxResult) -> None:
        self._sending = False
        send = self.query_one("#send", Button)
        if result.ok:
            self._done = True
            self._failed_id = None
            self._status(result.summary(), "ok")
            send.display = False
            self.query_one("#email-subject", Input).disabled = True
            self.query_one("#email-body", TextArea).read_only = True
            cancel = self.query_one("#cancel", Button)
            cancel.label = "Close (esc)"
            cancel.focus()
            return
        self._failed_id = result.outbox_id
        self._status(f"{result.summary()} The text is kept: press Retry to try again.", "error")
        send.label = "Retry (ctrl+s)"
        send.disabled = False
        send.focus()

    def _refused(self, message: str) -> None:
        """Nothing was sent or recorded (settings, validation, a deleted user): say why."""
        self._sending = False
        self.query_one("#send", Button).disabled = False
        self._status(message, "error")

    # -- leaving ----------------------------------------------------------------------------

    def unsaved_work(self) -> str | None:
        if self._sending:
            return f"the email being sent to {self._to} (it may not arrive)"
        if self._typed() and not self._done:
            return f"the email you are writing to {self._to or 'this user'}"
        return None

    def action_cancel(self) -> None:
        if self._sending:
            self._status(f"Sending to {self._to}… please wait for the mail server.", "busy")
            return
        if self._done:
            self.dismiss(True)
        elif self._typed():
            self.app.push_screen(
                ConfirmModal(
                    "Discard the message you typed? It has not been sent.",
                    title="Discard message?",
                    yes_label="Discard",
                ),
                lambda discard: self.dismiss(False) if discard else None,
            )
        else:
            self.dismiss(False)
