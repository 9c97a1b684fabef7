"""Pupils, contacts and real key batches for the licence key tests.

Keys are made the way a school makes them (services/key_issue) and read back from the letters
file that was written, as a parent would read them from the letter.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from extgw_tui.models import PARENT_GUARDIAN, PUPIL, Contact, LicenceType, Pupil
from extgw_tui.services.key_issue import issue
from extgw_tui.services.key_letters import COLUMNS
from extgw_tui.services.licence_keys import Generated, KeyScope, Plan

KEY_COLUMN = [c.title for c in COLUMNS].index("Licence key")
PUPIL_COLUMN = [c.title for c in COLUMNS].index("Pupil")


def type_id(name: str = PARENT_GUARDIAN) -> int:
    return LicenceType.get(LicenceType.name == name).id


def parent_type() -> int:
    return type_id(PARENT_GUARDIAN)


def pupil_type() -> int:
    return type_id(PUPIL)


def add_pupil(surname: str = "Pupil", *, year: int = 7, form: str = "7A", **kw) -> Pupil:
    return Pupil.create(
        forename=kw.pop("forename", "Sam"), surname=surname, year_group=year, form=form, **kw
    )


def add_contact(pupil: Pupil, priority: int, email: str | None, *, pr: bool = True, **kw):
    return Contact.create(
        pupil=pupil.id,
        priority=priority,
        title=kw.pop("title", "Ms"),
        forename=kw.pop("forename", f"Carer{priority}"),
        surname=kw.pop("surname", pupil.surname),
        email=email,
        parental_responsibility=pr,
        address=kw.pop("address", "1 High Street\nTown"),
        **kw,
    )


def read_letters(path: Path) -> list[tuple]:
    """The data rows of a letters file, reopened with openpyxl."""
    wb = load_workbook(path, read_only=True)
    try:
        rows = list(wb["Licence keys"].iter_rows(min_row=2, values_only=True))
    finally:
        wb.close()
    return rows


def make_keys(
    tmp_path: Path,
    scope: KeyScope,
    *,
    per_pupil: int = 2,
    expires_days: int | None = None,
    name: str = "letters.xlsx",
) -> tuple[Generated, list[tuple]]:
    """Generate a letter batch; returns the result and the letters' rows."""
    path = tmp_path / name
    result = issue(Plan(scope, per_pupil, expires_days), letters=path)
    return result, read_letters(path)


def keys_for(
    tmp_path: Path,
    pupil: Pupil,
    *,
    per_pupil: int = 2,
    type_name=PARENT_GUARDIAN,
    name: str = "letters.xlsx",
    **kw,
) -> list[str]:
    """Fresh keys for one pupil (marked), as printed in the letters."""
    scope = KeyScope(type_id(type_name), pupil_ids=(pupil.id,))
    _, rows = make_keys(tmp_path, scope, per_pupil=per_pupil, name=name, **kw)
    return [row[KEY_COLUMN] for row in rows]
