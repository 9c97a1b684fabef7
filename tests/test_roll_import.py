"""Importing the roll on both backends: preview, apply, matching, leavers, contacts, refusals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from roll_files import HEADER, good_upn, pupil, write_csv, write_xlsx

from extgw_tui.errors import InvalidInput
from extgw_tui.models import AuditEvent, Contact, Pupil
from extgw_tui.services import roll_import
from extgw_tui.services.roll_import import ImportCancelled, ImportOptions

TODAY = date(2026, 12, 1)
CONTACT_HEADER = [
    *HEADER,
    "Contact 1 Name",
    "Contact 1 Relationship",
    "Contact 1 Email",
    "Contact 1 Parental Responsibility",
    "Contact 2 Name",
    "Contact 2 Email",
]


def _pupils() -> dict[str, tuple]:
    return {
        p.surname: (
            p.forename,
            p.upn,
            p.admission_number,
            p.year_group,
            p.form,
            p.on_roll,
            p.left_on,
        )
        for p in Pupil.select()
    }


def _contacts() -> list[tuple]:
    return [
        (c.pupil.surname, c.priority, c.title, c.forename, c.surname, c.relationship, c.email,
         bool(c.parental_responsibility))
        for c in Contact.select().order_by(Contact.pupil, Contact.priority)
    ]  # fmt: skip


def _options(**kwargs) -> ImportOptions:
    return ImportOptions(today=TODAY, **kwargs)


def _roll(tmp_path: Path, name: str = "roll.csv", **kwargs) -> Path:
    rows = [
        [*pupil(1, "Smith", "Tom", 8, "8B"), "Mrs Jane Smith", "Mother", "jane@example.org", "Yes",
         "Mr John Smith", "john@example.org"],
        [*pupil(2, "Öztürk", "Ayşe", "Year 7", "7C"), "Mr Ali Öztürk", "Father", "ali@example.org",
         "Y", "", ""],
        [*pupil(3, "Jones", "Mia", "R", "RB"), "", "", "", "", "", ""],
    ]  # fmt: skip
    return write_csv(tmp_path / name, rows, header=CONTACT_HEADER, **kwargs)


def test_first_import_then_the_same_file_changes_nothing(db, tmp_path):
    path = _roll(tmp_path)
    preview = roll_import.preview(path, _options())
    assert (preview.new, preview.changed, preview.unchanged, preview.leaving) == (3, 0, 0, 0)
    assert (preview.contacts_added, preview.rejected_count) == (3, 0)
    assert (
        Pupil.select().count() == 0 and AuditEvent.select().count() == 0
    )  # a preview writes nothing

    done = roll_import.apply(path, _options())
    assert done.applied and done.new == 3
    assert _pupils() == {
        "Smith": ("Tom", good_upn(1), "0001", 8, "8B", True, None),
        "Öztürk": ("Ayşe", good_upn(2), "0002", 7, "7C", True, None),
        "Jones": ("Mia", good_upn(3), "0003", 0, "RB", True, None),
    }
    assert Pupil.get(Pupil.surname == "Öztürk").forename_key == "ayse"
    assert _contacts() == [
        ("Smith", 1, "Mrs", "Jane", "Smith", "Mother", "jane@example.org", True),
        ("Smith", 2, "Mr", "John", "Smith", "", "john@example.org", False),
        ("Öztürk", 1, "Mr", "Ali", "Öztürk", "Father", "ali@example.org", True),
    ]
    entries = list(AuditEvent.select().order_by(AuditEvent.id))
    assert len({e.batch for e in entries}) == 1 and entries[0].batch == done.batch
    actions = [e.action for e in entries]
    assert actions.count("roll.pupil_added") == 3 and actions.count("roll.contact_added") == 3
    assert actions[-1] == "roll.import" and entries[-1].target == "roll.csv"
    assert "Ayşe Öztürk (" + good_upn(2) + ")" in {e.target for e in entries}

    again = roll_import.preview(path, _options())
    assert (again.new, again.changed, again.unchanged, again.leaving) == (0, 0, 3, 0)
    assert (again.contacts_added, again.contacts_changed, again.contacts_removed) == (0, 0, 0)
    assert not again.changes_anything
    before = (_pupils(), _contacts(), AuditEvent.select().count())
    roll_import.apply(path, _options())
    assert (_pupils(), _contacts(), AuditEvent.select().count()) == before


def test_changes_leavers_and_matching_by_admission_number(db, tmp_path):
    Pupil.create(forename="Tom", surname="Smith", upn=good_upn(1), admission_number="0001",
                 year_group=7, form="7A")  # fmt: skip
    Pupil.create(forename="Old", surname="Upn", upn=good_upn(50), admission_number="0005",
                 year_group=9, form="9A")  # fmt: skip
    Pupil.create(forename="Lee", surname="Leaver", upn=good_upn(9), admission_number="0009")
    Pupil.create(forename="Gone", surname="Before", upn=good_upn(8), on_roll=False,
                 left_on=date(2025, 7, 20))  # fmt: skip
    Pupil.create(forename="Ria", surname="Back", upn=good_upn(7), on_roll=False,
                 left_on=date(2025, 7, 20))  # fmt: skip
    rows = [
        pupil(1, "Smith", "Tom", 8, "8B"),
        [good_upn(5), "0005", "Upn", "Old", 9, "9A"],  # the MIS gave a new UPN
        pupil(7, "Back", "Ria", 10, "10A"),
    ]
    path = write_csv(tmp_path / "roll.csv", rows)
    preview = roll_import.preview(path, _options())
    assert (preview.new, preview.changed, preview.unchanged, preview.leaving) == (0, 3, 0, 1)
    assert preview.changed_fields["UPN"] == 1 and preview.changed_fields["back on roll"] == 1
    assert preview.changed_fields["year"] == 2 and preview.changed_fields["form"] == 2
    changed = "\n".join(preview.samples["Changed"])
    assert f"UPN {good_upn(50)} -> {good_upn(5)}" in changed
    assert "year 7 -> 8; form 7A -> 8B" in changed
    assert preview.samples["Leaving"] == [f"Lee Leaver ({good_upn(9)})"]

    roll_import.apply(path, _options())
    after = _pupils()
    assert after["Upn"][1] == good_upn(5)
    assert after["Leaver"][5:] == (False, TODAY)  # marked off roll with the date, not deleted
    assert after["Before"][5:] == (False, date(2025, 7, 20))  # an earlier leaver keeps its date
    assert after["Back"][3:] == (10, "10A", True, None)  # back on roll
    assert Pupil.select().count() == 5
    left = AuditEvent.get(AuditEvent.action == "roll.pupil_left")
    assert left.target == f"Lee Leaver ({good_upn(9)})" and left.detail == "left on 2026-12-01"


def test_partial_file_never_marks_leavers(db, tmp_path):
    Pupil.create(forename="Other", surname="Year", upn=good_upn(9), year_group=9)
    path = write_csv(tmp_path / "y7.csv", [pupil(1, "Smith", "Tom")])
    preview = roll_import.preview(path, _options(partial=True))
    assert preview.leaving == 0 and "Leaving" not in preview.samples
    roll_import.apply(path, _options(partial=True))
    assert Pupil.get(Pupil.surname == "Year").on_roll
    assert Pupil.select().count() == 2


def test_every_refused_row_with_its_number_and_reason(db, tmp_path):
    bad_letter = "A" + good_upn(4)[1:] if good_upn(4)[0] != "A" else "B" + good_upn(4)[1:]
    rows = [
        pupil(1, "Smith", "Tom"),  # row 5
        ["", "", "Nokey", "Pupil", 7, "7A"],
        [bad_letter, "0004", "Check", "Letter", 7, "7A"],
        pupil(5, "Future", "Year", 15, "7A"),
        pupil(6, "Twice", "Adno", 7, "7A"),
        [good_upn(7), "0006", "Twice", "Again", 7, "7A"],  # admission number 0006 again
        pupil(1, "Smith", "Tom"),  # the UPN again
        [good_upn(8), "0008", "", "Nosurname", 7, "7A"],
        [good_upn(10), "0010", "Long", "Form", 7, "F" * 21],
        ["12345", "0011", "Short", "Upn", 7, "7A"],
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    preview = roll_import.preview(path, _options())
    assert preview.rejected == [
        (6, "no UPN and no admission number"),
        (7, f"UPN {bad_letter} fails the DfE check letter (expected {good_upn(4)[0]})"),
        (8, "impossible year group '15' (N1, N2, R or 1-14)"),
        (10, "duplicate admission number 0006 (also on row 9)"),
        (11, f"duplicate UPN {good_upn(1)} (also on row 5)"),
        (12, "no surname"),
        (13, "form FFFFFFFFFFFFFFFFFFFFF is longer than 20 characters"),
        (14, "UPN 12345 is not a letter followed by 12 characters of digits"),
    ]
    assert preview.rejected_count == 8 and preview.new == 2
    lines = "\n".join(preview.detail_lines())
    assert "row 7: UPN" in lines and "row 14: UPN 12345" in lines
    roll_import.apply(path, _options())
    assert {p.surname for p in Pupil.select()} == {"Smith", "Twice"}


def test_a_refused_row_keeps_its_pupil_on_roll(db, tmp_path):
    Pupil.create(forename="Amy", surname="Typo", upn=good_upn(3), year_group=7, form="7A")
    path = write_csv(tmp_path / "roll.csv", [pupil(3, "Typo", "Amy", "Year Seven", "7A")])
    preview = roll_import.preview(path, _options())
    assert preview.leaving == 0 and preview.rejected_count == 1
    roll_import.apply(path, _options())
    assert Pupil.get(Pupil.surname == "Typo").on_roll


def test_contacts_changed_and_removed_and_bad_email(db, tmp_path):
    roll_import.apply(_roll(tmp_path), _options())
    rows = [
        [*pupil(1, "Smith", "Tom", 8, "8B"), "Mrs Jane Smith", "Mother", "jane@new.example.org",
         "Yes", "", ""],
        [*pupil(2, "Öztürk", "Ayşe", 7, "7C"), "Mr Ali Öztürk", "Father", "ali@example.org", "Y",
         "Ms Eda Öztürk", "not an email"],
        [*pupil(3, "Jones", "Mia", "R", "RB"), "", "", "", "", "", ""],
    ]  # fmt: skip
    path = write_csv(tmp_path / "next.csv", rows, header=CONTACT_HEADER)
    preview = roll_import.preview(path, _options())
    assert (preview.contacts_added, preview.contacts_changed, preview.contacts_removed) == (1, 1, 1)
    assert preview.warnings == [
        (6, "contact 2's email 'not an email' is not a valid address; not stored")
    ]
    roll_import.apply(path, _options())
    assert _contacts() == [
        ("Smith", 1, "Mrs", "Jane", "Smith", "Mother", "jane@new.example.org", True),
        ("Öztürk", 1, "Mr", "Ali", "Öztürk", "Father", "ali@example.org", True),
        ("Öztürk", 2, "Ms", "Eda", "Öztürk", "", None, False),
    ]
    actions = {e.action for e in AuditEvent.select()}
    assert {"roll.contact_changed", "roll.contact_removed", "roll.contact_added"} <= actions
    email_key = Contact.get(Contact.email == "jane@new.example.org").email_key
    assert email_key == "jane@new.example.org"


def test_one_row_per_contact(db, tmp_path):
    header = [*HEADER, "Contact Surname", "Contact Forename", "Relationship", "Priority",
              "Contact Email", "Parental Responsibility"]  # fmt: skip
    rows = [
        [*pupil(1, "Smith", "Tom"), "Smith", "Jane", "Mother", 1, "jane@example.org", "Yes"],
        [*pupil(1, "Smith", "Tom"), "Smith", "John", "Father", 2, "john@example.org", "No"],
        [*pupil(2, "Lee", "Kim"), "Lee", "Sue", "Aunt", 1, "", ""],
        [*pupil(1, "Smith", "Tom", 9), "Smith", "Ann", "Gran", 3, "", ""],  # details differ
    ]
    path = write_csv(tmp_path / "contacts.csv", rows, header=header)
    preview = roll_import.preview(path, _options())
    assert (preview.new, preview.contacts_added, preview.pupils) == (2, 3, 2)
    assert preview.rejected == [(8, "the same pupil as row 5 with different details")]
    roll_import.apply(path, _options())
    assert _contacts() == [
        ("Smith", 1, "", "Jane", "Smith", "Mother", "jane@example.org", True),
        ("Smith", 2, "", "John", "Smith", "Father", "john@example.org", False),
        ("Lee", 1, "", "Sue", "Lee", "Aunt", None, False),
    ]


def test_odd_headers_and_map(db, tmp_path):
    header = ["Pupil ID", "Admission No.", "SURNAME", "first name", "NC Year", "Tutor Group", "x"]
    rows = [[good_upn(1), "0001", "Smith", "Tom", "Y8", "8B", "?"]]
    path = write_csv(tmp_path / "odd.csv", rows, header=header)
    preview = roll_import.preview(path, _options())
    assert preview.new == 1 and "Pupil ID" in preview.unused  # found by admission number
    roll_import.apply(path, _options(mapping={"pupilid": "upn"}))
    assert _pupils()["Smith"][:5] == ("Tom", good_upn(1), "0001", 8, "8B")


def test_missing_columns_are_named(db, tmp_path):
    path = write_csv(
        tmp_path / "names.csv", [["Smith", "Tom", 7]], header=["Surname", "Forename", "Year"]
    )
    with pytest.raises(InvalidInput) as caught:
        roll_import.preview(path, _options())
    message = str(caught.value)
    assert "has no column for UPN or admission number (Adno)" in message
    assert "found: Surname (surname); Forename (forename); Year (year_group)" in message


def test_no_header(db, tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(InvalidInput, match="no recognisable header row in its first 50 rows"):
        roll_import.preview(path, _options())


def test_row_limit(db, tmp_path):
    path = write_csv(tmp_path / "big.csv", [pupil(n, "Smith", "Sam") for n in range(1, 60)])
    with pytest.raises(InvalidInput, match="big.csv has more than 50 rows, more than any roll"):
        roll_import.apply(path, _options(max_rows=50))
    assert Pupil.select().count() == 0


@pytest.mark.parametrize(
    ("encoding", "delimiter"), [("cp1252", ";"), ("utf-8-sig", "\t"), ("utf-16", ",")]
)
def test_each_encoding_end_to_end(db, tmp_path, encoding, delimiter):
    rows = [pupil(1, "Zoë", "Renée", 7, "7A"), pupil(2, "Núñez", "José", 8, "8A")]
    path = write_csv(tmp_path / "r.csv", rows, encoding=encoding, delimiter=delimiter)
    roll_import.apply(path, _options())
    assert {p.surname for p in Pupil.select()} == {"Zoë", "Núñez"}


def test_xlsx_end_to_end(db, tmp_path):
    path = write_xlsx(tmp_path / "roll.xlsx", {"Roll": [pupil(1, "Smith", "Tom", 7)], "Notes": []})
    with pytest.raises(InvalidInput, match="choose one"):
        roll_import.preview(path, _options())
    done = roll_import.apply(path, _options(sheet="Roll"))
    assert done.new == 1 and _pupils()["Smith"][3] == 7


def test_cancel_leaves_nothing_changed(db, tmp_path):
    Pupil.create(forename="Lee", surname="Leaver", upn=good_upn(9))
    stages: list[str] = []
    path = _roll(tmp_path)
    with pytest.raises(ImportCancelled, match="nothing was changed"):
        roll_import.apply(
            path,
            _options(),
            progress=lambda stage, fraction: stages.append(stage),
            should_cancel=lambda: "applying" in stages,  # after every write, before commit
        )
    assert Pupil.select().count() == 1 and Pupil.get().on_roll
    assert Contact.select().count() == 0 and AuditEvent.select().count() == 0


KILLED = """
import sys, time
from pathlib import Path
from extgw_tui.db import open_database
from extgw_tui.services import roll_import
open_database(sys.argv[1])
stages = []
def hold():
    if "applying" in stages:
        Path(sys.argv[3]).write_text("writing")
        time.sleep(120)
    return False
roll_import.apply(Path(sys.argv[2]), progress=lambda s, f: stages.append(s), should_cancel=hold)
"""


def test_kill_9_in_the_middle_leaves_the_database_as_it_was(db, db_url, tmp_path):
    Pupil.create(forename="Lee", surname="Leaver", upn=good_upn(9))
    db.close()
    marker = tmp_path / "marker"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED, db_url, str(_roll(tmp_path)), str(marker)]
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    db.connect(reuse_if_open=True)
    assert Pupil.select().count() == 1 and Pupil.get().on_roll
    assert Contact.select().count() == 0 and AuditEvent.select().count() == 0


def test_trailing_blank_columns_and_rows(db, tmp_path):
    rows = [[*pupil(1, "Smith", "Tom"), "", "", ""], ["", "", "", "", "", "", "", "", ""]]
    path = write_csv(tmp_path / "wide.csv", rows, header=[*HEADER, "", "", ""])
    preview = roll_import.preview(path, _options())
    assert (preview.rows, preview.new, preview.rejected_count) == (1, 1, 0)
