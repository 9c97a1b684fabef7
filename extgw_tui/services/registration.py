"""Redeeming a licence key on the portal: a new account, or a further pupil on an existing one.

Every reason a key cannot be used (unknown, redeemed, revoked, expired, its pupil off roll,
a type the account already holds for that pupil, too many failed attempts) gets the same
answer, KeyRefused, and consumes nothing; each counts as a failed attempt against the client
address (and the account, once known) in services/throttle, and past KEY_ATTEMPTS failures in
KEY_WINDOW even a good key is refused. A key whose check character is wrong is Mistyped
instead: that is computed from the text alone and says nothing about any real key.

Exactly one holder per key: the key row is locked before it is checked (SELECT ... FOR UPDATE
on PostgreSQL; on SQLite every write transaction begins IMMEDIATE, so they run one at a time)
and the redeeming UPDATE is conditional on the key still being unused.

A denied or soft-deleted account, or a wrong password, is indistinguishable from an unknown
account (same answer, same argon2 work). An email address held only by a soft-deleted account
is free again: that account is purged when its address registers anew (it could never be
restored anyway, its address now belonging to someone else).
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from extgw_tui.db import is_sqlite
from extgw_tui.errors import InvalidInput
from extgw_tui.models import (
    READY,
    ExternalUser,
    KeyBatch,
    Licence,
    LicenceKey,
    Pupil,
    database,
    live_user,
    now,
    text_key,
)
from extgw_tui.services import audit, throttle
from extgw_tui.services.key_codes import Mistyped, key_digest
from extgw_tui.services.passwords import dummy_hash, hash_password, verify_password
from extgw_tui.services.portal import MIN_PASSWORD, PORTAL, new_account, normalise_email
from extgw_tui.services.purge import purge_deleted_address

#: Failed key attempts per client address or account within KEY_WINDOW before refusing all.
KEY_ATTEMPTS = 10
KEY_WINDOW = 15 * 60
THROTTLE_KIND = "licence_key"

KEY_REFUSED = "That licence key cannot be used."
KEY_MISTYPED = (
    "That licence key is mistyped: it has 20 letters and digits in groups of four; "
    "check it against the letter or email."
)
EMAIL_IN_USE = "An account with this email address already exists."
ACCOUNT_REFUSED = "That email address and password do not match an account."


class KeyRefused(InvalidInput):
    """The one answer for every key that cannot be used."""

    def __init__(self) -> None:
        super().__init__(KEY_REFUSED)


class KeyMistyped(InvalidInput):
    def __init__(self) -> None:
        super().__init__(KEY_MISTYPED)


class AccountRefused(InvalidInput):
    """Unknown, denied or deleted account, or a wrong password: one answer for all."""

    def __init__(self) -> None:
        super().__init__(ACCOUNT_REFUSED)


class _Unusable(Exception):
    """Raised inside the transaction so it rolls back; turned into KeyRefused outside."""


@dataclass(frozen=True)
class Redeemed:
    user: ExternalUser
    licence_id: int
    pupil_id: int
    key_id: int


def _digest(key: str) -> str:
    try:
        return key_digest(key)
    except Mistyped:
        raise KeyMistyped() from None


def _scopes(client: str, user_id: int | None = None) -> list[str]:
    scopes = [f"ip:{client}"]
    if user_id is not None:
        scopes.append(f"user:{user_id}")
    return scopes


def _limited(scopes: list[str]) -> bool:
    return any(throttle.is_limited(THROTTLE_KIND, s, KEY_ATTEMPTS, KEY_WINDOW) for s in scopes)


def _fail(scopes: list[str]) -> KeyRefused:
    for scope in scopes:
        throttle.record_failure(THROTTLE_KIND, scope)
    return KeyRefused()


def _lock_key(digest: str) -> LicenceKey:
    """The usable key with this digest, locked for this transaction, or _Unusable.

    One query (key, batch and pupil joined): on PostgreSQL every round trip counts.
    """
    query = (
        LicenceKey.select(LicenceKey, Pupil.on_roll, Pupil.left_on)
        .join(KeyBatch)
        .switch(LicenceKey)
        .join(Pupil)
        .where((LicenceKey.digest == digest) & (KeyBatch.state == READY))
    )
    if not is_sqlite():
        query = query.for_update(of=LicenceKey)
    key = query.objects().first()
    if key is None or key.redeemed_at is not None or key.revoked_at is not None:
        raise _Unusable()
    if key.expires_at is not None and key.expires_at <= now():
        raise _Unusable()
    if not key.on_roll or key.left_on is not None:
        raise _Unusable()
    return key


def _redeem(key: LicenceKey, user: ExternalUser, how: str) -> Redeemed:
    """Give `user` the key's licence and mark the key redeemed; inside the caller's transaction."""
    held = Licence.select().where(
        (Licence.user == user.id)
        & (Licence.pupil == key.pupil_id)
        & (Licence.licence_type == key.licence_type_id)
    )
    if held.exists():
        raise _Unusable()
    licence = Licence.create(user=user.id, pupil=key.pupil_id, licence_type=key.licence_type_id)
    when = now()
    taken = (
        LicenceKey.update(redeemed_at=when, redeemed_by=user.id, licence=licence.id)
        .where(
            (LicenceKey.id == key.id)
            & LicenceKey.redeemed_at.is_null()
            & LicenceKey.revoked_at.is_null()
        )
        .execute()
    )
    if taken != 1:  # cannot happen under the lock; never hand out a second licence if it does
        raise _Unusable()
    audit.record(
        "key.redeem",
        user_id=user.id,
        target=user.email,
        detail=f"key {key.id} (batch {key.batch_id}) for pupil {key.pupil_id}; {how}",
        admin=PORTAL,
    )
    return Redeemed(user, licence.id, key.pupil_id, key.id)


def _check_new_account(password: str, surname: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD} characters.")
    if not surname.strip():
        raise InvalidInput("A surname is required.")


def _free_address(address_key: str) -> None:
    """EMAIL_IN_USE if a live account (allowed or denied) holds it; purge a deleted holder."""
    holder = ExternalUser.get_or_none(ExternalUser.email_key == address_key)
    if holder is None:
        return
    if holder.deleted_at is None:
        raise InvalidInput(EMAIL_IN_USE)
    purge_deleted_address(address_key)  # audited there, one account.purge entry


def register(
    email: str,
    password: str,
    title: str,
    forename: str,
    surname: str,
    key: str,
    client: str,
) -> ExternalUser:
    """Create an account (ADR true, access allowed) holding the key's licence.

    Raises KeyMistyped, KeyRefused (the key is not consumed), or InvalidInput for the address,
    password or names; EMAIL_IN_USE for any existing account's address, denied ones included.
    The key is checked before the address, so only the holder of a good key learns whether
    an address has an account.
    """
    address = normalise_email(email)
    _check_new_account(password, surname)
    digest = _digest(key)
    scopes = _scopes(client)
    if _limited(scopes):
        raise _fail(scopes)
    password_hash = hash_password(password)
    try:
        with database.atomic():
            locked = _lock_key(digest)
            _free_address(text_key(address))
            user = new_account(address, password_hash, title, forename, surname)
            audit.record("account.register", user_id=user.id, target=user.email, admin=PORTAL)
            _redeem(locked, user, "new account")
    except _Unusable:
        raise _fail(scopes) from None
    except peewee.IntegrityError:  # the same address registered at the same moment
        raise InvalidInput(EMAIL_IN_USE) from None
    return user


def _live_account(address: str, password: str) -> ExternalUser:
    user = ExternalUser.get_or_none(
        (ExternalUser.email_key == text_key(address.strip()))
        & (ExternalUser.access_allowed == True)  # noqa: E712
        & live_user()
    )
    if user is None:
        verify_password(dummy_hash(), password)
        raise AccountRefused()
    if not verify_password(user.password_hash, password):
        raise AccountRefused()
    return user


def register_pupil(email: str, password: str, key: str, client: str) -> Redeemed:
    """Add the key's pupil (its licence type) to an existing, allowed account.

    AccountRefused for an unknown, denied or deleted account or a wrong password, before the
    key is looked at; KeyMistyped or KeyRefused as for register. Consumes nothing on failure.
    """
    digest = _digest(key)
    scopes = _scopes(client)
    if _limited(scopes):
        # the account is checked all the same, so being limited does not reveal it either
        _live_account(email, password)
        raise _fail(scopes)
    user = _live_account(email, password)
    scopes = _scopes(client, user.id)
    if _limited(scopes):
        raise _fail(scopes)
    try:
        with database.atomic():
            if not is_sqlite():  # one redemption per account at a time: no duplicate licence
                ExternalUser.select(ExternalUser.id).where(
                    ExternalUser.id == user.id
                ).for_update().execute()
            locked = _lock_key(digest)
            return _redeem(locked, user, "added to an existing account")
    except (_Unusable, peewee.IntegrityError):
        raise _fail(scopes) from None
