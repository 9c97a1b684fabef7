"""Words that agree with their numbers, for services, screens and commands alike.

    plural(1, "account")                  -> "1 account"
    plural(12345, "account")              -> "12,345 accounts"
    plural(2, "entry", "entries")         -> "2 entries"
    noun(2, "pupil")                      -> "pupils"

No Textual and nothing of ours is imported, so every layer may use it.
"""

from __future__ import annotations


def noun(count: float, word: str, many: str | None = None) -> str:
    """`word` for exactly one, else its plural (`many`, or `word` + "s")."""
    return word if count == 1 else many or f"{word}s"


def plural(count: int, word: str, many: str | None = None) -> str:
    """The count with thousands separators and the word that agrees with it."""
    return f"{count:,} {noun(count, word, many)}"
