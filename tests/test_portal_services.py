"""The portal's services below the HTTP door, on both backends: sessions, reset codes, limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from extgw_tui.errors import InvalidInput
from extgw_tui.models import PasswordReset, PortalSession, now
from extgw_tui.services import access, portal, portal_limits, portal_reset, portal_sessions
from extgw_tui.services.portal_limits import LOGIN
from extgw_tui.services.portal_sessions import ABSOLUTE, IDLE, TOUCH_EVERY

PASSWORD = "correct horse battery"


@pytest.fixture
def user(db):
    return portal.register("jo@home.example", PASSWORD, surname="Bloggs")


def test_a_token_has_256_bits_and_only_its_hash_is_kept(user):
    token = portal_sessions.open_session(user.id)
    assert len(token) >= 43  # base64 of 32 bytes
    row = PortalSession.get()
    assert row.token_hash == portal_sessions.token_hash(token) and token not in row.token_hash
    assert portal_sessions.resolve(token).user_id == user.id
    assert portal_sessions.resolve(token[:-1] + ("A" if token[-1] != "A" else "B")) is None


def test_sliding_idle_and_absolute_expiry(user):
    start = now()
    idle = portal_sessions.open_session(user.id, at=start - IDLE - timedelta(seconds=1))
    assert portal_sessions.resolve(idle) is None  # unused for longer than IDLE
    sliding = portal_sessions.open_session(user.id, at=start - TOUCH_EVERY - timedelta(minutes=1))
    assert portal_sessions.resolve(sliding) is not None
    row = PortalSession.get(PortalSession.token_hash == portal_sessions.token_hash(sliding))
    assert row.expires_at >= start + IDLE - timedelta(seconds=2)  # pushed ahead by the use
    old = portal_sessions.open_session(user.id, at=start - ABSOLUTE)
    PortalSession.update(last_seen_at=start, expires_at=start + IDLE).where(
        PortalSession.token_hash == portal_sessions.token_hash(old)
    ).execute()
    assert portal_sessions.resolve(old) is not None  # still within its stored end...
    PortalSession.update(last_seen_at=start - TOUCH_EVERY).where(
        PortalSession.token_hash == portal_sessions.token_hash(old)
    ).execute()
    portal_sessions.resolve(old)  # ...but sliding never goes past login + ABSOLUTE
    row = PortalSession.get(PortalSession.token_hash == portal_sessions.token_hash(old))
    assert row.expires_at <= row.created_at + ABSOLUTE


def test_revoke_and_purge(user):
    token = portal_sessions.open_session(user.id)
    assert portal_sessions.revoke(token) and not portal_sessions.revoke(token)
    assert portal_sessions.resolve(token) is None
    assert portal_sessions.purge_expired(before=now() + timedelta(days=2)) == 1
    assert PortalSession.select().count() == 0


def test_a_reset_code_expires_works_once_and_not_for_a_denied_account(user):
    portal_reset.request_reset(user.email)  # no SMTP configured: queued in the local outbox
    (row,) = PasswordReset.select()
    assert row.expires_at - row.created_at == timedelta(hours=1)
    with pytest.raises(InvalidInput, match="not valid any more"):
        portal_reset.reset_password("z" * 43, "a new password 123")
    token = "t" * 43
    PasswordReset.update(token_hash=portal_sessions.token_hash(token)).execute()
    access.set_access([user.id], False)
    with pytest.raises(InvalidInput, match="not valid any more"):
        portal_reset.reset_password(token, "a new password 123")
    access.set_access([user.id], True)
    PasswordReset.update(expires_at=now() - timedelta(seconds=1)).execute()
    with pytest.raises(InvalidInput, match="not valid any more"):
        portal_reset.reset_password(token, "a new password 123")
    PasswordReset.update(expires_at=now() + timedelta(minutes=5)).execute()
    portal_reset.reset_password(token, "a new password 123")
    with pytest.raises(InvalidInput, match="not valid any more"):
        portal_reset.reset_password(token, "another password 456")
    assert portal.check_credentials(user.email, "a new password 123") is not None


def test_nothing_is_sent_to_a_denied_or_unknown_address(user):
    access.set_access([user.id], False)
    assert portal_reset.request_reset(user.email) is False
    assert portal_reset.request_reset("nobody@home.example") is False
    assert portal_reset.request_reset("not an address") is False
    assert PasswordReset.select().count() == 0


def test_limits_count_the_address_not_the_account(user, monkeypatch):
    monkeypatch.setattr(portal_limits, "_tripped", {})  # this process's memory of limits
    for email in (user.email, "nobody@home.example"):
        for _ in range(LOGIN.per_email):
            assert not portal_limits.is_limited(LOGIN, "192.0.2.1", email)
            portal_limits.note(LOGIN, "192.0.2.1", email)
        assert portal_limits.is_limited(LOGIN, "192.0.2.2", email)  # any client
        assert portal_limits.tripped(LOGIN, "192.0.2.2", email)  # remembered in memory
    portal_limits.forget_email(LOGIN, user.email)
    assert not portal_limits.is_limited(LOGIN, "192.0.2.2", user.email)
    assert portal_limits.is_limited(LOGIN, "192.0.2.2", "nobody@home.example")
