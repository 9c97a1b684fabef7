"""The audit trail: who did what to whom, written inside the transaction of the change."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from extgw_tui import settings
from extgw_tui.db import is_sqlite
from extgw_tui.escapes import escape_controls
from extgw_tui.models import AuditEvent, Batch, now
from extgw_tui.services import schools
from extgw_tui.services.chunks import pg_array

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


def _batch_started(batch: str) -> bool:
    """Whether the batch already has its first entry (a change written a chunk at a time)."""
    return AuditEvent.select(AuditEvent.id).where(AuditEvent.batch == batch).exists()


def _open_batch(batch: str, action: str, admin: str, when: datetime, undoes: str) -> None:
    """The Batch row of an undoable change, written with its first entry."""
    Batch.insert(id=batch, at=when, admin=admin, action=action, undoes=undoes).execute()


def record(
    action: str,
    *,
    user_id: int | None = None,
    target: str = "",
    outcome: str = "ok",
    detail: str = "",
    batch: str = "",
    admin: str | None = None,
    undoable: bool = False,
) -> None:
    """Write one audit entry. Call inside the transaction of the change it describes.

    With a batch, the entry joins it (see record_many); undoable makes a new batch undoable.
    """
    record_many(
        action,
        [(user_id, target)],
        outcome=outcome,
        detail=detail,
        batch=batch,
        admin=admin,
        undoable=undoable,
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
    undoable: bool = False,
    undoes: str = "",
) -> int:
    """Write one entry per (user_id, target) in bulk; returns how many were written.

    Entries of one batch (one administrator's action, perhaps written a chunk at a time) are
    one row in the activity log: the batch's first entry stands for it, the rest are marked
    batch_tail. An undoable batch (undoable, or an undo: undoes names the batch it reverses)
    also gets its Batch row with the first entry.
    """
    when = at or now()
    who = clean(admin or current_admin())[:100]
    note = clean(detail)
    rows = [
        (when, who, action, user_id, clean(target)[:300], outcome, note, batch, True)
        for user_id, target in targets
    ]
    if not rows:
        return 0
    if not batch or not _batch_started(batch):
        rows[0] = rows[0][:-1] + (None,)
        if batch and (undoable or undoes):
            _open_batch(batch, action, who, when, undoes)
    if not batch:
        rows = [row[:-1] + (None,) for row in rows]
    open_school = schools.current()
    school = open_school.key if open_school else None
    if is_sqlite():
        _insert_rows(rows, school, when)
    else:
        _insert_arrays(rows, school)
    return len(rows)


def _insert_rows(rows: list[tuple], school: str | None, when: datetime) -> None:
    """SQLite: multi-row INSERTs of _CHUNK rows. Written here, not with insert_many: peewee
    spends most of a 10,000-account change building its query objects (1.3 s of 2 s,
    measured in benchmarks/)."""
    db = AuditEvent._meta.database
    fields = (*ENTRY_FIELDS, AuditEvent.batch_tail, AuditEvent.school)
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    one = "(" + ", ".join([db.param] * len(fields)) + ")"
    stamp = AuditEvent.at.db_value(when)
    rows = [(stamp, *row[1:], school) for row in rows]
    for start in range(0, len(rows), _CHUNK):
        part = rows[start : start + _CHUNK]
        db.execute_sql(
            f'INSERT INTO "{AuditEvent._meta.table_name}" ({columns}) VALUES '
            + ", ".join([one] * len(part)),
            [value for row in part for value in row],
        )


def _insert_arrays(rows: list[tuple], school: str | None) -> None:
    """PostgreSQL: one INSERT ... SELECT FROM unnest(...) for any number of entries. Only
    user_id, target and batch_tail differ between an action's entries, so they go as three
    arrays and the rest once; WITH ORDINALITY keeps the ids in the order given."""
    when, who, action, _, _, outcome, note, batch, _ = rows[0]
    fields = (*ENTRY_FIELDS, AuditEvent.batch_tail, AuditEvent.school)
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    AuditEvent._meta.database.execute_sql(
        f'INSERT INTO "{AuditEvent._meta.table_name}" ({columns}) '
        "SELECT %s, %s, %s, e.user_id, e.target, %s, %s, %s, e.tail, %s "
        "FROM unnest(%s::integer[], %s::text[], %s::boolean[]) WITH ORDINALITY "
        "AS e(user_id, target, tail, n) ORDER BY e.n",
        [
            AuditEvent.at.db_value(when),
            who,
            action,
            outcome,
            note,
            batch,
            school,
            pg_array(row[3] for row in rows),
            pg_array(row[4] for row in rows),
            pg_array(row[8] for row in rows),
        ],
    )
