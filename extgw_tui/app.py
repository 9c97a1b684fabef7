"""The terminal app: the users screen, the global keys, and no traceback on screen, ever.

One error funnel: every exception a handler, callback, action or worker lets through reaches
`ExtgwApp.report_exception`, which logs it with its traceback (extgw_tui.logs) and shows one
error notification; the app keeps running (textual_private.ErrorFunnelApp keeps every widget's
message loop alive). Under Pilot (headless) the first bug is also kept for run_test to re-raise,
so a bug still fails its test.

The command palette lists every action of the current screen by name, taken from the same
bindings as the `?` help.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence
from functools import partial

from textual import events, on
from textual.app import InvalidThemeError, SystemCommand
from textual.binding import Binding
from textual.filter import LineFilter, Monochrome, NoColor
from textual.markup import escape
from textual.screen import ModalScreen, Screen
from textual.worker import WorkerFailed

from extgw_tui import keymap, settings
from extgw_tui.db import database_name
from extgw_tui.errors import ExtgwError
from extgw_tui.exit_codes import EXIT_BUG
from extgw_tui.models import database
from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.dialog import Dialog
from extgw_tui.screens.help import HelpScreen, screen_actions
from extgw_tui.services import audit, schools
from extgw_tui.services.schools import School
from extgw_tui.textual_private import ErrorFunnelApp, keep_for_pilot
from extgw_tui.widgets.control_filter import DropControlCharacters
from extgw_tui.widgets.dbwork import db_work, error_message, is_expected
from extgw_tui.widgets.paged_table import PagedTable

#: Names older Textual releases used, still accepted by --theme.
THEME_ALIASES = {"textual-ansi": "ansi-dark"}


def database_title(db_url: str) -> str:
    """The database as the title names it: "DEMO" for a demo database, then its name."""
    demos = {settings.demo_db_url(size) for size in ("small", "large")}
    name = database_name(db_url)
    return f"DEMO {name}" if db_url in demos else name


class ExtgwApp(ErrorFunnelApp):
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
            id="app.help",
        ),
        Binding("ctrl+r,f5", "refresh", "Refresh from the database", show=False, id="app.refresh"),
        Binding("q", "quit_key", "Quit", show=False, id="app.quit"),
    ]

    #: Under Pilot, keep the first bug for run_test to re-raise, so a bug fails its test. Tests
    #: of the notify-and-carry-on behaviour itself turn this off.
    reraise_bugs_headless = True

    def __init__(self, db_url: str | None, theme_name: str | None = None) -> None:
        """db_url None: config.toml names several schools; the app asks which first."""
        super().__init__()
        self.db_url = db_url
        if db_url is not None:
            self._show_school(db_url)
        self.theme_name = theme_name
        self._asking_to_quit = False
        self._purge_pending = False  # the start-up purge waits for the first rows
        #: config.toml's [keys] in force (binding id -> keys); the help reads it too
        self.key_overrides: dict[str, str] = {}
        self._drop_controls = DropControlCharacters()
        self._no_color_filter: LineFilter | None = None  # None: Textual's choice stands

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
        self._apply_config_keys()
        if self.db_url is None:
            self._ask_school()
            return
        self._open_main()

    def _ask_school(self) -> None:
        """The picker of config.toml's schools (imported here: most seats have one school)."""
        from extgw_tui.screens.school_picker import SchoolPickerScreen

        self.push_screen(SchoolPickerScreen(schools.configured()), self._open_school)

    def _show_school(self, db_url: str) -> None:
        """The header's subtitle: the school in force first (several schools), the database, the
        administrator."""
        school = schools.current()
        where = f"{school.label} · " if school else ""
        self.sub_title = f"{where}{database_title(db_url)} · admin {audit.current_admin()}"

    def _open_school(self, school: School | None) -> None:
        """The picker's answer: that school's database, recorded in every audit entry."""
        if school is None:
            self.exit()
            return
        from extgw_tui.db import open_database

        try:
            open_database(school.database, pooled=True)
        except Exception as exc:  # one sentence (logged when unexpected), then ask again
            self.notify(error_message(exc), severity="error", timeout=10)
            self._ask_school()
            return
        schools.set_current(school)
        self.db_url = school.database
        self._show_school(school.database)
        self._open_main()

    def _open_main(self) -> None:
        if database.obj is None:  # opened by the CLI; a bare ExtgwApp(url) opens it here
            from extgw_tui.db import open_database

            open_database(self.db_url, pooled=True)
        from extgw_tui.screens.users import UsersScreen

        self._purge_pending = True  # once the list shows: see _purge_once_listed
        self.push_screen(UsersScreen())

    @on(PagedTable.Loaded, "#users-table")
    def _purge_once_listed(self, event: PagedTable.Loaded) -> None:
        """The first rows are in the list: purge once they are drawn, so the purge's worker
        never competes with the first page and its frame (start-up is measured to it)."""
        if self._purge_pending:
            self._purge_pending = False
            self.call_after_refresh(self._purge_deleted_accounts, event.control.screen)
            self.call_after_refresh(self._freeze_start_up_objects)

    @staticmethod
    def _freeze_start_up_objects() -> None:
        """What start-up made (modules, widgets, styles: ~70,000 objects) moves to a permanent
        generation, so the full collections that pause the UI thread at random moments (a
        search's repaint) walk only what the session made since: ~40 ms each before. Collected
        first, so no garbage is kept for good."""
        gc.collect()
        gc.freeze()

    def _purge_deleted_accounts(self, screen: Screen) -> None:
        """Purge the accounts deleted longer ago than the retention period, in a worker
        (services/purge.py); a bad retention setting is a warning."""
        from extgw_tui.services import purge

        def done(result: purge.PurgeResult) -> None:
            if result.purged:
                self.notify(result.summary(), timeout=8)

        def failed(message: str) -> None:
            self.notify(f"Deleted accounts were not purged: {message}", severity="warning")

        db_work(screen, purge.purge_due, on_success=done, on_error=failed, group="purge")

    def _apply_config_keys(self) -> None:
        """config.toml's [keys]: the administrator's keys replace the defaults of those ids;
        a line that cannot apply is one warning."""
        table = settings.load_config().get("keys")
        if table is None:
            return
        self.key_overrides, problems = keymap.load_keymap(table, keymap.registry())
        self.set_keymap(self.key_overrides)
        for problem in problems:
            self.notify(problem, severity="warning", timeout=15, markup=False)

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
        self._no_color_filter = NoColor() if self.native_ansi_color else Monochrome()
        self.refresh()

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters with the NO_COLOR one matched to the theme, then the filter that
        keeps control characters in data from reaching the terminal."""
        filters = [
            self._no_color_filter or f if isinstance(f, NoColor | Monochrome) else f
            for f in super().get_line_filters()
        ]
        filters.append(self._drop_controls)
        return filters

    # ----- keys typed ahead of a focus change ------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            event.sent_to = self.focused  # type: ignore[attr-defined]  # where Textual sends it
        await super().on_event(event)

    def on_key(self, event: events.Key) -> None:
        """A key that bubbled up unhandled from a widget that has lost the focus meanwhile goes
        to the focused widget, not to the bindings.

        Over SSH keys often arrive in one burst: "/smith" in one packet reaches the list as
        "/", "s", "m"... before "/" has moved the focus to the search box, and its s and m
        would be checked against the bindings of the box (where they mean nothing) or, worse,
        open the statistics and an email. Such a key is typed again, as if it arrived now;
        Textual's own handling (App._on_key, after this) follows for every other key.
        """
        target = getattr(event, "sent_to", None)
        focused = self.focused
        if target is not None and focused is not None and target is not focused:
            event.prevent_default()  # App._on_key, which Textual calls after this, stays out
            self.post_message(events.Key(event.key, event.character))

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

    def report_exception(self, error: Exception) -> None:
        """The error funnel: log the traceback, tell the admin in one line, and carry on.

        Before the first screen is up (or after the app stopped) there is nothing to carry on
        with: the app exits with that one line instead.
        """
        if isinstance(error, WorkerFailed) and isinstance(error.error, Exception):
            error = error.error  # a plain worker's bug: report the bug itself
        message = error_message(error)  # logs anything that is not an ExtgwError
        if not self.is_running or not self.screen_stack:
            self.exit(return_code=EXIT_BUG, message=message)
            return
        if not is_expected(error) and self.is_headless and self.reraise_bugs_headless:
            keep_for_pilot(self, error)  # Pilot re-raises it when the test's app closes
        self.notify(message, severity="error", timeout=10)
