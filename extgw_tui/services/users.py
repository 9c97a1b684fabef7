"""Finding external users: by name, email, ID and filters, sorted and paged, counted in SQL."""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime

from peewee import SQL, Case, Expression, Field, Select, Value, fn

from extgw_tui.db import is_sqlite
from extgw_tui.email_index import EMAILS
from extgw_tui.errors import NotFound
from extgw_tui.models import ExternalUser, live_user, text_key
from extgw_tui.services import filters
from extgw_tui.services.accounts import deleted, not_deleted
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


class Window(list):
    """One page of rows; `total` is how many the whole result has when the search counted it
    on the way, else None: ask count_users."""

    total: int | None = None


#: The least number of matches (of the part not planned by the surname index) that is always
#: sorted from the matches themselves rather than walked in the sort order (few_limit).
FEW = 2_000


def few_limit(end: int, accounts: int | None = None) -> int:
    """Up to how many matches a page ending at row `end` is sorted from the matches rather than
    walked in the sort order, stopping at the page's end. Evenly spread matches make the walk
    cheaper from about sqrt(end x accounts); twice that allows for matches that cluster in the
    sort order (an address fragment that is a surname's: "ewis" sits among the Lewises), where
    a walk reads everything before them."""
    accounts = _newest_id() if accounts is None else accounts
    return max(FEW, int(2 * math.sqrt(end * accounts)))


def _newest_id() -> int:
    """About how many accounts there are: the newest id, an index's last entry."""
    return U.select(fn.MAX(U.id)).scalar() or 0


#: What a page selects: a UserRow's columns.
COLUMNS = (*ROW_FIELDS, U.bounced_at)


def _count(where: Expression, at_most: int | None = None) -> int:
    """Rows of ExternalUser matching `where`; with at_most, counting stops past it."""
    if at_most is None:  # COUNT(*), not of a column: an index without it can answer alone
        return U.select(fn.COUNT(SQL("*"))).where(where).scalar() or 0
    found = U.select(U.id).where(where).limit(at_most + 1).alias("found")
    query = Select(from_list=[found], columns=[fn.COUNT(SQL("*"))])
    return query.bind(U._meta.database).scalar() or 0


def _by_keys(keys: tuple, descending: bool) -> list:
    """The order of a part's selected sort keys (k0, k1, ...), as _ordered orders fields."""
    order = []
    for i, key in enumerate(keys):
        alias = SQL(f"k{i}")
        if not key.null:
            order.append(alias.desc() if descending else alias.asc())
        else:
            order.append(alias.desc(nulls="LAST") if descending else alias.asc(nulls="FIRST"))
    return order


def _part(where: Expression, keys: tuple, descending: bool, end: int, few: bool) -> Select:
    """The first `end` rows matching `where`, in the order of `keys`. `few`: sort the matches
    (found by whichever index serves `where`) rather than walk the order's index past
    non-matches, which for a rare name late in the alphabet means most of the table."""
    query = U.select(*COLUMNS, *(key.alias(f"k{i}") for i, key in enumerate(keys))).where(where)
    if not few:
        return query.order_by(*(_ordered(key, descending) for key in keys)).limit(end)
    # OFFSET 0 keeps the database from folding the subquery into the sorted query around it
    found = query.offset(0).alias("found")
    return Select(from_list=[found], columns=[SQL("*")]).order_by(*_by_keys(keys, descending))


def _page(parts: list[Select], keys: tuple, descending: bool, offset: int, limit: int) -> list:
    """Rows offset..offset+limit of the parts merged in order (each part holds its first
    offset+limit rows), converted as peewee converts model rows."""
    if len(parts) == 1:
        query = parts[0]
    else:
        each = [
            Select(from_list=[p.alias(f"p{i}")], columns=[SQL("*")]) for i, p in enumerate(parts)
        ]
        union = functools.reduce(lambda a, b: a.union_all(b), each)
        query = Select(from_list=[union.alias("merged")], columns=[SQL("*")])
        query = query.order_by(*_by_keys(keys, descending))
    query = query.limit(limit).offset(offset).bind(U._meta.database)
    width = len(COLUMNS)
    convert = [field.python_value for field in COLUMNS]
    return [
        UserRow(*(to(value) for to, value in zip(convert, row[:width], strict=True)))
        for row in query.tuples()
    ]


def _unindexed(condition: Expression) -> Expression:
    """`condition` in a form no index serves, so the database walks the sort order's index and
    checks each row, stopping at the page's end, rather than first collecting every match."""
    return Case(None, [(condition, 1)], 0) != 0


def search_users(
    term: str | None = None,
    *,
    sort: str = "surname",
    descending: bool = False,
    offset: int = 0,
    limit: int = 200,
) -> Window:
    """One page of matching users in the requested order.

    Free text is planned in parts (filters.TextParts), each counted by its own indexes: the
    surname prefix, which the surname index serves in order, and the others (forenames,
    email, IDs) less those. Up to few_limit() others are sorted from their index lookups; more are
    dense enough to walk the sort order and stop at the page's end (on PostgreSQL within a
    budget, reading only an index: _walked_first). The page is the merge of the parts' first
    rows, and carries the result's total (Window.total), except for a common term on
    PostgreSQL whose page a short walk finds (_walked_early): its count follows the rows."""
    offset, limit = max(offset, 0), max(limit, 0)
    keys = SORTS.get(sort, SORTS["surname"])
    parts = filters.search_parts(term)
    base = live_user() if parts.filters is None else live_user() & parts.filters
    text, end = parts.text, offset + limit
    queries: list[Select] = []
    total: int | None = 0
    surnames = 0
    if text.surname is None and text.others() is None:
        queries.append(_part(base, keys, descending, end, few=False))
        total = None
    elif parts.filters is None and sort == "surname" and end <= FEW and not is_sqlite():
        early = _walked_early(text, keys, descending, end)
        if early is not None:
            return Window(_page(early, keys, descending, offset, limit))
    if text.surname is not None:
        walk = sort == "surname"  # the surname index holds this part in this order
        queries.append(_part(base & text.surname, keys, descending, end, few=not walk))
        surnames = _count(base & text.surname)
        total += surnames
    if text.others() is not None:
        # many surname matches ("smith") are most of the address part's candidates too: it
        # is read once, the surnames left out; else (e.g. "gmail") reading it would be waste
        listed, counted = _listed_elsewhere(text) if surnames > FEW else (None, None)
        plain = parts.filters is None
        found = _count_others(base, text, plain=plain, listed=listed, counted=counted)
        accounts = _newest_id()
        few = found <= few_limit(end, accounts)
        walked = None
        if plain and listed is None and end <= FEW and not is_sqlite():
            walked = _walked_first(text, keys, sort, descending, end, found, accounts, few)
        if walked is None:
            walk = sort == "surname"
            walked = _others_parts(base, text, keys, descending, end, few, walk, listed)
        queries.extend(walked)
        total += found
    window = Window(_page(queries, keys, descending, offset, limit))
    window.total = total
    return window


def _others_parts(
    base: Expression,
    text: filters.TextParts,
    keys: tuple,
    descending: bool,
    end: int,
    few: bool,
    by_surname: bool,
    listed: list[int] | None = None,
) -> list[Select]:
    """The others part's first `end` rows: sorted from its matches, or walked in the sort
    order; walked by surname, as two walks either side of the surname prefix, which skip its
    rows ("a" has thirty thousand at a million accounts) rather than read and drop each.
    `listed`: the email part's ids (_listed_elsewhere), looked up by id."""
    if few and listed is not None:  # each part from its own index, sorted
        wheres = [base & _among(listed)] if listed else []
        if text.names is not None:
            wheres.append(_not_surname(base & text.names, text))
        return [_part(where, keys, descending, end, few=True) for where in wheres]
    sides = None
    if not few and by_surname and text.surname_prefix is not None:
        sides = filters.outside_prefix(U.surname_key, text.surname_prefix)
    if sides is None:
        return [_part(_others(base, text, scan=not few), keys, descending, end, few)]
    walked = base & _unindexed(text.others(scan=True))
    return [_part(walked & side, keys, descending, end, few=False) for side in sides]


#: The sorts whose first key PostgreSQL's email table holds, so it can order the email part.
EMAILS_SORTS = {"surname": EMAILS.surname_key, "email": EMAILS.email_key, "id": EMAILS.id}

#: How many times the rows a walk is expected to read (were the matches spread evenly) it may
#: read before it gives up (_walked_first).
WALK_MARGIN = 4

#: A walk that reads only an index costs about this many times less a row than sorting the
#: matches, which reads each from the table: the most rows per match worth walking.
WALK_WORTH = 6


def _walked_first(
    text: filters.TextParts,
    keys: tuple,
    sort: str,
    descending: bool,
    end: int,
    found: int,
    accounts: int,
    few: bool,
) -> list[Select] | None:
    """PostgreSQL, no filters: the first `end` of the `found` matches besides the surname's,
    or None to plan them as _others_parts does. A walk of the sort order that reads only its
    covering index finds them soon when they are spread through it ("gmail": a few hundred
    rows; "b": thousands, where sorting 9,000 matches read 17,000 table pages). It stops at a
    budget, as matches may cluster late in the order ("ones" is mostly Joneses, a third of the
    way down the surnames); with more than few_limit the email table then orders the address
    part instead (its cost follows the matches, not where they sit), the forenames' beside it.
    Few matches inside addresses are not walked: such fragments cluster ("ewis")."""
    budget = WALK_MARGIN * end * accounts // max(found, 1) + 1_000
    narrow = not few and text.elsewhere is not None and sort in EMAILS_SORTS
    if not narrow and sort != "surname":  # only the surname order's index covers a walk
        return None
    if few and (text.inside or budget > WALK_WORTH * found):
        return None
    ids = _walk_ids(_others(live_user(), text, scan=True), keys, descending, end, budget)
    if len(ids) == end:
        return [_part(live_user() & _among(ids), keys, descending, end, few=True)]
    if not narrow:
        return None
    ids = _narrow_first(text, keys, EMAILS_SORTS[sort], descending, end)
    queries = [_part(live_user() & _among(ids), keys, descending, end, few=True)]
    if text.names is not None:
        named = _not_surname(live_user() & text.names, text)
        limit = few_limit(end, accounts)
        if _count(named, at_most=limit) > limit:
            named = _not_surname(live_user() & _unindexed(text.names), text)
            queries.append(_part(named, keys, descending, end, few=False))
        else:
            queries.append(_part(named, keys, descending, end, few=True))
    return queries


#: The index entries a search walks for its page before counting anything (_walked_early):
#: text of one or two characters matches the starts of names and addresses, where every
#: letter is common; a walk for longer text is cut short, as most such text is rare.
START_WALK = 5_000
OTHER_WALK = 1_000

#: How far a second walk may go when the first one's matches say the page lies further on
#: ("ryan": 4 in the first 1,000 entries, its page 11,600 in), as a share of the accounts:
#: 40,000 entries at a million (~30 ms, what one that still falls short costs), where a
#: common term's count takes hundreds; 4,000 at 100,000, where counting is quick.
EARLY_SHARE = 0.04

#: The fewest matches in a first walk whose rate a second walk trusts: fewer is most often
#: a cluster ("ewis" among the few Lewises early in the order), not a spread.
EARLY_HITS = 3


def _walked_early(
    text: filters.TextParts, keys: tuple, descending: bool, end: int
) -> list[Select] | None:
    """PostgreSQL, no filters, the surname order: the page of a common term ("gmail", "s")
    without its count, when the first entries of the order's covering index hold the others
    part's first `end` matches; else None. A first walk too short for the page reads the rate
    of its matches, and a second goes as far as twice that rate says the page needs, within
    EARLY_SHARE of the accounts. The count, which for such a term reads tens of thousands of
    rows, is left to count_users, so the rows show first."""
    if text.others() is None:  # the surname part alone: counted on the way, from its index
        return None
    where = _others(live_user(), text, scan=True)
    budget = START_WALK if text.email_key and not text.inside else OTHER_WALK
    ids = _walk_ids(where, keys, descending, end, budget)
    if len(ids) < end:
        reach = 2 * end * budget // max(len(ids), 1)
        if len(ids) < EARLY_HITS or reach > EARLY_SHARE * _newest_id():
            return None
        ids = _walk_ids(where, keys, descending, end, reach)
        if len(ids) < end:
            return None
    queries = [_part(live_user() & _among(ids), keys, descending, end, few=True)]
    if text.surname is not None:
        queries.append(_part(live_user() & text.surname, keys, descending, end, few=False))
    return queries


def _walk_ids(where: Expression, keys: tuple, descending: bool, end: int, budget: int) -> list[int]:
    """The ids of the first `end` live accounts matching `where` (a row-by-row check) in the
    order of `keys` that are among the order's first `budget`: all `end` if the walk reached
    them, else fewer. Reads only the sort order's covering index (ids, keys and the searched
    columns), never the rows."""
    hit = Case(None, [(where, 1)], 0).alias("hit")
    order = [_ordered(key, descending) for key in keys]
    walked = U.select(U.id, hit).where(live_user()).order_by(*order).limit(budget).alias("w")
    query = Select(from_list=[walked], columns=[SQL("w.id")]).where(SQL("w.hit = 1"))
    return [row[0] for row in query.limit(end).bind(U._meta.database).tuples()]


def _narrow_first(
    text: filters.TextParts, keys: tuple, first: Field, descending: bool, end: int
) -> list[int]:
    """The ids of the email part's (TextParts.elsewhere) first `end` live accounts in the order
    of `keys`: sorted in the email table by the first key, which it holds; the accounts tied
    at the last key (Joneses, for "ones") are walked in the sort order's index, for their
    order by the keys after it (forename, id), which the table does not hold."""
    where = text.elsewhere & not_deleted(EMAILS.id)
    order = first.desc() if descending else first.asc()
    query = EMAILS.select(EMAILS.id, first).where(where).order_by(order).limit(end)
    rows = list(query.bind(U._meta.database).tuples())
    if len(rows) < end:
        return [row[0] for row in rows]
    last = rows[-1][1]
    before = [row[0] for row in rows if row[1] != last]
    email = _unindexed(filters.contains(U.email_key, text.email_key))
    tied = _not_surname(live_user() & (keys[0] == last) & email, text)
    if text.names is not None:
        tied &= ~text.names
    ties = U.select(U.id).where(tied).order_by(*(_ordered(key, descending) for key in keys))
    return before + [row[0] for row in ties.limit(end - len(before)).tuples()]


def _others(base: Expression, text: filters.TextParts, *, scan: bool = False) -> Expression:
    """Who the text's other parts find and its surname part does not (each is counted once);
    `scan`: for a walk, in a form no index serves (see _unindexed)."""
    where = base & (_unindexed(text.others(scan=True)) if scan else text.others())
    return _not_surname(where, text)


def _not_surname(where: Expression, text: filters.TextParts) -> Expression:
    return where if text.surname is None else where & ~text.surname


def _listed_elsewhere(text: filters.TextParts) -> tuple[list[int] | None, int | None]:
    """PostgreSQL: the live accounts of the email part (TextParts.elsewhere), read once for
    both its count and its page, when there are at most FEW ("smith": a few hundred, once
    the Smiths are left out), else None; and how many there are, counted in the same scan
    ("har": 16,000 at a million). (None, None) where there is no such part."""
    if text.elsewhere is None:
        return None, None
    where = text.elsewhere & not_deleted(EMAILS.id)
    query = EMAILS.select(EMAILS.id, fn.COUNT(SQL("*")).over()).where(where).limit(FEW + 1)
    rows = list(query.bind(U._meta.database).tuples())
    counted = rows[0][1] if rows else 0
    return ([row[0] for row in rows] if counted <= FEW else None), counted


def _among(ids: list[int]) -> Expression:
    """The account's id is one of `ids` (a list bound as one array: looked up by id)."""
    return Expression(U.id, "=", fn.ANY(Value(ids, unpack=False)))


def _count_others(
    base: Expression,
    text: filters.TextParts,
    *,
    plain: bool,
    listed: list[int] | None = None,
    counted: int | None = None,
) -> int:
    """How many the others part finds (_others), as a sum of counts an index serves each:
    names, then addresses not already counted. `plain`: no filters besides the text;
    `listed`, `counted`: the email part's ids when already read, and how many (without
    filters) when already counted (_listed_elsewhere)."""
    total = 0 if text.names is None else _count(_not_surname(base & text.names, text))
    if text.email_key is None:
        return total
    if listed is not None:
        if plain or not listed:
            return total + len(listed)
        return total + _count(base & _among(listed))
    if plain and text.inside and filters.trigram_served(text.email_key):
        return total + _count_email_from_trigrams(text)
    if plain and counted is not None:
        return total + counted
    if plain and text.elsewhere is not None:
        return total + _count_elsewhere(text.elsewhere)
    email = base & text.email
    return total + _count(_not_surname(email if text.names is None else email & ~text.names, text))


def _count_email_from_trigrams(text: filters.TextParts) -> int:
    """Live accounts whose address contains the text and that no other part found, without
    reading every such address: the trigram index counts them all, less the few among the
    deleted, the surname's and the names' matches (checked row by row)."""
    inside = filters.contains(U.email_key, text.email_key)
    counted = [part for part in (DELETED, text.surname, text.names) if part is not None]
    either = functools.reduce(operator.or_, counted)
    return filters.count_email_containing(text.email_key) - _count(either & inside)


def _count_elsewhere(where: Expression) -> int:
    """Live accounts whose row in PostgreSQL's email table matches `where`, counted in that
    narrow table alone (its trigram index, then its rows), less the few deleted among them."""
    rows = EMAILS.select(fn.COUNT(SQL("*"))).where(where)
    gone = EMAILS.select(fn.COUNT(SQL("*"))).where(where & deleted(EMAILS.id))
    query = Select(columns=[Expression(rows, "-", gone)]).bind(U._meta.database)
    return query.scalar() or 0


def count_users(term: str | None = None) -> int:
    """How many users match, counted as search_users counts them."""
    parts = filters.search_parts(term)
    base = live_user() if parts.filters is None else live_user() & parts.filters
    text = parts.text
    if text.surname is None and text.others() is None:
        return _count(base)
    total = 0 if text.surname is None else _count(base & text.surname)
    if text.others() is None:
        return total
    return total + _count_others(base, text, plain=parts.filters is None)


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
    """Two counts, less the deleted accounts (a few, found through their index). On SQLite an
    index answers the denied count; PostgreSQL scans for it, having no index on access_allowed
    so that allowing and denying update rows in place (db._update_access_in_place)."""
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
