"""Shared fixtures: an isolated environment, and real databases (SQLite file; PostgreSQL too).

The `db` fixture runs a test once per backend: SQLite always, PostgreSQL when
EXTGW_TEST_PG_URL names a server (.ci/run starts one). In CI a missing server is an error,
never a silent skip.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

import peewee
import pytest

from extgw_tui.db import open_database
from extgw_tui.models import database
from extgw_tui.services import audit

PG_URL = os.environ.get("EXTGW_TEST_PG_URL", "")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test away from the user's real data, config, logs and SMTP settings."""
    home = tmp_path_factory.mktemp("home")
    for name in ("DATA", "CONFIG", "LOG"):
        folder = home / name.lower()
        folder.mkdir()
        monkeypatch.setenv(f"EXTGW_{name}_DIR", str(folder))
    for key in list(os.environ):
        if key.startswith("EXTGW_SMTP") or key in ("EXTGW_DB", "EXTGW_EXPORT_DIR"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("EXTGW_ADMIN", "test-admin")
    audit.set_admin("test-admin")
    return home


@pytest.fixture(autouse=True)
def unfrozen_objects():
    """An app freezes what its start made (ExtgwApp._freeze_start_up_objects); one suite runs
    hundreds of apps, whose objects must be collectable again after each test."""
    yield
    gc.unfreeze()


def _reset_postgres(url: str) -> None:
    scratch = open_database_raw(url)
    scratch.execute_sql("DROP SCHEMA public CASCADE")
    scratch.execute_sql("CREATE SCHEMA public")
    scratch.close()


def open_database_raw(url: str) -> peewee.Database:
    from playhouse.db_url import connect

    conn = connect(url)
    conn.connect()
    return conn


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


def _fresh_postgres() -> str:
    if not PG_URL:
        if IN_CI:
            pytest.fail("EXTGW_TEST_PG_URL is not set in CI: the PostgreSQL tests must run.")
        pytest.skip("no PostgreSQL server (set EXTGW_TEST_PG_URL; .ci/run starts one)")
    _reset_postgres(PG_URL)
    return PG_URL


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to a fresh, empty database of each backend."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return _fresh_postgres()


@pytest.fixture
def postgres_url() -> str:
    """A URL to a fresh, empty PostgreSQL database, for what only PostgreSQL does."""
    return _fresh_postgres()


@pytest.fixture
def db(db_url: str):
    """An open, empty database on each backend, bound to the models."""
    handle = open_database(db_url)
    yield handle
    handle.close()


@pytest.fixture
def sqlite_db(tmp_path: Path):
    """An open, empty SQLite database (for app and CLI tests that need one backend)."""
    url = sqlite_url(tmp_path)
    handle = open_database(url)
    handle.url = url  # type: ignore[attr-defined]
    yield handle
    handle.close()
    database.initialize(None)


@pytest.fixture
def smtp_env(monkeypatch: pytest.MonkeyPatch):
    """Point the mail settings at a local SMTP server (tests/smtp_helpers.py): call it with the
    port and any extra EXTGW_SMTP_* settings (user="...", security="starttls")."""

    def configure(port: int, **extra: str) -> None:
        monkeypatch.setenv("EXTGW_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("EXTGW_SMTP_PORT", str(port))
        monkeypatch.setenv("EXTGW_SMTP_FROM", "School Office <office@school.example>")
        monkeypatch.setenv("EXTGW_SMTP_SECURITY", "none")
        monkeypatch.setenv("EXTGW_SMTP_TIMEOUT", "5")
        for key, value in extra.items():
            monkeypatch.setenv(f"EXTGW_SMTP_{key.upper()}", value)

    return configure
