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
    return tripped_scope(limit, client, email) is not None


def tripped_scope(limit: Limit, client: str, email: str | None = None) -> str | None:
    """The scope (client or email address) this process found limited a moment ago, or None."""
    return _remembered(limit, _scopes(limit, client, email))


def _remembered(limit: Limit, scopes: list[tuple[str, int]]) -> str | None:
    moment = time.monotonic()
    for scope, _ in scopes:
        if _tripped.get((limit.kind, scope), 0.0) > moment:
            return scope
    return None


@dataclass(frozen=True)
class Standing:
    """Whether a client and an email address may try again, and the address's failures."""

    limited: bool
    email_failures: int = 0


def standing(limit: Limit, client: str, email: str | None = None) -> Standing:
    """Both scopes' failures in one query (none at all when this process remembers a limit)."""
    scopes = _scopes(limit, client, email)
    if _remembered(limit, scopes) is not None:
        return Standing(limited=True)
    counts = throttle.recent_failures(limit.kind, [s for s, _ in scopes], limit.window_seconds)
    for scope, most in scopes:
        if counts[scope] >= most:
            if len(_tripped) > 10_000:  # a flood of addresses: start again, stay small
                _tripped.clear()
            _tripped[limit.kind, scope] = time.monotonic() + REMEMBER
            return Standing(limited=True)
    email_failures = counts[scopes[1][0]] if len(scopes) > 1 else 0
    return Standing(limited=False, email_failures=email_failures)


def is_limited(limit: Limit, client: str, email: str | None = None) -> bool:
    """True when this client or this email address has used up the limit."""
    return standing(limit, client, email).limited


def note(limit: Limit, client: str, email: str | None = None) -> None:
    """Count one attempt (a failure, or for reset requests any request) against both."""
    throttle.record_failure(limit.kind, *(scope for scope, _ in _scopes(limit, client, email)))


def forget_email(limit: Limit, email: str) -> None:
    """A success clears the address's failures (its owner knows the password)."""
    throttle.clear(limit.kind, email_scope(email))
    _tripped.pop((limit.kind, email_scope(email)), None)
