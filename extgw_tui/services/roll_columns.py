"""Which column of an MIS export holds what: the one table of header names, kept as data.

SIMS, Arbor, Bromcom and Scholarpack name the same thing differently ("Adno", "Admission No",
"Admission Number"); a header is compared without case, spaces or punctuation, so
"Reg. Group" and "RegGroup" are one name. Contacts come either numbered on the pupil's row
("Contact 1 Email", "Contact 2 Name", ...) or one contact per row with unnumbered columns
("Contact Email", "Relationship", ...). `--map HEADER=field` names a column the table does not
know (or overrides it); `HEADER=ignore` leaves a column out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from extgw_tui.errors import InvalidInput

#: Pupil fields and the headers that mean them, most specific first: when a file has two
#: headers for one field ("Legal Forename" and "Preferred Forename"), the earlier one wins.
PUPIL_COLUMNS: dict[str, tuple[str, ...]] = {
    "upn": ("UPN", "Unique Pupil Number"),
    "admission_number": ("Adno", "Adm No", "Admission No", "Admission Number", "Admission No."),
    "surname": ("Legal Surname", "Surname", "Last Name", "Family Name", "Pupil Surname"),
    "forename": (
        "Legal Forename",
        "Forename",
        "First Name",
        "Preferred Forename",
        "Given Name",
        "Pupil Forename",
    ),
    "name": ("Name", "Pupil Name", "Full Name", "Student Name"),
    "year_group": ("Year", "Year Group", "NC Year", "National Curriculum Year", "Yr", "Year Grp"),
    "form": (
        "Reg",
        "Reg Group",
        "Registration Group",
        "Form",
        "Form Group",
        "Tutor Group",
        "Class",
        "Reg Form",
    ),
}

#: The parts of a contact and their header words; numbered ("Contact 1 Email") or, one
#: contact per row, unnumbered with a "Contact" prefix or alone ("Contact Email", "Relationship").
CONTACT_PARTS: dict[str, tuple[str, ...]] = {
    "title": ("Title",),
    "forename": ("Forename", "First Name", "Legal Forename"),
    "surname": ("Surname", "Last Name", "Legal Surname"),
    "name": ("Name", "Full Name"),
    "relationship": ("Relationship", "Relation", "Relationship to Pupil"),
    "email": ("Email", "Email Address", "E-mail", "Primary Email", "Main Email"),
    "parental_responsibility": ("Parental Responsibility", "Has Parental Responsibility", "PR"),
    "priority": ("Priority", "Contact Priority", "Order"),
    "address": ("Address", "Home Address", "Postal Address"),
}

#: Headers of a one-contact-per-row file that need no "Contact" prefix to be recognised.
BARE_CONTACT_PARTS = ("relationship", "parental_responsibility", "priority")

#: Contact columns that alone do not make a contact.
NOT_ALONE = ("priority", "parental_responsibility")

#: Words that start a numbered contact column ("Contact 1 ...", "Parent 2 ...").
CONTACT_WORDS = ("contact", "parent", "carer", "guardian", "priority")

#: The most contacts per pupil read from numbered columns.
MAX_CONTACTS = 9

IGNORE = "ignore"
KEY_FIELDS = ("upn", "admission_number")


def header_key(text: object) -> str:
    """A header as compared: lower case, letters and digits only ("Reg. Group" -> "reggroup")."""
    return re.sub(r"[^0-9a-z]", "", str(text or "").casefold())


def _lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for name, headers in PUPIL_COLUMNS.items():
        for header in headers:
            table.setdefault(header_key(header), name)
    return table


def _part_lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for part, words in CONTACT_PARTS.items():
        for word in words:
            table.setdefault(header_key(word), part)
    return table


_PUPIL = _lookup()
_PART = _part_lookup()
_NUMBERED = re.compile(rf"^(?:{'|'.join(CONTACT_WORDS)})([1-9])(\w*)$")
_NUMBER_LAST = re.compile(rf"^(?:{'|'.join(CONTACT_WORDS)})(\w*?)([1-9])$")


def field_names() -> list[str]:
    """Every field a column can be mapped to with --map, for messages and the README."""
    contact = [f"contact_{p}" for p in CONTACT_PARTS]
    numbered = [f"contactN_{p}" for p in CONTACT_PARTS if p != "priority"]
    return [*PUPIL_COLUMNS, *contact, *numbered, IGNORE]


def _field_of(text: str) -> str | None:
    """The field a --map target names: a pupil field, contact_<part>, contactN_<part>, ignore."""
    name = text.strip().casefold().replace(" ", "_").replace("-", "_")
    if name in PUPIL_COLUMNS or name == IGNORE:
        return name
    if name in ("adno", "admission"):
        return "admission_number"
    if name in ("year",):
        return "year_group"
    match = re.fullmatch(r"contact_?([1-9])?_?([a-z_]+)", name)
    if match and match.group(2) in CONTACT_PARTS:
        number, part = match.groups()
        return f"contact{number}_{part}" if number else f"contact_{part}"
    return None


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """--map HEADER=field (each as typed) -> {header key: field}; a bad one is one sentence."""
    mapping: dict[str, str] = {}
    for item in items:
        header, sep, target = item.partition("=")
        if not sep or not header.strip() or not target.strip():
            raise InvalidInput(f"--map {item!r} is not HEADER=field, e.g. --map 'Pupil ID=upn'.")
        name = _field_of(target)
        if name is None:
            raise InvalidInput(
                f"--map {item!r}: {target.strip()!r} is not a field; the fields are "
                f"{', '.join(field_names())}."
            )
        mapping[header_key(header)] = name
    return mapping


def recognise(header: object, mapping: Mapping[str, str] | None = None) -> str | None:
    """The field a header means ("Contact 2 Email" -> "contact2_email"), or None."""
    key = header_key(header)
    if not key:
        return None
    if mapping and key in mapping:
        return mapping[key]
    if key in _PUPIL:
        return _PUPIL[key]
    for pattern, number_group, rest_group in ((_NUMBERED, 1, 2), (_NUMBER_LAST, 2, 1)):
        match = pattern.match(key)
        if match and match.group(rest_group) in _PART:
            part = _PART[match.group(rest_group)]
            if part != "priority":
                return f"contact{match.group(number_group)}_{part}"
    if key.startswith("contact") and key[len("contact") :] in _PART:
        return f"contact_{_PART[key[len('contact') :]]}"
    if key in _PART and _PART[key] in BARE_CONTACT_PARTS:
        return f"contact_{_PART[key]}"
    return None


@dataclass
class Layout:
    """Where each field is in a file: column indexes, found and unused headers."""

    columns: dict[str, int] = field(default_factory=dict)
    #: contact number -> {part: column}; 0 is the one contact of a one-contact-per-row file.
    contacts: dict[int, dict[str, int]] = field(default_factory=dict)
    headers: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @cached_property
    def contact_columns(self) -> list[tuple[int, dict[str, int], tuple[int, ...]]]:
        """(number, {part: column}, the columns that make a contact) per contact, in order:
        a priority or a "No" alone is not a contact."""
        return [
            (number, parts, tuple(i for p, i in parts.items() if p not in NOT_ALONE))
            for number, parts in sorted(self.contacts.items())
        ]

    @property
    def per_row_contacts(self) -> bool:
        return 0 in self.contacts

    @property
    def has_contacts(self) -> bool:
        return bool(self.contacts)

    def score(self) -> int:
        """How much of a roll this header row names: what picks the header row."""
        return len(self.columns) + sum(len(parts) for parts in self.contacts.values())

    def found(self) -> list[str]:
        found = [f"{self.headers[i]} ({name})" for name, i in self.columns.items()]
        for number, parts in sorted(self.contacts.items()):
            label = "contact" if number == 0 else f"contact {number}"
            found.append(f"{label}: {', '.join(parts)}")
        return found

    def missing(self) -> list[str]:
        """What a roll needs that this file lacks, in words."""
        out = []
        if not any(k in self.columns for k in KEY_FIELDS):
            out.append("UPN or admission number (Adno)")
        if "surname" not in self.columns and "name" not in self.columns:
            out.append("surname")
        if "forename" not in self.columns and "name" not in self.columns:
            out.append("forename")
        return out


def layout_of(cells: Sequence[object], mapping: Mapping[str, str] | None = None) -> Layout:
    """Read a header row: which column holds which field (the first header of a field wins)."""
    layout = Layout(headers=[str(c).strip() if c is not None else "" for c in cells])
    ranked: dict[str, tuple[int, int]] = {}
    for index, header in enumerate(layout.headers):
        name = recognise(header, mapping)
        if name is None:
            if header:
                layout.ignored.append(header)
            continue
        if name == IGNORE:
            continue
        rank = _rank(name, header, mapping)
        if name in ranked and ranked[name][0] <= rank:
            layout.ignored.append(header)
            continue
        if name in ranked:
            layout.ignored.append(layout.headers[ranked[name][1]])
        ranked[name] = (rank, index)
    for name, (_, index) in ranked.items():
        if name.startswith("contact"):
            head, _, part = name.partition("_")
            number = int(head[len("contact") :] or 0)
            layout.contacts.setdefault(number, {})[part] = index
        else:
            layout.columns[name] = index
    if 0 in layout.contacts and len(layout.contacts) > 1:
        numbered = [layout.headers[i] for n, p in layout.contacts.items() if n for i in p.values()]
        single = [layout.headers[i] for i in layout.contacts[0].values()]
        raise InvalidInput(
            f"The file has numbered contact columns ({numbered[0]}) and one-contact-per-row "
            f"columns ({single[0]}); say which is which with --map, e.g. "
            f"--map '{single[0]}=contact1_{next(iter(layout.contacts[0]))}'."
        )
    return layout


def _rank(name: str, header: str, mapping: Mapping[str, str] | None) -> int:
    """A mapped header beats the table; within the table, the earlier alias wins."""
    key = header_key(header)
    if mapping and key in mapping:
        return -1
    aliases = PUPIL_COLUMNS.get(name, ())
    for rank, alias in enumerate(aliases):
        if header_key(alias) == key:
            return rank
    return len(aliases)
