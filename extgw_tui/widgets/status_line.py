"""StatusLine: a one-line Static that repaints only when its text changes.

A Static's update() asks for a new layout of the whole screen; a line whose height is fixed in
CSS never needs one, and the list screens rewrite their status lines after every window of rows
and cursor move: skipping the layout (and unchanged text) keeps a search to one frame.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Static


class StatusLine(Static):
    """A Static of fixed height (set in CSS) showing one line of plain text (never markup)."""

    def __init__(self, text: str = "", **kwargs: Any) -> None:
        super().__init__(text, markup=False, **kwargs)

    def show(self, text: str) -> None:
        if text != self.content:
            self.update(text, layout=False)
