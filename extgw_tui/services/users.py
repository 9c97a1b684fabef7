"""Finding external users: by name, email, ID and filters, sorted and paged, counted in SQL."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime

from peewee import Expression, Select, fn

from extgw_tui.errors import NotFound
from extgw_tui.models import ExternalUser, live_user, text_key
from extgw_tui.services import filters
from extgw_tui.services.accounts import deleted
from extgw_tui.services.chunks import chunked
from extgw_tui.services.filters import MAX_TERM

U = ExternalUser

SORTS: dict[str, tuple] = {
    "surname": (U.surname_key, U.forename, U.id),
    "forename": (U.forename_key, U.surname_key, U.id),
    "id": (U.id,),
    "title": (U.title, U.surname_key, U.id),
    "email": (U.email_key,),
    "created": (U.created_at, U.id),
    "adr": (U.adr, U.surname_key, U.id),
    "access": (U.access_allowed, U.surname_key, U.id),
    "last_login": (U.last_login_at, U.id),
}


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    title: str
    forename: str
    surname: str
    email: str
    created_at: datetime
    adr: bool
    access_allowed: bool
    last_login_at: datetime | None
    #: When a delivery to the address last failed for good (mail.bouncing()); None if not.
    bounced_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Totals:
    users: int
    denied: int


#: The columns of a UserRow, in its order (the user exports read the same).
ROW_FIELDS = (
    U.id,
    U.title,
    U.forename,
    U.surname,
    U.email,
    U.created_at,
    U.adr,
    U.access_allowed,
    U.last_login_at,
)


def normalise_term(term: str | None) -> str:
    """The email search key for what was typed: normalised and casefolded."""
    return text_key(filters.cleaned(term))[:MAX_TERM]


def search_condition(term: str | None) -> Expression | None:
    """What the search box says (names, email, ID and filters: services/filters.py); None
    matches everyone. Raises InvalidInput for a term it cannot understand."""
    return filters.search_condition(term)


def _filtered(query, term: str | None):
    condition = search_condition(term)
    return query.where(live_user() if condition is None else live_user() & condition)


def _ordered(field, descending: bool):
    """Ascending or descending, with "never" (NULL) first when ascending on every backend."""
    if not field.null:
        return field.desc() if descending else field.asc()
    return field.desc(nulls="LAST") if descending else field.asc(nulls="FIRST")


def search_users(
    term: str | None = None,
    *,
    sort: str = "surname",
    descending: bool = False,
    offset: int = 0,
    limit: int = 200,
) -> list[UserRow]:
    """One page of matching users in the requested order."""
    order = [_ordered(f, descending) for f in SORTS.get(sort, SORTS["surname"])]
    query = _filtered(U.select(*ROW_FIELDS, U.bounced_at), term).order_by(*order)
    rows = query.offset(max(offset, 0)).limit(max(limit, 0)).tuples()
    return [UserRow(*row) for row in rows]


def count_users(term: str | None = None) -> int:
    """How many users match, in one statement."""
    return _filtered(U.select(fn.COUNT(U.id)), term).scalar() or 0


def count_among(term: str | None, ids: Collection[int]) -> int:
    """How many of `ids` are existing users matching the term (for "N marked, M not in view").

    Counted in SQL a chunk of ids at a time, so the cost follows the marks, not the table.
    """
    condition = search_condition(term)
    total = 0
    for part in chunked(sorted(ids)):
        where = U.id.in_(list(part)) & live_user()
        if condition is not None:
            where &= condition
        total += U.select(fn.COUNT(U.id)).where(where).scalar() or 0
    return total


def iter_users(term: str | None = None) -> Iterator[UserRow]:
    """Every matching user in surname order, streamed (never the whole result in memory).

    The search is checked at once (InvalidInput), before the first row is asked for."""
    query = _filtered(U.select(*ROW_FIELDS), term).order_by(*SORTS["surname"]).tuples()
    return (UserRow(*row) for row in query.iterator())


def user_ids_matching(term: str | None = None) -> list[int]:
    """Every matching id (for 'mark all'): ints only, never whole rows."""
    return [row[0] for row in _filtered(U.select(U.id), term).tuples()]


#: The few deleted accounts (restorable until purged), which the totals leave out.
DELETED = deleted()


def totals() -> Totals:
    """Two counts an index answers (a SUM over the table would read all 100,000 rows), less
    the deleted accounts (a few, found through their index)."""
    denied = U.access_allowed == False  # noqa: E712

    def count(condition: Expression | None = None):
        query = U.select(fn.COUNT(U.id))
        return query if condition is None else query.where(condition)

    users = Expression(count(), "-", count(DELETED))
    denied_users = Expression(count(denied), "-", count(DELETED & denied))
    row = Select(columns=[users, denied_users]).bind(U._meta.database).tuples().first()
    return Totals(users=row[0] or 0, denied=row[1] or 0)


def user_row(user_id: int) -> UserRow:
    query = U.select(*ROW_FIELDS, U.bounced_at).where((U.id == user_id) & live_user())
    row = query.tuples().first()
    if row is None:
        raise NotFound(
            f"User {user_id} no longer exists; another administrator may have deleted it."
        )
    return UserRow(*row)
