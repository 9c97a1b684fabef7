"""The portal API: registering, logging in, denied = unknown, deleting one's own account."""

from __future__ import annotations

import statistics
import time

import pytest
from argon2 import extract_parameters

from extgw_tui.errors import InvalidInput
from extgw_tui.models import (
    AuditEvent,
    ExternalUser,
    Licence,
    LicenceType,
    LoginEvent,
    Pupil,
    licence_bit,
    live_user,
)
from extgw_tui.services import access, portal

PASSWORD = "correct horse battery"
U = ExternalUser


@pytest.fixture
def holder(db):
    """A registered parent holding two licence types (for two pupils)."""
    user = portal.register(
        "Jo.Bloggs@Home.example", PASSWORD, title="Ms", forename="Jo", surname="Bloggs"
    )
    for name, forename in (("Parent/Guardian", "Ann"), ("Pupil", "Ben")):
        pupil = Pupil.create(forename=forename, surname="Bloggs", year_group=10, form="10A")
        Licence.create(user=user, pupil=pupil, licence_type=LicenceType.get(name=name))
    return user


def snapshot() -> tuple:
    """Everything a login attempt could change."""
    return (
        LoginEvent.select().count(),
        AuditEvent.select().count(),
        list(U.select(U.id, U.last_login_at, U.access_allowed, U.password_hash).tuples()),
    )


def test_register_sets_adr_and_refuses_duplicates_and_bad_input(holder):
    assert (holder.adr, holder.access_allowed, holder.last_login_at) == (True, True, None)
    stored = U.get_by_id(holder.id)
    assert stored.email == "Jo.Bloggs@home.example" and stored.adr is True
    with pytest.raises(InvalidInput, match="already exists"):
        portal.register("JO.BLOGGS@HOME.EXAMPLE", PASSWORD, surname="Other")
    for bad in ("not-an-email", "two@@home.example", "a@b", "x@home.example\nBcc: y@z.example"):
        with pytest.raises(InvalidInput, match="not a valid email"):
            portal.register(bad, PASSWORD, surname="Other")
    with pytest.raises(InvalidInput, match="at least"):
        portal.register("short@home.example", "short", surname="Other")
    with pytest.raises(InvalidInput, match="surname"):
        portal.register("nosurname@home.example", PASSWORD, surname="  ")
    assert U.select().count() == 1


def test_authenticate_records_the_login_with_the_licence_types_held(holder):
    before = snapshot()
    assert portal.authenticate("jo.bloggs@home.example", "wrong password") is None
    assert snapshot() == before
    user = portal.authenticate("  JO.BLOGGS@home.EXAMPLE ", PASSWORD)
    assert user is not None and user.id == holder.id
    (event,) = LoginEvent.select()
    types = {t.name: t.id for t in LicenceType.select()}
    assert event.user_id == holder.id
    assert event.licence_mask == licence_bit(types["Parent/Guardian"]) | licence_bit(types["Pupil"])
    assert U.get_by_id(holder.id).last_login_at == event.at


def _median_seconds(email: str) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        assert portal.authenticate(email, PASSWORD) is None
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def test_denied_is_indistinguishable_from_unknown(holder):
    access.set_access([holder.id], False)
    before = snapshot()
    denied = portal.authenticate("jo.bloggs@home.example", PASSWORD)
    unknown = portal.authenticate("nobody@home.example", PASSWORD)
    assert denied is None and unknown is None
    assert portal.delete_own_account("jo.bloggs@home.example", PASSWORD) is False
    assert snapshot() == before  # no login, no audit, no last_login_at, no rehash
    # Both verify a password hash, so the time taken does not tell them apart either.
    denied_time = _median_seconds("jo.bloggs@home.example")
    unknown_time = _median_seconds("nobody@home.example")
    assert 1 / 3 < denied_time / unknown_time < 3  # without the dummy hash: ~1000x apart

    access.set_access([holder.id], True)  # Allow restores the account as it was
    assert portal.authenticate("jo.bloggs@home.example", PASSWORD).id == holder.id
    assert LoginEvent.select().count() == 1


def test_delete_own_account_keeps_the_logins_without_the_person(holder):
    portal.authenticate("jo.bloggs@home.example", PASSWORD)
    assert portal.delete_own_account("jo.bloggs@home.example", "wrong password") is False
    assert U.select().count() == 1
    assert portal.delete_own_account("jo.bloggs@home.example", PASSWORD) is True
    # A soft delete: gone for everyone, restorable by an administrator until the purge.
    assert U.select().where(live_user()).count() == 0 and Licence.select().count() == 0
    assert Pupil.select().count() == 2
    assert [e.user_id for e in LoginEvent.select()] == [holder.id]
    (entry,) = AuditEvent.select()
    assert (entry.action, entry.admin, entry.user_id) == ("account.delete", "portal", holder.id)
    assert portal.authenticate("jo.bloggs@home.example", PASSWORD) is None
    assert portal.delete_own_account("jo.bloggs@home.example", PASSWORD) is False
    # The address is free again: registering purges the deleted account for good.
    assert portal.register("jo.bloggs@home.example", PASSWORD, surname="Bloggs").id != holder.id
    assert U.get_or_none(U.id == holder.id) is None
    assert [e.user_id for e in LoginEvent.select()] == [None]
    purge = AuditEvent.get(AuditEvent.action == "account.purge")
    assert (purge.user_id, purge.target, purge.admin) == (holder.id, "", "portal")
    assert AuditEvent.get(AuditEvent.action == "account.delete").target == ""


def test_password_hashes_are_argon2id_at_least_owasp_strength(holder):
    params = extract_parameters(U.get_by_id(holder.id).password_hash)
    assert params.type.name == "ID"
    assert params.memory_cost >= 19_456 and params.time_cost >= 2
    assert U.get_by_id(holder.id).password_hash != PASSWORD
