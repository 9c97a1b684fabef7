"""PupilTable: one account's pupils with their year, form and the licence types held for each.

The Edit modal and the Remove-a-pupil chooser show the same table; `show(pupils)` fills it
(a handful of rows, loaded by the screen in a worker) and `current_pupil` is the row under the
cursor. enter posts the usual DataTable.RowSelected.
"""

from __future__ import annotations

from textual.widgets import DataTable

from extgw_tui.services.licences import LinkedPupil

#: (heading, width) of each column.
COLUMNS = (("Pupil", 24), ("Year", 8), ("Form", 6), ("Licence types", 24))


class PupilTable(DataTable):
    """A user's pupils, one row each, keyed by pupil id."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.pupils: list[LinkedPupil] = []
        for heading, width in COLUMNS:
            self.add_column(heading, width=width)

    def show(self, pupils: list[LinkedPupil]) -> None:
        """Show these pupils.

        The cursor stays on the same row number (the last row if the list got shorter), so
        after a removal it rests on the pupil that followed rather than jumping to the top.
        """
        row = self.cursor_row
        self.pupils = list(pupils)
        self.clear()
        for pupil in pupils:
            self.add_row(
                pupil.name,
                pupil.year_label,
                pupil.form,
                ", ".join(pupil.licence_types),
                key=str(pupil.pupil_id),
            )
        if pupils:
            self.move_cursor(row=min(max(row, 0), len(pupils) - 1), animate=False)

    @property
    def current_pupil(self) -> LinkedPupil | None:
        """The pupil under the cursor, or None when there is none."""
        if 0 <= self.cursor_row < len(self.pupils):
            return self.pupils[self.cursor_row]
        return None
