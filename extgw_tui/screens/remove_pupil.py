"""Removing a pupil from an account: the chooser (the question and the removal are
screens/pupil_removal.py's, shared with the Edit modal)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Static

from extgw_tui.resources import stylesheet
from extgw_tui.screens.dialog import Dialog
from extgw_tui.screens.pupil_removal import confirm_removal, holder_label, load_account
from extgw_tui.services import users
from extgw_tui.services.licences import LinkedPupil
from extgw_tui.widgets.dbwork import db_work
from extgw_tui.widgets.pupil_table import PupilTable


class RemovePupilModal(Dialog[bool]):
    """Pick one of the user's pupils and remove it; dismisses with True once one is removed."""

    TITLE = "Remove a pupil"

    CSS_PATH = stylesheet("remove_pupil.tcss")
    BINDINGS = [
        Binding(
            "escape", "close", "Close", tooltip="Close without removing anything", id="remove.close"
        ),
        Binding(
            "r",
            "remove",
            "Remove pupil",
            tooltip="Remove the highlighted pupil (asks first)",
            id="remove.remove_pupil",
        ),
        Binding(
            "ctrl+r,f5",
            "refresh",
            "Refresh",
            tooltip="Reload the account's pupils",
            id="app.refresh",
        ),
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
