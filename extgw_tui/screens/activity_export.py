"""Exporting the filtered activity log to Excel: the shared export dialog, for this log.

Dismisses with the path written, or None. Rows stream from the database in a worker, so the
screen stays responsive however long the log is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.app import ComposeResult
from textual.widgets import Static

from extgw_tui.screens.export_dialog import ExportDialog
from extgw_tui.services import activity, exports
from extgw_tui.services.activity import ActivityFilter
from extgw_tui.services.xlsx import WriteResult
from extgw_tui.text import plural


class ActivityExportModal(ExportDialog):
    """The entries the activity log's filters select, newest first."""

    TITLE = "Export the activity log"

    def __init__(self, flt: ActivityFilter, count: int) -> None:
        super().__init__()
        self.filter = flt
        self.count = count

    def compose_choices(self) -> ComposeResult:
        yield Static(
            f"{plural(self.count, 'entry', 'entries')}: {self.filter.describe()}.",
            classes="export-about",
            markup=False,
        )

    def default_path(self) -> Path:
        return activity.default_export_path()

    def write(
        self, target: Path, progress: exports.Progress, should_cancel: Callable[[], bool]
    ) -> WriteResult:
        return exports.export_activity_log(
            target, self.filter, progress=progress, should_cancel=should_cancel
        )
