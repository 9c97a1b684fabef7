"""Mixins for a screen built around one PagedTable, so the list screens react to it alike.

Textual calls a message handler of every class in a screen's MRO, so a screen using one of
these mixins extends it through the hooks (`_show_status`, `_table_loaded`, `action_open`)
rather than by defining the same handler again (both would run).
"""

from __future__ import annotations

from textual.widgets import DataTable

from extgw_tui.widgets.paged_table import PagedTable


class ListStatus:
    """A status line that describes the list: redrawn when a page lands, the cursor moves or
    the marks change."""

    def _show_status(self) -> None:
        raise NotImplementedError

    def _table_loaded(self) -> None:
        """A page landed; a screen that shows more about it (a count) extends this."""
        self._show_status()

    def _list_changed(self, event: PagedTable.TableMessage) -> None:
        """A page landed, the cursor moved or the marks changed: the status line follows."""
        event.stop()
        if isinstance(event, PagedTable.Loaded):
            self._table_loaded()
        else:
            self._show_status()

    on_paged_table_loaded = on_paged_table_moved = on_paged_table_marks_changed = _list_changed


class EnterOpens:
    """Enter on a row (DataTable.RowSelected) runs the screen's `open` action."""

    def action_open(self) -> None:
        raise NotImplementedError

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()
