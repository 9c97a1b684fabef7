"""The first screen when config.toml names several schools and none was chosen: pick one.

Keyboard first: up/down move, enter opens the highlighted school; q quits. Dismisses with the
chosen School; the app then opens its database.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from extgw_tui.db import redact_url
from extgw_tui.resources import stylesheet
from extgw_tui.services.schools import School


class SchoolPickerScreen(Screen[School]):
    """Which school's database to open, one line per `[schools.<name>]`."""

    TITLE = "Choose a school"
    CSS_PATH = stylesheet("school_picker.tcss")
    BINDINGS = [
        Binding(
            "enter",
            "open",
            "Open school",
            id="school_picker.open",
            tooltip="Open the highlighted school's database",
        ),
    ]

    def __init__(self, schools: list[School]) -> None:
        super().__init__()
        self.schools = schools

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="school-picker"):
            yield Static(
                f"{len(self.schools)} schools are configured. Which one? (up/down, then enter)",
                id="school-picker-hint",
            )
            yield OptionList(
                *(
                    Option(f"{s.label}  ({s.key}: {redact_url(s.database)})", id=s.key)
                    for s in self.schools
                ),
                id="school-list",
            )
        yield Footer()

    def on_mount(self) -> None:
        options = self.query_one("#school-list", OptionList)
        options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.schools[event.option_index])

    def action_open(self) -> None:
        index = self.query_one("#school-list", OptionList).highlighted
        if index is not None:
            self.dismiss(self.schools[index])
