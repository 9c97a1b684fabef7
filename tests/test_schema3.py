"""Schema 3: names from every alphabet, soft delete, contacts, rate limits; an older file
migrates on opening, and the throttle counts across a sliding window."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from conftest import open_database_raw, sqlite_url
from licence_masks import masks_held, masks_recorded
from schema_files import schema_2_copy

from extgw_tui import email_index
from extgw_tui.db import open_database
from extgw_tui.models import (
    ALL_MODELS,
    SCHEMA_VERSION,
    Attempt,
    Contact,
    ExternalUser,
    Licence,
    LoginEvent,
    Pupil,
    SchemaInfo,
    database,
    live_user,
    name_key,
    now,
)
from extgw_tui.services import filters, throttle, users


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Łukasiewicz", "lukasiewicz"),
        ("Ørsted", "orsted"),
        ("Đoković", "dokovic"),
        ("Ægir", "aegir"),
        ("Straße", "strasse"),
        ("Þórsdóttir", "thorsdottir"),
        ("Öztürk", "ozturk"),
        ("O'Brien", "obrien"),
        ("O’Brien", "obrien"),
        ("D'Souza", "dsouza"),
        ("Walker-Patel", "walkerpatel"),
        ("van der Berg", "vanderberg"),
        ("YILDIZ", "yildiz"),
        ("ı", "i"),
        ("", ""),
    ],
)
def test_name_key_folds_every_alphabet_and_drops_punctuation(name, key):
    assert name_key(name) == key


@pytest.mark.parametrize(
    ("surname", "term"),
    [
        ("Łukasiewicz", "lukas"),
        ("Ørsted", "orsted"),
        ("Đoković", "dokovic"),
        ("Ægirsson", "aegir"),
        ("Straße", "strasse"),
        ("Þórsdóttir", "thorsdottir"),
        ("O'Brien", "obrien"),
        ("O'Brien", "o’brien"),
        ("D'Souza", "dsouza"),
        ("Walker-Patel", "walker patel"),
    ],
)
def test_search_finds_names_as_typed_on_a_uk_keyboard(db, surname, term):
    user = ExternalUser.create(surname=surname, email="someone@example.org", password_hash="x")
    ExternalUser.create(surname="Other", email="other@example.org", password_hash="x")
    assert [row.id for row in users.search_users(term)] == [user.id]
    assert users.count_users(term) == 1


def test_forename_keys_are_kept_on_save(db):
    user = ExternalUser.create(forename="Zoë-Ann", surname="X", email="z@e.org", password_hash="x")
    pupil = Pupil.create(forename="Łucja", surname="Nowak")
    assert ExternalUser.get_by_id(user.id).forename_key == "zoeann"
    assert Pupil.get_by_id(pupil.id).forename_key == "lucja"


def _assert_migrated_schema_2_content() -> None:
    assert SchemaInfo.get().version == SCHEMA_VERSION
    keys = dict(ExternalUser.select(ExternalUser.surname, ExternalUser.surname_key).tuples())
    assert keys["Łukasiewicz"] == "lukasiewicz" and keys["Walker-Patel"] == "walkerpatel"
    assert keys["O'Brien"] == "obrien" and keys["Þórsdóttir"] == "thorsdottir"
    assert {u.forename_key for u in ExternalUser.select()} >= {"jan", "ida", "aegir", "sean"}
    assert ExternalUser.select().where(live_user()).count() == 8  # nobody is deleted
    assert Pupil.select().where(Pupil.left_on.is_null() & (Pupil.forename_key == "zoe")).count()
    assert Licence.select().count() == 8 and LoginEvent.select().count() == 8  # nothing lost
    assert masks_held() == masks_recorded() and any(masks_recorded().values())  # schema 4
    assert Contact.select().count() == 0 and Attempt.select().count() == 0
    # the new columns and tables work
    pupil = Pupil.get(Pupil.surname == "Ørsted")
    Contact.create(pupil=pupil, forename="Ida", surname="Ørsted", email="IDA@example.org")
    assert Contact.get().email_key == "ida@example.org"
    ExternalUser.update(deleted_at=now()).where(ExternalUser.surname == "Ørsted").execute()
    assert ExternalUser.select().where(live_user()).count() == 7


def _schema(handle) -> dict[str, tuple[set[str], set[tuple[str, ...]]]]:
    """Each model's table: its columns and the column lists of its indexes."""
    found = {}
    for model in ALL_MODELS:
        table = model._meta.table_name
        columns = {c.name for c in handle.get_columns(table)}
        found[table] = (columns, {tuple(i.columns) for i in handle.get_indexes(table)})
    return found


def test_a_schema_2_file_of_the_last_release_migrates_on_opening(tmp_path):
    url = schema_2_copy(tmp_path)
    handle = open_database(url)
    try:
        _assert_migrated_schema_2_content()
        assert [row.surname for row in users.search_users("lukas")] == ["Łukasiewicz"]
        columns = {c.name: c for c in handle.get_columns("external_user")}
        assert not columns["forename_key"].null  # NOT NULL as on a new database
        assert columns["deleted_at"].null
        migrated = _schema(handle)
        kept = {i.name for t in ("audit_event", "login_event") for i in handle.get_indexes(t)}
        assert "audit_event_admin" not in kept and "login_event_user_id" not in kept
        assert {"audit_event_admin_at", "login_event_user_id_at"} <= kept  # they serve both
    finally:
        handle.close()
    (tmp_path / "new").mkdir()
    fresh = open_database(sqlite_url(tmp_path / "new"))  # what this release makes anew
    try:
        assert migrated == _schema(fresh)  # every table, column and index, nothing missing
    finally:
        fresh.close()
    handle = open_database(url)  # opening again changes nothing
    assert SchemaInfo.get().version == SCHEMA_VERSION
    handle.close()
    database.initialize(None)


def test_a_schema_2_database_migrates_on_both_backends(db_url):
    """Remove what schema 3 added from a new database, fill it as release 0.1.0 would, and
    open it again: the PostgreSQL path of the migration (ALTER TABLE on the server)."""
    handle = open_database(db_url)
    added = {"forename_key", "deleted_at", "left_on", "year_group", "form"}
    for table in ("external_user", "pupil"):
        for index in handle.get_indexes(table):
            if added & set(index.columns):
                handle.execute_sql(f'DROP INDEX "{index.name}"')
    email_index.drop(handle)  # made on PostgreSQL after schema 4, from its columns
    handle.execute_sql(  # release 0.1.0's search index
        'CREATE INDEX "external_user_surname_key_forename_id_email_key" '
        'ON "external_user" ("surname_key", "forename", "id", "email_key")'
    )
    for table, column in (
        ("external_user", "forename_key"),
        ("external_user", "deleted_at"),
        ("pupil", "forename_key"),
        ("pupil", "left_on"),
    ):
        handle.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    handle.execute_sql('DROP TABLE "contact"')
    handle.execute_sql('DROP TABLE "attempt"')
    names = ["Łukasiewicz", "O'Brien"]
    for n, surname in enumerate(names):
        handle.execute_sql(
            "INSERT INTO external_user (title, forename, surname, surname_key, email, email_key,"
            " password_hash, created_at, adr, access_allowed) VALUES"
            f" ('', 'Jan', %s, %s, 'u{n}@e.org', 'u{n}@e.org', 'x', %s, %s, %s)".replace(
                "%s", "?" if db_url.startswith("sqlite") else "%s"
            ),
            (surname, surname.lower(), now(), True, True),
        )
    SchemaInfo.update(version=2).execute()
    handle.close()
    handle = open_database(db_url)
    try:
        assert SchemaInfo.get().version == SCHEMA_VERSION
        rows = ExternalUser.select().order_by(ExternalUser.id)
        assert [(u.surname_key, u.forename_key, u.deleted_at) for u in rows] == [
            ("lukasiewicz", "jan", None),
            ("obrien", "jan", None),
        ]
        assert [r.surname for r in users.search_users("o’brien")] == ["O'Brien"]
        indexes = {i.name: i.columns for i in handle.get_indexes("external_user")}
        assert "external_user_surname_key_forename_id_email_key" not in indexes  # replaced
        assert ["surname_key", "forename", "id", "email_key", "forename_key", "deleted_at"] in (
            indexes.values()
        )
        Contact.create(pupil=Pupil.create(forename="A", surname="B"), email="c@e.org")
        throttle.record_failure("login", "ip:127.0.0.1")
        assert throttle.is_limited("login", "ip:127.0.0.1", 1, 60)
    finally:
        handle.close()


def test_throttle_counts_failures_per_scope_in_a_sliding_window(db):
    scope = throttle.email_scope("Parent@Example.org")
    assert scope == throttle.email_scope("parent@example.org")  # same account, same scope
    for _ in range(3):
        throttle.record_failure("key", scope, "ip:10.0.0.1")
    assert throttle.is_limited("key", scope, 3, 60)
    assert not throttle.is_limited("key", scope, 4, 60)
    assert throttle.is_limited("key", "ip:10.0.0.1", 3, 60)
    assert not throttle.is_limited("login", scope, 1, 60)  # kinds are counted apart
    assert not throttle.is_limited("key", "ip:10.0.0.2", 1, 60)
    Attempt.update(at=now() - timedelta(seconds=120)).execute()
    assert not throttle.is_limited("key", scope, 1, 60)  # the window slid past them
    assert throttle.is_limited("key", scope, 3, 180)
    throttle.record_failure("key", "ip:10.0.0.3")
    Attempt.update(at=now() - timedelta(days=2)).where(Attempt.scope == scope).execute()
    throttle.record_failure("key", "ip:10.0.0.3")
    # the portal's hourly housekeeping prunes what no window needs (not each failure)
    assert throttle.purge_expired() == 3
    assert Attempt.select().where(Attempt.scope == scope).count() == 0
    throttle.clear("key", "ip:10.0.0.1")
    assert not throttle.is_limited("key", "ip:10.0.0.1", 1, 1000)
    assert throttle.is_limited("key", "ip:10.0.0.3", 2, 60)


def test_email_search_uses_a_trigram_index_on_postgresql(postgres_url):
    handle = open_database(postgres_url)
    try:
        indexes = {i.name for i in handle.get_indexes("external_user")}
        assert {"external_user_email_trigram", "external_user_forename_pattern"} <= indexes
        U = ExternalUser
        rows = [
            (f"S{n}", f"s{n}", f"user{n}@example.org", f"user{n}@example.org", "x")
            for n in range(20_000)
        ]
        fields = [U.surname, U.surname_key, U.email, U.email_key, U.password_hash]
        U.insert_many(rows, fields=fields).execute()
        handle.execute_sql("ANALYZE external_user")
        query = U.select(U.id).where(filters.contains(U.email_key, "user12345"))
        sql, params = query.sql()
        plan = "\n".join(r[0] for r in handle.execute_sql("EXPLAIN " + sql, params))
        assert "external_user_email_trigram" in plan
        assert [u.email for u in users.search_users("r12345@")] == ["user12345@example.org"]
    finally:
        handle.close()


def test_a_role_that_may_not_create_pg_trgm_still_searches(postgres_url, caplog):
    """The extension needs CREATE on the database; without it, one warning and a working
    search (the table is scanned)."""
    admin = open_database_raw(postgres_url)
    admin.execute_sql("DROP DATABASE IF EXISTS extgw_no_trgm")
    admin.execute_sql("DROP ROLE IF EXISTS extgw_limited")
    admin.execute_sql("CREATE ROLE extgw_limited LOGIN")
    admin.execute_sql("CREATE DATABASE extgw_no_trgm")
    admin.close()
    owner = open_database_raw(postgres_url.rsplit("/", 1)[0] + "/extgw_no_trgm")
    owner.execute_sql("REVOKE CREATE ON DATABASE extgw_no_trgm FROM PUBLIC")
    owner.execute_sql("GRANT CREATE ON SCHEMA public TO extgw_limited")
    owner.close()
    url = postgres_url.replace("postgres@", "extgw_limited@").rsplit("/", 1)[0] + "/extgw_no_trgm"
    logger = logging.getLogger("extgw_tui")  # the CLI's logging set-up may stop propagation
    logger.addHandler(caplog.handler)
    handle = open_database(url)
    try:
        assert "external_user_email_trigram" not in {
            i.name for i in handle.get_indexes("external_user")
        }
        assert "pg_trgm" in caplog.text
        ExternalUser.create(surname="Smith", email="jane@hotmail.example", password_hash="x")
        assert [u.surname for u in users.search_users("hotmail")] == ["Smith"]
    finally:
        logger.removeHandler(caplog.handler)
        handle.close()
        admin = open_database_raw(postgres_url)
        admin.execute_sql("DROP DATABASE extgw_no_trgm")
        admin.execute_sql("DROP ROLE extgw_limited")
        admin.close()
