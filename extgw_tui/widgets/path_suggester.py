"""Completing a file path as it is typed, as a shell does (right arrow or End accepts).

An Input suggester: the first entry of the typed folder that starts with the typed name, folders
ending in "/", the wanted kinds of file before any other. Read from the disk on every keystroke
(no cache), since files come and go; a folder that cannot be read suggests nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual.suggester import Suggester

#: Most entries of one folder looked at: a huge folder must not stall typing.
MAX_ENTRIES = 5000


class PathSuggester(Suggester):
    """Suggest the rest of a path; files with one of `suffixes` come first."""

    def __init__(self, suffixes: tuple[str, ...] = ()) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.suffixes = tuple(s.casefold() for s in suffixes)

    async def get_suggestion(self, value: str) -> str | None:
        if not value or value.endswith(os.sep) and not Path(value).expanduser().is_dir():
            return None
        typed = Path(value).expanduser()
        folder, prefix = (typed, "") if value.endswith(os.sep) else (typed.parent, typed.name)
        best: tuple[int, str] | None = None
        try:
            with os.scandir(folder) as entries:
                for count, entry in enumerate(entries):
                    if count >= MAX_ENTRIES:
                        break
                    if (
                        not entry.name.startswith(prefix)
                        or entry.name.startswith(".")
                        and not (prefix.startswith("."))
                    ):
                        continue
                    is_dir = entry.is_dir()
                    wanted = is_dir or entry.name.casefold().endswith(self.suffixes)
                    rank = (0 if wanted else 1, entry.name)
                    if best is None or rank < best:
                        best = (rank[0], entry.name + (os.sep if is_dir else ""))
        except OSError:
            return None
        if best is None or best[1] == prefix:
            return None
        return value + best[1][len(prefix) :]
