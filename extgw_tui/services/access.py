"""Allowing and denying portal access for many users at once, atomically."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from extgw_tui.db import is_sqlite
from extgw_tui.models import ExternalUser, database
from extgw_tui.services import audit
from extgw_tui.services.chunks import chunked, unique_ids
from extgw_tui.text import plural

U = ExternalUser


@dataclass(frozen=True)
class AccessResult:
    allowed: bool
    changed: int
    unchanged: int
    missing: list[int] = field(default_factory=list)

    def summary(self) -> str:
        verb = "Allowed" if self.allowed else "Denied"
        parts = [f"{verb} {plural(self.changed, 'account')}"]
        if self.unchanged:
            parts.append(f"{self.unchanged:,} already {'allowed' if self.allowed else 'denied'}")
        if self.missing:
            parts.append(f"{len(self.missing):,} no longer exist")
        return "; ".join(parts) + "."


def set_access(user_ids: Iterable[int], allowed: bool, *, reason: str = "") -> AccessResult:
    """Set access for every id in one transaction, with an audit entry per changed account.

    Ids that no longer exist (deleted by another admin meanwhile) are reported, not an error.
    """
    ids = unique_ids(user_ids)
    action = "access.allow" if allowed else "access.deny"
    with database.atomic():
        to_change: list[tuple[int, str]] = []
        found: set[int] = set()
        for part in chunked(ids):
            query = U.select(U.id, U.email, U.access_allowed).where(U.id.in_(part))
            if not is_sqlite():  # PostgreSQL: lock in id order, so a concurrent change waits
                query = query.order_by(U.id).for_update()
            rows = query.tuples()
            for user_id, email, current in rows:
                found.add(user_id)
                if bool(current) != allowed:
                    to_change.append((user_id, email))
        change_ids = [user_id for user_id, _ in to_change]
        for part in chunked(change_ids):
            U.update(access_allowed=allowed).where(U.id.in_(part)).execute()
        batch = audit.new_batch()
        audit.record_many(action, to_change, detail=reason, batch=batch)
    missing = [i for i in ids if i not in found]
    return AccessResult(
        allowed=allowed,
        changed=len(to_change),
        unchanged=len(found) - len(to_change),
        missing=missing,
    )
