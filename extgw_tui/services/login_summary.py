"""The login summary tables: kept up to date as each login is recorded, or rebuilt in SQL.

Charts over 2,000,000 login events cannot GROUP BY the raw table within a few hundred
milliseconds, so each login also
- adds one to its day's count for its licence-type mask (LoginDay),
- notes that its account logged in during its month, ISO week and school year with that mask
  (LoginUserPeriod), and
- when that is the account's first login of the period (overall, or under a licence type it
  holds), adds one to the period's distinct users (LoginPeriodUsers).
After a bulk insert of LoginEvent rows (the demo generator, an import), call
rebuild_login_summary().
"""

from __future__ import annotations

import operator
from datetime import datetime
from functools import reduce

from peewee import SQL, NodeList, PostgresqlDatabase, fn

from extgw_tui.models import (
    MAX_LICENCE_TYPE_ID,
    ExternalUser,
    LicenceType,
    LoginDay,
    LoginEvent,
    LoginPeriodUsers,
    LoginUserPeriod,
    database,
    licence_bit,
)
from extgw_tui.services.periods import KIND, period_start

#: LoginPeriodUsers.licence_type of the count over every account.
EVERYONE = 0

#: Period start of a timestamp, per backend: (SQLite, PostgreSQL) SQL with {0} for the column.
_PERIOD_START_SQL = {
    "m": ("date({0}, 'start of month')", "CAST(date_trunc('month', {0}) AS DATE)"),
    "w": ("date({0}, 'weekday 0', '-6 days')", "CAST(date_trunc('week', {0}) AS DATE)"),
    "y": (
        "date({0}, 'start of month', '-8 months', 'start of year', '+8 months')",
        "CAST(date_trunc('year', {0} - interval '8 months') + interval '8 months' AS DATE)",
    ),
}


def _types_in(mask: int) -> list[int]:
    return [t for t in range(1, MAX_LICENCE_TYPE_ID + 1) if mask & licence_bit(t)]


def note_login(user_id: int, at: datetime, licence_mask: int) -> None:
    """Count one login in the summary, in at most four statements (the day, the account's
    periods read at once, the new ones, their counts); call inside the transaction that
    records it, after that transaction has locked the account's row (portal.record_login),
    so two logins of one account cannot both count as its first of a period."""
    day = at.date()
    LoginDay.insert(day=day, licence_mask=licence_mask, logins=1).on_conflict(
        conflict_target=[LoginDay.day, LoginDay.licence_mask],
        update={LoginDay.logins: LoginDay.logins + 1},
    ).execute()
    P, U = LoginUserPeriod, LoginPeriodUsers
    starts = {kind: period_start(kind, day) for kind in KIND.values()}
    in_periods = reduce(operator.or_, ((P.kind == k) & (P.start == s) for k, s in starts.items()))
    seen: dict[str, list[int]] = {kind: [] for kind in starts}
    for kind, mask in (
        P.select(P.kind, P.licence_mask).where((P.user_id == user_id) & in_periods).tuples()
    ):
        seen[kind].append(mask)
    periods, firsts = [], []
    for kind, start in starts.items():
        if licence_mask in seen[kind]:
            continue
        periods.append((kind, start, user_id, licence_mask))
        held_before = 0
        for mask in seen[kind]:
            held_before |= mask
        first = [EVERYONE] if not seen[kind] else []
        first += [t for t in _types_in(licence_mask) if not held_before & licence_bit(t)]
        firsts += [(kind, start, type_id, 1) for type_id in first]
    if periods:
        P.insert_many(periods, fields=[P.kind, P.start, P.user_id, P.licence_mask]).execute()
    if firsts:
        U.insert_many(firsts, fields=[U.kind, U.start, U.licence_type, U.users]).on_conflict(
            conflict_target=[U.kind, U.licence_type, U.start],
            update={U.users: U.users + 1},
        ).execute()


def _is_postgres() -> bool:
    """The bound backend is PostgreSQL (its date functions differ from SQLite's)."""
    return isinstance(database.obj, PostgresqlDatabase)


def _period_start(kind: str) -> NodeList:
    """SQL for the start of LoginEvent.at's period of `kind`, in the bound backend's dialect."""
    sqlite, postgres = _PERIOD_START_SQL[kind]
    template = postgres if _is_postgres() else sqlite
    before, after = template.split("{0}")
    return NodeList((SQL(before), LoginEvent.at, SQL(after)), glue="")


def rebuild_login_summary() -> None:
    """Recompute the summary tables from LoginEvent, in SQL, in one transaction.

    The periods of since-deleted accounts stay (LoginEvent no longer says whose logins they
    were), so a rebuild never loses what the incremental upkeep counted.
    """
    E, P, U = LoginEvent, LoginUserPeriod, LoginPeriodUsers
    with database.atomic():
        LoginDay.delete().execute()
        day = fn.DATE(E.at)
        LoginDay.insert_from(
            E.select(day, E.licence_mask, fn.COUNT(E.id)).group_by(day, E.licence_mask),
            [LoginDay.day, LoginDay.licence_mask, LoginDay.logins],
        ).execute()
        P.delete().where(P.user_id.in_(ExternalUser.select(ExternalUser.id))).execute()
        for kind in KIND.values():
            start = _period_start(kind)
            P.insert_from(
                E.select(SQL(f"'{kind}'"), start, E.user, E.licence_mask)
                .where(E.user.is_null(False))
                .group_by(start, E.user, E.licence_mask),
                [P.kind, P.start, P.user_id, P.licence_mask],
            ).execute()
        U.delete().execute()
        U.insert_from(
            P.select(P.kind, P.start, SQL(str(EVERYONE)), fn.COUNT(P.user_id.distinct())).group_by(
                P.kind, P.start
            ),
            [U.kind, U.start, U.licence_type, U.users],
        ).execute()
        for (type_id,) in LicenceType.select(LicenceType.id).tuples():
            U.insert_from(
                P.select(P.kind, P.start, SQL(str(int(type_id))), fn.COUNT(P.user_id.distinct()))
                .where(P.licence_mask.bin_and(licence_bit(type_id)) != 0)
                .group_by(P.kind, P.start),
                [U.kind, U.start, U.licence_type, U.users],
            ).execute()
