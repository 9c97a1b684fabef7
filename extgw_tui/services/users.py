"""Finding external users: search by surname or email, sorted and paged, counted in SQL."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from peewee import Expression, Select, fn

from extgw_tui.db import is_sqlite
from extgw_tui.errors import NotFound
from extgw_tui.models import ExternalUser, live_user, name_key, text_key
from extgw_tui.services.accounts import deleted, not_deleted
from extgw_tui.services.chunks import chunked

#: Longest search term used; longer input is cut (no name or address is this long).
MAX_TERM = 254

U = ExternalUser

SORTS: dict[str, tuple] = {
    "surname": (U.surname_key, U.forename, U.id),
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


def _cleaned(term: str | None) -> str:
    """What was typed, trimmed and safe to bind (no NUL, no lone surrogates)."""
    if not term:
        return ""
    return term.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8").strip()


def normalise_term(term: str | None) -> str:
    """The email search key for what was typed: normalised and casefolded."""
    return text_key(_cleaned(term))[:MAX_TERM]


def search_condition(term: str | None) -> Expression | None:
    """Surname starting with the term (accents ignored), or email containing it; None matches
    everyone.

    %, _ and backslashes are taken literally. On SQLite the surname prefix is a range on the
    binary-collated key (index-friendly); on PostgreSQL a LIKE that the pattern-ops index serves.
    """
    parts = _search_parts(term)
    return None if parts is None else parts[0] | parts[1]


def _search_parts(term: str | None) -> tuple[Expression, Expression] | None:
    """(surname starts with the term, email contains it), or None for an empty term."""
    key = normalise_term(term)
    if not key:
        return None
    name = name_key(_cleaned(term))[:MAX_TERM] or key  # "´" alone folds to nothing
    if is_sqlite():
        surname = (U.surname_key >= name) & (U.surname_key < name + "\U0010ffff")
    else:
        surname = U.surname_key.startswith(name)
    return surname, U.email_key.contains(key)


def _filtered(query, term: str | None):
    condition = search_condition(term)
    return query.where(not_deleted() if condition is None else not_deleted() & condition)


#: The few deleted accounts (restorable until purged), which every count leaves out.
DELETED = deleted()


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
    """Matches counted as surname + email - both, in one statement (one snapshot).

    Each part is an index range or one scan of the narrow email index: at 100,000 users a
    third faster than the OR, which scans the wider surname index (benchmarks/README.md).
    Deleted accounts matching are then subtracted, found through the deleted_at index.
    """
    parts = _search_parts(term)

    def count(condition: Expression):
        return U.select(fn.COUNT(U.id)).where(condition)

    if parts is None:
        every = Expression(U.select(fn.COUNT(U.id)), "-", count(DELETED))
        return Select(columns=[every]).bind(U._meta.database).scalar() or 0
    surname, email = parts
    # Expression, not + and -: on queries peewee reads those as UNION ALL and EXCEPT
    both = Expression(Expression(count(surname), "+", count(email)), "-", count(surname & email))
    live = Expression(both, "-", count(DELETED & (surname | email)))
    return Select(columns=[live]).bind(U._meta.database).scalar() or 0


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


def user_ids_matching(term: str | None = None) -> list[int]:
    """Every matching id (for 'mark all'): ints only, never whole rows."""
    return [row[0] for row in _filtered(U.select(U.id), term).tuples()]


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
