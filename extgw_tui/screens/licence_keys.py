"""Licence keys: every key per pupil and type with its state, filters, actions, totals per form.

The list pages from the database (PagedTable over services/licence_keys), so 240,000 keys are
no heavier than 20. The filter box takes `form:7A year:7 batch:3 type:pupil outstanding`; a
term it cannot read is explained in the status line. `t` swaps the list for the totals per
form (keys outstanding, and outstanding for more than a month: the follow-up list). The keys
themselves are never shown: they are not stored (only in the letters file or the email).
Enter opens the key's pupil (its holders, contacts and every key).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static

from extgw_tui.errors import InvalidInput
from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.services import licence_keys
from extgw_tui.services.licence_keys import FOLLOW_UP_DAYS, FormTotals, KeyFilter, KeyRow
from extgw_tui.widgets.dbwork import db_work
from extgw_tui.widgets.list_screen import ListStatus
from extgw_tui.widgets.paged_table import PagedColumn, PagedTable

TYPING_PAUSE = 0.3

COLUMNS = [
    PagedColumn("pupil", "Pupil", 14, flex=True),
    PagedColumn("form", "Form", 5),
    PagedColumn("type", "Type", 9, hide_below=100),
    PagedColumn("batch", "Batch", 5),
    PagedColumn("issued", "Issued", 10),
    PagedColumn("to", "Issued to", 18, hide_below=120),
    PagedColumn("state", "State", 11),
    PagedColumn("holder", "Holder / how", 14),
]
TOTAL_COLUMNS = (
    "Form",
    "Pupils",
    "Keys",
    "Redeemed",
    "Outstanding",
    f">{FOLLOW_UP_DAYS} days",
    "Revoked",
    "Expired",
)


def _cells(row: KeyRow) -> tuple[str | Text, ...]:
    if row.holder:
        holder = row.holder
    elif row.email_status:
        holder = f"email {row.email_status}"
    else:
        holder = "letter"
    return (
        row.pupil,
        row.form,
        row.licence_type,
        Text(str(row.batch_id), justify="right"),
        row.issued_at.strftime("%Y-%m-%d"),
        row.issued_to,
        row.state,
        holder,
    )


class KeyTable(PagedTable):
    BINDINGS = [
        Binding("space", "toggle_mark", "Mark", tooltip="Mark/unmark the key", id="keys.mark"),
    ]


class LicenceKeysScreen(ListStatus, Screen[None]):
    """The keys, their filter and totals; generate, email, revoke; escape goes back."""

    CSS_PATH = stylesheet("licence_keys.tcss")
    TITLE = "Licence keys"
    BINDINGS = [
        Binding(
            "slash",
            "focus_filter",
            "Filter",
            tooltip="Filter: form:7A year:7 batch:3 type:pupil outstanding",
            id="keys.filter",
        ),
        Binding(
            "n",
            "generate",
            "New keys",
            tooltip="Generate new keys: letters or email",
            id="keys.generate",
        ),
        Binding(
            "m",
            "email",
            "Email",
            tooltip="Send the key emails of the batch under the cursor",
            id="keys.email",
        ),
        Binding(
            "r",
            "revoke",
            "Revoke",
            tooltip="Revoke the marked keys, or the cursor's (asks first)",
            id="keys.revoke",
        ),
        Binding(
            "t",
            "totals",
            "Totals",
            tooltip="Totals per form (the follow-up list) or the keys",
            id="keys.totals",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            tooltip="Leave the filter box, or go back",
            show=False,
            id="keys.back",
        ),
        Binding(
            "ctrl+r,f5",
            "refresh",
            "Refresh",
            tooltip="Refresh from the database",
            show=False,
            id="keys.refresh",
        ),
    ]

    def __init__(self, pupil_ids: Sequence[int] = (), text: str = "") -> None:
        super().__init__()
        #: Pupils marked on the Pupils screen: what "Generate" offers first.
        self.pupil_ids = tuple(pupil_ids)
        self.text = text
        self.filter = KeyFilter()
        self._typing: Timer | None = None
        self._shown = False

    def compose(self) -> ComposeResult:
        yield Static("Licence keys · the keys themselves are never shown", id="keys-title")
        yield Input(
            self.text,
            placeholder="/ filter: form:7A year:7 batch:3 type:pupil outstanding",
            id="keys-filter",
        )
        yield KeyTable(COLUMNS, _cells, lambda row: row.id, id="keys-table")
        totals = DataTable(id="keys-totals", cursor_type="row", zebra_stripes=True)
        totals.display = False
        yield totals
        yield Static("Loading…", id="keys-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#keys-totals", DataTable).add_columns(*TOTAL_COLUMNS)
        self._apply_filter()
        self.query_one(KeyTable).focus()

    def on_screen_resume(self) -> None:
        """Back from a dialog: keys may have been sent or revoked meanwhile. The first resume
        is the screen being shown: on_mount's query is already on its way."""
        if self._shown:
            self.action_refresh()
        self._shown = True

    # ----- the filter -------------------------------------------------------------------

    def _apply_filter(self) -> None:
        text = self.query_one("#keys-filter", Input).value
        try:
            flt = licence_keys.parse_filter(text)  # looks up type names: a tiny table
        except InvalidInput as exc:
            self._status(str(exc))
            return
        self.filter = flt
        table = self.query_one(KeyTable)
        if table.marks:
            table.set_marks(set())
        table.set_source(
            lambda offset, limit: licence_keys.list_keys(flt, offset, limit),
            lambda: licence_keys.count_keys(flt),
            lambda: licence_keys.key_ids(flt),
        )
        if self.query_one("#keys-totals", DataTable).display:
            self._load_totals()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(TYPING_PAUSE, self._apply_filter)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._typing is not None:
            self._typing.stop()
        self._apply_filter()
        self._focus_list()

    # ----- status -----------------------------------------------------------------------

    def _show_status(self) -> None:
        table = self.query_one(KeyTable)
        self._status(f"{table.status_text()} · {table.marks_text()} · {self.filter.describe()}")

    def _status(self, text: str) -> None:
        self.query_one("#keys-status", Static).update(text)

    # ----- totals -----------------------------------------------------------------------

    def action_totals(self) -> None:
        totals = self.query_one("#keys-totals", DataTable)
        showing = not totals.display
        totals.display = showing
        self.query_one(KeyTable).display = not showing
        if showing:
            self._load_totals()
        else:
            self._show_status()
        self._focus_list()

    def _load_totals(self) -> None:
        flt = self.filter
        db_work(
            self,
            licence_keys.form_totals,
            form=flt.form,
            year=flt.year,
            licence_type_id=flt.licence_type_id,
            on_success=self._show_totals,
            group="keys-totals",
            exclusive=True,
        )

    def _show_totals(self, rows: list[FormTotals]) -> None:
        table = self.query_one("#keys-totals", DataTable)
        table.clear()
        for row in rows:
            values = (
                row.pupils,
                row.keys,
                row.redeemed,
                row.outstanding,
                row.overdue,
                row.revoked,
                row.expired,
            )
            table.add_row(row.form or "(none)", *(Text(f"{v:,}", justify="right") for v in values))
        overdue = sum(r.overdue for r in rows)
        self._status(
            f"{len(rows):,} form(s) · {sum(r.outstanding for r in rows):,} outstanding, "
            f"{overdue:,} of them issued more than {FOLLOW_UP_DAYS} days ago · t: the keys"
        )

    # ----- actions ----------------------------------------------------------------------

    def _focus_list(self) -> None:
        totals = self.query_one("#keys-totals", DataTable)
        (totals if totals.display else self.query_one(KeyTable)).focus()

    def action_focus_filter(self) -> None:
        self.set_focus(self.query_one("#keys-filter", Input))

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self._focus_list()
            return
        self.dismiss()

    def action_refresh(self) -> None:
        self.query_one(KeyTable).reload()
        if self.query_one("#keys-totals", DataTable).display:
            self._load_totals()

    def action_generate(self) -> None:
        from extgw_tui.screens.key_generate import GenerateKeysModal

        self.app.push_screen(GenerateKeysModal(self.pupil_ids), self._generated)

    def _generated(self, batch_id: int | None) -> None:
        if batch_id:
            self.query_one("#keys-filter", Input).value = f"batch:{batch_id}"
            self._apply_filter()

    def action_email(self) -> None:
        row = self.query_one(KeyTable).current_row
        if row is None:
            self.notify("There is no key here; generate keys with n.")
            return
        if row.method != licence_keys.EMAIL:
            self.notify(f"Batch {row.batch_id} was issued by letter; it has no emails to send.")
            return
        from extgw_tui.screens.key_send import SendKeysModal

        self.app.push_screen(SendKeysModal(row.batch_id), lambda _: self.action_refresh())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter opens the pupil of the key: holders, contacts, every key."""
        event.stop()
        row = self.query_one(KeyTable).current_row
        if row is None or self.query_one("#keys-totals", DataTable).display:
            return
        from extgw_tui.screens.pupil_detail import PupilDetailScreen

        self.app.push_screen(PupilDetailScreen(row.pupil_id))

    def action_revoke(self) -> None:
        table = self.query_one(KeyTable)
        ids = sorted(table.marks)
        if not ids:
            row = table.current_row
            if row is None or row.state != licence_keys.OUTSTANDING:
                self.notify("Mark outstanding keys (space) or move to one to revoke it.")
                return
            ids, what = [row.id], f"the {row.licence_type} key of {row.pupil}"
        else:
            what = f"{len(ids):,} marked key(s)"
        question = (
            f"Revoke {what}? A revoked key can never be used; a parent who still needs one "
            "gets a new key (generate again)."
        )
        self.app.push_screen(
            ConfirmModal(question, title="Revoke keys", yes_label="Revoke"),
            lambda yes: self._revoke(ids) if yes else None,
        )

    def _revoke(self, ids: list[int]) -> None:
        def done(count: int) -> None:
            self.query_one(KeyTable).set_marks(set())
            self.action_refresh()
            self.notify(f"Revoked {count:,} key(s)." if count else "Nothing was left to revoke.")

        db_work(self, licence_keys.revoke, key_ids=ids, on_success=done, group="keys-revoke")
