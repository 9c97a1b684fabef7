"""Redeeming licence keys (services/registration) on both backends, with real key batches."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from key_helpers import add_pupil, keys_for, parent_type

from extgw_tui.models import (
    Attempt,
    AuditEvent,
    ExternalUser,
    KeyBatch,
    Licence,
    LicenceKey,
    Pupil,
    now,
)
from extgw_tui.services import registration
from extgw_tui.services.key_codes import key_digest, new_key
from extgw_tui.services.passwords import verify_password
from extgw_tui.services.registration import (
    ACCOUNT_REFUSED,
    EMAIL_IN_USE,
    KEY_ATTEMPTS,
    KEY_MISTYPED,
    KEY_REFUSED,
    AccountRefused,
    KeyMistyped,
    KeyRefused,
    register,
    register_pupil,
)

PASSWORD = "correct horse battery"
IP = "203.0.113.7"


def new_account(email: str, key: str, client: str = IP) -> ExternalUser:
    return register(email, PASSWORD, "Mrs", "Ann", "Jones", key, client)


def key_row(key: str) -> LicenceKey:
    return LicenceKey.get(LicenceKey.digest == key_digest(key))


def unused(key: str) -> bool:
    row = key_row(key)
    return row.redeemed_at is None and row.redeemed_by_id is None and row.licence_id is None


def test_register_creates_the_account_and_licence_and_uses_the_key(db, tmp_path):
    pupil = add_pupil("Okafor")
    first, second = keys_for(tmp_path, pupil)
    user = new_account("Ann.Jones@Example.org", first)
    assert user.adr and user.access_allowed and user.deleted_at is None
    assert verify_password(ExternalUser.get_by_id(user.id).password_hash, PASSWORD)
    licence = Licence.get(Licence.user == user.id)
    assert (licence.pupil_id, licence.licence_type_id) == (pupil.id, parent_type())
    row = key_row(first)
    assert (row.redeemed_by_id, row.licence_id) == (user.id, licence.id)
    assert row.redeemed_at is not None
    assert unused(second)
    actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert actions[-2:] == ["account.register", "key.redeem"]
    assert AuditEvent.get(AuditEvent.action == "key.redeem").admin == "portal"


def test_a_key_is_read_as_people_type_it(db, tmp_path):
    pupil = add_pupil()
    (key,) = keys_for(tmp_path, pupil, per_pupil=1)
    typed = key.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    new_account("a@example.org", f"  {typed} ")
    assert not unused(key)


def test_a_mistyped_key_is_told_apart_and_costs_nothing(db, tmp_path):
    pupil = add_pupil()
    (key,) = keys_for(tmp_path, pupil, per_pupil=1)
    chars = list(key)
    chars[0] = "Z" if chars[0] != "Z" else "Y"  # one wrong character: the check catches it
    for bad in ("".join(chars), key[:-1], key + "X", "hello"):
        with pytest.raises(KeyMistyped) as caught:
            new_account("a@example.org", bad)
        assert str(caught.value) == KEY_MISTYPED
    assert Attempt.select().count() == 0
    assert ExternalUser.select().count() == 0
    assert unused(key)


def _refused(email: str, key: str, client: str = IP) -> None:
    with pytest.raises(KeyRefused) as caught:
        new_account(email, key, client)
    assert str(caught.value) == KEY_REFUSED


def test_every_unusable_key_gets_the_same_answer_and_is_not_consumed(db, tmp_path):
    pupil = add_pupil()
    used, revoked, expired, off_roll = keys_for(tmp_path, pupil, per_pupil=4)
    new_account("first@example.org", used)
    LicenceKey.update(revoked_at=now()).where(LicenceKey.digest == key_digest(revoked)).execute()
    LicenceKey.update(expires_at=now() - timedelta(seconds=1)).where(
        LicenceKey.digest == key_digest(expired)
    ).execute()
    for key in (used, revoked, expired, new_key()):
        _refused("second@example.org", key)
    Pupil.update(on_roll=False, left_on=date.today()).where(Pupil.id == pupil.id).execute()
    _refused("second@example.org", off_roll)
    assert unused(off_roll) and unused(revoked) and unused(expired)
    assert ExternalUser.select().count() == 1
    assert Licence.select().count() == 1
    Pupil.update(on_roll=True, left_on=None).where(Pupil.id == pupil.id).execute()
    new_account("second@example.org", off_roll)  # back on roll: the same key works
    assert Attempt.select().count() == 5


def test_keys_of_an_unfinished_batch_cannot_be_used(db, tmp_path):
    pupil = add_pupil()
    (key,) = keys_for(tmp_path, pupil, per_pupil=1)
    KeyBatch.update(state="generating").execute()
    _refused("a@example.org", key)
    assert unused(key)


def test_an_address_in_use_answers_the_same_for_allowed_and_denied_accounts(db, tmp_path):
    pupil = add_pupil()
    first, second, third = keys_for(tmp_path, pupil, per_pupil=3)
    new_account("allowed@example.org", first)
    denied = new_account("denied@example.org", second)
    ExternalUser.update(access_allowed=False).where(ExternalUser.id == denied.id).execute()
    answers = []
    for email in ("ALLOWED@example.org", "denied@example.org"):
        with pytest.raises(registration.InvalidInput) as caught:
            new_account(email, third)
        answers.append((type(caught.value), str(caught.value)))
    assert answers[0] == answers[1] == (registration.InvalidInput, EMAIL_IN_USE)
    assert unused(third)
    assert Attempt.select().count() == 0  # the key was good: not a failed key attempt


def test_a_bad_key_is_refused_before_the_address_is_looked_at(db, tmp_path):
    pupil = add_pupil()
    first, _ = keys_for(tmp_path, pupil)
    new_account("taken@example.org", first)
    _refused("taken@example.org", first)  # the key answer, saying nothing about the address


def test_an_address_held_only_by_a_deleted_account_registers_anew(db, tmp_path):
    pupil = add_pupil()
    first, second = keys_for(tmp_path, pupil)
    old = new_account("back@example.org", first)
    ExternalUser.update(deleted_at=now()).where(ExternalUser.id == old.id).execute()
    user = new_account("back@example.org", second)
    assert user.id != old.id
    assert ExternalUser.get_or_none(ExternalUser.id == old.id) is None
    assert [lic.user_id for lic in Licence.select()] == [user.id]
    purge = AuditEvent.get(AuditEvent.action == "account.purge")
    assert purge.user_id == old.id and purge.target == ""


def test_register_pupil_adds_the_pupil_to_an_existing_account(db, tmp_path):
    older, younger = add_pupil("Older"), add_pupil("Younger", year=9, form="9C")
    (first,) = keys_for(tmp_path, older, per_pupil=1, name="a.xlsx")
    (second,) = keys_for(tmp_path, younger, per_pupil=1, name="b.xlsx")
    user = new_account("parent@example.org", first)
    done = register_pupil("Parent@Example.org", PASSWORD, second, IP)
    assert done.pupil_id == younger.id and done.user.id == user.id
    held = sorted(lic.pupil_id for lic in Licence.select().where(Licence.user == user.id))
    assert held == sorted([older.id, younger.id])
    assert key_row(second).redeemed_by_id == user.id


def test_register_pupil_refuses_a_type_already_held_for_that_pupil(db, tmp_path):
    pupil = add_pupil()
    first, second = keys_for(tmp_path, pupil)
    new_account("parent@example.org", first)
    with pytest.raises(KeyRefused):
        register_pupil("parent@example.org", PASSWORD, second, IP)
    assert unused(second)


def test_unknown_denied_deleted_or_wrong_password_are_one_answer(db, tmp_path):
    pupil = add_pupil()
    first, second, third, fourth = keys_for(tmp_path, pupil, per_pupil=4)
    new_account("denied@example.org", first)
    new_account("deleted@example.org", second)
    new_account("ok@example.org", third)
    ExternalUser.update(access_allowed=False).where(
        ExternalUser.email == "denied@example.org"
    ).execute()
    ExternalUser.update(deleted_at=now()).where(
        ExternalUser.email == "deleted@example.org"
    ).execute()
    tries = [
        ("nobody@example.org", PASSWORD),
        ("denied@example.org", PASSWORD),
        ("deleted@example.org", PASSWORD),
        ("ok@example.org", "wrong password here"),
    ]
    for email, password in tries:
        with pytest.raises(AccountRefused) as caught:
            register_pupil(email, password, fourth, IP)
        assert str(caught.value) == ACCOUNT_REFUSED
    # a bad key as well changes nothing: the account is checked first
    with pytest.raises(AccountRefused):
        register_pupil("denied@example.org", PASSWORD, "0000-0000-0000-0000-0000", IP)
    assert unused(fourth)
    assert Licence.select().count() == 3


def test_too_many_failed_keys_from_one_address_refuse_even_a_good_key(db, tmp_path):
    pupil = add_pupil()
    (good,) = keys_for(tmp_path, pupil, per_pupil=1)
    for _ in range(KEY_ATTEMPTS):
        _refused("guess@example.org", new_key())
    _refused("someone@example.org", good)  # limited: the same answer, the key kept
    assert unused(good)
    new_account("someone@example.org", good, client="198.51.100.9")  # another address works


def test_too_many_failed_keys_on_one_account_refuse_it_from_any_address(db, tmp_path):
    first_pupil, second_pupil = add_pupil("One"), add_pupil("Two")
    (first,) = keys_for(tmp_path, first_pupil, per_pupil=1, name="a.xlsx")
    (second,) = keys_for(tmp_path, second_pupil, per_pupil=1, name="b.xlsx")
    new_account("parent@example.org", first)
    for n in range(KEY_ATTEMPTS):
        with pytest.raises(KeyRefused):
            register_pupil("parent@example.org", PASSWORD, new_key(), f"192.0.2.{n}")
    with pytest.raises(KeyRefused):
        register_pupil("parent@example.org", PASSWORD, second, "192.0.2.200")
    assert unused(second)
