"""PagedTable over a real SQLite database: paging across the whole result, marks, sorting."""

from __future__ import annotations

import threading
from itertools import pairwise

from app_helpers import settle
from busy_pilot import send_key, wait_until
from host_app import HostApp
from textual import events, on
from user_rows import make_users

from extgw_tui.services import users
from extgw_tui.widgets.paged_table import PagedColumn, PagedTable

COLUMNS = [
    PagedColumn("id", "ID", 6, sort="id"),
    PagedColumn("surname", "Surname", 14, sort="surname"),
    PagedColumn("email", "Email", 20, sort="email", flex=True),
    PagedColumn("created", "Created", 16, sort="created", hide_below=70),
]


def render(row: users.UserRow) -> tuple:
    return (str(row.id), row.surname, row.email, f"{row.created_at:%Y-%m-%d %H:%M}")


def show(app: HostApp, term: str | None) -> None:
    """Page the users matching `term` (None: everyone) into the host's table."""
    app.query_one(PagedTable).set_source(
        lambda offset, limit, sort, descending: users.search_users(
            term, sort=sort, descending=descending, offset=offset, limit=limit
        ),
        lambda: users.count_users(term),
        lambda: users.user_ids_matching(term),
        lambda ids: users.count_among(term, ids),
    )


def users_table(term: str | None = None, **host) -> HostApp:
    """A host with one focused PagedTable of the users matching `term`."""

    def setup(app: HostApp) -> None:
        app.query_one(PagedTable).focus()
        show(app, term)

    table = lambda: [PagedTable(COLUMNS, render, lambda row: row.id, sort="surname")]  # noqa: E731
    return HostApp(widgets=table, setup=setup, **host)


def ordered_ids(term: str | None = None, sort: str = "surname", descending: bool = False):
    return [
        r.id
        for r in users.search_users(term, sort=sort, descending=descending, offset=0, limit=100_000)
    ]


async def test_end_and_home_reach_both_ends_of_a_large_result(sqlite_db):
    make_users(1_050)
    expected = ordered_ids()
    app = users_table()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        assert table.total == 1_050
        window = table.window_rows
        assert 60 <= window < 1_050
        assert table.row_count == window  # one window, never the whole result
        assert table.current_row.id == expected[0]
        await pilot.press("end")
        table = await settle(pilot, app)
        assert table.current_row.id == expected[-1]
        assert table.position == 1_049
        shown = table.size.height - 1  # every line under the header row
        assert table.status_text() == f"rows {1_050 - shown + 1:,}-1,050 of 1,050"
        await pilot.press("g")
        table = await settle(pilot, app)
        assert table.current_row.id == expected[0]
        await pilot.press("G")
        table = await settle(pilot, app)
        assert table.current_row.id == expected[-1]
        await pilot.press("home")
        table = await settle(pilot, app)
        assert table.position == 0


async def test_page_down_walks_every_window_to_the_last_row(sqlite_db):
    make_users(1_050)
    expected = ordered_ids()
    app = users_table()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        seen = []
        for _ in range(200):
            seen.append(table.current_row.id)
            if table.position == 1_049:
                break
            await pilot.press("pagedown")
            table = await settle(pilot, app)
        assert table.current_row.id == expected[-1]
        step = seen and expected.index(seen[1]) - expected.index(seen[0])
        assert step > 5  # a page is a screenful, not one row
        gaps = {expected.index(b) - expected.index(a) for a, b in pairwise(seen[:-1])}
        assert gaps == {step}  # every page moves the same distance, across window edges too
        await pilot.press("pageup")
        table = await settle(pilot, app)
        assert table.current_row.id == expected[1_049 - step]


async def test_down_and_up_cross_window_edges_without_a_seam(sqlite_db):
    make_users(450)
    expected = ordered_ids()
    app = users_table()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        while table.position < 180:
            await pilot.press("pagedown")
        while table.position < 195:
            await pilot.press("j")
        for index in range(195, 215):  # across the first window's lower edge
            table = await settle(pilot, app)
            assert table.current_row.id == expected[index]
            line = table.cursor_row - round(table.scroll_y)
            assert 0 <= line < table.size.height - 1  # the cursor stays on screen
            await pilot.press("down")
        assert table.window_offset > 0  # a later window was loaded
        await pilot.press("end")
        table = await settle(pilot, app)
        edge = table.window_offset
        while table.position > edge + 30:
            await pilot.press("pageup")
        while table.position > edge + 5:
            await pilot.press("k")
        for index in range(edge + 5, edge - 15, -1):  # across the last window's upper edge
            table = await settle(pilot, app)
            assert table.current_row.id == expected[index]
            await pilot.press("up")
        assert table.window_offset < edge


async def test_marks_survive_paging_and_requerying(sqlite_db):
    make_users(600)
    expected = ordered_ids()
    app = users_table()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        await pilot.press("space", "down", "space")
        assert table.marks == set(expected[:2])
        assert str(table.get_cell_at((0, 0))) == "[x]"
        await pilot.press("end")
        table = await settle(pilot, app)
        await pilot.press("space")
        assert table.marks == {*expected[:2], expected[-1]}
        first = users.user_row(expected[0]).email
        show(app, first)  # a search that hides two of the three marks
        table = await settle(pilot, app)
        assert table.total == 1
        assert table.marks == {*expected[:2], expected[-1]}
        assert table.marks_hidden == 2
        assert table.marks_text() == "3 marked (2 not in view)"
        show(app, None)
        table = await settle(pilot, app)
        assert table.marks_hidden == 0
        assert str(table.get_cell_at((0, 0))) == "[x]"
        await pilot.press("c")
        assert table.marks == set()
        assert str(table.get_cell_at((0, 0))) == "[ ]"


async def test_mark_all_marks_every_match_in_sql(sqlite_db):
    make_users(500)
    app = users_table("adams")
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        await pilot.press("a")
        table = await settle(pilot, app)
        assert table.marks == set(users.user_ids_matching("adams"))
        assert len(table.marks) == table.total == 63


async def test_sort_keys_and_header_click_reorder_from_the_database(sqlite_db):
    make_users(300)
    app = users_table()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        await pilot.press("O")
        table = await settle(pilot, app)
        assert (table.sort_key, table.sort_descending) == ("surname", True)
        assert table.current_row.id == ordered_ids(descending=True)[0]
        await pilot.press("o")  # surname -> email
        table = await settle(pilot, app)
        assert table.sort_key == "email"
        assert table.current_row.id == ordered_ids(sort="email")[0]
        await pilot.click(PagedTable, offset=(6, 0))  # the ID header
        table = await settle(pilot, app)
        assert (table.sort_key, table.sort_descending) == ("id", False)
        await pilot.click(PagedTable, offset=(6, 0))
        table = await settle(pilot, app)
        assert table.sort_descending
        assert table.current_row.id == max(ordered_ids())


async def test_clicks_toggle_marks_and_report_cells(sqlite_db):
    make_users(30)
    app = users_table(record=(PagedTable.CellClicked,))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        second = table.rows_held[1].id
        await pilot.click(PagedTable, offset=(2, 2))  # mark cell of the second row
        await pilot.pause()
        assert table.marks == {second}
        assert table.position == 1
        await pilot.click(PagedTable, offset=(30, 2))  # its email cell
        await pilot.pause()
        clicked = [(event.row.id, event.column_key) for event in app.seen]
        assert clicked == [(second, "email")]


async def test_narrow_table_drops_columns_in_order(sqlite_db):
    make_users(10)
    app = users_table()
    async with app.run_test(size=(60, 20)) as pilot:
        table = await settle(pilot, app)
        keys = [c.key.value for c in table.ordered_columns]
        assert keys == ["mark", "id", "surname", "email"]
        await pilot.resize_terminal(100, 20)
        await pilot.pause()
        table = await settle(pilot, app)
        keys = [c.key.value for c in table.ordered_columns]
        assert keys == ["mark", "id", "surname", "email", "created"]


async def test_newest_query_wins(sqlite_db):
    make_users(200)
    app = users_table()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        for term in ("a", "ad", "ada", "adams00008", "brown"):
            show(app, term)
        table = await settle(pilot, app)
        assert table.total == users.count_users("brown") == 25
        assert {r.id for r in table.rows_held} == set(users.user_ids_matching("brown"))


def wheel(table: PagedTable, down: bool) -> None:
    kind = events.MouseScrollDown if down else events.MouseScrollUp
    table.post_message(kind(table, 5, 5, 0, 1 if down else -1, 0, False, False, False))


async def test_the_mouse_wheel_at_a_window_edge_loads_the_next_window(sqlite_db):
    make_users(450)
    expected = ordered_ids()
    app = users_table()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        table.scroll_end(animate=False, immediate=True)  # the wheel has reached the edge
        await pilot.pause()
        wheel(table, down=True)
        table = await settle(pilot, app)
        assert table.window_offset > 0
        assert table.position == table.window_rows  # the first row past the first window
        assert table.current_row.id == expected[table.window_rows]
        table.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        edge = table.window_offset
        wheel(table, down=False)
        table = await settle(pilot, app)
        assert table.window_offset < edge
        assert table.current_row.id == expected[edge - 1]


async def test_keys_pressed_while_a_window_loads_act_on_the_row_it_brings(sqlite_db):
    make_users(1_050)
    expected = ordered_ids()
    app = users_table()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        send_key(app, "end")  # the last window is on its way when space arrives
        send_key(app, "space")
        table = await settle(pilot, app)
        assert table.marks == {expected[-1]}
        table.reload()  # the same query again: the row held is still the cursor's
        send_key(app, "space")
        table = await settle(pilot, app)
        assert table.marks == set()
        show(app, "user0000")  # a new query: space waits for its first row
        send_key(app, "space")
        table = await settle(pilot, app)
        assert table.marks == {users.search_users("user0000", limit=1)[0].id}


async def test_the_status_names_the_rows_on_screen(sqlite_db):
    make_users(300)
    app = users_table()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app)
        shown = table.size.height - 1
        assert table.status_text() == f"rows 1-{shown} of 300"
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        first = int(table.scroll_y) + 1
        assert first > 1
        assert table.status_text() == f"rows {first}-{first + shown - 1} of 300"


async def test_the_first_rows_show_before_the_count_and_end_waits_for_it(sqlite_db):
    """At 100,000 users COUNT takes longer than the first window: the rows come first."""
    make_users(1_050)
    expected = ordered_ids()
    release = threading.Event()

    def slow_count() -> int:
        release.wait(10)
        return users.count_users(None)

    app = users_table()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        table = app.query_one(PagedTable)
        table.set_source(
            lambda offset, limit, sort, descending: users.search_users(
                None, sort=sort, descending=descending, offset=offset, limit=limit
            ),
            slow_count,
        )
        await wait_until(lambda: table.counting)
        assert table.current_row.id == expected[0]  # usable while the count runs
        assert table.status_text().endswith("of …")
        await pilot.press("end")  # where the end is, the count will say
        release.set()
        table = await settle(pilot, app)
        assert not table.counting and table.total == 1_050
        assert table.current_row.id == expected[-1]


async def test_messages_carry_their_table_as_control_so_on_can_pick_one(sqlite_db):
    make_users(5)
    loaded = []

    class SecondOnly(HostApp):
        """The host plus the handler under test: `@on` with a selector."""

        @on(PagedTable.Loaded, "#second")
        def second_loaded(self, event: PagedTable.Loaded) -> None:
            loaded.append(event.control.id)

    def two_tables() -> list[PagedTable]:
        return [
            PagedTable(COLUMNS, render, lambda row: row.id, id="first"),
            PagedTable(COLUMNS, render, lambda row: row.id, id="second"),
        ]

    def setup(app: HostApp) -> None:
        for table in app.query(PagedTable):
            table.set_source(
                lambda offset, limit, sort, descending: users.search_users(
                    None, sort=sort, descending=descending, offset=offset, limit=limit
                ),
                lambda: users.count_users(None),
            )

    app = SecondOnly(widgets=two_tables, setup=setup)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(lambda: bool(loaded) and not any(w.is_running for w in app.workers))
        await pilot.pause()
        assert loaded == ["second"]
