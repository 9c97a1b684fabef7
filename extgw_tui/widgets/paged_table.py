"""PagedTable: a DataTable that shows a window of a database result, never the whole of it.

A DataTable measures every cell it holds on the UI thread, so 100,000 rows would freeze the
app. PagedTable holds one window (about three screens of rows, at least WINDOW) and keeps the
cursor's ABSOLUTE position in the result: moving past the window's edge (up/down, j/k,
PageUp/PageDown, Home/End, g/G, the mouse wheel at the edge) fetches the neighbouring window and
keeps the cursor on the same screen line, so paging reaches the last of 100,000 rows without
visible seams.

API (everything runs through widgets.dbwork.db_work in exclusive workers; a generation counter
drops any older result, so a slow query never overwrites a newer one):

    table = PagedTable(
        columns=[PagedColumn("id", "ID", 6, sort="id"), PagedColumn("email", "Email", 20,
                 flex=True), ...],
        render=lambda row: (str(row.id), row.email, ...),  # one cell per column, in order;
                                                            # a str shows as typed (never markup),
                                                            # a rich Text for styled cells
        row_id=lambda row: row.id,                          # the int id marks are kept by
        markable=True,                                      # adds the [x] column first
        sort="surname", descending=False,                   # initial sort (a `sort` name)
    )
    table.set_source(fetch, count, all_ids=None)            # (re)query from the top

* fetch(offset, limit) -> list[row]: one page, in the current order. When any column has a
  `sort`, fetch is called as fetch(offset, limit, sort=<name>, descending=<bool>).
* count() -> int: how many rows the whole result has (COUNT in SQL).
* all_ids() -> list[int]: every matching id (`a` marks them all). Optional.
* count_among(ids) -> int: how many of these ids are in the result (to say how many marks are
  out of view). Optional; computed after the window has landed, so it never delays it.
* Callables run in a worker thread: capture what they need (the search term) as values when
  you build them, never read widget state inside them.

Keys (all with descriptions, so they show in `?` help and the palette; none in the footer,
which is left to the screen's own actions): up/down j/k, PageUp/PageDown, Home/End g/G,
space mark, a mark all matches, c clear marks, o next sort column, O reverse the sort, enter
open the row. A click on a header sorts by it (again: reverses); a click on the mark cell
toggles it. Columns with hide_below are dropped on narrow terminals; the flex column takes
the spare width, so widths never change between windows (no seams).

Messages: PagedTable.Loaded (a window landed; status changed), PagedTable.Moved (the rows on
screen or the cursor changed without a load), PagedTable.MarksChanged,
PagedTable.CellClicked(row, column_key) for a mouse click on a data cell. enter posts the
usual DataTable.RowSelected; use `current_row` for the row under the cursor.

Read-outs: total, position (absolute cursor index), window_offset, fetching (a query is on
its way), current_row, marks (set of ids),
marks_hidden (marked ids not in the current result), status_text() ("rows 201-218 of 12,345",
the rows on screen), reload() (same query, same position: after a change or on screen resume),
when_loaded(callback) (run an action on the cursor's row once the window on its way has landed,
so a key pressed during a load is not lost).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from extgw_tui.escapes import escape_controls
from extgw_tui.textual_private import show_hover_cursor
from extgw_tui.widgets.dbwork import db_work

#: Rows held in the widget at once.
WINDOW = 60
MARK_KEY = "mark"
MARKED = "[x]"
UNMARKED = "[ ]"
#: Cells of padding DataTable puts around each column (cell_padding=1 on both sides).
PADDING = 2
#: The flex column (Email) gives up its width down to this before the table overflows.
FLEX_MIN = 10


@dataclass(frozen=True, slots=True)
class PagedColumn:
    """One column: `sort` names the service's sort key (None: not sortable); `flex` takes the
    width left over; `hide_below` drops the column when the table is narrower than that."""

    key: str
    label: str
    width: int
    sort: str | None = None
    flex: bool = False
    hide_below: int = 0


@dataclass(frozen=True, slots=True)
class _Page:
    total: int
    offset: int
    rows: list


def plain(cell: Any) -> Any:
    """Text as typed: DataTable would read a str as markup ("[b]" in a surname must show), and
    a control character would reach the terminal (ESC) or break the row (a line break)."""
    if isinstance(cell, str):
        return Text(escape_controls(cell), no_wrap=True, overflow="ellipsis")
    return cell


class PagedTable(DataTable):
    """A database-backed DataTable holding one window of rows and a set of marked ids."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Open the row", show=False, id="list.open"),
        Binding("down,j", "move(1)", "Down", show=False, id="list.down"),
        Binding("up,k", "move(-1)", "Up", show=False, id="list.up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="list.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="list.page_up"),
        Binding("home,g,ctrl+home", "first", "First row", show=False, id="list.first"),
        Binding("end,G,ctrl+end", "last", "Last row", show=False, id="list.last"),
        Binding("space", "toggle_mark", "Mark/unmark row", show=False, id="list.mark"),
        Binding("a", "mark_all", "Mark all matches", show=False, id="list.mark_all"),
        Binding("c", "clear_marks", "Clear marks", show=False, id="list.clear_marks"),
        Binding("o", "next_sort", "Sort: next column", show=False, id="list.sort_next"),
        Binding("O", "reverse_sort", "Sort: reverse", show=False, id="list.sort_reverse"),
    ]

    class Loaded(Message):
        """A window of rows landed (or the query changed): counts and range are current."""

        def __init__(self, table: PagedTable) -> None:
            super().__init__()
            self.table = table

    class Moved(Message):
        """The rows on screen or the cursor changed within the window held: status changed."""

        def __init__(self, table: PagedTable) -> None:
            super().__init__()
            self.table = table

    class MarksChanged(Message):
        def __init__(self, table: PagedTable) -> None:
            super().__init__()
            self.table = table

    class CellClicked(Message):
        """A mouse click on a data cell (not the mark column, not the header)."""

        def __init__(self, table: PagedTable, row: Any, column_key: str) -> None:
            super().__init__()
            self.table = table
            self.row = row
            self.column_key = column_key

    def __init__(
        self,
        columns: Sequence[PagedColumn],
        render: Callable[[Any], Sequence[Any]],
        row_id: Callable[[Any], int],
        *,
        markable: bool = True,
        sort: str | None = None,
        descending: bool = False,
        window: int = WINDOW,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.spec = list(columns)
        self.render_cells = render
        self.row_id = row_id
        self.markable = markable
        self.window = max(window, 20)
        sortable = [c.sort for c in self.spec if c.sort]
        self.sort_key: str | None = sort or (sortable[0] if sortable else None)
        self.sort_descending = descending
        self.marks: set[int] = set()
        self.marks_hidden = 0
        self.total = 0
        #: The first window of a new query is on screen while its COUNT still runs: total is
        #: only "at least" until it lands.
        self.counting = False
        self.window_offset = 0
        self.position = 0
        self.fetching = False
        self._rows: list = []
        self._fetch: Callable[..., list] | None = None
        self._count: Callable[[], int] | None = None
        self._all_ids: Callable[[], list[int]] | None = None
        self._count_among: Callable[[frozenset[int]], int] | None = None
        self._generation = 0
        self._new_query = False
        self._after_load: list[Callable[[], None]] = []
        self._shown_range: tuple[int, int, int] | None = None
        self._screen_line: int | None = None
        self._shown: list[PagedColumn] = []
        self._shown_width = -1
        self._loading_count = False
        self._filling = False
        self._pending_scroll: int | None = None

    # ----- the query ---------------------------------------------------------------------

    def set_source(
        self,
        fetch: Callable[..., list],
        count: Callable[[], int],
        all_ids: Callable[[], list[int]] | None = None,
        count_among: Callable[[frozenset[int]], int] | None = None,
    ) -> None:
        """Use a new query (a new search, say) and show it from the first row."""
        self._fetch, self._count, self._all_ids = fetch, count, all_ids
        self._count_among = count_among
        self._new_query = True  # the rows held belong to the old query until the new ones land
        self._after_load.clear()
        self._load(0, with_count=True, screen_line=0)

    def reload(self) -> None:
        """Query again, keeping the cursor's position (data may have changed meanwhile)."""
        if self._fetch is not None:
            self._load(self.position, with_count=True)

    def _load(self, position: int, *, with_count: bool, screen_line: int | None = None) -> None:
        """Fetch the window around absolute `position` in a worker; keep the cursor's line."""
        if self._fetch is None or self._count is None:
            return
        self._generation += 1
        generation = self._generation
        self.position = max(position, 0)
        self._screen_line = self._current_screen_line() if screen_line is None else screen_line
        with_count = with_count or (self.fetching and self._loading_count)
        self.fetching, self._loading_count = True, with_count
        fetch, count = self._fetch, self._count
        sort, descending = self.sort_key, self.sort_descending
        sortable = any(c.sort for c in self.spec)
        window, known_total, wanted = self.window_rows, self.total, self.position
        app = self.app

        def query() -> _Page:
            if with_count and wanted == 0:
                rows = _fetch_at(0)
                if len(rows) < window:  # a result shorter than the window is its own count
                    return _Page(len(rows), 0, rows)
                app.call_from_thread(first_rows, rows)  # on screen while COUNT runs
                return _Page(count(), 0, rows)
            total = count() if with_count else known_total
            at = min(wanted, max(total - 1, 0))
            offset = max(0, min(at - window // 2, total - window))
            return _Page(total, offset, _fetch_at(offset))

        def _fetch_at(offset: int) -> list:
            if sortable:
                return list(fetch(offset, window, sort=sort, descending=descending))
            return list(fetch(offset, window))

        def first_rows(rows: list) -> None:
            if generation == self._generation:
                self._show_first(rows)

        def landed(page: _Page) -> None:
            if generation == self._generation:
                self._show(page)
                if with_count:
                    self._count_hidden_marks()

        def failed(message: str) -> None:
            if generation == self._generation:
                self.fetching = False
                self._loading_count = False
                self.counting = False
            self.app.notify(message, severity="error", timeout=8)

        db_work(
            self,
            query,
            on_success=landed,
            on_error=failed,
            group=f"paged-table-{id(self)}",
            exclusive=True,
        )

    @property
    def window_rows(self) -> int:
        """About three terminal heights of rows: every row held costs UI-thread time to measure.

        The terminal's height, not the widget's, so the window is the same before and after
        layout.
        """
        return max(self.window, 3 * (self.app.size.height or 24))

    def _show_first(self, rows: list) -> None:
        """The first window of a new query, before its count: usable at once."""
        self.counting = True
        self.total = len(rows)  # at least
        self._new_query = False
        self.window_offset = 0
        self._rows = rows
        self._fill()
        self.post_message(self.Loaded(self))
        self._run_waiting()

    def _show(self, page: _Page) -> None:
        shown_already = self.counting and page.rows is self._rows
        self.counting = False
        self.total = page.total
        self.position = min(self.position, max(page.total - 1, 0))
        if not self.marks:
            self.marks_hidden = 0
        if page.rows and not page.offset <= self.position < page.offset + len(page.rows):
            # the cursor moved on while this window was on its way: fetch the right one
            self._loading_count = False
            self._load(self.position, with_count=False, screen_line=self._screen_line)
            return
        self.fetching = False
        self._loading_count = False
        self._new_query = False
        if not shown_already:
            self.window_offset = page.offset
            self._rows = page.rows
            self._fill()
        self.post_message(self.Loaded(self))
        self._run_waiting()

    def _run_waiting(self) -> None:
        waiting, self._after_load = self._after_load, []
        for action in waiting:
            action()

    def _count_hidden_marks(self) -> None:
        """How many marks the result does not hold, counted in SQL after the window landed."""
        count_among = self._count_among
        if not self.marks or count_among is None:
            return
        marks = frozenset(self.marks)
        generation = self._generation

        def counted(in_result: int) -> None:
            if generation == self._generation and marks == self.marks:
                self.marks_hidden = len(marks) - in_result
                self.post_message(self.MarksChanged(self))

        db_work(
            self,
            count_among,
            marks,
            on_success=counted,
            group=f"paged-table-hidden-{id(self)}",
            exclusive=True,
        )

    def when_loaded(self, action: Callable[[], None]) -> None:
        """Run `action` now, or once the window on its way has landed (a key pressed mid-load)."""
        if self.fetching:
            self._after_load.append(action)
        else:
            action()

    # ----- rendering ---------------------------------------------------------------------

    def _columns_for(self, width: int) -> list[PagedColumn]:
        return [c for c in self.spec if width >= c.hide_below]

    def _build_columns(self) -> None:
        """Add the columns that fit the current width; the flex column takes what is left."""
        # the vertical scrollbar appears once rows arrive: leave its room from the start
        width = (self.size.width or 80) - self.styles.scrollbar_size_vertical
        shown = self._columns_for(width)
        sizes = {c.key: self._width(c) for c in shown if not c.flex}
        fixed = sum(size + PADDING for size in sizes.values())
        if self.markable:
            fixed += len(MARKED) + PADDING
        spare = max(width - fixed, 0)
        self.clear(columns=True)
        if self.markable:
            self.add_column(UNMARKED, width=len(MARKED), key=MARK_KEY)
        for column in shown:
            size = sizes.get(column.key, max(FLEX_MIN, spare - PADDING))
            self.add_column(self._header(column), width=size, key=column.key)
        self._shown = shown
        self._shown_width = width

    def _width(self, column: PagedColumn) -> int:
        """A fixed column's width: the one sorted by keeps room for its arrow."""
        if column.sort and column.sort == self.sort_key:
            return max(column.width, len(column.label) + 2)
        return column.width

    def _header(self, column: PagedColumn) -> Text:
        if column.sort and column.sort == self.sort_key:
            arrow = " ▼" if self.sort_descending else " ▲"
            return Text(column.label + arrow, style="bold")
        return Text(column.label)

    def _fill(self) -> None:
        """Put the window's rows in the table and the cursor at its absolute position."""
        self._filling = True
        try:
            self._fill_rows()
        finally:
            self._filling = False

    def _fill_rows(self) -> None:
        self._build_columns()
        keys = [c.key for c in self.spec]
        shown = {c.key for c in self._shown}
        for row in self._rows:
            row_id = self.row_id(row)
            cells = [
                plain(cell)
                for key, cell in zip(keys, self.render_cells(row), strict=True)
                if key in shown
            ]
            if self.markable:
                cells.insert(0, self._mark_cell(row_id))
            self.add_row(*cells, key=str(row_id))
        if self._rows:
            index = self.position - self.window_offset
            self.move_cursor(row=index, scroll=False)
            line = min(self._screen_line or 0, self._body_height() - 1)
            self._pending_scroll = max(index - line, 0)
        else:
            self._pending_scroll = 0

    def on_idle(self, event: events.Idle) -> None:
        """After DataTable has measured the new rows, restore the cursor's screen line.

        DataTable measures them in its own idle handler, which runs after this one; call_next
        runs once every idle handler has.
        """
        if self._pending_scroll is not None:
            self.call_next(self._restore_screen_line)

    def _restore_screen_line(self) -> None:
        if self._pending_scroll is not None:
            self.scroll_to(y=self._pending_scroll, animate=False, force=True, immediate=True)
            self._pending_scroll = None

    def _mark_cell(self, row_id: int) -> Text:
        return Text(MARKED, style="bold") if row_id in self.marks else Text(UNMARKED, style="dim")

    def _current_screen_line(self) -> int:
        return max(self.cursor_row - round(self.scroll_y), 0)

    def on_resize(self, event: events.Resize) -> None:
        width = self.size.width - self.styles.scrollbar_size_vertical
        if self._fetch is not None and width != self._shown_width and not self.fetching:
            self._screen_line = self._current_screen_line()
            self._fill()

    # ----- reading ------------------------------------------------------------------------

    @property
    def current_row(self) -> Any | None:
        """The row under the cursor, or None when the result is empty, or the cursor's row is
        not held (a new query, or a move beyond the window, is on its way: see when_loaded)."""
        index = self.position - self.window_offset
        if self._new_query or not (0 <= index < len(self._rows)):
            return None
        return self._rows[index]

    def _visible_range(self) -> tuple[int, int, int]:
        """(first, last) absolute rows on screen, 1-based, and the total."""
        if not self._rows:
            return (0, 0, self.total)
        top = min(max(round(self.scroll_y), 0), len(self._rows) - 1)
        bottom = min(top + self._body_height(), len(self._rows))
        return (self.window_offset + top + 1, self.window_offset + bottom, self.total)

    def status_text(self) -> str:
        """Which rows are on screen: "rows 201-218 of 12,345"."""
        if not self.total:
            return "no rows"
        first, last, total = self._visible_range()
        return f"rows {first:,}-{last:,} of {'…' if self.counting else f'{total:,}'}"

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._post_moved()

    def _post_moved(self) -> None:
        """Tell the screen the rows on screen changed (once per change, not per frame)."""
        shown = self._visible_range()
        if shown != self._shown_range and not self.fetching:
            self._shown_range = shown
            self.post_message(self.Moved(self))

    def marks_text(self) -> str:
        text = f"{len(self.marks):,} marked"
        return f"{text} ({self.marks_hidden:,} not in view)" if self.marks_hidden else text

    # ----- moving -------------------------------------------------------------------------

    def _go(self, target: int) -> None:
        """Move the cursor to absolute row `target`, loading another window if needed."""
        show_hover_cursor(self, False)
        if not self.total:
            return
        if not self.counting:  # else the count on its way clamps it
            target = min(target, self.total - 1)
        target = max(0, target)
        if self.fetching:  # the window on its way is re-aimed when it lands
            self._screen_line = max(
                0, min((self._screen_line or 0) + target - self.position, self._body_height() - 1)
            )
            self.position = target
            return
        index = target - self.window_offset
        if 0 <= index < len(self._rows):
            self.position = target
            self.move_cursor(row=index)
            return
        line = self._current_screen_line() + (target - self.position)
        height = self._body_height()
        self._load(target, with_count=False, screen_line=max(0, min(line, height - 1)))

    def _body_height(self) -> int:
        return max(self.scrollable_content_region.height - (self.header_height or 0), 1)

    def action_move(self, step: int) -> None:
        self._go(self.position + step)

    def action_page(self, direction: int) -> None:
        self._go(self.position + direction * self._body_height())

    def action_first(self) -> None:
        self._go(0)

    def action_last(self) -> None:
        self._go(sys.maxsize if self.counting else self.total - 1)  # the count clamps it

    def watch_cursor_coordinate(self, old, new) -> None:
        super().watch_cursor_coordinate(old, new)
        if not (self.fetching or self._filling) and 0 <= new.row < len(self._rows):
            self.position = self.window_offset + new.row  # mouse clicks move the cursor too

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if self.scroll_y >= self.max_scroll_y and self.window_offset + len(self._rows) < self.total:
            event.prevent_default()
            self._go(self.window_offset + len(self._rows))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.scroll_y <= 0 and self.window_offset > 0:
            event.prevent_default()
            self._go(self.window_offset - 1)

    # ----- marks --------------------------------------------------------------------------

    def with_current_row(self, action: Callable[[Any], None]) -> None:
        """action(row under the cursor): now, or once the window on its way has landed."""
        row = self.current_row
        if row is not None:
            action(row)
        elif self.fetching:
            self._after_load.append(
                lambda: self.with_current_row(action) if not self.fetching else None
            )

    def action_toggle_mark(self) -> None:
        if self.markable:
            self.with_current_row(self._toggle)

    def _toggle(self, row: Any) -> None:
        row_id = self.row_id(row)
        if row_id in self.marks:
            self.marks.discard(row_id)
        else:
            self.marks.add(row_id)
        self.update_cell(str(row_id), MARK_KEY, self._mark_cell(row_id))
        self.post_message(self.MarksChanged(self))

    def action_mark_all(self) -> None:
        if self._all_ids is None or not self.markable:
            return

        def marked(ids: list[int]) -> None:
            self.marks.update(ids)
            self._refresh_marks()

        db_work(self, self._all_ids, on_success=marked, group="paged-table-mark-all")

    def action_clear_marks(self) -> None:
        self.marks.clear()
        self.marks_hidden = 0
        self._refresh_marks()

    def set_marks(self, ids: set[int]) -> None:
        """Replace the marks (after an action that consumed them, say)."""
        self.marks = set(ids)
        self.marks_hidden = 0 if not ids else self.marks_hidden
        self._refresh_marks()
        self._count_hidden_marks()

    def _refresh_marks(self) -> None:
        if self.markable:
            for row in self._rows:
                row_id = self.row_id(row)
                self.update_cell(str(row_id), MARK_KEY, self._mark_cell(row_id))
        self.post_message(self.MarksChanged(self))

    # ----- sorting ------------------------------------------------------------------------

    def sort_by(self, sort: str, descending: bool = False) -> None:
        self.sort_key, self.sort_descending = sort, descending
        self._load(0, with_count=False, screen_line=0)

    def action_next_sort(self) -> None:
        """Sort by the next column on screen (a column too narrow to show is skipped)."""
        names = [c.sort for c in self._shown or self.spec if c.sort]
        if not names:
            return
        index = names.index(self.sort_key) if self.sort_key in names else -1
        self.sort_by(names[(index + 1) % len(names)])

    def action_reverse_sort(self) -> None:
        if self.sort_key:
            self.sort_by(self.sort_key, not self.sort_descending)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = next((c for c in self.spec if c.key == event.column_key.value), None)
        if column is None or not column.sort:
            return
        same = column.sort == self.sort_key
        self.sort_by(column.sort, not self.sort_descending if same else False)

    # ----- mouse on cells -----------------------------------------------------------------

    async def on_click(self, event: events.Click) -> None:
        meta = event.style.meta
        row_index, column_index = meta.get("row"), meta.get("column")
        if row_index is None or column_index is None or row_index < 0 or column_index < 0:
            return
        if not (0 <= row_index < len(self._rows)) or column_index >= len(self.ordered_columns):
            return
        event.prevent_default()  # DataTable would treat a click on the cursor row as enter
        show_hover_cursor(self, True)
        row = self._rows[row_index]
        self.move_cursor(row=row_index, column=column_index, scroll=False)
        key = self.ordered_columns[column_index].key.value
        if key == MARK_KEY:
            self._toggle(row)
        elif key is not None:
            self.post_message(self.CellClicked(self, row, key))
