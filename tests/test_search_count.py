"""count_users counts surname + email - both (benchmarks/README.md): it must equal the matches.

Each user's surname and email are chosen so every term below hits some users by surname only,
some by email only, some by both (counted once) and some not at all, on both backends.
"""

from __future__ import annotations

import pytest

from extgw_tui.models import ExternalUser
from extgw_tui.services import access, users

PEOPLE = [
    ("Smith", "smith@home.example"),  # both
    ("Smithers", "a.b@work.example"),  # surname only
    ("Jones", "jane.smith@work.example"),  # email only
    ("Blacksmith", "b@home.example"),  # neither for "smith"
    ("O'Brien", "obrien_50%@home.example"),
    ("Zoë", "ZOE@Home.example"),
]
TERMS = ["smith", "SMI", "work", "home", "o'b", "50%", "_", "zoë", "e", "nobody", "s"]


@pytest.mark.parametrize("term", TERMS)
def test_count_equals_the_matching_rows(db, term: str) -> None:
    for surname, email in PEOPLE:
        ExternalUser.create(surname=surname, email=email, password_hash="x")
    matching = users.user_ids_matching(term)
    assert users.count_users(term) == len(matching) == len(users.search_users(term))


def test_count_of_smith_counts_the_user_matching_twice_once(db) -> None:
    for surname, email in PEOPLE:
        ExternalUser.create(surname=surname, email=email, password_hash="x")
    assert users.count_users("smith") == 3
    assert users.count_users(None) == users.count_users("  ") == len(PEOPLE)


def test_totals_count_the_denied_through_their_index(db) -> None:
    ids = [ExternalUser.create(surname=s, email=e, password_hash="x").id for s, e in PEOPLE]
    access.set_access(ids[:2], False)
    assert users.totals() == users.Totals(users=len(PEOPLE), denied=2)
