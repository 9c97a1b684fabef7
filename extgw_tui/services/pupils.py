"""The roll: pupils searched, filtered and paged in SQL, and one pupil with holders and contacts.

Search takes what an administrator has to hand: a name (forename, surname or both, folded
like user search: models.name_key, so "obrien" finds O'Brien), a UPN or admission number
(from its start), a form ("10b") or a year ("7", "y7", "year 7"). Holders per licence type
and contacts are counted in SQL for the page's pupils only, so a page costs the same at any
roll size. Only live accounts count as holders (pupils.live).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from peewee import Expression, fn

from extgw_tui.errors import InvalidInput, NotFound
from extgw_tui.models import Contact, ExternalUser, Licence, LicenceType, Pupil, name_key
from extgw_tui.services.filters import names_condition
from extgw_tui.services.filters import prefix as _prefix
from extgw_tui.services.users import normalise_term

P, U = Pupil, ExternalUser
_GONE = ExternalUser.alias("gone")

#: Which pupils are listed: on the roll, left it, or both.
ON_ROLL, LEFT, ALL = "on-roll", "left", "all"
ROLL_FILTERS = (ON_ROLL, LEFT, ALL)
ROLL_LABELS = {ON_ROLL: "on roll", LEFT: "left the roll", ALL: "all pupils"}

#: Longest term used (no name, UPN or admission number is this long).
MAX_TERM = 100
_YEAR = re.compile(r"(?:y|yr|year)?\s*(\d{1,2})", re.IGNORECASE)
_FORM = re.compile(r"\d{1,2}\s*[a-z][a-z0-9]{0,5}|[a-z]{1,3}\d{1,2}[a-z0-9]{0,3}", re.IGNORECASE)

SORTS: dict[str, tuple] = {
    "name": (P.surname_key, P.forename_key, P.id),
    "year": (P.year_group, P.form, P.surname_key, P.forename_key, P.id),
    "form": (P.form, P.surname_key, P.forename_key, P.id),
    "roll": (P.on_roll, P.left_on, P.surname_key, P.id),
    "admission": (P.admission_number, P.id),
}

ROW_FIELDS = (
    P.id,
    P.forename,
    P.surname,
    P.year_group,
    P.form,
    P.admission_number,
    P.upn,
    P.on_roll,
    P.left_on,
)


@dataclass(frozen=True, slots=True)
class PupilRow:
    id: int
    forename: str
    surname: str
    year_group: int | None
    form: str
    admission_number: str | None
    upn: str | None
    on_roll: bool
    left_on: date | None
    #: Live accounts holding a licence for the pupil, per licence type id (absent: none).
    holders: dict[int, int]
    contacts: int

    @property
    def name(self) -> str:
        return f"{self.forename} {self.surname}"


@dataclass(frozen=True, slots=True)
class Holder:
    """A live account holding licences for the pupil."""

    user_id: int
    title: str
    forename: str
    surname: str
    email: str
    licence_types: tuple[str, ...]
    last_login_at: datetime | None
    access_allowed: bool

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.title, self.forename, self.surname) if p)


@dataclass(frozen=True, slots=True)
class ContactRow:
    """A parental contact from the MIS; has_account: a live account uses the same email."""

    id: int
    priority: int
    title: str
    forename: str
    surname: str
    relationship: str
    email: str | None
    parental_responsibility: bool
    address: str
    has_account: bool

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.title, self.forename, self.surname) if p)


@dataclass(frozen=True)
class PupilDetail:
    pupil: PupilRow
    holders: list[Holder]
    contacts: list[ContactRow]


def live(user_id) -> Expression:
    """The account `user_id` points at is live (as models.live_user), written as "not one of
    the few soft-deleted ids": given `deleted_at IS NULL` in a join, SQLite scans the
    deleted_at index over every live account instead of following a pupil's licences (22 s
    instead of 1 ms for a page of the large demo)."""
    return user_id.not_in(_GONE.select(_GONE.id).where(_GONE.deleted_at.is_null(False)))


def check_roll(roll: str) -> str:
    if roll not in ROLL_FILTERS:
        raise InvalidInput(f"The roll filter must be one of {', '.join(ROLL_FILTERS)}.")
    return roll


def _name_condition(text: str) -> Expression | None:
    """Surname or forename from its start; "anna smith" / "smith anna" as forename + surname."""
    words = text.split()
    whole = name_key(text)[:MAX_TERM]
    if not whole:
        return None
    return names_condition(words, whole, P.forename_key, P.surname_key)


def search_condition(term: str | None) -> Expression | None:
    """What the term matches (see the module docstring); None matches every pupil."""
    text = normalise_term(term)[:MAX_TERM]
    if not text:
        return None
    conditions = []
    name = _name_condition(text)
    if name is not None:
        conditions.append(name)
    code = re.sub(r"\s+", "", text)
    if any(ch.isdigit() for ch in code):
        conditions.append(_prefix(P.admission_number, code))
        conditions.append(_prefix(P.upn, code.upper()))
    year = _YEAR.fullmatch(text)
    if year and 1 <= int(year.group(1)) <= 14:
        conditions.append(P.year_group == int(year.group(1)))
    if _FORM.fullmatch(text):
        conditions.append(fn.LOWER(P.form) == code.lower())
    condition = conditions[0]
    for part in conditions[1:]:
        condition |= part
    return condition


def _where(term: str | None, roll: str) -> Expression | None:
    parts = [search_condition(term)]
    if check_roll(roll) == ON_ROLL:
        parts.append(P.on_roll == True)  # noqa: E712
    elif roll == LEFT:
        parts.append(P.on_roll == False)  # noqa: E712
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    return parts[0] & parts[1] if len(parts) == 2 else parts[0]


def _ordered(field, descending: bool):
    if not field.null:
        return field.desc() if descending else field.asc()
    return field.desc(nulls="LAST") if descending else field.asc(nulls="FIRST")


def holder_counts(pupil_ids: Sequence[int]) -> dict[int, dict[int, int]]:
    """pupil id -> {licence type id: live accounts holding it}, counted in SQL."""
    if not pupil_ids:
        return {}
    rows = (
        Licence.select(Licence.pupil, Licence.licence_type, fn.COUNT(Licence.user))
        .where(Licence.pupil.in_(list(pupil_ids)) & live(Licence.user))
        .group_by(Licence.pupil, Licence.licence_type)
        .tuples()
    )
    counts: dict[int, dict[int, int]] = {}
    for pupil_id, type_id, holders in rows:
        counts.setdefault(pupil_id, {})[type_id] = holders
    return counts


def contact_counts(pupil_ids: Sequence[int]) -> dict[int, int]:
    if not pupil_ids:
        return {}
    rows = (
        Contact.select(Contact.pupil, fn.COUNT(Contact.id))
        .where(Contact.pupil.in_(list(pupil_ids)))
        .group_by(Contact.pupil)
        .tuples()
    )
    return dict(rows)


def _with_counts(rows: list[tuple]) -> list[PupilRow]:
    ids = [row[0] for row in rows]
    holders, contacts = holder_counts(ids), contact_counts(ids)
    return [
        PupilRow(*row, holders=holders.get(row[0], {}), contacts=contacts.get(row[0], 0))
        for row in rows
    ]


def search_pupils(
    term: str | None = None,
    *,
    roll: str = ON_ROLL,
    sort: str = "name",
    descending: bool = False,
    offset: int = 0,
    limit: int = 200,
) -> list[PupilRow]:
    """One page of matching pupils in the requested order, with their counts."""
    query = P.select(*ROW_FIELDS)
    where = _where(term, roll)
    if where is not None:
        query = query.where(where)
    order = [_ordered(f, descending) for f in SORTS.get(sort, SORTS["name"])]
    query = query.order_by(*order).offset(max(offset, 0)).limit(max(limit, 0))
    return _with_counts(list(query.tuples()))


def count_pupils(term: str | None = None, roll: str = ON_ROLL) -> int:
    query = P.select(fn.COUNT(P.id))
    where = _where(term, roll)
    return (query.where(where) if where is not None else query).scalar() or 0


def pupil_row(pupil_id: int) -> PupilRow:
    row = P.select(*ROW_FIELDS).where(P.id == pupil_id).tuples().first()
    if row is None:
        raise NotFound(f"Pupil {pupil_id} no longer exists.")
    return _with_counts([row])[0]


def holders(pupil_id: int) -> list[Holder]:
    """The pupil's live account holders, each with the licence types held for this pupil."""
    rows = (
        Licence.select(
            U.id,
            U.title,
            U.forename,
            U.surname,
            U.email,
            U.last_login_at,
            U.access_allowed,
            LicenceType.name,
        )
        .join(U)
        .switch(Licence)
        .join(LicenceType)
        .where((Licence.pupil == pupil_id) & live(U.id))
        .order_by(U.surname_key, U.forename, U.id, LicenceType.id)
        .tuples()
    )
    found: dict[int, Holder] = {}
    for user_id, title, forename, surname, email, last, allowed, type_name in rows:
        known = found.get(user_id)
        types = (known.licence_types if known else ()) + (type_name,)
        found[user_id] = Holder(user_id, title, forename, surname, email, types, last, allowed)
    return list(found.values())


def contacts(pupil_id: int) -> list[ContactRow]:
    """The pupil's contacts in priority order, each saying whether its email has an account."""
    rows = list(
        Contact.select(
            Contact.id,
            Contact.priority,
            Contact.title,
            Contact.forename,
            Contact.surname,
            Contact.relationship,
            Contact.email,
            Contact.parental_responsibility,
            Contact.address,
            Contact.email_key,
        )
        .where(Contact.pupil == pupil_id)
        .order_by(Contact.priority, Contact.id)
        .tuples()
    )
    keys = [row[-1] for row in rows if row[-1]]
    with_account = set()
    if keys:
        query = U.select(U.email_key).where(U.email_key.in_(keys) & live(U.id))
        with_account = {key for (key,) in query.tuples()}
    return [ContactRow(*row[:-1], has_account=row[-1] in with_account) for row in rows]


def pupil_detail(pupil_id: int) -> PupilDetail:
    """One pupil with holders and contacts (for the pupil screen), read in one go."""
    return PupilDetail(pupil_row(pupil_id), holders(pupil_id), contacts(pupil_id))
