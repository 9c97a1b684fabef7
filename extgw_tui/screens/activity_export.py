"""Exporting the filtered activity log to Excel: choose a file, watch progress, cancel.

Dismisses with the path written, or None when cancelled. Rows stream from the database in a
thread worker, so the screen stays responsive however long the log is.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, ProgressBar, Static
from textual.worker import Worker, get_current_worker

from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.dbwork import db_work
from extgw_tui.screens.dialog import Dialog
from extgw_tui.services import activity, xlsx
from extgw_tui.services.activity import ActivityFilter


class ActivityExportModal(Dialog[Path | None]):
    """Ask where to save the filtered log, then write it with progress and a way to cancel."""

    TITLE = "Export the activity log"

    CSS_PATH = stylesheet("activity_export.tcss")
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "export", "Export"),
    ]

    def __init__(self, flt: ActivityFilter, count: int) -> None:
        super().__init__()
        self.filter = flt
        self.count = count
        self._worker: Worker | None = None

    def compose(self) -> ComposeResult:
        noun = "entry" if self.count == 1 else "entries"
        with Vertical(id="activity-export-dialog"):
            yield Static("Export the activity log", classes="activity-export-title")
            yield Static(f"{self.count:,} {noun}: {self.filter.describe()}.", markup=False)
            yield Label("Save as (.xlsx):")
            yield Input(str(activity.default_export_path()), id="activity-export-path")
            yield ProgressBar(
                total=max(self.count, 1), show_eta=False, id="activity-export-progress"
            )
            yield Static("", id="activity-export-status", markup=False)
            with Horizontal(classes="activity-export-buttons"):
                yield Button("Export (enter)", id="export", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_export()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "export":
            self.action_export()
        else:
            self.action_cancel()

    def _target(self) -> Path | None:
        text = self.query_one(Input).value.strip()
        if not text:
            self._status("Type a file name for the export.")
            return None
        path = Path(text).expanduser()
        return path if path.suffix.lower() == ".xlsx" else path.with_name(path.name + ".xlsx")

    def action_export(self) -> None:
        if self._worker is not None:
            return
        target = self._target()
        if target is None:
            return
        if target.is_file():
            self.app.push_screen(
                ConfirmModal(
                    f"{target} already exists. Replace it?",
                    title="Replace file?",
                    yes_label="Replace",
                ),
                lambda replace: self._start(target) if replace else None,
            )
            return
        self._start(target)

    def _start(self, target: Path) -> None:
        self.query_one(Input).disabled = True
        self.query_one("#export", Button).disabled = True
        self.query_one(ProgressBar).display = True
        self._status(f"Writing {target} …")
        self._worker = db_work(
            self,
            self._write,
            target,
            on_success=self._done,
            on_error=self._failed,
            group="activity-export",
        )

    def _write(self, target: Path) -> xlsx.WriteResult:
        """Runs in the worker thread."""
        worker = get_current_worker()
        return activity.export_log(
            target,
            self.filter,
            progress=lambda rows: self.app.call_from_thread(self._progress, rows),
            should_cancel=lambda: worker.is_cancelled,
        )

    def _progress(self, rows: int) -> None:
        self.query_one(ProgressBar).update(progress=rows)

    def _done(self, result: xlsx.WriteResult) -> None:
        self.dismiss(result.path)

    def _failed(self, message: str) -> None:
        self._worker = None
        self.query_one(Input).disabled = False
        self.query_one("#export", Button).disabled = False
        self.query_one(ProgressBar).display = False
        self._status(message)
        self.query_one(Input).focus()

    def _status(self, text: str) -> None:
        self.query_one("#activity-export-status", Static).update(text)

    def action_cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self.app.notify("Export cancelled; no file was written.")
        self.dismiss(None)
