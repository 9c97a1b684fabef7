"""The app's pooled connections: a worker thread takes the connection an earlier one gave back
(no new connection per query), and close_pool() closes them.

A TEMP table lives in one connection only, so whether a thread sees one made by another thread
says whether they had the same connection."""

from __future__ import annotations

import threading

import pytest
from app_helpers import settle
from user_rows import make_users

from extgw_tui.app import ExtgwApp
from extgw_tui.db import close_pool, open_database
from extgw_tui.models import database


def in_a_thread(fn):
    """fn() in a new thread inside its own connection context, as db_work runs a call."""
    result = {}

    def job() -> None:
        with database.connection_context():
            result["value"] = fn()

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()
    return result["value"]


def mark_connection() -> None:
    database.execute_sql("CREATE TEMP TABLE pool_marker (x INTEGER)")


def marked() -> bool:
    try:
        with database.atomic():
            database.execute_sql("SELECT count(*) FROM pool_marker")
    except Exception:  # no such table: another connection
        return False
    return True


@pytest.fixture(params=[False, True], ids=["one connection per thread", "pooled"])
def opened(request, db_url):
    handle = open_database(db_url, pooled=request.param)
    yield request.param
    close_pool(handle)
    handle.close()
    database.initialize(None)


def test_a_later_thread_takes_the_connection_an_earlier_one_gave_back(opened):
    in_a_thread(mark_connection)
    assert in_a_thread(marked) is opened  # pooled: the same connection; else a new one


def test_close_pool_closes_the_idle_connections(db_url):
    handle = open_database(db_url, pooled=True)
    try:
        in_a_thread(mark_connection)
        close_pool()
        assert in_a_thread(marked) is False  # a new connection
    finally:
        handle.close()
        database.initialize(None)


async def test_the_app_opens_its_database_pooled(db_url):
    """A bare ExtgwApp(url), as the school picker and the CLI open it: its workers share."""
    database.initialize(None)
    app = ExtgwApp(db_url=db_url)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app, typed=False)
            assert hasattr(database.obj, "close_idle")  # a peewee pool
            make_users(3)
            await pilot.press("ctrl+r")
            assert (await settle(pilot, app, typed=False)).total == 3
    finally:
        close_pool()
        database.initialize(None)
