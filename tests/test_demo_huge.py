"""The huge demo's COPY path (services/demo_copy.py), at a size a test can afford: the rows the
insert path writes, a database the services read, the indexes, keys and sequences of a normal
one; and the huge size refused on SQLite in one sentence."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import date

import pytest
from licence_masks import masks_held, masks_recorded
from peewee import fn

from extgw_tui.commands.demo import ensure_demo
from extgw_tui.db import open_database
from extgw_tui.errors import ExtgwError
from extgw_tui.models import (
    SCHEMA_VERSION,
    AuditEvent,
    Contact,
    ExternalUser,
    Licence,
    LoginDay,
    LoginEvent,
    LoginPeriodUsers,
    LoginUserPeriod,
    Pupil,
    SchemaInfo,
    database,
)
from extgw_tui.services import demo, review, statistics, users
from extgw_tui.services.demo_copy import generate_copy

pytestmark = pytest.mark.usefixtures("isolated_env")

TODAY = date(2026, 6, 15)
TINY = demo.Size(users=2_000, pupils=2_400, logins=50_000)
#: Tables whose ids come from an INSERT ... SELECT's GROUP BY, in an order neither path fixes.
ID_FREE = (LoginDay, LoginUserPeriod, LoginPeriodUsers)
COMPARED = (Pupil, Contact, ExternalUser, Licence, LoginEvent, AuditEvent, *ID_FREE)


def fingerprints() -> dict[str, tuple[int, str]]:
    """Per table: rows and a digest of them all, sorted (the password hash is salted)."""
    result = {}
    for model in COMPARED:
        fields = [
            f
            for f in model._meta.sorted_fields
            if f.name != "password_hash" and not (model in ID_FREE and f.name == "id")
        ]
        rows = sorted(model.select(*fields).tuples(), key=repr)
        result[model.__name__] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return result


def structure() -> tuple[set, set]:
    """The database's indexes and foreign keys, as the server describes them."""
    indexes = database.execute_sql(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    ).fetchall()
    keys = database.execute_sql(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE connamespace = current_schema()::regnamespace"
    ).fetchall()
    return set(indexes), set(keys)


def test_the_copy_path_writes_the_rows_the_insert_path_writes(postgres_url, tmp_path) -> None:
    handle = open_database(f"sqlite:///{tmp_path / 'inserts.db'}")
    try:
        demo.generate("small", today=TODAY)
        expected = fingerprints()
    finally:
        handle.close()
    handle = open_database(postgres_url)
    try:
        summary = generate_copy("small", today=TODAY)
        assert fingerprints() == expected
        assert expected["ExternalUser"][0] == summary.users == 1_500
        assert expected["LoginEvent"][0] == summary.logins == 40_000
    finally:
        handle.close()


def test_a_copied_demo_is_one_the_app_reads(postgres_url) -> None:
    handle = open_database(postgres_url)
    try:
        before = structure()
        phases: list[tuple[str, float]] = []
        summary = generate_copy(TINY, today=TODAY, phases=phases)
        names = [name for name, _ in phases]
        assert {"planning", "logins", "summaries", "indexes", "foreign keys"} <= set(names)

        assert (summary.users, summary.pupils, summary.logins) == (2_000, 2_400, 50_000)
        assert ExternalUser.select().count() == summary.users
        assert Pupil.select().count() == summary.pupils
        assert Licence.select().count() == summary.licences > summary.pupils
        assert Contact.select().count() == summary.contacts > summary.pupils
        assert LoginEvent.select().count() == summary.logins
        assert LoginDay.select(fn.SUM(LoginDay.logins)).scalar() == summary.logins
        assert Pupil.select().where(Pupil.on_roll == False).count() == summary.leavers > 0  # noqa: E712
        assert users.totals() == users.Totals(users=summary.users, denied=summary.denied)
        assert summary.denied > 0
        last = ExternalUser.select(fn.MAX(ExternalUser.last_login_at)).scalar()
        assert (
            last
            == LoginEvent.select(fn.MAX(LoginEvent.at))
            .where(LoginEvent.user.is_null(False))
            .scalar()
        )

        assert structure() == before  # the same indexes and foreign keys as a new database
        assert masks_recorded() == masks_held()  # each account's types, written with its row
        assert SchemaInfo.get().version == SCHEMA_VERSION

        found = users.search_users("smith", limit=50)
        assert found and all("smith" in row.surname.casefold() for row in found[:10])
        assert users.count_users("smith") >= len(found)
        figures = statistics.group_statistics(statistics.ALL, "months", TODAY)
        assert sum(figures.series.logins) > 0 and max(figures.series.users) > 0
        assert figures.figures.accounts == summary.users
        assert review.count_candidates(today=TODAY) > 0
        assert review.candidates(today=TODAY, limit=5)

        top = summary.users + round(summary.users * demo.DELETED)  # deleted accounts' ids
        assert ExternalUser.select(fn.MAX(ExternalUser.id)).scalar() == summary.users
        new = ExternalUser.create(surname="Newcomer", email="new@example.org", password_hash="x")
        assert new.id == top + 1
        assert Pupil.create(forename="Ada", surname="New").id == summary.pupils + 1
        after = LoginEvent.create(at="2026-06-15 09:00:00", user=new.id, licence_mask=0)
        assert after.id == summary.logins + 1
        Licence.create(user=new.id, pupil=Pupil.get_by_id(1), licence_type=1)
        assert ExternalUser.get_by_id(new.id).licence_mask == 2  # the triggers are back on
    finally:
        handle.close()


def test_huge_on_sqlite_is_refused_in_one_sentence(tmp_path) -> None:
    path = tmp_path / "huge.db"
    with pytest.raises(ExtgwError) as refused:
        ensure_demo(f"sqlite:///{path}", "huge")
    assert str(refused.value) == demo.SERVER_ONLY_REFUSAL
    assert not path.exists()
    with pytest.raises(ExtgwError, match="only in PostgreSQL"):
        demo.generate("huge", today=TODAY)
    handle = open_database(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        with pytest.raises(ExtgwError, match="only in PostgreSQL"):
            generate_copy(TINY, today=TODAY)
    finally:
        handle.close()

    ran = subprocess.run(
        [sys.executable, "-m", "extgw_tui", "demo", "--size", "huge"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert ran.returncode == 1
    assert ran.stderr.strip().endswith(demo.SERVER_ONLY_REFUSAL)
    assert ran.stderr.strip().count("\n") == 0 and "Traceback" not in ran.stderr
