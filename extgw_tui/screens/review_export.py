"""Exporting the review list to Excel before deleting: the shared export dialog, for this list.

Dismisses with the path written, or None. The rows stream from the database in a worker, so
the screen stays responsive for any number of accounts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.app import ComposeResult
from textual.widgets import Static

from extgw_tui.screens.export_dialog import ExportDialog
from extgw_tui.services import exports, review
from extgw_tui.services.xlsx import WriteResult
from extgw_tui.text import plural


class ReviewExportModal(ExportDialog):
    """Every account on the review list, with the threshold it was drawn under."""

    TITLE = "Export the review list"

    def __init__(self, months: int, count: int) -> None:
        super().__init__()
        self.months = months
        self.count = count

    def compose_choices(self) -> ComposeResult:
        yield Static(
            f"{plural(self.count, 'account')} with no pupils and no login for at least "
            f"{review.months_text(self.months)}.",
            classes="export-about",
        )

    def default_path(self) -> Path:
        return review.default_export_path(self.months)

    def write(
        self, target: Path, progress: exports.Progress, should_cancel: Callable[[], bool]
    ) -> WriteResult:
        return review.export_candidates(
            target, self.months, progress=progress, should_cancel=should_cancel
        )
