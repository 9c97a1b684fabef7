"""The Import screen through the real app: I, a path with completion, preview, import, stop."""

from __future__ import annotations

import sqlite3

from app_helpers import messages, settle, suggestion
from busy_pilot import wait_until
from roll_files import pupil, write_csv, write_xlsx
from textual.widgets import Button, Input, Select, Static

from extgw_tui.app import ExtgwApp
from extgw_tui.db import sqlite_path
from extgw_tui.models import AuditEvent, Pupil
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.import_roll import ImportRollScreen
from extgw_tui.screens.users import UsersScreen
from extgw_tui.widgets.path_suggester import PathSuggester


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def _open(pilot, app) -> ImportRollScreen:
    await wait_until(lambda: isinstance(app.screen, UsersScreen))
    await pilot.pause(0.3)
    await pilot.press("I")
    await wait_until(lambda: isinstance(app.screen, ImportRollScreen))
    return app.screen


async def _idle(pilot, app) -> None:
    screen = next(s for s in app.screen_stack if isinstance(s, ImportRollScreen))
    await wait_until(lambda: screen.running is None, timeout=60)
    await settle(pilot, app, typed=False)


async def _preview(pilot, app, path, key: str) -> ImportRollScreen:
    """Open Import, put `path` in its box at once and press `key` (enter or ctrl+o) to preview."""
    screen = await _open(pilot, app)
    screen.query_one("#import-path", Input).value = str(path)
    await pilot.press(key)
    await _idle(pilot, app)
    return screen


async def test_preview_then_import(sqlite_db, tmp_path):
    Pupil.create(forename="Lee", surname="Leaver", upn=pupil(9, "", "")[0])
    path = write_csv(tmp_path / "roll.csv", [pupil(1, "Smith", "Tom"), pupil(2, "Bad", "Year", 99)])
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        await pilot.press(*str(tmp_path / "ro"))
        field = screen.query_one("#import-path", Input)
        await wait_until(lambda: suggestion(field) == str(path))  # completion offered
        await pilot.press("right", "enter")  # accepted, then previewed
        await _idle(pilot, app)
        summary = _text(app, "#import-summary")
        assert "New pupils: 1" in summary and "Leaving (on roll, not in the file): 1" in summary
        assert "row 6: impossible year group '99'" in _text(app, "#import-details")
        assert Pupil.select().count() == 1  # a preview writes nothing
        assert not screen.query_one("#import-apply", Button).disabled

        await pilot.press("ctrl+s")
        await wait_until(lambda: isinstance(app.screen, ConfirmModal))
        assert "1 new, 0 changed, 1 leaving" in app.screen.question
        await pilot.press("y")
        await wait_until(lambda: isinstance(app.screen, ImportRollScreen))
        await _idle(pilot, app)
        assert "Imported roll.csv." in messages(app)
        assert {(p.surname, p.on_roll) for p in Pupil.select()} == {
            ("Smith", True),
            ("Leaver", False),
        }
        assert AuditEvent.select().where(AuditEvent.action == "roll.import").count() == 1
        assert screen.query_one("#import-apply", Button).disabled  # done: preview again first

        await pilot.press("ctrl+o")  # the same file again
        await _idle(pilot, app)
        assert "Nothing would be changed." in _text(app, "#import-summary")
        assert "up to date" in _text(app, "#import-status")
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press("escape")  # leaves the box first, as every search box does
        await pilot.pause()
        assert isinstance(app.screen, ImportRollScreen) and not isinstance(app.focused, Input)
        await pilot.press("escape")
        await wait_until(lambda: isinstance(app.screen, UsersScreen))


async def test_a_changed_option_needs_a_new_preview(sqlite_db, tmp_path):
    path = write_csv(tmp_path / "roll.csv", [pupil(1, "Smith", "Tom")])
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _preview(pilot, app, path, "ctrl+o")
        apply = screen.query_one("#import-apply", Button)
        assert not apply.disabled
        await pilot.press("p")  # partial on: the preview no longer says what would happen
        await pilot.pause()
        assert apply.disabled
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ImportRollScreen)
        assert "Preview the file first" in _text(app, "#import-status")


async def test_several_sheets_offer_a_choice(sqlite_db, tmp_path):
    path = write_xlsx(tmp_path / "roll.xlsx", {"Notes": [], "Roll": [pupil(1, "Smith", "Tom")]})
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _preview(pilot, app, path, "enter")
        sheet = screen.query_one("#import-sheet", Select)
        assert sheet.display and "choose one" in _text(app, "#import-status")
        sheet.value = "Roll"
        await pilot.press("ctrl+o")
        await _idle(pilot, app)
        assert "sheet 'Roll'" in _text(app, "#import-summary")
        assert "New pupils: 1" in _text(app, "#import-summary")


async def test_bad_file_is_one_sentence(sqlite_db, tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x00\x01\x02" * 1000)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await _preview(pilot, app, path, "enter")
        assert _text(app, "#import-status") == (
            "photo.csv is not a CSV or .xlsx file (it holds binary data)."
        )


async def test_the_import_can_be_stopped(sqlite_db, tmp_path):
    rows = [pupil(n, "Smith", "Sam") for n in range(1, 2000)]
    path = write_csv(tmp_path / "roll.csv", rows)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _preview(pilot, app, path, "enter")
        # Another admin holds the write lock, so the import is still waiting when stopped.
        blocker = sqlite3.connect(sqlite_path(sqlite_db.url), isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        await pilot.press("ctrl+s")
        await wait_until(lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_until(lambda: screen.running is not None)
        await pilot.pause(0.5)
        await pilot.press("escape")
        assert _text(app, "#import-status") == "Stopping…"
        blocker.execute("ROLLBACK")
        blocker.close()
        await _idle(pilot, app)
        assert _text(app, "#import-status") == "The import was cancelled; nothing was changed."
        assert Pupil.select().count() == 0 and AuditEvent.select().count() == 0
        assert isinstance(app.screen, ImportRollScreen)


async def test_help_and_palette_list_the_import(sqlite_db):
    from extgw_tui.screens.help import screen_actions

    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(lambda: isinstance(app.screen, UsersScreen))
        await pilot.pause(0.3)
        found = {a.action: a.keys for a in screen_actions(app.screen)}
        assert found["import_roll"] == "I"
        screen = await _open(pilot, app)
        found = {a.action: a.keys for a in screen_actions(screen)}
        assert found["preview"] == "^o" and found["apply"] == "^s" and found["back"] == "esc"


async def test_path_suggester(tmp_path):
    (tmp_path / "roll-2026.csv").write_text("x")
    (tmp_path / "roll-notes.txt").write_text("x")
    (tmp_path / "rolls").mkdir()
    suggest = PathSuggester((".csv", ".xlsx"))
    assert await suggest.get_suggestion(str(tmp_path / "roll-")) == str(tmp_path / "roll-2026.csv")
    assert await suggest.get_suggestion(str(tmp_path / "rolls")) == str(tmp_path / "rolls") + "/"
    assert await suggest.get_suggestion(str(tmp_path / "nothing")) is None
    assert await suggest.get_suggestion(str(tmp_path / "missing" / "x")) is None
