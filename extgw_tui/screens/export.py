"""Export options: choose an export, a licence type and a file, then watch it being written.

The export runs in a thread worker (db_work) so the screen stays responsive at 100,000 users.
Escape during an export asks the worker to stop; the writer then deletes its temporary file, so
no partial file is left, and the modal stays open to say so. Escape otherwise closes it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, ProgressBar, RadioButton, RadioSet, Select, Static
from textual.worker import Worker

from extgw_tui import settings
from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.dbwork import db_work
from extgw_tui.screens.dialog import Dialog
from extgw_tui.services import exports
from extgw_tui.services.exports import ExportKind, ExportRequest
from extgw_tui.services.xlsx import WriteResult

CHOICES: list[tuple[ExportKind, str]] = [
    (ExportKind.USERS, "All external users"),
    (ExportKind.HOLDERS, "External users holding a licence type"),
    (ExportKind.PUPILS_WITH, "Pupils that have a holder of a licence type"),
    (ExportKind.PUPILS_WITHOUT, "Pupils without a holder of a licence type"),
]


def _setup() -> tuple[list[str], Path]:
    """Runs in the worker: the licence types and the export folder."""
    return exports.licence_choices(), settings.export_dir()


def _export(
    chosen: ExportRequest, path: Path, progress: Callable[[int, int], None], stop: threading.Event
) -> WriteResult:
    """Runs in the worker: check the choices against the database, then write the file."""
    request = exports.make_request(chosen.kind, chosen.licence_name, chosen.search)
    return exports.run_export(request, path, progress=progress, should_cancel=stop.is_set)


class ExportChoices(RadioSet):
    """Space picks the highlighted export; enter picks it and goes on (the default button)."""

    BINDINGS = [Binding("enter", "choose", "Choose and continue", show=False)]

    def action_choose(self) -> None:
        self.action_toggle_button()
        self.call_after_refresh(self.screen.advance)  # once Changed has been handled


class ExportModal(Dialog[None]):
    """The help page's "Export options", plus the users listed under the search in force."""

    TITLE = "Export to Excel"

    CSS_PATH = stylesheet("export.tcss")
    BINDINGS = [
        Binding("escape", "close", "Cancel / close"),
        Binding("ctrl+s", "export", "Export"),
    ]

    def __init__(self, search: str | None = None) -> None:
        super().__init__()
        self.search = (search or "").strip() or None
        self.choices = list(CHOICES)
        if self.search:
            self.choices.append((ExportKind.SEARCH, f"Users as currently listed: {self.search}"))
        self.folder: Path | None = None
        self.proposed = ""
        self.running: Worker | None = None
        self.stop = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog"):
            yield Static("Export to Excel", id="export-title")
            with ExportChoices(id="export-kind"):
                for index, (kind, label) in enumerate(self.choices):
                    selected = kind is ExportKind.SEARCH or (index == 0 and not self.search)
                    yield RadioButton(label, value=selected, name=kind.value)
            with Horizontal(id="export-licence-row", classes="export-row"):
                yield Label("Licence type", classes="export-label")
                yield Select([], allow_blank=True, prompt="Loading…", id="export-licence")
            with Horizontal(classes="export-row"):
                yield Label("Save as", classes="export-label")
                yield Input(placeholder="file name (.xlsx)", id="export-path")
            with Horizontal(id="export-progress-row"):
                yield ProgressBar(total=None, show_eta=False, id="export-progress")
                yield Static("", id="export-count", markup=False)
            yield Static("", id="export-status", markup=False)
            with Horizontal(id="export-buttons"):
                yield Button("Export (enter)", id="export", variant="primary")
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#export-progress-row").display = False
        self._show_licence_row()
        self.query_one(RadioSet).focus()
        db_work(self, _setup, on_success=self._ready)

    def on_unmount(self) -> None:
        self.stop.set()  # the app is closing under a running export: leave no file

    # --- choices ----------------------------------------------------------------------------

    def _kind(self) -> ExportKind:
        pressed = self.query_one(RadioSet).pressed_button
        return ExportKind(pressed.name) if pressed is not None else ExportKind.USERS

    def _licence(self) -> str | None:
        value = self.query_one("#export-licence", Select).value
        return value if isinstance(value, str) else None

    def _ready(self, setup: tuple[list[str], Path]) -> None:
        names, self.folder = setup
        select = self.query_one("#export-licence", Select)
        select.set_options([(name, name) for name in names])
        select.prompt = "Choose a licence type"
        if names:
            select.value = names[0]
        self._propose()

    def _show_licence_row(self) -> None:
        self.query_one("#export-licence-row").display = self._kind() in exports.NEEDS_LICENCE

    def _propose(self) -> None:
        """Offer a file name for the choices; a name the admin typed is left alone."""
        if self.folder is None:
            return
        kind = self._kind()
        licence = self._licence() if kind in exports.NEEDS_LICENCE else None
        search = self.search if kind is ExportKind.SEARCH else None
        request = ExportRequest(kind, licence_name=licence, search=search)
        name = str(self.folder / exports.proposed_name(request))
        field = self.query_one("#export-path", Input)
        if field.value in ("", self.proposed):
            field.value = name
            field.cursor_position = len(name)
        self.proposed = name

    @on(RadioSet.Changed)
    def _kind_changed(self) -> None:
        self._show_licence_row()
        self._propose()

    @on(Select.Changed, "#export-licence")
    def _licence_changed(self, event: Select.Changed) -> None:
        self._propose()
        if event.select.has_focus:  # chosen by the admin: on to the file name
            self.query_one("#export-path", Input).focus()

    def advance(self) -> None:
        """After enter on a choice: pick the licence type if it needs one, else export."""
        if self._kind() in exports.NEEDS_LICENCE:
            self.query_one("#export-licence", Select).focus()
        else:
            self.action_export()

    # --- running ----------------------------------------------------------------------------

    @on(Input.Submitted, "#export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_export()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "export":
            self.action_export()
        else:
            self.action_close()

    def action_export(self) -> None:
        if self.running is not None:
            return
        kind = self._kind()
        licence = self._licence() if kind in exports.NEEDS_LICENCE else None
        if kind in exports.NEEDS_LICENCE and licence is None:
            self._status("Choose a licence type first.")
            self.query_one("#export-licence", Select).focus()
            return
        text = self.query_one("#export-path", Input).value.strip()
        if not text:
            self._status("Type a file name for the export.")
            self.query_one("#export-path", Input).focus()
            return
        search = self.search if kind is ExportKind.SEARCH else None
        request = ExportRequest(kind, licence_name=licence, search=search)
        target = exports.output_path(text, request)
        if target.is_file():
            self.app.push_screen(
                ConfirmModal(f"{target} already exists. Replace it?", title="Replace file?",
                             yes_label="Replace"),
                lambda replace: self._start(request, target) if replace else None,
            )
            return
        self._start(request, target)

    def _start(self, request: ExportRequest, target: Path) -> None:
        self.stop.clear()
        self._set_running(True)
        self.query_one("#export-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#export-count", Static).update("counting rows…")
        self._status(f"Writing {target} …  (escape cancels)")
        self.running = db_work(
            self, _export, request, target, self._progress_from_worker, self.stop,
            on_success=self._done, on_error=self._failed, group="export",
        )

    def _progress_from_worker(self, done: int, total: int) -> None:
        self.app.call_from_thread(self._progress, done, total)

    def _progress(self, done: int, total: int) -> None:
        self.query_one("#export-progress", ProgressBar).update(total=max(total, 1), progress=done)
        self.query_one("#export-count", Static).update(f"{done:,} of {total:,} rows")

    def _done(self, result: WriteResult) -> None:
        self._set_running(False)
        noun = "row" if result.rows == 1 else "rows"
        self._status(f"Saved {result.rows:,} {noun} to {result.path}")
        self.query_one("#close", Button).focus()

    def _failed(self, message: str) -> None:
        """A failure or a cancel: say why, and put the cursor back on the file name."""
        self._set_running(False)
        self.query_one("#export-progress-row").display = False
        self._status(message)
        self.query_one("#export-path", Input).focus()

    def _set_running(self, running: bool) -> None:
        if not running:
            self.running = None
        for widget in self.query("RadioSet, Select, Input, #export"):
            widget.disabled = running
        self.query_one("#export-progress-row").display = True
        self.query_one("#close", Button).label = "Cancel (esc)" if running else "Close (esc)"
        if running:
            self.query_one("#close", Button).focus()

    def _status(self, text: str) -> None:
        self.query_one("#export-status", Static).update(text)

    def action_close(self) -> None:
        """Escape: stop a running export (the modal stays to confirm), else close."""
        if self.running is not None:
            self.stop.set()
            self._status("Cancelling…")
            return
        self.dismiss(None)
