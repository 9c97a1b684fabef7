"""`extgw-tui demo --db postgresql://...` (issue 17): the demo data into an EMPTY PostgreSQL
database, a non-empty one refused in one sentence, a failed generation leaving it empty."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from extgw_tui.commands.demo import ensure_demo
from extgw_tui.db import make_database, open_database
from extgw_tui.errors import ExtgwError
from extgw_tui.models import AuditEvent, ExternalUser, database

pytestmark = pytest.mark.usefixtures("isolated_env")


def tables(url: str) -> list[str]:
    probe = make_database(url)
    probe.connect()
    try:
        return probe.get_tables()
    finally:
        probe.close()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "extgw_tui", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ),
    )


def test_demo_into_an_empty_postgresql_database_and_never_into_a_full_one(postgres_url) -> None:
    with pytest.raises(ExtgwError, match="Unknown demo size"):
        ensure_demo(postgres_url, "medium")  # fails inside the generator, after the schema
    database.close()
    assert tables(postgres_url) == []  # what it made is dropped again

    made = cli("demo", "--db", postgres_url, "--size", "small")
    assert made.returncode == 0, made.stderr
    assert "1,500 users" in made.stdout and "extgw-tui --db postgresql://" in made.stdout
    handle = open_database(postgres_url)
    try:
        assert ExternalUser.select().count() == 1_500
        assert AuditEvent.select().exists()
    finally:
        handle.close()

    again = cli("demo", "--db", postgres_url)
    assert again.returncode == 1
    assert again.stderr.strip().endswith(
        "is not empty; demo data goes only into a new, empty database."
    )
    assert "Traceback" not in again.stderr
    handle = open_database(postgres_url)
    try:
        assert ExternalUser.select().count() == 1_500  # untouched
    finally:
        handle.close()
