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

    def __init__(self, months: int, count: int, rule: str = review.INACTIVE) -> None:
        super().__init__()
        self.months = months
        self.count = count
        self.rule = rule

    def compose_choices(self) -> ComposeResult:
        threshold = review.months_text(self.months)
        if self.rule == review.LEFT:
            which = f"whose pupils all left the roll at least {threshold} ago"
        else:
            which = f"with no pupils and no login for at least {threshold}"
        yield Static(f"{plural(self.count, 'account')} {which}.", classes="export-about")

    def default_path(self) -> Path:
        return review.default_export_path(self.months, rule=self.rule)

    def write(
        self, target: Path, progress: exports.Progress, should_cancel: Callable[[], bool]
    ) -> WriteResult:
        return review.export_candidates(
            target, self.months, progress=progress, should_cancel=should_cancel, rule=self.rule
        )
