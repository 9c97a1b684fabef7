"""Printing a table on the terminal, one row at a time (so a long list streams).

Each column has a heading and a width; a cell longer than its width is cut with "…" (width 0:
never cut, for a last column such as a file path that must stay usable). Control characters
in stored text are escaped, so a name can never send terminal escapes.
"""

from __future__ import annotations

from collections.abc import Sequence

from extgw_tui.services import audit


class TextTable:
    """Columns of (heading, width), printed two spaces apart."""

    def __init__(self, columns: Sequence[tuple[str, int]]) -> None:
        self.columns = tuple(columns)

    @staticmethod
    def cell(value: object, width: int) -> str:
        """One cell: None shows empty, control characters escaped, cut to fit."""
        text = audit.clean("" if value is None else str(value))
        return text if not width or len(text) <= width else text[: width - 1] + "…"

    def line(self, values: Sequence[object]) -> str:
        cells = (
            self.cell(value, width).ljust(width)
            for value, (_, width) in zip(values, self.columns, strict=True)
        )
        return "  ".join(cells).rstrip()

    def heading(self) -> str:
        return self.line([name for name, _ in self.columns])

    def print_heading(self) -> None:
        print(self.heading())

    def print_row(self, values: Sequence[object]) -> None:
        print(self.line(values))
