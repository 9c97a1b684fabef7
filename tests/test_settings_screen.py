"""The Settings dialog (S on the main screen), by keyboard at 80x24, on a real SQLite database;
and the settings service on both backends (validation, audit, config.toml, a schema-2 file)."""

from __future__ import annotations

import sqlite3

import pytest
from busy_pilot import wait_until
from key_helpers import COLUMNS, add_pupil, make_keys, parent_type
from textual.widgets import Checkbox, Input

from extgw_tui.app import ExtgwApp
from extgw_tui.db import open_database
from extgw_tui.errors import ExtgwError, InvalidInput
from extgw_tui.models import AuditEvent, database
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.settings import SettingsModal
from extgw_tui.services import school_settings
from extgw_tui.services.licence_keys import KeyScope


async def _open_settings(pilot, app) -> SettingsModal:
    """S, then the dialog once it has loaded the settings."""
    await pilot.press("S")
    await wait_until(lambda: isinstance(app.screen, SettingsModal))
    modal = app.screen
    await wait_until(lambda: modal.loaded is not None)
    return modal


async def test_s_opens_the_settings_and_the_login_switch_asks_first(sqlite_db):
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        modal = await _open_settings(pilot, app)
        assert app.focused is modal.query_one("#set-school_name", Input)
        await pilot.press(*"Hillside")
        modal.query_one("#set-login_disabled", Checkbox).focus()
        await pilot.press("space", "ctrl+s")
        await wait_until(lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("n")  # declined: nothing saved, the dialog stays
        await wait_until(lambda: app.screen is modal)
        assert school_settings.load().login_disabled is False
        await pilot.press("ctrl+s")
        await wait_until(lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_until(lambda: not isinstance(app.screen, SettingsModal | ConfirmModal))
    saved = school_settings.load()
    assert (saved.school_name, saved.login_disabled) == ("Hillside", True)
    actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert sorted(actions) == ["portal.login_off", "settings.change"]


async def test_escape_asks_before_losing_a_change_and_config_fixes_show_read_only(
    sqlite_db, isolated_env
):
    (isolated_env / "config" / "config.toml").write_text(
        '[settings]\nschool_name = "Fixed Academy"\n', encoding="utf-8"
    )
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        modal = await _open_settings(pilot, app)
        name = modal.query_one("#set-school_name", Input)
        assert name.disabled and name.value == "Fixed Academy"
        assert app.focused is modal.query_one("#set-bounce_address", Input)
        await pilot.press(*"not an address")
        await pilot.press("ctrl+s")
        await wait_until(lambda: "not valid" in str(modal.query_one("#settings-status").render()))
        await pilot.press("escape")
        await wait_until(lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_until(lambda: not isinstance(app.screen, SettingsModal | ConfirmModal))
    assert AuditEvent.select().count() == 0


def test_settings_are_checked_audited_and_shared(db, isolated_env):
    assert school_settings.load() == school_settings.SchoolSettings()
    with pytest.raises(InvalidInput, match="not valid"):
        school_settings.save({"bounce_address": "two@a.example, b@b.example"})
    with pytest.raises(InvalidInput, match="one line"):
        school_settings.save({"school_name": "Hill\nside"})
    with pytest.raises(InvalidInput, match="no setting"):
        school_settings.save({"colour": "red"})
    saved = school_settings.save({"bounce_address": " Bounces@School.example ", "school_name": "X"})
    assert saved.bounce_address == "Bounces@school.example"
    assert school_settings.save({"school_name": "X"}) == saved  # unchanged: no entry
    assert AuditEvent.select().count() == 2
    (isolated_env / "config" / "config.toml").write_text(
        "[settings]\nlogin_disabled = true\n", encoding="utf-8"
    )
    assert school_settings.load().login_disabled is True
    with pytest.raises(InvalidInput, match="config.toml"):
        school_settings.save({"login_disabled": False})
    (isolated_env / "config" / "config.toml").write_text("[settings]\nlogin = 1\n")
    with pytest.raises(ExtgwError, match="unknown setting 'login'"):
        school_settings.load()


def test_a_schema_2_database_gains_the_portal_tables(tmp_path):
    """An existing database (schema 2, before this release) is brought up to date on open."""
    path = tmp_path / "old.sqlite3"
    open_database(f"sqlite:///{path}").close()
    database.initialize(None)
    with sqlite3.connect(path) as conn:
        for table in ("portal_session", "password_reset", "setting"):
            conn.execute(f'DROP TABLE "{table}"')
        conn.execute("UPDATE schema_info SET version = 2")
    db = open_database(f"sqlite:///{path}")
    try:
        tables = set(db.get_tables())
        assert {"portal_session", "password_reset", "setting"} <= tables
        assert school_settings.load().login_disabled is False
    finally:
        db.close()
        database.initialize(None)


def test_the_registration_address_is_printed_in_the_key_letters(db, tmp_path):
    school_settings.save({"registration_address": "https://portal.hillside.example/register"})
    pupil = add_pupil("Bloggs")
    _, rows = make_keys(tmp_path, KeyScope(parent_type(), pupil_ids=(pupil.id,)), per_pupil=1)
    column = [c.title for c in COLUMNS].index("Register at")
    assert [row[column] for row in rows] == ["https://portal.hillside.example/register"]
