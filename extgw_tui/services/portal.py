"""What the External Gateway portal calls: register, authenticate, delete own account.

A denied account is indistinguishable from an unknown email: the same result, and the same
work (an argon2 verification against a dummy hash), so neither the answer nor its timing
reveals that the account exists.
"""

from __future__ import annotations

from datetime import datetime

from email_validator import EmailNotValidError, validate_email

from extgw_tui.errors import InvalidInput
from extgw_tui.models import ExternalUser, LoginEvent, database, live_user, now, text_key
from extgw_tui.services.accounts import delete_users
from extgw_tui.services.licences import user_licence_mask
from extgw_tui.services.login_summary import lock_account, note_login
from extgw_tui.services.passwords import (
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from extgw_tui.services.purge import purge_deleted_address

PORTAL = "portal"
MIN_PASSWORD = 10


def normalise_email(email: str) -> str:
    """A syntactically valid single address (no DNS lookup), or InvalidInput saying why."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"{email!r} is not a valid email address: {exc}") from exc


def register(
    email: str, password: str, *, title: str = "", forename: str = "", surname: str
) -> ExternalUser:
    """Create an account; ADR is true for every new account (since May 2023)."""
    address = normalise_email(email)
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD} characters.")
    if not surname.strip():
        raise InvalidInput("A surname is required.")
    password_hash = hash_password(password)
    with database.atomic():
        purge_deleted_address(text_key(address))  # a deleted account's address, used again
        if ExternalUser.select().where(ExternalUser.email_key == text_key(address)).exists():
            raise InvalidInput("An account with this email address already exists.")
        return new_account(address, password_hash, title, forename, surname)


def new_account(
    address: str, password_hash: str, title: str, forename: str, surname: str
) -> ExternalUser:
    """The row of a new account, allowed, ADR true (since May 2023); inside the caller's
    transaction, after its checks."""
    return ExternalUser.create(
        title=title.strip(),
        forename=forename.strip(),
        surname=surname.strip(),
        email=address,
        password_hash=password_hash,
        adr=True,
        access_allowed=True,
    )


def allowed_account(email: str) -> ExternalUser | None:
    """The allowed account of this address, or None for an unknown or denied one."""
    return ExternalUser.get_or_none(
        (ExternalUser.email_key == text_key(email.strip()))
        & (ExternalUser.access_allowed == True)  # noqa: E712
        & live_user()
    )


def check_credentials(email: str, password: str) -> ExternalUser | None:
    """The allowed account these credentials open, or None; same work either way."""
    user = allowed_account(email)
    if user is None:
        verify_password(dummy_hash(), password)
        return None
    return user if verify_password(user.password_hash, password) else None


def record_login(user: ExternalUser, at: datetime | None = None) -> LoginEvent:
    """Record a successful login with the licence types the account holds now."""
    when = at or now()
    with database.atomic():
        lock_account(user.id)  # before the insert: its foreign key would share-lock the row
        mask = user_licence_mask(user.id)
        event = LoginEvent.create(at=when, user=user.id, licence_mask=mask)
        note_login(user.id, when, mask)
        ExternalUser.update(last_login_at=when).where(ExternalUser.id == user.id).execute()
    return event


def authenticate(email: str, password: str) -> ExternalUser | None:
    """Log in: the account on success (login recorded), None for wrong, unknown or denied."""
    user = check_credentials(email, password)
    if user is None:
        return None
    complete_login(user, password)
    return user


def complete_login(user: ExternalUser, password: str) -> None:
    """After the password was verified: refresh an outdated hash, record the login."""
    if needs_rehash(user.password_hash):
        ExternalUser.update(password_hash=hash_password(password)).where(
            ExternalUser.id == user.id
        ).execute()
    record_login(user)


def delete_own_account(email: str, password: str) -> bool:
    """The holder deletes their own account (password confirmed); False if the login fails.

    Same rules as the review's deletion (accounts.delete_users): a soft delete, restorable
    by undoing its batch until the purge, one "account.delete" audit entry by the portal.
    """
    user = check_credentials(email, password)
    if user is None:
        return False
    detail = "self-service: the holder deleted their own account"
    return bool(delete_users([user.id], detail=detail, admin=PORTAL))
