"""Bulk access changes, pupils and licences, account deletion: on both backends, audited."""

from __future__ import annotations

from datetime import timedelta

import peewee
import pytest

from extgw_tui.db import is_sqlite
from extgw_tui.errors import NotFound
from extgw_tui.models import (
    AuditEvent,
    ExternalUser,
    Licence,
    LicenceType,
    LoginEvent,
    Pupil,
    database,
    licence_bit,
    live_user,
    now,
    text_key,
)
from extgw_tui.services import access, licences, purge
from extgw_tui.services.accounts import delete_users

U = ExternalUser


def bulk_users(count: int) -> list[int]:
    """`count` users inserted in bulk (keys set by hand, as Model.save() is bypassed)."""
    rows = [
        (
            "Mx",
            "Sam",
            f"Surname{i:05d}",
            text_key(f"Surname{i:05d}"),
            f"user{i}@home.example",
            f"user{i}@home.example",
            "x",
        )
        for i in range(count)
    ]
    fields = [U.title, U.forename, U.surname, U.surname_key, U.email, U.email_key, U.password_hash]
    with database.atomic():
        for start in range(0, count, 500):
            U.insert_many(rows[start : start + 500], fields=fields).execute()
    return [i for (i,) in U.select(U.id).order_by(U.id).tuples()]


def audit_rows(action: str) -> list[tuple]:
    query = AuditEvent.select(
        AuditEvent.user_id, AuditEvent.target, AuditEvent.admin, AuditEvent.detail, AuditEvent.batch
    )
    return list(query.where(AuditEvent.action == action).order_by(AuditEvent.user_id).tuples())


def test_set_access_for_thousands_audits_each_change_once(db):
    ids = bulk_users(2_000)
    result = access.set_access(ids + [ids[0], 99_999_999], False, reason="Left the school")
    assert (result.changed, result.unchanged, result.missing) == (2_000, 0, [99_999_999])
    assert U.select().where(U.access_allowed == False).count() == 2_000  # noqa: E712
    rows = audit_rows("access.deny")
    assert [r[0] for r in rows] == ids
    assert rows[0][1:4] == ("user0@home.example", "test-admin", "Left the school")
    assert len({r[4] for r in rows}) == 1 and rows[0][4]  # one batch for the one action

    again = access.set_access(ids[:10] + ids[-5:], False)
    assert (again.changed, again.unchanged, again.missing) == (0, 15, [])
    assert len(audit_rows("access.deny")) == 2_000  # nothing changed, nothing audited
    assert "already denied" in again.summary()

    allowed = access.set_access(ids[:3], True)
    assert allowed.changed == 3 and [r[0] for r in audit_rows("access.allow")] == ids[:3]
    assert U.select().where(U.access_allowed == True).count() == 3  # noqa: E712


def _fail_on_audit_of(user_id: int) -> None:
    """A trigger that aborts the insert of one audit entry, part-way through a bulk change."""
    if is_sqlite():
        database.execute_sql(
            "CREATE TRIGGER fail_one BEFORE INSERT ON audit_event "
            f"WHEN NEW.user_id = {user_id} BEGIN SELECT RAISE(ABORT, 'forced failure'); END"
        )
        return
    database.execute_sql(
        "CREATE FUNCTION fail_one() RETURNS trigger AS $$ BEGIN "
        f"IF NEW.user_id = {user_id} THEN RAISE EXCEPTION 'forced failure'; END IF; "
        "RETURN NEW; END $$ LANGUAGE plpgsql"
    )
    database.execute_sql(
        "CREATE TRIGGER fail_one BEFORE INSERT ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION fail_one()"
    )


def test_set_access_is_all_or_nothing(db):
    ids = bulk_users(2_000)
    _fail_on_audit_of(ids[1_500])
    with pytest.raises(peewee.DatabaseError, match="forced failure"):
        access.set_access(ids, False)
    assert U.select().where(U.access_allowed == False).count() == 0  # noqa: E712
    assert AuditEvent.select().count() == 0


@pytest.fixture
def family(db):
    """A parent with two children (one also under a second licence type) and a pupil account."""
    parent = U.create(surname="Jones", email="parent@home.example", password_hash="x")
    pupil_user = U.create(surname="Jones", email="tom@school.example", password_hash="x")
    tom = Pupil.create(forename="Tom", surname="Jones", year_group=11, form="11B")
    amy = Pupil.create(forename="Amy", surname="Jones", year_group=8, form="8C")
    guardian = LicenceType.get(LicenceType.name == "Parent/Guardian")
    own = LicenceType.get(LicenceType.name == "Pupil")
    Licence.create(user=parent, pupil=tom, licence_type=guardian)
    Licence.create(user=parent, pupil=tom, licence_type=own)
    Licence.create(user=parent, pupil=amy, licence_type=guardian)
    Licence.create(user=pupil_user, pupil=tom, licence_type=own)
    return parent, pupil_user, tom, amy


def test_user_pupils_groups_licence_types_per_pupil(family):
    parent, pupil_user, tom, amy = family
    linked = licences.user_pupils(parent.id)
    assert [(p.pupil_id, p.name, p.year_label, p.form, p.licence_types) for p in linked] == [
        (amy.id, "Amy Jones", "Year 8", "8C", ("Parent/Guardian",)),
        (tom.id, "Tom Jones", "Year 11", "11B", ("Parent/Guardian", "Pupil")),
    ]
    assert [p.licence_types for p in licences.user_pupils(pupil_user.id)] == [("Pupil",)]
    assert licences.user_pupils(99_999) == []
    bits = licence_bit(licences.licence_type_id("parent/guardian")) | licence_bit(
        licences.licence_type_id("PUPIL")
    )
    assert licences.user_licence_mask(parent.id) == bits


def test_remove_pupil_persists_audits_and_refuses_a_stale_pair(family):
    parent, pupil_user, tom, amy = family
    assert licences.remove_pupil(parent.id, tom.id, reason="Parent's request") == 2
    assert [p.pupil_id for p in licences.user_pupils(parent.id)] == [amy.id]
    assert Licence.select().where(Licence.pupil == tom.id).count() == 1  # the pupil's own stays
    (entry,) = audit_rows("pupil.remove")
    assert entry[0] == parent.id and entry[1] == "parent@home.example"
    assert "Tom Jones (11B)" in entry[3] and "2 licence(s)" in entry[3]
    assert "Parent's request" in entry[3]
    with pytest.raises(NotFound, match="no longer has access"):
        licences.remove_pupil(parent.id, tom.id)
    with pytest.raises(NotFound, match="no longer exists"):
        licences.remove_pupil(99_999, amy.id)
    assert len(audit_rows("pupil.remove")) == 1


def test_delete_users_keeps_login_history_without_the_person(family):
    parent, pupil_user, tom, amy = family
    LoginEvent.create(at="2026-01-05 19:00:00", user=parent.id, licence_mask=2)
    LoginEvent.create(at="2026-01-06 19:00:00", user=pupil_user.id, licence_mask=4)
    with database.atomic():
        assert delete_users([parent.id, 99_999]) == 1
    assert not U.select().where((U.id == parent.id) & live_user()).exists()
    assert Licence.select().where(Licence.user == parent.id).count() == 0
    assert Pupil.select().count() == 2  # pupils are never deleted with an account

    def events() -> list[tuple]:
        query = LoginEvent.select(LoginEvent.user, LoginEvent.licence_mask)
        return list(query.order_by(LoginEvent.at).tuples())

    assert events() == [(parent.id, 2), (pupil_user.id, 4)]  # restorable: still linked
    assert len(audit_rows("account.delete")) == 1
    assert purge.purge_due(days=0, when=now() + timedelta(seconds=1)).purged == 1
    assert not U.select().where(U.id == parent.id).exists()
    assert events() == [(None, 2), (pupil_user.id, 4)]
