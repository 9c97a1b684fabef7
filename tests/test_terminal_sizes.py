"""The whole app at tiny, usual and huge sizes, resized in between, with and without colour;
every screen and every dialog at 40x12; and failures in workers and handlers become
notifications and log entries, never tracebacks.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest
from app_helpers import NotedApp, settle
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable

import extgw_tui.screens
from extgw_tui.app import ExtgwApp
from extgw_tui.logs import setup_logging
from extgw_tui.models import ExternalUser, Licence, LicenceType, Pupil
from extgw_tui.screens.activity import ActivityLogScreen
from extgw_tui.screens.activity_entry import ActivityEntryModal
from extgw_tui.screens.activity_export import ActivityExportModal
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.coverage_export import CoverageExportModal
from extgw_tui.screens.edit_user import EditUserModal
from extgw_tui.screens.email_user import EmailUserModal
from extgw_tui.screens.export import ExportModal
from extgw_tui.screens.help import HelpScreen
from extgw_tui.screens.key_generate import GenerateKeysModal
from extgw_tui.screens.key_preview import KeyPreviewModal
from extgw_tui.screens.key_send import SendKeysModal
from extgw_tui.screens.licence_keys import LicenceKeysScreen
from extgw_tui.screens.outbox import OutboxScreen
from extgw_tui.screens.outbox_message import OutboxMessageModal
from extgw_tui.screens.pupils import PupilsScreen
from extgw_tui.screens.remove_pupil import RemovePupilModal
from extgw_tui.screens.review import ReviewScreen
from extgw_tui.screens.review_export import ReviewExportModal
from extgw_tui.screens.row_actions import RowActionsModal
from extgw_tui.screens.saved_views import SavedViewsModal
from extgw_tui.screens.settings import SettingsModal
from extgw_tui.screens.stats import StatsScreen
from extgw_tui.screens.users import UsersScreen
from extgw_tui.services import access, licences, mail
from extgw_tui.services.key_mail import Preview
from extgw_tui.services.portal import record_login
from extgw_tui.widgets.dbwork import db_work

SIZES = [(40, 12), (200, 60), (80, 24)]

#: The full screens and the key that opens each from the users screen.
SCREENS: list[tuple[str, type[Screen]]] = [
    ("s", StatsScreen),
    ("v", ReviewScreen),
    ("L", ActivityLogScreen),
    ("P", PupilsScreen),
    ("K", LicenceKeysScreen),
    ("M", OutboxScreen),
]


class BrokenScreen(Screen[None]):
    """A screen with a bug in one action, as any screen might have."""

    BINDINGS = [Binding("b", "broken", "Broken"), Binding("escape", "app.pop_screen", "Back")]

    def action_broken(self) -> None:
        raise KeyError("kaboom in a key's action")


def _seed() -> None:
    """A few of everything, so every screen has rows, charts and audit entries to draw.

    Logins go through portal.record_login, as the portal records them, so the statistics'
    summary tables hold them too. Half the people have pupils; of the others, those whose
    last login was over a year ago (or who never logged in) are review candidates.
    """
    parent = LicenceType.get(LicenceType.name == "Parent/Guardian")
    now = datetime.now().replace(microsecond=0)
    people = []
    for n in range(40):
        people.append(
            ExternalUser.create(
                title="Ms" if n % 2 else "Mr",
                forename=f"Forename{n}",
                surname=f"Surname{n:02d} with a rather long double-barrelled name",
                email=f"person{n}@a-long-school-domain.example.org",
                password_hash="x",
                created_at=now - timedelta(days=900 - n),
            )
        )
    for n, person in enumerate(people[:20]):
        pupil = Pupil.create(forename="Pupil", surname=f"Child{n}", year_group=7 + n % 5, form="7B")
        Licence.create(user=person, pupil=pupil, licence_type=parent)
    for n, person in enumerate(people):
        if n % 3:
            for day in range(400, -1, -40):  # oldest first: the last is n * 20 days ago
                record_login(person, at=now - timedelta(days=day + n * 20))
    access.set_access([p.id for p in people[::4]], False, reason="test\nwith a line break")
    licences.remove_pupil(people[0].id, Licence.get(Licence.user == people[0].id).pupil_id)
    mail.send_to_user(people[1].id, "A subject long enough to be cut at 80 columns", "Hello\n")


async def _tour(pilot, app) -> None:
    """Every size in turn, settling after each, with a few list keys pressed."""
    for width, height in SIZES:
        await pilot.resize_terminal(width, height)
        await settle(pilot, app, typed=False)
        await pilot.press("down", "G", "g")
        await settle(pilot, app, typed=False)


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
async def test_every_screen_at_every_size(sqlite_db, monkeypatch, no_color):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    _seed()
    app = NotedApp(sqlite_db.url, reraise_bugs=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        assert app.no_color is no_color
        main = app.screen
        await _tour(pilot, app)
        for key, cls in SCREENS:
            await pilot.press(key)
            await settle(pilot, app, typed=False)
            assert isinstance(app.screen, cls), f"{key} did not open {cls.__name__}"
            if isinstance(app.screen, StatsScreen):  # the seeded logins reach the chart
                assert sum(app.screen.shown.series.logins) > 0
            await _tour(pilot, app)
            await pilot.press("question_mark")  # the help over it, at 80x24 and small too
            await settle(pilot, app, typed=False)
            keys = app.screen.query_one(DataTable)
            assert isinstance(app.screen, HelpScreen) and keys.row_count > 3
            assert keys.region.height > min(keys.row_count, 10), f"help over {cls.__name__}"
            await pilot.resize_terminal(40, 12)
            await settle(pilot, app, typed=False)
            await pilot.press("escape")
            await settle(pilot, app, typed=False)
            await pilot.press("escape")
            await settle(pilot, app, typed=False)
            assert app.screen is main, f"escape did not leave {cls.__name__}"
            await pilot.resize_terminal(80, 24)
        assert app.is_running
        assert app.errors == []


def _keys(*keys: str) -> Callable[[ExtgwApp, object], Awaitable[None]]:
    """An opener that presses keys on the users screen, settling after each."""

    async def open_it(app: ExtgwApp, pilot) -> None:
        for key in keys:
            await pilot.press(key)
            await settle(pilot, app, typed=False)

    return open_it


async def _row_actions(app: ExtgwApp, pilot) -> None:
    """The row's action menu opens from a mouse click on its cell; pushed here directly."""
    app.push_screen(RowActionsModal("Surname01 <person1@a-long-school-domain.example.org>"))
    await settle(pilot, app, typed=False)


async def _key_preview(app: ExtgwApp, pilot) -> None:
    """The key email preview (ctrl+v in the generate dialog needs a contact): pushed here."""
    app.push_screen(KeyPreviewModal(Preview("carer@example.org", "Your key", "Dear Carer,\n")))
    await settle(pilot, app, typed=False)


async def _send_keys(app: ExtgwApp, pilot) -> None:
    """The send dialog of a batch (m on an emailed key): pushed here for batch 1."""
    app.push_screen(SendKeysModal(1))
    await settle(pilot, app, typed=False)


#: Every dialog (and Textual's command palette), how to open it from the users screen.
DIALOGS: list[tuple[type[ModalScreen], Callable[[ExtgwApp, object], Awaitable[None]]]] = [
    (EditUserModal, _keys("e")),
    (EmailUserModal, _keys("m")),
    (RemovePupilModal, _keys("down", "r")),  # the first user's pupil was removed
    (ConfirmModal, _keys("space", "D")),
    (ExportModal, _keys("x")),
    (RowActionsModal, _row_actions),
    (HelpScreen, _keys("question_mark")),
    (CommandPalette, _keys("ctrl+p")),
    (ActivityEntryModal, _keys("L", "e")),
    (ActivityExportModal, _keys("L", "x")),
    (ReviewExportModal, _keys("v", "x")),
    (CoverageExportModal, _keys("P", "C", "x")),
    (GenerateKeysModal, _keys("K", "n")),
    (KeyPreviewModal, _key_preview),
    (SendKeysModal, _send_keys),
    (OutboxMessageModal, _keys("M", "e")),
    (SavedViewsModal, _keys("w")),
    (SettingsModal, _keys("S")),
]


def _all_dialogs() -> set[type[ModalScreen]]:
    """Every modal screen extgw-tui opens, found by importing each module of its screens
    (shared bases such as Dialog, which others derive from, are never opened themselves)."""
    for module in pkgutil.iter_modules(extgw_tui.screens.__path__):
        importlib.import_module(f"extgw_tui.screens.{module.name}")
    found, todo = set(), [ModalScreen]
    while todo:
        subclasses = todo.pop().__subclasses__()
        todo.extend(subclasses)
        found.update(
            sub
            for sub in subclasses
            if sub.__module__.startswith("extgw_tui.") and not sub.__subclasses__()
        )
    return found


def test_the_dialog_list_covers_every_dialog():
    assert _all_dialogs() <= {cls for cls, _ in DIALOGS}


async def test_every_dialog_at_40x12_and_resized_there(sqlite_db):
    _seed()
    app = NotedApp(sqlite_db.url, reraise_bugs=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        assert isinstance(app.screen, UsersScreen)
        for cls, open_it in DIALOGS:
            await open_it(app, pilot)
            assert isinstance(app.screen, cls), f"{cls.__name__} did not open"
            for size in ((40, 12), (200, 60), (40, 12)):
                await pilot.resize_terminal(*size)
                await settle(pilot, app, typed=False)
            await pilot.press("tab", "tab")  # focus moves through what fits
            await settle(pilot, app, typed=False)
            assert isinstance(app.screen, cls), f"{cls.__name__} closed by itself"
            for _ in range(3):  # the dialog, then the screen it was opened from
                if isinstance(app.screen, UsersScreen):
                    break
                await pilot.press("escape")
                await settle(pilot, app, typed=False)
            assert isinstance(app.screen, UsersScreen), f"escape did not leave {cls.__name__}"
            await pilot.resize_terminal(80, 24)
            await settle(pilot, app, typed=False)
        assert app.is_running
        assert app.errors == []


async def test_failures_become_notifications_and_log_entries(sqlite_db):
    log_path = setup_logging()  # as the command line does before it starts the app
    assert log_path is not None
    app = NotedApp(sqlite_db.url, reraise_bugs=False)

    def broken_service() -> None:
        raise RuntimeError("kaboom in a db_work worker")

    def broken_worker() -> None:
        raise ValueError("kaboom in a plain thread worker")

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        db_work(app.screen, broken_service)
        await settle(pilot, app, typed=False)
        app.screen.run_worker(broken_worker, thread=True)
        await settle(pilot, app, typed=False)
        await app.push_screen(BrokenScreen())
        await pilot.press("b")
        await settle(pilot, app, typed=False)
        await pilot.press("escape")  # the app still answers keys
        await settle(pilot, app, typed=False)
        assert not isinstance(app.screen, BrokenScreen)
        assert app.is_running
        errors = app.errors
    assert len(errors) == 3, errors
    for name in ("RuntimeError", "ValueError", "KeyError"):
        assert any(f"({name})" in e or name in e for e in errors), (name, errors)
    assert all(str(log_path) in e for e in errors), errors
    assert not any("Traceback" in e or "kaboom" in e for e in errors)
    logged = log_path.read_text(encoding="utf-8")
    for text in (
        "kaboom in a db_work worker",
        "kaboom in a plain thread worker",
        "kaboom in a key's action",
    ):
        assert text in logged
    assert logged.count("Traceback (most recent call last)") >= 3


def test_unwritable_log_folder_still_keeps_tracebacks_off_the_terminal(tmp_path):
    """As the CLI starts: logging set up (and failing), then a bug is reported."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    script = (
        "from extgw_tui.logs import setup_logging\n"
        "from extgw_tui.widgets.dbwork import error_message\n"
        "assert setup_logging() is None\n"
        "print(error_message(RuntimeError('kaboom')))\n"
    )
    env = {**os.environ, "EXTGW_LOG_DIR": str(blocker / "log")}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Unexpected error (RuntimeError); details are in the log.\n"
    assert done.stderr == ""
