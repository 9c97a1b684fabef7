"""The main screen through the real app (Pilot) on a real SQLite database."""

from __future__ import annotations

import pytest
from app_helpers import messages, screen_strips, screen_text, settle
from busy_pilot import send_key
from textual.filter import NoColor
from textual.widgets import DataTable, Input, RadioButton, Select, Static
from user_rows import make_users

from extgw_tui.app import ExtgwApp
from extgw_tui.models import AuditEvent, ExternalUser, live_user
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.help import HelpScreen
from extgw_tui.screens.users import UsersScreen
from extgw_tui.services import portal, users
from extgw_tui.services.accounts import delete_users
from extgw_tui.widgets.paged_table import PagedTable

PASSWORD = "correct horse battery"


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def rows_on_screen(app, order: list[int]) -> tuple[int, int]:
    """The 1-based positions in `order` of the first and last user rows the terminal shows."""
    cells = [
        line.lstrip()[3:].split()
        for line in screen_text(app).splitlines()
        if line.lstrip().startswith(("[ ]", "[x]"))
    ]
    ids = [int(row[0]) for row in cells if row and row[0].isdigit()]
    return order.index(ids[0]) + 1, order.index(ids[-1]) + 1


def surname_order(term: str | None = None) -> list[int]:
    return [r.id for r in users.search_users(term, offset=0, limit=100_000)]


async def test_typing_a_search_filters_the_table(sqlite_db):
    make_users(1_050)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        assert table.total == 1_050
        await pilot.press("slash", *"Brown0000")
        table = await settle(pilot, app)
        assert app.screen.query_one("#search", Input).has_focus
        assert table.total == 2
        assert {r.surname for r in table.rows_held} == {"Brown00001", "Brown00009"}
        assert text_of(app, "#status") == "1,050 users · 0 denied · rows 1-2 of 2 matches"
        await pilot.press(*"@EXAMPLE")  # email contains, case-insensitive: nothing matches now
        table = await settle(pilot, app)
        assert table.total == 0
        assert text_of(app, "#status") == "1,050 users · 0 denied · no matches"
        await pilot.press("escape")
        assert table.has_focus
        await pilot.press("slash", "ctrl+u", *"user0100")  # email part
        table = await settle(pilot, app)
        assert table.total == 10


async def test_paging_reaches_the_last_user_with_end_and_with_page_down(sqlite_db):
    make_users(1_050)
    order = surname_order()
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        await pilot.press("end")
        table = await settle(pilot, app)
        assert table.current_row.id == order[-1]
        first, last = rows_on_screen(app, order)
        assert last == 1_050 and last - first > 10
        assert text_of(app, "#status").endswith(f"rows {first:,}-1,050 of 1,050")
        await pilot.press("up")  # moving within the screen changes nothing...
        assert text_of(app, "#status").endswith(f"rows {first:,}-1,050 of 1,050")
        for _ in range(last - first):
            await pilot.press("up")
        await pilot.pause()  # ...until the rows on screen change, without a reload
        first, last = rows_on_screen(app, order)
        assert last < 1_050
        assert text_of(app, "#status").endswith(f"rows {first:,}-{last:,} of 1,050")
        await pilot.press("home")
        table = await settle(pilot, app)
        assert table.current_row.id == order[0]
        presses = 0
        while table.position < 1_049 and presses < 200:
            await pilot.press("pagedown")
            table = await settle(pilot, app, typed=False)
            presses += 1
        assert table.current_row.id == order[-1]
        assert 40 < presses < 100  # a screenful at a time, about 18 rows at 80x24


async def test_deny_then_allow_marked_users(sqlite_db):
    make_users(20)
    portal.register("pat@example.org", PASSWORD, surname="Aardvark")
    portal.register("sam@example.org", PASSWORD, surname="Abbot")
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        assert [r.surname for r in table.rows_held[:2]] == ["Aardvark", "Abbot"]
        await pilot.press("space", "D")
        await settle(pilot, app)  # the preview counts, in a worker, what will change
        assert isinstance(app.screen, ConfirmModal)
        assert "1 account?" in str(app.screen.question)
        await pilot.press("y")
        table = await settle(pilot, app)
        pat = ExternalUser.get(ExternalUser.email_key == "pat@example.org")
        assert pat.access_allowed is False
        assert "Denied 1 account. Marks cleared." in messages(app)
        assert table.marks == set()
        assert str(table.get_cell(str(pat.id), "access")) == "✗ DENIED"
        assert "1 denied" in text_of(app, "#status")
        audit = list(AuditEvent.select().where(AuditEvent.action == "access.deny"))
        assert [(a.user_id, a.admin, a.target) for a in audit] == [
            (pat.id, "test-admin", "pat@example.org")
        ]
        assert portal.authenticate("pat@example.org", PASSWORD) is None
        assert portal.authenticate("sam@example.org", PASSWORD) is not None

        await pilot.press("A")  # the marks were cleared: nothing to allow
        assert "Mark users first: space marks one, a marks every match." in messages(app)
        await pilot.press("space", "A")
        await settle(pilot, app)
        await pilot.press("n")  # declining changes nothing
        await settle(pilot, app)
        assert portal.authenticate("pat@example.org", PASSWORD) is None
        await pilot.press("A")
        await settle(pilot, app)
        await pilot.press("y")
        await settle(pilot, app)
        assert portal.authenticate("pat@example.org", PASSWORD) is not None
        assert AuditEvent.select().where(AuditEvent.action == "access.allow").count() == 1


async def test_the_base_bar_select_and_apply_deny_the_marked_users(sqlite_db):
    ids = make_users(30)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("a")
        await settle(pilot, app)
        assert text_of(app, "#marked") == "30 marked"
        await pilot.click("#apply")
        assert "Choose Allow or Deny first." in messages(app)
        app.clear_notifications()  # the toast would cover the Apply button
        await pilot.pause(0.3)  # and a button ignores clicks while it shows being pressed
        app.screen.query_one("#bulk-action", Select).value = "deny"
        await pilot.click("#apply")
        await settle(pilot, app)  # the preview counts, in a worker, what will change
        assert isinstance(app.screen, ConfirmModal)
        assert "30 accounts" in app.screen.question
        await pilot.click("#yes")
        await settle(pilot, app)
        denied = ExternalUser.select().where(ExternalUser.access_allowed == False)  # noqa: E712
        assert sorted(u.id for u in denied) == ids


async def test_the_base_bar_by_keyboard_only(sqlite_db):
    ids = make_users(12)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        await pilot.press("space", "j", "space")
        marked = {table.rows_held[0].id, table.rows_held[1].id}
        await pilot.press("tab", "enter")  # table -> the Allow/Deny select, open it
        await pilot.press("down", "down", "enter")  # past the prompt and Allow: Deny
        assert app.screen.query_one("#bulk-action", Select).value == "deny"
        await pilot.press("tab", "enter")  # Apply
        await settle(pilot, app)  # the preview counts, in a worker, what will change
        assert isinstance(app.screen, ConfirmModal)
        assert "2 accounts" in app.screen.question
        await pilot.press("enter")  # the default button confirms
        table = await settle(pilot, app)
        denied = ExternalUser.select().where(ExternalUser.access_allowed == False)  # noqa: E712
        assert {u.id for u in denied} == marked and marked <= set(ids)
        assert app.focused is table  # back on the list, not on Apply
        await pilot.press("j")
        assert table.position == 2


async def test_marks_survive_paging_and_searching(sqlite_db):
    make_users(600)
    order = surname_order()
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        await pilot.press("space", "end")
        table = await settle(pilot, app)
        await pilot.press("space")
        assert table.marks == {order[0], order[-1]}
        await pilot.press("slash", *users.user_row(order[0]).surname)
        table = await settle(pilot, app)
        assert table.total == 1
        assert text_of(app, "#marked") == "2 marked (1 not in view)"
        await pilot.press("ctrl+u")
        table = await settle(pilot, app)
        assert text_of(app, "#marked") == "2 marked"
        await pilot.press("escape", "end")
        table = await settle(pilot, app)
        assert str(table.get_row_at(table.cursor_row)[0]) == "[x]"
        await pilot.press("c")
        assert text_of(app, "#marked") == "0 marked"


async def test_80x24_shows_surname_email_and_access(sqlite_db):
    make_users(40)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        keys = [c.key.value for c in table.ordered_columns]
        assert {"surname", "email", "access"} <= set(keys)
        width = sum(c.get_render_width(table) for c in table.ordered_columns)
        assert width <= table.size.width - table.styles.scrollbar_size_vertical
        screen = screen_text(app)
        for label in ("Surname", "Email", "Access", "Allowed", "user00000@example.org"):
            assert label in screen
        await pilot.resize_terminal(140, 40)
        table = await settle(pilot, app)
        assert [c.key.value for c in table.ordered_columns] == [
            "mark",
            "id",
            "title",
            "forename",  # from 100 columns on (issue 13: tell the 1,273 Wrights apart)
            "surname",
            "email",
            "created",
            "adr",
            "access",
            "actions",
        ]


async def test_a_row_deleted_by_another_admin_is_reported_not_an_error(sqlite_db):
    ids = make_users(10)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        gone = table.current_row.id
        await pilot.press("space")
        delete_users([gone])  # another admin, meanwhile
        await pilot.press("e")
        table = await settle(pilot, app)
        assert any("no longer exists" in m for m in messages(app))
        assert isinstance(app.screen, UsersScreen)
        assert table.total == 9  # and the list was refreshed
        await pilot.press("D")
        await settle(pilot, app)
        assert "1 no longer exists: 0 will change." in app.screen.question
        await pilot.press("y")
        await settle(pilot, app)
        assert "Denied 0 accounts; 1 no longer exist. Marks cleared." in messages(app)
        live = ExternalUser.id.in_(ids) & live_user()
        assert ExternalUser.select().where(live).count() == 9


async def test_refresh_and_sort_keys(sqlite_db):
    make_users(50)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        make_users(5, start=50)  # another admin adds accounts
        await pilot.press("ctrl+r")
        table = await settle(pilot, app)
        assert table.total == 55
        assert text_of(app, "#status").startswith("55 users")
        make_users(1, start=55)
        await pilot.press("f5")
        table = await settle(pilot, app)
        assert table.total == 56
        await pilot.press("O")
        table = await settle(pilot, app)
        assert table.current_row.id == surname_order()[-1]
        await pilot.press("o")  # surname -> email
        table = await settle(pilot, app)
        assert table.sort_key == "email"
        assert "Email ▲" in screen_text(app)


async def test_help_lists_the_screen_keys_and_the_palette_every_action(sqlite_db):
    make_users(5)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for name in (
            "Deny access to the marked users",
            "Allow access for the marked users",
            "Mark all matches",
            "Clear marks",
            "Export to Excel",
            "Login statistics",
            "Review user accounts",
            "Activity log",
            "Email the user under the cursor",
            "Edit user: pupils, licences, login statistics",
            "Remove a pupil from the user under the cursor",
            "Sort: reverse",
            "Refresh from the database",
        ):
            assert name in titles
        footer = screen_text(app).splitlines()[-1]  # the main keys fit 80 columns
        for key in ("/ Search", "e Edit", "m Email", "D Deny", "A Allow", "x Export", "? Help"):
            assert key in footer
        await pilot.press("question_mark")
        assert app.screen.__class__.__name__ == "HelpScreen"
        shown = screen_text(app)
        assert "Deny access to the marked users" in shown and "Search by surname" in shown
        await pilot.press("escape")
        assert isinstance(app.screen, UsersScreen)
        await pilot.press("f1", "escape", "ctrl+p")
        await pilot.pause()
        await pilot.press(*"deny marked")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert "Mark users first: space marks one, a marks every match." in messages(app)


async def test_q_quits_only_when_no_text_box_has_focus(sqlite_db):
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash", "q")
        assert app.screen.query_one("#search", Input).value == "q"
        assert app.is_running
        await pilot.press("escape", "q")
        await pilot.pause()
    assert app.return_code == 0
    assert not app.is_running


async def test_an_unexpected_exception_is_logged_and_shown_not_raised(sqlite_db):
    from extgw_tui.logs import setup_logging

    log_path = setup_logging()

    def boom() -> None:
        raise RuntimeError("boom in a callback")

    app = ExtgwApp(db_url=sqlite_db.url)
    app.reraise_bugs_headless = False  # reported and survived: this one must not fail the test
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        app.call_later(boom)
        await pilot.pause(0.2)
        assert app.is_running
        assert any("Unexpected error (RuntimeError)" in m for m in messages(app))
        await pilot.press("slash", *"adams")  # and it still works
        table = await settle(pilot, app)
        assert table.total == 0
    assert log_path is not None
    assert "boom in a callback" in log_path.read_text()


async def test_theme_option_and_no_color(sqlite_db, monkeypatch):
    ids = make_users(3)
    from extgw_tui.services.access import set_access

    set_access(ids[:1], False)
    app = ExtgwApp(db_url=sqlite_db.url, theme_name="textual-ansi")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.theme == "ansi-dark"  # Textual 8's name for the old textual-ansi
        assert app.current_theme.ansi
    app = ExtgwApp(db_url=sqlite_db.url, theme_name="no-such-theme")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert any("no theme called 'no-such-theme'" in m for m in messages(app))
    monkeypatch.setenv("NO_COLOR", "1")
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.no_color
        shown = screen_text(app)
        assert "✗ DENIED" in shown and "✓ Allowed" in shown
        await pilot.press("x")  # the chosen export stands out without colour too
        await settle(pilot, app)
        chosen = [b for b in app.screen.query(RadioButton) if b.value]
        others = [b for b in app.screen.query(RadioButton) if not b.value]
        assert len(chosen) == 1 and others
        assert chosen[0].styles.text_style.underline
        assert not any(b.styles.text_style.underline for b in others)
    app = ExtgwApp(db_url=sqlite_db.url, theme_name="textual-ansi")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        strips = screen_strips(app)
        no_color = next(f for f in app.get_line_filters() if isinstance(f, NoColor))
        lines = [no_color.apply(list(strip), app.screen.styles.background) for strip in strips]
        segments = [seg for line in lines for seg in line if seg.text.strip()]
        assert segments  # the rows are drawn in the terminal's own colours, never black on black
        assert all(
            seg.style is None or seg.style.color is None or seg.style.color.is_default
            for seg in segments
        )


@pytest.mark.parametrize(
    ("key", "name", "own_key"),
    [
        ("m", "EmailUserModal", "Send"),
        ("e", "EditUserModal", "Remove"),
        ("enter", "EditUserModal", "Remove"),
        ("r", "RemovePupilModal", "Remove"),
        ("x", "ExportModal", "Export"),
        ("s", "StatsScreen", "period"),
        ("v", "ReviewScreen", "Delete"),
        ("L", "ActivityLogScreen", "Filter"),
    ],
)
async def test_each_key_opens_its_screen_and_f1_its_keys(sqlite_db, key, name, own_key):
    make_users(5)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press(key)
        await settle(pilot, app)
        assert type(app.screen).__name__ == name
        assert not [m for m in messages(app) if "Unexpected" in m]
        await pilot.press("f1")  # in a dialog too, even with a text box focused
        assert isinstance(app.screen, HelpScreen)
        assert any(own_key in item.description for item in app.screen.actions)
        await pilot.press("escape")
        assert type(app.screen).__name__ == name
        await pilot.press("escape")
        await settle(pilot, app)
        assert isinstance(app.screen, UsersScreen)


async def test_clicking_the_email_cell_opens_the_email_modal(sqlite_db):
    make_users(5)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        email_x = sum(c.get_render_width(table) for c in table.ordered_columns[:4]) + 2
        await pilot.click(PagedTable, offset=(email_x, 3))
        await settle(pilot, app)
        assert type(app.screen).__name__ == "EmailUserModal"
        assert app.screen.user_id == table.rows_held[2].id


async def test_coming_back_to_the_screen_reloads_what_others_changed(sqlite_db):
    ids = make_users(12)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        await pilot.press("question_mark")
        from extgw_tui.services.access import set_access

        set_access(ids[:3], False)  # another admin, while this one reads the help
        make_users(2, start=12)
        await pilot.press("escape")
        table = await settle(pilot, app)
        assert table.total == 14
        assert text_of(app, "#status").startswith("14 users · 3 denied")


async def test_clicking_the_actions_cell_offers_edit_and_remove(sqlite_db):
    make_users(5)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(140, 30)) as pilot:
        table = await settle(pilot, app)
        actions_x = sum(c.get_render_width(table) for c in table.ordered_columns[:-1]) + 3
        await pilot.click(PagedTable, offset=(actions_x, 2))
        await pilot.pause()
        assert type(app.screen).__name__ == "RowActionsModal"
        await pilot.press("r")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "RemovePupilModal"
        assert app.screen.user_id == table.rows_held[1].id


async def test_ctrl_q_asks_before_losing_a_typed_email(sqlite_db):
    make_users(3)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("m")
        await settle(pilot, app)
        await pilot.press(*"Parents evening")
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, ConfirmModal)
        assert "Quit and lose the email you are writing to" in app.screen.question
        await pilot.press("n")
        assert type(app.screen).__name__ == "EmailUserModal"
        assert app.screen.subject == "Parents evening"  # nothing lost
        assert app.is_running
        await pilot.press("ctrl+q", "y")
        await pilot.pause()
    assert not app.is_running


async def test_control_characters_in_stored_names_never_reach_the_terminal(sqlite_db):
    """ESC in a surname would recolour or move the admin's terminal; a tab or newline would
    break the row. The list shows them escaped; every other widget drops them."""
    nasty = "\x1b[31mRed\tTab\nLine\x9b2J"
    user = ExternalUser.create(
        surname=nasty, forename="Ann\x07", email="red@example.org", password_hash="x"
    )
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(140, 30)) as pilot:
        table = await settle(pilot, app)
        assert str(table.get_cell(str(user.id), "surname")) == "\\x1b[31mRed\\tTab\\nLine\\x9b2J"
        shown = screen_text(app)
        assert "\\x1b[31mRed" in shown
        await pilot.press("e")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "EditUserModal"
        shown = screen_text(app)
        assert "Red" in shown and "Ann" in shown
        assert not any(ch in shown for ch in "\x1b\x07\x9b\t")


async def test_slash_then_fast_typing_goes_into_the_search_box(sqlite_db):
    """ "/smith" typed at full speed (or pasted) searches; the s and m never reach the list,
    where they would open the statistics and an email."""
    make_users(5)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        for key in ["slash", *"smith"]:
            send_key(app, key)  # all queued before the app handles the first
        await settle(pilot, app)
        assert isinstance(app.screen, UsersScreen)
        assert app.screen.query_one("#search", Input).value == "smith"
        assert app.screen.query_one(PagedTable).total == 0  # and the search ran


async def test_a_filter_that_cannot_be_understood_is_explained_under_the_box(sqlite_db):
    make_users(30)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        assert table.total == 30
        await pilot.press("slash")
        # the whole term at once, as pasted: typed a key at a time on a busy machine, the
        # debounce can fire between keys and search "aces" (nobody), the "last good search"
        app.screen.query_one("#search", Input).insert_text_at_cursor("acess:denied")
        table = await settle(pilot, app)
        problem = text_of(app, "#search-problem")
        assert problem.startswith("There is no filter acess: (did you mean access:?)")
        assert app.screen.query_one("#search-problem").display
        assert table.total == 30 and not messages(app)  # the last good search stays
        await pilot.press("ctrl+u", *"access:denied")
        table = await settle(pilot, app)
        assert not app.screen.query_one("#search-problem").display
        assert table.total == 0


async def test_the_matched_part_is_underlined_and_a_forename_column_from_100_columns(sqlite_db):
    make_users(30)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(120, 30)) as pilot:
        table = await settle(pilot, app)
        assert "forename" in [c.key.value for c in table.ordered_columns]
        await pilot.press("slash", *"user0001")  # an email fragment only
        table = await settle(pilot, app)
        assert table.total == 10
        email = table.get_row_at(0)[[c.key.value for c in table.ordered_columns].index("email")]
        spans = [(email.plain[s.start : s.end], str(s.style)) for s in email.spans]
        assert spans == [("user0001", "bold underline")]
        await pilot.press("ctrl+u", *"Adams0000")
        table = await settle(pilot, app)
        surname = table.get_row_at(0)[[c.key.value for c in table.ordered_columns].index("surname")]
        assert [surname.plain[s.start : s.end] for s in surname.spans] == ["Adams0000"]


async def test_help_lists_the_search_language(sqlite_db):
    make_users(3)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        keys = app.screen.query_one("#help-keys", DataTable)
        first = [str(keys.get_row_at(i)[0]) for i in range(keys.row_count)]
        assert "In the search box" in first
        assert {"access:denied", 'licence:"Parent/Guardian"', "login:never"} <= set(first)
