"""The Licence keys screen and its dialogs, keyboard only, at 80x24, on a real database."""

from __future__ import annotations

from busy_pilot import send_key, wait_until
from host_app import HostApp
from key_helpers import add_contact, add_pupil, keys_for, read_letters
from smtp_helpers import smtp_server
from textual.app import App
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from extgw_tui.models import AuditEvent, KeyBatch, LicenceKey
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.edit_user import EditUserModal
from extgw_tui.screens.key_generate import GenerateKeysModal
from extgw_tui.screens.key_send import SendKeysModal
from extgw_tui.screens.licence_keys import KeyTable, LicenceKeysScreen


def _status(app: App) -> str:
    return str(app.screen.query_one("#keys-status", Static).render())


async def test_list_filter_totals_and_revoke(sqlite_db, tmp_path):
    a, b = add_pupil("Able", form="7A"), add_pupil("Baker", year=8, form="8B")
    keys_for(tmp_path, a, name="a.xlsx")
    keys_for(tmp_path, b, per_pupil=1, name="b.xlsx")
    app = HostApp(LicenceKeysScreen, styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(KeyTable)
        await wait_until(lambda: "rows 1-3 of 3" in _status(app))
        await pilot.press("slash", *"form:8B", "enter")
        await wait_until(lambda: table.total == 1)
        assert table.current_row.pupil == "Sam Baker"
        await pilot.press("slash", "ctrl+u", *"nonsense:1")
        await wait_until(lambda: "is not a filter" in _status(app))
        await pilot.press("ctrl+u", "enter")
        await wait_until(lambda: table.total == 3)
        await pilot.press("t")
        totals = app.screen.query_one("#keys-totals", DataTable)
        await wait_until(lambda: totals.row_count == 2)
        assert "3 outstanding" in _status(app)
        await pilot.press("t")
        await pilot.press("home", "space", "down", "space", "r")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await wait_until(lambda: any("Revoked 2 key(s)." in m for m in app.messages))
        assert LicenceKey.select().where(LicenceKey.revoked_at.is_null(False)).count() == 2
        assert AuditEvent.select().where(AuditEvent.action == "key.revoke").count() == 1


async def test_generate_letters_from_the_dialog_and_send_emails(sqlite_db, tmp_path, monkeypatch):
    monkeypatch.setenv("EXTGW_EXPORT_DIR", str(tmp_path))
    marked = add_pupil("Marked", form="9C")
    add_contact(marked, 1, "carer@example.org")
    add_pupil("Other", form="9C")
    app = HostApp(lambda: LicenceKeysScreen((marked.id,)), styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        dialog = app.screen
        assert isinstance(dialog, GenerateKeysModal)
        count = dialog.query_one("#keygen-count", Static)
        await wait_until(
            lambda: "1 pupil(s) on roll: 1 marked pupil(s); up to 2" in str(count.render())
        )
        dialog.query_one("#keygen-email").value = True  # the checkbox, as space would
        await pilot.pause()
        await pilot.press("ctrl+g")
        status = dialog.query_one("#keygen-status", Static)
        await wait_until(lambda: "Batch 1" in str(status.render()))
        text = str(status.render())
        assert "cannot be shown again" in text and "1 email(s) are ready" in text
        path = dialog.query_one("#keygen-path", Input).value
        rows = read_letters(path)
        assert len(rows) == 1 and rows[0][0] == "Sam Marked"  # one emailed, one by letter
        await pilot.press("escape")
        assert isinstance(app.screen, LicenceKeysScreen)
        table = app.screen.query_one(KeyTable)
        await wait_until(lambda: table.total == 2 and not table.fetching)
        if table.current_row.method != "email":
            await pilot.press("down")
        with smtp_server() as (recorder, port):
            monkeypatch.setenv("EXTGW_SMTP_HOST", "127.0.0.1")
            monkeypatch.setenv("EXTGW_SMTP_PORT", str(port))
            monkeypatch.setenv("EXTGW_SMTP_SECURITY", "none")
            monkeypatch.setenv("EXTGW_SMTP_FROM", "office@school.example")
            await pilot.press("m")
            assert isinstance(app.screen, SendKeysModal)
            sending = app.screen.query_one("#keysend-status", Static)
            await wait_until(lambda: "1 email(s) to send" in str(sending.render()))
            await pilot.press("enter")
            await wait_until(lambda: "Key emails: 1 sent" in str(sending.render()))
        assert [r.rcpt_tos for r in recorder.received] == [["carer@example.org"]]
        assert KeyBatch.get().method == "email"


async def test_a_generation_cancelled_by_escape_leaves_nothing(sqlite_db, tmp_path, monkeypatch):
    monkeypatch.setenv("EXTGW_EXPORT_DIR", str(tmp_path / "out"))
    (tmp_path / "out").mkdir()
    for n in range(3000):
        add_pupil(f"P{n:04d}") if n < 5 else None
    from extgw_tui.models import Pupil

    Pupil.insert_many(
        [
            {
                "forename": "F",
                "surname": f"S{n}",
                "surname_key": f"s{n}",
                "form": "7A",
                "year_group": 7,
            }
            for n in range(20000)
        ]
    ).execute()
    app = HostApp(LicenceKeysScreen, styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        dialog = app.screen
        count = dialog.query_one("#keygen-count", Static)
        await wait_until(lambda: "20,005 pupil(s)" in str(count.render()))
        # send_key, not press(): press() waits for the process to go idle, and the generation
        # keeps it busy, so the keys could all be written before the test looked.
        send_key(app, "ctrl+g")
        await wait_until(lambda: dialog.running)
        send_key(app, "escape")
        status = dialog.query_one("#keygen-status", Static)
        await wait_until(lambda: not dialog.running, timeout=60)
        assert "cancelled" in str(status.render()).lower()
    assert LicenceKey.select().count() == 0 and KeyBatch.select().count() == 0
    assert list((tmp_path / "out").iterdir()) == []


async def test_the_edit_dialog_says_how_each_licence_was_obtained(sqlite_db, tmp_path):
    from extgw_tui.models import Licence, LicenceType
    from extgw_tui.services.registration import register

    keyed, given = add_pupil("Keyed"), add_pupil("Given")
    (key,) = keys_for(tmp_path, keyed, per_pupil=1)
    user = register("p@example.org", "correct horse battery", "", "P", "Jones", key, "ip")
    Licence.create(user=user.id, pupil=given.id, licence_type=LicenceType.get_by_id(2))
    key_id = LicenceKey.get().id
    app = HostApp(lambda: EditUserModal(user.id), styled=True)
    async with app.run_test(size=(80, 24)):
        obtained = app.screen.query_one("#edit-obtained", Static)
        await wait_until(lambda: "How obtained" in str(obtained.render()))
        text = str(obtained.render())
    assert "Sam Given · Pupil: given by the school" in text
    assert f"Sam Keyed · Parent/Guardian: licence key {key_id} (batch 1), redeemed" in text


async def test_from_the_pupils_screen_marked_pupils_get_keys_and_the_pupil_shows_them(
    sqlite_db, tmp_path, monkeypatch
):
    from extgw_tui.app import ExtgwApp
    from extgw_tui.screens.pupil_detail import PupilDetailScreen
    from extgw_tui.screens.pupils import PupilsScreen
    from extgw_tui.widgets.paged_table import PagedTable
    from extgw_tui.widgets.pupil_keys import PupilKeys

    monkeypatch.setenv("EXTGW_EXPORT_DIR", str(tmp_path))
    first, second = add_pupil("Aardvark", form="7A"), add_pupil("Badger", form="7A")
    add_pupil("Cheetah", form="7A")
    app = ExtgwApp(sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("P")
        await wait_until(lambda: isinstance(app.screen, PupilsScreen))
        await wait_until(lambda: app.screen.query(PagedTable) and app.screen.table.total == 3)
        await pilot.press("space", "down", "space", "K")
        await wait_until(lambda: isinstance(app.screen, LicenceKeysScreen))
        assert sorted(app.screen.pupil_ids) == sorted([first.id, second.id])
        await pilot.press("n")
        dialog = app.screen
        count = dialog.query_one("#keygen-count", Static)
        await wait_until(lambda: "2 pupil(s) on roll: 2 marked pupil(s)" in str(count.render()))
        await pilot.press("ctrl+g")
        status = dialog.query_one("#keygen-status", Static)
        await wait_until(lambda: "Batch 1: 4 key(s) for 2 pupil(s)." in str(status.render()))
        await pilot.press("escape", "escape")
        await wait_until(lambda: isinstance(app.screen, PupilsScreen))
        await pilot.press("home", "enter")
        await wait_until(lambda: isinstance(app.screen, PupilDetailScreen))
        section = app.screen.query_one(PupilKeys)
        await wait_until(
            lambda: "2 issued, 2 outstanding" in str(section.query_one(Static).render())
        )
        assert section.query_one(DataTable).row_count == 2


async def test_mark_all_and_enter_opens_the_pupil(sqlite_db, tmp_path):
    from extgw_tui.screens.pupil_detail import PupilDetailScreen

    pupil = add_pupil("Zebra", form="7Z")
    keys_for(tmp_path, pupil, per_pupil=3)
    app = HostApp(LicenceKeysScreen, styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(KeyTable)
        await wait_until(lambda: "rows 1-3 of 3" in _status(app))
        await pilot.press("a")
        await wait_until(lambda: len(table.marks) == 3)
        await pilot.press("enter")
        await wait_until(lambda: isinstance(app.screen, PupilDetailScreen))
        assert app.screen.pupil_id == pupil.id


async def test_the_keys_are_asked_for_once_on_opening_and_again_after_a_dialog(sqlite_db, tmp_path):
    """The first resume is the screen being shown: a reload then doubled every opening."""
    keys_for(tmp_path, add_pupil("Able", form="7A"), name="a.xlsx")
    app = HostApp(LicenceKeysScreen, styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, table = app.screen, app.screen.query_one(KeyTable)
        await wait_until(lambda: "rows 1-2 of 2" in _status(app))
        await pilot.pause(0.3)
        assert table.pager.generation == 1  # the query on_mount started, and no other
        await app.push_screen(Screen())
        app.pop_screen()
        await wait_until(lambda: table.pager.generation == 2 and app.screen is screen)
