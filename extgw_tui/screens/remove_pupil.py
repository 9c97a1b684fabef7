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
from extgw_tui.screens.dialog import Dialog
from extgw_tui.services import licences, users
from extgw_tui.services.licences import LinkedPupil
from extgw_tui.widgets.dbwork import db_work


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


def fill_pupils(table: DataTable, pupils: list[LinkedPupil]) -> None:
    """Show the pupils, keyed by pupil id, with the licence types held for each.

    The cursor stays on the same row number (the last row if the list got shorter), so after a
    removal it rests on the pupil that followed rather than jumping to the top.
    """
    row = table.cursor_row
    table.clear()
    for pupil in pupils:
        table.add_row(
            pupil.name,
            pupil.year_label,
            pupil.form,
            ", ".join(pupil.licence_types),
            key=str(pupil.pupil_id),
        )
    if pupils:
        table.move_cursor(row=min(max(row, 0), len(pupils) - 1), animate=False)


def add_pupil_columns(table: DataTable) -> None:
    table.cursor_type = "row"
    table.zebra_stripes = True
    table.add_column("Pupil", width=24)
    table.add_column("Year", width=8)
    table.add_column("Form", width=6)
    table.add_column("Licence types", width=24)


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
        f"({', '.join(pupil.licence_types)} licence{'s' if len(pupil.licence_types) > 1 else ''})."
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
            yield DataTable(id="remove-pupils")
            yield Static("", id="remove-status", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Remove (r)", id="remove", variant="error", disabled=True)
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        add_pupil_columns(self.query_one(DataTable))
        self.query_one(DataTable).focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        db_work(self, load_account, self.user_id, on_success=self._show, on_error=self._problem)

    def _show(self, account: tuple[users.UserRow, list[LinkedPupil]]) -> None:
        self._holder, self._pupils = account
        fill_pupils(self.query_one(DataTable), self._pupils)
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
        table = self.query_one(DataTable)
        if self._holder is None or not self._pupils or table.cursor_row >= len(self._pupils):
            return
        pupil = self._pupils[table.cursor_row]
        confirm_removal(self, self._holder, pupil, lambda: self.dismiss(True), self._after_error)

    def _after_error(self, message: str) -> None:
        """Show the list as it is now, with the reason the removal did not happen."""

        def refreshed(account: tuple[users.UserRow, list[LinkedPupil]]) -> None:
            self._show(account)
            self._status(message)

        db_work(self, load_account, self.user_id, on_success=refreshed, on_error=self._problem)

    def action_close(self) -> None:
        self.dismiss(False)
