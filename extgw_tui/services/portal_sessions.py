"""Portal sessions: opaque bearer tokens, stored only as their SHA-256, with sliding expiry.

A token is 32 random bytes (256 bits). The database keeps its hash, so a copy of the database
opens no session. Every request checks the account again: a session of an account an
administrator denied (or deleted, or, where the school wants it, left without pupils) stops
working on its next request, without anyone having to find and revoke it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import fn

from extgw_tui.models import (
    ExternalUser,
    Licence,
    PasswordReset,
    PortalSession,
    database,
    live_user,
    now,
)

#: A session unused for this long ends; each use pushes its end this far ahead again.
IDLE = timedelta(minutes=30)
#: However busy, a session ends this long after its login.
ABSOLUTE = timedelta(hours=12)
#: The sliding expiry is written at most this often per session, not on every request.
TOUCH_EVERY = timedelta(minutes=1)

S = PortalSession
U = ExternalUser


def set_lifetime(idle: timedelta, absolute: timedelta) -> None:
    """The portal's [portal] session_idle_minutes and session_max_hours, for this process."""
    global IDLE, ABSOLUTE
    IDLE, ABSOLUTE = idle, absolute


@dataclass(frozen=True)
class SessionUser:
    """Who a valid session belongs to."""

    session_id: int
    user_id: int
    email: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def open_session(user_id: int, at: datetime | None = None) -> str:
    """A new session for the account; returns the token (shown once, never stored)."""
    token = secrets.token_urlsafe(32)
    when = at or now()
    S.create(
        token_hash=token_hash(token),
        user=user_id,
        created_at=when,
        last_seen_at=when,
        expires_at=min(when + IDLE, when + ABSOLUTE),
    )
    return token


def _account_usable(require_pupil: bool):
    condition = (U.access_allowed == True) & live_user()  # noqa: E712
    if require_pupil:
        condition &= fn.EXISTS(Licence.select(Licence.id).where(Licence.user == U.id))
    return condition


def resolve(token: str, *, require_pupil: bool = False) -> SessionUser | None:
    """The account of a valid session, sliding its expiry; None for anything else.

    Invalid, expired, revoked, and sessions of accounts that are denied, deleted or (with
    require_pupil) hold no pupil all look alike to the caller.
    """
    if not token or len(token) > 200:
        return None
    when = now()
    row = (
        S.select(S.id, S.user, S.created_at, S.last_seen_at, U.email)
        .join(U)
        .where(
            (S.token_hash == token_hash(token))
            & S.revoked_at.is_null()
            & (S.expires_at > when)
            & _account_usable(require_pupil)
        )
        .tuples()
        .first()
    )
    if row is None:
        return None
    session_id, user_id, created_at, last_seen_at, email = row
    if when - last_seen_at >= TOUCH_EVERY:
        S.update(last_seen_at=when, expires_at=min(when + IDLE, created_at + ABSOLUTE)).where(
            S.id == session_id
        ).execute()
    return SessionUser(session_id, user_id, email)


def revoke(token: str) -> bool:
    """End one session (logout); False when there was none to end."""
    changed = (
        S.update(revoked_at=now())
        .where((S.token_hash == token_hash(token)) & S.revoked_at.is_null())
        .execute()
    )
    return bool(changed)


def revoke_all(user_id: int) -> int:
    """End every session of the account (a password reset); call inside its transaction."""
    return S.update(revoked_at=now()).where((S.user == user_id) & S.revoked_at.is_null()).execute()


def purge_expired(before: datetime | None = None) -> int:
    """Delete sessions and reset codes that ended more than a day ago (the portal, hourly)."""
    limit = (before or now()) - timedelta(days=1)
    with database.atomic():
        R = PasswordReset
        R.delete().where((R.expires_at < limit) | (R.used_at < limit)).execute()
        return S.delete().where((S.expires_at < limit) | (S.revoked_at < limit)).execute()
