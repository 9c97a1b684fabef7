"""The school's settings (the original product's "Edit settings"): names, addresses, the portal.

Turning the external login off or on asks first (every parent is locked out, or let back in)
and is audited like every other change; a setting fixed in config.toml shows read-only.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Static

from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.dialog import Dialog
from extgw_tui.services import school_settings
from extgw_tui.services.school_settings import BOOLEANS, LABELS, NAMES, SchoolSettings
from extgw_tui.widgets.dbwork import db_work

HINTS = {
    "school_name": "shown in the messages the portal sends",
    "bounce_address": "envelope sender of every message: error receipts (bounces) go here",
    "registration_address": "printed in the licence key letters: where parents register",
    "maintenance_message": "what parents read while the external login is disabled",
    "login_disabled": "every login and registration refused; signed-in sessions pause",
    "end_sessions_without_pupils": "an account left without pupils is signed out and refused",
}

#: Shown in an empty field, so it can be seen without colour (NO_COLOR) too.
PLACEHOLDERS = {
    "school_name": "(none) e.g. Hillside Academy",
    "bounce_address": "(none: the sender's address) e.g. bounces@hillside.example",
    "registration_address": "(none) e.g. https://portal.hillside.example/register",
}


class SettingsModal(Dialog[bool]):
    """Edit the settings; dismisses with True when something was saved."""

    TITLE = "Settings"
    CSS_PATH = stylesheet("settings.tcss")
    BINDINGS = [
        Binding(
            "escape",
            "close",
            "Close",
            tooltip="Close without saving (asks if changed)",
            id="settings.close",
        ),
        Binding("ctrl+s", "save", "Save", tooltip="Save the settings", id="settings.save"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.loaded: SchoolSettings | None = None
        self.fixed: set[str] = set()

    def compose(self) -> ComposeResult:
        with Vertical(id="settings-dialog", classes="dialog"):
            yield Static("Settings", classes="dialog-title")
            with VerticalScroll(id="settings-body"):
                for name in NAMES:
                    if name in BOOLEANS:
                        yield Checkbox(LABELS[name], id=f"set-{name}", compact=True)
                    else:
                        yield Static(LABELS[name], classes="settings-label")
                        yield Input(
                            id=f"set-{name}",
                            compact=True,
                            max_length=300,
                            placeholder=PLACEHOLDERS.get(name, ""),
                        )
                    yield Static(HINTS[name], id=f"hint-{name}", classes="settings-hint")
            yield Static("", id="settings-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#settings-status", Static).update("Loading…")
        db_work(self, _load, on_success=self._show, on_error=self._failed)

    def _show(self, loaded: tuple[SchoolSettings, set[str]]) -> None:
        self.loaded, self.fixed = loaded
        for name in NAMES:
            widget = self.query_one(f"#set-{name}")
            value = getattr(self.loaded, name)
            if isinstance(widget, Checkbox):
                widget.value = bool(value)
            else:
                widget.value = str(value)  # type: ignore[attr-defined]
            if name in self.fixed:
                widget.disabled = True
                self.query_one(f"#hint-{name}", Static).update(
                    f"{HINTS[name]} (fixed in config.toml)"
                )
        self.query_one("#settings-status", Static).update("")
        editable = [name for name in NAMES if name not in self.fixed]
        if editable:
            self.query_one(f"#set-{editable[0]}").focus()

    def _failed(self, message: str) -> None:
        self.query_one("#settings-status", Static).update(message)

    def _typed(self) -> dict:
        values = {}
        for name in NAMES:
            if name in self.fixed:
                continue
            widget = self.query_one(f"#set-{name}")
            values[name] = widget.value  # type: ignore[attr-defined]
        return values

    def _changes(self) -> dict:
        if self.loaded is None:
            return {}
        return {
            name: value
            for name, value in self._typed().items()
            if (value.strip() if isinstance(value, str) else value) != getattr(self.loaded, name)
        }

    def unsaved_work(self) -> str | None:
        return "the changed settings" if self._changes() else None

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_close()

    def action_save(self) -> None:
        changes = self._changes()
        if self.loaded is None:
            return
        if not changes:
            self.notify("Nothing has changed.")
            return
        if "login_disabled" not in changes:
            self._save(changes)
            return
        if changes["login_disabled"]:
            question = (
                "Disable the external login? Every login and registration is refused with "
                "the maintenance message, and signed-in parents are paused until it is on again."
            )
        else:
            question = "Enable the external login again? Parents can log in and register."

        def answered(yes: bool | None) -> None:
            if yes:
                self._save(changes)

        self.app.push_screen(ConfirmModal(question, title="External login"), answered)

    def _save(self, changes: dict) -> None:
        self.query_one("#settings-status", Static).update("Saving…")

        def saved(result: SchoolSettings) -> None:
            self.notify("Settings saved.")
            self.dismiss(True)

        db_work(self, school_settings.save, changes, on_success=saved, on_error=self._failed)

    def action_close(self) -> None:
        if not self._changes():
            self.dismiss(False)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(False)

        self.app.push_screen(
            ConfirmModal("Close without saving the changed settings?", yes_label="Discard"),
            answered,
        )


def _load() -> tuple[SchoolSettings, set[str]]:
    return school_settings.load(), set(school_settings.fixed_in_config())
