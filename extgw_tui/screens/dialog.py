"""The base of every dialog: the box (styles/dialog.tcss), the keys that work everywhere, and
what quitting would lose.

Textual stops a modal screen's key bindings at the modal, so the app's `?`/F1 help would not
reach a dialog; each dialog binds it again here. `unsaved_work()` lets the app ask before
ctrl+q throws away something the administrator typed. Every Dialog loads DIALOG_CSS before
its own CSS_PATH, so a dialog's .tcss holds only what differs from the shared box.
"""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen

from extgw_tui.resources import stylesheet

ResultType = TypeVar("ResultType")

#: The dialog box, its title and its buttons, written once.
DIALOG_CSS = stylesheet("dialog.tcss")


class Dialog(ModalScreen[ResultType]):
    """A modal dialog of extgw-tui."""

    BINDINGS = [
        Binding(
            "question_mark,f1",
            "app.help",
            "Help",
            tooltip="Help: the keys of this dialog",
            key_display="?",
            show=False,
            id="app.help",
        ),
    ]

    def __init__(
        self, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        if DIALOG_CSS not in self.css_path:
            self.css_path = [DIALOG_CSS, *self.css_path]

    def unsaved_work(self) -> str | None:
        """What quitting now would lose, as a phrase ("the email to x@y"), or None."""
        return None
