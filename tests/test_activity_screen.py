"""The activity log screen, driven by keys over a real SQLite database."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
from app_helpers import select_values, settle
from host_app import HostApp
from textual.app import App
from textual.widgets import Input, Select

from extgw_tui.models import AuditEvent
from extgw_tui.screens.activity import TYPING_PAUSE, ActivityLogScreen
from extgw_tui.screens.activity_entry import ActivityEntryModal
from extgw_tui.screens.activity_export import ActivityExportModal
from extgw_tui.services import audit

T0 = datetime(2026, 3, 1, 9, 0, 0)
ADMINS = ("alice", "bob", "carol")
ACTIONS = ("access.deny", "access.allow", "pupil.remove")


def _seed(count: int = 450) -> None:
    """`count` entries one minute apart; entry n is by ADMINS[n % 3] about user n % 7 + 1."""
    fields = [
        AuditEvent.at,
        AuditEvent.admin,
        AuditEvent.action,
        AuditEvent.user_id,
        AuditEvent.target,
        AuditEvent.detail,
    ]
    rows = [
        (
            T0 + timedelta(minutes=n),
            ADMINS[n % 3],
            ACTIONS[n % 3 if n % 5 else 0],
            n % 7 + 1,
            f"user{n % 7 + 1}@example.org",
            f"entry {n}",
        )
        for n in range(count)
    ]
    for start in range(0, count, 200):
        AuditEvent.insert_many(rows[start : start + 200], fields=fields).execute()


def _status(app: App) -> str:
    return str(app.screen.query_one("#activity-status").render())


async def test_lists_newest_first_and_pages_the_whole_log(sqlite_db):
    _seed()
    app = HostApp(ActivityLogScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        assert table.total == 450
        window = table.window_rows
        assert window < 450
        assert table.row_count == window  # a window, not the whole log
        assert table.current_row.detail == "entry 449"
        shown = table.size.height - 1  # the rows on screen, under the header
        assert _status(app) == f"rows 1-{shown} of 450 · all entries"
        await pilot.press("G")
        table = await settle(pilot, app)
        assert table.current_row.detail == "entry 0"
        assert _status(app) == f"rows {450 - shown + 1}-450 of 450 · all entries"
        await pilot.press("space", "a", "o", "O")  # no marks, no other order in the log
        table = await settle(pilot, app)
        assert table.marks == set()
        assert table.current_row.detail == "entry 0"
        await pilot.press("g")
        table = await settle(pilot, app)
        assert table.current_row.detail == "entry 449"
        await pilot.press("escape")
        await pilot.pause()
        assert app.closed


async def test_filters_by_admin_action_user_and_text(sqlite_db):
    _seed()
    app = HostApp(ActivityLogScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        admin = app.screen.query_one("#activity-admin", Select)
        assert [value for value in select_values(admin) if isinstance(value, str)] == list(ADMINS)
        admin.focus()
        await pilot.press("enter", "down", "down", "enter")  # the blank, then alice, then bob
        table = await settle(pilot, app)
        assert admin.value == "bob"
        assert table.total == 150
        assert {str(table.get_row_at(i)[1]) for i in range(table.row_count)} == {"bob"}
        app.screen.query_one("#activity-action", Select).value = "access.deny"
        table = await settle(pilot, app)
        expected = (
            AuditEvent.select()
            .where((AuditEvent.admin == "bob") & (AuditEvent.action == "access.deny"))
            .count()
        )
        assert table.total == expected > 0
        assert _status(app).endswith("admin bob, action access.deny")

        await pilot.press("ctrl+l")  # clear every filter
        table = await settle(pilot, app)
        assert table.total == 450

        user = app.screen.query_one("#activity-user", Input)
        user.focus()
        await pilot.press("a", "b", "3", "x")  # only digits can be typed
        await pilot.press("enter")
        table = await settle(pilot, app)
        assert user.value == "3"
        assert table.total == sum(1 for n in range(450) if n % 7 + 1 == 3)
        assert app.screen.focused is table  # enter hands the keys back to the list

        await pilot.press("slash")
        assert app.screen.focused is app.screen.query_one("#activity-text", Input)
        await pilot.press(*"USER3@")  # the target, case-insensitively
        await pilot.pause(TYPING_PAUSE + 0.1)
        table = await settle(pilot, app)
        assert table.total == sum(1 for n in range(450) if n % 7 + 1 == 3)
        assert _status(app).endswith("user 3, target containing “USER3@”")
        await pilot.press("backspace", "backspace", "4")
        await pilot.pause(TYPING_PAUSE + 0.1)
        table = await settle(pilot, app)
        assert table.total == 0  # user 3's entries have no target with "user4"
        await pilot.press("escape")  # leaves the box, not the screen
        assert app.screen.focused is table
        assert not app.closed


async def test_open_entry_and_narrow_to_its_user(sqlite_db):
    _seed(30)
    audit.record("note", user_id=99, target="long\ntarget", detail="x" * 500)
    app = HostApp(ActivityLogScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        assert table.current_row.action == "note"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ActivityEntryModal)
        assert app.screen.row.detail == "x" * 500
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ActivityLogScreen)
        await pilot.press("f")  # u undoes a batch (the shared keymap); f narrows to the user
        table = await settle(pilot, app)
        assert app.screen.query_one("#activity-user", Input).value == "99"
        assert table.total == 1
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ActivityEntryModal)


async def test_starts_on_one_user(sqlite_db):
    _seed(70)
    app = HostApp(lambda: ActivityLogScreen(2))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        assert table.total == 10
        assert app.screen.query_one("#activity-user", Input).value == "2"


async def back_on_the_log(pilot, app: App) -> None:
    """Wait for the export dialog to close (the file written) and the log to be back."""
    for _ in range(200):
        await pilot.pause()
        if isinstance(app.screen, ActivityLogScreen):
            return
    raise AssertionError(f"still on {app.screen!r}")


async def test_export_writes_the_filtered_log(sqlite_db, tmp_path, monkeypatch):
    monkeypatch.setenv("EXTGW_EXPORT_DIR", str(tmp_path))
    _seed()
    app = HostApp(ActivityLogScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        app.screen.query_one("#activity-admin", Select).value = "carol"
        await settle(pilot, app)
        await pilot.press("x")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, ActivityExportModal)
        path = modal.query_one(Input).value
        assert path.startswith(str(tmp_path / "activity-log_"))
        await pilot.press("enter")
        await back_on_the_log(pilot, app)
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book["Activity"].iter_rows(values_only=True))
    assert len(rows) == 1 + 150
    assert {row[1] for row in rows[1:]} == {"carol"}
    assert rows[1][6] == "entry 449"
    # audited like every export: what, how many rows, where
    entry = AuditEvent.get(AuditEvent.action == "export")
    assert entry.target == Path(path).name
    assert entry.detail == f"export: activity log; filter: admin carol; rows: 150; path: {path}"


async def test_export_to_a_missing_folder_then_into_a_folder(sqlite_db, tmp_path):
    """A missing folder is refused in one sentence; a folder gets the proposed name inside."""
    _seed(10)
    app = HostApp(ActivityLogScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("x")
        await pilot.pause()
        box = app.screen.query_one(Input)
        proposed = Path(box.value).name
        box.value = str(tmp_path / "no" / "such" / "folder" / "log.xlsx")
        await pilot.press("enter")
        for _ in range(100):
            await pilot.pause()
            if str(app.screen.query_one("#export-status").render()).startswith("The"):
                break
        status = str(app.screen.query_one("#export-status").render())
        assert "does not exist" in status
        assert isinstance(app.screen, ActivityExportModal)
        box.value = str(tmp_path)
        await pilot.press("enter")
        await back_on_the_log(pilot, app)
    assert (tmp_path / proposed).is_file()
    assert not tmp_path.with_name(tmp_path.name + ".xlsx").exists()
