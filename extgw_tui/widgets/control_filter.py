"""The last guard between stored text and the terminal, for every widget at once.

Lists escape control characters themselves (escapes.escape_controls, so the admin sees them);
any other widget showing a name, an address or an error text goes through this filter, which
drops control characters from what is drawn. Rich counts them as zero cells wide, so dropping
them leaves every line's layout as it was measured.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from extgw_tui.escapes import CONTROL


class DropControlCharacters(LineFilter):
    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if not any(CONTROL.search(text) for text, _, control in segments if not control):
            return segments
        return [
            seg if seg.control else Segment(CONTROL.sub("", seg.text), seg.style)
            for seg in segments
        ]
