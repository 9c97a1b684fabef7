"""Exporting the review list to Excel before deleting: choose a file, watch progress, cancel.

Dismisses with the path written, or None when cancelled. The rows are streamed from the
database in a thread worker, so the screen stays responsive for any number of accounts.
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
from extgw_tui.services import review, xlsx


class ReviewExportModal(Dialog[Path | None]):
    """Ask where to save the list, then write it with progress and a way to cancel."""

    TITLE = "Export the review list"

    CSS_PATH = stylesheet("review_export.tcss")
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "export", "Export"),
    ]

    def __init__(self, months: int, count: int) -> None:
        super().__init__()
        self.months = months
        self.count = count
        self._worker: Worker | None = None

    def compose(self) -> ComposeResult:
        noun = "account" if self.count == 1 else "accounts"
        with Vertical(id="review-export-dialog", classes="dialog"):
            yield Static("Export the review list", classes="dialog-title")
            yield Static(
                f"{self.count:,} {noun} with no pupils and no login for at least "
                f"{self.months} months."
            )
            yield Label("Save as (.xlsx):")
            yield Input(str(review.default_export_path(self.months)), id="review-export-path")
            yield ProgressBar(total=max(self.count, 1), show_eta=False, id="review-export-progress")
            yield Static("", id="review-export-status", markup=False)
            with Horizontal(classes="dialog-buttons"):
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
            question = f"{target} already exists. Replace it?"
            self.app.push_screen(
                ConfirmModal(question, title="Replace file?", yes_label="Replace"),
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
            group="review-export",
        )

    def _write(self, target: Path) -> xlsx.WriteResult:
        """Runs in the worker thread."""
        worker = get_current_worker()
        return review.export_candidates(
            target,
            self.months,
            progress=lambda rows: self.app.call_from_thread(self._progress, rows),
            should_cancel=lambda: worker.is_cancelled,
        )

    def _progress(self, rows: int) -> None:
        if self.is_attached:  # a late report after cancel arrives once the dialog is gone
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
        self.query_one("#review-export-status", Static).update(text)

    def action_cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self.app.notify("Export cancelled; no file was written.")
        self.dismiss(None)
