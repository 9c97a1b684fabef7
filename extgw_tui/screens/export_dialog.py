"""The dialog every export uses: choose a file, watch "N of M rows", escape cancels.

The file is written in a thread worker (db_work), so the screen stays responsive at 100,000
rows. Escape (or a deliberate press of Cancel) asks the worker to stop; the dialog stays open
until the worker really has, then reports what happened: the writer deletes its temporary
file, so a cancel leaves no file. Enter never cancels: the focus leaves the buttons while an
export runs. If the dialog goes while an export runs (the app closing, the terminal hung up),
the export is stopped the same way.

A subclass says what is exported: compose_choices(), default_path() and write(); where there
are choices to make, also prepare(), ready(), target() and done().
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, ProgressBar, Static
from textual.worker import Worker

from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.dialog import Dialog
from extgw_tui.services import exports
from extgw_tui.services.xlsx import WriteResult
from extgw_tui.widgets.dbwork import db_work
from extgw_tui.widgets.to_ui import post_to_ui


class ExportDialog(Dialog[Path | None]):
    """Write one export to a file the admin names; dismisses with the path written, or None."""

    TITLE = "Export to Excel"
    CSS_PATH = stylesheet("export_dialog.tcss")
    BINDINGS = [
        Binding(
            "escape",
            "close",
            "Close",
            tooltip="Cancel the running export, else close",
            id="export.close",
        ),
        Binding("ctrl+s", "export", "Export", tooltip="Export to the file named", id="export.run"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.proposed: Path | None = None
        self.running: Worker | None = None
        self.target_path: Path | None = None
        self.stop = threading.Event()

    # --- what a subclass provides ---------------------------------------------------------

    def compose_choices(self) -> ComposeResult:
        """What is exported, shown above the file name."""
        raise NotImplementedError

    def default_path(self) -> Path:
        """The file proposed when the dialog opens."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Fill the dialog in as it opens: propose a file and put the cursor in its name."""
        self.propose(self.default_path())
        self.query_one("#export-path", Input).focus()

    def ready(self) -> bool:
        """Whether the choices are complete; if not, say what is missing and focus it."""
        return True

    def target(self, text: str) -> Path:
        """The file for what the admin typed: a folder means the proposed name inside it."""
        return exports.chosen_path(text, self.proposed or Path("export.xlsx"))

    def write(
        self, target: Path, progress: exports.Progress, should_cancel: Callable[[], bool]
    ) -> WriteResult:
        """Runs in the worker thread: write the file (through services/exports.py)."""
        raise NotImplementedError

    # --- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog", classes="dialog"):
            yield Static(self.TITLE, id="export-title", markup=False)
            yield from self.compose_choices()
            with Horizontal(classes="export-row"):
                yield Label("Save as", classes="export-label")
                yield Input(placeholder="file name (.xlsx) or folder", id="export-path")
            with Horizontal(id="export-progress-row"):
                yield ProgressBar(total=None, show_eta=False, id="export-progress")
                yield Static("", id="export-count", markup=False)
            yield Static("", id="export-status", markup=False)
            with Horizontal(id="export-buttons"):
                yield Button("Export (enter)", id="export", variant="primary")
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#export-progress-row").display = False
        self.prepare()

    def on_unmount(self) -> None:
        self.stop.set()  # closed under a running export (the app quitting): leave no file

    def unsaved_work(self) -> str | None:
        if self.running is None:
            return None
        return f"the export to {self.target_path} being written"

    def propose(self, path: Path) -> None:
        """Offer a file name; a name the admin typed is left alone."""
        field = self.query_one("#export-path", Input)
        if field.value.strip() in ("", str(self.proposed or "")):
            field.value = str(path)
            field.cursor_position = len(field.value)
        self.proposed = path

    # --- running ----------------------------------------------------------------------------

    @on(Input.Submitted, "#export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_export()

    @on(Button.Pressed, "#export")
    def _export_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_export()

    @on(Button.Pressed, "#close")
    def _close_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()

    def action_export(self) -> None:
        if self.running is not None or not self.ready():
            return
        field = self.query_one("#export-path", Input)
        text = field.value.strip()
        if not text:
            self.status("Type a file name for the export.")
            field.focus()
            return
        target = self.target(text)
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
        self.stop.clear()
        self.target_path = target
        self._set_running(True)
        self.query_one("#export-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#export-count", Static).update("counting rows…")
        self.status(f"Writing {target} …  (escape cancels)")
        self.running = db_work(
            self,
            self.write,
            target,
            self._progress_from_worker,
            self.stop.is_set,
            on_success=self._finished,
            on_error=self._failed,
            group="export",
        )

    def _progress_from_worker(self, done: int, total: int) -> None:
        post_to_ui(self, self._progress, done, total)

    def _progress(self, done: int, total: int) -> None:
        self.query_one("#export-progress", ProgressBar).update(total=max(total, 1), progress=done)
        self.query_one("#export-count", Static).update(f"{done:,} of {total:,} rows")

    def _finished(self, result: WriteResult) -> None:
        self._set_running(False)
        self.done(result)

    def done(self, result: WriteResult) -> None:
        """The file is in place: hand its path to the screen underneath."""
        self.dismiss(result.path)

    def _failed(self, message: str) -> None:
        """A failure or a cancel: say why, and put the cursor back on the file name."""
        self._set_running(False)
        self.query_one("#export-progress-row").display = False
        self.status(message)
        self.query_one("#export-path", Input).focus()

    def _set_running(self, running: bool) -> None:
        if not running:
            self.running = None
        for widget in self.query("RadioSet, Select, Input, #export"):
            widget.disabled = running
        self.query_one("#export-progress-row").display = True
        self.query_one("#close", Button).label = "Cancel (esc)" if running else "Close (esc)"
        if running:
            self.set_focus(None)  # so a second enter does nothing, least of all cancel

    def status(self, text: str) -> None:
        self.query_one("#export-status", Static).update(text)

    def action_close(self) -> None:
        """Escape: stop a running export (the dialog stays to say so), else close."""
        if self.running is not None:
            self.stop.set()
            self.status("Cancelling…")
            return
        self.dismiss(None)
