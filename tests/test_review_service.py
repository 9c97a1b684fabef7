"""The review rule, its boundaries, paging, and deletion with the re-check, on both backends."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import pytest
from peewee import fn

from extgw_tui.errors import InvalidInput
from extgw_tui.models import AuditEvent, ExternalUser, Licence, LoginEvent, Pupil, live_user, now
from extgw_tui.services import portal, purge, review
from extgw_tui.services.portal import record_login

TODAY = date(2026, 5, 15)


def make_user(
    surname: str,
    *,
    created: datetime,
    last_login: datetime | None = None,
    title: str = "Mr",
    allowed: bool = True,
) -> ExternalUser:
    return ExternalUser.create(
        title=title,
        surname=surname,
        email=f"{surname.lower()}@example.org",
        password_hash="x",
        created_at=created,
        last_login_at=last_login,
        access_allowed=allowed,
    )


def give_pupil(user: ExternalUser) -> None:
    pupil = Pupil.create(forename="Kim", surname=f"Child of {user.surname}")
    Licence.create(user=user.id, pupil=pupil.id, licence_type=1)


def login(user: ExternalUser, at: datetime) -> None:
    LoginEvent.create(user=user.id, at=at)
    ExternalUser.update(last_login_at=at).where(ExternalUser.id == user.id).execute()


@pytest.fixture
def boundary_users(db):
    old = datetime(2019, 1, 1, 9, 0)
    users = {
        "exact": make_user("Exact", created=old),
        "under": make_user("Under", created=old),
        "never_old": make_user("Neverold", created=datetime(2025, 5, 15, 23, 59, 59)),
        "never_new": make_user("Nevernew", created=datetime(2026, 5, 1, 8, 0)),
        "pupil": make_user("Pupil", created=old),
        "recent": make_user("Recent", created=old),
    }
    login(users["exact"], datetime(2025, 5, 15, 23, 59, 59))  # exactly 12 months: a candidate
    login(users["under"], datetime(2025, 5, 16, 0, 0, 0))  # a day under: not
    login(users["recent"], datetime(2026, 5, 14, 12, 0))
    give_pupil(users["pupil"])  # never logged in, old, but has a pupil: not
    return users


def test_boundaries(boundary_users):
    u = boundary_users
    ids = set(review.candidate_ids(12, TODAY))
    assert ids == {u["exact"].id, u["never_old"].id}
    assert review.count_candidates(12, TODAY) == 2
    rows = {r.id: r for r in review.candidates(12, today=TODAY)}
    assert rows[u["exact"].id].months_inactive == 12
    assert rows[u["never_old"].id].months_inactive == 12
    assert rows[u["never_old"].id].last_login_at is None


def test_threshold_change_moves_the_count(boundary_users):
    u = boundary_users
    assert review.count_candidates(1, TODAY) == 3  # + "under" (11 months)
    assert set(review.candidate_ids(11, TODAY)) == {u["exact"].id, u["never_old"].id, u["under"].id}
    assert review.count_candidates(13, TODAY) == 0
    # the never-logged-in new account qualifies once it is old enough by creation date
    assert u["never_new"].id not in review.candidate_ids(1, TODAY)
    assert u["never_new"].id in review.candidate_ids(1, date(2026, 6, 1))


@pytest.mark.parametrize("bad", [0, -1, review.MAX_MONTHS + 1, "twelve"])
def test_threshold_out_of_range_is_refused(db, bad):
    with pytest.raises(InvalidInput):
        review.count_candidates(bad, TODAY)


@pytest.mark.parametrize(
    ("today", "months", "cutoff"),
    [
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2028, 3, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 15), 12, date(2025, 1, 15)),
        (date(2026, 1, 15), 1, date(2025, 12, 15)),
        (date(2026, 5, 15), 240, date(2006, 5, 15)),
    ],
)
def test_cutoff_day_is_calendar_months_back(today, months, cutoff):
    assert review.cutoff_day(months, today) == cutoff


@pytest.mark.parametrize(
    ("last", "today", "expected"),
    [
        (date(2025, 5, 15), date(2026, 5, 15), 12),
        (date(2025, 5, 16), date(2026, 5, 15), 11),
        (date(2026, 2, 28), date(2026, 3, 31), 1),
        (date(2026, 3, 1), date(2026, 3, 31), 0),
        (date(2026, 1, 28), date(2026, 2, 28), 1),
        (date(2026, 1, 31), date(2026, 2, 28), 0),  # the cutoff is 28 January
        (date(2026, 6, 1), date(2026, 5, 15), 0),
    ],
)
def test_months_inactive(last, today, expected):
    assert review.months_inactive(last, today) == expected


def test_months_inactive_agrees_with_the_cutoff():
    """For every day across two years, 'months >= N' and 'on or before the cutoff' agree."""
    today = date(2026, 3, 31)
    for offset in range(0, 800, 1):
        day = date.fromordinal(today.toordinal() - offset)
        for months in (1, 2, 12, 13):
            assert (review.months_inactive(day, today) >= months) == (
                day <= review.cutoff_day(months, today)
            ), (day, months)


def test_paging_and_sorting(db):
    for i in range(7):
        make_user(f"S{i}", created=datetime(2020, 1, 1 + i), title=f"T{6 - i}")
    make_user("Withlogin", created=datetime(2018, 1, 1), last_login=datetime(2020, 1, 3, 12, 0))
    all_rows = review.candidates(12, today=TODAY, limit=100)
    assert [r.surname for r in all_rows][:5] == ["S0", "S1", "S2", "Withlogin", "S3"]
    page = review.candidates(12, today=TODAY, offset=2, limit=3)
    assert [r.surname for r in page] == ["S2", "Withlogin", "S3"]
    by_months = review.candidates(12, sort="months", today=TODAY, limit=2)
    assert [r.surname for r in by_months] == ["S6", "S5"]
    by_title = review.candidates(12, sort="title", descending=True, today=TODAY, limit=1)
    assert by_title[0].title == "T6"
    streamed = list(review.iter_candidates(12, TODAY, chunk=3))
    assert sorted(r.id for r in streamed) == review.candidate_ids(12, TODAY)
    assert len(streamed) == 8


def _login_month_counts() -> list[tuple[str, int]]:
    month = fn.SUBSTR(LoginEvent.at.cast("text"), 1, 7)
    query = (
        LoginEvent.select(month, fn.COUNT(LoginEvent.id)).group_by(month).order_by(month).tuples()
    )
    return list(query)


def test_delete_rechecks_inside_the_transaction(boundary_users):
    u = boundary_users
    late_login = make_user("Latelogin", created=datetime(2018, 1, 1))
    late_pupil = make_user("Latepupil", created=datetime(2018, 1, 1))
    login(u["exact"], datetime(2024, 1, 1, 10, 0))  # older history that must survive
    listed = review.candidate_ids(12, TODAY)
    assert set(listed) == {u["exact"].id, u["never_old"].id, late_login.id, late_pupil.id}
    stats_before = _login_month_counts()
    # between drawing the list and deleting: a login and a new pupil
    record_login(late_login, at=datetime(2026, 5, 14, 18, 30))
    give_pupil(late_pupil)
    stats_before_delete = _login_month_counts()

    result = review.delete_accounts(listed + [999_999], 12, today=TODAY)

    assert result.deleted == 2
    assert dict(result.kept) == {
        late_login.id: "logged in on 2026-05-14",
        late_pupil.id: "now has 1 pupil",
        999_999: "no longer exists",
    }
    remaining = {row.id for row in ExternalUser.select(ExternalUser.id).where(live_user())}
    assert u["exact"].id not in remaining and u["never_old"].id not in remaining
    assert {late_login.id, late_pupil.id} <= remaining
    # login history stays; statistics unchanged by the deletion and by the purge
    assert _login_month_counts() == stats_before_delete
    assert sum(c for _, c in stats_before_delete) == sum(c for _, c in stats_before) + 1
    assert LoginEvent.select().where(LoginEvent.user.is_null()).count() == 0  # restorable

    def entries() -> list[AuditEvent]:
        query = AuditEvent.select().where(AuditEvent.action == "account.delete")
        return list(query.order_by(AuditEvent.user_id))

    assert [(e.user_id, e.target) for e in entries()] == sorted(
        [(u["exact"].id, "exact@example.org"), (u["never_old"].id, "neverold@example.org")]
    )
    purge.purge_due(days=0, when=now() + timedelta(seconds=1))
    orphaned = LoginEvent.select().where(LoginEvent.user.is_null()).count()
    assert orphaned == 2  # the two logins of "exact", without the personal link now
    assert _login_month_counts() == stats_before_delete
    assert [(e.user_id, e.target) for e in entries()] == sorted(
        [(u["exact"].id, ""), (u["never_old"].id, "")]  # purged: the ids stay, not the emails
    )
    entries = entries()
    assert all(e.admin == "test-admin" and "12 months" in e.detail for e in entries)
    assert len({e.batch for e in entries}) == 1
    assert review.count_candidates(12, TODAY) == 0


def test_delete_refuses_accounts_that_never_qualified(boundary_users):
    u = boundary_users
    result = review.delete_accounts(
        [u["pupil"].id, u["never_new"].id, u["recent"].id], 12, today=TODAY
    )
    assert result.deleted == 0
    reasons = dict(result.kept)
    assert reasons[u["pupil"].id] == "now has 1 pupil"
    assert reasons[u["recent"].id] == "logged in on 2026-05-14"
    assert reasons[u["never_new"].id] == "created on 2026-05-01, too recently"
    assert AuditEvent.select().where(AuditEvent.action == "account.delete").count() == 0
    assert Licence.select().count() == 1


def test_delete_removes_licences_of_nobody_else(boundary_users):
    u = boundary_users
    before = Licence.select().count()
    review.delete_accounts([u["exact"].id], 12, today=TODAY)
    assert Licence.select().count() == before
    assert Licence.select().where(Licence.user == u["pupil"].id).count() == 1


def test_self_service_deletion_follows_the_same_rules(db):
    user = portal.register("self@example.org", "long enough pw", surname="Self")
    give_pupil(user)
    record_login(user, at=datetime(2026, 1, 2, 10, 0))
    assert not portal.delete_own_account("self@example.org", "wrong password!")
    assert portal.delete_own_account("self@example.org", "long enough pw")
    assert ExternalUser.select().where(live_user()).count() == 0
    assert Licence.select().count() == 0
    event = LoginEvent.get()
    assert event.user_id == user.id and event.licence_mask != 0  # until the purge
    entry = AuditEvent.get(AuditEvent.user_id == user.id)
    assert (entry.action, entry.target, entry.admin) == (
        "account.delete",
        "self@example.org",
        portal.PORTAL,
    )
    assert "self-service" in entry.detail


def test_export_before_deleting(boundary_users, tmp_path):
    from openpyxl import load_workbook

    u = boundary_users
    ExternalUser.update(surname="=HYPERLINK(1)").where(ExternalUser.id == u["exact"].id).execute()
    seen: list[tuple[int, int]] = []
    result = review.export_candidates(
        tmp_path / "review.xlsx", 12, today=TODAY, progress=lambda *report: seen.append(report)
    )
    assert result.rows == 2 and seen[0] == (0, 2) and seen[-1] == (2, 2)
    wb = load_workbook(result.path)
    sheet = wb["Review"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("ID", "Title", "Forename")
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id[u["exact"].id][3] == "=HYPERLINK(1)"
    assert sheet.cell(row=2, column=4).data_type == "s"
    assert by_id[u["exact"].id][6] == datetime(2025, 5, 15, 23, 59, 59)
    assert by_id[u["never_old"].id][6] == "Never"
    assert by_id[u["never_old"].id][7] == 12
    about = dict(wb["About this export"].iter_rows(values_only=True))
    assert about["Threshold"] == "12 months"
    assert about["Last activity on or before"] == "2025-05-15"
    # through the export code: audited like every export (what, how many rows, where)
    entry = AuditEvent.get(AuditEvent.action == "export")
    assert (entry.admin, entry.target) == ("test-admin", "review.xlsx")
    assert entry.detail == (
        f"export: review list; threshold: 12 months; rows: 2; path: {result.path}"
    )


def test_threshold_in_words():
    assert review.months_text(1) == "1 month"
    assert review.months_text(12) == "12 months"


def test_export_cancelled_leaves_no_file(boundary_users, tmp_path):
    from extgw_tui.services.xlsx import ExportCancelled

    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(ExportCancelled):
        review.export_candidates(folder / "r.xlsx", 12, today=TODAY, should_cancel=lambda: True)
    assert list(folder.iterdir()) == []
    assert not AuditEvent.select().where(AuditEvent.action == "export").exists()


def test_default_export_path_names_the_threshold_and_day(db, monkeypatch, tmp_path):
    monkeypatch.setenv("EXTGW_EXPORT_DIR", str(tmp_path))
    path = review.default_export_path(6, TODAY)
    assert path == tmp_path / "review-accounts_6-months_2026-05-15.xlsx"
    assert review.default_export_path(1, TODAY).name == "review-accounts_1-month_2026-05-15.xlsx"


def test_delete_waits_for_a_login_in_progress(db):
    """A login committing as the deletion starts is seen by the re-check (row lock, IMMEDIATE)."""
    import threading
    import time

    user = make_user("Busy", created=datetime.now() - timedelta(days=3 * 365))
    in_login, finish_login = threading.Event(), threading.Event()
    outcome: dict[str, review.ReviewDeleteResult] = {}

    def slow_login() -> None:
        with db.connection_context(), db.atomic():
            record_login(user)
            in_login.set()
            finish_login.wait(10)

    def delete() -> None:
        with db.connection_context():
            outcome["result"] = review.delete_accounts([user.id], 12)

    login_thread = threading.Thread(target=slow_login)
    login_thread.start()
    assert in_login.wait(10)
    delete_thread = threading.Thread(target=delete)
    delete_thread.start()
    time.sleep(0.5)
    assert delete_thread.is_alive()  # waiting for the login's transaction
    finish_login.set()
    login_thread.join(10)
    delete_thread.join(20)
    result = outcome["result"]
    assert result.deleted == 0
    assert result.kept[0][1].startswith("logged in on ")
    assert ExternalUser.select().where(ExternalUser.id == user.id).exists()


def test_delete_cancelled_rolls_everything_back(db):
    old = datetime(2019, 1, 1)
    ids = [make_user(f"C{n}", created=old).id for n in range(5)]
    seen: list[int] = []
    checks = iter([False, True])
    with pytest.raises(review.DeleteCancelled):
        review.delete_accounts(
            ids, 12, today=TODAY, progress=seen.append, should_cancel=lambda: next(checks)
        )
    assert ExternalUser.select().count() == 5
    assert AuditEvent.select().count() == 0
    result = review.delete_accounts(ids, 12, today=TODAY, progress=seen.append)
    assert result.deleted == 5 and seen[-1] == 5


def test_login_history_counts_even_if_last_login_lags(db):
    """An event newer than last_login_at (an import, say) keeps the account off the list."""
    user = make_user("Lagging", created=datetime(2019, 1, 1))
    LoginEvent.create(user=user.id, at=datetime(2026, 4, 1, 9, 0))
    assert review.count_candidates(12, TODAY) == 0
    assert dict(review.delete_accounts([user.id], 12, today=TODAY).kept) == {
        user.id: "logged in on 2026-04-01"
    }


def _as_before(months: int, today: date):
    """The condition review used before the activity index (issue 17): last activity as an OR
    of the two columns, the whole rows selected, sorted and paged in one statement."""
    U = ExternalUser
    boundary = datetime.combine(review.cutoff_day(months, today) + timedelta(days=1), time.min)
    inactive = (U.last_login_at < boundary) | (
        U.last_login_at.is_null() & (U.created_at < boundary)
    )
    no_licence = ~fn.EXISTS(Licence.select(Licence.id).where(Licence.user == U.id))
    recent = (LoginEvent.user == U.id) & (LoginEvent.at >= boundary)
    no_login = ~fn.EXISTS(LoginEvent.select(LoginEvent.id).where(recent))
    return U.select(U.id).where(live_user() & inactive & no_licence & no_login)


def test_candidates_and_count_are_the_rows_the_old_query_gave(db):
    """The last-activity range (one expression, served by its index) and the page read by id
    select, count and order exactly the accounts the two-column condition did, on varied
    accounts: ties of activity, never logged in, a lagging last_login_at, pupils, deleted."""
    rng = random.Random(17)
    start = datetime(2023, 1, 1, 8, 0)
    for i in range(60):
        created = start + timedelta(days=rng.choice([0, 0, 90, 400, 700, 1200]))
        last = None if i % 4 == 0 else created + timedelta(days=rng.randrange(900), hours=i % 3)
        user = make_user(f"Eq{i:02d}", created=created, last_login=last, title=f"T{i % 5}")
        if i % 7 == 3:
            give_pupil(user)
        if i % 11 == 5:  # a login the account's last_login_at does not show yet
            LoginEvent.create(user=user.id, at=datetime(2026, 5, 1, 9, 0))
        if i % 13 == 6:
            ExternalUser.update(deleted_at=now()).where(ExternalUser.id == user.id).execute()
    compared = 0
    for months in (1, 12, 30):
        before = _as_before(months, TODAY)
        count = review.count_candidates(months, TODAY)
        assert count == before.count() > 0
        assert review.candidate_ids(months, TODAY) == [
            r[0] for r in before.order_by(ExternalUser.id).tuples()
        ]
        for sort in (s for s in review.SORTS if s != "left"):
            for descending in (False, True):
                order = review._order(sort, descending)
                for offset in range(0, count + 7, 7):
                    got = review.candidates(
                        months,
                        sort=sort,
                        descending=descending,
                        offset=offset,
                        limit=7,
                        today=TODAY,
                    )
                    page = before.order_by(*order).offset(offset).limit(7).tuples()
                    assert [r.id for r in got] == [r[0] for r in page], (months, sort, offset)
                    compared += len(got)
    assert compared > 500  # the pages held rows, not only empty ends
