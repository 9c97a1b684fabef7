"""The review's second rule, "accounts whose pupils have all left the roll": its boundaries,
deletion with the re-check inside the transaction, the export and the command line."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from extgw_tui.cli import main
from extgw_tui.errors import InvalidInput
from extgw_tui.models import AuditEvent, ExternalUser, Licence, LoginEvent, Pupil, live_user, now
from extgw_tui.services import purge, review

TODAY = date(2026, 5, 15)
CUTOFF = date(2025, 11, 15)  # six months before TODAY


def make_account(name: str, *, deleted: bool = False) -> int:
    return ExternalUser.create(
        surname=name,
        email=f"{name.lower()}@example.org",
        password_hash="x",
        created_at=datetime(2020, 1, 1),
        last_login_at=datetime(2026, 5, 1),  # recent logins do not keep an account here
        deleted_at=now() if deleted else None,
    ).id


def make_pupil(*, left_on: date | None = None, on_roll: bool | None = None) -> int:
    return Pupil.create(
        forename="Kim",
        surname="Pupil",
        on_roll=(left_on is None) if on_roll is None else on_roll,
        left_on=left_on,
    ).id


def hold(user_id: int, *pupil_ids: int) -> None:
    for pupil_id in pupil_ids:
        Licence.create(user=user_id, pupil=pupil_id, licence_type=1)


@pytest.fixture
def families(db) -> dict[str, int]:
    ids = {name: make_account(name) for name in ("Exact", "Both", "Recent", "Mixed")}
    ids |= {name: make_account(name) for name in ("Undated", "Nopupils")}
    ids["Deleted"] = make_account("Deleted", deleted=True)
    hold(ids["Exact"], make_pupil(left_on=CUTOFF))  # exactly six months: a candidate
    hold(ids["Both"], make_pupil(left_on=date(2024, 7, 21)), make_pupil(left_on=date(2025, 7, 21)))
    hold(ids["Recent"], make_pupil(left_on=CUTOFF + timedelta(days=1)))  # a day short
    hold(ids["Mixed"], make_pupil(left_on=date(2024, 7, 21)), make_pupil())  # one still there
    hold(ids["Undated"], make_pupil(on_roll=False))  # left, day unknown: kept off the list
    hold(ids["Deleted"], make_pupil(left_on=date(2024, 7, 21)))  # soft-deleted: gone
    return ids


def names(rows) -> list[str]:
    return [row.surname for row in rows]


def test_boundaries(families):
    found = review.candidates(6, today=TODAY, rule=review.LEFT, sort="surname")
    assert names(found) == ["Both", "Exact"]
    assert review.count_candidates(6, TODAY, review.LEFT) == 2
    both = found[0]
    assert both.last_left_on == date(2025, 7, 21)  # the last of the pupils to leave
    assert both.months(review.LEFT) == 9 and both.months_inactive == 0
    assert sorted(review.candidate_ids(6, TODAY, review.LEFT)) == sorted(
        [families["Both"], families["Exact"]]
    )
    assert names(review.candidates(7, today=TODAY, rule=review.LEFT)) == ["Both"]
    assert review.count_candidates(1, TODAY, review.LEFT) == 3
    # months descending is the oldest leaving first; the inactive rule is unaffected
    oldest = review.candidates(1, today=TODAY, rule=review.LEFT, sort="months", descending=True)
    assert names(oldest) == ["Both", "Exact", "Recent"]
    assert review.count_candidates(6, TODAY) == 0
    assert review.default_months(review.LEFT) == 6
    with pytest.raises(InvalidInput):
        review.candidates(6, rule="everyone")


def test_iterates_every_candidate_in_chunks(families):
    rows = list(review.iter_candidates(1, TODAY, chunk=1, rule=review.LEFT))
    assert sorted(names(rows)) == ["Both", "Exact", "Recent"]


def test_delete_rechecks_inside_the_transaction(families):
    ids = review.candidate_ids(6, TODAY, review.LEFT)
    # meanwhile: Exact's pupil rejoins the roll, and Mixed (never listed) is added by hand
    Pupil.update(on_roll=True, left_on=None).where(
        Pupil.id.in_(Licence.select(Licence.pupil).where(Licence.user == families["Exact"]))
    ).execute()
    result = review.delete_accounts(
        [*ids, families["Mixed"], families["Recent"], families["Undated"], families["Nopupils"]],
        6,
        today=TODAY,
        rule=review.LEFT,
    )
    assert result.deleted == 1
    kept = dict(result.kept)
    assert kept[families["Exact"]] == "now has 1 pupil on the roll"
    assert kept[families["Mixed"]] == "now has 1 pupil on the roll"
    assert kept[families["Recent"]] == "a pupil left on 2025-11-16, too recently"
    assert kept[families["Undated"]] == "a pupil's leaving date is not known"
    assert kept[families["Nopupils"]].startswith("holds no pupil")
    both = ExternalUser.select().where(ExternalUser.id == families["Both"])
    assert not both.where(live_user()).exists()  # gone for everyone (soft: until the purge)
    assert both.get().deleted_at is not None
    entry = AuditEvent.get(AuditEvent.action == "account.delete")
    assert entry.user_id == families["Both"] and "left the roll" in entry.detail
    assert not Licence.select().where(Licence.user == families["Both"]).exists()


def test_delete_keeps_the_login_history(families):
    LoginEvent.create(user=families["Both"], at=datetime(2024, 1, 1))
    review.delete_accounts([families["Both"]], 6, today=TODAY, rule=review.LEFT)
    assert LoginEvent.select().count() == 1  # linked until the purge (an undo restores it)
    purge.purge_due(days=0, when=now() + timedelta(seconds=1))
    assert LoginEvent.select().where(LoginEvent.user.is_null()).count() == 1


def test_export(families, tmp_path):
    result = review.export_candidates(tmp_path / "left.xlsx", 6, today=TODAY, rule=review.LEFT)
    rows = list(load_workbook(result.path).worksheets[0].iter_rows(values_only=True))
    assert rows[0][6:8] == ("Last pupil left", "Months since")
    assert sorted(row[3] for row in rows[1:]) == ["Both", "Exact"]
    assert review.default_export_path(6, TODAY, review.LEFT).name == (
        "review-pupils-left_6-months_2026-05-15.xlsx"
    )
    assert "pupils left" in AuditEvent.get(AuditEvent.action == "export").detail


def test_command_lists_and_deletes(sqlite_db, capsys):
    today = date.today()
    old = today - timedelta(days=400)
    gone, staying = make_account("Gone"), make_account("Staying")
    hold(gone, make_pupil(left_on=old))
    hold(staying, make_pupil(left_on=old), make_pupil())
    url = sqlite_db.url
    assert main(["review", "--db", url, "--rule", "left"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 account whose pupils all left the roll at least 6 months ago")
    assert "Gone" in out and "Staying" not in out and old.isoformat() in out
    assert main(["review", "--db", url, "--rule", "left", "--months", "14"]) == 0
    assert capsys.readouterr().out.startswith("0 accounts")
    assert main(["review", "--db", url, "--rule", "left", "--delete", "--yes"]) == 0
    assert "Deleted 1 account" in capsys.readouterr().out
    assert {u.surname for u in ExternalUser.select().where(live_user())} == {"Staying"}
    assert main(["review", "--db", url, "--rule", "left", "--months", "0"]) == 1
