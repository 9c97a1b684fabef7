"""The review screen by keyboard at 80x24: threshold, marks, delete with re-check, export."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from app_helpers import settle
from busy_pilot import send_key, wait_until
from host_app import HostApp
from openpyxl import load_workbook
from textual.app import App
from textual.widgets import Footer, Input, ProgressBar, Static

from extgw_tui.app import ExtgwApp
from extgw_tui.db import sqlite_path
from extgw_tui.models import AuditEvent, ExternalUser, Licence, LoginEvent, Pupil, live_user
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.review import ReviewScreen
from extgw_tui.screens.review_export import ReviewExportModal
from extgw_tui.services.portal import record_login
from extgw_tui.widgets.paged_table import PagedTable

NOW = datetime.now().replace(microsecond=0)


def _seed() -> dict[str, int]:
    """Three candidates inactive 40, 30 and 20 months; one active; one with a pupil."""
    ids = {}
    for name, months in (("Oldest", 40), ("Middle", 30), ("Newer", 20), ("Active", 1)):
        when = NOW - timedelta(days=months * 31)
        user = ExternalUser.create(
            surname=name,
            email=f"{name.lower()}@example.org",
            password_hash="x",
            created_at=NOW - timedelta(days=5 * 365),
            last_login_at=when,
        )
        LoginEvent.create(user=user.id, at=when)
        ids[name] = user.id
    holder = ExternalUser.create(
        surname="[/]Holder",
        email="holder@example.org",
        password_hash="x",
        created_at=NOW - timedelta(days=5 * 365),
    )
    Licence.create(user=holder.id, pupil=Pupil.create(forename="K", surname="H").id, licence_type=1)
    ids["Holder"] = holder.id
    ExternalUser.update(surname="[/]Middle [bold]").where(
        ExternalUser.id == ids["Middle"]
    ).execute()
    return ids


def _count_text(app: App) -> str:
    return str(app.screen.query_one("#review-count", Static).render())


async def test_list_threshold_and_marks(sqlite_db):
    ids = _seed()
    app = HostApp(ReviewScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        table = app.screen.query_one(PagedTable)
        assert table.total == 3
        assert _count_text(app) == "3 accounts"
        assert table.current_row.id == ids["Oldest"]  # most months inactive first
        await pilot.press("space", "j", "space")
        assert table.marks == {ids["Oldest"], ids["Middle"]}
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press("backspace", "backspace", "2", "5", "enter")
        await settle(pilot, app, typed=False)
        assert table.total == 2
        assert _count_text(app) == "2 accounts"
        assert table.marks == set()  # chosen under the old rule: cleared
        assert "Marks cleared: the threshold changed." in app.messages
        await pilot.press("a")
        await settle(pilot, app, typed=False)
        assert table.marks == {ids["Oldest"], ids["Middle"]}
        await pilot.press("c")
        assert table.marks == set()
        await pilot.press("slash", "backspace", "backspace", "0")
        await pilot.pause(0.5)
        assert "between 1 and 240 months" in _count_text(app)
        await pilot.press("escape")
        assert app.focused is table
        await pilot.press("escape")
        assert not isinstance(app.screen, ReviewScreen)


async def test_delete_marked_with_recheck(sqlite_db):
    ids = _seed()
    app = HostApp(ReviewScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("space", "j", "space", "j", "space")
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "Delete 3 accounts" in app.screen.question
        # between drawing the list and confirming, one of them logs in
        record_login(ExternalUser.get_by_id(ids["Newer"]), at=NOW)
        await pilot.press("y")
        await settle(pilot, app, typed=False)
        remaining = {u.id for u in ExternalUser.select(ExternalUser.id).where(live_user())}
        assert remaining == {ids["Newer"], ids["Active"], ids["Holder"]}
        report = app.messages[-1]
        assert report.startswith("Deleted 2 accounts; kept 1 that no longer qualify.")
        assert f"ID {ids['Newer']}: logged in on {NOW.date().isoformat()}" in report
        table = app.screen.query_one(PagedTable)
        assert table.total == 0 and table.marks == set()
        entries = AuditEvent.select().where(AuditEvent.action == "account.delete")
        assert sorted(e.user_id for e in entries) == sorted([ids["Oldest"], ids["Middle"]])
        # restorable for the retention period: the login history keeps its link until the purge
        assert LoginEvent.select().where(LoginEvent.user.is_null()).count() == 0
        assert "can be restored for 30 days by undoing batch" in report


async def test_delete_declined_and_cursor_row(sqlite_db):
    ids = _seed()
    app = HostApp(ReviewScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("delete")
        await pilot.pause()
        assert "Delete 1 account with no pupils" in app.screen.question
        await pilot.press("n")
        await settle(pilot, app, typed=False)
        assert ExternalUser.select().count() == 5
        await pilot.press("j", "d")
        await pilot.pause()
        question = app.screen.question
        assert "For 30 days the activity log (L, then u) can restore them" in question
        await pilot.press("y")
        await settle(pilot, app, typed=False)
        middle = (ExternalUser.id == ids["Middle"]) & live_user()
        assert not ExternalUser.select().where(middle).exists()
        assert app.messages[-1].startswith("Deleted 1 account. They can be restored for 30 days")


async def test_export_the_list(sqlite_db, tmp_path):
    ids = _seed()
    target = tmp_path / "before-deleting"
    app = HostApp(ReviewScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ReviewExportModal)
        path_box = app.screen.query_one(Input)
        assert path_box.value.endswith(".xlsx")
        path_box.value = str(target)
        await pilot.press("enter")
        await settle(pilot, app, typed=False)
        assert isinstance(app.screen, ReviewScreen)
        written = target.with_name("before-deleting.xlsx")
        assert app.messages[-1] == f"Exported the review list to {written}."
        rows = list(load_workbook(written)["Review"].iter_rows(values_only=True))
        assert sorted(r[0] for r in rows[1:]) == sorted(
            [ids["Oldest"], ids["Middle"], ids["Newer"]]
        )
        # the same file again: asks before replacing it
        await pilot.press("x")
        await pilot.pause()
        app.screen.query_one(Input).value = str(written)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ReviewExportModal)
        await pilot.click("#close")  # the mouse works too
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        # through the export code: audited once, for the file written
        [entry] = AuditEvent.select().where(AuditEvent.action == "export")
        assert entry.target == "before-deleting.xlsx" and "rows: 3" in entry.detail


async def test_export_into_a_folder(sqlite_db, tmp_path):
    _seed()
    folder = tmp_path / "records"
    folder.mkdir()
    app = HostApp(ReviewScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("x")
        await pilot.pause()
        proposed = Path(app.screen.query_one(Input).value).name
        assert proposed.startswith("review-accounts_12-months_")
        app.screen.query_one(Input).value = str(folder)
        await pilot.press("enter")
        await settle(pilot, app, typed=False)
        assert app.messages[-1] == f"Exported the review list to {folder / proposed}."
        assert (folder / proposed).is_file() and not (tmp_path / "records.xlsx").exists()


async def test_names_show_as_typed(sqlite_db):
    """A surname that looks like markup is shown literally, never interpreted (or a crash)."""
    ids = _seed()
    app = HostApp(ReviewScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        table = app.screen.query_one(PagedTable)
        row = table.get_row(str(ids["Middle"]))
        assert "[/]Middle [bold]" in [str(cell) for cell in row]


def _many_candidates(count: int) -> None:
    old = NOW - timedelta(days=3 * 365)
    rows = [
        {
            "surname": f"S{n}",
            "surname_key": f"s{n}",
            "email": f"u{n}@example.org",
            "email_key": f"u{n}@example.org",
            "password_hash": "x",
            "created_at": old,
        }
        for n in range(count)
    ]
    for start in range(0, len(rows), 2000):
        ExternalUser.insert_many(rows[start : start + 2000]).execute()


async def test_export_can_be_cancelled(sqlite_db, tmp_path):
    _many_candidates(30_000)
    app = HostApp(ReviewScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("x")
        await pilot.pause()
        app.screen.query_one(Input).value = str(tmp_path / "big.xlsx")
        send_key(app, "enter")
        modal = app.screen
        progress = modal.query_one(ProgressBar)
        await wait_until(lambda: (progress.progress or 0) > 0)  # rows are being written
        assert "of 30,000 rows" in str(modal.query_one("#export-count", Static).render())
        send_key(app, "enter")  # a second enter does not cancel...
        await pilot.pause(0.2)
        assert modal.running is not None and modal.running.is_running
        send_key(app, "escape")  # ...escape does
        status = modal.query_one("#export-status", Static)
        await wait_until(lambda: str(status.render()).startswith("Export cancelled"))
        # said by the dialog still open, once the writer has stopped and cleaned up
        assert str(status.render()) == "Export cancelled; no file was written."
        assert app.screen is modal and modal.running is None
        assert not any(p.name.startswith(("big", ".big")) for p in tmp_path.iterdir())
        assert not AuditEvent.select().where(AuditEvent.action == "export").exists()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)


async def test_deletion_can_be_stopped(sqlite_db):
    _many_candidates(30_000)
    app = HostApp(ReviewScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("a")
        await settle(pilot, app, typed=False)
        await pilot.press("d")
        await pilot.pause()
        assert "Delete 30,000 accounts" in app.screen.question
        # Another admin holds the write lock, so the deletion is still under way when the
        # admin stops it, however fast this machine is.
        blocker = sqlite3.connect(sqlite_path(sqlite_db.url), isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        await pilot.press("y")
        await pilot.pause(0.3)
        assert any(worker.is_running for worker in app.workers)
        await pilot.press("escape")
        await pilot.pause()
        blocker.execute("ROLLBACK")
        blocker.close()
        await settle(pilot, app, typed=False)
        assert isinstance(app.screen, ReviewScreen)
        assert app.messages[-1] == "Deletion cancelled; nothing was deleted."
        assert ExternalUser.select().count() == 30_000
        assert AuditEvent.select().count() == 0
        assert len(app.screen.query_one(PagedTable).marks) == 30_000  # still chosen


async def test_enter_opens_the_user(sqlite_db):
    """enter (or e) shows the account in the same Edit modal as the main screen."""
    pytest.importorskip("extgw_tui.services.statistics")  # the modal's own dependency
    from extgw_tui.screens.edit_user import EditUserModal

    ids = _seed()
    app = HostApp(ReviewScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("enter")
        await settle(pilot, app, typed=False)
        assert isinstance(app.screen, EditUserModal)
        assert app.screen.user_id == ids["Oldest"]
        await pilot.press("escape")
        await settle(pilot, app, typed=False)
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("e")
        await settle(pilot, app, typed=False)
        assert isinstance(app.screen, EditUserModal)


async def test_at_80_columns_access_shows_and_the_main_keys_fit(sqlite_db):
    ids = _seed()
    _many_candidates(40)  # more than a screenful: the vertical scrollbar takes its room
    ExternalUser.update(access_allowed=False).where(ExternalUser.id == ids["Oldest"]).execute()
    app = ExtgwApp(db_url=sqlite_db.url)  # the real app: its help key is in the footer too
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("v")
        await settle(pilot, app, typed=False)
        assert isinstance(app.screen, ReviewScreen)
        table = app.screen.query_one(PagedTable)
        headers = [str(column.label) for column in table.columns.values()]
        assert "Access" in headers and "Created" not in headers and "Title" not in headers
        assert table.max_scroll_x == 0  # nothing cut off at the right
        assert "denied" in [str(cell) for cell in table.get_row(str(ids["Oldest"]))]
        footer = app.screen.query_one(Footer)
        shown = {
            key.description
            for key in footer.query("FooterKey")  # by type name: the class is private
            if key.region.width and key.region.right <= app.size.width
        }
        assert {"Mark", "Mark all", "Threshold", "Delete", "Export", "Help"} <= shown
    wide = HostApp(ReviewScreen)
    async with wide.run_test(size=(140, 40)) as pilot:
        await settle(pilot, wide, typed=False)
        table = wide.screen.query_one(PagedTable)
        headers = [str(column.label) for column in table.columns.values()]
        assert {"Title", "Created", "Access"} <= set(headers)
