"""The terminal app: the users screen, the global keys, and no traceback on screen, ever.

An unexpected exception is logged with its traceback (extgw_tui.logs) and shown as one error
notification; the app keeps running. The command palette lists every action of the current
screen by name, taken from the same bindings as the `?` help.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from textual.app import App, InvalidThemeError, SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from extgw_tui.db import redact_url
from extgw_tui.models import database
from extgw_tui.resources import stylesheet
from extgw_tui.screens.dbwork import error_message
from extgw_tui.screens.help import HelpScreen, screen_actions
from extgw_tui.services import audit

#: Exit code when the app could not even start (matches cli.EXIT_BUG).
EXIT_BUG = 3


class ExtgwApp(App[None]):
    """External Gateway users, for a school administrator, keyboard first."""

    CSS_PATH = stylesheet("app.tcss")
    TITLE = "External users"
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help: keys of this screen"),
        Binding("ctrl+r,f5", "refresh", "Refresh from the database", show=False),
        Binding("q", "quit_key", "Quit", show=False),
    ]

    def __init__(self, db_url: str, theme_name: str | None = None) -> None:
        super().__init__()
        self.db_url = db_url
        self.sub_title = f"{redact_url(db_url)} · admin {audit.current_admin()}"
        self._theme_problem = ""
        if theme_name:
            try:
                self.theme = theme_name
            except InvalidThemeError:
                self._theme_problem = f"There is no theme called {theme_name!r}; using the default."

    def on_mount(self) -> None:
        if database.obj is None:  # opened by the CLI; a bare ExtgwApp(url) opens it here
            from extgw_tui.db import open_database

            open_database(self.db_url)
        from extgw_tui.screens.users import UsersScreen

        self.push_screen(UsersScreen())
        if self._theme_problem:
            self.notify(self._theme_problem, severity="warning")

    # ----- global actions -----------------------------------------------------------------

    def action_help(self) -> None:
        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        title = screen.title or screen.__class__.__name__
        self.push_screen(HelpScreen(title, screen_actions(screen)))

    async def action_refresh(self) -> None:
        """Hand ctrl+r / F5 to the screen when it has no binding of its own for them."""
        if hasattr(self.screen, "action_refresh"):
            await self.run_action("refresh", self.screen)

    def action_quit_key(self) -> None:
        self.exit()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "quit_key" and isinstance(self.screen, ModalScreen):
            return False  # `q` answers or types in a dialog; ctrl+q still quits
        return action != "refresh" or hasattr(self.screen, "action_refresh")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        seen = {"help", "quit_key", "command_palette"}
        for item in screen_actions(screen):
            if item.action in seen and item.node is self:
                continue
            yield SystemCommand(
                item.description,
                f"key: {item.keys}",
                partial(self.run_action, item.action, item.node),
            )

    # ----- no tracebacks ------------------------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """Log the traceback, tell the admin in one line, keep running where possible."""
        message = error_message(error)  # logs anything that is not an ExtgwError
        if not self.is_running or not self.screen_stack:
            self.exit(return_code=EXIT_BUG, message=message)
            return
        self.notify(message, severity="error", timeout=10)
