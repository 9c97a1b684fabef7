"""Stored text written out for a terminal or a log line: control characters shown, never sent.

A name or address holding ESC would otherwise send escape sequences to the administrator's
terminal (colours, a moved cursor, a changed window title); a tab or line break would break a
table row or a log line. They are written as the escapes a programmer reads: \\x1b, \\n, \\t.
"""

from __future__ import annotations

import re

#: C0 controls, DEL and the C1 controls (U+0080-U+009F, which some terminals obey as ESC).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """The text on one line, each control character written as its escape."""
    if not CONTROL.search(text):
        return text  # the usual case, without a call per character
    return CONTROL.sub(lambda m: _NAMED.get(m[0]) or f"\\x{ord(m[0]):02x}", text)
