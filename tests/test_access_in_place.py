"""PostgreSQL: allowing and denying rewrite accounts in place (HOT updates), because no index
reads access_allowed and external_user's pages keep a tenth free (db._update_access_in_place):
the difference between ~1.3 s and ~0.3 s for 10,000 of 100,000 accounts. A change of more than
a tenth of one page's accounts at once spills to other pages, as before."""

from __future__ import annotations

from user_rows import make_users

from extgw_tui import db as dbmod
from extgw_tui.models import database
from extgw_tui.services import access, users


def _hot_updates() -> int:
    database.execute_sql("SELECT pg_stat_force_next_flush()")
    query = "SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'external_user'"
    return database.execute_sql(query).fetchone()[0]


def test_allow_and_deny_update_accounts_in_place(postgres_url) -> None:
    dbmod.open_database(postgres_url)
    try:
        indexes = "SELECT indexdef FROM pg_indexes WHERE tablename = 'external_user'"
        assert not [d for (d,) in database.execute_sql(indexes) if "(access_allowed)" in d]
        options = "SELECT reloptions FROM pg_class WHERE relname = 'external_user'"
        assert "fillfactor=90" in database.execute_sql(options).fetchone()[0]
        chosen = make_users(1_000)[::10]  # spread over the table, as a filter picks them
        before = _hot_updates()
        access.set_access(chosen, False)
        assert users.totals().denied == 100  # the denied total without the index
        access.set_access(chosen, True)
        assert _hot_updates() - before >= 190  # (nearly) every row of both changes in place
    finally:
        database.close()


def test_an_older_database_loses_the_index_on_open(postgres_url) -> None:
    dbmod.open_database(postgres_url)
    database.execute_sql(f"CREATE INDEX {dbmod.ACCESS_INDEX} ON external_user (access_allowed)")
    database.execute_sql("ALTER TABLE external_user RESET (fillfactor)")
    database.close()
    dbmod.open_database(postgres_url)
    try:
        assert (
            database.execute_sql(f"SELECT to_regclass('{dbmod.ACCESS_INDEX}')").fetchone()[0]
            is None
        )
        options = "SELECT reloptions FROM pg_class WHERE relname = 'external_user'"
        assert "fillfactor=90" in database.execute_sql(options).fetchone()[0]
    finally:
        database.close()
