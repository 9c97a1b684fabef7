"""One row of a roll file, checked: a pupil (or why the row is refused) and its contacts.

The checks are those a school's data manager knows: a UPN has a DfE check letter, a year group
runs from nursery (N1) to Year 14, a row needs a UPN or an admission number. A contact's email
that is not an address is reported and left out, never stored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from extgw_tui.models import name_key, text_key
from extgw_tui.services.roll_columns import Layout

#: The DfE's check letters: the remainder mod 23 of the weighted digits picks one.
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
YEAR_WORDS = {"r": 0, "rec": 0, "reception": 0, "n1": -2, "n2": -1, "nursery": -1, "n": -1}
LOWEST_YEAR, HIGHEST_YEAR = -2, 14
NAME_MAX, FORM_MAX, ADNO_MAX = 100, 20, 20
TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "lady", "lord", "dame"}
)
TRUE_WORDS = frozenset({"yes", "y", "true", "1", "x", "pr", "t"})
FALSE_WORDS = frozenset({"no", "n", "false", "0", "", "f"})
_EMAIL = re.compile(r"^[^@\s\"<>(),;:\[\]\\]+@[^@\s\"<>(),;:\[\]\\.]+(\.[^@\s\"<>(),;:\[\]\\.]+)+$")
_SPACES = re.compile(r"\s+")


def upn_problem(upn: str) -> str | None:
    """Why `upn` (upper case, no spaces) is not a valid UPN, or None.

    13 characters: the check letter, 11 digits, and a digit (or a letter for a temporary UPN);
    the check letter is UPN_LETTERS[sum(value * weight, weights 2-13) % 23].
    """
    if len(upn) != 13 or not upn[1:12].isdigit() or not (upn[12].isdigit() or upn[12].isalpha()):
        return f"UPN {upn} is not a letter followed by 12 characters of digits"
    last = int(upn[12]) if upn[12].isdigit() else UPN_LETTERS.find(upn[12])
    if last < 0:
        return f"UPN {upn} ends in a letter no UPN uses"
    values = [int(c) for c in upn[1:12]] + [last]
    expected = UPN_LETTERS[sum(v * w for v, w in zip(values, range(2, 14), strict=True)) % 23]
    if upn[0] != expected:
        return f"UPN {upn} fails the DfE check letter (expected {expected})"
    return None


def parse_year(text: str) -> int | None:
    """ "7", "Y7", "Year 7", "R", "N2" -> the year group; ValueError when it cannot be one."""
    word = _SPACES.sub("", text).casefold()
    if not word:
        return None
    if word in YEAR_WORDS:
        return YEAR_WORDS[word]
    for prefix in ("year", "yr", "y"):
        if word.startswith(prefix) and word[len(prefix) :].isdigit():
            word = word[len(prefix) :]
            break
    if not word.lstrip("-").isdigit():
        raise ValueError(text)
    year = int(word)
    if not LOWEST_YEAR <= year <= HIGHEST_YEAR:
        raise ValueError(text)
    return year


def clean(text: str) -> str:
    """A cell as stored: surrounding and repeated spaces gone, control characters too."""
    if text.isprintable():  # nearly every cell: no character-by-character work
        text = text.strip()
        return _SPACES.sub(" ", text) if "  " in text else text
    return _SPACES.sub(" ", "".join(ch if ch.isprintable() else " " for ch in text)).strip()


#: Names repeat across a roll (siblings, common names): their keys are worked out once.
_name_key = lru_cache(maxsize=65536)(name_key)


def split_name(text: str) -> tuple[str, str, str]:
    """ "Mrs Jane Smith" or "Smith, Jane" -> (title, forename, surname)."""
    text = clean(text)
    if "," in text:
        surname, _, rest = text.partition(",")
        words = rest.split()
    else:
        words = text.split()
        surname = words.pop() if words else ""
    title = ""
    if words and words[0].rstrip(".").casefold() in TITLES:
        title = words.pop(0)
    return title, " ".join(words), surname.strip()


def valid_email(text: str) -> bool:
    return len(text) <= 254 and bool(_EMAIL.match(text))


@dataclass(slots=True)
class Contact:
    row: int
    priority: int
    title: str = ""
    forename: str = ""
    surname: str = ""
    relationship: str = ""
    email: str | None = None
    parental_responsibility: bool = False
    address: str = ""

    def values(self) -> tuple:
        email_key = text_key(self.email) if self.email else None
        return (
            self.row,
            self.priority,
            self.title[:20],
            self.forename[:NAME_MAX],
            self.surname[:NAME_MAX],
            self.relationship[:60],
            self.email,
            email_key,
            self.parental_responsibility,
            self.address[:500],
        )


@dataclass(slots=True)
class Row:
    """A row read: the pupil's fields, or a reason it is refused; its contacts and warnings."""

    row: int
    upn: str | None = None
    admission_number: str | None = None
    forename: str = ""
    surname: str = ""
    year_group: int | None = None
    form: str = ""
    problem: str | None = None
    contacts: list[Contact] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def key_text(self) -> str:
        if self.upn:
            return f"UPN {self.upn}"
        return f"admission number {self.admission_number}" if self.admission_number else ""

    def pupil_values(self) -> tuple:
        return (
            self.row,
            self.upn,
            self.admission_number,
            self.forename,
            self.surname,
            _name_key(self.surname),
            _name_key(self.forename),
            self.year_group,
            self.form,
            int(self.problem is not None),
        )


def _get(cells: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(cells) or not cells[index]:
        return ""
    return clean(cells[index])


def read_row(number: int, cells: Sequence[str], layout: Layout) -> Row:
    """Check one data row against the layout; a refused row keeps its keys (for matching)."""
    col = layout.columns.get
    row = Row(number)
    upn = _get(cells, col("upn")).replace(" ", "").upper()
    adno = _get(cells, col("admission_number"))
    row.upn, row.admission_number = upn or None, adno or None
    row.forename, row.surname = _get(cells, col("forename")), _get(cells, col("surname"))
    if (not row.forename or not row.surname) and col("name") is not None:
        _, forename, surname = split_name(_get(cells, col("name")))
        row.forename, row.surname = row.forename or forename, row.surname or surname
    row.form = _get(cells, col("form"))
    year = _get(cells, col("year_group"))
    row.problem = _problem(row, upn, adno)
    if row.problem is None:
        try:
            row.year_group = parse_year(year)
        except ValueError:
            row.problem = f"impossible year group {year[:20]!r} (N1, N2, R or 1-14)"
    size = len(cells)
    for number_, parts, substantive in layout.contact_columns:
        if any(i < size and cells[i] and not cells[i].isspace() for i in substantive):
            contact = _contact(number, number_, cells, parts, row.warnings)
            if contact is not None:
                row.contacts.append(contact)
    return row


def _problem(row: Row, upn: str, adno: str) -> str | None:
    if not upn and not adno:
        return "no UPN and no admission number"
    if upn and (reason := upn_problem(upn)):
        return reason
    if len(adno) > ADNO_MAX:
        return f"admission number {adno[:30]} is longer than {ADNO_MAX} characters"
    if not row.surname:
        return "no surname"
    if not row.forename:
        return "no forename"
    if len(row.surname) > NAME_MAX or len(row.forename) > NAME_MAX:
        return f"a name is longer than {NAME_MAX} characters"
    if len(row.form) > FORM_MAX:
        return f"form {row.form[:30]} is longer than {FORM_MAX} characters"
    return None


def _contact(
    row: int, number: int, cells: Sequence[str], parts: dict[str, int], warnings: list[str]
) -> Contact | None:
    text = {part: _get(cells, index) for part, index in parts.items()}
    label = "the contact" if number == 0 else f"contact {number}"
    title, forename, surname = text.get("title", ""), text.get("forename", ""), text.get("surname")
    if text.get("name") and not (forename and surname):
        t, f, s = split_name(text["name"])
        title, forename, surname = title or t, forename or f, surname or s
    contact = Contact(row, number or 1, title, forename, surname or "")
    contact.relationship = text.get("relationship", "")
    contact.address = text.get("address", "")
    email = text.get("email", "")
    if email and valid_email(email):
        contact.email = email
    elif email:
        warnings.append(f"{label}'s email {email[:60]!r} is not a valid address; not stored")
    pr = text.get("parental_responsibility", "").casefold()
    contact.parental_responsibility = pr in TRUE_WORDS
    if pr not in TRUE_WORDS and pr not in FALSE_WORDS:
        warnings.append(f"{label}'s parental responsibility {pr[:20]!r} read as no")
    priority = text.get("priority", "")
    if priority:
        if priority.isdigit() and 0 < int(priority) < 100:
            contact.priority = int(priority)
        else:
            warnings.append(f"{label}'s priority {priority[:20]!r} is not 1-99; read as 1")
    return contact
