"""The audit trail: who did what to whom, written inside the transaction of the change."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from extgw_tui import settings
from extgw_tui.escapes import escape_controls
from extgw_tui.models import AuditEvent, now

_admin: str | None = None

#: Rows per INSERT when many audit entries are written at once.
_CHUNK = 500
#: The columns of an entry as record_many (and the demo generator) write them, in order.
ENTRY_FIELDS = (
    AuditEvent.at,
    AuditEvent.admin,
    AuditEvent.action,
    AuditEvent.user_id,
    AuditEvent.target,
    AuditEvent.outcome,
    AuditEvent.detail,
    AuditEvent.batch,
)


def set_admin(name: str) -> None:
    """Set the acting administrator for this process (the CLI's --admin, or the OS login)."""
    global _admin
    _admin = clean(name)[:100] or "admin"


def current_admin() -> str:
    if _admin is None:
        set_admin(settings.admin_name())
    return _admin  # type: ignore[return-value]


def clean(text: str) -> str:
    """Audit text on one line: line breaks and other control characters escaped, never raw."""
    return escape_controls(str(text))


def new_batch() -> str:
    return uuid.uuid4().hex


def record(
    action: str,
    *,
    user_id: int | None = None,
    target: str = "",
    outcome: str = "ok",
    detail: str = "",
    batch: str = "",
    admin: str | None = None,
) -> None:
    """Write one audit entry. Call inside the transaction of the change it describes."""
    AuditEvent.create(
        at=now(),
        admin=clean(admin or current_admin())[:100],
        action=action,
        user_id=user_id,
        target=clean(target)[:300],
        outcome=outcome,
        detail=clean(detail),
        batch=batch,
    )


def record_many(
    action: str,
    targets: Iterable[tuple[int | None, str]],
    *,
    outcome: str = "ok",
    detail: str = "",
    batch: str = "",
    admin: str | None = None,
    at: datetime | None = None,
) -> int:
    """Write one entry per (user_id, target) in bulk; returns how many were written."""
    when = at or now()
    who = clean(admin or current_admin())[:100]
    note = clean(detail)
    rows = [
        (when, who, action, user_id, clean(target)[:300], outcome, note, batch)
        for user_id, target in targets
    ]
    fields = ENTRY_FIELDS
    # Multi-row INSERTs written here: peewee's insert_many spends most of a 10,000-account
    # change building its query objects (1.3 s of 2 s, measured in benchmarks/).
    db = AuditEvent._meta.database
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    one = "(" + ", ".join([db.param] * len(fields)) + ")"
    stamp = AuditEvent.at.db_value(when)
    for start in range(0, len(rows), _CHUNK):
        part = rows[start : start + _CHUNK]
        db.execute_sql(
            f'INSERT INTO "{AuditEvent._meta.table_name}" ({columns}) VALUES '
            + ", ".join([one] * len(part)),
            [stamp if i == 0 else v for row in part for i, v in enumerate(row)],
        )
    return len(rows)
