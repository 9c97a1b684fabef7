"""What a click on a row's Actions cell offers: Edit or Remove, as in the original page."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from extgw_tui.resources import stylesheet
from extgw_tui.screens.dialog import Dialog


class RowActionsModal(Dialog[str | None]):
    """Dismisses with "edit", "remove" or "email", or None when cancelled."""

    TITLE = "Actions"

    CSS_PATH = stylesheet("row_actions.tcss")
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without choosing", id="row.cancel"),
        Binding(
            "e",
            "choose('edit')",
            "Edit",
            show=False,
            tooltip="Edit: pupils, licences, login statistics",
            id="row.edit",
        ),
        Binding(
            "r",
            "choose('remove')",
            "Remove",
            show=False,
            tooltip="Remove a pupil from this account",
            id="row.remove_pupil",
        ),
        Binding(
            "m", "choose('email')", "Email", show=False, tooltip="Email this user", id="row.email"
        ),
    ]

    def __init__(self, who: str) -> None:
        super().__init__()
        self.who = who

    def compose(self) -> ComposeResult:
        with Vertical(id="row-actions-dialog", classes="dialog"):
            yield Static(self.who, classes="dialog-title")
            yield OptionList(
                Option("Edit: pupils, licences, login statistics (e)", id="edit"),
                Option("Remove a pupil from this account (r)", id="remove"),
                Option("Email this user (m)", id="email"),
                id="row-actions",
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

    def action_cancel(self) -> None:
        self.dismiss(None)
