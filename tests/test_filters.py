"""The search box's language on both backends: people found as they are asked for, every
filter, negation, and one sentence for what cannot be understood."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from extgw_tui.errors import InvalidInput
from extgw_tui.models import (
    PARENT_GUARDIAN,
    PUPIL,
    ExternalUser,
    Licence,
    LicenceType,
    Pupil,
    now,
)
from extgw_tui.services import filters, users


def _user(forename: str, surname: str, email: str, **fields) -> ExternalUser:
    return ExternalUser.create(
        forename=forename, surname=surname, email=email, password_hash="x", **fields
    )


@pytest.fixture
def school(db):
    """Six accounts that differ in every way a filter can tell."""
    parent, pupil_type = (LicenceType.get(name=n) for n in (PARENT_GUARDIAN, PUPIL))
    seven = Pupil.create(forename="Ann", surname="Wright", year_group=7, form="7A")
    nine = Pupil.create(forename="Bo", surname="Patel", year_group=9, form="9C")
    old = datetime(2023, 3, 10, 9, 0)
    people = {
        "angela": _user("Angela", "Wright", "angela.w@hotmail.example", created_at=old),
        "wright": _user("Tom", "Wright", "tom@school.example", last_login_at=now()),
        "obrien": _user("Seán", "O’Brien", "sean@yahoo.example", access_allowed=False),
        "walker": _user(
            "Priya",
            "Walker-Patel",
            "priya@school.example",
            adr=False,
            last_login_at=now() - timedelta(days=500),
            created_at=datetime(2024, 6, 1),
        ),
        "nobody": _user("Wright", "Nobody", "nobody@school.example"),
        "pupil": _user("Bo", "Patel", "bo.patel@pupils.example"),
    }
    for key, pupil, kind in (
        ("angela", seven, parent),
        ("wright", seven, parent),
        ("walker", nine, parent),
        ("walker", seven, parent),
        ("pupil", nine, pupil_type),
    ):
        Licence.create(user=people[key], pupil=pupil, licence_type=kind)
    return {key: user.id for key, user in people.items()}


def found(text: str, school: dict[str, int]) -> set[str]:
    names = {user_id: key for key, user_id in school.items()}
    rows = users.search_users(text, limit=100)
    assert users.count_users(text) == len(rows)
    assert set(users.user_ids_matching(text)) == {row.id for row in rows}
    return {names[row.id] for row in rows}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wright", {"angela", "wright", "nobody"}),  # surname, or forename Wright
        ("angela wright", {"angela"}),
        ("wright angela", {"angela"}),
        ("ANGELA  WRI", {"angela"}),
        ("obrien", {"obrien"}),
        ("o'brien", {"obrien"}),
        ("o’brien", {"obrien"}),
        ("sean o brien", {"obrien"}),
        ("walker patel", {"walker"}),
        ("walkerpatel", {"walker"}),
        ("patel", {"pupil"}),  # Walker-Patel starts with Walker
        ("hotmail", {"angela"}),  # email contains
        ("tom wright", {"wright"}),
        ("zzzq", set()),
    ],
)
def test_people_are_found_as_they_are_asked_for(school, text, expected):
    assert found(text, school) == expected


def test_an_id_finds_its_account(school):
    angela = school["angela"]
    assert found(f"#{angela}", school) == {"angela"}
    assert found(str(angela), school) == {"angela"}
    assert found("#999999", school) == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("access:denied", {"obrien"}),
        ("access:allowed", {"angela", "wright", "walker", "nobody", "pupil"}),
        ('licence:"Parent/Guardian"', {"angela", "wright", "walker"}),
        ("licence:parent/guardian", {"angela", "wright", "walker"}),
        ("licence:Pupil", {"pupil"}),
        ("licence:none", {"obrien", "nobody"}),
        ("licence:any", {"angela", "wright", "walker", "pupil"}),
        ("pupils:0", {"obrien", "nobody"}),
        ("pupils:2", {"walker"}),
        ("pupils:>1", {"walker"}),
        ("pupils:<2", {"angela", "wright", "obrien", "nobody", "pupil"}),
        ("pupils:>=1", {"angela", "wright", "walker", "pupil"}),
        ("login:never", {"angela", "obrien", "nobody", "pupil"}),
        ("login:>12m", {"walker"}),
        ("login:<30d", {"wright"}),
        ("created:<2023-05", {"angela"}),
        ("created:2024", {"walker"}),
        ("created:2024-06-01", {"walker"}),
        ("adr:no", {"walker"}),
        ("year:7", {"angela", "wright", "walker"}),
        ("year:9", {"walker", "pupil"}),
        ("form:7a", {"angela", "wright", "walker"}),
        ("form:9C", {"walker", "pupil"}),
        ("email:yahoo", {"obrien"}),
        ("-access:denied -licence:any", {"nobody"}),
        ("wright -angela", {"wright", "nobody"}),
        ("wright year:7", {"angela", "wright"}),
        ('school licence:"Parent/Guardian" -login:never', {"wright", "walker"}),
    ],
)
def test_filters_combine_with_and_and_negate_with_minus(school, text, expected):
    assert found(text, school) == expected


def test_a_list_of_ids(school):
    text = f"id:{school['angela']},{school['pupil']}, 999999"
    assert found(text.replace(" ", ""), school) == {"angela", "pupil"}


def test_bouncing_addresses(school):
    ExternalUser.update(bounced_at=now()).where(ExternalUser.id == school["nobody"]).execute()
    assert found("email:bouncing", school) == {"nobody"}
    assert found("-email:bouncing wright", school) == {"angela", "wright"}


def test_deleted_accounts_are_found_by_nothing(school):
    ExternalUser.update(deleted_at=now()).where(ExternalUser.id == school["angela"]).execute()
    assert found("wright", school) == {"wright", "nobody"}
    assert found(f"#{school['angela']}", school) == set()
    assert "angela" not in found("", school)


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (
            "acess:denied",
            "There is no filter acess: (did you mean access:?); the filters are access:",
        ),
        ("access:maybe", "access: takes allowed or denied, not 'maybe'."),
        ("licence:Teacher", "licence: there is no licence type called 'Teacher'"),
        ('licence:"Parent', "A quotation mark is not closed"),
        ("pupils:lots", "pupils: takes a number"),
        ("login:>12x", "login: takes an age like 30d"),
        ("login:soon", "login: takes never, >AGE"),
        ("created:May", "created: takes a date like 2023"),
        ("created:2023-13", "created: takes a date like 2023"),
        ("year:15", "year: takes a year group from 0"),
        ("id:12,x", "id: takes account IDs"),
        ("adr:", "adr: needs a value, e.g. adr:no."),
    ],
)
def test_what_cannot_be_understood_is_one_sentence(school, text, sentence):
    with pytest.raises(InvalidInput) as refused:
        users.search_users(text)
    assert sentence in str(refused.value)
    assert filters.check(text) == str(refused.value)
    assert "\n" not in str(refused.value)


def test_check_passes_what_can_be_searched(school):
    assert filters.check("angela wright access:allowed") is None
    assert filters.check("") is None
