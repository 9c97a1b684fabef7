"""What the export modal's tests read back (a helper module)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from textual.app import App
from textual.widgets import Static


def rows_of(path: Path) -> list[list]:
    ws = load_workbook(path).worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def status(app: App) -> str:
    return str(app.screen.query_one("#export-status", Static).render())
