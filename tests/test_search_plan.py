"""search_users plans free text in parts (surname prefix, the others sorted or walked) and
counts on the way, or leaves the count of a common term to count_users; whatever the plan,
the page and the total must be exactly what one plain WHERE ... ORDER BY ... OFFSET ... LIMIT
over the whole condition gives, on both backends.

The users are made so terms fall on either side of the threshold (users.few_limit),
and hits people by surname, forename, address, several at once, and deleted accounts.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pytest

from extgw_tui import db as dbmod
from extgw_tui.models import ExternalUser, database, live_user, name_key, now, text_key
from extgw_tui.services import filters, users

U = ExternalUser

SURNAMES = ["Newman", "Thompson", "Abbott", "Zeller", "Gmailson"]
FORENAMES = ["Thomas", "Anna", "Newton", "Zoe"]
DOMAINS = ["gmail.example", "newmail.example", "gmail.example"]
TERMS = ["newm", "thom", "gmail", "z", "th", "new", "zoe zeller", "#7", "7", "'", "mail"]


def _row(surname: str, forename: str, email: str, **more) -> dict:
    """An account's columns, with the search keys the model derives."""
    keys = {"forename_key": name_key(forename), "surname_key": name_key(surname)}
    row = {"forename": forename, "surname": surname, "email": email, "password_hash": "x"}
    return row | keys | {"email_key": text_key(email)} | more


def _insert(rows: list[dict]) -> None:
    with database.atomic():
        for part in range(0, len(rows), 500):
            U.insert_many(rows[part : part + 500]).execute()


def _people(count: int) -> None:
    """`count` users: names and domains cycle at different rates, so every combination of
    surname, forename and address match occurs; a few are soft-deleted."""
    start = datetime(2024, 1, 1)
    rows = []
    for i in range(count):
        forename, surname = FORENAMES[i % 4], SURNAMES[i % 5]
        email = f"p{i}.{SURNAMES[(i // 5) % 5].lower()}@{DOMAINS[i % 3]}"
        last_login = None if i % 7 == 0 else start + timedelta(days=i % 300)
        row = _row(surname, forename, email, title="Mr", last_login_at=last_login)
        rows.append(row | {"created_at": start + timedelta(minutes=i)})
    _insert(rows)
    every_97th = U.id - (U.id / 97) * 97 == 0  # not U.id % 97: peewee's % is LIKE
    U.update(deleted_at=now()).where(every_97th).execute()


def _plain(term: str, sort: str, descending: bool, offset: int, limit: int) -> list[int]:
    """The page as one plain query gives it: the oracle."""
    condition = filters.search_condition(term)
    where = live_user() if condition is None else live_user() & condition
    order = [users._ordered(field, descending) for field in users.SORTS[sort]]
    query = U.select(U.id).where(where).order_by(*order).offset(offset).limit(limit)
    return [row[0] for row in query.tuples()]


def _plain_count(term: str) -> int:
    condition = filters.search_condition(term)
    return U.select().where(live_user() & condition).count()


def _total(page: users.Window, term: str) -> int:
    """The page's total, or when it came back uncounted, count_users's (as the table asks)."""
    return users.count_users(term) if page.total is None else page.total


@pytest.mark.parametrize("term", TERMS)
def test_every_plan_gives_the_plain_page_and_total(db, term: str) -> None:
    _people(users.FEW * 2 + 300)
    expected_total = _plain_count(term)
    for sort in ("surname", "forename", "email", "created", "last_login"):
        for descending in (False, True):
            for offset in (0, 37, expected_total - 5):
                offset = max(offset, 0)
                page = users.search_users(
                    term, sort=sort, descending=descending, offset=offset, limit=40
                )
                assert [row.id for row in page] == _plain(term, sort, descending, offset, 40), (
                    term,
                    sort,
                    descending,
                    offset,
                )
                assert _total(page, term) == expected_total
    assert users.count_users(term) == expected_total


def test_the_terms_cross_the_threshold_both_ways(db) -> None:
    """Else the test above would check only one of the plans."""
    _people(users.FEW * 2 + 300)
    others = {}
    for term in ("gmail", "newm"):
        parts = filters.search_parts(term)
        others[term] = users._count_others(live_user(), parts.text, plain=True)
    assert others["gmail"] > users.few_limit(40) >= others["newm"] > 0


def test_the_walk_by_surname_skips_the_prefix_in_two_ranges_that_leave_out_exactly_it(db):
    """outside_prefix is exactly who walked_prefix leaves out; the walked others part uses it
    for "gmail" here (so the first test checks the two walks' pages)."""
    keys = ["gm", "gmai", "gmail", "gmailson", "gmail\U0010ffffx", "gmaim", "h", "t", "th"]
    keys += ["thz", "ti", "tg", "y", "z", "zz", "\U0010ffff"]
    for key in keys:
        U.create(surname=key, surname_key=key, email=f"{len(key)}.{key}@x", password_hash="x")
    every = {row.id for row in U.select(U.id)}
    for key in ("gmail", "th", "z", "gm"):
        inside = {row.id for row in U.select(U.id).where(filters.walked_prefix(U.surname_key, key))}
        before, after = (
            {row.id for row in U.select(U.id).where(side)}
            for side in filters.outside_prefix(U.surname_key, key)
        )
        assert before | after == every - inside and not before & after, key
    _people(users.FEW * 2 + 300)
    text = filters.search_parts("gmail").text
    parts = users._others_parts(live_user(), text, users.SORTS["surname"], False, 40, False, True)
    assert len(parts) == 2


def test_short_text_matches_the_start_of_an_address_and_longer_text_anywhere(db) -> None:
    U.create(surname="Able", forename="Ann", email="zed@one.example", password_hash="x")
    U.create(surname="Baker", forename="Bob", email="one.zed@two.example", password_hash="x")
    assert {row.surname for row in users.search_users("ze")} == {"Able"}
    assert {row.surname for row in users.search_users("zed")} == {"Able", "Baker"}


def _trigram_present(url: str) -> bool:
    path = dbmod.sqlite_path(url)
    with sqlite3.connect(path) as conn:
        query = "SELECT count(*) FROM sqlite_master WHERE name LIKE 'external_user_email_trigram%'"
        return conn.execute(query).fetchone()[0] > 0


def test_sqlite_trigram_index_follows_every_change(sqlite_db) -> None:
    """Triggers keep the FTS5 index in step: a new address, a changed one, a removed account."""
    assert dbmod.has_email_trigram()
    user = U.create(surname="Able", email="first.quokka@one.example", password_hash="x")
    assert users.count_users("quokka") == 1
    U.update(email="first.wombat@one.example", email_key="first.wombat@one.example").where(
        U.id == user.id
    ).execute()
    assert users.count_users("quokka") == 0
    assert [row.id for row in users.search_users("wombat")] == [user.id]
    U.delete().where(U.id == user.id).execute()
    assert users.count_users("wombat") == 0
    assert users.search_users("wombat") == []


def test_a_sqlite_file_without_the_trigram_index_gains_it_on_open(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    dbmod.open_database(url)
    U.create(surname="Able", email="a.quokka@one.example", password_hash="x")
    database.close()
    with sqlite3.connect(dbmod.sqlite_path(url)) as conn:  # as a file made before the index
        conn.execute(f"DROP TABLE {dbmod.EMAIL_TRIGRAM}")
        for suffix in ("insert", "delete", "update"):
            conn.execute(f"DROP TRIGGER {dbmod.EMAIL_TRIGRAM}_{suffix}")
    assert not _trigram_present(url)
    dbmod.open_database(url)
    try:
        assert _trigram_present(url)
        assert users.count_users("quokka") == 1  # the addresses already there are indexed
    finally:
        database.close()


def _clustered() -> None:
    """What "ones" finds: two named Onesimus (by forename; Aaron first by surname and id),
    then 3,000 Adamses in every order, five Boneses, 2,100 Joneses (forenames whose order
    differs from their keys': "Émile" sorts after "Zoe", its key "emile" before "zoe"; four
    deleted; Onesta, found by forename, first of them) and forty Stoneses."""
    people = [("Aaron", "Onesimus", "onesimus@z.example"), ("Zed", "Onesimus", "o.z@z.example")]
    people += [("Adams", f"Al{i}", f"a{i:05d}@adams.example") for i in range(3_000)]
    people += [("Bones", "Bo", f"bones{i}@x.example") for i in range(5)]
    forenames = ["Émile", "emma", "Zoe", "anna", "Øyvind"]
    people += [
        ("Jones", forenames[i % 5], f"{forenames[i % 5][0].lower()}.jones{i}@y.example")
        for i in range(2_100)
    ]
    people.append(("Jones", "Onesta", "onesta.jones@y.example"))  # first of them; by forename
    people += [("Stones", "Sam", f"sam.stones{i}@z.example") for i in range(40)]
    _insert([_row(*person) for person in people])
    gone = [f"{forenames[i % 5][0].lower()}.jones{i}@y.example" for i in (7, 70, 700, 2_000)]
    assert U.update(deleted_at=now()).where(U.email.in_(gone)).execute() == 4


def test_matches_that_cluster_late_in_the_order_give_the_plain_page(db) -> None:
    """Searching "ones" finds more than few_limit besides any surname match, nearly all of
    them Joneses after 3,000 Adamses: on PostgreSQL the walk gives up at its budget (checked
    here, else this test would not reach the email table's path) and the email table orders
    the address part, the ties at its last surname walked by forename. Every page is the
    plain one."""
    _clustered()
    parts = filters.search_parts("ones")
    found = users._count_others(live_user(), parts.text, plain=True)
    assert found > users.few_limit(77)
    if parts.text.elsewhere is not None:
        budget = users.WALK_MARGIN * 40 * users._newest_id() // found + 1_000
        walked = users._others(live_user(), parts.text, scan=True)
        assert len(users._walk_ids(walked, users.SORTS["surname"], False, 40, budget)) < 40
    total = _plain_count("ones")
    for sort in ("surname", "email", "id"):
        for descending in (False, True):
            for offset in (0, 37):
                page = users.search_users(
                    "ones", sort=sort, descending=descending, offset=offset, limit=40
                )
                expected = _plain("ones", sort, descending, offset, 40)
                assert [row.id for row in page] == expected, (sort, descending, offset)
                assert _total(page, "ones") == total


def test_a_common_term_shows_its_rows_before_its_count(db) -> None:
    """On PostgreSQL, "gmail" (two addresses in three) finds its page in the first entries of
    the surname order and comes back uncounted: the table shows the rows while count_users
    counts. A rare term ("#7"), another sort, or SQLite (whose counts are quick) count on the
    way."""
    _people(users.FEW * 2 + 300)
    common = users.search_users("gmail", limit=40)
    assert [row.id for row in common] == _plain("gmail", "surname", False, 0, 40)
    assert common.total == (_plain_count("gmail") if dbmod.is_sqlite() else None)
    assert users.count_users("gmail") == _plain_count("gmail")
    assert users.search_users("gmail", sort="email", limit=40).total == _plain_count("gmail")
    assert users.search_users("#7", limit=40).total == 1


def _spread_and_cluster() -> None:
    """6,000 accounts, one surname each in id order: "spreadhit" in every 100th address, so
    a first walk of 1,000 entries finds 10 and a second must go 4,000 in for a page of 40;
    "clusterhit" in two of the first 1,000 and then in 60 together at the end."""
    rows = []
    for i in range(6_000):
        tags = []
        if i % 100 == 50:
            tags.append("spreadhit")
        if i in (10, 20) or i >= 5_940:
            tags.append("clusterhit")
        rows.append(_row(f"Name{i:05d}", "Pat", f"{'.'.join(tags) or 'p'}{i}@x.example"))
    _insert(rows)


@pytest.mark.parametrize(
    ("term", "share", "uncounted"),
    [("spreadhit", 2.0, True), ("clusterhit", 2.0, False), ("spreadhit", None, False)],
)
def test_a_second_walk_goes_as_far_as_the_first_ones_matches_say(
    db, monkeypatch, term, share, uncounted
) -> None:
    """On PostgreSQL a term too sparse for the first walk's 1,000 entries, but spread evenly
    through them, is walked again as far as twice its rate says the page needs (8,000
    entries), and comes back uncounted; a term with too few matches there to trust (a cluster
    later on) is counted on the way, as is any term where the second walk would read more
    than EARLY_SHARE of the accounts (at 6,000 accounts, 240 entries: so the first two cases
    allow twice the accounts). Either way the page is the plain one, on both backends."""
    if share is not None:
        monkeypatch.setattr(users, "EARLY_SHARE", share)
    _spread_and_cluster()
    page = users.search_users(term, limit=40)
    assert [row.id for row in page] == _plain(term, "surname", False, 0, 40)
    counted = _plain_count(term)
    assert page.total == (None if uncounted and not dbmod.is_sqlite() else counted)
    assert users.count_users(term) == counted


@pytest.mark.parametrize("term", [None, "gmail", "th"])
def test_every_sort_read_backwards_is_the_same_rows(db, term) -> None:
    """The users screen reads a window past the middle from the far end (PagedTable's
    reversible source): so the last rows of every sort, read in the reversed order and
    turned round, must be exactly the rows read forward, with NULLs (never logged in) and
    ties (the same title, surname, last login) in between."""
    _people(users.FEW * 2 + 300)
    total = users.count_users(term)
    for sort in users.SORTS:
        for descending in (False, True):
            forward = users.search_users(
                term, sort=sort, descending=descending, offset=total - 40, limit=40
            )
            back = users.search_users(term, sort=sort, descending=not descending, limit=40)
            assert [row.id for row in back][::-1] == [row.id for row in forward], (sort, descending)
