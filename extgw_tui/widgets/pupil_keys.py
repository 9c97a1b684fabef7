"""A pupil's licence keys, for the pupil view: type, batch, issued to whom, state, holder.

The screen loads the rows (services/licence_keys.pupil_keys, in a worker) and hands them to
show(); the keys themselves are never shown, only what became of them.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from extgw_tui.services.licence_keys import KeyRow

COLUMNS = (
    ("Type", 16),
    ("Batch", 6),
    ("Issued", 10),
    ("Issued to", 24),
    ("State", 11),
    ("Holder", 24),
)


class PupilKeys(Vertical):
    """The section; its styles are in styles/app.tcss (it appears inside another screen)."""

    def compose(self) -> ComposeResult:
        yield Static("Licence keys", classes="section", markup=False)
        yield DataTable(cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width)

    def show(self, rows: list[KeyRow]) -> None:
        outstanding = sum(1 for row in rows if row.state == "outstanding")
        title = self.query_one(Static)
        title.update(
            f"Licence keys: {len(rows)} issued, {outstanding} outstanding"
            if rows
            else "Licence keys: none issued (K on the pupils list generates them)"
        )
        table = self.query_one(DataTable)
        table.clear()
        for row in rows:
            holder = row.holder or (f"email {row.email_status}" if row.email_status else "")
            table.add_row(
                row.licence_type,
                str(row.batch_id),
                row.issued_at.strftime("%Y-%m-%d"),
                row.issued_to,
                row.state,
                holder,
                key=str(row.id),
            )
        table.display = bool(rows)
