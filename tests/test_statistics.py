"""Login statistics against figures worked out by hand from a small fixture, on both backends.

Today is Wednesday 2026-03-18: the months shown are 2025-04..2026-03, the weeks 2026-W01
(Mon 2025-12-29)..2026-W12, the school years 2022/23..2025/26 (the first login is in Dec 2022).
eve's account is deleted after her logins: they count, and she counts among the users.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from login_summary_rows import summary_rows

from extgw_tui.models import (
    PARENT_GUARDIAN,
    PUPIL,
    ExternalUser,
    Licence,
    LicenceType,
    Pupil,
    database,
)
from extgw_tui.services import periods, statistics
from extgw_tui.services.accounts import delete_users
from extgw_tui.services.licences import add_licence_type
from extgw_tui.services.login_summary import rebuild_login_summary
from extgw_tui.services.portal import record_login

TODAY = date(2026, 3, 18)
D = datetime

#: (who, when) in time order, so each account's last_login_at ends at its latest login.
LOGINS = [
    ("alice", D(2022, 12, 1, 9, 0)),
    ("frank", D(2025, 3, 31, 23, 59)),  # a day before the 12 calendar months of the chart
    # begin, but within the rolling 12 months of the figures (since 19 March 2025, issue 13)
    ("eve", D(2025, 4, 1, 0, 0)),  # the first instant of the 12 months; eve is deleted later
    ("charlie", D(2025, 8, 31, 23, 59)),  # last minute of school year 2024/25
    ("charlie", D(2025, 9, 1, 0, 0)),  # first minute of 2025/26
    ("alice", D(2026, 1, 5, 8, 0)),  # Monday of 2026-W02
    ("dave", D(2026, 2, 10, 10, 0)),  # 2026-W07
    ("charlie", D(2026, 3, 2, 10, 0)),  # 2026-W10
    ("eve", D(2026, 3, 10, 10, 0)),  # 2026-W11
    ("alice", D(2026, 3, 16, 9, 0)),  # 2026-W12
    ("alice", D(2026, 3, 17, 10, 0)),
]


@pytest.fixture
def fixture_db(db):
    """alice PG; bob PG, denied, never logged in; charlie Pupil; dave PG + Carer; eve PG
    (deleted after her logins); frank holds nothing."""
    carer = add_licence_type("Carer")
    types = dict(LicenceType.select(LicenceType.name, LicenceType.id).tuples())
    p1 = Pupil.create(forename="Pia", surname="One")
    p2 = Pupil.create(forename="Pat", surname="Two")
    people = {}
    for name in ("alice", "bob", "charlie", "dave", "eve", "frank"):
        people[name] = ExternalUser.create(
            surname=name.title(),
            email=f"{name}@example.org",
            password_hash="x",
            access_allowed=name != "bob",
        )
    holdings = [
        ("alice", p1, types[PARENT_GUARDIAN]),
        ("bob", p1, types[PARENT_GUARDIAN]),
        ("charlie", p2, types[PUPIL]),
        ("dave", p2, types[PARENT_GUARDIAN]),
        ("dave", p2, carer),
        ("eve", p2, types[PARENT_GUARDIAN]),
    ]
    for who, pupil, type_id in holdings:
        Licence.create(user=people[who], pupil=pupil, licence_type=type_id)
    for who, when in LOGINS:
        record_login(people[who], at=when)
    with database.atomic():
        delete_users([people["eve"].id])
    return {name: user.id for name, user in people.items()}


def _group(name: str) -> statistics.Group:
    return statistics.group_named(None if name == "All" else name)


MONTHS = [f"2025-{m:02d}" for m in range(4, 13)] + ["2026-01", "2026-02", "2026-03"]

#: group -> (logins per month, distinct users per month), 2025-04 .. 2026-03.
BY_MONTH = {
    "All": ([1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 4], [1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 3]),
    PARENT_GUARDIAN: ([1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3], [1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2]),
    PUPIL: ([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1]),
    "Carer": ([0] * 10 + [1, 0], [0] * 10 + [1, 0]),
}

BY_WEEK = {
    "All": ([0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 2], [0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1]),
    PARENT_GUARDIAN: ([0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 2], [0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1]),
    PUPIL: ([0] * 9 + [1, 0, 0], [0] * 9 + [1, 0, 0]),
}

YEARS = ["2022/23", "2023/24", "2024/25", "2025/26"]
BY_YEAR = {
    "All": ([1, 0, 3, 7], [1, 0, 3, 4]),
    PARENT_GUARDIAN: ([1, 0, 1, 5], [1, 0, 1, 3]),
    PUPIL: ([0, 0, 1, 2], [0, 0, 1, 1]),
    "Carer": ([0, 0, 0, 1], [0, 0, 0, 1]),
}


@pytest.mark.parametrize("name", list(BY_MONTH))
def test_logins_and_users_per_month(fixture_db, name):
    series = statistics.login_series(_group(name), periods.MONTHS, TODAY)
    assert series.labels == MONTHS
    assert (series.logins, series.users) == BY_MONTH[name]


@pytest.mark.parametrize("name", list(BY_WEEK))
def test_logins_and_users_per_iso_week(fixture_db, name):
    series = statistics.login_series(_group(name), periods.WEEKS, TODAY)
    assert series.labels == [f"2026-W{w:02d}" for w in range(1, 13)]
    assert (series.logins, series.users) == BY_WEEK[name]


@pytest.mark.parametrize("name", list(BY_YEAR))
def test_logins_and_users_per_school_year(fixture_db, name):
    series = statistics.login_series(_group(name), periods.YEARS, TODAY)
    assert series.labels == YEARS
    assert (series.logins, series.users) == BY_YEAR[name]


FIGURES = {
    # accounts, allowed, denied, last 30 days, last 12 months, never
    "All": (5, 4, 1, 2, 4, 1),  # frank's login of 31 March 2025 is within the rolling year
    PARENT_GUARDIAN: (3, 2, 1, 1, 2, 1),
    PUPIL: (1, 1, 0, 1, 1, 0),
    "Carer": (1, 1, 0, 0, 1, 0),
}


@pytest.mark.parametrize("name", list(FIGURES))
def test_account_figures(fixture_db, name):
    f = statistics.account_figures(_group(name), TODAY)
    got = (f.accounts, f.allowed, f.denied, f.last_30_days, f.last_12_months, f.never)
    assert got == FIGURES[name]


def test_groups_are_all_then_every_licence_type(fixture_db):
    assert [g.name for g in statistics.groups()] == ["All", PARENT_GUARDIAN, PUPIL, "Carer"]
    assert statistics.group_named("pupil").name == PUPIL


def test_summary_kept_by_record_login_equals_a_rebuild(fixture_db):
    kept = summary_rows()
    assert sum(n for _, _, n in kept[0]) == len(LOGINS)
    rebuild_login_summary()
    assert summary_rows() == kept
    # and it keeps equal as more logins are recorded after the rebuild
    record_login(ExternalUser.get_by_id(fixture_db["dave"]), at=D(2026, 3, 18, 7, 0))
    record_login(ExternalUser.get_by_id(fixture_db["dave"]), at=D(2026, 3, 18, 8, 0))
    kept = summary_rows()
    rebuild_login_summary()
    assert summary_rows() == kept
    series = statistics.login_series(_group("Carer"), periods.MONTHS, TODAY)
    assert (series.logins[-1], series.users[-1]) == (2, 1)
    # the deleted account's periods survive the rebuild (LoginEvent no longer names her)
    assert any(user_id == fixture_db["eve"] for _, _, user_id, _ in kept[1])


def test_a_new_licence_type_mid_period_counts_the_user_once_per_group(fixture_db):
    """alice (already counted in March as All and Parent/Guardian) gains a Pupil licence."""
    pupil_type = LicenceType.get(LicenceType.name == PUPIL).id
    Licence.create(user=fixture_db["alice"], pupil=Pupil.get(), licence_type=pupil_type)
    record_login(ExternalUser.get_by_id(fixture_db["alice"]), at=D(2026, 3, 18, 9, 0))
    users = {
        name: statistics.login_series(_group(name), periods.MONTHS, TODAY).users[-1]
        for name in ("All", PARENT_GUARDIAN, PUPIL)
    }
    assert users == {"All": 3, PARENT_GUARDIAN: 2, PUPIL: 2}
    kept = summary_rows()
    rebuild_login_summary()
    assert summary_rows() == kept


def test_user_login_summary(fixture_db):
    s = statistics.user_login_summary(fixture_db["alice"], TODAY)
    assert (s.total, s.last_30_days, s.last_12_months) == (4, 2, 3)
    assert (s.first_at, s.last_at) == (D(2022, 12, 1, 9, 0), D(2026, 3, 17, 10, 0))
    assert [label for label, _ in s.per_month] == MONTHS
    assert [n for _, n in s.per_month] == [0] * 9 + [1, 0, 2]


def test_user_login_summary_without_logins(fixture_db):
    s = statistics.user_login_summary(fixture_db["bob"], TODAY)
    assert (s.total, s.last_30_days, s.last_12_months) == (0, 0, 0)
    assert (s.first_at, s.last_at) == (None, None)
    assert s.per_month == [(label, 0) for label in MONTHS]


def test_empty_database_gives_zero_periods(db):
    series = statistics.login_series(statistics.ALL, periods.YEARS, TODAY)
    assert (series.labels, series.logins, series.users) == (["2025/26"], [0], [0])
    series = statistics.login_series(statistics.ALL, periods.MONTHS, TODAY)
    assert series.logins == [0] * 12


def test_period_boundaries():
    assert periods.school_year_start(date(2025, 8, 31)) == date(2024, 9, 1)
    assert periods.school_year_start(date(2025, 9, 1)) == date(2025, 9, 1)
    assert periods.week_start(date(2026, 3, 22)) == date(2026, 3, 16)  # Sunday -> Monday
    assert [p.label for p in periods.last_months(date(2026, 1, 31), 3)] == [
        "2025-11",
        "2025-12",
        "2026-01",
    ]
    assert periods.last_weeks(date(2021, 1, 3), 1)[0].label == "2020-W53"
    assert [p.label for p in periods.school_years(date(2023, 9, 1), date(2024, 9, 1))] == [
        "2023/24",
        "2024/25",
    ]
