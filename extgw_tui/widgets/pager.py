"""Pager: which window of a database result is held, where the cursor is, what is marked.

The state behind PagedTable, with no Textual in it, so every rule of paging is unit-tested
without a running app: the cursor's ABSOLUTE position in the result, the window of rows held
around it, the total (and whether it is still being counted), marks (ids, kept across
queries), the sort, and the generation counter that drops every answer but the newest.

The pager never runs a query itself. A change that needs rows returns a `Request`; the view
runs `request.run(window, first_rows)` off the UI thread and hands the `Page` back to
`landed()` on the UI thread, which either takes it (`Landing.refill`: show the new rows) or,
when the cursor moved on meanwhile, returns the next `Request` to run instead.

Sources (the query/count protocol PagedTable.set_source documents): fetch(offset, limit) or,
when sorts are known, fetch(offset, limit, sort=<name>, descending=<bool>) (rows with a `total`
attribute, not None, when the source counted the result on the way: count() is then not run);
count() -> int;
all_ids() -> list[int] (optional); count_among(frozenset[int]) -> int (optional). A source
set as `reversible` promises that each sort is a total order whose descending form is its
ascending one reversed (a unique last key, NULLs at opposite ends), so a window past the
middle of the result is read from the far end: End costs what Home does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Fetch = Callable[..., Sequence[Any]]


@dataclass(frozen=True, slots=True)
class Page:
    """A window of rows starting at `offset`, and the result's total."""

    total: int
    offset: int
    rows: list


@dataclass(frozen=True, slots=True)
class Request:
    """One query to run in a worker: the window around `position` (and the count, if asked)."""

    generation: int
    position: int
    with_count: bool
    fetch: Fetch
    count: Callable[[], int]
    sort: str | None
    descending: bool
    sortable: bool
    known_total: int
    reversible: bool = False

    def run(self, window: int, first_rows: Callable[[list], None] | None = None) -> Page:
        """Fetch the window (`window` rows); a new query's first rows go to first_rows before
        its COUNT runs, so they can be shown while the count is still on its way."""
        if self.with_count and self.position == 0:
            rows, counted = self._fetch_at(0, window)
            if len(rows) < window:  # a result shorter than the window is its own count
                return Page(len(rows), 0, rows)
            if counted is not None:  # the source counted it on the way
                return Page(counted, 0, rows)
            if first_rows is not None:
                first_rows(rows)
            return Page(self.count(), 0, rows)
        total = self.count() if self.with_count else self.known_total
        at = min(self.position, max(total - 1, 0))
        offset = max(0, min(at - window // 2, total - window))
        back = total - offset - window  # rows after the window
        if self.reversible and self.sortable and 0 <= back < offset:
            rows = self.fetch(back, window, sort=self.sort, descending=not self.descending)
            return Page(total, offset, list(rows)[::-1])
        return Page(total, offset, self._fetch_at(offset, window)[0])

    def _fetch_at(self, offset: int, window: int) -> tuple[list, int | None]:
        """The rows, and the result's total if the source counted it on the way."""
        if self.sortable:
            rows = self.fetch(offset, window, sort=self.sort, descending=self.descending)
        else:
            rows = self.fetch(offset, window)
        return list(rows), getattr(rows, "total", None)


@dataclass(frozen=True, slots=True)
class Landing:
    """What landed() made of a page: `refill` the rows shown, or run `next` instead."""

    refill: bool = False
    next: Request | None = None


@dataclass(frozen=True, slots=True)
class Move:
    """Where a cursor move goes: `index` in the window held, or (index None) a window to
    load (`request`) or one already on its way (request None). `step` is the distance."""

    target: int
    step: int
    index: int | None = None
    request: Request | None = None


@dataclass(frozen=True, slots=True)
class HiddenMarks:
    """A request to count how many of `marks` the result holds (count_among, in a worker)."""

    generation: int
    marks: frozenset[int]
    count_among: Callable[[frozenset[int]], int]


class Pager:
    """The window, cursor, marks and sort of one paged result; see the module docstring."""

    def __init__(
        self, sorts: Sequence[str] = (), *, sort: str | None = None, descending: bool = False
    ) -> None:
        self.sorts = list(sorts)
        self.sort_key: str | None = sort or (self.sorts[0] if self.sorts else None)
        self.sort_descending = descending
        self.marks: set[int] = set()
        self.marks_hidden = 0
        self.total = 0
        #: The first window of a new query is held while its COUNT still runs: total is only
        #: "at least" until it lands.
        self.counting = False
        self.window_offset = 0
        self.position = 0
        #: A query is on its way.
        self.fetching = False
        self.rows: list = []
        self.generation = 0
        self._fetch: Fetch | None = None
        self._count: Callable[[], int] | None = None
        self.all_ids: Callable[[], list[int]] | None = None
        self._count_among: Callable[[frozenset[int]], int] | None = None
        self._reversible = False
        self._new_query = False
        self._loading_count = False
        self._waiting: list[Callable[[], None]] = []

    # ----- the query ---------------------------------------------------------------------

    @property
    def has_source(self) -> bool:
        return self._fetch is not None and self._count is not None

    def set_source(
        self,
        fetch: Fetch,
        count: Callable[[], int],
        all_ids: Callable[[], list[int]] | None = None,
        count_among: Callable[[frozenset[int]], int] | None = None,
        *,
        reversible: bool = False,
    ) -> Request:
        """A new query, shown from its first row."""
        self._fetch, self._count, self.all_ids = fetch, count, all_ids
        self._count_among, self._reversible = count_among, reversible
        self._new_query = True  # the rows held belong to the old query until the new ones land
        self._waiting.clear()
        request = self.load(0, with_count=True)
        assert request is not None
        return request

    def reload(self) -> Request | None:
        """The same query again at the same position (the data may have changed)."""
        return self.load(self.position, with_count=True) if self.has_source else None

    def load(self, position: int, *, with_count: bool) -> Request | None:
        """Aim at absolute `position`: a new generation, so every older answer is dropped."""
        if self._fetch is None or self._count is None:
            return None
        self.generation += 1
        self.position = max(position, 0)
        with_count = with_count or (self.fetching and self._loading_count)
        self.fetching, self._loading_count = True, with_count
        return Request(
            generation=self.generation,
            position=self.position,
            with_count=with_count,
            fetch=self._fetch,
            count=self._count,
            sort=self.sort_key,
            descending=self.sort_descending,
            sortable=bool(self.sorts),
            known_total=self.total,
            reversible=self._reversible,
        )

    def is_current(self, request: Request) -> bool:
        return request.generation == self.generation

    def first_rows(self, request: Request, rows: list) -> bool:
        """A new query's first window, before its count; False if a newer request replaced it."""
        if not self.is_current(request):
            return False
        self.counting = True
        self.total = len(rows)  # at least
        self._new_query = False
        self.window_offset = 0
        self.rows = rows
        return True

    def landed(self, request: Request, page: Page) -> Landing | None:
        """Take a page; None when a newer request replaced this one (drop it)."""
        if not self.is_current(request):
            return None
        shown_already = self.counting and page.rows is self.rows
        self.counting = False
        self.total = page.total
        self.position = min(self.position, max(page.total - 1, 0))
        if not self.marks:
            self.marks_hidden = 0
        if page.rows and not page.offset <= self.position < page.offset + len(page.rows):
            # the cursor moved on while this window was on its way: fetch the right one
            self._loading_count = False
            return Landing(next=self.load(self.position, with_count=False))
        self.fetching = False
        self._loading_count = False
        self._new_query = False
        if not shown_already:
            self.window_offset = page.offset
            self.rows = page.rows
        return Landing(refill=not shown_already)

    def failed(self, request: Request) -> None:
        if self.is_current(request):
            self.fetching = False
            self._loading_count = False
            self.counting = False

    # ----- waiting for the rows ------------------------------------------------------------

    def when_loaded(self, action: Callable[[], None]) -> None:
        """Run `action` now, or once the window on its way has landed (a key pressed mid-load)."""
        if self.fetching:
            self._waiting.append(action)
        else:
            action()

    def with_current_row(self, action: Callable[[Any], None]) -> None:
        """action(row under the cursor): now, or once the window on its way has landed."""
        row = self.current_row
        if row is not None:
            action(row)
        elif self.fetching:
            self._waiting.append(
                lambda: self.with_current_row(action) if not self.fetching else None
            )

    def run_waiting(self) -> None:
        """Run what waited for the rows (call after a window is shown)."""
        waiting, self._waiting = self._waiting, []
        for action in waiting:
            action()

    # ----- reading ------------------------------------------------------------------------

    @property
    def current_row(self) -> Any | None:
        """The row under the cursor, or None when the result is empty, or the cursor's row is
        not held (a new query, or a move beyond the window, is on its way)."""
        index = self.position - self.window_offset
        if self._new_query or not (0 <= index < len(self.rows)):
            return None
        return self.rows[index]

    def visible_range(self, top: int, height: int) -> tuple[int, int, int]:
        """(first, last) absolute rows on screen, 1-based, and the total, when the screen
        shows `height` rows from row `top` of the window."""
        if not self.rows:
            return (0, 0, self.total)
        top = min(max(top, 0), len(self.rows) - 1)
        bottom = min(top + height, len(self.rows))
        return (self.window_offset + top + 1, self.window_offset + bottom, self.total)

    def status_text(self, top: int, height: int) -> str:
        """Which rows are on screen: "rows 201-218 of 12,345"."""
        if not self.total:
            return "no rows"
        first, last, total = self.visible_range(top, height)
        return f"rows {first:,}-{last:,} of {'…' if self.counting else f'{total:,}'}"

    def marks_text(self) -> str:
        text = f"{len(self.marks):,} marked"
        if self.marks_hidden:
            return f"{text} ({self.marks_hidden:,} not in view)"
        return text

    # ----- moving -------------------------------------------------------------------------

    def go(self, target: int) -> Move | None:
        """Move the cursor to absolute row `target` (None: there are no rows)."""
        if not self.total:
            return None
        if not self.counting:  # else the count on its way clamps it
            target = min(target, self.total - 1)
        target = max(0, target)
        step = target - self.position
        if self.fetching:  # the window on its way is re-aimed when it lands
            self.position = target
            return Move(target, step)
        index = target - self.window_offset
        if 0 <= index < len(self.rows):
            self.position = target
            return Move(target, step, index=index)
        return Move(target, step, request=self.load(target, with_count=False))

    def last_target(self) -> int:
        """Where End goes: the last row, or (while counting) as far as the count will allow."""
        return sys.maxsize if self.counting else self.total - 1

    def cursor_moved_to(self, index: int) -> None:
        """The view's cursor is on row `index` of the window (a mouse click moved it)."""
        if not self.fetching and 0 <= index < len(self.rows):
            self.position = self.window_offset + index

    # ----- marks --------------------------------------------------------------------------

    def toggle(self, row_id: int) -> bool:
        """Mark or unmark one id; True if it is marked now."""
        if row_id in self.marks:
            self.marks.discard(row_id)
            return False
        self.marks.add(row_id)
        return True

    def mark(self, ids: Sequence[int]) -> None:
        self.marks.update(ids)

    def clear_marks(self) -> None:
        self.marks.clear()
        self.marks_hidden = 0

    def set_marks(self, ids: set[int]) -> None:
        """Replace the marks (after an action that consumed them, say)."""
        self.marks = set(ids)
        self.marks_hidden = 0 if not ids else self.marks_hidden

    def hidden_marks(self) -> HiddenMarks | None:
        """What to count to say how many marks are out of the result (None: nothing to ask)."""
        if not self.marks or self._count_among is None:
            return None
        return HiddenMarks(self.generation, frozenset(self.marks), self._count_among)

    def hidden_counted(self, asked: HiddenMarks, in_result: int) -> bool:
        """Take the count; False when the query or the marks changed meanwhile (dropped)."""
        if asked.generation != self.generation or asked.marks != self.marks:
            return False
        self.marks_hidden = len(asked.marks) - in_result
        return True

    # ----- sorting ------------------------------------------------------------------------

    def sort_by(self, sort: str, descending: bool = False) -> Request | None:
        self.sort_key, self.sort_descending = sort, descending
        return self.load(0, with_count=False)

    def next_sort(self, names: Sequence[str]) -> Request | None:
        """Sort by the name after the current one in `names` (the sortable columns shown)."""
        if not names:
            return None
        index = names.index(self.sort_key) if self.sort_key in names else -1
        return self.sort_by(names[(index + 1) % len(names)])

    def reverse_sort(self) -> Request | None:
        if self.sort_key:
            return self.sort_by(self.sort_key, not self.sort_descending)
        return None

    def header_sort(self, sort: str) -> Request | None:
        """A click on a sortable header: sort by it, or reverse it if it is the sort already."""
        same = sort == self.sort_key
        return self.sort_by(sort, not self.sort_descending if same else False)
