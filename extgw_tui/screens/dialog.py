"""The base of every dialog: the keys that work everywhere, and what quitting would lose.

Textual stops a modal screen's key bindings at the modal, so the app's `?`/F1 help would not
reach a dialog; each dialog binds it again here. `unsaved_work()` lets the app ask before
ctrl+q throws away something the administrator typed.
"""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen

ResultType = TypeVar("ResultType")


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

    def unsaved_work(self) -> str | None:
        """What quitting now would lose, as a phrase ("the email to x@y"), or None."""
        return None
