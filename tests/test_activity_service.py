"""The activity log service: newest first, filters, paging, streaming, on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta

import openpyxl
import pytest

from extgw_tui.errors import InvalidInput
from extgw_tui.models import ExternalUser
from extgw_tui.services import access, activity, audit, xlsx
from extgw_tui.services.activity import ActivityFilter

T0 = datetime(2026, 3, 1, 9, 0, 0)


def _user(n: int) -> ExternalUser:
    return ExternalUser.create(
        surname=f"Surname{n}", email=f"user{n}@example.org", password_hash="x"
    )


def _seed() -> list[ExternalUser]:
    """Three admins, three actions, five minutes apart; two entries share a timestamp."""
    people = [_user(n) for n in range(3)]
    audit.record_many("access.deny", [(people[0].id, people[0].email)], admin="alice", at=T0)
    audit.record_many(
        "access.deny",
        [(people[1].id, people[1].email), (people[2].id, people[2].email)],
        admin="bob",
        at=T0 + timedelta(minutes=5),
    )
    audit.record_many(
        "access.allow",
        [(people[0].id, people[0].email)],
        admin="alice",
        at=T0 + timedelta(minutes=10),
    )
    audit.record_many(
        "pupil.remove",
        [(people[2].id, "50%_off\\promo@example.org")],
        admin="carol",
        at=T0 + timedelta(minutes=15),
    )
    audit.record_many(
        "licence_type.add", [(None, "Grandparent")], admin="alice", at=T0 + timedelta(minutes=20)
    )
    return people


def test_newest_first_with_ties_broken_by_id(db):
    _seed()
    rows = activity.entries()
    assert [r.action for r in rows] == [
        "licence_type.add",
        "pupil.remove",
        "access.allow",
        "access.deny",
        "access.deny",
        "access.deny",
    ]
    ties = [r for r in rows if r.admin == "bob"]
    assert ties[0].id > ties[1].id
    assert activity.count() == 6


def test_filters_combine(db):
    people = _seed()
    assert activity.count(ActivityFilter(admin="alice")) == 3
    assert activity.count(ActivityFilter(action="access.deny")) == 3
    assert activity.count(ActivityFilter(admin="alice", action="access.deny")) == 1
    mine = activity.entries(ActivityFilter(user_id=people[0].id))
    assert [r.action for r in mine] == ["access.allow", "access.deny"]
    assert activity.count(ActivityFilter(user_id=999_999)) == 0
    assert activity.count(ActivityFilter(admin="nobody")) == 0


def test_text_filter_is_literal_and_case_insensitive(db):
    _seed()
    assert [r.target for r in activity.entries(ActivityFilter(text="USER1@"))] == [
        "user1@example.org"
    ]
    assert activity.count(ActivityFilter(text="%")) == 1  # only the target with a real %
    assert activity.count(ActivityFilter(text="_off\\p")) == 1
    assert activity.count(ActivityFilter(text="user_@")) == 0  # _ is not a wildcard
    assert activity.count(ActivityFilter(text="' OR 1=1 --")) == 0
    assert activity.count(ActivityFilter(text="\x00\ud800")) == 6  # nothing usable: no filter
    assert activity.count(ActivityFilter(text="x" * 10_000)) == 0


def test_paging_covers_everything_once(db):
    people = [_user(n) for n in range(5)]
    for round_ in range(7):
        audit.record_many(
            "access.deny", [(u.id, u.email) for u in people], at=T0 + timedelta(seconds=round_)
        )
    total = activity.count()
    assert total == 35
    paged = []
    for offset in range(0, total, 8):
        paged.extend(r.id for r in activity.entries(offset=offset, limit=8))
    streamed = [r.id for r in activity.iter_entries(chunk=4)]
    assert paged == streamed
    assert len(set(streamed)) == 35
    assert [r.id for r in activity.iter_entries(chunk=4, limit=9)] == streamed[:9]
    alice = [r.id for r in activity.iter_entries(ActivityFilter(user_id=people[3].id), chunk=2)]
    assert len(alice) == 7


def test_choices_are_distinct_and_sorted(db):
    _seed()
    assert activity.admins() == ["alice", "bob", "carol"]
    assert activity.actions() == ["access.allow", "access.deny", "licence_type.add", "pupil.remove"]


def test_real_changes_appear_in_the_log(db):
    people = [_user(n) for n in range(3)]
    access.set_access([u.id for u in people], False, reason="left the school\nlast July")
    rows = activity.entries(ActivityFilter(action="access.deny"))
    assert {r.user_id for r in rows} == {u.id for u in people}
    assert all(r.admin == "test-admin" for r in rows)
    assert all(r.detail == "left the school\\nlast July" for r in rows)
    assert len({r.batch for r in rows}) == 1


@pytest.mark.parametrize(
    ("typed", "expected"), [("", None), ("  ", None), ("42", 42), ("#7", 7), (" 3 ", 3)]
)
def test_parse_user_id(typed, expected):
    assert activity.parse_user_id(typed) == expected


@pytest.mark.parametrize("typed", ["abc", "-1", "1.5", "１２", "9" * 30, "1; DROP TABLE x"])
def test_parse_user_id_refuses(typed):
    with pytest.raises(InvalidInput, match="whole number"):
        activity.parse_user_id(typed)


def test_describe():
    assert ActivityFilter().describe() == "all entries"
    assert ActivityFilter(text="a\\b").describe() == "target containing “a\\b”"  # as typed
    assert ActivityFilter(admin="bob", action="access.deny", user_id=4, text="x").describe() == (
        "admin bob, action access.deny, user 4, target containing “x”"
    )


def test_export_streams_the_filtered_log_to_a_real_workbook(db, tmp_path):
    people = _seed()
    audit.record_many(
        "note",
        [(people[1].id, '=HYPERLINK("http://x")')],
        admin="bob",
        detail="line\nbreak",
        at=T0 + timedelta(minutes=30),
    )
    seen: list[int] = []
    flt = ActivityFilter(admin="bob")
    result = activity.export_log(tmp_path / "log.xlsx", flt, progress=seen.append)
    assert result.rows == activity.count(flt) == 3
    assert seen and seen[-1] == 3
    book = openpyxl.load_workbook(result.path)
    sheet = book["Activity"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == (
        "When",
        "Admin",
        "Action",
        "User ID",
        "Target",
        "Outcome",
        "Detail",
        "Batch",
    )
    assert [row[2] for row in values[1:]] == ["note", "access.deny", "access.deny"]
    assert values[1][0] == T0 + timedelta(minutes=30)
    assert values[1][4] == '=HYPERLINK("http://x")'  # text, not a formula
    assert sheet.cell(row=2, column=5).data_type == "s"
    assert values[1][6] == "line\\nbreak"
    about = dict(book["About this export"].iter_rows(values_only=True))
    assert about["Filter"] == "admin bob"


def test_export_cancelled_leaves_no_file(db, tmp_path):
    people = _seed()
    audit.record_many("access.deny", [(people[0].id, "x")] * 3000, at=T0)
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(xlsx.ExportCancelled):
        activity.export_log(folder / "log.xlsx", should_cancel=lambda: True)
    assert list(folder.iterdir()) == []


def test_default_export_path(monkeypatch, tmp_path):
    monkeypatch.setenv("EXTGW_EXPORT_DIR", str(tmp_path))
    path = activity.default_export_path(datetime(2026, 11, 28, 14, 5))
    assert path == tmp_path / "activity-log_2026-11-28_1405.xlsx"
