"""Reviewing accounts nobody needs, by one of two rules, then deleting them.

The rules: "inactive" (no pupils and no login for at least N months) and "left" (every pupil the
account holds left the roll at least N months ago: Bromcom's "deactivate old accounts when all
pupils left"). Every function takes the rule as `rule=` (inactive unless said otherwise).

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

The "left" rule: the account holds at least one licence, and every pupil it holds one for is
off the roll with a leaving date on or before the cutoff day (today minus N months, as above).
A pupil off the roll without a leaving date (recorded before leaving dates were kept) keeps the
account off the list: how long ago it left is unknown. Deleting re-checks the same way; an
account whose pupil rejoined the roll, or that gained a pupil, is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from peewee import SQL, Case, Expression, fn

from extgw_tui.db import is_sqlite
from extgw_tui.errors import ExtgwError, InvalidInput
from extgw_tui.models import ExternalUser, Licence, LoginEvent, Pupil, database, live_user
from extgw_tui.services import audit, export_folder, exports, purge, xlsx
from extgw_tui.services.accounts import delete_users
from extgw_tui.services.chunks import chunked, unique_ids
from extgw_tui.services.periods import months_before
from extgw_tui.services.pupils import live
from extgw_tui.text import plural

U = ExternalUser

DEFAULT_MONTHS = 12
#: The rules, by the name the command line and the screen use.
INACTIVE, LEFT = "inactive", "left"
RULES = (INACTIVE, LEFT)
#: Months since the last pupil left, by default: a term after the summer's leavers.
DEFAULT_LEFT_MONTHS = 6
MIN_MONTHS = 1
#: Twenty years: beyond any account this system has held.
MAX_MONTHS = 240
#: Rows fetched per query when streaming the whole list (export, command line).
STREAM_CHUNK = 1000

#: One line (under 80 characters) saying why the review exists.
WHY = "These accounts will not be used again; data protection favours removing them."
#: The rule in words, before "N months" (the screen's threshold label, the CLI's headline).
RULE_TEXT = {
    INACTIVE: "No pupils and no login for at least",
    LEFT: "Every pupil left the roll at least",
}
RULE_NAMES = {INACTIVE: "inactive accounts", LEFT: "accounts whose pupils have all left"}

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
#: The day the last of an account's pupils left the roll (for the "left" rule's rows).
LAST_LEFT = (
    Pupil.select(fn.MAX(Pupil.left_on))
    .join(Licence, on=(Licence.pupil == Pupil.id))
    .where(Licence.user == U.id)
)
SORTS["left"] = (SQL('"last_left_on"'), U.id)  # the column the "left" rule's rows select
#: Sorting by months is sorting by the day counted from, the other way round.
REVERSED_SORTS = {"months": "activity"}
LEFT_REVERSED_SORTS = {"months": "left"}


def check_rule(rule: str) -> str:
    if rule not in RULES:
        raise InvalidInput(f"There is no review rule {rule!r}; choose {' or '.join(RULES)}.")
    return rule


def default_months(rule: str = INACTIVE) -> int:
    return DEFAULT_LEFT_MONTHS if check_rule(rule) == LEFT else DEFAULT_MONTHS


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
    #: The "left" rule: when the last of the account's pupils left, and months since then.
    last_left_on: date | None = None
    months_since_left: int | None = None

    @property
    def last_activity(self) -> datetime:
        return self.last_login_at or self.created_at

    def months(self, rule: str) -> int:
        """The months the rule counts: inactive, or since the last pupil left."""
        if rule == LEFT and self.months_since_left is not None:
            return self.months_since_left
        return self.months_inactive


@dataclass(frozen=True)
class ReviewDeleteResult:
    deleted: int
    kept: list[tuple[int, str]] = field(default_factory=list)
    #: The deletion's batch: undoing it restores the accounts until they are purged.
    batch: str = ""
    retention_days: int = 0

    def summary(self) -> str:
        parts = [f"Deleted {plural(self.deleted, 'account')}"]
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
    return plural(months, "month")


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


def _inactive(boundary: datetime) -> Expression:
    """No licence, and last activity before the boundary: one range of the activity index
    (db.USER_SEARCH_INDEXES), read without the table: the work follows the old accounts, not
    all of them."""
    old = LAST_ACTIVITY < boundary  # noqa: SIM300 (an SQL expression, not a constant)
    return live(U.id) & old & _no_licence() & _no_login_since(boundary)


def _still_there(cutoff: date) -> Expression:
    """A pupil who keeps an account: on roll, leaving date unknown, or left after the cutoff."""
    return (Pupil.on_roll == True) | Pupil.left_on.is_null() | (Pupil.left_on > cutoff)  # noqa: E712


def _all_left(boundary: datetime) -> Expression:
    """Holds a pupil who left on or before the cutoff day, and none who is still there.

    Driven from the leavers (a few hundred pupils), not from 100,000 accounts.
    """
    cutoff = boundary.date() - timedelta(days=1)
    leavers = (
        Licence.select(Licence.user)
        .join(Pupil)
        .where((Pupil.on_roll == False) & (Pupil.left_on <= cutoff))  # noqa: E712
    )
    staying = (
        Licence.select(SQL("1")).join(Pupil).where((Licence.user == U.id) & _still_there(cutoff))
    )
    return U.id.in_(leavers) & ~fn.EXISTS(staying) & live(U.id)


def _condition(boundary: datetime, rule: str = INACTIVE) -> Expression:
    return _all_left(boundary) if check_rule(rule) == LEFT else _inactive(boundary)


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


def _fields(rule: str) -> tuple:
    return (*_ROW_FIELDS, LAST_LEFT.alias("last_left_on")) if rule == LEFT else _ROW_FIELDS


def _rows(query, today: date, rule: str = INACTIVE) -> list[ReviewRow]:
    out = []
    for row in query.tuples():
        created, last_login = row[5], row[6]
        inactive = months_inactive(last_login or created, today)
        if rule != LEFT:
            out.append(ReviewRow(*row, inactive))
            continue
        left = _as_date(row[8])
        since = months_inactive(left, today) if left is not None else None
        out.append(ReviewRow(*row[:8], inactive, left, since))
    return out


def _as_date(value: date | str | None) -> date | None:
    """A subquery's date: SQLite returns the text peewee stored."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _order(sort: str, descending: bool, rule: str = INACTIVE) -> list:
    reversed_sorts = LEFT_REVERSED_SORTS if rule == LEFT else REVERSED_SORTS
    if sort in reversed_sorts:
        sort, descending = reversed_sorts[sort], not descending
    default = "left" if rule == LEFT else "activity"
    fields = SORTS.get(sort, SORTS[default])
    return [f.desc() if descending else f.asc() for f in fields]


def candidates(
    months: int = DEFAULT_MONTHS,
    *,
    sort: str = "activity",
    descending: bool = False,
    offset: int = 0,
    limit: int = 200,
    today: date | None = None,
    rule: str = INACTIVE,
) -> list[ReviewRow]:
    """One page of candidates, oldest activity (or leaving) first unless another column is
    chosen."""
    today = today or date.today()
    order = _order(sort, descending, rule)
    page = (
        U.select(*_fields(rule) if rule == LEFT else (U.id,))  # LEFT sorts by its subquery
        .where(_condition(_boundary(months, today), rule))
        .order_by(*order)
        .offset(max(offset, 0))
        .limit(max(limit, 0))
    )
    if rule == LEFT:
        return _rows(page, today, rule)
    # The page's ids first, then their rows: the ids come from the activity index alone, so
    # only the page's own rows are read from the table, not every old account skipped.
    query = U.select(*_fields(rule)).where(U.id.in_(page)).order_by(*order)
    return _rows(query, today, rule)


def count_candidates(
    months: int = DEFAULT_MONTHS, today: date | None = None, rule: str = INACTIVE
) -> int:
    condition = _condition(_boundary(months, today), rule)
    return U.select(fn.COUNT(U.id)).where(condition).scalar() or 0


def candidate_ids(
    months: int = DEFAULT_MONTHS, today: date | None = None, rule: str = INACTIVE
) -> list[int]:
    """Every candidate's id (for 'mark all' and the command line): ints only, never rows."""
    query = U.select(U.id).where(_condition(_boundary(months, today), rule)).order_by(U.id)
    return [row[0] for row in query.tuples()]


def iter_candidates(
    months: int = DEFAULT_MONTHS,
    today: date | None = None,
    chunk: int = STREAM_CHUNK,
    rule: str = INACTIVE,
) -> Iterator[ReviewRow]:
    """Every candidate in id order, fetched `chunk` rows at a time (keyset paging, no OFFSET)."""
    today = today or date.today()
    condition = _condition(_boundary(months, today), rule)
    last_id = 0
    while True:
        query = (
            U.select(*_fields(rule)).where(condition & (U.id > last_id)).order_by(U.id).limit(chunk)
        )
        rows = _rows(query, today, rule)
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
        reasons[user_id] = f"now has {plural(pupils, 'pupil')}"
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


def _left_kept_reasons(part: Sequence[int], boundary: datetime) -> dict[int, str]:
    """Why each of these ids may not be deleted under the "left" rule now."""
    cutoff = boundary.date() - timedelta(days=1)
    alive = {i for (i,) in U.select(U.id).where(U.id.in_(part) & live(U.id)).tuples()}
    reasons = {i: "no longer exists" for i in part if i not in alive}
    held = (
        Licence.select(
            Licence.user,
            fn.SUM(Case(None, [(Pupil.on_roll == True, 1)], 0)),  # noqa: E712
            fn.MAX(Case(None, [(Pupil.on_roll == False, Pupil.left_on)], None)),  # noqa: E712
            fn.SUM(Case(None, [(_still_there(cutoff), 1)], 0)),
        )
        .join(Pupil)
        .where(Licence.user.in_(part))
        .group_by(Licence.user)
        .tuples()
    )
    holding = set()
    for user_id, on_roll, last_left, staying in held:
        holding.add(user_id)
        if on_roll:
            reasons.setdefault(user_id, f"now has {plural(on_roll, 'pupil')} on the roll")
        elif staying:
            left = _as_date(last_left)
            if left is not None and left > cutoff:
                reasons.setdefault(user_id, f"a pupil left on {left.isoformat()}, too recently")
            else:
                reasons.setdefault(user_id, "a pupil's leaving date is not known")
    for user_id in alive - holding:
        reasons.setdefault(user_id, "holds no pupil any more (the inactive rule applies)")
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
    rule: str = INACTIVE,
) -> ReviewDeleteResult:
    """Delete the listed accounts that still qualify under `rule`, in one transaction; report
    the rest.

    Each account is locked and re-checked inside the transaction; deletion goes through
    accounts.delete_users (a soft delete, restorable by undoing the batch until the purge),
    with one "account.delete" audit entry per deleted account, all in one batch.
    progress(ids handled) is called after each chunk; should_cancel() turning true rolls
    everything back (DeleteCancelled).
    """
    ids = unique_ids(user_ids)
    boundary = _boundary(months, today)
    threshold = months_text(check_months(months))
    if check_rule(rule) == LEFT:
        detail = f"review: every pupil left the roll at least {threshold} ago"
    else:
        detail = f"review: no pupils and no login for {threshold}"
    kept_reasons = _left_kept_reasons if rule == LEFT else _kept_reasons
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
            reasons = kept_reasons(part, boundary)
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


LEFT_EXPORT_COLUMNS = [
    *EXPORT_COLUMNS[:6],
    xlsx.Column("Last pupil left", 14),
    xlsx.Column("Months since", 12),
    xlsx.Column("Last login", 20),
    xlsx.Column("Access", 10),
]


def default_export_path(
    months: int = DEFAULT_MONTHS, today: date | None = None, rule: str = INACTIVE
) -> Path:
    """A proposed file in the export folder, named like the other exports' files.

    e.g. review-accounts_12-months_2026-11-28.xlsx, review-pupils-left_6-months_2026-11-28.xlsx
    """
    day = (today or date.today()).isoformat()
    threshold = months_text(check_months(months)).replace(" ", "-")
    stem = "review-pupils-left" if check_rule(rule) == LEFT else "review-accounts"
    return export_folder.default_folder() / f"{stem}_{threshold}_{day}.xlsx"


def _account_cells(r: ReviewRow) -> tuple:
    """The first six export columns, the same under both rules."""
    return (r.id, r.title, r.forename, r.surname, r.email, r.created_at)


def _export_cells(r: ReviewRow) -> tuple:
    """A row of the "inactive" list, in EXPORT_COLUMNS' order."""
    access = "Allowed" if r.access_allowed else "Denied"
    return (*_account_cells(r), r.last_login_at or "Never", r.months_inactive, access)


def _left_export_cells(r: ReviewRow) -> tuple:
    """A row of the "left" list, in LEFT_EXPORT_COLUMNS' order: when the last pupil left."""
    access = "Allowed" if r.access_allowed else "Denied"
    last_login = r.last_login_at or "Never"
    return (*_account_cells(r), r.last_left_on, r.months_since_left, last_login, access)


#: Per rule: the export's name, its columns and cells, what the About sheet says it holds and
#: what its cutoff day is.
_EXPORTS = {
    INACTIVE: (
        "review list",
        EXPORT_COLUMNS,
        _export_cells,
        "Accounts with no pupils and no login for at least the threshold",
        "Last activity on or before",
    ),
    LEFT: (
        "review list (pupils left)",
        LEFT_EXPORT_COLUMNS,
        _left_export_cells,
        "Accounts whose pupils have all left the roll, the last at least the threshold ago",
        "Last pupil left on or before",
    ),
}


def export_candidates(
    path: Path,
    months: int = DEFAULT_MONTHS,
    *,
    today: date | None = None,
    progress: exports.Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    rule: str = INACTIVE,
) -> xlsx.WriteResult:
    """Write every candidate to an .xlsx workbook, streamed in chunks, through the export code
    (so it is audited like every export); progress(rows_written, total_rows)."""
    today = today or date.today()
    threshold = months_text(check_months(months))
    what, columns, cells, report, cutoff = _EXPORTS[check_rule(rule)]
    about = [
        ("Report", report),
        ("Threshold", threshold),
        (cutoff, cutoff_day(months, today).isoformat()),
        ("Why", WHY),
    ]
    return exports.write_export(
        path,
        what=what,
        facts=[f"threshold: {threshold}"],
        sheet_title="Review",
        columns=columns,
        rows=(cells(r) for r in iter_candidates(months, today, rule=rule)),
        about=about,
        count=lambda: count_candidates(months, today, rule),
        progress=progress,
        should_cancel=should_cancel,
    )
