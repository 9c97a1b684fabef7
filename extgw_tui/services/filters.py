"""The search box's language: free text that finds people, and filters, parsed into SQL.

Terms are combined with AND; a leading `-` negates one. Nothing is ever filtered in Python:
every term becomes part of one WHERE clause that the indexes serve. A term that cannot be
understood raises InvalidInput with one sentence naming it. HELP is what the `?` help shows.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import operator
import re
from calendar import monthrange
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import SQL, Expression, Field, fn

from extgw_tui import email_index
from extgw_tui.db import EMAIL_TRIGRAM, byte_ordered, has_email_trigram, is_sqlite
from extgw_tui.email_index import EMAILS
from extgw_tui.errors import InvalidInput
from extgw_tui.models import (
    ExternalUser,
    Licence,
    LicenceType,
    Pupil,
    licence_bit,
    name_key,
    now,
    text_key,
)

U = ExternalUser

#: (what to type, what it finds): the `?` help's lines for the search box.
HELP = (
    ("angela wright", "forename and surname, either order; one word: surname, forename, email"),
    ("gmail, ha", "3 or more characters: anywhere in email addresses; 1 or 2: their start"),
    ("o'brien, obrien", "apostrophes, hyphens, spaces and accents in names are ignored"),
    ("#4124, 4124", "the account with that ID (a bare number also finds it in email addresses)"),
    ("access:denied", "or access:allowed"),
    ('licence:"Parent/Guardian"', "holders of that licence type; licence:none, licence:any"),
    ("pupils:0", "how many pupils: pupils:2, pupils:>1, pupils:<3"),
    ("login:never", "login:>12m (none for over 12 months), login:<30d (within 30 days)"),
    ("created:<2023-05", "created:>=2024-01-15, created:2023"),
    ("adr:no", "or adr:yes"),
    ("year:7, form:7A", "holds a licence for a pupil in that year group or form"),
    ("id:4124,5521", "a list of IDs"),
    ("email:bouncing", "a mail server refused the address; email:hotmail: it contains hotmail"),
    ("-access:denied", "a leading - leaves out what a term matches; terms combine with AND"),
)

#: Longest search text used; longer input is cut (no name or address is this long).
MAX_TERM = 254

_NUMBER = re.compile(r"#?([0-9]{1,18})")
_COMPARE = re.compile(r"(<=|>=|<|>|=)?(.*)")
_AGE = re.compile(r"(\d{1,4})\s*([dwmy])")


def _like_literal(text: str) -> str:
    """`text` for a PostgreSQL LIKE pattern, its wildcards literal (backslash escapes there)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def prefix(field, key: str) -> Expression:
    """`field` (a casefolded key) starts with `key`: on SQLite a range on the binary-collated
    key (index-served, % and _ literal); on PostgreSQL a case-sensitive LIKE, which the
    pattern-ops index serves (peewee's startswith is an ILIKE, which no B-tree serves)."""
    if is_sqlite():
        return (field >= key) & (field < prefix_end(key))
    return Expression(field, "LIKE", _like_literal(key) + "%")


def prefix_end(key: str) -> str:
    """Where the range of keys starting with `key` ends (excluded), as prefix and
    walked_prefix compare with it."""
    if is_sqlite() or ord(key[-1]) == 0x10FFFF:
        return key + "\U0010ffff"
    return key[:-1] + chr(ord(key[-1]) + 1)


def walked_prefix(field, key: str) -> Expression:
    """prefix(), written so a plain B-tree on `field` (a sort or covering index) serves it as a
    range. On PostgreSQL LIKE uses only a pattern-ops index unless the collation is "C": the
    range alone where text is byte-ordered (db.byte_ordered), else the range and the LIKE."""
    if is_sqlite() or not key:
        return prefix(field, key)
    between = (field >= key) & (field < prefix_end(key))
    return between if byte_ordered() else between & prefix(field, key)


def outside_prefix(field, key: str) -> tuple[Expression, Expression] | None:
    """Who walked_prefix(field, key) leaves out, as the two ranges either side of it, so a walk
    of `field`'s index in order skips the prefix's rows instead of reading each; None where
    text is not byte-ordered (the prefix is then not one range)."""
    if not key or not (is_sqlite() or byte_ordered()):
        return None
    return field < key, field >= prefix_end(key)


def contains(field, key: str) -> Expression:
    """`field` (a casefolded key) contains `key`: on PostgreSQL a LIKE the trigram index serves
    (db.create_backend_indexes)."""
    if is_sqlite():
        return field.contains(key)
    return Expression(field, "LIKE", "%" + _like_literal(key) + "%")


def cleaned(text: str | None) -> str:
    """What was typed, trimmed and safe to bind (no NUL, no lone surrogates)."""
    if not text:
        return ""
    return text.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8").strip()


# ----- free text ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextParts:
    """Who the free text names, in parts a search can plan apart: `surname` (a prefix of the
    surname, which the surname sort's index walks in order), `names` (forenames, full names,
    an ID) and `email` (the address starts with or contains `email_key`). Any may be None;
    together they are OR-ed."""

    surname: Expression | None = None
    names: Expression | None = None
    email_key: str | None = None
    #: The address contains email_key (else: starts with it).
    inside: bool = False
    #: What `surname` is a prefix of surname_key for.
    surname_prefix: str | None = None
    #: PostgreSQL with the email table (email_index): the addresses containing email_key whose
    #: surname and names parts do not match, as a condition on that table.
    elsewhere: Expression | None = None

    @property
    def email(self) -> Expression | None:
        """The email part, index-served (a trigram index for "contains")."""
        if self.email_key is None:
            return None
        return (
            email_contains(self.email_key)
            if self.inside
            else walked_prefix(U.email_key, self.email_key)
        )

    def others(self, *, scan: bool = False) -> Expression | None:
        """Every part but the surname's. `scan`: written for a row-by-row check (a LIKE, not
        a lookup of the whole trigram index), for a walk that stops at a page's end."""
        email = self.email
        if scan and self.inside:
            email = contains(U.email_key, self.email_key)
        found = [part for part in (self.names, email) if part is not None]
        return functools.reduce(operator.or_, found) if found else None

    def either(self) -> Expression | None:
        found = [part for part in (self.surname, self.others()) if part is not None]
        return functools.reduce(operator.or_, found) if found else None


#: Shortest text an email address is searched *inside*; shorter text matches its start (one or
#: two letters are in most addresses: "s" would list two thirds of the school).
EMAIL_INSIDE_FROM = 3


def _email_part(key: str, **parts) -> TextParts:
    """TextParts with the address part of `key`: inside from EMAIL_INSIDE_FROM characters."""
    return TextParts(email_key=key, inside=len(key) >= EMAIL_INSIDE_FROM, **parts)


def email_table_served(key: str) -> bool:
    """Whether PostgreSQL's email table (email_index) finds addresses containing `key`."""
    return len(key) >= 3 and email_index.exists()


def trigram_served(key: str) -> bool:
    """Whether SQLite's trigram index finds addresses containing `key` (3 characters or more)."""
    return len(key) >= 3 and is_sqlite() and has_email_trigram()


def email_contains(key: str) -> Expression:
    """The address contains `key`: on SQLite from the FTS5 trigram index when there is one and
    the key is long enough to have a trigram (db.EMAIL_TRIGRAM), else contains()."""
    if not trigram_served(key):
        return contains(U.email_key, key)
    return Expression(U.id, "IN", SQL(f"(SELECT rowid {_TRIGRAM_MATCH})", [trigram_phrase(key)]))


_TRIGRAM_MATCH = f"FROM {EMAIL_TRIGRAM} WHERE {EMAIL_TRIGRAM} MATCH ?"


def trigram_phrase(key: str) -> str:
    """`key` as an FTS5 phrase of trigrams: the exact substring."""
    return '"' + key.replace('"', '""') + '"'


def count_email_containing(key: str) -> int:
    """How many accounts (deleted ones too) have an address containing `key` (of at least 3
    characters), from the SQLite trigram index alone: no row is read."""
    return U._meta.database.execute_sql(
        f"SELECT count(*) {_TRIGRAM_MATCH}", [trigram_phrase(key)]
    ).fetchone()[0]


def text_parts(text: str) -> TextParts:
    """Who the free text names: see the module docstring."""
    parts = _text_parts(text, U)
    if not parts.inside or not email_table_served(parts.email_key):
        return parts
    # the same parts on the email table's columns, to leave out there who they find
    there = _text_parts(text, EMAILS)
    found = [contains(EMAILS.email_key, parts.email_key)]
    found += [~part for part in (there.surname, there.names) if part is not None]
    return dataclasses.replace(parts, elsewhere=functools.reduce(operator.and_, found))


def _text_parts(text: str, on) -> TextParts:
    """text_parts on the columns of `on` (ExternalUser or email_index.EMAILS)."""
    text = cleaned(text)[:MAX_TERM]
    if not text:
        return TextParts()
    number = _NUMBER.fullmatch(text)
    if number:
        by_id = on.id == int(number.group(1))
        return TextParts(names=by_id) if text.startswith("#") else _email_part(text, names=by_id)
    words = text.split()
    whole = name_key(text)
    email = text_key(text)
    if not whole:  # only punctuation ("'", "@"): in no name, so anywhere in an address
        return TextParts(email_key=email, inside=True)
    surname = walked_prefix(on.surname_key, whole)
    names = names_condition(
        words, whole, on.forename_key, on.surname_key, walked_prefix, own_surname=False
    )
    if len(words) > 1:
        return TextParts(surname=surname, names=names, surname_prefix=whole)
    return _email_part(email, surname=surname, names=names, surname_prefix=whole)


def text_condition(text: str) -> Expression | None:
    """Who the free text names (text_parts, OR-ed); None for no text."""
    return text_parts(text).either()


def names_condition(
    words: list[str],
    whole: str,
    forename_key: Field,
    surname_key: Field,
    match: Callable[[Field, str], Expression] = prefix,
    *,
    own_surname: bool = True,
) -> Expression:
    """Surname or forename starting with `whole` (the folded text), or the words split in two
    as forename + surname either way round: "anna smith" and "smith anna" both find her.
    own_surname False leaves out the surname's own prefix (TextParts.surname holds it)."""
    condition = match(forename_key, whole)
    if own_surname:
        condition = match(surname_key, whole) | condition
    for cut in range(1, len(words)):
        first, rest = name_key(" ".join(words[:cut])), name_key(" ".join(words[cut:]))
        if first and rest:
            condition |= match(forename_key, first) & match(surname_key, rest)
            condition |= match(surname_key, first) & match(forename_key, rest)
    return condition


# ----- filters -------------------------------------------------------------------------------


def _choice(name: str, value: str, choices: dict[str, Expression]) -> Expression:
    found = choices.get(value.lower())
    if found is None:
        raise InvalidInput(f"{name}: takes {' or '.join(choices)}, not {value!r}.")
    return found


def _access(value: str) -> Expression:
    return _choice("access", value, {"allowed": U.access_allowed, "denied": ~U.access_allowed})


def _adr(value: str) -> Expression:
    return _choice("adr", value, {"yes": U.adr, "no": ~U.adr})


def _holds(condition: Expression | None) -> Expression:
    """The account holds a licence (for a pupil) matching `condition`."""
    query = Licence.select(Licence.user).join(Pupil)
    return U.id.in_(query.where(condition) if condition is not None else query)


def _licence(value: str) -> Expression:
    low = value.lower()
    if low in ("none", "any"):
        return _holds_none() if low == "none" else ~_holds_none()
    types = dict(LicenceType.select(LicenceType.name, LicenceType.id).tuples())
    by_lower = {name.lower(): type_id for name, type_id in types.items()}
    if low not in by_lower:
        known = ", ".join(f'"{name}"' for name in sorted(types))
        raise InvalidInput(
            f"licence: there is no licence type called {value!r}; the types are {known} "
            "(or none, any)."
        )
    return U.licence_mask.bin_and(licence_bit(by_lower[low])) != 0


def _holds_none() -> Expression:
    """The account holds no licence: its licence_mask (kept by triggers on licence) is empty.
    Not "id NOT IN (every licence's user)", which PostgreSQL cannot make an anti-join: past
    the memory for hashing the list it checks each account against all of it (a million
    accounts: stopped by the statement timeout after five minutes)."""
    return U.licence_mask == 0


def _compare(name: str, value: str) -> tuple[str, str]:
    operator, rest = _COMPARE.fullmatch(value.strip()).groups()
    if not rest:
        raise InvalidInput(f"{name}: needs a value after {operator or ':'}.")
    return operator or "=", rest.strip()


def _pupils(value: str) -> Expression:
    operator, rest = _compare("pupils", value)
    if not rest.isdigit():
        raise InvalidInput(f"pupils: takes a number, e.g. pupils:0 or pupils:>1, not {value!r}.")
    n = int(rest)
    if operator == "=" and n == 0:
        return _holds_none()
    # each account's own count, from the licence index: a page of them is read at once, where
    # "id IN (every account's count, grouped)" grouped two million licences first
    held = Licence.select(fn.COUNT(fn.DISTINCT(Licence.pupil))).where(Licence.user == U.id)
    return Expression(held, operator, n)


def _age(name: str, text: str) -> timedelta:
    match = _AGE.fullmatch(text.strip().lower())
    if not match:
        raise InvalidInput(
            f"{name}: takes an age like 30d, 6w, 12m or 2y (days, weeks, months, years), "
            f"not {text!r}."
        )
    count, unit = int(match.group(1)), match.group(2)
    return timedelta(days=count * {"d": 1, "w": 7, "m": 30.4375, "y": 365.25}[unit])


def _login(value: str) -> Expression:
    if value.lower() == "never":
        return U.last_login_at.is_null()
    operator, rest = _compare("login", value)
    if operator not in ("<", ">"):
        raise InvalidInput(
            "login: takes never, >AGE (no login for longer) or <AGE (logged in within), "
            f"e.g. login:>12m, not {value!r}."
        )
    since = now() - _age("login", rest)
    if operator == ">":
        return U.last_login_at.is_null(False) & (U.last_login_at < since)
    return U.last_login_at >= since


def _period(name: str, text: str) -> tuple[datetime, datetime]:
    """[start, end) of YYYY, YYYY-MM or YYYY-MM-DD."""
    try:
        parts = [int(p) for p in text.split("-")]
        if len(parts) == 1:
            return datetime(parts[0], 1, 1), datetime(parts[0] + 1, 1, 1)
        if len(parts) == 2:
            year, month = parts
            start = datetime(year, month, 1)
            return start, start + timedelta(days=monthrange(year, month)[1])
        if len(parts) == 3:
            start = datetime(*parts)
            return start, start + timedelta(days=1)
    except ValueError:
        pass
    raise InvalidInput(f"{name}: takes a date like 2023, 2023-05 or 2023-05-14, not {text!r}.")


def _created(value: str) -> Expression:
    operator, rest = _compare("created", value)
    start, end = _period("created", rest)
    return {
        "=": (U.created_at >= start) & (U.created_at < end),
        "<": U.created_at < start,
        "<=": U.created_at < end,
        ">": U.created_at >= end,
        ">=": U.created_at >= start,
    }[operator]


def _year(value: str) -> Expression:
    if not value.isdigit() or not 0 <= int(value) <= 14:
        raise InvalidInput(f"year: takes a year group from 0 (Reception) to 14, not {value!r}.")
    return _holds(Pupil.year_group == int(value))


def _form(value: str) -> Expression:
    return _holds(Pupil.form.in_(sorted({value, value.upper()})))  # as typed, or 7a for 7A


def _ids(value: str) -> Expression:
    ids = [part.strip().lstrip("#") for part in value.split(",") if part.strip()]
    if not ids or not all(part.isdigit() and len(part) <= 18 for part in ids):
        raise InvalidInput("id: takes account IDs separated by commas, e.g. id:4124,5521.")
    return U.id.in_([int(part) for part in ids])


def _email(value: str) -> Expression:
    if value.lower() == "bouncing":
        # imported here: mail brings email_validator and smtplib, a tenth of the app's start-up
        from extgw_tui.services import mail

        return mail.bouncing()
    return email_contains(text_key(value)[:MAX_TERM])


FILTERS: dict[str, Callable[[str], Expression]] = {
    "access": _access,
    "licence": _licence,
    "pupils": _pupils,
    "login": _login,
    "created": _created,
    "adr": _adr,
    "year": _year,
    "form": _form,
    "id": _ids,
    "email": _email,
}
ALIASES = {"license": "licence", "ids": "id", "pupil": "pupils"}


def _filter(key: str, value: str) -> Expression:
    name = ALIASES.get(key.lower(), key.lower())
    build = FILTERS.get(name)
    if build is None:
        near = difflib.get_close_matches(name, FILTERS, n=1)
        hint = f" (did you mean {near[0]}:?)" if near else ""
        raise InvalidInput(
            f"There is no filter {key}:{hint}; the filters are "
            f"{', '.join(f'{k}:' for k in FILTERS)}."
        )
    if not value.strip():
        raise InvalidInput(f"{name}: needs a value, e.g. {EXAMPLES[name]}.")
    return build(value.strip())


EXAMPLES = {
    "access": "access:denied",
    "licence": 'licence:"Parent/Guardian"',
    "pupils": "pupils:0",
    "login": "login:>12m",
    "created": "created:<2023-05",
    "adr": "adr:no",
    "year": "year:7",
    "form": "form:7A",
    "id": "id:4124,5521",
    "email": "email:bouncing",
}

_FILTER_TOKEN = re.compile(r"(-?)([A-Za-z]+):(.*)", re.S)
_QUOTED_FILTER = re.compile(r'-?[A-Za-z]+:"')


def tokens(text: str) -> list[str]:
    """`text` split at white space, except in a filter's quoted value (licence:"Parent Guardian"),
    whose quotes go. Quotes anywhere else are literal: they may be part of a name."""
    result: list[str] = []
    rest = text.strip()
    while rest:
        if _QUOTED_FILTER.match(rest):
            opening = rest.index('"')
            closing = rest.find('"', opening + 1)
            if closing < 0:
                raise InvalidInput(
                    f'A quotation mark is not closed in {rest!r}: add the closing ".'
                )
            result.append(rest[:opening] + rest[opening + 1 : closing])
            rest = rest[closing + 1 :].lstrip()
            continue
        word, _, rest = rest.partition(" ") if " " in rest else (rest, "", "")
        parts = word.split()  # other white space (tabs, new lines) separates too
        result.extend(parts)
        rest = rest.lstrip()
    return result


@dataclass(frozen=True, slots=True)
class SearchParts:
    """What was typed, parsed: the free text's parts and the filters (ANDed to them)."""

    text: TextParts
    filters: Expression | None

    def condition(self) -> Expression | None:
        return all_of([self.text.either(), self.filters])


def search_parts(text: str | None) -> SearchParts:
    """The search box's text parsed (search_condition says what it finds)."""
    text = cleaned(text)
    words: list[str] = []
    parts: list[Expression] = []
    for token in tokens(text):
        match = _FILTER_TOKEN.fullmatch(token)
        if match:
            negate, key, value = match.groups()
            condition = _filter(key, value)
            parts.append(~condition if negate else condition)
        elif token.startswith("-") and len(token) > 1:
            condition = text_condition(token[1:])
            if condition is not None:
                parts.append(~condition)
        else:
            words.append(token)
    return SearchParts(text_parts(" ".join(words)), all_of(parts))


def search_condition(text: str | None) -> Expression | None:
    """The WHERE of what was typed in the search box (free text and filters), None for nothing.

    Raises InvalidInput, with one sentence naming the term, for what cannot be understood.
    """
    return search_parts(text).condition()


def all_of(parts: Iterable[Expression | None]) -> Expression | None:
    """The conditions ANDed in their order, the Nones left out; None when none is left."""
    found = [part for part in parts if part is not None]
    return functools.reduce(operator.and_, found) if found else None


def check(text: str | None) -> str | None:
    """The sentence explaining why `text` cannot be searched, or None when it can (cheap: at
    most the licence types are read)."""
    try:
        search_condition(text)
    except InvalidInput as problem:
        return str(problem)
    return None
