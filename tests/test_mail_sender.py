"""The sender of a queued message (no mail server): the school's, never a made-up
extgw-tui@localhost."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

from extgw_tui.models import ExternalUser
from extgw_tui.services import mail, school_settings


def _queued_eml(subject: str = "Welcome") -> bytes:
    user = ExternalUser.create(
        title="Mrs", forename="Ann", surname="Jones", email="parent@example.org", password_hash="x"
    )
    result = mail.send_to_user(user.id, subject, "Hello there.")
    assert result.status == mail.QUEUED
    return Path(result.eml_path).read_bytes()


def test_a_queued_message_is_from_the_schools_bounce_address(db) -> None:
    school_settings.save(
        {"school_name": "Hillside Academy", "bounce_address": "office@hillside.example"}
    )
    raw = _queued_eml()
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["From"] == "Hillside Academy <office@hillside.example>"
    assert b"localhost" not in raw


def test_the_smtp_sender_wins_over_the_schools(db, monkeypatch) -> None:
    monkeypatch.setenv("EXTGW_SMTP_FROM", "Reports <reports@hillside.example>")
    school_settings.save({"bounce_address": "office@hillside.example"})
    msg = message_from_bytes(_queued_eml(), policy=policy.default)
    assert msg["From"] == "Reports <reports@hillside.example>"


def test_with_no_sender_set_a_queued_message_makes_none_up(db) -> None:
    msg = message_from_bytes(_queued_eml(), policy=policy.default)
    assert msg["From"] is None and msg["To"] == "parent@example.org"
