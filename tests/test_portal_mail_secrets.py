"""Secrets in the outbox: a reset code or licence key leaves the database once its message has
gone or been given up on, and a reset message that waited past its code's hour is discarded.

Through a real SMTP server (tests/smtp_helpers.py) on both backends.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from key_helpers import add_contact, add_pupil, parent_type
from smtp_helpers import Recorder, free_port, smtp_env, smtp_server

from extgw_tui.models import AuditEvent, OutboxMessage
from extgw_tui.services import key_mail, mail, mail_secrets, portal, portal_reset
from extgw_tui.services.key_issue import issue
from extgw_tui.services.licence_keys import KeyScope, Plan

CODE = re.compile(r"reset-[A-Za-z0-9_-]{43}")
KEY = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}")
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new password"


@pytest.fixture
def smtp_to(monkeypatch):
    def configure(port: int) -> None:
        for name, value in smtp_env(port).items():
            monkeypatch.setenv(name, value)

    return configure


@pytest.fixture
def user(db):
    return portal.register("jo@home.example", PASSWORD, surname="Bloggs")


def _received_code(recorder: Recorder) -> str:
    assert len(recorder.received) == 1
    return CODE.search(recorder.received[0].message.get_content()).group(0)


def _age(message: OutboxMessage, by: timedelta) -> None:
    OutboxMessage.update(created_at=message.created_at - by).where(
        OutboxMessage.id == message.id
    ).execute()


def test_a_sent_reset_message_keeps_no_code(user, smtp_to):
    recorder = Recorder()
    with smtp_server(recorder=recorder) as (_, port):
        smtp_to(port)
        assert portal_reset.request_reset(user.email)
    code = _received_code(recorder)
    stored = OutboxMessage.get()
    assert stored.status == mail.SENT
    assert code not in stored.body and not CODE.search(stored.body)
    assert mail_secrets.RESET_REMOVED in stored.body
    assert "Reset your" in stored.subject  # what went is still on record
    portal_reset.reset_password(code, NEW_PASSWORD)  # the code that arrived works


def test_a_failed_reset_message_is_retried_with_its_code_then_blanked(user, smtp_to):
    smtp_to(free_port())  # nobody listens: the message fails and waits, code and all
    assert not portal_reset.request_reset(user.email)
    failed = OutboxMessage.get()
    assert failed.status == mail.FAILED and CODE.search(failed.body)
    recorder = Recorder()
    with smtp_server(recorder=recorder) as (_, port):
        smtp_to(port)
        summary = mail.retry_failed()
    assert (summary.sent, summary.expired) == (1, 0)
    code = _received_code(recorder)
    assert CODE.search(failed.body).group(0) == code  # the same code went
    stored = OutboxMessage.get()
    assert stored.status == mail.SENT and code not in stored.body
    portal_reset.reset_password(code, NEW_PASSWORD)


def test_a_retry_after_the_hour_discards_instead_of_sending_a_dead_link(user, smtp_to):
    smtp_to(free_port())
    portal_reset.request_reset(user.email)
    failed = OutboxMessage.get()
    _age(failed, mail_secrets.RESET_VALID_FOR + timedelta(seconds=1))
    recorder = Recorder()
    with smtp_server(recorder=recorder) as (_, port):
        smtp_to(port)
        summary = mail.retry_failed()
    assert recorder.received == []
    assert (summary.sent, summary.failed, summary.expired) == (0, 0, 1)
    assert "expired" in summary.text()
    stored = OutboxMessage.get()
    assert stored.status == mail.DISCARDED and stored.error == mail_secrets.EXPIRED
    assert not CODE.search(stored.body) and mail_secrets.RESET_REMOVED in stored.body
    entry = AuditEvent.get(AuditEvent.action == "email.discard")
    assert entry.user_id == user.id and "expired" in entry.detail
    assert not CODE.search(entry.detail)


def test_a_queued_reset_message_dies_with_its_code(user):
    assert portal_reset.request_reset(user.email)  # no server: queued in the local outbox
    queued = OutboxMessage.get()
    assert queued.status == mail.QUEUED and CODE.search(queued.body)
    assert mail.discard_expired() == 0  # within the hour it may still go
    _age(queued, mail_secrets.RESET_VALID_FOR + timedelta(minutes=5))
    assert mail.discard_expired() == 1
    stored = OutboxMessage.get()
    assert stored.status == mail.DISCARDED and not CODE.search(stored.body)
    assert mail.discard_expired() == 0


def test_a_discarded_reset_message_keeps_no_code(user, smtp_to):
    smtp_to(free_port())
    portal_reset.request_reset(user.email)
    failed = OutboxMessage.get()
    assert mail.discard_message(failed.id).status == mail.DISCARDED
    assert not CODE.search(OutboxMessage.get().body)


def test_an_admin_message_without_a_secret_is_kept_as_written(user, smtp_to):
    recorder = Recorder()
    body = "Dear Jo,\n\nreset-later please: the form is at https://school.example/forms.\n"
    with smtp_server(recorder=recorder) as (_, port):
        smtp_to(port)
        assert mail.send_to_user(user.id, "Forms", body).status == mail.SENT
    assert OutboxMessage.get().body == body


def _key_batch(monkeypatch) -> int:
    monkeypatch.setenv("EXTGW_SCHOOL_NAME", "Hill School")
    pupil = add_pupil("Adams", forename="Ada")
    add_contact(pupil, 1, "mum@example.org", forename="Mary")
    return issue(
        Plan(
            KeyScope(parent_type()),
            1,
            30,
            email=True,
            letters=False,
            subject="Key for {pupil}",
            body="Dear {forename},\n\nYour key for {pupil}: {key}\n",
        )
    ).batch_id


def test_a_key_email_sent_by_the_outbox_retry_keeps_no_key(db, smtp_to, monkeypatch):
    batch = _key_batch(monkeypatch)
    smtp_to(free_port())
    key_mail.send_batch(batch)
    failed = OutboxMessage.get()
    assert failed.status == mail.FAILED
    key = KEY.search(failed.body).group(0)
    recorder = Recorder()
    with smtp_server(recorder=recorder) as (_, port):
        smtp_to(port)
        assert mail.retry_failed().sent == 1  # not the batch's sender: the outbox's own retry
    assert KEY.search(recorder.received[0].message.get_content()).group(0) == key
    stored = OutboxMessage.get()
    assert key not in stored.body and mail_secrets.KEY_REMOVED in stored.body


def test_a_discarded_key_email_keeps_no_key(db, smtp_to, monkeypatch):
    batch = _key_batch(monkeypatch)
    smtp_to(free_port())
    key_mail.send_batch(batch)
    failed = OutboxMessage.get()
    assert KEY.search(failed.body)
    assert mail.discard_messages([failed.id]) == 1
    stored = OutboxMessage.get()
    assert stored.status == mail.DISCARDED and not KEY.search(stored.body)
    _age(stored, timedelta(days=1))  # a key has no hour: only reset codes are discarded so
    assert mail.discard_expired() == 0
