"""StatusLine: a one-line Static that repaints only when its text changes.

A Static's update() asks for a new layout of the whole screen; a line whose height is fixed in
CSS never needs one, and the users screen rewrites its status and marks lines after every
window of rows: skipping the layout (and unchanged text) keeps a search to one frame.
"""

from __future__ import annotations

from textual.widgets import Static


class StatusLine(Static):
    """A Static of fixed height (set in CSS) showing one line of plain text."""

    def show(self, text: str) -> None:
        if text != self.content:
            self.update(text, layout=False)
