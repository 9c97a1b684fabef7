"""The Edit modal and the Remove-pupil chooser, driven by keyboard over a real database."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from app_helpers import settle
from host_app import UNSET, HostApp
from textual.screen import Screen
from textual.widgets import DataTable, Sparkline, Static
from textual_plotext import PlotextPlot

from extgw_tui.models import (
    AuditEvent,
    ExternalUser,
    Licence,
    LicenceType,
    LoginEvent,
    Pupil,
)
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.edit_user import EditUserModal
from extgw_tui.screens.help import screen_actions
from extgw_tui.screens.remove_pupil import RemovePupilModal
from extgw_tui.screens.row_actions import RowActionsModal


@pytest.fixture
def family(db) -> dict:
    """Mrs Jones holds Amy (Parent/Guardian) and Ben (Parent/Guardian and Pupil); Mr Shaw
    also holds Amy, so removing Amy from Mrs Jones must leave his licence alone."""
    parent = LicenceType.get(name="Parent/Guardian")
    pupil_type = LicenceType.get(name="Pupil")
    jones = ExternalUser.create(
        title="Mrs",
        forename="Ann",
        surname="Jones",
        email="ann.jones@example.org",
        password_hash="x",
        created_at=datetime(2024, 1, 2, 10, 0),
        last_login_at=datetime(2026, 11, 1, 9, 30),
    )
    shaw = ExternalUser.create(surname="Shaw", email="shaw@example.org", password_hash="x")
    amy = Pupil.create(forename="Amy", surname="Jones", year_group=7, form="7B")
    ben = Pupil.create(forename="Ben", surname="Jones", year_group=10, form="10C")
    Licence.create(user=jones, pupil=amy, licence_type=parent)
    Licence.create(user=jones, pupil=ben, licence_type=parent)
    Licence.create(user=jones, pupil=ben, licence_type=pupil_type)
    Licence.create(user=shaw, pupil=amy, licence_type=parent)
    return {"jones": jones.id, "shaw": shaw.id, "amy": amy.id, "ben": ben.id}


def text(screen: Screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def table_rows(screen: Screen) -> list[list[str]]:
    table = screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def pupils_of(user_id: int) -> set[int]:
    return {lic.pupil_id for lic in Licence.select().where(Licence.user == user_id)}


async def test_chooser_confirms_names_the_pupil_and_removes(family) -> None:
    app = HostApp(lambda: RemovePupilModal(family["jones"]), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        assert "Mrs Ann Jones <ann.jones@example.org>" in text(app.screen, "#remove-holder")
        assert table_rows(app.screen) == [
            ["Amy Jones", "Year 7", "7B", "Parent/Guardian"],
            ["Ben Jones", "Year 10", "10C", "Parent/Guardian, Pupil"],
        ]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        question = text(app.screen, "#confirm-question")
        assert "Ben Jones (form 10C, Year 10)" in question
        assert "Mrs Ann Jones <ann.jones@example.org>" in question
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, RemovePupilModal)
        assert pupils_of(family["jones"]) == {family["amy"], family["ben"]}
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, app, typed=False)
        assert app.result is True
    assert pupils_of(family["jones"]) == {family["amy"]}
    assert pupils_of(family["shaw"]) == {family["amy"]}
    (entry,) = AuditEvent.select().where(AuditEvent.action == "pupil.remove")
    assert (entry.user_id, entry.target, entry.admin) == (
        family["jones"],
        "ann.jones@example.org",
        "test-admin",
    )
    assert "Ben Jones (10C); 2 licence(s)" in entry.detail


async def test_chooser_escape_changes_nothing(family) -> None:
    app = HostApp(lambda: RemovePupilModal(family["jones"]), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is False
    assert pupils_of(family["jones"]) == {family["amy"], family["ben"]}
    assert AuditEvent.select().count() == 0


async def test_chooser_says_when_there_is_nothing_to_remove(family) -> None:
    app = HostApp(lambda: RemovePupilModal(family["shaw"]), styled=True)
    Licence.delete().where(Licence.user == family["shaw"]).execute()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        assert text(app.screen, "#remove-status") == "This account has no pupils to remove."
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, RemovePupilModal)


async def test_removal_by_another_admin_meanwhile_is_explained(family) -> None:
    app = HostApp(lambda: RemovePupilModal(family["jones"]), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        Licence.delete().where(Licence.pupil == family["amy"]).execute()
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, app, typed=False)
        assert isinstance(app.screen, RemovePupilModal) and app.result is UNSET
        assert "no longer has access to that pupil" in text(app.screen, "#remove-status")
        assert table_rows(app.screen)[0][0] == "Ben Jones"


@pytest.fixture
def logins(db, family) -> dict:
    """Mrs Jones's logins: three in the last 30 days, two about 100 days ago, one 400 days ago;
    Mr Shaw's login must not count for her."""
    today = date.today()
    moments = [
        datetime.combine(today - timedelta(days=days), datetime.min.time()) + timedelta(hours=9)
        for days in (1, 5, 20, 100, 101, 400)
    ]
    for at in moments:
        LoginEvent.create(user=family["jones"], at=at)
    LoginEvent.create(user=family["shaw"], at=moments[0])
    return {"moments": moments, "today": today}


def month_labels(today: date) -> list[str]:
    """The 12 calendar months ending with this one, oldest first."""
    labels, year, month = [], today.year, today.month
    for _ in range(12):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return labels[::-1]


async def test_edit_shows_details_pupils_and_adr_note(family) -> None:
    app = HostApp(lambda: EditUserModal(family["jones"]), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        screen = app.screen
        assert "Mrs Ann Jones <ann.jones@example.org>" in text(screen, "#edit-title")
        details = text(screen, "#edit-details")
        for expected in (
            "Title    Mrs",
            "Forename    Ann",
            "Surname  Jones",
            "Access      Allowed",
            "Email    ann.jones@example.org",
            "Created  2024-01-02 10:00",
            "Last login  2026-11-01 09:30",
            "ADR      ✓ yes (read-only)",
        ):
            assert expected in details
        note = text(screen, "#edit-adr-note")
        assert "cannot be edited" in note and "May 2023" in note and "supplier" in note
        assert table_rows(screen) == [
            ["Amy Jones", "Year 7", "7B", "Parent/Guardian"],
            ["Ben Jones", "Year 10", "10C", "Parent/Guardian, Pupil"],
        ]
        assert text(screen, "#edit-pupils-title").startswith("Pupils: 2 pupils")
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is False


async def test_adr_note_is_true_for_an_older_account_and_fits_one_line(family) -> None:
    """The help page: since May 2023 ADR is yes by default for NEW users, so an account from
    February 2023 may well show "no"; the note must not claim otherwise."""
    older = ExternalUser.create(
        surname="Older",
        email="older@example.org",
        password_hash="x",
        adr=False,
        created_at=datetime(2023, 2, 14, 8, 0),
    )
    app = HostApp(lambda: EditUserModal(older.id), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        assert "ADR      ✗ no (read-only)" in text(app.screen, "#edit-details")
        note = text(app.screen, "#edit-adr-note")
        assert "new users" in note and "every account" not in note
        assert app.screen.query_one("#edit-adr-note").region.height == 1


async def test_edit_shows_never_for_an_account_that_never_logged_in(family) -> None:
    app = HostApp(lambda: EditUserModal(family["shaw"]), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        assert "Last login  Never" in text(app.screen, "#edit-details")
        assert "First login: Never   Last login: Never" in text(app.screen, "#edit-stats")


async def test_edit_removes_a_pupil_and_refreshes(family) -> None:
    app = HostApp(lambda: EditUserModal(family["jones"]), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        question = text(app.screen, "#confirm-question")
        assert "Amy Jones (form 7B, Year 7)" in question and "ann.jones@example.org" in question
        await pilot.press("y")
        await settle(pilot, app, typed=False)
        assert isinstance(app.screen, EditUserModal)
        assert [row[0] for row in table_rows(app.screen)] == ["Ben Jones"]
        assert text(app.screen, "#edit-pupils-title").startswith("Pupils: 1 pupil ")
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is True
    assert pupils_of(family["jones"]) == {family["ben"]}
    assert pupils_of(family["shaw"]) == {family["amy"]}
    (entry,) = AuditEvent.select().where(AuditEvent.action == "pupil.remove")
    assert entry.user_id == family["jones"] and "Amy Jones (7B)" in entry.detail


async def test_after_a_removal_the_cursor_stays_on_the_same_row(family) -> None:
    cat = Pupil.create(forename="Cat", surname="Jones", year_group=5, form="5A")
    Licence.create(user=family["jones"], pupil=cat, licence_type=LicenceType.get(name="Pupil"))
    app = HostApp(lambda: EditUserModal(family["jones"]), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        table = app.screen.query_one(DataTable)
        assert [row[0] for row in table_rows(app.screen)] == ["Amy Jones", "Ben Jones", "Cat Jones"]
        await pilot.press("down", "r", "y")  # remove Ben, the middle one
        await settle(pilot, app, typed=False)
        assert [row[0] for row in table_rows(app.screen)] == ["Amy Jones", "Cat Jones"]
        assert table.cursor_row == 1  # on Cat, who followed Ben
        await pilot.press("r", "y")  # remove Cat, the last one
        await settle(pilot, app, typed=False)
        assert [row[0] for row in table_rows(app.screen)] == ["Amy Jones"]
        assert table.cursor_row == 0 and app.focused is table
    assert pupils_of(family["jones"]) == {family["amy"]}


async def test_edit_statistics_match_the_login_events(family, logins) -> None:
    moments, today = logins["moments"], logins["today"]
    app = HostApp(lambda: EditUserModal(family["jones"]), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        stats = text(app.screen, "#edit-stats")
        labels = month_labels(today)
        since = datetime.strptime(labels[0], "%Y-%m").strftime("1 %b %Y")  # 11 months ago
        assert f"Logins: 6 in total, 3 in the last 30 days, 5 since {since} (12 months)" in stats
        first = moments[-1].strftime("%Y-%m-%d %H:%M")
        last = moments[0].strftime("%Y-%m-%d %H:%M")
        assert f"First login: {first}   Last login: {last}" in stats
        expected = [sum(1 for at in moments if at.strftime("%Y-%m") == lb) for lb in labels]
        spark = app.screen.query_one(Sparkline)
        assert spark.display and list(spark.data) == expected
        assert not app.screen.query_one(PlotextPlot).display
        assert f"{labels[0]} to {labels[-1]}" in text(app.screen, "#edit-spark-labels")


async def test_edit_draws_the_bar_chart_where_there_is_room(family, logins) -> None:
    app = HostApp(lambda: EditUserModal(family["jones"]), styled=True)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot, app, typed=False)
        plot = app.screen.query_one(PlotextPlot)
        assert plot.display and not app.screen.query_one(Sparkline).display
        assert "Logins per month" in plot.render().plain


async def test_chooser_works_by_mouse(family) -> None:
    app = HostApp(lambda: RemovePupilModal(family["jones"]), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        table = app.screen.query_one(DataTable)
        assert await pilot.click(DataTable, offset=(3, 2))  # header row, then Amy, then Ben
        await pilot.pause()
        assert table.cursor_row == 1
        assert await pilot.click("#remove")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "Ben Jones" in text(app.screen, "#confirm-question")
        assert await pilot.click("#yes")
        await settle(pilot, app, typed=False)
        assert app.result is True
    assert pupils_of(family["jones"]) == {family["amy"]}


async def test_edit_fits_80x24_with_buttons_shown(family, logins) -> None:
    app = HostApp(lambda: EditUserModal(family["jones"]), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        screen = app.screen.region
        for button in ("#remove", "#close"):
            region = app.screen.query_one(button).region
            assert region.height > 0 and screen.contains_region(region)
        spark = app.screen.query_one(Sparkline).region
        assert spark.height == 1 and screen.contains_region(spark)


@pytest.mark.parametrize(
    ("make_screen", "expected"),
    [
        (
            lambda ids: EditUserModal(ids["jones"]),
            {
                "Close the Edit dialog",
                "Remove the highlighted pupil (asks first)",
                "Reload the account, its pupils and its login statistics",
            },
        ),
        (
            lambda ids: RemovePupilModal(ids["jones"]),
            {
                "Close without removing anything",
                "Remove the highlighted pupil (asks first)",
                "Reload the account's pupils",
            },
        ),
        (
            lambda ids: RowActionsModal("Mrs Ann Jones"),
            {
                "Close without choosing",
                "Edit: pupils, licences, login statistics",
                "Remove a pupil from this account",
                "Email this user",
            },
        ),
    ],
)
async def test_help_lists_each_key_of_the_dialog_in_words(family, make_screen, expected) -> None:
    """`?` shows binding.tooltip (the footer keeps the short description)."""
    app = HostApp(lambda: make_screen(family), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        shown = {item.description for item in screen_actions(app.screen)}
        assert expected <= shown, shown
        for binding in type(app.screen).BINDINGS:
            if binding.tooltip:
                assert len(binding.description.split()) <= 2, binding.description
