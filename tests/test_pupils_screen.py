"""The Pupils screen, a pupil, coverage, and the review's second rule, by keyboard in the real
app (Pilot) at 80x24 and 140x40 on a real SQLite database."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from app_helpers import screen_text, settle
from busy_pilot import wait_until
from host_app import HostApp
from openpyxl import load_workbook
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from extgw_tui.app import ExtgwApp
from extgw_tui.models import AuditEvent, Contact, ExternalUser, Licence, Pupil, live_user
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.coverage import CoverageScreen
from extgw_tui.screens.coverage_export import CoverageExportModal
from extgw_tui.screens.edit_user import EditUserModal
from extgw_tui.screens.help import HelpScreen
from extgw_tui.screens.pupil_detail import PupilDetailScreen
from extgw_tui.screens.pupils import PupilsScreen
from extgw_tui.screens.review import ReviewScreen
from extgw_tui.screens.users import UsersScreen
from extgw_tui.services import pupils as pupils_service
from extgw_tui.widgets.paged_table import PagedTable

SIZES = [(80, 24), (140, 40)]
RECENT = datetime.now().replace(microsecond=0) - timedelta(days=3)
LONG_AGO = date.today() - timedelta(days=400)


def seed() -> dict[str, int]:
    """Forty pupils in 7A/7B (so the list pages), O'Brien among them with two holders and two
    contacts, and a leaver whose only holder has nothing else: a "left" review candidate."""
    ids = {}
    for n in range(40):
        Pupil.create(
            forename=f"Kid{n:02d}",
            surname="Able",
            year_group=7,
            form="7A" if n % 2 else "7B",
            admission_number=f"26{n:06d}",
        )
    siobhan = Pupil.create(
        forename="Siobhán", surname="O’Brien", year_group=8, form="8C", upn="A123456789012"
    )
    ids["pupil"] = siobhan.id
    for name, licence_type in (("Mum", 1), ("Siobhan", 2)):
        user = ExternalUser.create(
            forename=name,
            surname="O’Brien",
            email=f"{name.lower()}@example.org",
            password_hash="x",
            last_login_at=RECENT,
        )
        Licence.create(user=user.id, pupil=siobhan.id, licence_type=licence_type)
        ids[name] = user.id
    Contact.create(
        pupil=siobhan.id,
        priority=1,
        forename="Mum",
        surname="O’Brien",
        relationship="Mother",
        email="mum@example.org",
        parental_responsibility=True,
    )
    Contact.create(
        pupil=siobhan.id,
        priority=2,
        forename="Gran",
        surname="Kelly",
        relationship="Grandparent",
        email=None,
    )
    gone = Pupil.create(
        forename="Lee", surname="Leaver", year_group=11, form="11A", on_roll=False, left_on=LONG_AGO
    )
    leaver_parent = ExternalUser.create(
        surname="Leaverparent", email="lp@example.org", password_hash="x", last_login_at=RECENT
    )
    Licence.create(user=leaver_parent.id, pupil=gone.id, licence_type=1)
    ids["leaver_parent"] = leaver_parent.id
    return ids


def status(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


@pytest.mark.parametrize("size", SIZES)
async def test_pupils_search_filter_and_a_pupil(sqlite_db, size):
    ids = seed()
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await pilot.press("P")
        await settle(pilot, app)
        assert isinstance(app.screen, PupilsScreen)
        table = app.screen.query_one(PagedTable)
        assert table.total == 41  # on roll only
        text = screen_text(app)
        for header in ("Name", "Year", "Form", "On roll", "Parent/Guardian", "Pupil", "Contacts"):
            assert header in text
        header_line = next(line for line in text.splitlines() if "Contacts" in line)
        assert ("UPN" in header_line) == (size[0] >= 124)  # wide terminals show more
        assert "41 on roll" in status(app, "#pupils-status")
        await pilot.press("G")  # the last of the whole result, not just the window
        await settle(pilot, app)
        assert table.position == 40

        await pilot.press("slash", *"obrien")
        await settle(pilot, app, typed=True)
        assert table.total == 1
        assert "1 on roll matching" in status(app, "#pupils-status")
        row = table.current_row
        assert row.holders == {1: 1, 2: 1} and row.contacts == 2
        await pilot.press("escape")
        assert app.focused is table

        await pilot.press("f")  # left the roll
        await settle(pilot, app)
        assert table.total == 0
        await pilot.press("slash", "ctrl+a", "ctrl+k", "enter")  # search cleared
        await settle(pilot, app)
        assert table.total == 1 and table.current_row.surname == "Leaver"
        await pilot.press("f")  # all
        await settle(pilot, app)
        assert table.total == 42
        assert "[all pupils]" in status(app, "#pupils-filter")

        await pilot.press("slash", *"8c", "enter")
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, PupilDetailScreen)
        text = screen_text(app)
        assert "Siobhán O’Brien · Year 8 · form 8C · on roll" in text
        assert "Holders: 2 accounts" in text and "Contacts: 2" in text
        assert "(no email)" in text and "Grandparent" in text
        holders = app.screen.query_one("#pupil-holders", DataTable)
        assert holders.row_count == 2
        assert max(len(line) for line in text.splitlines()) <= size[0]
        await pilot.press("e")
        await settle(pilot, app)
        assert isinstance(app.screen, EditUserModal)
        assert app.screen.user_id == ids["Mum"]
        await pilot.press("escape")
        await settle(pilot, app)
        assert isinstance(app.screen, PupilDetailScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, PupilsScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, UsersScreen)


@pytest.mark.parametrize("size", SIZES)
async def test_coverage_view_and_export(sqlite_db, size, tmp_path, monkeypatch):
    monkeypatch.setenv("EXTGW_EXPORT_DIR", str(tmp_path))
    seed()
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await pilot.press("P")
        await settle(pilot, app)
        await pilot.press("C")
        await settle(pilot, app)
        assert isinstance(app.screen, CoverageScreen)
        report = app.screen.report
        assert report.school.pupils == 41 and report.school.parents == 1
        table = app.screen.query_one(PagedTable)
        assert table.total == 6  # Year 7, 7A, 7B, Year 8, 8C, Whole school
        text = screen_text(app)
        assert "Year 7" in text and "Whole school: 41 on roll" in text
        assert "Enlarge the window" not in text  # the chart fits at 80x24 too
        await pilot.press("o", "o", "o")  # sort by the Parent/Guardian share, lowest first
        await settle(pilot, app)
        assert table.current_row.parent_share == 0.0
        await pilot.press("x")
        await settle(pilot, app)
        assert isinstance(app.screen, CoverageExportModal)
        await pilot.press("enter")
        await settle(pilot, app)
        [written] = tmp_path.glob("coverage_*.xlsx")
        assert load_workbook(written).worksheets[0].max_row == 7
        assert isinstance(app.screen, CoverageScreen)
        assert AuditEvent.select().where(AuditEvent.action == "export").count() == 1
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, PupilsScreen)


async def test_keys_are_in_help_and_palette(sqlite_db):
    seed()
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert any("Pupils" in str(title) for title in commands)
        await pilot.press("P")
        await settle(pilot, app)
        commands = [str(c.title) for c in app.get_system_commands(app.screen)]
        for wanted in ("Coverage", "on roll", "Open the pupil"):
            assert any(wanted in title for title in commands), wanted
        await pilot.press("question_mark")
        help_text = screen_text(app)
        assert "Coverage" in help_text and "Show the pupils on roll" in help_text


@pytest.mark.parametrize("size", SIZES)
async def test_review_switches_to_the_left_rule_and_deletes(sqlite_db, size):
    ids = seed()
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await pilot.press("v")
        await settle(pilot, app)
        assert isinstance(app.screen, ReviewScreen)
        assert app.screen.query_one(PagedTable).total == 0  # nobody is inactive
        await pilot.press("t")
        await settle(pilot, app)
        table = app.screen.query_one(PagedTable)
        assert table.total == 1 and table.current_row.id == ids["leaver_parent"]
        assert app.screen.query_one("#review-months", Input).value == "6"
        text = screen_text(app)
        assert "Every pupil left the roll at least" in text and "Pupils left" in text
        assert LONG_AGO.isoformat() in text and "last pupil left on or before" in text
        assert max(len(line) for line in text.splitlines()) <= size[0]
        await pilot.press("slash", "backspace", "1", "8", "enter")  # 18 months: nobody
        await settle(pilot, app)
        assert table.total == 0
        await pilot.press("slash", "backspace", "backspace", "1", "2", "enter")
        await settle(pilot, app)
        assert table.total == 1
        await pilot.press("space", "d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "whose pupils all left the roll at least 12 months ago" in app.screen.question
        await pilot.press("y")
        await settle(pilot, app)
        live = ExternalUser.select().where(live_user())
        # deleted (soft: restorable until the purge), gone for everyone else
        assert not live.where(ExternalUser.id == ids["leaver_parent"]).exists()
        assert ExternalUser.get_by_id(ids["leaver_parent"]).deleted_at is not None
        assert live.count() == 2
        await pilot.press("t")  # back to the inactive rule, with its own threshold
        await settle(pilot, app)
        assert app.screen.query_one("#review-months", Input).value == "12"
        assert "No pupils and no login for at least" in screen_text(app)


async def test_roll_screens_at_tiny_and_huge_sizes(sqlite_db):
    """A pupil and the coverage at 40x12 and 200x60, resized in between: nothing breaks."""
    seed()
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(40, 12)) as pilot:
        await settle(pilot, app)
        await pilot.press("P")
        await settle(pilot, app)
        await pilot.press("slash", *"obrien", "enter")
        await settle(pilot, app, typed=True)
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, PupilDetailScreen)
        for size in ((200, 60), (40, 12), (80, 24)):
            await pilot.resize_terminal(*size)
            await settle(pilot, app)
            assert "Holders: 2 accounts" in screen_text(app) or size == (40, 12)
        await pilot.press("escape", "C")
        await settle(pilot, app)
        for size in ((40, 12), (200, 60)):
            await pilot.resize_terminal(*size)
            await settle(pilot, app)
            assert isinstance(app.screen, CoverageScreen)
        await pilot.resize_terminal(40, 12)
        await settle(pilot, app)
        assert "Enlarge the window" in screen_text(app)  # no chart crammed into 40x12
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, UsersScreen)


async def test_a_pupil_is_read_once_on_opening_and_again_after_a_dialog(sqlite_db, monkeypatch):
    """The first resume is the screen being shown: reading the pupil then as well doubled
    the work of every opening."""
    seed()
    pupil_id = Pupil.get(Pupil.surname == "O’Brien").id
    read, real = [], pupils_service.pupil_detail
    monkeypatch.setattr(
        pupils_service, "pupil_detail", lambda wanted: read.append(wanted) or real(wanted)
    )
    app = HostApp(lambda: PupilDetailScreen(pupil_id), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(lambda: "Siobhán" in screen_text(app))
        await pilot.pause(0.3)
        assert read == [pupil_id]
        await app.push_screen(Screen())
        app.pop_screen()
        await wait_until(lambda: len(read) == 2)
