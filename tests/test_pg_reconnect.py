"""A PostgreSQL server that goes away: restarted or stopped under a running app and command.

The next action reconnects, or says in one sentence that the server cannot be reached; work
caught in the middle is rolled back whole."""

from __future__ import annotations

import peewee
import pytest
from app_helpers import messages, settle
from pg_cluster import pg_cluster  # noqa: F401  (the fixture)
from user_rows import make_users

from extgw_tui.app import ExtgwApp
from extgw_tui.cli import main
from extgw_tui.db import close_pool, describe, open_database
from extgw_tui.models import ExternalUser, database
from extgw_tui.services import users

UNREACHABLE = "The database server cannot be reached."


@pytest.fixture(params=[False, True], ids=["one connection per thread", "pooled (the app)"])
def pg_db(request, pg_cluster):  # noqa: F811
    """The cluster's database opened as the CLI opens it, and as the app does: with a pool,
    whose idle connections all die with the server."""
    handle = open_database(pg_cluster.url, pooled=request.param)
    yield pg_cluster
    close_pool(handle)
    handle.close()
    database.initialize(None)


def test_a_restart_between_actions_goes_unnoticed(pg_db):
    make_users(5)
    assert users.count_users() == 5
    pg_db.restart()
    assert users.count_users() == 5  # the dead connection was replaced
    ExternalUser.create(surname="After", email="after@example.org", password_hash="x")
    assert users.count_users() == 6


def test_a_restart_inside_a_change_rolls_it_back_and_the_next_action_works(pg_db):
    with pytest.raises(peewee.DatabaseError) as caught, database.atomic():
        ExternalUser.create(surname="Half", email="half@example.org", password_hash="x")
        pg_db.restart()
        ExternalUser.create(surname="Done", email="done@example.org", password_hash="x")
    assert describe(caught.value) == UNREACHABLE
    assert users.count_users() == 0  # nothing half-done
    ExternalUser.create(surname="Again", email="again@example.org", password_hash="x")
    assert users.count_users() == 1


def test_a_stopped_server_is_one_sentence_until_it_is_back(pg_db):
    make_users(3)
    pg_db.stop()
    with pytest.raises(peewee.DatabaseError) as caught:
        users.count_users()
    assert describe(caught.value) == UNREACHABLE
    pg_db.start()
    assert users.count_users() == 3


def test_the_command_line_says_one_sentence_when_the_server_is_down(pg_cluster, capsys):  # noqa: F811
    open_database(pg_cluster.url)
    database.close()
    pg_cluster.stop()
    assert main(["--db", pg_cluster.url, "stats"]) == 2
    err = capsys.readouterr().err
    assert "cannot be reached" in err and "Traceback" not in err
    pg_cluster.start()
    assert main(["--db", pg_cluster.url, "stats"]) == 0
    database.close()


async def test_the_app_carries_on_after_a_restart_and_after_an_outage(pg_db):
    make_users(30)
    app = ExtgwApp(db_url=pg_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app, typed=False)
        assert table.total == 30
        pg_db.restart()
        ExternalUser.delete().where(ExternalUser.id == ExternalUser.select().first().id).execute()
        await pilot.press("ctrl+r")
        table = await settle(pilot, app, typed=False)
        assert table.total == 29 and not messages(app)
        pg_db.stop()
        await pilot.press("ctrl+r")
        await settle(pilot, app, typed=False)
        assert any("cannot be reached" in m for m in messages(app))
        pg_db.start()
        await pilot.press("ctrl+r")
        table = await settle(pilot, app, typed=False)
        assert table.total == 29
