"""Undo in the app, keyboard only at 80x24: the issue's overlapping deny, the log's one row per
change, opening a change, and undoing it once."""

from __future__ import annotations

from app_helpers import messages, settle

from extgw_tui.app import ExtgwApp
from extgw_tui.models import AuditEvent, ExternalUser, Licence, Pupil
from extgw_tui.screens.activity import ActivityLogScreen
from extgw_tui.screens.activity_batch import ActivityBatchScreen
from extgw_tui.screens.activity_entry import ActivityEntryModal
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.users import UsersScreen
from extgw_tui.services import access, licences
from extgw_tui.services.mail import bouncing

U = ExternalUser


def make_users(count: int, denied: int) -> list[int]:
    ids = [
        U.create(surname=f"Hotmail{n:03d}", email=f"p{n}@hotmail.example", password_hash="x").id
        for n in range(count)
    ]
    access.set_access(ids[:denied], False, reason="denied on purpose")
    return ids


def allowed() -> set[int]:
    return {i for (i,) in U.select(U.id).where(U.access_allowed == True).tuples()}  # noqa: E712


async def test_overlapping_deny_undone_from_the_log_leaves_the_denied_denied(sqlite_db):
    ids = make_users(35, denied=5)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        await pilot.press("a")  # mark every match
        await settle(pilot, app)
        await pilot.press("D")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)
        question = app.screen.question
        assert question.startswith("Deny 35 accounts? 5 are already denied: 30 will change.")
        assert "The marks are cleared afterwards" in question
        await pilot.press("y")
        table = await settle(pilot, app)
        assert "Denied 30 accounts; 5 already denied. Marks cleared." in messages(app)
        assert table.marks == set() and allowed() == set()
        await pilot.press("D")  # a second D repeats nothing: there are no marks
        assert "Mark users first: space marks one, a marks every match." in messages(app)

        await pilot.press("L")
        log = await settle(pilot, app)
        assert isinstance(app.screen, ActivityLogScreen)
        assert log.total == 2  # the deny of 30 and the deny of 5: one row each, not 35
        top = log.current_row
        assert (top.action, top.size, top.state, top.what) == (
            "access.deny",
            30,
            "undoable",
            "30 accounts",
        )
        await pilot.press("enter")  # open the change: its 30 accounts
        batch = await settle(pilot, app)
        assert isinstance(app.screen, ActivityBatchScreen)
        assert batch.total == 30
        assert {r.user_id for r in batch.rows_held} == set(ids[5:])
        await pilot.press("e")
        await settle(pilot, app)
        assert isinstance(app.screen, ActivityEntryModal)
        await pilot.press("escape", "escape")
        await settle(pilot, app)
        assert isinstance(app.screen, ActivityLogScreen)

        await pilot.press("u")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)
        assert app.screen.question.startswith("Undo the deny of 30 accounts by test-admin on ")
        assert app.screen.question.endswith("? 30 will be allowed again.")
        await pilot.press("n")  # declined: nothing changes
        await settle(pilot, app)
        assert allowed() == set()
        await pilot.press("u")
        await settle(pilot, app)
        await pilot.press("y")
        log = await settle(pilot, app)
        assert allowed() == set(ids[5:])  # the five denied on purpose stay denied
        assert any(m.endswith(": 30 accounts allowed again.") for m in messages(app))
        assert log.total == 3
        undo_row, undone_row = log.rows_held[0], log.rows_held[1]
        assert (undo_row.action, undo_row.state, undo_row.size) == ("access.allow", "undo", 30)
        assert undone_row.state == "undone" and undone_row.what == "30 accounts (undone)"
        await pilot.press("j", "u")  # the same change again: refused, one sentence
        await settle(pilot, app)
        assert not isinstance(app.screen, ConfirmModal)
        assert messages(app)[-1].startswith("This batch was already undone on ")
        await pilot.press("k", "u")  # the undo itself cannot be undone
        await settle(pilot, app)
        assert "This batch is itself an undo" in messages(app)[-1]
        assert allowed() == set(ids[5:])


async def test_a_removed_pupil_comes_back_from_the_log(sqlite_db):
    user = U.create(surname="Parent", email="parent@example.org", password_hash="x")
    pupil = Pupil.create(forename="Amy", surname="Jones", form="7B")
    Licence.create(user=user.id, pupil=pupil.id, licence_type=1)
    licences.remove_pupil(user.id, pupil.id)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("L")
        log = await settle(pilot, app)
        assert log.current_row.action == "pupil.remove" and log.current_row.size == 1
        await pilot.press("u")
        await settle(pilot, app)
        assert app.screen.question.endswith("? 1 will be given their pupils back.")
        await pilot.press("y")
        await settle(pilot, app)
        assert Licence.select().where(Licence.user == user.id).count() == 1
        await pilot.press("escape")
        await settle(pilot, app)
        assert isinstance(app.screen, UsersScreen)


async def test_a_bouncing_address_is_marked_without_colour(sqlite_db, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    fine = U.create(surname="Aaron", email="fine@example.org", password_hash="x")
    gone = U.create(surname="Bounce", email="gone@example.org", password_hash="x")
    U.update(bounced_at=U.created_at).where(U.id == gone.id).execute()
    assert U.select().where(bouncing()).count() == 1
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        assert str(table.get_cell(str(gone.id), "email")) == "bounces! gone@example.org"
        assert str(table.get_cell(str(fine.id), "email")) == "fine@example.org"


async def test_the_log_of_an_old_database_lists_every_entry(sqlite_db):
    """Entries written before batches were grouped are each their own row, none lost."""
    AuditEvent.insert_many(
        [
            {"admin": "old", "action": "access.deny", "batch": "ab" * 16, "user_id": n}
            for n in range(4)
        ]
    ).execute()
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("L")
        log = await settle(pilot, app)
        assert log.total == 4
        await pilot.press("u")
        await settle(pilot, app)
        assert "before extgw-tui kept what undo needs" in messages(app)[-1]
