"""What the External Gateway portal calls: register, authenticate, delete own account.

A denied account is indistinguishable from an unknown email: the same result, and the same
work (an argon2 verification against a dummy hash), so neither the answer nor its timing
reveals that the account exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email

from extgw_tui.errors import InvalidInput
from extgw_tui.models import (
    ExternalUser,
    LoginEvent,
    database,
    live_user,
    now,
    text_key,
)
from extgw_tui.services.accounts import delete_users
from extgw_tui.services.licences import user_licence_mask
from extgw_tui.services.login_summary import note_login
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


def _allowed_address(email: str):
    return (
        (ExternalUser.email_key == text_key(email.strip()))
        & (ExternalUser.access_allowed == True)  # noqa: E712
        & live_user()
    )


def allowed_account(email: str) -> ExternalUser | None:
    """The allowed account of this address, or None for an unknown or denied one."""
    return ExternalUser.get_or_none(_allowed_address(email))


@dataclass(frozen=True)
class LoginAccount:
    """What a login needs of an allowed account: its hash and the licence types it holds."""

    id: int
    password_hash: str
    licence_mask: int


def login_account(email: str) -> LoginAccount | None:
    """The allowed account of this address with its licence types, in one row; None for an
    unknown or denied one. The types are those held as the password is checked: they are
    recorded with the login and, where the school wants it, refuse an account without pupils."""
    U = ExternalUser
    query = U.select(U.id, U.password_hash, U.licence_mask).where(_allowed_address(email))
    found = query.tuples().first()
    return None if found is None else LoginAccount(*found)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Verify against the account's hash, or (no account) against the dummy: same work."""
    if password_hash is None:
        verify_password(dummy_hash(), password)
        return False
    return verify_password(password_hash, password)


def check_credentials(email: str, password: str) -> ExternalUser | None:
    """The allowed account these credentials open, or None; same work either way."""
    user = allowed_account(email)
    matches = password_matches(user.password_hash if user else None, password)
    return user if matches else None


def record_login(user: ExternalUser, at: datetime | None = None) -> LoginEvent:
    """Record a successful login with the licence types the account holds now."""
    with database.atomic():
        return log_login(user.id, at or now())


def log_login(
    user_id: int, when: datetime, licence_mask: int | None = None, new_hash: str | None = None
) -> LoginEvent:
    """Record a login inside the caller's transaction: the account's last login (and a
    refreshed password hash) first, since on PostgreSQL that UPDATE's row lock is what makes
    two logins of one account take turns (and, taken before the LoginEvent insert share-locks
    the row for its foreign key, cannot deadlock); then the event and the summary counts.
    `licence_mask` None: read the licence types held now."""
    changes = {ExternalUser.last_login_at: when}
    if new_hash is not None:
        changes[ExternalUser.password_hash] = new_hash
    ExternalUser.update(changes).where(ExternalUser.id == user_id).execute()
    mask = user_licence_mask(user_id) if licence_mask is None else licence_mask
    event = LoginEvent.create(at=when, user=user_id, licence_mask=mask)
    note_login(user_id, when, mask)
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
    new_hash = refreshed_hash(user.password_hash, password)
    with database.atomic():
        log_login(user.id, now(), new_hash=new_hash)


def refreshed_hash(password_hash: str, password: str) -> str | None:
    """A hash with today's parameters when the stored one is outdated (hashed outside any
    transaction: it takes a core for a tenth of a second), else None."""
    return hash_password(password) if needs_rehash(password_hash) else None


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
