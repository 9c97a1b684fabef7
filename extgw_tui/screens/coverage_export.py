"""Exporting the coverage table to Excel: the shared export dialog, for this table.

Dismisses with the path written, or None. The figures are counted again inside the export's
snapshot, so the file says what the database held when it was written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.app import ComposeResult
from textual.widgets import Static

from extgw_tui.screens.export_dialog import ExportDialog
from extgw_tui.services import coverage, exports
from extgw_tui.services.xlsx import WriteResult


class CoverageExportModal(ExportDialog):
    """Every year group and form, with the whole school's figures."""

    TITLE = "Export the coverage"

    def compose_choices(self) -> ComposeResult:
        yield Static(
            "Pupils on roll with an active Parent/Guardian and Pupil account, per year group "
            "and form.",
            classes="export-about",
        )

    def default_path(self) -> Path:
        return coverage.default_export_path()

    def write(
        self, target: Path, progress: exports.Progress, should_cancel: Callable[[], bool]
    ) -> WriteResult:
        return coverage.export_coverage(target, progress=progress, should_cancel=should_cancel)
