"""A deleted account is gone for everyone but undo and purge: every list, count, export,
statistic and the portal, on both backends; and a schema-2 database gains what undo needs."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from schema_files import schema_2_copy

from extgw_tui.db import open_database
from extgw_tui.errors import NotFound
from extgw_tui.models import (
    AuditEvent,
    Batch,
    BatchLicence,
    ExternalUser,
    Licence,
    LoginEvent,
    Pupil,
    SchemaInfo,
    database,
)
from extgw_tui.services import access, exports, licences, mail, portal, review, statistics, undo
from extgw_tui.services import users as users_service
from extgw_tui.services.accounts import delete_users

U = ExternalUser
PASSWORD = "correct horse battery"


@pytest.fixture
def two(db):
    """Smith (kept) and Smithers (deleted, with a pupil, a login and an old creation date)."""
    kept = portal.register("kept@example.org", PASSWORD, surname="Smith")
    gone = portal.register("gone@example.org", PASSWORD, surname="Smithers")
    U.update(created_at=datetime(2015, 1, 1)).execute()
    pupil = Pupil.create(forename="Kim", surname="Smithers")
    Licence.create(user=gone.id, pupil=pupil.id, licence_type=1)
    portal.record_login(gone, at=datetime(2016, 1, 1, 9, 0))
    delete_users([gone.id], detail="test")
    return kept, gone, pupil


def test_every_list_and_count_leaves_it_out(two):
    kept, gone, _ = two
    assert [r.id for r in users_service.search_users("smith")] == [kept.id]
    assert [r.id for r in users_service.search_users()] == [kept.id]
    assert users_service.count_users("smith") == 1
    assert users_service.count_users("gone@") == 0
    assert users_service.count_users() == 1
    assert users_service.user_ids_matching("smith") == [kept.id]
    assert users_service.count_among("smith", {kept.id, gone.id}) == 1
    assert users_service.totals() == users_service.Totals(users=1, denied=0)
    with pytest.raises(NotFound):
        users_service.user_row(gone.id)
    assert access.preview([kept.id, gone.id], False).missing == 1
    assert access.set_access([gone.id], False).missing == [gone.id]
    assert U.get_by_id(gone.id).access_allowed  # untouched
    with pytest.raises(NotFound):
        mail.recipient(gone.id)
    with pytest.raises(NotFound):
        licences.remove_pupil(gone.id, 1)
    assert review.candidate_ids(12, date(2026, 5, 1)) == [kept.id]
    assert review.count_candidates(12, date(2026, 5, 1)) == 1
    figures = statistics.account_figures(statistics.ALL)
    assert figures.accounts == 1


def test_exports_leave_it_out_and_logins_still_count(two):
    kept, gone, pupil = two
    request = exports.make_request("users")
    assert exports.count_rows(request) == 1
    assert [row[0] for row in exports.export_rows(request)] == [kept.id]
    without = exports.make_request("pupils-without", licence="Parent/Guardian")
    assert [row[0] for row in exports.export_rows(without)] == ["Kim"]  # no holder now
    assert LoginEvent.select().where(LoginEvent.user == gone.id).count() == 1
    series = statistics.login_series(statistics.ALL, "years", date(2016, 6, 1))
    assert sum(series.logins) == 1


def test_no_login_and_the_address_stays_taken_until_purged(two):
    kept, gone, _ = two
    assert portal.authenticate("gone@example.org", PASSWORD) is None
    assert portal.check_credentials("gone@example.org", PASSWORD) is None
    assert portal.delete_own_account("gone@example.org", PASSWORD) is False
    assert portal.authenticate("kept@example.org", PASSWORD) is not None
    batch = AuditEvent.get(AuditEvent.action == "account.delete").batch
    undo.undo(batch)
    assert portal.authenticate("gone@example.org", PASSWORD).id == gone.id


def test_a_schema_2_file_gains_the_undo_tables_and_columns(tmp_path):
    url = schema_2_copy(tmp_path)
    handle = open_database(url)
    try:
        columns = {c.name: c for c in handle.get_columns("external_user")}
        assert columns["bounced_at"].null
        assert "batch_tail" in {c.name for c in handle.get_columns("audit_event")}
        indexes = {i.name for i in handle.get_indexes("audit_event")}
        assert "audit_event_batch_tail_at_id" in indexes
        assert {"batch", "batch_licence"} <= set(handle.get_tables())
        old_entries = AuditEvent.select().count()
        from extgw_tui.services import activity

        assert activity.count_changes() == old_entries  # each old entry is its own row
        ids = [u.id for u in U.select(U.id).where(U.deleted_at.is_null()).limit(3)]
        denied = access.set_access(ids, False)
        assert activity.count_changes() == old_entries + 1
        undo.undo(denied.batch)
        assert Batch.select().count() == 2 and BatchLicence.select().count() == 0
    finally:
        handle.close()
        database.initialize(None)


def test_a_schema_2_database_gains_them_on_both_backends(db_url):
    handle = open_database(db_url)
    handle.execute_sql('DROP INDEX "audit_event_batch_tail_at_id"')
    handle.execute_sql('ALTER TABLE "audit_event" DROP COLUMN "batch_tail"')
    handle.execute_sql('ALTER TABLE "external_user" DROP COLUMN "bounced_at"')
    handle.execute_sql('DROP TABLE "batch"')
    handle.execute_sql('DROP TABLE "batch_licence"')
    SchemaInfo.update(version=2).execute()
    handle.close()
    handle = open_database(db_url)
    try:
        user = U.create(surname="A", email="a@e.org", password_hash="x")
        result = access.set_access([user.id], False)
        assert undo.undo(result.batch).changed == 1
        assert U.get_by_id(user.id).bounced_at is None
    finally:
        handle.close()
