"""A host app for the export modal and what its tests read back (a helper module)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from textual.app import App
from textual.widgets import Static

from extgw_tui.screens.export import ExportModal


class ModalApp(App):
    """Just enough app to host the modal; records what it dismissed with."""

    def __init__(self, search: str | None = None) -> None:
        super().__init__()
        self.search = search
        self.results: list = []

    def on_mount(self) -> None:
        self.push_screen(ExportModal(self.search), self.results.append)


def rows_of(path: Path) -> list[list]:
    ws = load_workbook(path).worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def status(app: App) -> str:
    return str(app.screen.query_one("#export-status", Static).render())


async def settle(app: App, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
