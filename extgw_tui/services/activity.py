"""The activity log: audit entries newest first, filtered, paged and streamed from the database.

The audit trail can hold millions of entries (a bulk change writes one per account), so nothing
here loads it whole: pages use offset/limit, counts run in SQL, and export streams in keyset
order. The screen lists one row per change (changes(): a batch of 20,000 entries is one row,
opened with batch_entries()); a filter on a user or on text lists the matching entries one by
one, and the export and the command line always do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from peewee import Expression, fn

from extgw_tui.errors import InvalidInput
from extgw_tui.models import AuditEvent, Batch, now
from extgw_tui.services import export_folder

A = AuditEvent

#: Rows fetched per query when streaming the whole log (export, command line).
STREAM_CHUNK = 1000
#: Most filter choices offered for admins or actions; more would not fit a drop-down anyway.
MAX_CHOICES = 500
#: Longest free-text filter used; targets are at most 300 characters.
MAX_TEXT = 300

NEWEST_FIRST = (A.at.desc(), A.id.desc())


@dataclass(frozen=True, slots=True)
class ActivityFilter:
    """What the admin narrowed the log to; None or empty means "any"."""

    admin: str | None = None
    action: str | None = None
    user_id: int | None = None
    text: str | None = None

    def describe(self) -> str:
        """The filter in words, for the export's About sheet and the CLI."""
        parts = []
        if self.admin:
            parts.append(f"admin {self.admin}")
        if self.action:
            parts.append(f"action {self.action}")
        if self.user_id is not None:
            parts.append(f"user {self.user_id}")
        if self.text:
            parts.append(f"target containing \u201c{self.text}\u201d")  # as typed, not repr()
        return ", ".join(parts) if parts else "all entries"


@dataclass(frozen=True, slots=True)
class ActivityRow:
    id: int
    at: datetime
    admin: str
    action: str
    user_id: int | None
    target: str
    outcome: str
    detail: str
    batch: str
    #: How many entries the row stands for: the batch's size on the first entry of a batch
    #: listed as one row (changes()), else 1.
    size: int = 1
    #: For a change that can be undone: "undoable", "undone", or "undo" (an undo itself).
    state: str = ""

    @property
    def what(self) -> str:
        """The target, or for a batch of several accounts how many, with its undo state."""
        text = self.target if self.size == 1 else f"{self.size:,} accounts"
        if self.state == "undone":
            text += " (undone)"
        return text


_ROW_FIELDS = (A.id, A.at, A.admin, A.action, A.user_id, A.target, A.outcome, A.detail, A.batch)


def parse_user_id(text: str | None) -> int | None:
    """The user id typed into a filter box, None when blank, or InvalidInput saying why."""
    value = (text or "").strip().lstrip("#")
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise InvalidInput(f"A user id is a whole number, not {text!r}.")
    return int(value)


def _text_key(text: str | None) -> str:
    """Free text as it can be bound: no NUL, no lone surrogates, trimmed and cut."""
    if not text:
        return ""
    cleaned = text.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8")
    return cleaned.strip()[:MAX_TEXT]


def _condition(flt: ActivityFilter | None) -> Expression | None:
    if flt is None:
        return None
    terms = []
    if flt.admin:
        terms.append(A.admin == flt.admin)
    if flt.action:
        terms.append(A.action == flt.action)
    if flt.user_id is not None:
        terms.append(A.user_id == flt.user_id)
    text = _text_key(flt.text)
    if text:
        terms.append(A.target.contains(text))  # %, _ and \ are escaped by peewee
    if not terms:
        return None
    condition = terms[0]
    for term in terms[1:]:
        condition &= term
    return condition


def _filtered(query, flt: ActivityFilter | None):
    condition = _condition(flt)
    return query.where(condition) if condition is not None else query


def entries(
    flt: ActivityFilter | None = None, *, offset: int = 0, limit: int = 200
) -> list[ActivityRow]:
    """One page of entries, newest first."""
    query = _filtered(A.select(*_ROW_FIELDS), flt).order_by(*NEWEST_FIRST)
    rows = query.offset(max(offset, 0)).limit(max(limit, 0)).tuples()
    return [ActivityRow(*row) for row in rows]


def count(flt: ActivityFilter | None = None) -> int:
    return _filtered(A.select(fn.COUNT(A.id)), flt).scalar() or 0


def grouped(flt: ActivityFilter | None) -> bool:
    """Whether the log lists one row per change: not when narrowed to a user or a text, where
    each matching entry is its own row."""
    return flt is None or (flt.user_id is None and not _text_key(flt.text))


#: The first entry of every batch, and every entry outside one (an index serves it).
_CHANGE = A.batch_tail.is_null()


def changes(
    flt: ActivityFilter | None = None, *, offset: int = 0, limit: int = 200
) -> list[ActivityRow]:
    """One page of the log as the screen lists it: one row per change when grouped(flt)."""
    if not grouped(flt):
        return _with_batch_state(entries(flt, offset=offset, limit=limit), sizes=False)
    query = _filtered(A.select(*_ROW_FIELDS).where(_CHANGE), flt).order_by(*NEWEST_FIRST)
    rows = query.offset(max(offset, 0)).limit(max(limit, 0)).tuples()
    return _with_batch_state([ActivityRow(*row) for row in rows], sizes=True)


def count_changes(flt: ActivityFilter | None = None) -> int:
    if not grouped(flt):
        return count(flt)
    return _filtered(A.select(fn.COUNT(A.id)).where(_CHANGE), flt).scalar() or 0


def _with_batch_state(rows: list[ActivityRow], *, sizes: bool) -> list[ActivityRow]:
    """The rows with their batch's size (when listed as one row) and undo state."""
    ids = sorted({row.batch for row in rows if row.batch})
    if not ids:
        return rows
    size: dict[str, int] = {}
    if sizes:
        query = A.select(A.batch, fn.COUNT(A.id)).where(A.batch.in_(ids)).group_by(A.batch)
        size = dict(query.tuples())
    state = {
        batch_id: "undo" if undoes else ("undone" if undone_by else "undoable")
        for batch_id, undoes, undone_by in Batch.select(Batch.id, Batch.undoes, Batch.undone_by)
        .where(Batch.id.in_(ids))
        .tuples()
    }
    return [
        replace(row, size=size.get(row.batch, 1), state=state.get(row.batch, ""))
        if row.batch
        else row
        for row in rows
    ]


def batch_entries(batch: str, *, offset: int = 0, limit: int = 200) -> list[ActivityRow]:
    """One page of a batch's entries, in the order they were written (the batch opened)."""
    query = A.select(*_ROW_FIELDS).where(A.batch == batch).order_by(A.id)
    rows = [ActivityRow(*row) for row in query.offset(max(offset, 0)).limit(max(limit, 0)).tuples()]
    return _with_batch_state(rows, sizes=False)


def count_batch(batch: str) -> int:
    return A.select(fn.COUNT(A.id)).where(A.batch == batch).scalar() or 0


def iter_entries(
    flt: ActivityFilter | None = None, *, chunk: int = STREAM_CHUNK, limit: int | None = None
) -> Iterator[ActivityRow]:
    """Every matching entry newest first, `chunk` at a time (keyset paging on (at, id))."""
    condition = _condition(flt)
    last: ActivityRow | None = None
    remaining = limit
    while remaining is None or remaining > 0:
        size = chunk if remaining is None else min(chunk, remaining)
        query = A.select(*_ROW_FIELDS)
        where = condition
        if last is not None:
            after = (A.at < last.at) | ((A.at == last.at) & (A.id < last.id))
            where = after if where is None else where & after
        if where is not None:
            query = query.where(where)
        rows = [ActivityRow(*r) for r in query.order_by(*NEWEST_FIRST).limit(size).tuples()]
        yield from rows
        if len(rows) < size:
            return
        last = rows[-1]
        if remaining is not None:
            remaining -= len(rows)


def _distinct(field) -> list[str]:
    query = A.select(field).distinct().order_by(field).limit(MAX_CHOICES).tuples()
    return [value for (value,) in query if value]


def admins() -> list[str]:
    """Every admin who appears in the log, alphabetically (the admin filter's choices)."""
    return _distinct(A.admin)


def actions() -> list[str]:
    """Every action that appears in the log, alphabetically (the action filter's choices)."""
    return _distinct(A.action)


def default_export_path(when: datetime | None = None) -> Path:
    """A proposed file in the export folder, e.g. activity-log_2026-11-28_1405.xlsx."""
    stamp = (when or now()).strftime("%Y-%m-%d_%H%M")
    return export_folder.default_folder() / f"activity-log_{stamp}.xlsx"


def export_log(
    path: Path,
    flt: ActivityFilter | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
):
    """Write the filtered log to an .xlsx workbook, streamed; returns xlsx.WriteResult."""
    from extgw_tui.services import xlsx

    columns = [
        xlsx.Column("When", 20),
        xlsx.Column("Admin", 16),
        xlsx.Column("Action", 18),
        xlsx.Column("User ID", 9),
        xlsx.Column("Target", 32),
        xlsx.Column("Outcome", 10),
        xlsx.Column("Detail", 60),
        xlsx.Column("Batch", 34),
    ]
    rows = (
        (r.at, r.admin, r.action, r.user_id, r.target, r.outcome, r.detail, r.batch)
        for r in iter_entries(flt)
    )
    about = [
        ("Report", "Activity log: what administrators did, newest first"),
        ("Filter", (flt or ActivityFilter()).describe()),
    ]
    return xlsx.write_workbook(
        path,
        sheet_title="Activity",
        columns=columns,
        rows=rows,
        about=about,
        progress=progress,
        should_cancel=should_cancel,
        expected_rows=count(flt),
    )
