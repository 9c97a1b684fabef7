"""The roll's service: search (names folded like user search, UPN, admission number, form,
year), the roll filter, paging, counts per licence type in SQL, and one pupil in full."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from extgw_tui.errors import InvalidInput, NotFound
from extgw_tui.models import Contact, ExternalUser, Licence, Pupil, now
from extgw_tui.services import pupils

PARENT, OWN = 1, 2


def pupil(forename, surname, year, form, adno, upn=None, *, left_on=None) -> Pupil:
    return Pupil.create(
        forename=forename,
        surname=surname,
        year_group=year,
        form=form,
        admission_number=adno,
        upn=upn,
        on_roll=left_on is None,
        left_on=left_on,
    )


def account(surname: str, *, allowed: bool = True, deleted: bool = False) -> ExternalUser:
    return ExternalUser.create(
        title="Ms",
        forename="Pat",
        surname=surname,
        email=f"{surname.lower()}@example.org",
        password_hash="x",
        access_allowed=allowed,
        last_login_at=datetime(2026, 3, 1, 9, 0),
        deleted_at=now() if deleted else None,
    )


def hold(user: ExternalUser, child: Pupil, licence_type: int = PARENT) -> None:
    Licence.create(user=user.id, pupil=child.id, licence_type=licence_type)


@pytest.fixture
def roll(db):
    kids = {
        "siobhan": pupil("Siobhán", "O’Brien", 7, "7A", "26000001", "A123456789012"),
        "anna": pupil("Anna", "Walker-Patel", 8, "8B", "25000002", "B223456789012"),
        "zofia": pupil("Zofia", "Łukasiewicz", 10, "10B", "23000003", "C323456789012"),
        "tom": pupil("Tom", "Smith", 10, "10C", "23000004", "D423456789012"),
        "gone": pupil("Anna", "Smith", 11, "11A", "22000005", left_on=date(2025, 7, 21)),
    }
    mum, dad = account("Smith"), account("Walker")
    hold(mum, kids["tom"])
    hold(mum, kids["gone"])
    hold(dad, kids["anna"])
    hold(dad, kids["tom"])
    hold(account("Gone", deleted=True), kids["tom"])  # soft-deleted: counts for nobody
    tom_own = account("Tomsmith")
    hold(tom_own, kids["tom"], OWN)
    Contact.create(pupil=kids["tom"].id, priority=2, surname="Walker", email="walker@example.org")
    Contact.create(pupil=kids["tom"].id, priority=1, surname="Smith", email="SMITH@example.org")
    Contact.create(pupil=kids["tom"].id, priority=3, surname="Gran", email=None)
    return kids


def names(rows) -> list[str]:
    return [f"{r.forename} {r.surname}" for r in rows]


@pytest.mark.parametrize(
    "term, expected",
    [
        ("obrien", ["Siobhán O’Brien"]),  # apostrophes and accents folded, as user search
        ("O'BRIEN", ["Siobhán O’Brien"]),
        ("siobhan", ["Siobhán O’Brien"]),  # forename from its start
        ("walkerpatel", ["Anna Walker-Patel"]),
        ("walker patel", ["Anna Walker-Patel"]),
        ("lukas", ["Zofia Łukasiewicz"]),
        ("anna walker", ["Anna Walker-Patel"]),  # forename + surname
        ("smith tom", ["Tom Smith"]),  # surname + forename
        ("a1234", ["Siobhán O’Brien"]),  # UPN from its start, any case
        ("2500", ["Anna Walker-Patel"]),  # admission number from its start
        ("10b", ["Zofia Łukasiewicz"]),  # a form
        ("10", ["Zofia Łukasiewicz", "Tom Smith"]),  # a year
        ("year 10", ["Zofia Łukasiewicz", "Tom Smith"]),
        ("y7", ["Siobhán O’Brien"]),
        ("%", []),  # taken literally
        ("", ["Siobhán O’Brien", "Tom Smith", "Anna Walker-Patel", "Zofia Łukasiewicz"]),
    ],
)
def test_search(roll, term, expected):
    found = pupils.search_pupils(term)
    assert sorted(names(found)) == sorted(expected)
    assert pupils.count_pupils(term) == len(expected)


def test_roll_filter(roll):
    assert names(pupils.search_pupils("smith", roll=pupils.LEFT)) == ["Anna Smith"]
    assert names(pupils.search_pupils("smith", roll=pupils.ALL)) == ["Anna Smith", "Tom Smith"]
    assert pupils.count_pupils(None, pupils.ALL) == 5
    assert pupils.count_pupils(None, pupils.LEFT) == 1
    gone = pupils.search_pupils("anna smith", roll=pupils.LEFT)[0]
    assert not gone.on_roll and gone.left_on == date(2025, 7, 21)
    with pytest.raises(InvalidInput):
        pupils.count_pupils(None, "everyone")


def test_counts_per_licence_type_and_contacts(roll):
    tom = pupils.search_pupils("tom smith")[0]
    assert tom.holders == {PARENT: 2, OWN: 1}  # the soft-deleted account is not counted
    assert tom.contacts == 3
    siobhan = pupils.search_pupils("obrien")[0]
    assert siobhan.holders == {} and siobhan.contacts == 0


def test_paging_and_sorting(roll):
    everyone = pupils.search_pupils(None, roll=pupils.ALL, limit=10)
    assert [r.surname for r in everyone][:2] == ["Łukasiewicz", "O’Brien"]  # folded order
    pages = [pupils.search_pupils(None, roll=pupils.ALL, offset=o, limit=2) for o in (0, 2, 4)]
    assert [r.id for page in pages for r in page] == [r.id for r in everyone]
    by_year = pupils.search_pupils(None, roll=pupils.ALL, sort="year", descending=True)
    assert [r.year_group for r in by_year] == [11, 10, 10, 8, 7]
    by_form = pupils.search_pupils(None, sort="form")
    assert [r.form for r in by_form] == ["10B", "10C", "7A", "8B"]


def test_one_pupil_in_full(roll):
    detail = pupils.pupil_detail(roll["tom"].id)
    assert detail.pupil.name == "Tom Smith"
    assert [(h.surname, h.licence_types) for h in detail.holders] == [
        ("Smith", ("Parent/Guardian",)),
        ("Tomsmith", ("Pupil",)),
        ("Walker", ("Parent/Guardian",)),
    ]
    assert [(c.priority, c.surname, c.has_account) for c in detail.contacts] == [
        (1, "Smith", True),  # the same address as an account, whatever its case
        (2, "Walker", True),
        (3, "Gran", False),
    ]
    assert detail.contacts[2].email is None
    Pupil.delete().where(Pupil.id == roll["siobhan"].id).execute()
    with pytest.raises(NotFound):
        pupils.pupil_detail(roll["siobhan"].id)
