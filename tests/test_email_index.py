"""PostgreSQL's email table (extgw_tui/email_index.py): kept in step with every change, made
for a database opened from before it, and what the address searches read."""

from __future__ import annotations

import pytest

from extgw_tui import db as dbmod
from extgw_tui import email_index
from extgw_tui.email_index import EMAILS
from extgw_tui.models import ExternalUser as U
from extgw_tui.models import database, now
from extgw_tui.services import filters, users
from tests.conftest import open_database_raw


def _user(surname: str, forename: str, email: str) -> U:
    return U.create(surname=surname, forename=forename, email=email, password_hash="x")


def _copied() -> set[tuple]:
    rows = database.execute_sql(f"SELECT {email_index._KEYS} FROM {email_index.NAME}")
    return set(rows.fetchall())


def _keys() -> set[tuple]:
    query = U.select(U.id, U.email_key, U.surname_key, U.forename_key)
    return set(query.tuples())


def test_the_table_follows_every_change_to_an_account(postgres_url) -> None:
    dbmod.open_database(postgres_url)
    try:
        assert email_index.exists()
        able = _user("Able", "Ann", "ann.quokka@one.example")
        baker = _user("Baker", "Bob", "bob@two.example")
        assert _copied() == _keys()
        U.update(email="ann.wombat@one.example", email_key="ann.wombat@one.example").where(
            U.id == able.id
        ).execute()
        U.update(surname="Quokka", surname_key="quokka").where(U.id == baker.id).execute()
        U.update(access_allowed=False, last_login_at=now()).where(U.id == baker.id).execute()
        assert _copied() == _keys()
        assert users.count_users("quokka") == 1  # Baker by surname; Ann's address changed
        assert [row.id for row in users.search_users("wombat")] == [able.id]
        U.delete().where(U.id == able.id).execute()
        assert _copied() == _keys()
        assert users.search_users("wombat") == []
        database.execute_sql("TRUNCATE external_user CASCADE")
        assert _copied() == set()
    finally:
        database.close()


@pytest.mark.parametrize("few", [4, users.FEW])
def test_address_searches_leave_out_the_surname_and_forename_matches_there(
    postgres_url, few, monkeypatch
) -> None:
    """Who the email part adds is found in the narrow table: not the Smiths (the surname part
    has them), not the forename matches (the names part), and never a deleted account; with
    more Smiths than FEW (4) the part's ids are read once (users._listed_elsewhere), with
    fewer (FEW as shipped) it is counted and sorted from the indexes."""
    monkeypatch.setattr(users, "FEW", few)
    dbmod.open_database(postgres_url)
    try:
        smiths = [_user("Smith", "Ann", f"ann.smith{i}@one.example") for i in range(5)]
        smithy = _user("Jones", "Smithy", "smithy@two.example")
        others = [_user("Brown", "Cat", f"blacksmith{i}@three.example") for i in range(3)]
        gone = _user("Green", "Dan", "goldsmith@four.example")
        U.update(deleted_at=now()).where(U.id == gone.id).execute()
        parts = filters.search_parts("smith").text
        assert parts.elsewhere is not None
        found = EMAILS.select(EMAILS.id).where(parts.elsewhere).bind(database.obj)
        assert {row[0] for row in found.tuples()} == {user.id for user in others} | {gone.id}
        assert users.count_users("smith") == len(smiths) + 1 + len(others)
        listed, counted = users._listed_elsewhere(parts)
        assert sorted(listed) == [user.id for user in others] and counted == 3  # live
        window = users.search_users("smith", sort="id")
        assert [row.id for row in window] == sorted(user.id for user in [*smiths, smithy, *others])
        assert window.total == 9
        assert users.count_users("smith adr:yes") == 9  # with a filter: counted on the join
        for nobody in ("@@@", "zzyzx"):  # an email part, or every part, that finds nobody
            window = users.search_users(nobody)
            assert (window, window.total, users.count_users(nobody)) == ([], 0, 0)
        others += [_user("Brown", "Cat", f"farriersmith{i}@five.example") for i in range(3)]
        # six: past FEW (4) they are counted in the listing's scan, not listed
        listed, counted = users._listed_elsewhere(parts)
        assert counted == 6
        assert listed is None if few == 4 else sorted(listed) == [user.id for user in others]
        window = users.search_users("smith", sort="id")
        assert [row.id for row in window] == sorted(user.id for user in [*smiths, smithy, *others])
        assert window.total == users.count_users("smith") == 12
    finally:
        database.close()


def test_a_database_from_before_the_table_gains_it_on_open(postgres_url) -> None:
    dbmod.open_database(postgres_url)
    _user("Able", "Ann", "ann.quokka@one.example")
    database.close()
    raw = open_database_raw(postgres_url)  # as a database made by the last release
    assert email_index.drop(raw)
    raw.close()
    dbmod.open_database(postgres_url)
    try:
        assert email_index.exists()
        assert _copied() == _keys()  # the accounts already there are in it
        assert users.count_users("quokka") == 1
    finally:
        database.close()


def test_the_table_is_filled_in_surname_order(postgres_url) -> None:
    """So that the many rows of a surname's fragment ("smith") share pages: made when the
    accounts are already there (a database from before it, a bulk load), the table holds
    them in surname order whatever order they were added in."""
    dbmod.open_database(postgres_url)
    names = ("Young", "Adams", "Morris", "Baker", "Adams", "Zeller", "Carter")
    for i, name in enumerate(names):
        _user(name, "Pat", f"pat{i}.{name.lower()}@one.example")
    assert email_index.drop(database.obj)
    email_index.create(database.obj)
    try:
        stored = database.execute_sql(f"SELECT surname_key FROM {email_index.NAME} ORDER BY ctid")
        surnames = [row[0] for row in stored.fetchall()]
        assert surnames == sorted(surnames) and len(surnames) == 7
        assert _copied() == _keys()
    finally:
        database.close()


def test_sqlite_has_no_email_table(sqlite_db) -> None:
    assert not email_index.exists()
    assert filters.search_parts("smith").text.elsewhere is None
