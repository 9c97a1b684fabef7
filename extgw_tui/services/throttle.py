"""Rate limits for the portal: failed attempts per scope in a sliding window.

Kept in the Attempt table, not in memory, so every worker process of the portal counts the same
attempts. A scope names who tried: "ip:<address>", "user:<id>" or "email:<sha256 of the
email key>", so a limit on an address that has no account looks exactly like one that has.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from peewee import fn

from extgw_tui.models import Attempt, now, text_key

#: Attempts older than this are deleted by purge_expired (no window is longer).
KEEP = timedelta(days=1)


def email_scope(email: str) -> str:
    """The scope of an email address, whether or not an account has it."""
    return "email:" + hashlib.sha256(text_key(email).encode()).hexdigest()


def record_failure(kind: str, *scopes: str) -> None:
    """Count one failed attempt of `kind` against each scope (one statement)."""
    at = now()
    Attempt.insert_many(
        [(kind, scope, at) for scope in scopes],
        fields=[Attempt.kind, Attempt.scope, Attempt.at],
    ).execute()


def recent_failures(kind: str, scopes: Sequence[str], window_seconds: int) -> dict[str, int]:
    """Each scope's failed attempts of `kind` in the last window, all in one query.

    A limited scope records no more failures (it is refused before any is counted), so
    each count stays near its limit and the index range read for it stays short.
    """
    since = now() - timedelta(seconds=window_seconds)
    rows = (
        Attempt.select(Attempt.scope, fn.COUNT(Attempt.id))
        .where((Attempt.kind == kind) & Attempt.scope.in_(list(scopes)) & (Attempt.at >= since))
        .group_by(Attempt.scope)
        .tuples()
    )
    counts = dict.fromkeys(scopes, 0)
    counts.update(rows)
    return counts


def is_limited(kind: str, scope: str, limit: int, window_seconds: int) -> bool:
    """True when `scope` has `limit` or more failed attempts of `kind` in the last window."""
    since = now() - timedelta(seconds=window_seconds)
    recent = (
        Attempt.select(Attempt.id)
        .where((Attempt.kind == kind) & (Attempt.scope == scope) & (Attempt.at >= since))
        .limit(limit)
    )
    return recent.count() >= limit


def clear(kind: str, scope: str) -> None:
    """Forget a scope's failures (after a success, where the rule says so)."""
    Attempt.delete().where((Attempt.kind == kind) & (Attempt.scope == scope)).execute()


def purge_expired(before: datetime | None = None) -> int:
    """Delete attempts older than KEEP (the portal's housekeeping, hourly, not each request)."""
    return Attempt.delete().where(Attempt.at < (before or now()) - KEEP).execute()
