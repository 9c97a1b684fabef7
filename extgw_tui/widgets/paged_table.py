"""PagedTable: a DataTable that shows a window of a database result, never the whole of it.

A DataTable measures every cell it holds on the UI thread, so 100,000 rows would freeze the
app. PagedTable holds one window (about three screens of rows, at least WINDOW) and keeps the
cursor's ABSOLUTE position in the result: moving past the window's edge (up/down, j/k,
PageUp/PageDown, Home/End, g/G, the mouse wheel at the edge) fetches the neighbouring window and
keeps the cursor on the same screen line, so paging reaches the last of 100,000 rows without
visible seams. The rules of paging, marks and sorting live in widgets/pager.py (no Textual,
unit-tested on their own); this module is the view: columns, cells, keys, mouse, workers.

API (every query runs through db_work in exclusive workers; a generation counter drops any
older result, so a slow query never overwrites a newer one):

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
PagedTable.CellClicked(row, column_key) for a mouse click on a data cell. Each has `table`
and `control` (the same PagedTable), so `@on(PagedTable.Loaded, "#users-table")` works. enter
posts the usual DataTable.RowSelected; use `current_row` for the row under the cursor.

Read-outs: total, position (absolute cursor index), window_offset, fetching (a query is on
its way), counting (the total is "at least" until the COUNT lands), current_row, rows_held (the
window of rows held), marks (set of ids), marks_hidden (marked ids not in the current result),
status_text() ("rows 201-218 of 12,345", the rows on screen), marks_text() ("3 marked"),
reload() (same query, same position: after a change or on screen resume), set_marks(ids),
sort_by(name, descending), when_loaded(callback) and with_current_row(callback) (run an action
once the window on its way has landed, so a key pressed during a load is not lost).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from extgw_tui.escapes import escape_controls
from extgw_tui.textual_private import show_hover_cursor
from extgw_tui.widgets.dbwork import db_work
from extgw_tui.widgets.pager import Page, Pager, Request
from extgw_tui.widgets.to_ui import post_to_ui

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
    #: Actions a list switches off (a list that is never marked, or has one fixed order):
    #: their keys do nothing there.
    UNUSED_ACTIONS: ClassVar[frozenset[str]] = frozenset()

    class TableMessage(Message):
        """A message about one PagedTable; `control` lets @on(..., "#id") pick the table."""

        def __init__(self, table: PagedTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> PagedTable:
            return self.table

    class Loaded(TableMessage):
        """A window of rows landed (or the query changed): counts and range are current."""

    class Moved(TableMessage):
        """The rows on screen or the cursor changed within the window held: status changed."""

    class MarksChanged(TableMessage):
        """Marks were added, removed, or their count out of view changed."""

    class CellClicked(TableMessage):
        """A mouse click on a data cell (not the mark column, not the header)."""

        def __init__(self, table: PagedTable, row: Any, column_key: str) -> None:
            super().__init__(table)
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
        self.pager = Pager([c.sort for c in self.spec if c.sort], sort=sort, descending=descending)
        self._shown_range: tuple[int, int, int] | None = None
        self._screen_line: int | None = None
        self._shown: list[PagedColumn] = []
        self._shown_width = -1
        self._filling = False
        self._pending_scroll: int | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.UNUSED_ACTIONS:
            return False
        return super().check_action(action, parameters)

    # ----- the pager's state, read through the table ---------------------------------------

    @property
    def total(self) -> int:
        return self.pager.total

    @property
    def counting(self) -> bool:
        """The first window of a new query is on screen while its COUNT still runs: total is
        only "at least" until it lands."""
        return self.pager.counting

    @property
    def position(self) -> int:
        return self.pager.position

    @property
    def window_offset(self) -> int:
        return self.pager.window_offset

    @property
    def fetching(self) -> bool:
        return self.pager.fetching

    @property
    def rows_held(self) -> list:
        """The window of rows held (window_offset is the first one's absolute index)."""
        return self.pager.rows

    @property
    def _rows(self) -> list:
        """The name rows_held had before the split, still read by tests on branches in flight
        (issue 12); remove once none does."""
        return self.pager.rows

    @property
    def marks(self) -> set[int]:
        return self.pager.marks

    @property
    def marks_hidden(self) -> int:
        return self.pager.marks_hidden

    @property
    def sort_key(self) -> str | None:
        return self.pager.sort_key

    @property
    def sort_descending(self) -> bool:
        return self.pager.sort_descending

    @property
    def current_row(self) -> Any | None:
        """The row under the cursor, or None when the result is empty, or the cursor's row is
        not held (a new query, or a move beyond the window, is on its way: see when_loaded)."""
        return self.pager.current_row

    # ----- the query ---------------------------------------------------------------------

    def set_source(
        self,
        fetch: Callable[..., list],
        count: Callable[[], int],
        all_ids: Callable[[], list[int]] | None = None,
        count_among: Callable[[frozenset[int]], int] | None = None,
        *,
        reversible: bool = False,
    ) -> None:
        """Use a new query (a new search, say) and show it from the first row; `reversible`:
        see pager's module docstring (a window past the middle is read from the far end)."""
        request = self.pager.set_source(fetch, count, all_ids, count_among, reversible=reversible)
        self._run(request, screen_line=0)

    def reload(self) -> None:
        """Query again, keeping the cursor's position (data may have changed meanwhile)."""
        self._run(self.pager.reload())

    def _run(self, request: Request | None, *, screen_line: int | None = None) -> None:
        """Fetch the request's window in a worker; keep the cursor on its screen line."""
        if request is None:
            return
        self._screen_line = self._current_screen_line() if screen_line is None else screen_line
        window = self.window_rows

        def first_rows(rows: list) -> None:
            if self.pager.first_rows(request, rows):  # on screen while COUNT runs
                self._fill()
                self.post_message(self.Loaded(self))
                self.pager.run_waiting()

        def landed(page: Page) -> None:
            landing = self.pager.landed(request, page)
            if landing is None:
                return
            if landing.next is not None:
                self._run(landing.next, screen_line=self._screen_line)
            else:
                if landing.refill:
                    self._fill()
                self.post_message(self.Loaded(self))
                self.pager.run_waiting()
            if request.with_count:
                self._count_hidden_marks()

        def failed(message: str) -> None:
            self.pager.failed(request)
            self.app.notify(message, severity="error", timeout=8)

        db_work(
            self,
            request.run,
            window,
            lambda rows: post_to_ui(self, first_rows, rows),
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

    def _count_hidden_marks(self) -> None:
        """How many marks the result does not hold, counted in SQL after the window landed."""
        asked = self.pager.hidden_marks()
        if asked is None:
            return

        def counted(in_result: int) -> None:
            if self.pager.hidden_counted(asked, in_result):
                self.post_message(self.MarksChanged(self))

        db_work(
            self,
            asked.count_among,
            asked.marks,
            on_success=counted,
            group=f"paged-table-hidden-{id(self)}",
            exclusive=True,
        )

    def when_loaded(self, action: Callable[[], None]) -> None:
        """Run `action` now, or once the window on its way has landed (a key pressed mid-load)."""
        self.pager.when_loaded(action)

    def with_current_row(self, action: Callable[[Any], None]) -> None:
        """action(row under the cursor): now, or once the window on its way has landed."""
        self.pager.with_current_row(action)

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
        for row in self.rows_held:
            row_id = self.row_id(row)
            cells = [
                plain(cell)
                for key, cell in zip(keys, self.render_cells(row), strict=True)
                if key in shown
            ]
            if self.markable:
                cells.insert(0, self._mark_cell(row_id))
            self.add_row(*cells, key=str(row_id))
        if self.rows_held:
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
        if self.pager.has_source and width != self._shown_width and not self.fetching:
            self._screen_line = self._current_screen_line()
            self._fill()

    # ----- reading ------------------------------------------------------------------------

    def _visible_range(self) -> tuple[int, int, int]:
        """(first, last) absolute rows on screen, 1-based, and the total."""
        return self.pager.visible_range(round(self.scroll_y), self._body_height())

    def status_text(self) -> str:
        """Which rows are on screen: "rows 201-218 of 12,345"."""
        return self.pager.status_text(round(self.scroll_y), self._body_height())

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
        """How many are marked, and how many of those the result does not show."""
        return self.pager.marks_text()

    # ----- moving -------------------------------------------------------------------------

    def _go(self, target: int) -> None:
        """Move the cursor to absolute row `target`, loading another window if needed."""
        show_hover_cursor(self, False)
        line = self._current_screen_line()
        fetching = self.fetching
        move = self.pager.go(target)
        if move is None:
            return
        height = self._body_height()
        if fetching:  # the window on its way is re-aimed when it lands
            self._screen_line = max(0, min((self._screen_line or 0) + move.step, height - 1))
        elif move.index is not None:
            self.move_cursor(row=move.index)
        else:
            self._run(move.request, screen_line=max(0, min(line + move.step, height - 1)))

    def _body_height(self) -> int:
        return max(self.scrollable_content_region.height - (self.header_height or 0), 1)

    def action_move(self, step: int) -> None:
        self._go(self.position + step)

    def action_page(self, direction: int) -> None:
        self._go(self.position + direction * self._body_height())

    def action_first(self) -> None:
        self._go(0)

    def action_last(self) -> None:
        self._go(self.pager.last_target())  # while counting, the count clamps it

    def watch_cursor_coordinate(self, old, new) -> None:
        super().watch_cursor_coordinate(old, new)
        if not self._filling:
            self.pager.cursor_moved_to(new.row)  # mouse clicks move the cursor too

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        end = self.window_offset + len(self.rows_held)
        if self.scroll_y >= self.max_scroll_y and end < self.total:
            event.prevent_default()
            self._go(end)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.scroll_y <= 0 and self.window_offset > 0:
            event.prevent_default()
            self._go(self.window_offset - 1)

    # ----- marks --------------------------------------------------------------------------

    def action_toggle_mark(self) -> None:
        if self.markable:
            self.with_current_row(self._toggle)

    def _toggle(self, row: Any) -> None:
        row_id = self.row_id(row)
        self.pager.toggle(row_id)
        self.update_cell(str(row_id), MARK_KEY, self._mark_cell(row_id))
        self.post_message(self.MarksChanged(self))

    def action_mark_all(self) -> None:
        all_ids = self.pager.all_ids
        if all_ids is None or not self.markable:
            return

        def marked(ids: list[int]) -> None:
            self.pager.mark(ids)
            self._refresh_marks()

        db_work(self, all_ids, on_success=marked, group="paged-table-mark-all")

    def action_clear_marks(self) -> None:
        self.pager.clear_marks()
        self._refresh_marks()

    def set_marks(self, ids: set[int]) -> None:
        """Replace the marks (after an action that consumed them, say)."""
        self.pager.set_marks(ids)
        self._refresh_marks()
        self._count_hidden_marks()

    def _refresh_marks(self) -> None:
        if self.markable:
            for row in self.rows_held:
                row_id = self.row_id(row)
                self.update_cell(str(row_id), MARK_KEY, self._mark_cell(row_id))
        self.post_message(self.MarksChanged(self))

    # ----- sorting ------------------------------------------------------------------------

    def sort_by(self, sort: str, descending: bool = False) -> None:
        self._run(self.pager.sort_by(sort, descending), screen_line=0)

    def action_next_sort(self) -> None:
        """Sort by the next column on screen (a column too narrow to show is skipped)."""
        names = [c.sort for c in self._shown or self.spec if c.sort]
        self._run(self.pager.next_sort(names), screen_line=0)

    def action_reverse_sort(self) -> None:
        self._run(self.pager.reverse_sort(), screen_line=0)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = next((c for c in self.spec if c.key == event.column_key.value), None)
        if column is not None and column.sort:
            self._run(self.pager.header_sort(column.sort), screen_line=0)

    # ----- mouse on cells -----------------------------------------------------------------

    async def on_click(self, event: events.Click) -> None:
        meta = event.style.meta
        row_index, column_index = meta.get("row"), meta.get("column")
        if row_index is None or column_index is None or row_index < 0 or column_index < 0:
            return
        if not (0 <= row_index < len(self.rows_held)) or column_index >= len(self.ordered_columns):
            return
        event.prevent_default()  # DataTable would treat a click on the cursor row as enter
        show_hover_cursor(self, True)
        row = self.rows_held[row_index]
        self.move_cursor(row=row_index, column=column_index, scroll=False)
        key = self.ordered_columns[column_index].key.value
        if key == MARK_KEY:
            self._toggle(row)
        elif key is not None:
            self.post_message(self.CellClicked(self, row, key))
