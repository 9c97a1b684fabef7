"""A roll file that matches the demo database, as an MIS would export it, to try the import on.

`extgw-tui demo --roll-file FILE` writes it (CSV, or .xlsx by the name): the demo's pupils on
roll with their parental contacts (the Contact table when it holds any, else each pupil's
Parent/Guardian licence holders), under two report-title rows, with what a real term brings:
a few pupils moved form, a few new arrivals, a few leavers (absent from the file), one changed
UPN, and the rows an import must refuse or warn about (a bad check letter, an impossible year,
a row without keys, an invalid email). Deterministic for a given database and seed. Rows are
streamed from the database and to the file: the large demo's 120,000 pupils never sit in
memory at once.
"""

from __future__ import annotations

import csv
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from pathlib import Path

from extgw_tui.errors import ExtgwError
from extgw_tui.models import PARENT_GUARDIAN, Contact, ExternalUser, Licence, LicenceType, Pupil
from extgw_tui.services.demo import school_year_start, upn

#: Contacts per pupil written (numbered columns "Contact 1 ..." to "Contact 4 ...").
CONTACTS = 4
MOVED, ARRIVALS, LEAVERS = 0.01, 0.005, 0.005
SEED = 20241201
HEADER = ["UPN", "Adno", "Legal Surname", "Legal Forename", "Year", "Reg"] + [
    f"Contact {n} {part}"
    for n in range(1, CONTACTS + 1)
    for part in ("Name", "Relationship", "Email", "Parental Responsibility")
]
RELATIONSHIP = {"Mrs": "Mother", "Ms": "Mother", "Miss": "Mother", "Mr": "Father"}


@dataclass(frozen=True)
class RollFileSummary:
    path: Path
    pupils: int
    contacts: int

    def text(self) -> str:
        return (
            f"Wrote a roll file of {self.pupils:,} pupils and {self.contacts:,} contacts "
            f"matching the demo: {self.path}. Try it: extgw-tui --demo import pupils "
            f"{self.path} --dry-run"
        )


def _contacts_from_table() -> Iterator[tuple[int, list[tuple]]]:
    rows = (
        Contact.select(
            Contact.pupil,
            Contact.title,
            Contact.forename,
            Contact.surname,
            Contact.relationship,
            Contact.email,
            Contact.parental_responsibility,
        )
        .order_by(Contact.pupil, Contact.priority, Contact.id)
        .tuples()
        .iterator()
    )
    for pupil_id, group in groupby(rows, key=lambda r: r[0]):
        yield (
            pupil_id,
            [
                (t, f, s, rel, email or "", "Yes" if pr else "No")
                for _, t, f, s, rel, email, pr in group
            ],
        )


def _contacts_from_holders() -> Iterator[tuple[int, list[tuple]]]:
    U, L = ExternalUser, Licence
    rows = (
        L.select(L.pupil, U.title, U.forename, U.surname, U.email)
        .join(U)
        .switch(L)
        .join(LicenceType)
        .where(LicenceType.name == PARENT_GUARDIAN)
        .order_by(L.pupil, L.id)
        .tuples()
        .iterator()
    )
    for pupil_id, group in groupby(rows, key=lambda r: r[0]):
        yield (
            pupil_id,
            [(t, f, s, RELATIONSHIP.get(t, "Parent"), email, "Yes") for _, t, f, s, email in group],
        )


def _name(title: str, forename: str, surname: str) -> str:
    return " ".join(part for part in (title, forename, surname) if part)


class _Merge:
    """The contacts of each pupil in turn, from a stream ordered by pupil id."""

    def __init__(self, source: Iterator[tuple[int, list[tuple]]]) -> None:
        self.source = source
        self.head = next(source, None)

    def of(self, pupil_id: int) -> list[tuple]:
        while self.head is not None and self.head[0] < pupil_id:
            self.head = next(self.source, None)
        if self.head is not None and self.head[0] == pupil_id:
            return self.head[1]
        return []


class _Rows:
    """The file's data rows, in pupil order, with a term's changes worked in."""

    def __init__(self, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.pupils = 0
        self.contacts = 0
        self.top = Pupil.select(Pupil.id).order_by(Pupil.id.desc()).scalar() or 0
        self.extra = 0

    def _contact_cells(self, contacts: list[tuple]) -> list[str]:
        cells: list[str] = []
        for title, forename, surname, relationship, email, pr in contacts[:CONTACTS]:
            cells += [_name(title, forename, surname), relationship, email, pr]
            self.contacts += 1
        return cells + [""] * (4 * CONTACTS - len(cells))

    def _arrival(self, year: int, form: str, surname: str) -> list[str]:
        self.extra += 1
        new_id = self.top + self.extra
        entry = school_year_start(self.today) - (year - 7)
        forename = self.rng.choice(("Amara", "Theo", "Zofia", "Kai", "Isla", "Yusuf"))
        self.pupils += 1
        parent = ("Mrs", self.rng.choice(("Sarah", "Agnieszka", "Fatima")), surname)
        email = f"{parent[1].lower()}.{surname.lower().replace(' ', '')}@arrivals.example"
        return [
            upn(new_id, entry),
            f"{entry % 100:02d}{new_id:06d}",
            surname,
            forename,
            str(year),
            form,
            *self._contact_cells([(*parent, "Mother", email, "Yes")]),
        ]

    def rows(self) -> Iterator[list[str]]:
        source = _contacts_from_table() if Contact.select().exists() else _contacts_from_holders()
        contacts = _Merge(source)
        pupils = (
            Pupil.select(
                Pupil.id,
                Pupil.upn,
                Pupil.admission_number,
                Pupil.surname,
                Pupil.forename,
                Pupil.year_group,
                Pupil.form,
            )
            .where(Pupil.on_roll == True)  # noqa: E712 (SQL, not Python)
            .order_by(Pupil.id)  # the contacts' order: the two are merged, not held
            .tuples()
            .iterator()
        )
        rng, changed_upn = self.rng, False
        for pupil_id, pupil_upn, adno, surname, forename, year, form in pupils:
            draw = rng.random()
            if draw < LEAVERS:
                continue
            if draw < LEAVERS + MOVED and year:
                form = f"{year}{rng.choice('ABCDEF')}"  # moved to one of the year's first forms
            if not changed_upn and pupil_upn and year and year >= 10:
                changed_upn = True  # the MIS replaced a temporary UPN: same admission number
                pupil_upn = upn(self.top + 10_000 + pupil_id, school_year_start(self.today))
            self.pupils += 1
            cells = [pupil_upn or "", adno or "", surname, forename, str(year or ""), form or ""]
            yield cells + self._contact_cells(contacts.of(pupil_id))
            if rng.random() < ARRIVALS:
                yield self._arrival(year or 7, form or "", surname)
        yield from self._refused()

    def _refused(self) -> Iterator[list[str]]:
        """Rows an import refuses or warns about, as real exports do now and then."""
        blank = [""] * (4 * CONTACTS)
        wrong = upn(self.top + 20_001, school_year_start(self.today))
        wrong = ("A" if wrong[0] != "A" else "B") + wrong[1:]
        yield [wrong, "99000001", "Check", "Letter", "8", "8A", *blank]
        yield ["", "", "Nokey", "Pupil", "9", "9B", *blank]
        good = upn(self.top + 20_002, school_year_start(self.today))
        yield [good, "99000002", "Future", "Year", "15", "15A", *blank]
        late = upn(self.top + 20_003, school_year_start(self.today))
        self.pupils += 1
        self.contacts += 1
        yield [late, "99000003", "Typo", "Email", "7", "7A", "Mr Sam Typo", "Father",
               "sam.typo@@example", "Yes"] + [""] * (4 * CONTACTS - 4)  # fmt: skip


def write_roll_file(
    path: Path,
    *,
    seed: int = SEED,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> RollFileSummary:
    """Write the roll file of the bound demo database to `path` (.csv or .xlsx), atomically."""
    path = Path(path)
    if path.is_dir():
        raise ExtgwError(f"{path} is a folder; give the roll file a name, e.g. {path}/roll.csv.")
    if not Pupil.select().exists():
        raise ExtgwError("The database holds no pupils to write a roll file of.")
    data = _Rows(seed, today or date.today())
    title = [["Student List - Demo Academy"], [f"Printed {data.today:%d/%m/%Y}"], []]
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if path.suffix.casefold() == ".xlsx":
            _write_xlsx(temp, title, data, progress)
        else:
            _write_csv(temp, title, data, progress)
        os.replace(temp, path)
    except OSError as exc:
        raise ExtgwError(f"The roll file {path} cannot be written: {exc.strerror or exc}.") from exc
    finally:
        temp.unlink(missing_ok=True)
    return RollFileSummary(path, data.pupils, data.contacts)


def _write_csv(temp: Path, title, data: _Rows, progress) -> None:
    with temp.open("w", encoding="utf-8-sig", newline="") as handle:  # as Excel saves CSV
        writer = csv.writer(handle)
        writer.writerows(title)
        writer.writerow(HEADER)
        for n, row in enumerate(data.rows(), start=1):
            writer.writerow(row)
            if progress and n % 5000 == 0:
                progress(n)


def _write_xlsx(temp: Path, title, data: _Rows, progress) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Student List")
    for row in [*title, HEADER]:
        sheet.append(row)
    for n, row in enumerate(data.rows(), start=1):
        sheet.append(row)
        if progress and n % 5000 == 0:
            progress(n)
    book.save(temp)
