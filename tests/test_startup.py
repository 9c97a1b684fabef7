"""Start-up: the first page of users is asked for once, the purge of deleted accounts runs after
it (benchmarks/probe_app.py times the start to the first rows on screen), and an up-to-date
PostgreSQL database opens with two catalogue reads, no DDL and no table lock."""

from __future__ import annotations

import gc
import logging
from datetime import timedelta

from app_helpers import messages, settle

from extgw_tui.app import ExtgwApp
from extgw_tui.db import open_database
from extgw_tui.models import ExternalUser, now
from extgw_tui.services.accounts import delete_users

U = ExternalUser


def make_users(count: int) -> list[int]:
    return [
        U.create(surname=f"Start{n:03d}", email=f"s{n}@example.org", password_hash="x").id
        for n in range(count)
    ]


def statements(caplog) -> list[str]:
    """Every SQL statement peewee ran (any thread), in order."""
    return [str(r.msg[0]) for r in caplog.records if r.name == "peewee" and type(r.msg) is tuple]


def first_page_queries(sql: list[str]) -> list[int]:
    return [i for i, s in enumerate(sql) if 'FROM "external_user"' in s and "OFFSET" in s]


async def settle_purge(pilot, app) -> None:
    """Settle, then once more if the purge (started after the first frame) is still going."""
    await settle(pilot, app)
    for _ in range(50):
        if not any(w.group == "purge" for w in app.workers):
            await pilot.pause()
            if not any(w.group == "purge" for w in app.workers):
                return
        await settle(pilot, app, typed=False)


async def test_the_first_page_is_asked_for_once(sqlite_db, caplog):
    make_users(3)
    caplog.set_level(logging.DEBUG, logger="peewee")
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle_purge(pilot, app)
        assert app.screen.query_one("#users-table").row_count == 3
    # showing the screen for the first time is not coming back to it: no second query
    assert len(first_page_queries(statements(caplog))) == 1


async def test_deleted_accounts_past_retention_are_purged_after_the_first_page(sqlite_db, caplog):
    ids = make_users(3)
    delete_users(ids[:2])
    U.update(deleted_at=now() - timedelta(days=40)).where(U.id == ids[0]).execute()
    caplog.set_level(logging.DEBUG, logger="peewee")
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle_purge(pilot, app)
        assert "Purged 1 account deleted more than 30 days ago, for good." in messages(app)
    assert U.get_or_none(U.id == ids[0]) is None
    assert U.get_by_id(ids[1]).deleted_at is not None  # deleted within the period: kept
    sql = statements(caplog)
    purge_started = next(i for i, s in enumerate(sql) if '"deleted_at" <' in s)
    assert first_page_queries(sql)[0] < purge_started


def test_an_up_to_date_postgres_database_opens_without_ddl_or_lock(postgres_url, caplog):
    from playhouse.db_url import connect

    open_database(postgres_url).close()  # made: tables, indexes, pg_trgm
    writer = connect(postgres_url)  # another admin, mid-change on the users table
    writer.connect()
    writer.execute_sql("BEGIN")
    writer.execute_sql("UPDATE external_user SET title = title WHERE id = 0")
    try:
        caplog.set_level(logging.DEBUG, logger="peewee")
        db = open_database(postgres_url)  # CREATE INDEX would wait for the writer's lock
        sql = statements(caplog)
        assert not [s for s in sql if "CREATE" in s or "advisory" in s]
        assert len(sql) == 2  # the catalogue, the schema version
    finally:
        writer.execute_sql("ROLLBACK")
        writer.close()
    db.execute_sql("DROP INDEX external_user_email_trigram")  # as an older release left it
    db.close()
    db = open_database(postgres_url)
    assert "external_user_email_trigram" in {i.name for i in db.get_indexes("external_user")}
    db.close()


async def test_what_start_up_made_is_frozen_once_the_first_rows_are_drawn(sqlite_db):
    """So a full garbage collection (a pause of the UI thread) walks only newer objects."""
    make_users(3)
    gc.unfreeze()
    app = ExtgwApp(db_url=sqlite_db.url)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle_purge(pilot, app)
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
