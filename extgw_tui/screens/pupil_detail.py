"""One pupil: who holds a licence for them (the accounts), and their contacts from the MIS.

The holders and contacts are read together in a worker (services/pupils.pupil_detail). Enter or
`e` on a holder opens the same Edit dialog as the main list; `m` emails the holder. Coming back
re-reads the pupil, since a holder may have been removed meanwhile. The pupil's licence keys
get their own section below the contacts (#pupil-keys, widgets/pupil_keys.py).
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from extgw_tui.resources import stylesheet
from extgw_tui.services import licence_keys, pupils
from extgw_tui.services.pupils import ContactRow, Holder, PupilDetail
from extgw_tui.text import plural
from extgw_tui.widgets.dbwork import db_work
from extgw_tui.widgets.paged_table import plain
from extgw_tui.widgets.pupil_keys import PupilKeys

#: (label, key, width); width None: the column takes the width left over.
HOLDER_COLUMNS = [
    ("Name", "name", 20),
    ("Email", "email", None),
    ("Licence types", "types", 15),
    ("Last login", "last", 10),
    ("Access", "access", 7),
]
CONTACT_COLUMNS = [
    ("#", "priority", 1),
    ("Name", "name", 20),
    ("Relationship", "relationship", 12),
    ("Email", "email", None),
    ("Resp.", "responsible", 5),
    ("Account", "account", 7),
]
#: The email column keeps at least this width, even if the table then scrolls sideways.
EMAIL_MIN = 12


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "Never"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def describe(detail: PupilDetail) -> str:
    """The pupil in two lines: name and place on the roll; identifiers."""
    p = detail.pupil
    year = f"Year {p.year_group}" if p.year_group is not None else "no year"
    roll = "on roll" if p.on_roll else "left the roll"
    if not p.on_roll and p.left_on:
        roll += f" on {p.left_on.isoformat()}"
    return (
        f"{p.forename} {p.surname} · {year} · form {p.form or '-'} · {roll}\n"
        f"UPN {p.upn or '-'} · admission number {p.admission_number or '-'}"
    )


class PupilDetailScreen(Screen[None]):
    """A pupil's holders and contacts; escape goes back to the list."""

    CSS_PATH = stylesheet("pupil_detail.tcss")
    TITLE = "Pupil"
    BINDINGS = [
        Binding("escape", "back", "Back", id="pupil.back", tooltip="Back to the pupils"),
        Binding(
            "e",
            "edit",
            "Edit holder",
            id="pupil.edit_holder",
            tooltip="Edit the highlighted holder's account",
        ),
        Binding("m", "email", "Email", id="pupil.email", tooltip="Email the highlighted holder"),
        Binding(
            "ctrl+r,f5",
            "refresh",
            "Refresh",
            id="pupil.refresh",
            tooltip="Reload the pupil, its holders and contacts",
            show=False,
        ),
    ]

    def __init__(self, pupil_id: int) -> None:
        super().__init__()
        self.pupil_id = pupil_id
        self.detail: PupilDetail | None = None
        self._started = False
        self._shown = False
        self._width = 0

    def compose(self) -> ComposeResult:
        yield Static(f"Pupil {self.pupil_id}", id="pupil-title", markup=False)
        with VerticalScroll(id="pupil-body"):
            yield Static("Loading…", id="pupil-about", markup=False)
            yield Static("Holders", id="pupil-holders-title", classes="section", markup=False)
            yield DataTable(id="pupil-holders", cursor_type="row", zebra_stripes=True)
            yield Static("Contacts", id="pupil-contacts-title", classes="section", markup=False)
            yield DataTable(id="pupil-contacts", cursor_type="row", zebra_stripes=True)
            # The pupil's licence keys: the licence-keys work (issue 14) fills this section.
            yield PupilKeys(id="pupil-keys")
        yield Footer()

    def on_mount(self) -> None:
        self._add_columns()
        holders = self.query_one("#pupil-holders", DataTable)
        holders.focus()
        self.action_refresh()
        self._started = True

    def on_screen_resume(self) -> None:
        """Back from a dialog: the holders may have changed. The first resume is the screen
        being shown: on_mount has asked already."""
        if self._shown:
            self.action_refresh()
        self._shown = True

    def on_resize(self, event: events.Resize) -> None:
        if self._started and event.size.width != self._width:
            self._add_columns()
            if self.detail is not None:
                self._show(self.detail)

    def _add_columns(self) -> None:
        """Columns sized to the terminal, the email taking what is left, so nothing scrolls
        sideways at 80 columns (a long cell ends in an ellipsis)."""
        self._width = self.app.size.width
        for table_id, columns in (
            ("#pupil-holders", HOLDER_COLUMNS),
            ("#pupil-contacts", CONTACT_COLUMNS),
        ):
            table = self.query_one(table_id, DataTable)
            table.clear(columns=True)
            fixed = sum(width + 2 for _, _, width in columns if width)
            spare = max(self._width - 6 - fixed, EMAIL_MIN)
            for label, key, width in columns:
                table.add_column(label, key=key, width=width or spare)

    # ----- loading ------------------------------------------------------------------------

    def action_refresh(self) -> None:
        db_work(
            self,
            pupils.pupil_detail,
            self.pupil_id,
            on_success=self._show,
            on_error=self._problem,
            group="pupil-detail",
            exclusive=True,
        )

    def _problem(self, message: str) -> None:
        self.query_one("#pupil-about", Static).update(message)

    def _show(self, detail: PupilDetail) -> None:
        self.detail = detail
        p = detail.pupil
        self.query_one("#pupil-title", Static).update(f"Pupil {p.id}: {p.forename} {p.surname}")
        self.query_one("#pupil-about", Static).update(describe(detail))
        self._fill_holders(detail.holders)
        self._fill_contacts(detail.contacts)
        db_work(
            self,
            licence_keys.pupil_keys,
            p.id,
            on_success=self._show_keys,
            group="pupil-keys",
            exclusive=True,
        )

    def _show_keys(self, rows: list[licence_keys.KeyRow]) -> None:
        self.query_one(PupilKeys).show(rows)

    def _fill_holders(self, holders: list[Holder]) -> None:
        count = len(holders)
        hint = " (enter or e edits, m emails the highlighted one)" if count else ""
        self.query_one("#pupil-holders-title", Static).update(
            f"Holders: {plural(count, 'account')}{hint}"
        )
        table = self.query_one("#pupil-holders", DataTable)
        row = table.cursor_row
        table.clear()
        for h in holders:
            access = Text("allowed", style="green") if h.access_allowed else Text("DENIED")
            table.add_row(
                plain(h.name),
                plain(h.email),
                plain(", ".join(h.licence_types)),
                _when(h.last_login_at),
                access,
                key=str(h.user_id),
            )
        if holders:
            table.move_cursor(row=min(row, len(holders) - 1))

    def _fill_contacts(self, contacts: list[ContactRow]) -> None:
        count = len(contacts)
        self.query_one("#pupil-contacts-title", Static).update(
            f"Contacts: {count}" + (" (from the MIS)" if count else "")
        )
        table = self.query_one("#pupil-contacts", DataTable)
        table.clear()
        for c in contacts:
            table.add_row(
                str(c.priority),
                plain(c.name),
                plain(c.relationship),
                plain(c.email or "(no email)"),
                _yes(c.parental_responsibility),
                _yes(c.has_account),
                key=str(c.id),
            )

    # ----- the holder under the cursor ----------------------------------------------------

    def _holder(self) -> Holder | None:
        if self.detail is None or not self.detail.holders:
            self.notify("This pupil has no holder.", severity="warning")
            return None
        table = self.query_one("#pupil-holders", DataTable)
        return self.detail.holders[min(table.cursor_row, len(self.detail.holders) - 1)]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.data_table.id == "pupil-holders":
            self.action_edit()

    def action_edit(self) -> None:
        holder = self._holder()
        if holder is None:
            return
        from extgw_tui.screens.edit_user import EditUserModal

        self.app.push_screen(EditUserModal(holder.user_id))

    def action_email(self) -> None:
        holder = self._holder()
        if holder is None:
            return
        from extgw_tui.screens.email_user import EmailUserModal

        self.app.push_screen(EmailUserModal(holder.user_id))

    def action_back(self) -> None:
        self.dismiss()
