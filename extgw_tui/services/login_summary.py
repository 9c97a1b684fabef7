"""The login summary tables (LoginDay, LoginUserPeriod): kept up to date per login, or rebuilt.

Charts over 2,000,000 login events cannot GROUP BY the raw table within a few hundred
milliseconds on SQLite, so each login also bumps its day's count and notes that its account
logged in during its month, week and school year. After a bulk insert of LoginEvent rows
(the demo generator, an import), call rebuild_login_summary().
"""

from __future__ import annotations

from datetime import datetime

from peewee import SQL, NodeList, PostgresqlDatabase, fn

from extgw_tui.models import LoginDay, LoginEvent, LoginUserPeriod, database
from extgw_tui.services.periods import KIND, period_start

#: Period start of a timestamp, per backend: (SQLite, PostgreSQL) SQL with {0} for the column.
_PERIOD_START_SQL = {
    "m": ("date({0}, 'start of month')", "CAST(date_trunc('month', {0}) AS DATE)"),
    "w": ("date({0}, 'weekday 0', '-6 days')", "CAST(date_trunc('week', {0}) AS DATE)"),
    "y": (
        "date({0}, 'start of month', '-8 months', 'start of year', '+8 months')",
        "CAST(date_trunc('year', {0} - interval '8 months') + interval '8 months' AS DATE)",
    ),
}


def note_login(user_id: int, at: datetime, licence_mask: int) -> None:
    """Count one login in the summary; call inside the transaction that records it."""
    day = at.date()
    LoginDay.insert(day=day, licence_mask=licence_mask, logins=1).on_conflict(
        conflict_target=[LoginDay.day, LoginDay.licence_mask],
        update={LoginDay.logins: LoginDay.logins + 1},
    ).execute()
    rows = [(kind, period_start(kind, day), user_id, licence_mask) for kind in KIND.values()]
    LoginUserPeriod.insert_many(
        rows,
        fields=[
            LoginUserPeriod.kind,
            LoginUserPeriod.start,
            LoginUserPeriod.user,
            LoginUserPeriod.licence_mask,
        ],
    ).on_conflict_ignore().execute()


def _period_start(kind: str) -> NodeList:
    """SQL for the start of LoginEvent.at's period of `kind`, in the bound backend's dialect."""
    sqlite, postgres = _PERIOD_START_SQL[kind]
    template = postgres if isinstance(database.obj, PostgresqlDatabase) else sqlite
    before, after = template.split("{0}")
    return NodeList((SQL(before), LoginEvent.at, SQL(after)), glue="")


def rebuild_login_summary() -> None:
    """Recompute both summary tables from LoginEvent, in SQL, in one transaction."""
    E = LoginEvent
    with database.atomic():
        LoginDay.delete().execute()
        LoginUserPeriod.delete().execute()
        day = fn.DATE(E.at)
        LoginDay.insert_from(
            E.select(day, E.licence_mask, fn.COUNT(E.id)).group_by(day, E.licence_mask),
            [LoginDay.day, LoginDay.licence_mask, LoginDay.logins],
        ).execute()
        for kind in KIND.values():
            start = _period_start(kind)
            query = (
                E.select(SQL(f"'{kind}'"), start, E.user, E.licence_mask)
                .where(E.user.is_null(False))
                .group_by(start, E.user, E.licence_mask)
            )
            LoginUserPeriod.insert_from(
                query,
                [
                    LoginUserPeriod.kind,
                    LoginUserPeriod.start,
                    LoginUserPeriod.user,
                    LoginUserPeriod.licence_mask,
                ],
            ).execute()
