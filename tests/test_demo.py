"""The demo generator: deterministic, and holding every case the screens have to deal with."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta

import pytest
from peewee import fn

from extgw_tui.commands.demo import ensure_demo
from extgw_tui.db import open_database
from extgw_tui.errors import ExtgwError
from extgw_tui.models import (
    AuditEvent,
    ExternalUser,
    Licence,
    LicenceType,
    LoginDay,
    LoginEvent,
    LoginPeriodUsers,
    LoginUserPeriod,
    Pupil,
    database,
    licence_bit,
    name_key,
    text_key,
)
from extgw_tui.services import demo, periods, portal

TODAY = date(2026, 6, 15)
CUTOFF = datetime(2025, 6, 15)  # twelve months before TODAY
U = ExternalUser


def _digest() -> str:
    """Every generated row (bar the salted password hash), in id order."""
    h = hashlib.sha256()
    for model in (ExternalUser, Pupil, Licence, LoginEvent, AuditEvent):
        fields = [f for name, f in model._meta.fields.items() if name != "password_hash"]
        for row in model.select(*fields).order_by(model.id).tuples():
            h.update(repr(row).encode())
    return h.hexdigest()


def _generate_into(path, seed: int) -> str:
    handle = open_database(f"sqlite:///{path}")
    try:
        demo.generate("small", today=TODAY, seed=seed)
        return _digest()
    finally:
        handle.close()


def test_same_seed_and_day_give_identical_data(tmp_path):
    first = _generate_into(tmp_path / "a.sqlite3", seed=7)
    second = _generate_into(tmp_path / "b.sqlite3", seed=7)
    other = _generate_into(tmp_path / "c.sqlite3", seed=8)
    assert first == second
    assert other != first


def _no_pupils():
    return ~fn.EXISTS(Licence.select(Licence.id).where(Licence.user == U.id))


def test_small_demo_holds_every_case(db):
    stages = []
    summary = demo.generate("small", today=TODAY, progress=lambda s, f: stages.append((s, f)))
    assert stages[-1] == ("finishing", 1.0)
    assert all(a[1] <= b[1] for a, b in zip(stages, stages[1:], strict=False))

    assert summary.users == U.select().count() == 1_500
    assert summary.pupils == Pupil.select().count() == 1_800
    assert summary.licences == Licence.select().count()
    assert 2_700 <= summary.licences <= 3_300
    assert summary.logins == LoginEvent.select().count()
    assert 39_000 <= summary.logins <= 41_000
    assert summary.denied == U.select().where(U.access_allowed == False).count() > 0  # noqa: E712

    # Realistic titles, names and emails: every title, varied domains, some capitals.
    titles = {t for (t,) in U.select(U.title).distinct().tuples()}
    assert {"Mr", "Mrs", "Ms", "Miss", "Dr", "Mx"} <= titles
    emails = [e for (e,) in U.select(U.email).tuples()]
    assert len({e.rsplit("@", 1)[1] for e in emails}) >= 8
    assert any(e != e.lower() for e in emails)
    assert all(re.search(r"(^|\.)example(\.(com|net|org))?$", e.rsplit("@", 1)[1]) for e in emails)
    # The normalised keys that bulk inserts must set by hand.
    for surname, surname_key, email, email_key in U.select(
        U.surname, U.surname_key, U.email, U.email_key
    ).tuples():
        assert (surname_key, email_key) == (name_key(surname), text_key(email))
    assert U.select().where(U.surname.contains("'")).exists()

    # Pupils: every year group 7-13 in forms like 7A, admission numbers, valid UPNs, a few off roll.
    assert {y for (y,) in Pupil.select(Pupil.year_group).distinct().tuples()} == set(range(7, 14))
    rows = Pupil.select(
        Pupil.id,
        Pupil.year_group,
        Pupil.form,
        Pupil.admission_number,
        Pupil.upn,
        Pupil.surname,
        Pupil.surname_key,
    ).tuples()
    for pupil_id, year, form, admission, upn, surname, key in rows:
        assert re.fullmatch(rf"{year}[A-Z]\d*", form)
        assert admission and upn == demo.upn(pupil_id, int("20" + upn[8:10]))
        assert key == name_key(surname)
    assert Pupil.select(fn.COUNT(fn.DISTINCT(Pupil.upn))).scalar() == 1_800
    assert Pupil.select().where(Pupil.on_roll == False).exists()  # noqa: E712

    parent = LicenceType.get(LicenceType.name == "Parent/Guardian").id
    own = LicenceType.get(LicenceType.name == "Pupil").id
    # Parents hold Parent/Guardian licences for one to three pupils, siblings sharing a surname.
    per_parent = (
        Licence.select(Licence.user, fn.COUNT(Licence.id))
        .where(Licence.licence_type == parent)
        .group_by(Licence.user)
        .tuples()
    )
    assert {n for _, n in per_parent} == {1, 2, 3}
    siblings = (
        Licence.select(Licence.user, fn.COUNT(fn.DISTINCT(Pupil.surname_key)))
        .join(Pupil)
        .where(Licence.licence_type == parent)
        .group_by(Licence.user)
        .having(fn.COUNT(Licence.id) > 1)
        .tuples()
    )
    assert sum(1 for _, surnames in siblings if surnames == 1) > 0.85 * len(siblings)
    # Older pupils hold their own Pupil licence, for themselves only.
    pupil_holders = Licence.select(Pupil.year_group).join(Pupil).where(Licence.licence_type == own)
    years = [y for (y,) in pupil_holders.tuples()]
    assert len(years) > 50 and min(years) >= 10
    # The same surname in different, unrelated families.
    smiths = (
        Licence.select(fn.COUNT(fn.DISTINCT(Licence.user)))
        .join(Pupil)
        .where((Pupil.surname_key == "smith") & (Licence.licence_type == parent))
        .scalar()
    )
    assert smiths >= 4

    # ADR: false for some accounts made before May 2023, true for every newer one.
    may_2023 = datetime(2023, 5, 1)
    assert U.select().where((U.created_at < may_2023) & (U.adr == False)).exists()  # noqa: E712
    assert not U.select().where((U.created_at >= may_2023) & (U.adr == False)).exists()  # noqa: E712

    # Review candidates, accounts just short of twelve months, and brand new accounts.
    activity = fn.COALESCE(U.last_login_at, U.created_at)
    candidates = U.select().where(_no_pupils() & (activity <= CUTOFF)).count()
    near = (
        U.select()
        .where(_no_pupils() & (activity > CUTOFF) & (activity <= CUTOFF + timedelta(days=31)))
        .count()
    )
    new = U.select().where(_no_pupils() & (U.created_at >= datetime(2026, 4, 30))).count()
    assert candidates >= 30 and near >= 10 and new >= 15

    # Denied accounts have the admin's audit entry, and no login after it.
    denials = AuditEvent.select().where(AuditEvent.action == "access.deny").count()
    assert denials == summary.denied
    late = (
        LoginEvent.select()
        .join(AuditEvent, on=(AuditEvent.user_id == LoginEvent.user))
        .where((AuditEvent.action == "access.deny") & (LoginEvent.at > AuditEvent.at))
        .count()
    )
    assert late == 0


def test_nothing_is_dated_today_whose_hours_may_not_have_come(db):
    # seed 1 gave accounts created at 21:26 on the day the demo was made, before the fix
    demo.generate("small", today=TODAY, seed=1)
    midnight = datetime.combine(TODAY, datetime.min.time())
    assert U.select(fn.MAX(U.created_at)).scalar() < midnight
    assert LoginEvent.select(fn.MAX(LoginEvent.at)).scalar() < midnight
    assert AuditEvent.select(fn.MAX(AuditEvent.at)).scalar() < midnight


def test_logins_follow_the_school_year_and_match_the_accounts(db):
    demo.generate("small", today=TODAY)
    first, last = LoginEvent.select(fn.MIN(LoginEvent.at), fn.MAX(LoginEvent.at)).scalar(
        as_tuple=True
    )
    assert first.date() >= TODAY - timedelta(days=731) and last.date() < TODAY

    def per_day(start: date, days: int) -> float:
        end = start + timedelta(days=days)
        span = (LoginEvent.at >= start) & (LoginEvent.at < end)
        return LoginEvent.select().where(span).count() / days

    summer = per_day(date(2025, 8, 1), 28)
    after_reports = per_day(date(2025, 11, 18), 14)
    ordinary = per_day(date(2026, 1, 12), 14)
    assert after_reports > 2 * ordinary > 2 * summer

    # Each login carries the licence types its account holds; deleted accounts' logins remain.
    masks: dict[int, int] = {}
    for user_id, type_id in Licence.select(Licence.user, Licence.licence_type).tuples():
        masks[user_id] = masks.get(user_id, 0) | licence_bit(type_id)
    seen = LoginEvent.select(LoginEvent.user, LoginEvent.licence_mask).distinct().tuples()
    for user_id, mask in seen:
        if user_id is not None:
            assert mask == masks.get(user_id, 0)
    assert LoginEvent.select().where(LoginEvent.user.is_null()).exists()
    # The statistics' summary tables were rebuilt from the generated logins.
    assert LoginDay.select(fn.SUM(LoginDay.logins)).scalar() == LoginEvent.select().count()

    # last_login_at is exactly the latest login, and empty for accounts that never logged in.
    latest = LoginEvent.select(fn.MAX(LoginEvent.at)).where(LoginEvent.user == U.id)
    assert U.select().where(U.last_login_at != latest).count() == 0
    assert U.select().where(U.last_login_at.is_null()).count() == (
        U.select().where(~fn.EXISTS(LoginEvent.select().where(LoginEvent.user == U.id))).count()
    )
    assert U.select().where(U.last_login_at.is_null()).exists()


def test_deleted_accounts_count_among_the_distinct_users(db):
    """As the incremental upkeep would have counted them, before their accounts went."""
    demo.generate("small", today=TODAY)
    P, E = LoginUserPeriod, LoginEvent
    live_ids = U.select(U.id)
    gone = set(
        P.select(P.kind, P.start, P.user_id, P.licence_mask)
        .where(P.user_id.not_in(live_ids))
        .tuples()
    )
    assert 20 <= len({user_id for _, _, user_id, _ in gone}) <= round(1_500 * demo.DELETED)
    # Every login without a user falls in a month in which a deleted account of its licence
    # types logged in.
    months = {(start, mask) for kind, start, _, mask in gone if kind == "m"}
    orphans = E.select(E.at, E.licence_mask).where(E.user.is_null()).tuples()
    assert orphans and all((at.date().replace(day=1), mask) in months for at, mask in orphans)
    # Each period's distinct users: the live accounts that logged in, plus the deleted ones.
    live: dict[date, set[int]] = {}
    for at, user_id in E.select(E.at, E.user).where(E.user.is_null(False)).tuples():
        live.setdefault(periods.school_year_start(at.date()), set()).add(user_id)
    deleted: dict[date, int] = {}
    for kind, start, _, _ in gone:
        if kind == "y":
            deleted[start] = deleted.get(start, 0) + 1
    counted = dict(
        LoginPeriodUsers.select(LoginPeriodUsers.start, LoginPeriodUsers.users)
        .where((LoginPeriodUsers.kind == "y") & (LoginPeriodUsers.licence_type == 0))
        .tuples()
    )
    assert counted == {
        year: len(live.get(year, ())) + deleted.get(year, 0) for year in live | deleted
    }
    assert all(deleted.values())


def test_demo_password_opens_an_allowed_account_and_ids_continue(db):
    demo.generate("small", today=TODAY)
    email = U.select(U.email).where(U.access_allowed == True).scalar()  # noqa: E712
    assert portal.authenticate(email.upper(), demo.DEMO_PASSWORD) is not None
    # Explicit ids were bulk inserted, and the deleted accounts' ids (after the live ones) were
    # never inserted at all: new rows must still get fresh ids, on both backends.
    deleted = round(1_500 * demo.DELETED)
    assert LoginUserPeriod.select(fn.MAX(LoginUserPeriod.user_id)).scalar() == 1_500 + deleted
    newcomer = portal.register("newcomer@example.org", "a long password", surname="New")
    assert newcomer.id == 1_500 + deleted + 1
    assert Pupil.create(forename="Ann", surname="New", year_group=7, form="7A").id == 1_801


def test_refuses_a_database_that_has_data(db):
    portal.register("someone@example.org", "a long password", surname="Someone")
    with pytest.raises(ExtgwError, match="empty database"):
        demo.generate("small", today=TODAY)
    with pytest.raises(ExtgwError, match="Unknown demo size"):
        demo.generate("medium", today=TODAY)


def test_ensure_demo_makes_the_file_once_and_never_half(tmp_path, capsys):
    target = tmp_path / "demo" / "demo-small.sqlite3"
    url = f"sqlite:///{target}"
    with pytest.raises(ExtgwError):
        ensure_demo(url, "medium")  # fails inside the generator
    assert not target.exists() and list(target.parent.iterdir()) == []

    ensure_demo(url, "small")
    err = capsys.readouterr().err
    assert "1,500 users" in err and demo.DEMO_PASSWORD in err
    made = target.stat().st_mtime_ns
    ensure_demo(url, "small")  # already there: left alone
    assert target.stat().st_mtime_ns == made
    assert sorted(p.name for p in target.parent.iterdir()) == ["demo-small.sqlite3"]

    handle = open_database(url)
    try:
        assert U.select().count() == 1_500
        assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        handle.close()
