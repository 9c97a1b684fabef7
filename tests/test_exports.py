"""The four exports (and "as currently listed") on both backends, read back from real files."""

from __future__ import annotations

import threading
from datetime import date, datetime
from pathlib import Path

import pytest
from export_world import CREATED, LOGIN, World, build_world, user
from openpyxl import load_workbook

from extgw_tui.errors import InvalidInput
from extgw_tui.models import (
    PARENT_GUARDIAN,
    PUPIL,
    AuditEvent,
    ExternalUser,
    database,
)
from extgw_tui.services.exports import (
    ExportKind,
    count_rows,
    export_rows,
    make_request,
    output_path,
    proposed_name,
    run_export,
)
from extgw_tui.services.xlsx import ABOUT_TITLE, ExportCancelled


@pytest.fixture
def world(db) -> World:
    return build_world()


def read_back(path: Path) -> tuple[list, list[list]]:
    ws = load_workbook(path).worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return rows[0], rows[1:]


def test_all_users_export(world: World, tmp_path: Path) -> None:
    result = run_export(make_request("users"), tmp_path / "users.xlsx")
    assert result.rows == 4
    header, rows = read_back(result.path)
    assert header == [
        "ID",
        "Title",
        "Forename",
        "Surname",
        "Email",
        "Account created",
        "ADR",
        "Access allowed",
        "Last login",
        "Pupils",
        "Licence types held",
    ]
    assert rows[0] == [
        world.ann,
        "Mrs",
        "Ann",
        "Smith",
        "ann@example.org",
        CREATED,
        "Yes",
        "Yes",
        LOGIN,
        2,
        PARENT_GUARDIAN,
    ]
    assert rows[1] == [
        world.evil,
        "@SUM(A1)",
        "=1+1",
        "-2",
        "=cmd|'/C calc'!A0@example.org",
        CREATED,
        "No",
        "Yes",
        None,
        1,
        PARENT_GUARDIAN,
    ]
    assert rows[2][0] == world.kid and rows[2][1] is None and rows[2][9:] == [2, PUPIL]
    assert rows[3] == [
        world.lonely,
        "Mr",
        "Lee",
        "Jones",
        "lee@example.org",
        CREATED,
        "Yes",
        "No",
        None,
        0,
        None,
    ]
    ws = load_workbook(result.path)["External users"]
    assert isinstance(ws["F2"].value, datetime) and ws["F2"].is_date
    for ref in ("B3", "C3", "D3", "E3"):  # every payload is a text cell, never a formula
        assert ws[ref].data_type == "s" and ws[ref].quotePrefix


def test_holders_export(world: World, tmp_path: Path) -> None:
    result = run_export(make_request("holders", "parent/guardian"), tmp_path / "h.xlsx")
    _, rows = read_back(result.path)
    assert [r[0] for r in rows] == [world.ann, world.evil]
    about = dict(load_workbook(result.path)[ABOUT_TITLE].iter_rows(values_only=True))
    assert about["Licence type"] == PARENT_GUARDIAN
    assert about["Export"] == "External users holding a licence type"
    assert about["Rows"] == 2


def test_pupils_with_lists_holders_names_and_emails(world: World, tmp_path: Path) -> None:
    result = run_export(make_request("pupils-with", PARENT_GUARDIAN), tmp_path / "pw.xlsx")
    header, rows = read_back(result.path)
    assert header == [
        "Forename",
        "Surname",
        "Year",
        "Form",
        "Admission number",
        "Holders",
        "Holders' emails",
    ]
    assert rows == [
        [
            "Tom",
            "Abbot",
            7,
            "7A",
            "A001",
            "@SUM(A1) =1+1 -2; Mrs Ann Smith",
            "=cmd|'/C calc'!A0@example.org; ann@example.org",
        ],
        ["+cmd", "Smith", 9, "9B", "\t=x", "Mrs Ann Smith", "ann@example.org"],
    ]
    ws = load_workbook(result.path)["Pupils"]
    assert ws["A3"].data_type == "s" and ws["E3"].quotePrefix and ws["F2"].quotePrefix


def test_pupils_without_skips_holders_and_pupils_off_roll(world: World, tmp_path: Path) -> None:
    no_parent = run_export(make_request("pupils-without", PARENT_GUARDIAN), tmp_path / "a.xlsx")
    header, rows = read_back(no_parent.path)
    assert header == ["Forename", "Surname", "Year", "Form", "Admission number"]
    assert rows == [["Zoe", "Green", 8, "8C", None], ["Ian", "Self", 10, "10D", "A005"]]
    no_account = run_export(make_request("pupils-without", PUPIL), tmp_path / "b.xlsx")
    assert [r[0] for r in read_back(no_account.path)[1]] == ["+cmd", "Zoe"]


def test_search_export_matches_the_main_screen_search(world: World, tmp_path: Path) -> None:
    by_surname = run_export(make_request("search", search="SMI"), tmp_path / "s.xlsx")
    assert [r[0] for r in read_back(by_surname.path)[1]] == [world.ann]
    by_email = run_export(make_request("search", search="pupils.example"), tmp_path / "e.xlsx")
    assert [r[0] for r in read_back(by_email.path)[1]] == [world.kid]
    about = dict(load_workbook(by_email.path)[ABOUT_TITLE].iter_rows(values_only=True))
    assert about["Search in force"] == "pupils.example"
    holders = make_request("holders", PARENT_GUARDIAN, search="smith")
    assert [r[0] for r in export_rows(holders)] == [world.ann]


@pytest.mark.parametrize(
    "kind, licence",
    [
        ("users", None),
        ("holders", PARENT_GUARDIAN),
        ("pupils-with", PARENT_GUARDIAN),
        ("pupils-without", PUPIL),
    ],
)
def test_keyset_chunks_give_the_same_rows_and_count(world: World, kind: str, licence) -> None:
    request = make_request(kind, licence)
    whole = list(export_rows(request))
    assert list(export_rows(request, chunk=1)) == whole
    assert list(export_rows(request, chunk=2)) == whole
    assert count_rows(request) == len(whole) > 0


def test_audit_entry_and_progress(world: World, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    result = run_export(
        make_request("users", search="smith"),
        tmp_path / "x.xlsx",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[0] == (0, 1) and seen[-1] == (1, 1)
    entry = AuditEvent.select().where(AuditEvent.action == "export").get()
    assert entry.admin == "test-admin"
    assert entry.target == "x.xlsx"
    assert entry.detail.startswith("export: search; search: smith; rows: 1; path: ")
    assert "rows: 1" in entry.detail and str(result.path) in entry.detail


def test_count_and_rows_agree_under_a_concurrent_change(world: World, tmp_path: Path) -> None:
    """Another session adds a user once the rows are counted: the file holds what was counted."""

    def another_session_adds_a_user() -> None:
        with database.connection_context():
            user("Mr", "Late", "Comer", "late@example.org")

    def progress(done: int, total: int) -> None:
        if done == 0:  # counted, not yet read
            writer = threading.Thread(target=another_session_adds_a_user)
            writer.start()
            writer.join()

    result = run_export(make_request("users"), tmp_path / "u.xlsx", progress=progress)
    assert result.rows == 4 == len(read_back(result.path)[1])
    assert ExternalUser.select().count() == 5  # the change itself went through, unblocked
    assert "rows: 4;" in AuditEvent.get(AuditEvent.action == "export").detail


def test_cancelled_export_leaves_nothing_and_is_not_audited(world: World, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ExportCancelled):
        run_export(make_request("users"), out / "c.xlsx", should_cancel=lambda: True)
    assert list(out.iterdir()) == []
    assert not AuditEvent.select().where(AuditEvent.action == "export").exists()


def test_proposed_name_in_the_export_folder(world: World, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EXTGW_EXPORT_DIR", str(tmp_path))
    request = make_request("holders", PARENT_GUARDIAN)
    name = proposed_name(request, date(2026, 11, 28))
    assert name == "external-users_parent-guardian_2026-11-28.xlsx"
    assert proposed_name(make_request("pupils-without", PUPIL), date(2026, 1, 2)) == (
        "pupils-without_pupil_2026-01-02.xlsx"
    )
    assert proposed_name(make_request("search", search="O'Brien"), date(2026, 1, 2)) == (
        "external-users_search-o-brien_2026-01-02.xlsx"
    )
    result = run_export(request)
    assert result.path.parent == tmp_path and result.path.name == proposed_name(request)
    assert output_path(tmp_path / "mine", request) == tmp_path / "mine.xlsx"


def test_a_folder_means_the_proposed_name_inside_it(
    world: World, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("EXTGW_EXPORT_DIR", str(tmp_path / "default"))
    folder = tmp_path / "reports"
    folder.mkdir()
    request = make_request("holders", PARENT_GUARDIAN)
    name = proposed_name(request)
    assert output_path(folder, request) == folder / name
    assert output_path(f"{folder}/", request) == folder / name
    assert output_path(f"{tmp_path}/new/", request) == tmp_path / "new" / name  # ends in /
    assert output_path("  ", request) == tmp_path / "default" / name
    result = run_export(request, folder)
    assert result.path == folder / name and result.rows == 2
    assert not (tmp_path / "reports.xlsx").exists()


def test_activity_log_export_is_audited_too(world: World, tmp_path: Path) -> None:
    from extgw_tui.services import audit
    from extgw_tui.services.activity import ActivityFilter
    from extgw_tui.services.exports import export_activity_log

    audit.record("access.deny", user_id=world.lonely, target="lee@example.org")
    seen: list[tuple[int, int]] = []
    result = export_activity_log(
        tmp_path / "log.xlsx",
        ActivityFilter(action="access.deny"),
        progress=lambda *report: seen.append(report),
    )
    assert result.rows == 1 and seen[0] == (0, 1) and seen[-1] == (1, 1)
    entry = AuditEvent.get(AuditEvent.action == "export")
    assert (entry.admin, entry.target) == ("test-admin", "log.xlsx")
    assert entry.detail == (
        f"export: activity log; filter: action access.deny; rows: 1; path: {result.path}"
    )


def test_bad_requests_say_what_is_wrong(world: World) -> None:
    with pytest.raises(InvalidInput, match="needs a licence type"):
        make_request(ExportKind.HOLDERS)
    with pytest.raises(InvalidInput, match="no licence type called 'Grandparent'"):
        make_request("pupils-with", "Grandparent")
    with pytest.raises(InvalidInput, match="no export called"):
        make_request("everything")
    assert make_request("users", search=" smith ").kind is ExportKind.SEARCH
    assert make_request("users", search="  ").kind is ExportKind.USERS
    with pytest.raises(InvalidInput, match="user exports only"):
        make_request("pupils-without", PUPIL, search="smith")
