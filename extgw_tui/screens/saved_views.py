"""Saved views: name the current search, or pick a saved one to search again.

Returns the search to show (a picked view's), or None. The list is the acting administrator's
own; the database work runs in workers.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from extgw_tui.resources import stylesheet
from extgw_tui.screens.dialog import Dialog
from extgw_tui.services import saved_views
from extgw_tui.widgets.dbwork import db_work


class SavedViewsModal(Dialog[str | None]):
    CSS_PATH = stylesheet("saved_views.tcss")
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="views.close"),
        Binding(
            "delete",
            "delete_view",
            "Delete the view",
            id="views.delete",
            tooltip="Delete the highlighted saved view",
        ),
    ]

    def __init__(self, search: str) -> None:
        super().__init__()
        self.search = search
        self.views: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="views-dialog", classes="dialog"):
            yield Static("Saved views", classes="dialog-title")
            yield Static(
                f"Current search: {self.search or '(none)'}", id="views-current", markup=False
            )
            yield Input(
                placeholder="a name for the current search, then enter",
                id="view-name",
                max_length=saved_views.MAX_NAME,
            )
            yield OptionList(id="views-list")
            yield Static(
                "enter on a view searches it · delete removes it · escape closes",
                id="views-hint",
            )

    def on_mount(self) -> None:
        self._load()
        self.query_one("#view-name" if self.search.strip() else "#views-list").focus()

    def _load(self) -> None:
        db_work(self, saved_views.list_views, on_success=self._show, group="views", exclusive=True)

    def _show(self, views: list[tuple[str, str]]) -> None:
        self.views = dict(views)
        options = self.query_one("#views-list", OptionList)
        options.clear_options()
        for name, search in views:
            options.add_option(Option(f"{name}  —  {search}", id=name))
        if views:
            options.highlighted = 0
        else:
            options.add_option(Option("No saved views yet.", disabled=True))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = event.value

        def saved(_: None) -> None:
            self.notify(f"Saved the view {name.strip()!r}.")
            self.query_one("#view-name", Input).value = ""
            self._load()

        db_work(self, saved_views.save_view, name, self.search, on_success=saved, group="views")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id in self.views:
            self.dismiss(self.views[event.option.id])

    def action_delete_view(self) -> None:
        options = self.query_one("#views-list", OptionList)
        option = options.highlighted_option
        if option is None or option.id is None:
            return
        db_work(
            self,
            saved_views.delete_view,
            option.id,
            on_success=lambda _: self._load(),
            group="views",
        )
