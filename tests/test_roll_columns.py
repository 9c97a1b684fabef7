"""The header table: what it recognises, --map, and that the README documents it as it is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from extgw_tui.errors import InvalidInput
from extgw_tui.services.roll_columns import PUPIL_COLUMNS, layout_of, parse_mapping, recognise

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_table_is_the_code_table():
    text = README.read_text()
    section = text[text.index("## Importing the roll") :]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|$", section, flags=re.M)
    documented = {field: re.sub(r"\s*\(.*\)", "", headers) for field, headers in rows}
    assert set(documented) == set(PUPIL_COLUMNS)
    for field, headers in documented.items():
        listed = [h.strip() for h in headers.split(",")]
        assert [h for h in PUPIL_COLUMNS[field] if h != "Admission No."] == listed
        for header in listed:
            assert recognise(header) == field


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Reg. Group", "form"),
        ("REGGROUP", "form"),
        ("Admission No.", "admission_number"),
        ("Contact 1 Email", "contact1_email"),
        ("Contact1 E-mail", "contact1_email"),
        ("Parent 2 Name", "contact2_name"),
        ("Contact 3 Parental Responsibility", "contact3_parental_responsibility"),
        ("Contact Email 2", "contact2_email"),
        ("Contact Email", "contact_email"),
        ("Relationship", "contact_relationship"),
        ("Parental Responsibility", "contact_parental_responsibility"),
        ("Contact Priority", "contact_priority"),
        ("Email", None),  # a pupil's own email is not a contact's
        ("Notes", None),
        ("", None),
    ],
)
def test_recognise(header, field):
    assert recognise(header) == field


def test_the_first_alias_wins_and_the_others_are_unused():
    layout = layout_of(["Preferred Forename", "Legal Forename", "Surname", "UPN"])
    assert layout.columns["forename"] == 1
    assert layout.ignored == ["Preferred Forename"]


def test_map():
    mapping = parse_mapping(["Pupil ID=upn", "Mum's email = contact1_email", "Notes=ignore"])
    assert mapping == {"pupilid": "upn", "mumsemail": "contact1_email", "notes": "ignore"}
    layout = layout_of(["Pupil ID", "Surname", "Forename", "Mum's email", "Notes"], mapping)
    assert layout.columns == {"upn": 0, "surname": 1, "forename": 2}
    assert layout.contacts == {1: {"email": 3}}
    with pytest.raises(InvalidInput, match="is not HEADER=field"):
        parse_mapping(["Pupil ID"])
    with pytest.raises(InvalidInput, match="'shoe size' is not a field; the fields are upn,"):
        parse_mapping(["Size=shoe size"])


def test_numbered_and_per_row_contacts_together_are_refused():
    with pytest.raises(InvalidInput, match="numbered contact columns"):
        layout_of(["UPN", "Surname", "Forename", "Contact 1 Email", "Relationship"])
