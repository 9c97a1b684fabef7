"""Emailing one user: write, check, send in a worker, see what happened, retry without retyping.

Dismisses with True once the message was sent or queued in the local outbox, False otherwise.
The text stays in the form after a failure; escape asks before throwing typed text away, and
discarding a failed message marks it discarded so no later `outbox --retry` sends it.
"""

from __future__ import annotations

import math
import time

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static, TextArea

from extgw_tui.errors import InvalidInput
from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.dialog import Dialog
from extgw_tui.services import mail, users
from extgw_tui.text import noun
from extgw_tui.widgets.dbwork import db_work


def seconds(value: float) -> str:
    """ "1 second", "20 seconds", "0.5 seconds"."""
    return f"{value:g} {noun(value, 'second')}"


class SubjectInput(Input):
    """The one-line Subject box; it says so when a pasted text loses its other lines.

    No max_length: a too-long paste stays whole, and sending says how long it is.
    """

    class FirstLineKept(Message):
        """A multi-line text was pasted: only its first line went into the subject."""

    def on_paste(self, event: events.Paste) -> None:
        """Say so once Input has pasted the first line (its own handler runs after this one,
        and its Changed must come first: the notice lasts until the next edit)."""
        if len(event.text.splitlines()) > 1:
            self.call_next(self.post_message, self.FirstLineKept())


class EmailUserModal(Dialog[bool]):
    """To (the stored address), Subject, Body; Send and Cancel."""

    TITLE = "Email a user"

    CSS_PATH = stylesheet("email_user.tcss")
    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            tooltip="Close without sending (asks if you typed)",
            id="email.cancel",
        ),
        Binding(
            "ctrl+s",
            "send",
            "Send",
            tooltip="Send the message (Retry after a failure)",
            id="email.send",
        ),
    ]

    def __init__(self, user_id: int) -> None:
        super().__init__()
        self.user_id = user_id
        self._to = ""
        self._sending = False
        self._done = False
        self._failed_id: int | None = None
        self._wait = 0.0  # the longest a send may take (0: the local outbox)
        self._started = 0.0
        self._clear_on_edit = False

    def compose(self) -> ComposeResult:
        with Vertical(id="email-dialog", classes="dialog"):
            yield Static("Email a user", classes="dialog-title")
            yield Static("To: …", id="email-to", markup=False)
            yield Label("Subject")
            yield SubjectInput(id="email-subject", placeholder="Subject")
            yield Label("Message (tab leaves the box)")
            yield TextArea(id="email-body", soft_wrap=True, tab_behavior="focus")
            yield Static("", id="email-status", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send (ctrl+s)", id="send", variant="primary", disabled=True)
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#email-subject", Input).focus()
        db_work(self, users.user_row, self.user_id, on_success=self._loaded, on_error=self._gone)
        db_work(
            self,
            mail.delivery_wait,
            on_success=self._wait_known,
            on_error=lambda message: self._status(message, "error"),  # wrong SMTP settings
        )

    def _wait_known(self, seconds: float) -> None:
        self._wait = seconds

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

    def _status(self, text: str, kind: str = "", *, until_edit: bool = False) -> None:
        """Show one line of outcome; with until_edit, the next change to the text clears it."""
        self._clear_on_edit = until_edit
        status = self.query_one("#email-status", Static)
        status.set_classes(kind)
        status.update(text)

    def _edited(self) -> None:
        if self._clear_on_edit:
            self._status("")

    def on_input_changed(self, event: Input.Changed) -> None:
        self._edited()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._edited()

    def on_subject_input_first_line_kept(self, event: SubjectInput.FirstLineKept) -> None:
        self._status(
            "Only the first line of the pasted text was kept: a subject is one line.",
            "notice",
            until_edit=True,
        )

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
            self._status(str(exc), "error", until_edit=True)
            empty_subject = not self.subject.strip() or "subject" in str(exc).lower()
            self.query_one("#email-subject" if empty_subject else "#email-body").focus()
            return
        self._sending = True
        self._started = time.monotonic()
        self.query_one("#send", Button).disabled = True
        limit = f" This takes at most {seconds(self._wait)}." if self._wait else ""
        self._status(f"Sending to {self._to}…{limit}", "busy")
        if self._failed_id is None:
            call, args = mail.send_to_user, (self.user_id, self.subject, self.body)
        else:
            call, args = mail.retry_message, (self._failed_id, self.subject, self.body)
        db_work(self, call, *args, on_success=self._sent, on_error=self._refused, group="email")

    def _sent(self, result: mail.OutboxResult) -> None:
        """Show the outcome: done (sent, queued, or sent by another retry) or failed."""
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
        if self._failed_id is not None:
            return (
                f"the failed email to {self._to} "
                "(`extgw-tui outbox --retry` would still send it as last tried)"
            )
        if self._typed() and not self._done:
            return f"the email you are writing to {self._to or 'this user'}"
        return None

    def action_cancel(self) -> None:
        if self._sending:
            left = max(0.0, self._wait - (time.monotonic() - self._started))
            wait = f"at most {seconds(math.ceil(left))} more" if self._wait else "a moment"
            self._status(f"Still sending to {self._to}: please wait, {wait}.", "busy")
            return
        if self._done:
            self.dismiss(True)
        elif self._failed_id is not None:
            self.app.push_screen(
                ConfirmModal(
                    f"Discard the message to {self._to}? It was not sent, and no retry will "
                    "send it: the outbox keeps it as discarded.",
                    title="Discard message?",
                    yes_label="Discard",
                ),
                self._discard_answered,
            )
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

    def _discard_answered(self, discard: bool | None) -> None:
        if discard and self._failed_id is not None:
            db_work(
                self,
                mail.discard_message,
                self._failed_id,
                on_success=self._discarded,
                on_error=self._refused,
                group="email",
            )

    def _discarded(self, result: mail.OutboxResult) -> None:
        if result.status == mail.DISCARDED:
            self.app.notify(result.summary())
            self.dismiss(False)
        else:  # another admin's retry sent it first: show that, as after a send
            self._sent(result)
