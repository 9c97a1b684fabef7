"""Login statistics: one user's logins, and logins of everyone or of one licence type's holders.

Everything is aggregated in SQL with plain range comparisons (`CASE WHEN x >= a AND x < b`), so
the same query runs on SQLite and PostgreSQL. Group charts read the summary tables kept by
services/login_summary.py; counting by licence type uses the mask each login recorded, so the
logins of since-deleted accounts still count, and so do they among the distinct users.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from peewee import Case, Expression, Node, fn

from extgw_tui.errors import InvalidInput
from extgw_tui.models import (
    ExternalUser,
    LoginDay,
    LoginEvent,
    LoginPeriodUsers,
    licence_bit,
    live_user,
)
from extgw_tui.services import licences, periods
from extgw_tui.services.login_summary import EVERYONE
from extgw_tui.services.periods import Period

#: "Logged in during the last 30 days" means on or after the day 30 days before today.
RECENT_DAYS = 30


@dataclass(frozen=True)
class UserLoginSummary:
    total: int
    last_30_days: int
    last_12_months: int  # the twelve calendar months of per_month, this one included
    first_at: datetime | None
    last_at: datetime | None
    per_month: list[tuple[str, int]]  # 12 entries, oldest first, labels like "2026-01"


@dataclass(frozen=True)
class AccountFigures:
    accounts: int
    allowed: int
    denied: int
    last_30_days: int
    last_12_months: int  # rolling: since year_from, the review's rule
    never: int
    year_from: date


def logged_in(f: AccountFigures) -> str:
    """The accounts by last login, in the same words on the screen and from `extgw-tui stats`
    (short enough for 80 columns at 100,000 accounts)."""
    return (
        f"Logged in: 30 days {f.last_30_days:,} · since {f.year_from:%-d %b %Y} (12 months) "
        f"{f.last_12_months:,} · never {f.never:,}"
    )


@dataclass(frozen=True)
class LoginSeries:
    mode: str
    labels: list[str]
    logins: list[int]
    users: list[int]  # distinct accounts that logged in during each period
    first_day: date  # the first and last days the periods cover (the last is today at most)
    last_day: date


@dataclass(frozen=True)
class Group:
    """All users (licence_type_id None) or the holders of one licence type."""

    licence_type_id: int | None
    name: str


ALL = Group(None, "All")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def _sum_if(condition: Node) -> Node:
    return fn.SUM(Case(None, [(condition, 1)], 0))


def _bucket(day: Node, shown: list[Period]) -> Node:
    """The index of the period a day falls in (the query keeps only days inside them)."""
    return Case(None, [(day < p.end, i) for i, p in enumerate(shown)], len(shown))


def user_login_summary(user_id: int, today: date | None = None) -> UserLoginSummary:
    """One user's logins: totals, first and last, and per month for the last 12 months."""
    today = today or date.today()
    months = periods.last_months(today)
    at = LoginEvent.at
    recent = _midnight(today - timedelta(days=RECENT_DAYS))
    columns = [
        fn.COUNT(LoginEvent.id),
        _sum_if(at >= recent),
        fn.MIN(at),
        fn.MAX(at),
        *(_sum_if((at >= _midnight(p.start)) & (at < _midnight(p.end))) for p in months),
    ]
    row = LoginEvent.select(*columns).where(LoginEvent.user == user_id).tuples().get()
    total, last_30, first_at, last_at, *counts = row
    per_month = [(p.label, int(c or 0)) for p, c in zip(months, counts, strict=True)]
    return UserLoginSummary(
        total=int(total or 0),
        last_30_days=int(last_30 or 0),
        last_12_months=sum(c for _, c in per_month),
        first_at=_as_datetime(first_at),
        last_at=_as_datetime(last_at),
        per_month=per_month,
    )


def _as_datetime(value: datetime | str | None) -> datetime | None:
    """MIN/MAX of a DateTimeField come back as text on SQLite."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _as_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def groups() -> list[Group]:
    """All, then every licence type in the database (defaults first)."""
    return [ALL, *(Group(type_id, name) for type_id, name in licences.licence_types())]


def group_named(name: str | None) -> Group:
    """The group for a licence type name (case-insensitive), or All for None."""
    if name is None:
        return ALL
    type_id = licences.licence_type_id(name)
    return next(g for g in groups() if g.licence_type_id == type_id)


def spans(mode: str, today: date) -> list[Period]:
    """The periods a chart of `mode` shows; the year mode starts at the first login."""
    if mode == periods.MONTHS:
        return periods.last_months(today)
    if mode == periods.WEEKS:
        return periods.last_weeks(today)
    if mode == periods.YEARS:
        first = LoginDay.select(fn.MIN(LoginDay.day)).scalar()
        return periods.school_years(_as_date(first), today)
    raise InvalidInput(f"Unknown period {mode!r}; choose months, weeks or years.")


def _in_group(condition: Expression, mask_column: Node, group: Group) -> Expression:
    """condition, and for a licence type: the recorded mask holds that type's bit."""
    if group.licence_type_id is None:
        return condition
    return condition & (mask_column.bin_and(licence_bit(group.licence_type_id)) != 0)


def login_series(group: Group, mode: str, today: date | None = None) -> LoginSeries:
    """Logins and distinct users per period for the group, oldest period first."""
    today = today or date.today()
    shown = spans(mode, today)
    first, end = shown[0].start, shown[-1].end
    bucket = _bucket(LoginDay.day, shown)
    logins = [0] * len(shown)
    rows = (
        LoginDay.select(bucket, fn.SUM(LoginDay.logins))
        .where(
            _in_group((LoginDay.day >= first) & (LoginDay.day < end), LoginDay.licence_mask, group)
        )
        .group_by(bucket)
        .tuples()
    )
    for index, count in rows:
        logins[int(index)] = int(count)
    users = [0] * len(shown)
    position = {p.start: i for i, p in enumerate(shown)}
    U = LoginPeriodUsers
    rows = (
        U.select(U.start, U.users)
        .where(
            (U.kind == periods.KIND[mode])
            & (U.licence_type == (group.licence_type_id or EVERYONE))
            & (U.start >= first)
            & (U.start < end)
        )
        .tuples()
    )
    for start, count in rows:
        users[position[_as_date(start)]] = int(count)
    last_day = min(today, end - timedelta(days=1))
    return LoginSeries(mode, [p.label for p in shown], logins, users, first, last_day)


#: What each mode's periods span, for the period's name.
SPANS = {
    periods.MONTHS: "last 12 calendar months",
    periods.WEEKS: "last 12 ISO weeks",
    periods.YEARS: "every school year",
}


def period_name(series: LoginSeries) -> str:
    """The period a chart shows, in the same words on the screen and from `extgw-tui stats`:
    "last 12 calendar months (1 Jan 2026 to 2 Dec 2026)"."""
    return f"{SPANS[series.mode]} ({series.first_day:%-d %b %Y} to {series.last_day:%-d %b %Y})"


def account_figures(group: Group, today: date | None = None) -> AccountFigures:
    """Accounts of the group (holding the licence type now), by access and by last login."""
    today = today or date.today()
    U = ExternalUser
    recent = _midnight(today - timedelta(days=RECENT_DAYS))
    year_from = periods.rolling_year_start(today)
    year = _midnight(year_from)
    query = U.select(
        fn.COUNT(U.id),
        _sum_if(U.access_allowed == True),  # noqa: E712
        _sum_if(U.last_login_at >= recent),
        _sum_if(U.last_login_at >= year),
        _sum_if(U.last_login_at.is_null()),
    )
    # a deleted account's past logins still count above; a type's holders are read from the
    # account's own record of the types it holds, not from a join with every licence
    query = query.where(_in_group(live_user(), U.licence_mask, group))
    accounts, allowed, last_30, last_12, never = (int(v or 0) for v in query.tuples().get())
    return AccountFigures(accounts, allowed, accounts - allowed, last_30, last_12, never, year_from)


@dataclass(frozen=True)
class GroupStatistics:
    group: Group
    series: LoginSeries
    figures: AccountFigures


def group_statistics(group: Group, mode: str, today: date | None = None) -> GroupStatistics:
    """Everything the statistics screen and `extgw-tui stats` show for one group and mode."""
    today = today or date.today()
    return GroupStatistics(group, login_series(group, mode, today), account_figures(group, today))
