"""`extgw-tui db copy`: SQLite -> PostgreSQL -> SQLite on the demo, everything kept, ids never
reused, a non-empty target refused, an interrupted copy leaving the target empty."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import peewee
import pytest
from conftest import open_database_raw

from extgw_tui import email_index
from extgw_tui.cli import main
from extgw_tui.db import open_database
from extgw_tui.errors import DatabaseProblem
from extgw_tui.models import (
    ALL_MODELS,
    SCHEMA_VERSION,
    AuditEvent,
    ExternalUser,
    Licence,
    LoginEvent,
    SchemaInfo,
    database,
)
from extgw_tui.services import db_copy, demo, users


def _fingerprint() -> dict[str, tuple[int, str]]:
    """Each table's row count and checksum, read through the models from the open database."""
    result = {}
    for model in ALL_MODELS:
        rows = [row for chunk in db_copy._rows(model) for row in chunk]
        result[model._meta.table_name] = (len(rows), repr(rows))
    return result


def _small_demo(url: str) -> None:
    open_database(url)
    demo.generate("small", today=date(2026, 11, 30))
    # the newest account is deleted: its id must stay retired in the copy
    newest = ExternalUser.select().order_by(ExternalUser.id.desc()).first()
    ExternalUser.delete_by_id(newest.id)
    database.close()


def test_sqlite_to_postgres_and_back_keeps_everything(tmp_path: Path, postgres_url: str, capsys):
    source = f"sqlite:///{tmp_path / 'school.sqlite3'}"
    _small_demo(source)
    open_database(source)
    before = _fingerprint()
    next_id = db_copy._next_id(ExternalUser) + 1  # past every id ever handed out
    assert next_id > ExternalUser.select().order_by(ExternalUser.id.desc()).first().id + 1
    database.close()

    assert main(["--db", source, "db", "copy", "--to", postgres_url]) == 0
    out = capsys.readouterr()
    assert "every table's row count and checksum match" in out.out
    assert "login_event" in out.err

    open_database(postgres_url)
    after = _fingerprint()
    assert {k: v for k, v in after.items() if k != "audit_event"} == {
        k: v for k, v in before.items() if k != "audit_event"
    }
    assert SchemaInfo.get().version == SCHEMA_VERSION
    new = ExternalUser.create(surname="New", email="new@example.org", password_hash="x")
    assert new.id == next_id  # the deleted accounts' ids are not handed out again
    Licence.create(user=new.id, pupil=Licence.get().pupil_id, licence_type=2)
    assert ExternalUser.get_by_id(new.id).licence_mask == 4  # the copy's triggers keep it
    Licence.delete().where(Licence.user == new.id).execute()
    assert (
        users.count_users("smith")
        == ExternalUser.select()
        .where(
            ExternalUser.surname_key.startswith("smith") | ExternalUser.email_key.contains("smith")
        )
        .count()
    )
    new.delete_instance()
    # the email table, made after the rows, holds them in surname order (a short row may
    # fill a gap an earlier page left, so the planner's correlation, not an exact order)
    order = database.execute_sql(
        "SELECT correlation FROM pg_stats WHERE tablename = %s AND attname = 'surname_key'",
        (email_index.NAME,),
    )
    assert order.fetchone()[0] > 0.95
    copied = database.execute_sql(f"SELECT id FROM {email_index.NAME}").fetchall()
    assert sorted(row[0] for row in copied) == [
        row[0] for row in ExternalUser.select(ExternalUser.id).order_by(ExternalUser.id).tuples()
    ]
    database.close()

    back = f"sqlite:///{tmp_path / 'back.sqlite3'}"
    assert main(["--db", postgres_url, "db", "copy", "--to", back]) == 0
    open_database(back)
    again = _fingerprint()
    assert {k: v for k, v in again.items() if k != "audit_event"} == {
        k: v for k, v in before.items() if k != "audit_event"
    }
    assert ExternalUser.create(surname="N", email="n@e.org", password_hash="x").id == new.id + 1
    database.close()

    open_database(source)  # the source's activity log says where its data went
    entry = AuditEvent.select().where(AuditEvent.action == "db.copy").get()
    assert "checksums verified" in entry.detail and "postgresql://" in entry.target
    database.close()


def test_a_target_that_is_not_empty_is_refused_and_left_alone(tmp_path, postgres_url, capsys):
    source = f"sqlite:///{tmp_path / 'school.sqlite3'}"
    open_database(source)
    ExternalUser.create(surname="A", email="a@e.org", password_hash="x")
    database.close()
    raw = open_database_raw(postgres_url)
    raw.execute_sql("CREATE TABLE other_program (id integer)")
    raw.close()
    assert main(["--db", source, "db", "copy", "--to", postgres_url]) == 1
    assert "is not empty" in capsys.readouterr().err
    raw = open_database_raw(postgres_url)
    assert raw.get_tables() == ["other_program"]
    raw.close()


def test_copy_into_an_existing_extgw_database_is_refused(tmp_path, capsys):
    first, second = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    for path in (first, second):
        open_database(f"sqlite:///{path}")
        database.close()
    assert main(["--db", f"sqlite:///{first}", "db", "copy", "--to", f"sqlite:///{second}"]) == 1
    assert "not empty" in capsys.readouterr().err


def test_a_cancelled_copy_leaves_the_target_empty(tmp_path: Path, postgres_url: str):
    source = f"sqlite:///{tmp_path / 'school.sqlite3'}"
    _small_demo(source)
    open_database(source)
    seen: list[str] = []

    def progress(table: str, done: int, total: int) -> None:
        seen.append(table)

    with pytest.raises(db_copy.CopyCancelled):
        db_copy.copy_database(
            postgres_url, progress=progress, should_cancel=lambda: "login_event" in seen
        )
    target = tmp_path / "target.sqlite3"
    with pytest.raises(db_copy.CopyCancelled):
        db_copy.copy_database(f"sqlite:///{target}", should_cancel=lambda: True, progress=progress)
    database.close()
    raw = open_database_raw(postgres_url)
    assert raw.get_tables() == []  # the tables made inside the transaction went with it
    raw.close()
    assert not target.exists()  # a new file is removed again


def test_a_killed_copy_leaves_the_target_empty(tmp_path: Path, postgres_url: str):
    """kill -9 in the middle of the login events: the one transaction never commits."""
    source = f"sqlite:///{tmp_path / 'school.sqlite3'}"
    _small_demo(source)
    script = (
        "import os, signal, sys\n"
        "from extgw_tui.db import open_database\n"
        "from extgw_tui.services import db_copy\n"
        f"open_database({source!r})\n"
        "def progress(table, done, total):\n"
        "    if table == 'login_event' and done:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        f"db_copy.copy_database({postgres_url!r}, progress=progress)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], timeout=120)
    assert result.returncode == -9
    raw = open_database_raw(postgres_url)
    assert raw.get_tables() == []
    raw.close()
    open_database(source)  # the source is untouched
    assert LoginEvent.select().count() > 0
    database.close()


def test_a_table_keyed_by_text_is_copied_too(tmp_path: Path):
    """Not every table counts ids (e.g. one keyed by a batch's name): its rows go as they are."""

    class Note(peewee.Model):
        key = peewee.CharField(primary_key=True)
        text = peewee.TextField()

        class Meta:
            database = database

    source = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    open_database(source)
    ALL_MODELS.append(Note)
    try:
        Note.create_table()
        Note.insert_many([("b", "two"), ("a", "one")], fields=[Note.key, Note.text]).execute()
        report = db_copy.copy_database(f"sqlite:///{tmp_path / 'b.sqlite3'}")
        assert report.tables["note"].rows == 2 and report.tables["note"].next_id == 0
    finally:
        ALL_MODELS.remove(Note)
        database.close()


def test_a_source_without_a_table_of_this_release_is_refused_before_copying(tmp_path: Path):
    source = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    handle = open_database(source)
    handle.execute_sql('DROP TABLE "saved_view"')
    target = tmp_path / "b.sqlite3"
    with pytest.raises(DatabaseProblem, match="lacks the tables saved_view"):
        db_copy.copy_database(f"sqlite:///{target}")
    assert not target.exists()
    database.close()
