"""The terminal app: the users screen, the global keys, and no traceback on screen, ever.

An unexpected exception is logged with its traceback (extgw_tui.logs) and shown as one error
notification; the app keeps running. Textual stops a widget's (or the whole app's) message loop
after an exception escapes a handler, which would freeze the screen, so handlers are guarded
one level down (`_guarded_dispatch`, active only inside an ExtgwApp). Under Pilot (headless) the
first such error is also kept for run_test to re-raise, so a bug still fails its test.

The command palette lists every action of the current screen by name, taken from the same
bindings as the `?` help.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

import peewee
from textual import events
from textual.app import App, InvalidThemeError, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.filter import Monochrome, NoColor
from textual.markup import escape
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import ModalScreen, Screen
from textual.worker import WorkerFailed

from extgw_tui import settings
from extgw_tui.db import database_name
from extgw_tui.errors import ExtgwError
from extgw_tui.exit_codes import EXIT_BUG
from extgw_tui.models import database
from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.dbwork import error_message
from extgw_tui.screens.dialog import Dialog
from extgw_tui.screens.help import HelpScreen, screen_actions
from extgw_tui.services import audit
from extgw_tui.widgets.control_filter import DropControlCharacters

#: Names older Textual releases used, still accepted by --theme.
THEME_ALIASES = {"textual-ansi": "ansi-dark"}


def database_title(db_url: str) -> str:
    """The database as the title names it: "DEMO" for a demo database, then its name."""
    demos = {settings.demo_db_url(size) for size in ("small", "large")}
    name = database_name(db_url)
    return f"DEMO {name}" if db_url in demos else name


_textual_dispatch = MessagePump._dispatch_message


async def _guarded_dispatch(self: MessagePump, message: Message) -> None:
    """Textual's dispatch, but an error in a handler is reported instead of ending the loop."""
    try:
        await _textual_dispatch(self, message)
    except Exception as error:
        app = self.app if self.is_attached or isinstance(self, App) else None
        if not isinstance(app, ExtgwApp):
            raise
        app.report_exception(error)


class ExtgwApp(App[None]):
    """External Gateway users, for a school administrator, keyboard first."""

    CSS_PATH = stylesheet("app.tcss")
    TITLE = "External users"
    BINDINGS = [
        Binding(
            "question_mark,f1",
            "help",
            "Help",
            tooltip="Help: the keys of this screen",
            key_display="?",
        ),
        Binding("ctrl+r,f5", "refresh", "Refresh from the database", show=False),
        Binding("q", "quit_key", "Quit", show=False),
    ]

    #: Under Pilot, keep the first bug for run_test to re-raise, so a bug fails its test. Tests
    #: of the notify-and-carry-on behaviour itself turn this off.
    reraise_bugs_headless = True

    def __init__(self, db_url: str, theme_name: str | None = None) -> None:
        MessagePump._dispatch_message = _guarded_dispatch  # type: ignore[method-assign]
        super().__init__()
        self.db_url = db_url
        self.sub_title = f"{database_title(db_url)} · admin {audit.current_admin()}"
        self.theme_name = theme_name
        self._asking_to_quit = False
        self._filters.append(DropControlCharacters())

    def on_mount(self) -> None:
        if self.theme_name:
            try:
                self.theme = THEME_ALIASES.get(self.theme_name, self.theme_name)
            except InvalidThemeError:
                known = ", ".join(sorted(self.available_themes))
                self.notify(
                    f"There is no theme called {self.theme_name!r}; using the default. "
                    f"Themes: {known}.",
                    severity="warning",
                    timeout=10,
                )
        self._match_no_color_filter()
        self.theme_changed_signal.subscribe(self, self._match_no_color_filter)
        self._notify_config_warnings()
        if database.obj is None:  # opened by the CLI; a bare ExtgwApp(url) opens it here
            from extgw_tui.db import open_database

            open_database(self.db_url)
        from extgw_tui.screens.users import UsersScreen

        self.push_screen(UsersScreen())

    def _notify_config_warnings(self) -> None:
        """What config.toml or the environment holds that extgw-tui does not know (issue 12)."""
        try:
            sentences = settings.config_warnings()
        except ExtgwError as exc:
            sentences = [str(exc)]
        for sentence in sentences:
            self.notify(sentence, severity="warning", timeout=15, markup=False)

    def _match_no_color_filter(self, *_: object) -> None:
        """Under NO_COLOR, the colour-removing filter that suits the theme now.

        Textual chooses it once, for the default theme; an ansi theme chosen later needs
        NoColor (terminal default colours), or Monochrome draws it black on black.
        """
        if not self.no_color:
            return
        wanted = NoColor if self.native_ansi_color else Monochrome
        self._filters = [
            wanted() if isinstance(f, NoColor | Monochrome) else f for f in self._filters
        ]
        self.refresh()

    # ----- keys typed ahead of a focus change ------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            event.sent_to = self.focused  # type: ignore[attr-defined]  # where Textual sends it
        await super().on_event(event)

    async def _on_key(self, event: events.Key) -> None:
        """A key that bubbled up unhandled from a widget that has lost the focus meanwhile goes
        to the focused widget, not to the bindings.

        Over SSH keys often arrive in one burst: "/smith" in one packet reaches the list as
        "/", "s", "m"... before "/" has moved the focus to the search box, and its s and m
        would be checked against the bindings of the box (where they mean nothing) or, worse,
        open the statistics and an email. Textual's own handling (App._on_key) follows for
        every other key.
        """
        target = getattr(event, "sent_to", None)
        focused = self.focused
        if target is not None and focused is not None and target is not focused:
            event.prevent_default()  # App._on_key, which Textual calls after this, stays out
            focused._forward_event(events.Key(event.key, event.character))

    # ----- global actions -----------------------------------------------------------------

    def action_help(self) -> None:
        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        title = screen.title or screen.__class__.__name__
        notes = getattr(screen, "HELP_NOTES", ())
        self.push_screen(HelpScreen(title, screen_actions(screen), notes))

    async def action_refresh(self) -> None:
        """Hand ctrl+r / F5 to the screen when it has no binding of its own for them."""
        if hasattr(self.screen, "action_refresh"):
            await self.run_action("refresh", self.screen)

    async def action_quit(self) -> None:
        """ctrl+q and q: ask first when a dialog holds work that quitting would lose.

        Pressed again while that question is up, it quits.
        """
        losing = [s.unsaved_work() for s in self.screen_stack if isinstance(s, Dialog)]
        losing = [phrase for phrase in losing if phrase]
        if not losing or self._asking_to_quit:
            self.exit()
            return

        def answered(quit_anyway: bool | None) -> None:
            self._asking_to_quit = False
            if quit_anyway:
                self.exit()

        self._asking_to_quit = True
        question = f"Quit and lose {' and '.join(losing)}?"
        self.push_screen(ConfirmModal(question, title="Quit?", yes_label="Quit"), answered)

    async def action_quit_key(self) -> None:
        await self.action_quit()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "quit_key" and isinstance(self.screen, ModalScreen):
            return False  # `q` answers or types in a dialog; ctrl+q still quits
        return action != "refresh" or hasattr(self.screen, "action_refresh")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        seen = {"help", "quit", "quit_key", "command_palette"}  # Textual lists Quit itself
        for item in screen_actions(screen):
            if item.action in seen and item.node is self:
                continue
            yield SystemCommand(
                escape(item.description),  # a licence type's name is shown as typed
                f"key: {item.keys}",
                partial(self.run_action, item.action, item.node),
            )

    # ----- no tracebacks ------------------------------------------------------------------

    async def _dispatch_action(self, namespace: DOMNode, action_name: str, params: Any) -> bool:
        """A failing action is a notification: let through, it would stop the app's message
        loop (Textual ends a message pump after an exception) and freeze every key."""
        try:
            return await super()._dispatch_action(namespace, action_name, params)
        except Exception as error:
            self.report_exception(error)
            return True

    def report_exception(self, error: Exception) -> None:
        """Log the traceback, tell the admin in one line, and carry on."""
        message = error_message(error)  # logs anything that is not an ExtgwError
        is_bug = not isinstance(error, ExtgwError | peewee.DatabaseError)
        if is_bug and self.is_headless and self.reraise_bugs_headless and self._exception is None:
            self._exception = error  # Pilot re-raises it when the test's app closes
        self.notify(message, severity="error", timeout=10)

    def _handle_exception(self, error: Exception) -> None:
        """What still reaches Textual's handler: carry on if the app is up, else exit cleanly."""
        if isinstance(error, WorkerFailed):  # a plain worker's bug: report the bug itself
            error = error.error if isinstance(error.error, Exception) else error
        if not self.is_running or not self.screen_stack:
            self.exit(return_code=EXIT_BUG, message=error_message(error))
            return
        self.report_exception(error)
