"""Import the roll: name an MIS export, preview what it changes, then apply it.

The preview and the import run in thread workers (services/roll_import.py) with a progress bar;
escape stops either, and a stopped import has changed nothing (its transaction rolls back).
The import asks first, naming the counts, and is offered only for the file and options the
preview was made with. A workbook of several sheets shows a choice of sheet.
"""

from __future__ import annotations

import threading
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, ProgressBar, Select, Static
from textual.worker import Worker

from extgw_tui.errors import InvalidInput
from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.services import audit, roll_import
from extgw_tui.services.roll_columns import parse_mapping
from extgw_tui.services.roll_reader import SheetChoice
from extgw_tui.widgets.dbwork import db_work
from extgw_tui.widgets.path_suggester import PathSuggester
from extgw_tui.widgets.to_ui import post_to_ui

#: Lines of examples, refused rows and warnings shown under the summary (all are counted).
DETAIL_LINES = 500
STAGES = {"reading": "Reading the file", "comparing": "Comparing", "applying": "Applying"}


def _run(write: bool, path: Path, options: roll_import.ImportOptions, **kwargs):
    """In the worker: preview or apply; a workbook of several sheets comes back as the
    question, so the screen can offer the sheets."""
    try:
        return (roll_import.apply if write else roll_import.preview)(path, options, **kwargs)
    except SheetChoice as choice:
        return choice


class ImportRollScreen(Screen[None]):
    """The roll import: file, options, preview, import; escape stops work, else goes back."""

    CSS_PATH = stylesheet("import_roll.tcss")
    TITLE = "Import the roll"
    BINDINGS = [
        Binding(
            "ctrl+o",
            "preview",
            "Preview",
            tooltip="Preview what the file changes",
            id="import.preview",
        ),
        Binding(
            "ctrl+s",
            "apply",
            "Import",
            tooltip="Import the previewed file (asks first)",
            id="import.apply",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            tooltip="Stop the running work, else go back",
            id="import.back",
        ),
        Binding(
            "slash",
            "focus_path",
            "File",
            tooltip="Type the file's path",
            show=False,
            id="import.file",
        ),
        Binding(
            "p",
            "toggle_partial",
            "Partial",
            tooltip="Partial file on/off",
            show=False,
            id="import.partial",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.running: Worker | None = None
        self.stop = threading.Event()
        #: the request (path, options) the shown preview was made with, and that preview
        self.previewed: tuple[Path, roll_import.ImportOptions] | None = None
        self.shown: roll_import.Preview | None = None

    def compose(self) -> ComposeResult:
        yield Static("Import the roll from the MIS (CSV or .xlsx)", id="import-title")
        with Horizontal(classes="import-row"):
            yield Label("File", classes="import-label")
            yield Input(
                placeholder="path of the export, e.g. ~/Downloads/roll.csv",
                suggester=PathSuggester((".csv", ".xlsx", ".txt")),
                id="import-path",
                compact=True,
                select_on_focus=False,
            )
        with Horizontal(classes="import-row"):
            yield Label("Columns", classes="import-label")
            yield Input(
                placeholder="optional: HEADER=field; ... e.g. Pupil ID=upn",
                id="import-map",
                compact=True,
                tooltip="Name columns the import does not know: HEADER=field, separated by ;",
            )
        with Horizontal(classes="import-row", id="import-options"):
            yield Checkbox("Partial file: never mark leavers", id="import-partial", compact=True)
            yield Select[str]([], prompt="sheet", id="import-sheet", compact=True)
        with Horizontal(id="import-buttons"):
            yield Button("Preview (ctrl+o)", id="import-preview", variant="primary", compact=True)
            yield Button(
                "Import (ctrl+s)", id="import-apply", variant="error", disabled=True, compact=True
            )
        with Horizontal(id="import-progress-row"):
            yield ProgressBar(total=100, show_eta=False, id="import-progress")
            yield Static("", id="import-stage", markup=False)
        with VerticalScroll(id="import-result"):
            yield Static("", id="import-summary", markup=False)
            yield Static("", id="import-details", markup=False)
        yield Static("Type the file's path; enter previews it.", id="import-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#import-progress-row").display = False
        self.query_one("#import-sheet").display = False
        self.query_one("#import-path", Input).focus()

    # ----- the request ----------------------------------------------------------------------

    def _typed(self) -> tuple[Path, roll_import.ImportOptions] | str:
        """The file and options as typed, or why they are not a request."""
        text = self.query_one("#import-path", Input).value.strip()
        if not text:
            return "Type the path of the file to import."
        items = [i for i in self.query_one("#import-map", Input).value.split(";") if i.strip()]
        try:
            mapping = parse_mapping(items)
        except InvalidInput as exc:
            return str(exc).replace("--map ", "Columns: ")
        sheet = self.query_one("#import-sheet", Select)
        options = roll_import.ImportOptions(
            mapping=mapping,
            sheet=sheet.value if sheet.display and isinstance(sheet.value, str) else None,
            partial=self.query_one("#import-partial", Checkbox).value,
        )
        return Path(text).expanduser(), options

    def _request(self) -> tuple[Path, roll_import.ImportOptions] | None:
        """The request, or None with the reason shown and the field to fix focused."""
        request = self._typed()
        if isinstance(request, str):
            self.status(request)
            field = "#import-map" if request.startswith("Columns") else "#import-path"
            self.query_one(field, Input).focus()
            return None
        return request

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_preview()

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(Select.Changed)
    def _changed(self, event) -> None:
        """Another file or option: the shown preview no longer says what an import would do."""
        event.stop()
        if isinstance(event, Input.Changed) and event.input.id == "import-path":
            self.query_one("#import-sheet").display = False
        if self.previewed is not None and self._typed() != self.previewed:
            self.query_one("#import-apply", Button).disabled = True

    @on(Button.Pressed, "#import-preview")
    def _preview_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_preview()

    @on(Button.Pressed, "#import-apply")
    def _apply_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_apply()

    # ----- running ------------------------------------------------------------------------

    def action_focus_path(self) -> None:
        self.query_one("#import-path", Input).focus()

    def action_toggle_partial(self) -> None:
        self.query_one("#import-partial", Checkbox).toggle()

    def action_preview(self) -> None:
        if self.running is not None:
            return
        request = self._request()
        if request is None:
            return
        self.previewed = None
        self.query_one("#import-apply", Button).disabled = True
        self._start(request, write=False)

    def action_apply(self) -> None:
        if self.running is not None:
            return
        request = self._request()
        if request is None:
            return
        if request != self.previewed:
            self.status("Preview the file first (ctrl+o): the import applies what you have seen.")
            return
        summary = self.shown
        assert summary is not None  # a preview was shown for this request
        question = (
            f"Import {request[0].name}? {summary.new:,} new, {summary.changed:,} changed, "
            + ("no leavers (partial file)" if summary.partial else f"{summary.leaving:,} leaving")
            + f"; contacts {summary.contacts_added:,} added, {summary.contacts_changed:,} "
            f"changed, {summary.contacts_removed:,} removed. One transaction: all or nothing."
        )
        self.app.push_screen(
            ConfirmModal(question, title="Import the roll?", yes_label="Import"),
            lambda yes: self._start(request, write=True) if yes else None,
        )

    def _start(self, request: tuple[Path, roll_import.ImportOptions], *, write: bool) -> None:
        path, options = request
        self.stop.clear()
        self._set_running(True)
        self.status(f"{'Importing' if write else 'Previewing'} {path} …  (escape stops)")
        self.running = db_work(
            self,
            _run,
            write,
            path,
            options,
            progress=self._progress_from_worker,
            should_cancel=self.stop.is_set,
            on_success=lambda result: self._finished(request, result),
            on_error=self._failed,
            group="import",
        )

    def _progress_from_worker(self, stage: str, fraction: float) -> None:
        post_to_ui(self, self._progress, stage, fraction)

    def _progress(self, stage: str, fraction: float) -> None:
        bar = self.query_one("#import-progress", ProgressBar)
        if stage == "reading":
            bar.update(total=100, progress=int(fraction * 100))
        else:  # one SQL statement after another: no fraction worth showing
            bar.update(total=None)
        self.query_one("#import-stage", Static).update(STAGES.get(stage, stage.capitalize()))

    def _finished(self, request, result: roll_import.Preview | SheetChoice) -> None:
        self._set_running(False)
        if isinstance(result, SheetChoice):
            self.status(f"{result} Choose the sheet, then preview again.")
            self._offer_sheets(result.sheets)
            return
        self.shown = result
        self.query_one("#import-summary", Static).update("\n".join(result.summary_lines()))
        details = []
        for line in result.detail_lines():
            details.append(line)
            if len(details) >= DETAIL_LINES:
                details.append("… (the command line's --dry-run lists every row)")
                break
        self.query_one("#import-details", Static).update("\n".join(map(audit.clean, details)))
        if result.applied:
            self.previewed = None
            self.status(f"Imported {request[0].name}: one audit batch in the activity log.")
            self.notify(f"Imported {request[0].name}.")
            return
        self.previewed = request
        if result.changes_anything:
            self.query_one("#import-apply", Button).disabled = False
            self.status("This is a preview: nothing is written until you import (ctrl+s).")
        else:
            self.status("The file changes nothing: the roll is up to date.")

    def _failed(self, message: str) -> None:
        self._set_running(False)
        self.query_one("#import-progress-row").display = False
        self.status(message)

    def _offer_sheets(self, sheets: list[str]) -> None:
        select = self.query_one("#import-sheet", Select)
        select.set_options([(name, name) for name in sheets])
        select.display = True
        select.focus()

    def _set_running(self, running: bool) -> None:
        if not running:
            self.running = None
        for widget in self.query("Input, Checkbox, Select, #import-preview"):
            widget.disabled = running
        if running:
            self.query_one("#import-apply", Button).disabled = True
            self.query_one("#import-progress", ProgressBar).update(total=100, progress=0)
            self.query_one("#import-progress-row").display = True
            self.set_focus(None)
        else:
            self.query_one("#import-progress-row").display = False
            self.query_one("#import-result").focus()  # page through the preview; / for the file

    def status(self, text: str) -> None:
        self.query_one("#import-status", Static).update(text)

    def action_back(self) -> None:
        """Escape: stop the running preview or import (nothing changes), leave a text box, or
        go back."""
        if self.running is not None:
            self.stop.set()
            self.status("Stopping…")
            return
        if isinstance(self.focused, Input):  # as in every search box: leave it first
            self.query_one("#import-result").focus()
            return
        self.dismiss(None)
