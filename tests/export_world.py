"""The small world the export tests share: four users and five pupils with formula payloads,
and bulk users for exports that take a while (a helper module, not a test module)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peewee import chunked

from extgw_tui.models import PARENT_GUARDIAN, PUPIL, ExternalUser, Licence, LicenceType, Pupil

CREATED = datetime(2025, 9, 1, 8, 30, 0)
LOGIN = datetime(2026, 11, 2, 19, 5, 42)


@dataclass
class World:
    ann: int
    evil: int
    kid: int
    lonely: int


def user(title: str, forename: str, surname: str, email: str, **extra) -> ExternalUser:
    return ExternalUser.create(
        title=title,
        forename=forename,
        surname=surname,
        email=email,
        password_hash="x",
        created_at=CREATED,
        **extra,
    )


def pupil(forename: str, surname: str, year: int | None, form: str, adm: str | None, **extra):
    return Pupil.create(
        forename=forename,
        surname=surname,
        year_group=year,
        form=form,
        admission_number=adm,
        **extra,
    )


def build_world() -> World:
    """Four users, five pupils: holders of both types, formula payloads, a pupil off roll."""
    pg = LicenceType.get(name=PARENT_GUARDIAN).id
    own = LicenceType.get(name=PUPIL).id
    ann = user("Mrs", "Ann", "Smith", "ann@example.org", last_login_at=LOGIN)
    evil = user("@SUM(A1)", "=1+1", "-2", "=cmd|'/C calc'!A0@example.org", adr=False)
    kid = user("", "Tom", "Abbot", "tom@pupils.example.org", last_login_at=LOGIN)
    lonely = user("Mr", "Lee", "Jones", "lee@example.org", access_allowed=False)
    tom = pupil("Tom", "Abbot", 7, "7A", "A001")
    sue = pupil("+cmd", "Smith", 9, "9B", "\t=x")
    pupil("Zoe", "Green", 8, "8C", None)  # nobody holds a licence for her
    pupil("Old", "Leaver", 11, "11A", "A004", on_roll=False)
    pupil("Ian", "Self", 10, "10D", "A005")
    self_pupil = Pupil.get(Pupil.forename == "Ian")
    for holder, child, kind in [
        (ann, tom, pg),
        (ann, sue, pg),
        (evil, tom, pg),
        (kid, tom, own),
        (kid, self_pupil, own),
    ]:
        Licence.create(user=holder, pupil=child, licence_type=kind)
    return World(ann.id, evil.id, kid.id, lonely.id)


def bulk_users(count: int) -> None:
    """`count` more users, inserted in batches: enough rows for an export to take a while."""
    rows = [
        dict(
            surname="Bulk",
            surname_key="bulk",
            email=f"b{i}@example.org",
            email_key=f"b{i}@example.org",
            password_hash="x",
        )
        for i in range(count)
    ]
    for batch in chunked(rows, 1000):
        ExternalUser.insert_many(batch).execute()
