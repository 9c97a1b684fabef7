"""Rate limits for the portal: failed attempts per scope in a sliding window.

Kept in the Attempt table, not in memory, so every worker process of the portal counts the same
attempts. A scope names who tried: "ip:<address>", "user:<id>" or "email:<sha256 of the
email key>", so a limit on an address that has no account looks exactly like one that has.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from extgw_tui.models import Attempt, database, now, text_key

#: Attempts older than this are deleted as new ones are recorded (no window is longer).
KEEP = timedelta(days=1)


def email_scope(email: str) -> str:
    """The scope of an email address, whether or not an account has it."""
    return "email:" + hashlib.sha256(text_key(email).encode()).hexdigest()


def record_failure(kind: str, *scopes: str) -> None:
    """Count one failed attempt of `kind` against each scope."""
    at = now()
    with database.atomic():
        Attempt.insert_many(
            [(kind, scope, at) for scope in scopes],
            fields=[Attempt.kind, Attempt.scope, Attempt.at],
        ).execute()
        Attempt.delete().where(Attempt.at < at - KEEP).execute()


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
