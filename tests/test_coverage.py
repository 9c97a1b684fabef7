"""Coverage per form and year: who counts as an active holder, the three levels agreeing, the
.xlsx export (opened again, formula-safe, audited) and `extgw-tui coverage`, on both backends."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from extgw_tui.cli import main
from extgw_tui.models import AuditEvent, ExternalUser, Licence, Pupil, now
from extgw_tui.services import coverage

TODAY = date(2026, 5, 15)
RECENT = datetime(2025, 5, 15, 0, 0)  # the first instant of the 12-month window
STALE = datetime(2025, 5, 14, 23, 59, 59)
PARENT, OWN = 1, 2


def child(form: str, year: int, *, on_roll: bool = True) -> Pupil:
    return Pupil.create(forename="Kim", surname=form, year_group=year, form=form, on_roll=on_roll)


def holder(
    kid: Pupil,
    last_login: datetime | None,
    licence_type: int = PARENT,
    *,
    allowed: bool = True,
    deleted: bool = False,
) -> None:
    user = ExternalUser.create(
        surname="Holder",
        email=f"h{ExternalUser.select().count()}@example.org",
        password_hash="x",
        last_login_at=last_login,
        access_allowed=allowed,
        deleted_at=now() if deleted else None,
    )
    Licence.create(user=user.id, pupil=kid.id, licence_type=licence_type)


@pytest.fixture
def school(db):
    build_school()


def build_school() -> None:
    """7A: four pupils, only one covered by a parent; 7B: one covered by parent and self;
    8A: one covered; plus a leaver with an active parent, who is not counted at all."""
    a = [child("7A", 7) for _ in range(4)]
    holder(a[0], RECENT)  # active: logged in on the window's first day
    holder(a[1], STALE)  # a second too early
    holder(a[2], RECENT, allowed=False)  # denied
    holder(a[3], RECENT, deleted=True)  # soft-deleted
    holder(a[3], None)  # never logged in
    b = child("7B", 7)
    holder(b, RECENT)
    holder(b, RECENT)  # two active parents still count the pupil once
    holder(b, datetime(2026, 5, 1), OWN)
    holder(child("8A", 8), datetime(2026, 1, 1))
    holder(child("8A", 8, on_roll=False), RECENT)


def test_active_holders_per_form_year_and_school(school):
    report = coverage.coverage(TODAY)
    assert report.since == date(2025, 5, 15)
    forms = {(r.year_group, r.form): (r.pupils, r.parents, r.own) for r in report.forms}
    assert forms == {(7, "7A"): (4, 1, 0), (7, "7B"): (1, 1, 1), (8, "8A"): (1, 1, 0)}
    years = {r.year_group: (r.pupils, r.parents, r.own) for r in report.years}
    assert years == {7: (5, 2, 1), 8: (1, 1, 0)}
    assert (report.school.pupils, report.school.parents, report.school.own) == (6, 3, 1)
    assert report.years[0].parent_share == pytest.approx(0.4)
    assert [r.label for r in report.rows()] == [
        "Year 7",
        "7A",
        "7B",
        "Year 8",
        "8A",
        "Whole school",
    ]
    assert coverage.percent(report.forms[0].parent_share) == "25%"


def test_an_empty_roll(db):
    report = coverage.coverage(TODAY)
    assert report.forms == [] and report.years == []
    assert report.school.pupils == 0 and report.school.parent_share == 0.0


def test_forms_in_reading_order(db):
    for form in ("7A10", "7A2", "7B", "7A"):
        child(form, 7)
    assert [r.form for r in coverage.coverage(TODAY).forms] == ["7A", "7A2", "7A10", "7B"]


def test_export_is_opened_again_formula_safe_and_audited(school, tmp_path):
    Pupil.update(form="=HYPERLINK(1)").where(Pupil.form == "8A").execute()
    seen = []
    result = coverage.export_coverage(
        tmp_path / "c.xlsx", today=TODAY, progress=lambda done, total: seen.append((done, total))
    )
    assert result.rows == 6 and seen[0] == (0, 6)
    book = load_workbook(result.path)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("Year", "Form", "Pupils on roll")
    assert rows[1] == (7, "All forms", 5, 2, 40.0, 1, 20.0)
    assert rows[2] == (7, "7A", 4, 1, 25.0, 0, 0.0)
    assert rows[-1] == (None, "Whole school", 6, 3, 50.0, 1, 16.7)
    formula = book.worksheets[0].cell(row=6, column=2)
    assert formula.value == "=HYPERLINK(1)" and formula.data_type == "s"  # text, never a formula
    entry = AuditEvent.get(AuditEvent.action == "export")
    assert "export: coverage" in entry.detail and "rows: 6" in entry.detail


def test_command_prints_years_and_writes_the_file(sqlite_db, tmp_path, capsys):
    build_school()
    db_url = sqlite_db.url
    out = tmp_path / "out"
    out.mkdir()
    assert main(["coverage", "--db", db_url, "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Year 7" in printed and "Whole school" in printed and "  7A" not in printed
    [written] = out.glob("coverage_*.xlsx")
    assert load_workbook(written).worksheets[0].max_row == 7
    assert main(["coverage", "--db", db_url, "--forms"]) == 0
    assert "  7A " in capsys.readouterr().out
