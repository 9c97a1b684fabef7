"""Export options: choose an export, a licence type and a file, then watch it being written.

The choosing is here; the writing, progress and cancelling are the shared ExportDialog's. The
modal stays open after saving, to say where the file went.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Label, RadioButton, RadioSet, Select

from extgw_tui.resources import stylesheet
from extgw_tui.screens.export_dialog import ExportDialog
from extgw_tui.services import export_folder, exports
from extgw_tui.services.exports import ExportKind, ExportRequest
from extgw_tui.services.xlsx import WriteResult
from extgw_tui.text import plural
from extgw_tui.textual_private import highlight, highlighted_index
from extgw_tui.widgets.dbwork import db_work

#: The help page's exports, in its order, then the roll's; "as currently listed" joins them
#: under a search.
KINDS = (
    ExportKind.USERS,
    ExportKind.HOLDERS,
    ExportKind.PUPILS_WITH,
    ExportKind.PUPILS_WITHOUT,
    ExportKind.PUPILS_CONTACTS,
    ExportKind.LEAVERS,
)


def _setup() -> tuple[list[str], Path]:
    """Runs in the worker: the licence types and the export folder."""
    return exports.licence_choices(), export_folder.default_folder()


class ExportChoices(RadioSet):
    """The exports on offer: up/down choose (no space needed); enter chooses the highlighted
    one and goes on (to the licence type, or straight to the export)."""

    BINDINGS = [
        Binding(
            "enter",
            "choose",
            "Choose",
            tooltip="Choose the highlighted export and go on",
            show=False,
            id="export.choose",
        ),
        Binding("down,j", "step(1)", "Next export", show=False, id="export.next"),
        Binding("up,k", "step(-1)", "Previous export", show=False, id="export.previous"),
    ]

    def action_step(self, step: int) -> None:
        """Move the highlight and choose what it lands on, as a list of options does."""
        if step > 0:
            self.action_next_button()
        else:
            self.action_previous_button()
        if self._selected is not None:
            button = self.children[self._selected]
            assert isinstance(button, RadioButton)
            button.value = True

    def on_mount(self) -> None:
        # RadioSet highlights the first button whichever is pressed; enter would pick that one
        self.call_after_refresh(self._highlight_pressed)

    def _highlight_pressed(self) -> None:
        if self.pressed_index >= 0:
            highlight(self, self.pressed_index)

    class Chosen(Message):
        """Enter on an export: the dialog goes on with it (RadioSet.Changed comes only later,
        and not at all for the export already pressed)."""

        def __init__(self, choices: ExportChoices, kind: ExportKind) -> None:
            super().__init__()
            self.choices = choices
            self.kind = kind

        @property
        def control(self) -> ExportChoices:
            return self.choices

    def action_choose(self) -> None:
        index = highlighted_index(self)
        if index is None:
            return
        button = self.children[index]
        assert isinstance(button, RadioButton)
        button.value = True
        self.post_message(self.Chosen(self, ExportKind(button.name)))


class ExportModal(ExportDialog):
    """The help page's "Export options", plus the users listed under the search in force."""

    CSS_PATH = [stylesheet("export_dialog.tcss"), stylesheet("export.tcss")]

    def __init__(self, search: str | None = None) -> None:
        super().__init__()
        self.search = (search or "").strip() or None
        self.kinds = list(KINDS) + ([ExportKind.SEARCH] if self.search else [])
        self.kind = ExportKind.SEARCH if self.search else ExportKind.USERS
        self.folder: Path | None = None
        self.request: ExportRequest | None = None  # as chosen when the export starts

    def compose_choices(self) -> ComposeResult:
        with ExportChoices(id="export-kind"):
            for kind in self.kinds:
                label = exports.LABELS[kind]
                if kind is ExportKind.SEARCH:
                    label = f"{label}: {self.search}"
                yield RadioButton(Content(label), value=kind is self.kind, name=kind.value)
        with Horizontal(id="export-licence-row", classes="export-row"):
            yield Label("Licence type", classes="export-label")
            yield Select([], allow_blank=True, prompt="Loading…", id="export-licence")

    def prepare(self) -> None:
        self._show_licence_row()
        self.query_one(ExportChoices).focus()
        db_work(self, _setup, on_success=self._loaded)

    # --- choices ----------------------------------------------------------------------------

    def _licence(self) -> str | None:
        value = self.query_one("#export-licence", Select).value
        return value if isinstance(value, str) else None

    def _request(self) -> ExportRequest:
        """The request as chosen (checked against the database when it runs)."""
        licence = self._licence() if self.kind in exports.NEEDS_LICENCE else None
        search = self.search if self.kind is ExportKind.SEARCH else None
        return ExportRequest(self.kind, licence_name=licence, search=search)

    def _loaded(self, setup: tuple[list[str], Path]) -> None:
        names, self.folder = setup
        select = self.query_one("#export-licence", Select)
        select.set_options([(name, name) for name in names])
        select.prompt = "Choose a licence type"
        if names:
            select.value = names[0]
        self._propose()

    def _show_licence_row(self) -> None:
        self.query_one("#export-licence-row").display = self.kind in exports.NEEDS_LICENCE

    def _propose(self) -> None:
        if self.folder is not None:
            self.propose(self.folder / exports.proposed_name(self._request()))

    @on(RadioSet.Changed)
    def _kind_changed(self, event: RadioSet.Changed) -> None:
        self._use(ExportKind(event.pressed.name))

    def _use(self, kind: ExportKind) -> None:
        self.kind = kind
        self._show_licence_row()
        self._propose()

    @on(Select.Changed, "#export-licence")
    def _licence_changed(self, event: Select.Changed) -> None:
        self._propose()  # the focus stays where it is: tab goes on to the file name

    @on(ExportChoices.Chosen)
    def _chosen(self, event: ExportChoices.Chosen) -> None:
        """Enter on a choice: pick the licence type if it needs one, else export."""
        event.stop()
        kind = event.kind
        self._use(kind)
        if kind in exports.NEEDS_LICENCE:
            self.query_one("#export-licence", Select).focus()
        else:
            self.action_export()

    # --- the shared dialog's hooks ------------------------------------------------------------

    def ready(self) -> bool:
        if self.kind in exports.NEEDS_LICENCE and self._licence() is None:
            self.status("Choose a licence type first.")
            self.query_one("#export-licence", Select).focus()
            return False
        return True

    def target(self, text: str) -> Path:
        self.request = self._request()
        return exports.output_path(text, self.request)

    def write(
        self, target: Path, progress: exports.Progress, should_cancel: Callable[[], bool]
    ) -> WriteResult:
        chosen = self.request
        assert chosen is not None  # set by target(), before the worker starts
        request = exports.make_request(chosen.kind, chosen.licence_name, chosen.search)
        return exports.run_export(request, target, progress=progress, should_cancel=should_cancel)

    def done(self, result: WriteResult) -> None:
        self.status(f"Saved {plural(result.rows, 'row')} to {result.path}")
        self.query_one("#close", Button).focus()
