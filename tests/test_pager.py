"""The Pager on its own (no Textual, no app): windows, generations, marks, sort and counting.

The source is a plain list, so every rule of paging is checked directly; test_paged_table.py
checks the same rules through the widget on a real database.
"""

from __future__ import annotations

import subprocess
import sys

from extgw_tui.widgets.pager import Page, Pager, Request

WINDOW = 60


class Source:
    """A sorted result of `n` rows (ids 1..n), recording every call."""

    def __init__(self, n: int) -> None:
        self.ids = list(range(1, n + 1))
        self.calls: list[tuple] = []

    def fetch(self, offset: int, limit: int, sort: str = "id", descending: bool = False) -> list:
        self.calls.append(("fetch", offset, limit, sort, descending))
        ordered = sorted(self.ids, reverse=descending)
        return ordered[offset : offset + limit]

    def count(self) -> int:
        self.calls.append(("count",))
        return len(self.ids)

    def all_ids(self) -> list[int]:
        return list(self.ids)

    def count_among(self, ids: frozenset[int]) -> int:
        return len(ids & set(self.ids))


def source_pager(n: int, sorts: tuple[str, ...] = ("id", "name")) -> tuple[Pager, Source]:
    pager, source = Pager(sorts), Source(n)
    land(pager, pager.set_source(source.fetch, source.count, source.all_ids, source.count_among))
    return pager, source


def land(pager: Pager, request: Request | None) -> None:
    """Run a request as the view's worker would, and every re-aimed one after it."""
    while request is not None:
        page = request.run(WINDOW, lambda rows, r=request: pager.first_rows(r, rows))
        landing = pager.landed(request, page)
        assert landing is not None
        request = landing.next


def test_a_new_query_holds_one_window_and_counts_the_whole_result():
    pager, source = source_pager(1_000)
    assert pager.total == 1_000 and not pager.counting and not pager.fetching
    assert pager.rows == list(range(1, WINDOW + 1))  # one window, never the whole result
    assert pager.current_row == 1
    assert source.calls == [("fetch", 0, WINDOW, "id", False), ("count",)]


def test_a_result_shorter_than_the_window_is_its_own_count():
    pager, source = source_pager(7)
    assert pager.total == 7
    assert ("count",) not in source.calls


class CountedRows(list):
    """Rows that carry the result's total, as users.Window does when the search counted it."""

    total: int | None = None


def test_a_total_counted_on_the_way_is_taken_and_count_is_not_run():
    source = Source(1_000)

    def fetch(offset: int, limit: int, sort: str = "id", descending: bool = False) -> list:
        rows = CountedRows(source.fetch(offset, limit, sort, descending))
        rows.total = len(source.ids)
        return rows

    pager = Pager(("id",))
    land(pager, pager.set_source(fetch, source.count))
    assert pager.total == 1_000 and not pager.counting
    assert ("count",) not in source.calls
    assert pager.rows == list(range(1, WINDOW + 1))


def test_the_first_rows_are_usable_before_the_count_lands():
    pager, source = Pager(["id"]), Source(500)
    request = pager.set_source(source.fetch, source.count)
    shown = []

    def first_rows(rows: list) -> None:
        assert pager.first_rows(request, rows)
        shown.append((pager.counting, pager.current_row, pager.status_text(0, 18)))

    page = request.run(WINDOW, first_rows)
    assert shown == [(True, 1, "rows 1-18 of …")]
    assert pager.last_target() > 500  # End waits for the count, which clamps it
    pager.go(pager.last_target())
    landing = pager.landed(request, page)
    assert landing is not None and landing.next is not None  # re-aimed at the last row
    land(pager, landing.next)
    assert (pager.total, pager.position, pager.current_row) == (500, 499, 500)
    assert pager.rows[-1] == 500


def test_moves_inside_the_window_need_no_query_and_outside_one_loads_around_the_target():
    pager, _ = source_pager(1_000)
    move = pager.go(10)
    assert move is not None and (move.index, move.request, move.step) == (10, None, 10)
    move = pager.go(500)
    assert move is not None and move.index is None and move.request is not None
    assert pager.fetching and pager.current_row is None  # not held yet
    land(pager, move.request)
    assert pager.current_row == 501
    assert pager.window_offset == 500 - WINDOW // 2  # the window is centred on the cursor
    land(pager, pager.go(10**9).request)
    assert pager.position == 999  # clamped to the last row


def test_a_move_while_a_window_is_on_its_way_re_aims_it():
    pager, _ = source_pager(1_000)
    first = pager.go(300)
    assert first is not None and first.request is not None
    again = pager.go(800)
    assert again is not None and again.request is None and again.step == 500
    page = first.request.run(WINDOW)
    landing = pager.landed(first.request, page)
    assert landing is not None and landing.next is not None and landing.next.position == 800
    land(pager, landing.next)
    assert pager.current_row == 801


def test_an_older_answer_is_dropped_by_the_generation_counter():
    pager, source = Pager(["id"]), Source(1_000)
    old = pager.set_source(source.fetch, source.count)
    newer = Source(3)
    new = pager.set_source(newer.fetch, newer.count)
    assert not pager.first_rows(old, [1, 2, 3])
    assert pager.landed(old, old.run(WINDOW)) is None
    land(pager, new)
    assert pager.total == 3 and pager.rows == [1, 2, 3]
    assert pager.landed(old, Page(1_000, 0, [9])) is None  # still dropped after the new one
    assert pager.rows == [1, 2, 3]


def test_a_failed_request_stops_fetching_only_if_it_is_the_newest():
    pager, source = source_pager(100)
    old = pager.reload()
    new = pager.reload()
    assert old is not None and new is not None
    pager.failed(old)
    assert pager.fetching
    pager.failed(new)
    assert not pager.fetching and not pager.counting


def test_reload_keeps_the_position_and_counts_again():
    pager, source = source_pager(1_000)
    land(pager, pager.go(400).request)
    source.ids = source.ids[:450]
    source.calls.clear()
    land(pager, pager.reload())
    assert ("count",) in source.calls
    assert (pager.total, pager.position) == (450, 400)
    source.ids = source.ids[:100]  # most rows went: the cursor rests on the last one
    land(pager, pager.reload())
    assert (pager.total, pager.position, pager.current_row) == (100, 99, 100)


def test_marks_survive_requerying_and_count_those_out_of_view():
    pager, source = source_pager(300)
    assert pager.toggle(1) and pager.toggle(2) and not pager.toggle(2)
    pager.mark([250, 299])
    assert pager.marks == {1, 250, 299}
    narrow = Source(10)
    land(pager, pager.set_source(narrow.fetch, narrow.count, count_among=narrow.count_among))
    assert pager.marks == {1, 250, 299}
    asked = pager.hidden_marks()
    assert asked is not None
    assert pager.hidden_counted(asked, asked.count_among(asked.marks))
    assert pager.marks_text() == "3 marked (2 not in view)"
    pager.toggle(1)
    assert not pager.hidden_counted(asked, 1)  # the marks changed meanwhile: dropped
    pager.clear_marks()
    assert pager.marks_text() == "0 marked" and pager.hidden_marks() is None
    big = Source(100_000)
    pager.set_marks(set(big.ids[:1_234]))
    assert pager.marks_text() == "1,234 marked"


def test_sorting_queries_from_the_top_in_the_new_order():
    pager, source = source_pager(200)
    land(pager, pager.go(150).request)
    land(pager, pager.reverse_sort())
    assert (pager.sort_key, pager.sort_descending, pager.position) == ("id", True, 0)
    assert pager.current_row == 200
    land(pager, pager.next_sort(["id", "name"]))
    assert (pager.sort_key, pager.sort_descending) == ("name", False)
    assert source.calls[-1][3:] == ("name", False)
    land(pager, pager.next_sort(["id", "name"]))
    assert pager.sort_key == "id"
    land(pager, pager.header_sort("id"))  # the same column again: reversed
    assert pager.sort_descending
    land(pager, pager.header_sort("name"))
    assert (pager.sort_key, pager.sort_descending) == ("name", False)
    assert pager.next_sort([]) is None


def test_a_reversible_source_is_read_from_the_far_end_past_the_middle():
    """End on a reversible source asks for the first rows of the reversed order (what Home
    costs), not for rows past a deep offset; the window holds the same rows in the same
    order. Before the middle, and on a source not set as reversible, rows are read forward."""
    source = Source(1_000)
    for reversible, end_call in ((True, ("fetch", 0, WINDOW, "id", True)), (False, None)):
        pager = Pager(("id", "name"))
        land(pager, pager.set_source(source.fetch, source.count, reversible=reversible))
        source.calls.clear()
        land(pager, pager.go(999).request)
        assert pager.rows == list(range(1_000 - WINDOW + 1, 1_001)) and pager.current_row == 1_000
        assert source.calls == [end_call or ("fetch", 1_000 - WINDOW, WINDOW, "id", False)]
        land(pager, pager.go(600).request)  # its window: 570 rows before it, 370 after
        assert pager.rows == list(range(571, 571 + WINDOW))
        assert source.calls[-1][4] is reversible
        land(pager, pager.go(300).request)
        assert source.calls[-1] == ("fetch", 300 - WINDOW // 2, WINDOW, "id", False)
        land(pager, pager.reverse_sort())  # descending: the far end is the lowest ids
        land(pager, pager.go(999).request)
        assert pager.rows == list(range(WINDOW, 0, -1)) and pager.current_row == 1


def test_an_unsorted_source_is_called_without_sort_arguments():
    pager, calls = Pager(), []

    def fetch(offset: int, limit: int) -> list:
        calls.append((offset, limit))
        return [1, 2]

    land(pager, pager.set_source(fetch, lambda: 2))
    assert calls == [(0, WINDOW)] and pager.sort_key is None
    assert pager.reverse_sort() is None


def test_actions_wait_for_the_window_on_its_way():
    pager, _ = source_pager(1_000)
    done = []
    pager.when_loaded(lambda: done.append("now"))
    request = pager.go(900).request
    pager.when_loaded(lambda: done.append("later"))
    pager.with_current_row(done.append)
    assert done == ["now"]
    land(pager, request)
    pager.run_waiting()
    assert done == ["now", "later", 901]


def test_a_new_query_forgets_what_waited_for_the_old_one():
    pager, source = source_pager(1_000)
    request = pager.go(900).request
    assert request is not None
    done = []
    pager.when_loaded(lambda: done.append("old"))
    land(pager, pager.set_source(source.fetch, source.count))
    pager.run_waiting()
    assert done == []


def test_the_status_names_the_rows_on_screen():
    pager, _ = source_pager(12_345)
    assert pager.status_text(0, 18) == "rows 1-18 of 12,345"
    land(pager, pager.go(12_344).request)
    top = len(pager.rows) - 18
    assert pager.status_text(top, 18) == "rows 12,328-12,345 of 12,345"
    empty = Source(0)
    land(pager, pager.set_source(empty.fetch, empty.count))
    assert pager.status_text(0, 18) == "no rows" and pager.go(5) is None


def test_a_click_moves_the_position_only_within_the_window_held():
    pager, _ = source_pager(1_000)
    pager.cursor_moved_to(7)
    assert pager.position == 7
    pager.cursor_moved_to(WINDOW + 5)
    assert pager.position == 7
    pager.go(700)
    pager.cursor_moved_to(3)  # a window is on its way: the click is not a move
    assert pager.position == 700


def test_the_pager_imports_no_textual():
    code = "import sys, extgw_tui.widgets.pager; print('textual' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
