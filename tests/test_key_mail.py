"""Licence keys by email through a real SMTP server: template, preview, send, resume, retry."""

from __future__ import annotations

import re

import pytest
from key_helpers import add_contact, add_pupil, parent_type, read_letters
from smtp_helpers import Recorder, free_port, smtp_server

from extgw_tui.errors import InvalidInput
from extgw_tui.models import AuditEvent, LicenceKey, OutboxMessage
from extgw_tui.services import key_mail, mail
from extgw_tui.services.key_codes import key_digest
from extgw_tui.services.key_issue import issue
from extgw_tui.services.licence_keys import KeyScope, Plan, revoke
from extgw_tui.services.mail_secrets import KEY_REMOVED, LICENCE_KEY
from extgw_tui.services.registration import register

KEY = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}")
SUBJECT = "Key for {pupil}"
BODY = (
    "Dear {forename},\n\nYour key for {pupil} at {school}: {key}\nUntil {expiry}. {register_url}\n"
)


@pytest.fixture
def smtp_env(smtp_env, monkeypatch):
    """The shared local SMTP settings, and the school name and register page a letter names."""
    monkeypatch.setenv("EXTGW_SCHOOL_NAME", "Hill School")
    monkeypatch.setenv("EXTGW_REGISTER_URL", "https://portal.example/register")
    return smtp_env


def _family():
    """Two pupils; the first with two PR contacts (one address shared by a third), a non-PR
    contact with an address, the second with no email at all."""
    first = add_pupil("Adams", forename="Ada")
    add_contact(first, 1, "mum@example.org", forename="Mary")
    add_contact(first, 2, "dad@example.org", forename="David")
    add_contact(first, 3, "MUM@example.org", forename="Aunt")  # the same address again
    add_contact(first, 4, "nanny@example.org", pr=False, forename="Nan")
    second = add_pupil("Brown", forename="Ben")
    add_contact(second, 1, None, forename="Bea", address="3 Lane")
    return first, second


def _plan(**kw) -> Plan:
    return Plan(
        KeyScope(parent_type()),
        kw.pop("per_pupil", 2),
        30,
        email=True,
        letters=kw.pop("letters", False),
        subject=SUBJECT,
        body=BODY,
    )


def test_template_placeholders_are_checked(db):
    with pytest.raises(InvalidInput, match=r"Unknown placeholder \{name\}"):
        key_mail.check_template("Hi {name}", "{key}")
    with pytest.raises(InvalidInput, match="must contain"):
        key_mail.check_template("Hi", "no key here")
    with pytest.raises(InvalidInput, match="out of the subject"):
        key_mail.check_template("{key}", "{key}")


def test_preview_is_for_a_real_contact(db, smtp_env):
    _family()
    sample = key_mail.preview(KeyScope(parent_type()), "Parent/Guardian", SUBJECT, BODY)
    assert sample.to == "mum@example.org"
    assert sample.subject == "Key for Ada Adams"
    assert sample.body.startswith("Dear Mary,") and "Hill School" in sample.body
    assert KEY.search(sample.body)
    assert LicenceKey.select().count() == 0  # the sample key is not a key
    with pytest.raises(InvalidInput, match="by letter"):
        key_mail.preview(KeyScope(parent_type(), form="none"), "P", SUBJECT, BODY)


def test_keys_go_once_to_each_address_and_redeem(db, smtp_env, tmp_path):
    first, second = _family()
    result = issue(_plan(letters=True), letters=tmp_path / "rest.xlsx")
    # Ada: mum and dad by email; Ben: two keys by letter (nobody has an address)
    assert (result.emailed, result.lettered, result.keys) == (2, 2, 4)
    letters = read_letters(tmp_path / "rest.xlsx")
    assert [row[0] for row in letters] == ["Ben Brown", "Ben Brown"]
    assert OutboxMessage.select().where(OutboxMessage.status == "pending").count() == 2
    recorder = Recorder()
    with smtp_server(recorder=recorder) as (_, port):
        smtp_env(port)
        summary = key_mail.send_batch(result.batch_id)
        again = key_mail.send_batch(result.batch_id)
    assert (summary.sent, summary.failed) == (2, 0)
    assert (again.sent, again.failed) == (0, 0)
    assert sorted(r.rcpt_tos[0] for r in recorder.received) == [
        "dad@example.org",
        "mum@example.org",
    ]
    keys = []
    for received in recorder.received:
        body = received.message.get_content()
        assert "Dear Mary," in body or "Dear David," in body
        keys.append(KEY.search(body).group(0))
    assert len(set(keys)) == 2
    for stored in OutboxMessage.select():
        assert stored.status == "sent" and not KEY.search(stored.body)
        assert key_mail.REDACTED in stored.body
    user = register("mum@example.org", "correct horse battery", "", "Mary", "A", keys[0], "ip")
    assert LicenceKey.get(LicenceKey.digest == key_digest(keys[0])).redeemed_by_id == user.id
    sent = AuditEvent.select().where(AuditEvent.action == "email.send").count()
    assert sent == 2


def test_a_failed_delivery_is_retried_with_the_same_key(db, smtp_env):
    _family()
    result = issue(_plan(per_pupil=1))
    smtp_env(free_port())  # nobody listens: the server cannot be reached
    down = key_mail.send_batch(result.batch_id)
    assert (down.sent, down.failed) == (0, 1)
    failed = OutboxMessage.get()
    assert failed.status == "failed"
    kept = KEY.search(failed.body).group(0)
    recorder = Recorder()
    with smtp_server(recorder=recorder) as (_, port):
        smtp_env(port)
        assert mail.retry_failed().sent == 1  # the outbox's own retry
        assert key_mail.send_batch(result.batch_id).sent == 0
    assert len(recorder.received) == 1
    assert KEY.search(recorder.received[0].message.get_content()).group(0) == kept
    assert LicenceKey.select().count() == 1
    key_mail.redact_sent(result.batch_id)  # what went by `outbox --retry` is blanked too
    assert not KEY.search(OutboxMessage.get().body)


def test_sending_resumes_where_it_stopped(db, smtp_env):
    for n in range(6):
        pupil = add_pupil(f"P{n}")
        add_contact(pupil, 1, f"parent{n}@example.org")
    result = issue(_plan(per_pupil=1))
    recorder = Recorder()
    with smtp_server(recorder=recorder) as (_, port):
        smtp_env(port)
        done: list[int] = []
        first = key_mail.send_batch(
            result.batch_id, progress=done.append, should_cancel=lambda: len(done) >= 2
        )
        assert first.sent == 2
        assert key_mail.waiting_count(result.batch_id) == 4
        rest = key_mail.send_batch(result.batch_id)
    assert rest.sent == 4
    tos = [r.rcpt_tos[0] for r in recorder.received]
    assert sorted(tos) == sorted(f"parent{n}@example.org" for n in range(6))


def test_revoked_keys_are_never_emailed(db, smtp_env):
    first, _ = _family()
    result = issue(_plan())
    keys_in_bodies = [m.body for m in OutboxMessage.select()]
    assert all(LICENCE_KEY.search(body) for body in keys_in_bodies)
    assert revoke(pupil_ids=[first.id]) == 2
    assert {m.status for m in OutboxMessage.select()} == {"discarded"}
    for message in OutboxMessage.select():  # the text stays, the key does not
        assert not LICENCE_KEY.search(message.body) and KEY_REMOVED in message.body
    recorder = Recorder()
    with smtp_server(recorder=recorder) as (_, port):
        smtp_env(port)
        assert key_mail.send_batch(result.batch_id).sent == 0
        assert mail.retry_failed().sent == 0
    assert recorder.received == []


def test_email_only_skips_pupils_nobody_can_be_emailed_for(db, smtp_env):
    _family()
    result = issue(_plan(per_pupil=3))
    assert (result.emailed, result.lettered, result.unreachable) == (2, 0, 1)
