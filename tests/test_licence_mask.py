"""Each account's licence types on its row (schema 4): kept by triggers through every kind of
change to licences, on both backends; filled when an older database is opened; read by the
statistics and the portal's login."""

from __future__ import annotations

from datetime import date

from licence_masks import masks_held, masks_recorded

from extgw_tui.db import open_database
from extgw_tui.models import (
    SCHEMA_VERSION,
    ExternalUser,
    Licence,
    Pupil,
    SchemaInfo,
    database,
    licence_bit,
)
from extgw_tui.services import licences, portal, statistics, undo
from extgw_tui.services.accounts import delete_users

PARENT, PUPIL = 1, 2


def _accounts(count: int) -> list[int]:
    return [
        ExternalUser.create(surname=f"S{n}", email=f"u{n}@e.org", password_hash="x").id
        for n in range(count)
    ]


def _pupils(count: int) -> list[int]:
    return [Pupil.create(forename="P", surname=f"Q{n}").id for n in range(count)]


def _kept() -> dict[int, int]:
    recorded = masks_recorded()
    assert recorded == masks_held()
    return recorded


def test_every_kind_of_change_to_licences_keeps_the_mask(db):
    a, b, c = _accounts(3)
    p1, p2, p3 = _pupils(3)
    assert _kept() == {a: 0, b: 0, c: 0}
    Licence.create(user=a, pupil=p1, licence_type=PARENT)
    Licence.insert_many(  # one statement, several accounts and types
        [(a, p2, PUPIL), (b, p1, PARENT), (b, p2, PARENT), (c, p3, PUPIL)],
        fields=[Licence.user, Licence.pupil, Licence.licence_type],
    ).execute()
    both = licence_bit(PARENT) | licence_bit(PUPIL)
    assert _kept() == {a: both, b: licence_bit(PARENT), c: licence_bit(PUPIL)}
    Licence.update(licence_type=PUPIL).where(Licence.user == b).execute()  # a type changes
    Licence.update(user=c).where((Licence.user == a) & (Licence.pupil == p1)).execute()  # moves
    assert _kept() == {a: licence_bit(PUPIL), b: licence_bit(PUPIL), c: both}
    Licence.delete().where(Licence.user == b).execute()
    assert _kept()[b] == 0
    Pupil.delete().where(Pupil.id == p3).execute()  # the cascade removes c's Pupil licence
    assert _kept() == {a: licence_bit(PUPIL), b: 0, c: licence_bit(PARENT)}
    ExternalUser.delete().where(ExternalUser.id == a).execute()  # its licences go with it
    assert _kept() == {b: 0, c: licence_bit(PARENT)}


def test_a_deletion_and_its_undo_take_the_types_away_and_back(db):
    ids = _accounts(3)
    pupils = _pupils(2)
    for user_id in ids:
        Licence.create(user=user_id, pupil=pupils[0], licence_type=PARENT)
    Licence.create(user=ids[0], pupil=pupils[1], licence_type=PUPIL)
    before = _kept()
    delete_users(ids[:2])
    assert _kept() == {**before, ids[0]: 0, ids[1]: 0}
    licences.remove_pupil(ids[2], pupils[0])
    assert _kept()[ids[2]] == 0
    for batch in undo.recent():
        undo.undo(batch.batch)
    assert _kept() == before


def test_the_statistics_and_the_login_read_the_types_from_the_row(db):
    ids = _accounts(4)
    (pupil,) = _pupils(1)
    Licence.create(user=ids[0], pupil=pupil, licence_type=PARENT)
    Licence.create(user=ids[1], pupil=pupil, licence_type=PARENT)
    Licence.create(user=ids[1], pupil=_pupils(1)[0], licence_type=PUPIL)
    ExternalUser.update(access_allowed=False).where(ExternalUser.id == ids[1]).execute()
    today = date(2026, 12, 2)
    parents = statistics.account_figures(statistics.group_named("Parent/Guardian"), today)
    assert (parents.accounts, parents.allowed, parents.denied) == (2, 1, 1)
    assert statistics.account_figures(statistics.group_named("Pupil"), today).accounts == 1
    assert statistics.account_figures(statistics.ALL, today).accounts == 4
    assert portal.login_account("u0@e.org").licence_mask == licence_bit(PARENT)
    assert portal.login_account("u1@e.org") is None  # denied: as if unknown
    assert portal.login_account("u2@e.org").licence_mask == 0


def test_a_schema_3_database_gains_the_masks_on_opening(db_url):
    """Take what schema 4 added away from a new database holding licences, open it again: the
    masks are filled from the licences and the triggers keep them from then on."""
    handle = open_database(db_url)
    a, b = _accounts(2)
    p1, p2 = _pupils(2)
    Licence.create(user=a, pupil=p1, licence_type=PARENT)
    Licence.create(user=a, pupil=p2, licence_type=PUPIL)
    Licence.create(user=b, pupil=p2, licence_type=PUPIL)
    sqlite = db_url.startswith("sqlite")
    for name in ("licence_mask_insert", "licence_mask_delete", "licence_mask_update"):
        handle.execute_sql(f"DROP TRIGGER {name}" + ("" if sqlite else " ON licence"))
    if not sqlite:
        handle.execute_sql("DROP FUNCTION licence_mask_kept()")
    handle.execute_sql('ALTER TABLE "external_user" DROP COLUMN "licence_mask"')
    SchemaInfo.update(version=3).execute()
    handle.close()
    handle = open_database(db_url)
    try:
        assert SchemaInfo.get().version == SCHEMA_VERSION == 4
        assert _kept() == {a: licence_bit(PARENT) | licence_bit(PUPIL), b: licence_bit(PUPIL)}
        Licence.delete().where(Licence.user == a).execute()
        Licence.create(user=b, pupil=p1, licence_type=PARENT)
        assert _kept() == {a: 0, b: licence_bit(PARENT) | licence_bit(PUPIL)}
    finally:
        handle.close()
        database.initialize(None)
