"""The roll's exports: "Pupils and their contacts" and "Leavers with accounts", written and
opened again, streamed in pages, formula-safe and audited; and `extgw-tui export` for both."""

from __future__ import annotations

from datetime import date

import pytest
from openpyxl import load_workbook

from extgw_tui.cli import main
from extgw_tui.errors import InvalidInput
from extgw_tui.models import AuditEvent, Contact, ExternalUser, Licence, Pupil, now
from extgw_tui.services import exports
from extgw_tui.services.exports import ExportKind, make_request, proposed_name, run_export


def pupil(forename: str, *, left_on: date | None = None) -> Pupil:
    return Pupil.create(
        forename=forename,
        surname="Roll",
        year_group=9,
        form="9A",
        admission_number=f"A{forename}",
        upn=None,
        on_roll=left_on is None,
        left_on=left_on,
    )


def account(name: str, *pupils: Pupil, deleted: bool = False) -> ExternalUser:
    user = ExternalUser.create(
        title="Mr",
        forename=name,
        surname="Holder",
        email=f"{name.lower()}@example.org",
        password_hash="x",
        deleted_at=now() if deleted else None,
    )
    for kid in pupils:
        Licence.create(user=user.id, pupil=kid.id, licence_type=1)
    return user


@pytest.fixture
def roll(db):
    ann, bob, cat = pupil("Ann"), pupil("Bob"), pupil("Cat")
    Contact.create(pupil=ann.id, priority=2, forename="Second", email=None, address="2 Lane")
    Contact.create(
        pupil=ann.id,
        priority=1,
        forename="=cmd|' /C calc'!A0",  # a contact name from the MIS that looks like a formula
        relationship="Mother",
        email="first@example.org",
        parental_responsibility=True,
    )
    Contact.create(pupil=cat.id, priority=1, forename="Only", email="only@example.org")
    left_with = pupil("Dan", left_on=date(2025, 7, 21))
    left_alone = pupil("Eve", left_on=date(2025, 7, 21))
    left_gone = pupil("Fay", left_on=date(2024, 7, 21))
    account("Still", left_with, bob)  # still has Bob on roll
    account("Only", left_with)
    account("Deleted", left_gone, deleted=True)  # soft-deleted: Fay has no account left
    return {"ann": ann, "bob": bob, "dan": left_with, "eve": left_alone}


def sheet_rows(path) -> list[tuple]:
    return list(load_workbook(path).worksheets[0].iter_rows(values_only=True))


def test_pupils_and_contacts(roll, tmp_path):
    request = make_request("pupils-contacts")
    assert exports.count_rows(request) == 4  # Ann twice, Bob without contacts once, Cat once
    result = run_export(request, tmp_path / "c.xlsx")
    rows = sheet_rows(result.path)
    assert rows[0][:3] == ("UPN", "Admission number", "Forename")
    body = [(r[2], r[6], r[8], r[11], r[12]) for r in rows[1:]]
    assert body == [
        ("Ann", 1, "=cmd|' /C calc'!A0", "first@example.org", "Yes"),
        ("Ann", 2, "Second", None, "No"),
        ("Bob", None, None, None, None),
        ("Cat", 1, "Only", "only@example.org", "No"),
    ]
    cell = load_workbook(result.path).worksheets[0].cell(row=2, column=9)
    assert cell.data_type == "s"  # written as text, never evaluated
    assert "export: pupils-contacts" in AuditEvent.get(AuditEvent.action == "export").detail


@pytest.mark.parametrize("kind", ["pupils-contacts", "leavers"])
def test_pages_of_any_size_give_the_same_rows(roll, kind):
    request = make_request(kind)
    whole = list(exports.export_rows(request))
    assert whole and all(list(exports.export_rows(request, chunk)) == whole for chunk in (1, 2))


def test_leavers_with_accounts(roll, tmp_path):
    request = make_request(ExportKind.LEAVERS)
    assert exports.count_rows(request) == 1
    rows = sheet_rows(run_export(request, tmp_path / "l.xlsx").path)
    assert rows[0][6:] == ("Left on", "Holders", "Holders' emails", "Holders with a pupil on roll")
    [dan] = rows[1:]
    assert dan[0] == "Dan" and dan[6].date() == date(2025, 7, 21)
    assert dan[7] == "Mr Only Holder (Parent/Guardian); Mr Still Holder (Parent/Guardian)"
    assert dan[8] == "only@example.org; still@example.org"
    assert dan[9] == 1  # Still holds Bob, on roll


def test_names_and_refusals(db):
    assert proposed_name(make_request("leavers"), date(2026, 1, 2)) == (
        "leavers-with-accounts_2026-01-02.xlsx"
    )
    assert proposed_name(make_request("pupils-contacts"), date(2026, 1, 2)) == (
        "pupils-and-contacts_2026-01-02.xlsx"
    )
    with pytest.raises(InvalidInput, match="user exports only"):
        make_request("leavers", search="smith")


def test_command(sqlite_db, tmp_path, capsys):
    kid = pupil("Dan", left_on=date(2025, 7, 21))
    account("Only", kid)
    assert main(["export", "leavers", "--db", sqlite_db.url, "-o", str(tmp_path)]) == 0
    assert "Exported 1 row (leavers with accounts)" in capsys.readouterr().out
    assert len(sheet_rows(next(tmp_path.glob("leavers-with-accounts_*.xlsx")))) == 2
    assert main(["export", "pupils-contacts", "--db", sqlite_db.url, "-o", str(tmp_path)]) == 0
    assert main(["export", "leavers", "--db", sqlite_db.url, "--licence", "Pupil"]) == 1
    assert "takes no --licence" in capsys.readouterr().err
