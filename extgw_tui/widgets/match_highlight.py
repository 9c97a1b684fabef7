"""Why a row matched the search: the matched part of a name, email or ID, underlined and bold
(visible without colour), so an email-only match among surnames explains itself."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from extgw_tui.errors import InvalidInput
from extgw_tui.escapes import escape_controls
from extgw_tui.models import name_key, text_key
from extgw_tui.services import filters

STYLE = "bold underline"


@dataclass(frozen=True)
class Highlighter:
    """What the free text of a search looks for, ready to mark cells with."""

    names: tuple[str, ...] = ()  # name keys a name cell may start with
    email: str = ""  # an email fragment (casefolded)
    number: str = ""  # an ID, as digits

    @classmethod
    def for_search(cls, text: str) -> Highlighter:
        try:
            words = [
                token
                for token in filters.tokens(filters.cleaned(text))
                if not token.startswith("-") and ":" not in token
            ]
        except InvalidInput:  # what cannot be parsed highlights nothing; the box says why
            return cls()
        free = " ".join(words)
        digits = free.lstrip("#")
        if digits.isascii() and digits.isdigit():
            return cls(number=digits, email="" if free.startswith("#") else digits)
        keys = {name_key(free), *(name_key(word) for word in words)}
        return cls(
            names=tuple(sorted(k for k in keys if k)),
            email=text_key(free) if len(words) == 1 else "",
        )

    def name(self, value: str) -> Text:
        text = _cell(value)
        if text.plain != value:  # escaped control characters: offsets would not match
            return text
        key = name_key(value)
        best = max((k for k in self.names if key.startswith(k)), key=len, default="")
        if best:
            for end in range(1, len(value) + 1):  # the shortest start that folds to the match
                if name_key(value[:end]) == best:
                    text.stylize(STYLE, 0, end)
                    break
        return text

    def email_cell(self, value: str) -> Text:
        text = _cell(value)
        if text.plain != value:
            return text
        folded = value.casefold()
        at = folded.find(self.email) if self.email and len(folded) == len(value) else -1
        if at >= 0:
            text.stylize(STYLE, at, at + len(self.email))
        return text

    def id_cell(self, value: int) -> Text:
        text = _cell(str(value))
        if self.number and int(self.number) == value:
            text.stylize(STYLE)
        return text


def _cell(value: str) -> Text:
    """As PagedTable shows text: control characters escaped, one line, cut with an ellipsis."""
    return Text(escape_controls(value), no_wrap=True, overflow="ellipsis")
