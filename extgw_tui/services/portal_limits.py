"""The portal's rate limits, on services/throttle.py (shared by every portal process).

Each limit is counted per client address and per email address (as the SHA-256 of its key,
never the account), so it trips the same way for an unknown, a denied and a real account and
never reveals which one exists. A tripped limit is answered before any password is hashed:
a hammer on one address costs a database read, not an argon2 verification; and for a few
seconds after the database said "limited", not even that (`tripped`, from this process's
memory), so 10,000 attempts on one account leave the others' logins their CPU.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from extgw_tui.services import throttle

#: Seconds a scope found limited is answered from memory without asking the database again.
#: Limits only loosen as their window slides, so this keeps a client out at most this much longer.
REMEMBER = 5.0
_tripped: dict[tuple[str, str], float] = {}


@dataclass
class Limit:
    """Changed only by set_limits, as a portal worker starts."""

    kind: str
    per_client: int
    per_email: int
    window_seconds: int


#: Failed logins: 10 per address per 15 minutes, 100 per client address (a school's NAT).
LOGIN = Limit("portal.login", per_client=100, per_email=10, window_seconds=15 * 60)
#: Password reset requests (every one counts): 20 per client, 3 per email address an hour.
RESET_REQUEST = Limit("portal.reset", per_client=20, per_email=3, window_seconds=60 * 60)
#: Reset tokens refused (guessing): 20 per client an hour.
RESET_TOKEN = Limit("portal.reset_token", per_client=20, per_email=0, window_seconds=60 * 60)


def set_limits(*, login: tuple[int, int], reset: tuple[int, int]) -> None:
    """config.toml's [portal] limits, (per client, per email), for this process."""
    LOGIN.per_client, LOGIN.per_email = login
    RESET_REQUEST.per_client, RESET_REQUEST.per_email = reset


def email_scope(email: str) -> str:
    return throttle.email_scope(email.strip())


def _scopes(limit: Limit, client: str, email: str | None) -> list[tuple[str, int]]:
    scopes = [(f"ip:{client}", limit.per_client)]
    if email is not None and limit.per_email:
        scopes.append((email_scope(email), limit.per_email))
    return scopes


def tripped(limit: Limit, client: str, email: str | None = None) -> bool:
    """True when this process found the limit reached a moment ago (no database work)."""
    moment = time.monotonic()
    return any(
        _tripped.get((limit.kind, scope), 0.0) > moment
        for scope, _ in _scopes(limit, client, email)
    )


def is_limited(limit: Limit, client: str, email: str | None = None) -> bool:
    """True when this client or this email address has used up the limit."""
    if tripped(limit, client, email):
        return True
    for scope, most in _scopes(limit, client, email):
        if throttle.is_limited(limit.kind, scope, most, limit.window_seconds):
            if len(_tripped) > 10_000:  # a flood of addresses: start again, stay small
                _tripped.clear()
            _tripped[limit.kind, scope] = time.monotonic() + REMEMBER
            return True
    return False


def note(limit: Limit, client: str, email: str | None = None) -> None:
    """Count one attempt (a failure, or for reset requests any request) against both."""
    throttle.record_failure(limit.kind, *(scope for scope, _ in _scopes(limit, client, email)))


def forget_email(limit: Limit, email: str) -> None:
    """A success clears the address's failures (its owner knows the password)."""
    throttle.clear(limit.kind, email_scope(email))
    _tripped.pop((limit.kind, email_scope(email)), None)
