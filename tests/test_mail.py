"""Sending email to a user through a real SMTP server on 127.0.0.1, and the local outbox."""

from __future__ import annotations

import socket
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from smtp_helpers import Recorder, make_tls, smtp_server

from extgw_tui import logs
from extgw_tui.errors import ExtgwError, InvalidInput, NotFound
from extgw_tui.models import AuditEvent, ExternalUser, OutboxMessage
from extgw_tui.services import mail

FROM = "office@school.example"
PASSWORD = "s3cret-Pa55word!"


def make_user(email: str = "parent@example.org", surname: str = "Jones") -> ExternalUser:
    return ExternalUser.create(
        title="Mrs", forename="Ann", surname=surname, email=email, password_hash="x"
    )


def audit_rows() -> list[AuditEvent]:
    return list(
        AuditEvent.select().where(AuditEvent.action == "email.send").order_by(AuditEvent.id)
    )


def test_message_arrives_once_to_exactly_that_address(db, smtp_env) -> None:
    user = make_user()
    with smtp_server() as (server, port):
        smtp_env(port, reply_to="replies@school.example")
        result = mail.send_to_user(
            user.id, "Parents' evening", "Dear Mrs Jones,\n\nSee you at 6.\n"
        )
    assert result.status == mail.SENT and result.ok
    assert result.summary() == "Sent to parent@example.org."
    assert len(server.received) == 1
    got = server.received[0]
    assert got.rcpt_tos == ["parent@example.org"]
    assert got.mail_from == FROM
    msg = got.message
    assert msg["To"] == "parent@example.org"
    assert msg["Subject"] == "Parents' evening"
    assert msg["From"] == f"School Office <{FROM}>"
    assert msg["Reply-To"] == "replies@school.example"
    assert msg["Date"] and msg["Message-ID"].endswith("@school.example>")
    assert msg.get_content().replace("\r\n", "\n") == "Dear Mrs Jones,\n\nSee you at 6.\n"
    assert "Bcc" not in msg and "Cc" not in msg
    row = OutboxMessage.get_by_id(result.outbox_id)
    assert (row.status, row.attempts, row.error, row.admin) == ("sent", 1, "", "test-admin")
    assert row.to_addr == "parent@example.org" and row.user_id == user.id
    assert row.message_id == msg["Message-ID"] and row.sent_at is not None
    (entry,) = audit_rows()
    assert (entry.outcome, entry.user_id, entry.target) == ("sent", user.id, "parent@example.org")
    assert "Parents' evening" in entry.detail


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_starttls_and_login(db, smtp_env, tmp_path: Path, mechanism: str) -> None:
    user = make_user()
    tls = make_tls(tmp_path)
    with smtp_server(
        starttls=tls.server_context, login=("mailer", PASSWORD), mechanisms=(mechanism,)
    ) as (server, port):
        smtp_env(
            port, security="starttls", user="mailer", password=PASSWORD, ca_file=str(tls.ca_file)
        )
        result = mail.send_to_user(user.id, "Reports", "Your reports are ready.")
    assert result.status == mail.SENT, result.error
    assert server.logins == [(mechanism, "mailer")]
    assert [r.rcpt_tos for r in server.received] == [["parent@example.org"]]


def test_implicit_tls(db, smtp_env, tmp_path: Path) -> None:
    user = make_user()
    tls = make_tls(tmp_path)
    with smtp_server(implicit_tls=tls.server_context) as (server, port):
        smtp_env(port, security="tls", ca_file=str(tls.ca_file))
        result = mail.send_to_user(user.id, "Reports", "Ready.")
    assert result.status == mail.SENT, result.error
    assert len(server.received) == 1


def test_untrusted_certificate_fails_with_a_reason(db, smtp_env, tmp_path: Path) -> None:
    user = make_user()
    tls = make_tls(tmp_path)
    with smtp_server(starttls=tls.server_context) as (server, port):
        smtp_env(port, security="starttls")
        result = mail.send_to_user(user.id, "Reports", "Ready.")
    assert result.status == mail.FAILED
    assert "certificate" in result.error and "cannot be trusted" in result.error
    assert server.received == []


def test_password_never_stored_or_logged(db, smtp_env, tmp_path: Path) -> None:
    log_path = logs.setup_logging()
    user = make_user()
    tls = make_tls(tmp_path)
    with smtp_server(starttls=tls.server_context, login=("mailer", PASSWORD)) as (server, port):
        smtp_env(
            port,
            security="starttls",
            user="mailer",
            password="wrong-" + PASSWORD,
            ca_file=str(tls.ca_file),
        )
        refused = mail.send_to_user(user.id, "First", "Body one.")
        smtp_env(
            port, security="starttls", user="mailer", password=PASSWORD, ca_file=str(tls.ca_file)
        )
        sent = mail.send_to_user(user.id, "Second", "Body two.")
    assert refused.status == mail.FAILED and "refused the login for mailer" in refused.error
    assert sent.status == mail.SENT
    assert len(server.received) == 1
    stored = [
        str(value)
        for model in (OutboxMessage, AuditEvent)
        for row in model.select().dicts()
        for value in row.values()
    ]
    assert stored and not any(PASSWORD in value for value in stored)
    assert log_path is not None and log_path.exists()
    log_text = log_path.read_text(encoding="utf-8")
    assert "email" in log_text and PASSWORD not in log_text


def test_server_down_then_retry_delivers_once(db, smtp_env) -> None:
    user = make_user()
    with smtp_server() as (_, port):
        pass  # the port was free a moment ago and nothing listens on it now
    smtp_env(port)
    failed = mail.send_to_user(user.id, "Trip", "The trip is on Friday.")
    assert failed.status == mail.FAILED and not failed.ok
    assert "cannot be reached" in failed.error and f"127.0.0.1:{port}" in failed.error
    assert failed.summary().startswith("Not sent to parent@example.org: ")
    row = OutboxMessage.get_by_id(failed.outbox_id)
    assert (row.status, row.attempts, row.body) == ("failed", 1, "The trip is on Friday.")
    assert [e.outcome for e in audit_rows()] == ["failed"]

    with smtp_server(port) as (server, _):
        summary = mail.retry_failed()
        again = mail.retry_failed()
    assert (summary.sent, summary.failed, summary.untried) == (1, 0, 0)
    assert summary.text() == "Retried 1: 1 sent, 0 failed."
    assert again.text() == "Nothing to retry."
    assert len(server.received) == 1
    assert server.received[0].message["Subject"] == "Trip"
    assert server.received[0].message["Message-ID"] == row.message_id
    row = OutboxMessage.get_by_id(failed.outbox_id)
    assert (row.status, row.attempts, row.error) == ("sent", 2, "")
    assert [e.outcome for e in audit_rows()] == ["failed", "sent"]
    assert "attempt 2" in audit_rows()[-1].detail


def test_retry_stops_when_the_server_is_unreachable(db, smtp_env) -> None:
    users = [make_user(f"p{i}@example.org", f"S{i}") for i in range(3)]
    with smtp_server() as (_, port):
        pass
    smtp_env(port)
    for user in users:
        assert mail.send_to_user(user.id, "Hello", "Text.").status == mail.FAILED
    summary = mail.retry_failed()
    assert (summary.sent, summary.failed, summary.untried) == (0, 1, 2)
    assert "2 not tried" in summary.text()
    assert OutboxMessage.select().where(OutboxMessage.attempts == 2).count() == 1


def test_refused_recipient_is_recorded_and_retry_goes_on(db, smtp_env) -> None:
    bad, good = make_user("gone@example.org", "Gone"), make_user("here@example.org", "Here")
    recorder = Recorder(refuse={"gone@example.org"})
    with smtp_server(recorder=recorder) as (server, port):
        smtp_env(port)
        refused = mail.send_to_user(bad.id, "Hi", "Text.")
        assert refused.status == mail.FAILED
        assert "refused the recipient" in refused.error and "550" in refused.error
        with smtp_server() as (_, down_port):
            pass
        smtp_env(down_port)
        assert mail.send_to_user(good.id, "Hi", "Text.").status == mail.FAILED
        smtp_env(port)
        summary = mail.retry_failed()
    assert (summary.sent, summary.failed, summary.untried) == (1, 1, 0)
    assert [r.rcpt_tos for r in server.received] == [["here@example.org"]]


def test_timeout_is_reported(db, smtp_env) -> None:
    user = make_user()
    with socket.socket() as silent:  # accepts connections (backlog) but never says hello
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        smtp_env(silent.getsockname()[1], timeout="0.5")
        result = mail.send_to_user(user.id, "Hi", "Text.")
    assert result.status == mail.FAILED
    assert "did not answer within 0.5 seconds" in result.error


def test_timeout_bounds_the_whole_delivery_not_each_step(db, smtp_env) -> None:
    """Each answer comes within the timeout, but all of them together do not."""
    user = make_user()
    with smtp_server(recorder=Recorder(delay=0.5)) as (server, port):
        smtp_env(port, timeout="0.8")
        started = time.monotonic()
        result = mail.send_to_user(user.id, "Hi", "Text.")
        elapsed = time.monotonic() - started
    assert result.status == mail.FAILED, result
    assert "did not answer within 0.8 seconds" in result.error
    assert elapsed < 1.5 and server.received == []
    assert mail.delivery_wait() == 0.8


def test_header_injection_is_refused_and_nothing_is_sent(db, smtp_env) -> None:
    user = make_user()
    with smtp_server() as (server, port):
        smtp_env(port)
        with pytest.raises(InvalidInput, match="one line"):
            mail.send_to_user(user.id, "Hi\r\nBcc: x@evil.test", "Body.")
        with pytest.raises(InvalidInput, match="one line"):
            mail.send_to_user(user.id, "Hi\nBcc: x@evil.test", "Body.")
    assert server.received == []
    assert OutboxMessage.select().count() == 0 and audit_rows() == []


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("a@example.org, b@example.org", "Exactly one recipient"),
        ("a@example.org;b@example.org", "Exactly one recipient"),
        ("a@example.org b@example.org", "Exactly one recipient"),
        ("Ann Jones <a@example.org>", "Exactly one recipient"),
        ("<a@example.org>", "bare address"),
        ('"Ann"@example.org', "bare address"),
        ("not-an-address", "not a valid email address"),
        ("a@example.org\r\nBcc: x@evil.test", "one line"),
    ],
)
def test_stored_address_must_be_one_bare_valid_address(
    db, smtp_env, email: str, message: str
) -> None:
    user = make_user(email)
    with smtp_server() as (server, port):
        smtp_env(port)
        with pytest.raises(InvalidInput, match=message):
            mail.send_to_user(user.id, "Hi", "Body.")
    assert server.received == [] and OutboxMessage.select().count() == 0


@pytest.mark.parametrize(
    ("subject", "body", "message"),
    [
        ("", "Body.", "Enter a subject"),
        ("   ", "Body.", "Enter a subject"),
        ("Hi", "", "Enter the message text"),
        ("Hi", " \n ", "Enter the message text"),
        ("Hi\tthere\x07", "Body.", "control characters"),
        ("x" * 251, "Body.", "too long"),
    ],
)
def test_validation_messages(subject: str, body: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        mail.validate("a@example.org", subject, body)


def test_validate_cleans_what_it_accepts() -> None:
    assert mail.validate(" a@example.org ", "  Hello ", "Text") == (
        "a@example.org",
        "Hello",
        "Text",
    )


def test_no_server_configured_goes_to_the_local_outbox(db, smtp_env) -> None:
    user = make_user()
    result = mail.send_to_user(user.id, "Welcome", "Hello there.")
    assert result.status == mail.QUEUED and result.ok
    path = Path(result.eml_path)
    assert path.parent == mail.outbox_dir() and path.suffix == ".eml"
    assert str(path) in result.summary()
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert msg["To"] == "parent@example.org" and msg["Subject"] == "Welcome"
    assert msg.get_content() == "Hello there.\n"
    assert list(path.parent.glob(".tmp-*")) == []
    row = OutboxMessage.get_by_id(result.outbox_id)
    assert (row.status, row.eml_path) == ("queued", str(path))
    assert [e.outcome for e in audit_rows()] == ["queued"]
    assert mail.retry_failed().text() == "Nothing to retry."

    assert msg["Message-ID"].endswith("@localhost>") and mail.delivery_wait() == 0

    with smtp_server() as (server, port):
        smtp_env(port)
        summary = mail.retry_failed()
    assert summary.sent == 1 and len(server.received) == 1
    sent_id = server.received[0].message["Message-ID"]
    assert sent_id.endswith(f"@{FROM.partition('@')[2]}>") and sent_id != msg["Message-ID"]
    row = OutboxMessage.get_by_id(result.outbox_id)
    assert (row.status, row.message_id) == ("sent", sent_id)


def test_outbox_listing_and_counts(db, smtp_env) -> None:
    user = make_user()
    first = mail.send_to_user(user.id, "One", "1")
    with smtp_server() as (_, port):
        smtp_env(port)
        second = mail.send_to_user(user.id, "Two", "2")
    assert mail.outbox_counts() == {"queued": 1, "sent": 1}
    assert [r.id for r in mail.iter_outbox()] == [second.outbox_id, first.outbox_id]
    assert [r.subject for r in mail.iter_outbox(chunk=1)] == ["Two", "One"]


def test_deleted_user_is_not_found(db) -> None:
    with pytest.raises(NotFound):
        mail.send_to_user(999, "Hi", "Body.")


def test_settings_from_config_file_and_environment(db, monkeypatch, isolated_env) -> None:
    from extgw_tui import settings
    from extgw_tui.services.mail_config import load_smtp_settings

    settings.config_file().write_text(
        '[smtp]\nhost = "mail.school.example"\nuser = "mailer"\nfrom = "office@school.example"\n'
        'reply_to = "head@school.example"\n',
        encoding="utf-8",
    )
    with pytest.raises(ExtgwError, match="EXTGW_SMTP_PASSWORD is not"):
        load_smtp_settings()
    monkeypatch.setenv("EXTGW_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("EXTGW_SMTP_PORT", "2525")
    cfg = load_smtp_settings()
    assert (cfg.host, cfg.port, cfg.security, cfg.user) == (
        "mail.school.example",
        2525,
        "starttls",
        "mailer",
    )
    assert cfg.from_addr == "office@school.example" and cfg.reply_to == "head@school.example"
    assert PASSWORD not in repr(cfg)
    monkeypatch.setenv("EXTGW_SMTP_SECURITY", "none")
    with pytest.raises(ExtgwError, match="unencrypted"):
        load_smtp_settings()
    settings.config_file().write_text('[smtp]\npassword = "x"\n', encoding="utf-8")
    with pytest.raises(ExtgwError, match="must not hold the SMTP password"):
        load_smtp_settings()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("security", "ssl", "must be one of"),
        ("port", "smtp", "must be numbers"),
        ("port", "70000", "1-65535"),
        ("from", "a@x.example, b@x.example", "not one email address"),
        ("from", "office@school.example\r\nBcc: x@evil.test", "one line"),
        ("ca_file", "/nonexistent/ca.pem", "does not exist"),
    ],
)
def test_wrong_settings_are_named(monkeypatch, key: str, value: str, message: str) -> None:
    from extgw_tui.services.mail_config import load_smtp_settings

    monkeypatch.setenv("EXTGW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("EXTGW_SMTP_FROM", "office@school.example")
    monkeypatch.setenv(f"EXTGW_SMTP_{key.upper()}", value)
    with pytest.raises(ExtgwError, match=message):
        load_smtp_settings()


def test_host_without_from_is_refused(monkeypatch) -> None:
    from extgw_tui.services.mail_config import load_smtp_settings

    monkeypatch.setenv("EXTGW_SMTP_HOST", "127.0.0.1")
    with pytest.raises(ExtgwError, match="EXTGW_SMTP_FROM"):
        load_smtp_settings()


def test_retry_from_the_modal_reuses_the_failed_message(db, smtp_env) -> None:
    user = make_user()
    with smtp_server() as (_, port):
        pass
    smtp_env(port)
    failed = mail.send_to_user(user.id, "Trip", "Friday.")
    assert failed.status == mail.FAILED
    with smtp_server(port) as (server, _):
        result = mail.retry_message(failed.outbox_id, "Trip (corrected)", "Saturday.")
        assert mail.retry_failed().text() == "Nothing to retry."
    assert (result.outbox_id, result.status, result.attempts) == (failed.outbox_id, "sent", 2)
    assert len(server.received) == 1
    assert server.received[0].message["Subject"] == "Trip (corrected)"
    row = OutboxMessage.get_by_id(failed.outbox_id)
    assert (row.subject, row.body, row.status) == ("Trip (corrected)", "Saturday.", "sent")
    assert OutboxMessage.select().count() == 1
    again = mail.retry_message(failed.outbox_id, "Trip", "Friday.")  # nothing goes out again
    assert (again.status, again.by_another) == ("sent", True) and len(server.received) == 1


def test_retry_refuses_a_subject_with_line_breaks(db, smtp_env) -> None:
    user = make_user()
    with smtp_server() as (_, port):
        pass
    smtp_env(port)
    failed = mail.send_to_user(user.id, "Trip", "Friday.")
    with pytest.raises(InvalidInput, match="one line"):
        mail.retry_message(failed.outbox_id, "Trip\nBcc: x@evil.test", "Friday.")


def test_modal_retry_after_another_admins_retry_reports_it_sent(db, smtp_env) -> None:
    user = make_user()
    with smtp_server() as (_, port):
        pass
    smtp_env(port)
    failed = mail.send_to_user(user.id, "Trip", "Friday.")
    with smtp_server(port) as (server, _):
        assert mail.retry_failed().sent == 1  # `outbox --retry` in another terminal
        result = mail.retry_message(failed.outbox_id, "Trip", "Friday.")
    assert result.ok and result.by_another and result.status == mail.SENT
    assert result.summary() == "Already sent to parent@example.org by another retry."
    assert len(server.received) == 1


def test_discarded_message_is_never_retried(db, smtp_env) -> None:
    user = make_user()
    with smtp_server() as (_, port):
        pass
    smtp_env(port)
    failed = mail.send_to_user(user.id, "Trip", "Friday.")
    result = mail.discard_message(failed.outbox_id)
    assert (result.status, result.ok) == (mail.DISCARDED, False)
    assert result.summary() == "Discarded; it will not be sent to parent@example.org."
    assert OutboxMessage.get_by_id(failed.outbox_id).status == "discarded"
    (entry,) = AuditEvent.select().where(AuditEvent.action == "email.discard")
    assert (entry.outcome, entry.user_id, entry.target) == (
        "discarded",
        user.id,
        "parent@example.org",
    )
    assert "Trip" in entry.detail and entry.admin == "test-admin"
    assert mail.outbox_counts() == {"discarded": 1}
    with smtp_server(port) as (server, _):
        assert mail.retry_failed().text() == "Nothing to retry."
        with pytest.raises(ExtgwError, match="is discarded now"):
            mail.retry_message(failed.outbox_id, "Trip", "Friday.")
    assert server.received == []


def test_outbox_is_read_in_chunks_newest_first(db) -> None:
    user = make_user()
    ids = [mail.send_to_user(user.id, f"Note {i}", "Text.").outbox_id for i in range(7)]
    assert [row.id for row in mail.iter_outbox(chunk=3)] == ids[::-1]
    assert [row.id for row in mail.iter_outbox(chunk=7)] == ids[::-1]
