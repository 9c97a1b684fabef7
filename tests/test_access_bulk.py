"""Bulk allow/deny written set-based (issue 17): the ids and audit targets go to PostgreSQL as
array literals, so every character an address may hold must come back exactly, in id order,
with the batch's first entry standing for it; deleted and unknown ids are reported."""

from __future__ import annotations

from datetime import datetime

from user_rows import make_users

from extgw_tui.models import AuditEvent, ExternalUser, text_key
from extgw_tui.services import access, undo

#: Addresses with every character an array literal treats specially, and a control character.
AWKWARD = ['a"b@x.org', "c\\d@x.org", "{e,f}@x.org", "g h@x.org", "NULL", "", "é\x1bj@x.org"]


def _awkward_users() -> list[int]:
    ids = []
    for n, email in enumerate(AWKWARD):
        user = ExternalUser.create(
            title="Mx",
            forename=f"F{n}",
            surname=f"Odd{n}",
            surname_key=f"odd{n}",
            email=email,
            email_key=text_key(email) or f"empty{n}",
            password_hash="not-a-hash",
            created_at=datetime(2024, 1, 1),
            adr=False,
        )
        ids.append(user.id)
    return ids


def test_audit_targets_come_back_exactly_in_id_order(db):
    plain = make_users(5)
    odd = _awkward_users()
    ids = plain + odd
    result = access.set_access(list(reversed(ids)), False, reason='why, "quoted"')
    assert result.changed == len(ids) and result.batch
    entries = list(
        AuditEvent.select().where(AuditEvent.batch == result.batch).order_by(AuditEvent.id)
    )
    assert [e.user_id for e in entries] == sorted(ids)
    emails = dict(ExternalUser.select(ExternalUser.id, ExternalUser.email).tuples())
    expected = [emails[i].replace("\x1b", "\\x1b") for i in sorted(ids)]
    assert [e.target for e in entries] == expected
    assert [e.batch_tail for e in entries] == [None] + [True] * (len(ids) - 1)
    assert {(e.action, e.detail, e.outcome) for e in entries} == {
        ("access.deny", 'why, "quoted"', "ok")
    }
    assert not ExternalUser.select().where(ExternalUser.access_allowed).exists()


def test_only_changed_accounts_join_the_batch_and_undo_puts_them_back(db):
    ids = make_users(20)
    access.set_access(ids[:5], False)
    gone = ids[5]
    ExternalUser.update(deleted_at=datetime(2024, 2, 1)).where(ExternalUser.id == gone).execute()
    unknown = max(ids) + 1000
    result = access.set_access([*ids, unknown, ids[7]], False)
    assert (result.changed, result.unchanged) == (14, 5)
    assert result.missing == [gone, unknown]
    batch_users = AuditEvent.select(AuditEvent.user_id).where(AuditEvent.batch == result.batch)
    assert sorted(u for (u,) in batch_users.tuples()) == ids[6:]
    assert undo.undo(result.batch).changed == 14
    denied = ExternalUser.select(ExternalUser.id).where(~ExternalUser.access_allowed)
    assert sorted(i for (i,) in denied.tuples()) == ids[:5]  # the deleted one never changed
    assert access.set_access([unknown], True).missing == [unknown]
