"""Searching users (services/users.py) on both backends: matching, escaping, Unicode, paging."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from extgw_tui.db import open_database
from extgw_tui.models import (
    SCHEMA_VERSION,
    ExternalUser,
    Pupil,
    SchemaInfo,
    name_key,
    text_key,
)
from extgw_tui.services import access, users


def make(surname: str, email: str, **fields) -> ExternalUser:
    """A user saved through the model, so the normalised keys are set as in production."""
    return ExternalUser.create(surname=surname, email=email, password_hash="x", **fields)


def surnames(term: str) -> set[str]:
    return {row.surname for row in users.search_users(term, limit=500)}


def test_surname_prefix_and_email_fragment_ignore_case(db):
    make("Smith", "a1@home.example")
    make("SMITHSON", "a2@home.example")
    make("Blacksmith", "a3@home.example")
    make("Jones", "Jane.SMITH@Work.example")
    assert surnames("smith") == {"Smith", "SMITHSON", "Jones"}  # Jones by email
    assert surnames("SMI") == {"Smith", "SMITHSON", "Jones"}
    assert surnames("work.EXAMPLE") == {"Jones"}
    assert surnames("  smithson ") == {"SMITHSON"}
    assert surnames("black") == {"Blacksmith"}
    assert surnames("lacksmith") == set()  # the surname matches from its start only
    assert users.count_users("smith") == 3


def test_like_wildcards_backslash_and_quotes_are_literal(db):
    make("Percent%", "p1@home.example")
    make("Under_score", "p2@home.example")
    make("Back\\slash", "p3@home.example")
    make("O'Brien", "p4@home.example")
    make('Say "hi"', "p5@home.example")
    make("Underxscore", "p6@home.example")
    make("Plain", "o'neill@home.example")
    # As wildcards these would match everyone; taken literally, only what holds them.
    assert surnames("%") == set()
    assert surnames("_") == set()
    assert surnames("\\") == set()
    assert surnames("percent%") == {"Percent%"}
    assert surnames("under_") == {"Under_score"}
    assert surnames("back\\s") == {"Back\\slash"}
    assert surnames("o'b") == {"O'Brien"}
    assert surnames("'") == {"Plain"}  # by the email o'neill@
    assert surnames('say "h') == {'Say "hi"'}
    assert surnames('"') == set()
    assert surnames("'; DROP TABLE external_user; --") == set()
    assert users.count_users() == 7


def test_unicode_is_normalised_and_casefolded(db):
    make("Straße", "u1@home.example")
    make("Ｊｏｎｅｓ", "u2@home.example")  # full-width letters, as some keyboards type them
    make("Müller", "u3@home.example")
    make("Smith", "ÉLODIE@home.example")
    assert surnames("STRASSE") == {"Straße"}  # casefold("ß") == "ss"
    assert surnames("strasse") == {"Straße"}
    assert surnames("jones") == {"Ｊｏｎｅｓ"}
    assert surnames("ＪＯＮ") == {"Ｊｏｎｅｓ"}
    assert surnames("MÜLLER") == {"Müller"}
    assert surnames("muller") == {"Müller"}  # as typed on a UK keyboard
    assert surnames("élodie") == {"Smith"}
    assert surnames("elodie") == set()  # email addresses keep their accents
    assert surnames("e\u0301lodie") == {"Smith"}  # combining accent: NFKC composes it
    assert surnames("\x00") == {"Straße", "Ｊｏｎｅｓ", "Müller", "Smith"}  # nothing left: all


def _sorted_rows(key: str):
    """What every sort key must mean, in Python, for the check below."""
    by = {
        "surname": lambda r: (name_key(r.surname), r.forename, r.id),
        "forename": lambda r: (name_key(r.forename), name_key(r.surname), r.id),
        "id": lambda r: (r.id,),
        "title": lambda r: (r.title, name_key(r.surname), r.id),
        "email": lambda r: (r.email.casefold(),),
        "created": lambda r: (r.created_at, r.id),
        "adr": lambda r: (r.adr, name_key(r.surname), r.id),
        "access": lambda r: (r.access_allowed, name_key(r.surname), r.id),
        "last_login": lambda r: (r.last_login_at or datetime.min, r.id),
    }
    return by[key]


@pytest.fixture
def many(db):
    """60 users with ties in every column, so order depends on the tie-breakers."""
    base = datetime(2024, 1, 1, 9, 0, 0)
    made = []
    for i in range(60):
        made.append(
            make(
                ["Page", "page", "Abbot", "Zed", "Öztürk", "Oz"][i % 6],  # Ö sorts as O
                f"user{i:02d}@{['b', 'a', 'c'][i % 3]}.example",
                title=["Mr", "Mrs", "Dr", ""][i % 4],
                forename=["Ann", "Bob", "Cat"][i % 3],
                created_at=base + timedelta(days=i % 5),
                adr=bool(i % 2),
                last_login_at=base + timedelta(days=i % 7),
            ).id
        )
    access.set_access(made[::3], False)
    return made


@pytest.mark.parametrize("key", sorted(users.SORTS))
def test_every_sort_key_pages_through_everything_in_order(many, key):
    for descending in (False, True):
        pages = []
        offset = 0
        while page := users.search_users(
            None, sort=key, descending=descending, offset=offset, limit=7
        ):
            pages.extend(page)
            offset += 7
        assert len(pages) == 60 and len({r.id for r in pages}) == 60
        assert pages == users.search_users(None, sort=key, descending=descending, limit=1000)
        expected = sorted(pages, key=_sorted_rows(key), reverse=descending)
        assert [r.id for r in pages] == [r.id for r in expected]


def test_unknown_sort_and_odd_paging_are_safe(many):
    assert users.search_users(None, sort="nonsense", limit=5) == users.search_users(None, limit=5)
    assert users.search_users(None, offset=-10, limit=3) == users.search_users(None, limit=3)
    assert (
        users.search_users(None, offset=59, limit=10)[0].id
        == users.search_users(None, limit=60)[-1].id
    )
    assert users.search_users(None, offset=60) == []
    assert users.search_users(None, limit=0) == []


def test_counts_totals_and_matching_ids(many):
    assert users.count_users() == 60
    assert users.count_users("page") == 20  # "Page" and "page", a third of the 60
    assert users.count_users("oz") == 20  # "Öztürk" and "Oz"
    assert users.count_users("a.example") == 20
    assert users.totals() == users.Totals(users=60, denied=20)
    assert sorted(users.user_ids_matching("page")) == sorted(
        r.id for r in users.search_users("page", limit=100)
    )
    assert len(users.user_ids_matching(None)) == 60
    assert users.user_ids_matching("nobody-matches") == []


def test_empty_database_totals(db):
    assert users.totals() == users.Totals(users=0, denied=0)
    assert users.count_users("x") == 0 and users.search_users("x") == []


def test_schema_1_surname_keys_lose_their_accents_on_opening(tmp_path):
    """A database written by the first release is migrated when opened: its surname keys were
    made with accents, so "ozturk" found nobody there."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    handle = open_database(url)
    user = ExternalUser.create(surname="Öztürk", email="a@example.org", password_hash="x")
    plain = ExternalUser.create(surname="Owen", email="b@example.org", password_hash="x")
    pupil = Pupil.create(forename="Zoë", surname="Núñez")
    ExternalUser.update(surname_key=text_key("Öztürk")).where(ExternalUser.id == user.id).execute()
    Pupil.update(surname_key=text_key("Núñez")).where(Pupil.id == pupil.id).execute()
    SchemaInfo.update(version=1).execute()
    handle.close()
    open_database(url)
    assert SchemaInfo.get().version == SCHEMA_VERSION
    assert [r.id for r in users.search_users("ozturk")] == [user.id]
    assert Pupil.get_by_id(pupil.id).surname_key == "nunez"
    assert ExternalUser.get_by_id(plain.id).surname_key == "owen"
