"""Batches and their undo: access, removed pupils and deletions, on both backends."""

from __future__ import annotations

from datetime import datetime

import pytest

from extgw_tui.errors import InvalidInput, NotFound
from extgw_tui.models import AuditEvent, Batch, ExternalUser, Licence, LoginEvent, Pupil
from extgw_tui.services import access, licences, undo
from extgw_tui.services.accounts import delete_users

U = ExternalUser
CREATED = datetime(2024, 1, 2, 3, 4, 5)


def make_users(count: int, *, denied: int = 0) -> list[int]:
    """`count` accounts; the last `denied` of them denied on purpose."""
    ids = []
    for n in range(count):
        user = U.create(
            surname=f"Surname{n:03d}",
            email=f"user{n}@example.org",
            password_hash="x",
            access_allowed=n < count - denied,
        )
        ids.append(user.id)
    return ids


def give_pupils(user_id: int, count: int = 1) -> list[int]:
    pupils = []
    for n in range(count):
        pupil = Pupil.create(forename=f"Kid{n}", surname=f"Of{user_id}", form="7A")
        for licence_type in (1, 2):
            Licence.create(
                user=user_id, pupil=pupil.id, licence_type=licence_type, created_at=CREATED
            )
        pupils.append(pupil.id)
    return pupils


def allowed_ids() -> set[int]:
    return {i for (i,) in U.select(U.id).where(U.access_allowed == True).tuples()}  # noqa: E712


def licence_rows(user_id: int) -> set[tuple]:
    query = Licence.select(Licence.pupil, Licence.licence_type, Licence.created_at).where(
        Licence.user == user_id
    )
    return set(query.tuples())


def test_undoing_a_deny_that_overlapped_denied_accounts_leaves_them_denied(db):
    """The issue's case: mark all, deny (some already denied), then undo the deny."""
    ids = make_users(12, denied=4)
    assert access.preview(ids, False).question() == (
        "Deny 12 accounts? 4 are already denied: 8 will change."
    )
    denied = access.set_access(ids, False)
    assert (denied.changed, denied.unchanged) == (8, 4)
    plan = undo.preview(denied.batch)
    assert (plan.accounts, plan.will_change, plan.refusal) == (8, 8, "")
    assert plan.question().startswith("Undo the deny of 8 accounts by test-admin on ")
    assert plan.question().endswith("? 8 will be allowed again.")
    result = undo.undo(denied.batch)
    assert result.changed == 8
    assert allowed_ids() == set(ids[:8])  # the four denied on purpose stay denied
    assert result.summary().endswith(": 8 accounts allowed again.")
    undone = Batch.get_by_id(denied.batch)
    assert undone.undone_by == result.batch
    assert Batch.get_by_id(result.batch).undoes == denied.batch
    entries = AuditEvent.select().where(AuditEvent.batch == result.batch)
    assert {e.user_id for e in entries} == set(ids[:8])
    assert {e.action for e in entries} == {"access.allow"}


def test_allow_after_deny_then_undo_the_allow_restores_every_denial(db):
    ids = make_users(10, denied=3)
    access.set_access(ids, False)
    allowed = access.set_access(ids, True)
    assert allowed.changed == 10
    undo.undo(allowed.batch)
    assert allowed_ids() == set()  # the three denied on purpose and the seven denied later
    plan = undo.preview(access.set_access(ids[:1], True).batch)
    assert plan.will_change == 1


def test_accounts_changed_since_are_left_and_counted(db):
    ids = make_users(6)
    denied = access.set_access(ids, False)
    access.set_access(ids[:1], True)  # allowed again by hand
    access.set_access(ids[1:2], True)
    access.set_access(ids[1:2], False)  # allowed then denied again: a later change all the same
    delete_users(ids[2:3])
    plan = undo.preview(denied.batch)
    assert (plan.accounts, plan.will_change, plan.changed_since) == (6, 3, 3)
    assert plan.question().endswith(
        "? 3 will be allowed again; 3 were changed since and stay as they are."
    )
    result = undo.undo(denied.batch)
    assert result.changed == 3
    assert result.summary().endswith("3 were changed since and left as they are.")
    assert allowed_ids() == {ids[0], *ids[3:]}
    # the account deleted meanwhile was not touched (still denied, still deleted)
    assert not U.get_by_id(ids[2]).access_allowed


def test_an_undo_happens_once_and_cannot_itself_be_undone(db):
    ids = make_users(3)
    denied = access.set_access(ids, False)
    result = undo.undo(denied.batch)
    with pytest.raises(InvalidInput, match="already undone on .* by test-admin"):
        undo.undo(denied.batch)
    assert undo.preview(denied.batch).refusal.startswith("This batch was already undone")
    with pytest.raises(InvalidInput, match="itself an undo"):
        undo.undo(result.batch)
    assert allowed_ids() == set(ids)
    assert AuditEvent.select().where(AuditEvent.action == "access.allow").count() == 3


def test_nothing_left_to_undo_is_refused_and_changes_nothing(db):
    ids = make_users(2)
    denied = access.set_access(ids, False)
    access.set_access(ids, True)
    with pytest.raises(InvalidInput, match="Nothing to undo: all 2 were changed since"):
        undo.undo(denied.batch)
    assert Batch.get_by_id(denied.batch).undone_by == ""


def test_undo_of_a_removed_pupil_gives_the_licences_back(db):
    (user_id,) = make_users(1)
    kept, removed = give_pupils(user_id, 2)
    before = licence_rows(user_id)
    assert licences.remove_pupil(user_id, removed) == 2
    assert {p for p, _, _ in licence_rows(user_id)} == {kept}
    entry = AuditEvent.get(AuditEvent.action == "pupil.remove")
    plan = undo.preview(entry.batch)
    assert plan.question().endswith("? 1 will be given their pupils back.")
    assert undo.undo(entry.batch).changed == 1
    assert licence_rows(user_id) == before  # the same types, the same creation time
    restored = AuditEvent.get(AuditEvent.action == "pupil.restore")
    assert restored.user_id == user_id and restored.target == "user0@example.org"


def test_undo_of_a_deletion_brings_the_account_back_with_pupils_and_logins(db):
    ids = make_users(3)
    give_pupils(ids[0], 2)
    before = licence_rows(ids[0])
    login = LoginEvent.create(user=ids[0], at=datetime(2026, 1, 1, 8, 0))
    assert delete_users(ids[:2], detail="review") == 2
    assert U.get_by_id(ids[0]).deleted_at is not None
    assert licence_rows(ids[0]) == set()  # the pupils no longer count it as a holder
    assert LoginEvent.get_by_id(login.id).user_id == ids[0]
    batch = AuditEvent.get(AuditEvent.action == "account.delete").batch
    assert undo.preview(batch).question().endswith("? 2 will be restored.")
    assert undo.undo(batch).changed == 2
    assert U.select().where(U.deleted_at.is_null(False)).count() == 0
    assert licence_rows(ids[0]) == before
    assert LoginEvent.get_by_id(login.id).user_id == ids[0]


def test_a_licence_back_already_is_not_doubled(db):
    (user_id,) = make_users(1)
    (pupil,) = give_pupils(user_id)
    licences.remove_pupil(user_id, pupil)
    Licence.create(user=user_id, pupil=pupil, licence_type=1)  # an import gave one back
    batch = AuditEvent.get(AuditEvent.action == "pupil.remove").batch
    undo.undo(batch)
    assert len(licence_rows(user_id)) == 2


def test_batch_ids_by_prefix_and_clear_errors(db):
    ids = make_users(1)
    denied = access.set_access(ids, False)
    assert undo.resolve(denied.batch[:8].upper()) == denied.batch
    with pytest.raises(InvalidInput, match="at least 6"):
        undo.resolve(denied.batch[:4])
    with pytest.raises(InvalidInput, match="not a batch id"):
        undo.resolve("zz; drop table")
    with pytest.raises(NotFound, match="no batch starting"):
        undo.resolve("0000000000")
    entry_batch = AuditEvent.create(admin="a", action="export", batch="ab" * 16).batch
    with pytest.raises(InvalidInput, match=r"This change \(export\) cannot be undone"):
        undo.preview(entry_batch)
    AuditEvent.create(admin="a", action="access.deny", batch="cd" * 16)
    with pytest.raises(InvalidInput, match="before extgw-tui kept what undo needs"):
        undo.preview("cd" * 16)


def test_nothing_changed_means_no_batch(db):
    ids = make_users(2, denied=2)
    result = access.set_access(ids, False)
    assert result.batch == "" and Batch.select().count() == 0


def test_purge_after_the_retention_period_keeps_ids_and_counts_only(db):
    from extgw_tui.services import purge

    ids = make_users(4)
    give_pupils(ids[0])
    LoginEvent.create(user=ids[0], at=datetime(2025, 1, 1, 8, 0))
    audit_email = "user0@example.org"
    from extgw_tui.services import audit

    audit.record("email.send", user_id=ids[0], target=audit_email, detail=f"550 <{audit_email}>")
    delete_users(ids[:2], detail="review")
    old = datetime(2026, 1, 1, 9, 0)
    U.update(deleted_at=old).where(U.id == ids[0]).execute()  # deleted 31 days before "now"
    batch = AuditEvent.get(AuditEvent.action == "account.delete").batch
    when = datetime(2026, 2, 1, 9, 0, 1)
    assert purge.count_due(30, when) == 1
    result = purge.purge_due(days=30, when=when)
    assert result.purged == 1
    assert result.summary() == "Purged 1 account deleted more than 30 days ago, for good."
    assert U.get_or_none(U.id == ids[0]) is None
    assert U.get_by_id(ids[1]).deleted_at is not None  # within the period: still restorable
    assert LoginEvent.select().where(LoginEvent.user.is_null()).count() == 1  # still counted
    mine = list(AuditEvent.select().where(AuditEvent.user_id == ids[0]).order_by(AuditEvent.id))
    assert [e.action for e in mine] == ["email.send", "account.delete", "account.purge"]
    assert all(e.target == "" for e in mine)
    assert mine[0].detail == "550 <[purged]>"
    assert (
        not AuditEvent.select()
        .where(AuditEvent.target.contains("user0@") | AuditEvent.detail.contains("user0@"))
        .exists()
    )
    # the other account of the batch can still come back; the purged one is counted as gone
    plan = undo.preview(batch)
    assert (plan.accounts, plan.will_change) == (2, 1)
    undo.undo(batch)
    assert U.get_by_id(ids[1]).deleted_at is None
    assert purge.purge_due(days=30, when=when).purged == 0
