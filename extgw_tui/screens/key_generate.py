"""Generate licence keys: for whom, how many, until when, and how they go out.

The count of pupils is previewed as the choice changes (a worker; never on the UI thread).
With email, the template is edited here and `ctrl+v` previews it for one real contact. The
generation runs in a worker with a progress bar; escape cancels it and leaves nothing (no file,
no key, no email). At the end the dialog says where the letters are and that the keys cannot be
shown again, and offers to send the emails now (the Send dialog, resumable later with `m`).
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.timer import Timer
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Select, Static, TextArea

from extgw_tui.errors import InvalidInput
from extgw_tui.models import PUPIL
from extgw_tui.resources import stylesheet
from extgw_tui.screens.dialog import Dialog
from extgw_tui.services import export_folder, key_mail, licence_keys, licences
from extgw_tui.services.exports import slug
from extgw_tui.services.key_issue import issue
from extgw_tui.services.licence_keys import Generated, KeyScope, Plan
from extgw_tui.widgets.dbwork import db_work
from extgw_tui.widgets.to_ui import post_to_ui

COUNT_PAUSE = 0.3


class GenerateKeysModal(Dialog[int | None]):
    """Dismisses with the new batch's id (None if nothing was generated)."""

    CSS_PATH = stylesheet("key_generate.tcss")
    TITLE = "Generate licence keys"
    BINDINGS = [
        Binding("ctrl+g", "generate", "Generate", tooltip="Generate the keys", id="keygen.go"),
        Binding(
            "ctrl+v",
            "preview",
            "Preview email",
            tooltip="The email for one real contact",
            id="keygen.preview",
        ),
        Binding(
            "escape",
            "close",
            "Close",
            tooltip="Cancel a running generation, or close",
            id="keygen.close",
        ),
    ]

    def __init__(self, pupil_ids: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.pupil_ids = pupil_ids
        self.stop = threading.Event()
        self.running = False
        self.result: Generated | None = None
        self._counting: Timer | None = None
        self.type_names: dict[int, str] = {}

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="keygen-dialog", classes="dialog"):
            yield Static(self.TITLE, classes="dialog-title")
            with Horizontal(classes="keygen-row"):
                yield Label("Licence type", classes="keygen-label")
                yield Select([], id="keygen-type", prompt="Licence type", compact=True)
            if self.pupil_ids:
                marked = f"Only the {len(self.pupil_ids):,} marked pupil(s)"
                yield Checkbox(marked, True, id="keygen-marked", compact=True)
            with Horizontal(classes="keygen-row"):
                yield Label("Year / form", classes="keygen-label")
                yield _field(placeholder="year", restrict=r"[0-9]*", max_length=2, id="keygen-year")
                yield _field(placeholder="form, e.g. 7A", max_length=20, id="keygen-form")
            yield Checkbox(
                "Only pupils with no holder of this type", id="keygen-without", compact=True
            )
            with Horizontal(classes="keygen-row"):
                yield Label("Keys per pupil", classes="keygen-label")
                yield _field("2", restrict=r"[0-9]*", max_length=2, id="keygen-per")
                yield Label(" Expires (days)", classes="keygen-label")
                yield _field(
                    placeholder="never", restrict=r"[0-9]*", max_length=4, id="keygen-expires"
                )
            with Horizontal(classes="keygen-row"):
                yield Label("Letters file", classes="keygen-label")
                yield _field(placeholder="blank: email only", id="keygen-path")
            yield Checkbox("Also a printable PDF beside it", id="keygen-pdf", compact=True)
            yield Checkbox(
                "Email keys to contacts with parental responsibility",
                id="keygen-email",
                compact=True,
            )
            yield _field(placeholder="Subject", id="keygen-subject", classes="keygen-mail")
            yield TextArea(
                id="keygen-body", soft_wrap=True, tab_behavior="focus", classes="keygen-mail"
            )
            yield Static(
                "{forename} {pupil} {key} {expiry} {school} {register_url}",
                classes="keygen-mail keygen-hint",
                markup=False,
            )
            yield Static("", id="keygen-count", markup=False)
            with Horizontal(id="keygen-progress-row"):
                yield ProgressBar(total=None, show_eta=False, id="keygen-progress")
            yield Static("", id="keygen-status", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Generate (ctrl+g)", id="keygen-go", variant="primary", compact=True)
                yield Button("Preview email (ctrl+v)", id="keygen-preview", compact=True)
                yield Button("Close (esc)", id="keygen-close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#keygen-progress-row").display = False
        self._show_mail(False)
        db_work(self, _choices, on_success=self._loaded)

    def _loaded(self, choices: tuple[list[tuple[int, str]], tuple[str, str]]) -> None:
        types, (subject, body) = choices
        select = self.query_one("#keygen-type", Select)
        self.type_names = dict(types)
        select.set_options([(name, type_id) for type_id, name in types])
        if types:
            select.value = types[0][0]
        self.query_one("#keygen-subject", Input).value = subject
        self.query_one("#keygen-body", TextArea).text = body
        self._propose_path()
        select.focus()
        self._recount()

    # ----- reading the form -------------------------------------------------------------

    def _type(self) -> tuple[int, str]:
        select = self.query_one("#keygen-type", Select)
        type_id = select.value
        if not isinstance(type_id, int):
            raise InvalidInput("Choose a licence type.")
        return type_id, self.type_names.get(type_id, "")

    def _scope(self) -> KeyScope:
        type_id, _ = self._type()
        year = self.query_one("#keygen-year", Input).value.strip()
        form = self.query_one("#keygen-form", Input).value.strip()
        marked = self.pupil_ids and self.query_one("#keygen-marked", Checkbox).value
        return KeyScope(
            type_id,
            self.pupil_ids if marked else None,
            int(year) if year else None,
            form or None,
            self.query_one("#keygen-without", Checkbox).value,
        )

    def _plan(self) -> Plan:
        per = self.query_one("#keygen-per", Input).value.strip()
        days = self.query_one("#keygen-expires", Input).value.strip()
        email = self.query_one("#keygen-email", Checkbox).value
        return Plan(
            self._scope(),
            int(per) if per else 0,
            int(days) if days else None,
            email=email,
            letters=bool(self._path()),
            subject=self.query_one("#keygen-subject", Input).value if email else "",
            body=self.query_one("#keygen-body", TextArea).text if email else "",
        )

    def _path(self) -> Path | None:
        text = self.query_one("#keygen-path", Input).value.strip()
        if not text:
            return None
        path = Path(text).expanduser()
        return path if path.suffix.lower() == ".xlsx" else path.with_suffix(".xlsx")

    def _propose_path(self) -> None:
        try:
            _, name = self._type()
        except InvalidInput:
            return
        field = self.query_one("#keygen-path", Input)
        if not field.value.strip() or field.value.startswith(str(export_folder.default_folder())):
            field.value = str(
                export_folder.default_folder()
                / f"licence-keys-{slug(name)}-{date.today():%Y-%m-%d}.xlsx"
            )

    # ----- the count preview -------------------------------------------------------------

    @on(Select.Changed, "#keygen-type")
    def _type_changed(self, event: Select.Changed) -> None:
        try:
            _, name = self._type()
        except InvalidInput:
            return
        self.query_one("#keygen-per", Input).value = "1" if name == PUPIL else "2"
        self._propose_path()
        self._recount()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id in ("keygen-year", "keygen-form", "keygen-per"):
            self._recount()

    @on(Checkbox.Changed)
    def _checked(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id == "keygen-email":
            self._show_mail(event.value)
        self._recount()

    def _show_mail(self, shown: bool) -> None:
        for widget in self.query(".keygen-mail"):
            widget.display = shown

    def _recount(self) -> None:
        if self._counting is not None:
            self._counting.stop()
        self._counting = self.set_timer(COUNT_PAUSE, self._count_now)

    def _count_now(self) -> None:
        try:
            scope = self._scope()
            per = self.query_one("#keygen-per", Input).value.strip()
        except InvalidInput as exc:
            self._count(str(exc))
            return
        per_pupil = int(per) if per else 0

        def counted(pupils: int) -> None:
            self._count(
                f"{pupils:,} pupil(s) on roll: {scope.describe()}; "
                f"up to {pupils * per_pupil:,} key(s)."
            )

        db_work(
            self,
            licence_keys.count_pupils,
            scope,
            on_success=counted,
            on_error=self._count,
            group="keygen-count",
            exclusive=True,
        )

    def _count(self, text: str) -> None:
        self.query_one("#keygen-count", Static).update(text)

    def _status(self, text: str) -> None:
        self.query_one("#keygen-status", Static).update(text)

    # ----- preview and generate ----------------------------------------------------------

    @on(Button.Pressed, "#keygen-preview")
    def _preview_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_preview()

    def action_preview(self) -> None:
        try:
            scope, (_, name) = self._scope(), self._type()
        except InvalidInput as exc:
            self._status(str(exc))
            return
        subject = self.query_one("#keygen-subject", Input).value
        body = self.query_one("#keygen-body", TextArea).text

        def show(sample: key_mail.Preview) -> None:
            from extgw_tui.screens.key_preview import KeyPreviewModal

            self.app.push_screen(KeyPreviewModal(sample))

        db_work(
            self,
            key_mail.preview,
            scope,
            name,
            subject,
            body,
            on_success=show,
            on_error=self._status,
        )

    @on(Button.Pressed, "#keygen-go")
    def _go_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_generate()

    @on(Button.Pressed, "#keygen-close")
    def _close_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()

    def action_generate(self) -> None:
        if self.running or self.result is not None:
            return
        try:
            plan = self._plan()
            plan.check()
        except (InvalidInput, ValueError) as exc:
            self._status(str(exc))
            return
        letters = self._path()
        pdf = (
            letters.with_suffix(".pdf")
            if letters and self.query_one("#keygen-pdf", Checkbox).value
            else None
        )
        for target in (letters, pdf):
            if target is not None and target.exists():
                self._status(f"{target} already exists; choose another letters file.")
                return
        self._set_running(True)
        self._status("Generating…  escape cancels: no key, file or email is left.")
        db_work(
            self,
            issue,
            plan,
            letters=letters,
            pdf=pdf,
            progress=lambda done: post_to_ui(self, self._progress, done),
            should_cancel=self.stop.is_set,
            on_success=lambda result: self._done(result, letters, pdf),
            on_error=self._failed,
            group="keygen",
        )

    def _progress(self, done: int) -> None:
        self.query_one("#keygen-progress", ProgressBar).update(total=None, progress=done)
        self._count(f"{done:,} key(s) written…")

    def _set_running(self, running: bool) -> None:
        self.running = running
        for widget in self.query("Select, Input, Checkbox, TextArea, #keygen-go, #keygen-preview"):
            widget.disabled = running
        self.query_one("#keygen-progress-row").display = running
        self.query_one("#keygen-close", Button).label = "Cancel (esc)" if running else "Close (esc)"
        if running:
            self.set_focus(None)

    def _done(self, result: Generated, letters: Path | None, pdf: Path | None) -> None:
        self._set_running(False)
        self.result = result
        for widget in self.query("Select, Input, Checkbox, TextArea, #keygen-go, #keygen-preview"):
            widget.disabled = True
        lines = [f"Batch {result.batch_id}: {result.keys:,} key(s) for {result.pupils:,} pupil(s)."]
        if result.lettered and letters is not None:
            lines.append(f"Letters: {letters}" + (f" and {pdf}" if pdf else "") + ".")
            lines.append("The keys are in that file only and cannot be shown again.")
        if result.revoked:
            lines.append(f"{result.revoked:,} older outstanding key(s) were revoked.")
        if result.unreachable:
            lines.append(f"{result.unreachable:,} pupil(s) got no key: nobody to email.")
        if result.emailed:
            lines.append(f"{result.emailed:,} email(s) are ready: m on the list sends them.")
        self._status("\n".join(lines))
        self._count("")
        close = self.query_one("#keygen-close", Button)
        close.label = "Done (esc)"
        close.focus()

    def _failed(self, message: str) -> None:
        self._set_running(False)
        self._status(message)

    def action_close(self) -> None:
        if self.running:
            self.stop.set()
            self._status("Cancelling…")
            return
        self.dismiss(self.result.batch_id if self.result else None)

    def unsaved_work(self) -> str | None:
        return "the keys being generated" if self.running else None


def _field(value: str = "", **kwargs) -> Input:
    """A one-line input (compact: the form fits in 80x24)."""
    return Input(value, compact=True, **kwargs)


def _choices() -> tuple[list[tuple[int, str]], tuple[str, str]]:
    return licences.licence_types(), key_mail.last_template()
