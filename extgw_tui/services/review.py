"""Reviewing inactive accounts: no pupils and no login for at least N months, then deleting them.

"At least N months" is counted in calendar months back from today. The cutoff day is today
minus N months, clamped to the end of a shorter month (31 March minus 1 month is 28 or 29
February). An account's last activity is its last login or, if it never logged in, its
creation; it is inactive when that falls on or before the cutoff day. So on 15 May 2026 with
N = 12, a login on 15 May 2025 (at any time of day) qualifies and one on 16 May 2025 does not;
an account created last week that never logged in does not either. An account holding any
licence (a pupil) is never a candidate. Both the account's last_login_at and its login history
are checked, so a login recorded in either keeps it off the list.

Deleting re-checks every account inside the deleting transaction, with the rows locked where
the backend can (PostgreSQL FOR UPDATE; SQLite takes its write lock when the transaction
begins), so an account that logged in or gained a pupil since the list was drawn is kept.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from peewee import SQL, Expression, fn

from extgw_tui import settings
from extgw_tui.db import is_sqlite
from extgw_tui.errors import ExtgwError, InvalidInput
from extgw_tui.models import ExternalUser, Licence, LoginEvent, database, live_user
from extgw_tui.services import audit, exports, purge, xlsx
from extgw_tui.services.accounts import delete_users
from extgw_tui.services.chunks import chunked, unique_ids

U = ExternalUser

DEFAULT_MONTHS = 12
MIN_MONTHS = 1
#: Twenty years: beyond any account this system has held.
MAX_MONTHS = 240
#: Rows fetched per query when streaming the whole list (export, command line).
STREAM_CHUNK = 1000

#: One line (under 80 characters) saying why the review exists.
WHY = "These accounts will not be used again; data protection favours removing them."

#: The last login, or the creation of an account that never logged in.
LAST_ACTIVITY = fn.COALESCE(U.last_login_at, U.created_at)

SORTS: dict[str, tuple] = {
    "activity": (LAST_ACTIVITY, U.id),
    "id": (U.id,),
    "title": (U.title, U.surname_key, U.id),
    "surname": (U.surname_key, U.forename, U.id),
    "email": (U.email_key,),
    "created": (U.created_at, U.id),
    "last_login": (U.last_login_at, U.id),
    "access": (U.access_allowed, U.surname_key, U.id),
}
#: Sorting by months inactive is sorting by last activity the other way round.
REVERSED_SORTS = {"months": "activity"}


@dataclass(frozen=True, slots=True)
class ReviewRow:
    id: int
    title: str
    forename: str
    surname: str
    email: str
    created_at: datetime
    last_login_at: datetime | None
    access_allowed: bool
    months_inactive: int

    @property
    def last_activity(self) -> datetime:
        return self.last_login_at or self.created_at


@dataclass(frozen=True)
class ReviewDeleteResult:
    deleted: int
    kept: list[tuple[int, str]] = field(default_factory=list)
    #: The deletion's batch: undoing it restores the accounts until they are purged.
    batch: str = ""
    retention_days: int = 0

    def summary(self) -> str:
        parts = [f"Deleted {self.deleted:,} account{'s' if self.deleted != 1 else ''}"]
        if self.kept:
            parts.append(f"kept {len(self.kept):,} that no longer qualify")
        text = "; ".join(parts) + "."
        if self.deleted and self.batch:
            text += (
                f" They can be restored for {self.retention_days} days by undoing batch "
                f"{self.batch[:8]} (activity log, or extgw-tui undo {self.batch[:8]})."
            )
        return text


def check_months(months: int) -> int:
    """The threshold as an int within range, or InvalidInput saying what is allowed."""
    try:
        value = int(months)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"The threshold must be a whole number of months, not {months!r}."
        ) from exc
    if not MIN_MONTHS <= value <= MAX_MONTHS:
        raise InvalidInput(f"The threshold must be between {MIN_MONTHS} and {MAX_MONTHS} months.")
    return value


def months_text(months: int) -> str:
    """The threshold in words: "1 month", "12 months"."""
    return f"{months} month{'' if months == 1 else 's'}"


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier, clamped to the end of a shorter month."""
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cutoff_day(months: int, today: date | None = None) -> date:
    """The latest day of last activity that makes an account a candidate."""
    return months_before(today or date.today(), check_months(months))


def _boundary(months: int, today: date | None) -> datetime:
    """The first instant that is too recent: midnight after the cutoff day."""
    return datetime.combine(cutoff_day(months, today) + timedelta(days=1), time.min)


def months_inactive(last_activity: datetime | date, today: date | None = None) -> int:
    """Whole calendar months since the day of last activity; consistent with cutoff_day."""
    day = last_activity.date() if isinstance(last_activity, datetime) else last_activity
    today = today or date.today()
    months = (today.year - day.year) * 12 + (today.month - day.month)
    if months > 0 and day > months_before(today, months):
        months -= 1
    return max(months, 0)


def _no_licence() -> Expression:
    return ~fn.EXISTS(Licence.select(SQL("1")).where(Licence.user == U.id))


def _no_login_since(boundary: datetime) -> Expression:
    """The login history agrees (last_login_at is kept with it, but the history is the truth)."""
    recent = LoginEvent.select(SQL("1")).where(
        (LoginEvent.user == U.id) & (LoginEvent.at >= boundary)
    )
    return ~fn.EXISTS(recent)


def _condition(boundary: datetime) -> Expression:
    """No licence, and last activity before the boundary, written so the indexes can serve."""
    inactive = (U.last_login_at < boundary) | (
        U.last_login_at.is_null() & (U.created_at < boundary)
    )
    return live_user() & inactive & _no_licence() & _no_login_since(boundary)


_ROW_FIELDS = (
    U.id,
    U.title,
    U.forename,
    U.surname,
    U.email,
    U.created_at,
    U.last_login_at,
    U.access_allowed,
)


def _rows(query, today: date) -> list[ReviewRow]:
    out = []
    for row in query.tuples():
        created, last_login = row[5], row[6]
        out.append(ReviewRow(*row, months_inactive(last_login or created, today)))
    return out


def _order(sort: str, descending: bool) -> list:
    if sort in REVERSED_SORTS:
        sort, descending = REVERSED_SORTS[sort], not descending
    fields = SORTS.get(sort, SORTS["activity"])
    return [f.desc() if descending else f.asc() for f in fields]


def candidates(
    months: int = DEFAULT_MONTHS,
    *,
    sort: str = "activity",
    descending: bool = False,
    offset: int = 0,
    limit: int = 200,
    today: date | None = None,
) -> list[ReviewRow]:
    """One page of candidates, oldest activity first unless another column is chosen."""
    today = today or date.today()
    query = (
        U.select(*_ROW_FIELDS)
        .where(_condition(_boundary(months, today)))
        .order_by(*_order(sort, descending))
        .offset(max(offset, 0))
        .limit(max(limit, 0))
    )
    return _rows(query, today)


def count_candidates(months: int = DEFAULT_MONTHS, today: date | None = None) -> int:
    return U.select(fn.COUNT(U.id)).where(_condition(_boundary(months, today))).scalar() or 0


def candidate_ids(months: int = DEFAULT_MONTHS, today: date | None = None) -> list[int]:
    """Every candidate's id (for 'mark all' and the command line): ints only, never rows."""
    query = U.select(U.id).where(_condition(_boundary(months, today))).order_by(U.id)
    return [row[0] for row in query.tuples()]


def iter_candidates(
    months: int = DEFAULT_MONTHS, today: date | None = None, chunk: int = STREAM_CHUNK
) -> Iterator[ReviewRow]:
    """Every candidate in id order, fetched `chunk` rows at a time (keyset paging, no OFFSET)."""
    today = today or date.today()
    condition = _condition(_boundary(months, today))
    last_id = 0
    while True:
        query = (
            U.select(*_ROW_FIELDS).where(condition & (U.id > last_id)).order_by(U.id).limit(chunk)
        )
        rows = _rows(query, today)
        yield from rows
        if len(rows) < chunk:
            return
        last_id = rows[-1].id


def _kept_reasons(part: Sequence[int], boundary: datetime) -> dict[int, str]:
    """Why each of these ids may not be deleted now; ids absent from the result may be."""
    existing = {
        user_id: (last_login, created)
        for user_id, last_login, created in U.select(U.id, U.last_login_at, U.created_at)
        .where(U.id.in_(part) & live_user())
        .tuples()
    }
    reasons = {i: "no longer exists" for i in part if i not in existing}
    with_pupils = (
        Licence.select(Licence.user, fn.COUNT(fn.DISTINCT(Licence.pupil)))
        .where(Licence.user.in_(part))
        .group_by(Licence.user)
        .tuples()
    )
    for user_id, pupils in with_pupils:
        reasons[user_id] = f"now has {pupils} pupil{'s' if pupils != 1 else ''}"
    recent = (
        LoginEvent.select(LoginEvent.user, fn.MAX(LoginEvent.at))
        .where(LoginEvent.user.in_(part) & (LoginEvent.at >= boundary))
        .group_by(LoginEvent.user)
        .tuples()
    )
    for user_id, at in recent:
        reasons.setdefault(user_id, f"logged in on {_day(at)}")
    for user_id, (last_login, created) in existing.items():
        if user_id in reasons:
            continue
        if last_login is not None and last_login >= boundary:
            reasons[user_id] = f"logged in on {_day(last_login)}"
        elif last_login is None and created >= boundary:
            reasons[user_id] = f"created on {_day(created)}, too recently"
    return reasons


def _day(value: datetime) -> str:
    return value.strftime("%Y-%m-%d")


class DeleteCancelled(ExtgwError):
    """The administrator stopped the deletion before it committed; nothing was deleted."""


def delete_accounts(
    user_ids: Iterable[int],
    months: int = DEFAULT_MONTHS,
    *,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> ReviewDeleteResult:
    """Delete the listed accounts that still qualify, in one transaction; report the rest.

    Each account is locked and re-checked inside the transaction; deletion goes through
    accounts.delete_users (a soft delete, restorable by undoing the batch until the purge),
    with one "account.delete" audit entry per deleted account, all in one batch.
    progress(ids handled) is called after each chunk; should_cancel() turning true rolls
    everything back (DeleteCancelled).
    """
    ids = unique_ids(user_ids)
    boundary = _boundary(months, today)
    detail = f"review: no pupils and no login for {months_text(check_months(months))}"
    batch = audit.new_batch()
    days = purge.retention_days()  # a bad setting is refused before anything is deleted
    kept: list[tuple[int, str]] = []
    deleted = done = 0
    with database.atomic():
        for part in chunked(ids):
            _check_cancel(should_cancel)
            lock = U.select(U.id).where(U.id.in_(part))
            if not is_sqlite():
                lock.for_update().execute()
            reasons = _kept_reasons(part, boundary)
            kept.extend((i, reasons[i]) for i in part if i in reasons)
            go = [i for i in part if i not in reasons]
            deleted += delete_users(go, batch, detail=detail)
            done += len(part)
            if progress is not None:
                progress(done)
        _check_cancel(should_cancel)
    return ReviewDeleteResult(deleted, kept, batch, days)


def _check_cancel(should_cancel: Callable[[], bool] | None) -> None:
    if should_cancel is not None and should_cancel():
        raise DeleteCancelled("Deletion cancelled; nothing was deleted.")


EXPORT_COLUMNS = [
    xlsx.Column("ID", 8),
    xlsx.Column("Title", 8),
    xlsx.Column("Forename", 16),
    xlsx.Column("Surname", 20),
    xlsx.Column("Email", 32),
    xlsx.Column("Account created", 20),
    xlsx.Column("Last login", 20),
    xlsx.Column("Months inactive", 16),
    xlsx.Column("Access", 10),
]


def default_export_path(months: int = DEFAULT_MONTHS, today: date | None = None) -> Path:
    """A proposed file in the export folder, named like the other exports' files.

    e.g. review-accounts_12-months_2026-11-28.xlsx
    """
    day = (today or date.today()).isoformat()
    threshold = months_text(check_months(months)).replace(" ", "-")
    return settings.export_dir() / f"review-accounts_{threshold}_{day}.xlsx"


def export_candidates(
    path: Path,
    months: int = DEFAULT_MONTHS,
    *,
    today: date | None = None,
    progress: exports.Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> xlsx.WriteResult:
    """Write every candidate to an .xlsx workbook, streamed in chunks, through the export code
    (so it is audited like every export); progress(rows_written, total_rows)."""
    today = today or date.today()
    threshold = months_text(check_months(months))
    rows = (
        (
            r.id,
            r.title,
            r.forename,
            r.surname,
            r.email,
            r.created_at,
            r.last_login_at or "Never",
            r.months_inactive,
            "Allowed" if r.access_allowed else "Denied",
        )
        for r in iter_candidates(months, today)
    )
    about = [
        ("Report", "Accounts with no pupils and no login for at least the threshold"),
        ("Threshold", threshold),
        ("Last activity on or before", cutoff_day(months, today).isoformat()),
        ("Why", WHY),
    ]
    return exports.write_export(
        path,
        what="review list",
        facts=[f"threshold: {threshold}"],
        sheet_title="Review",
        columns=EXPORT_COLUMNS,
        rows=rows,
        about=about,
        count=lambda: count_candidates(months, today),
        progress=progress,
        should_cancel=should_cancel,
    )
