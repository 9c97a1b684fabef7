"""Removing a pupil from an account: the chooser, and the one confirmation both modals use.

The confirmation names the pupil, their form and the account holder, so the admin sees exactly
whose access ends; the removal (licences.remove_pupil: one transaction and an audit entry)
runs in a worker.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Static

from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.dbwork import db_work
from extgw_tui.screens.dialog import Dialog
from extgw_tui.services import licences, users
from extgw_tui.services.licences import LinkedPupil
from extgw_tui.text import noun
from extgw_tui.widgets.pupil_table import PupilTable


def holder_label(row: users.UserRow) -> str:
    """The account holder as the admin knows them: name and address."""
    name = " ".join(p for p in (row.title, row.forename, row.surname) if p)
    return f"{name} <{row.email}>"


def pupil_label(pupil: LinkedPupil) -> str:
    """The pupil with their form and year, e.g. "Amy Jones (form 7B, Year 7)"."""
    form = f"form {pupil.form}" if pupil.form else ""
    where = ", ".join(part for part in (form, pupil.year_label) if part)
    return f"{pupil.name} ({where})" if where else pupil.name


def load_account(user_id: int) -> tuple[users.UserRow, list[LinkedPupil]]:
    """The holder and their pupils (runs in a worker)."""
    return users.user_row(user_id), licences.user_pupils(user_id)


def confirm_removal(
    screen: Screen,
    holder: users.UserRow,
    pupil: LinkedPupil,
    on_removed: Callable[[], None],
    on_failed: Callable[[str], None],
) -> None:
    """Ask, then remove the pupil from the holder's account; report through the callbacks."""
    question = (
        f"Remove {pupil_label(pupil)} from the account of {holder_label(holder)}?\n"
        f"They will no longer see this pupil in the portal "
        f"({', '.join(pupil.licence_types)} {noun(len(pupil.licence_types), 'licence')})."
    )

    def answered(yes: bool | None) -> None:
        if not yes:
            return

        def removed(_: int) -> None:
            screen.app.notify(f"Removed {pupil.name} from {holder.email}.")
            on_removed()

        db_work(
            screen,
            licences.remove_pupil,
            holder.id,
            pupil.pupil_id,
            on_success=removed,
            on_error=on_failed,
            group="remove-pupil",
        )

    screen.app.push_screen(
        ConfirmModal(question, title="Remove pupil?", yes_label="Remove"), answered
    )


class RemovePupilModal(Dialog[bool]):
    """Pick one of the user's pupils and remove it; dismisses with True once one is removed."""

    TITLE = "Remove a pupil"

    CSS_PATH = stylesheet("remove_pupil.tcss")
    BINDINGS = [
        Binding("escape", "close", "Close", tooltip="Close without removing anything"),
        Binding("r", "remove", "Remove pupil", tooltip="Remove the highlighted pupil (asks first)"),
        Binding("ctrl+r,f5", "refresh", "Refresh", tooltip="Reload the account's pupils"),
    ]

    def __init__(self, user_id: int) -> None:
        super().__init__()
        self.user_id = user_id
        self._holder: users.UserRow | None = None
        self._pupils: list[LinkedPupil] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="remove-dialog", classes="dialog"):
            yield Static("Remove a pupil from an account", classes="dialog-title")
            yield Static("Loading…", id="remove-holder", markup=False)
            yield PupilTable(id="remove-pupils")
            yield Static("", id="remove-status", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Remove (r)", id="remove", variant="error", disabled=True)
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one(PupilTable).focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        db_work(self, load_account, self.user_id, on_success=self._show, on_error=self._problem)

    def _show(self, account: tuple[users.UserRow, list[LinkedPupil]]) -> None:
        self._holder, self._pupils = account
        self.query_one(PupilTable).show(self._pupils)
        holder = holder_label(self._holder)
        if self._pupils:
            count = len(self._pupils)
            self._status(f"Choose the pupil to remove (up/down, then enter or r): {count} linked.")
        else:
            self._status("This account has no pupils to remove.")
        self.query_one("#remove-holder", Static).update(f"Account: {holder}")
        self.query_one("#remove", Button).disabled = not self._pupils

    def _problem(self, message: str) -> None:
        self._status(message)

    def _status(self, text: str) -> None:
        self.query_one("#remove-status", Static).update(text)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_remove()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "remove":
            self.action_remove()
        else:
            self.action_close()

    def action_remove(self) -> None:
        pupil = self.query_one(PupilTable).current_pupil
        if self._holder is None or pupil is None:
            return
        confirm_removal(self, self._holder, pupil, lambda: self.dismiss(True), self._after_error)

    def _after_error(self, message: str) -> None:
        """Show the list as it is now, with the reason the removal did not happen."""

        def refreshed(account: tuple[users.UserRow, list[LinkedPupil]]) -> None:
            self._show(account)
            self._status(message)

        db_work(self, load_account, self.user_id, on_success=refreshed, on_error=self._problem)

    def action_close(self) -> None:
        self.dismiss(False)
