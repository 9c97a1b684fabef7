"""`extgw-tui outbox` and `extgw-tui outbox --retry` against a real SMTP server."""

from __future__ import annotations

import pytest
from smtp_helpers import smtp_server

from extgw_tui import cli
from extgw_tui.models import ExternalUser, OutboxMessage
from extgw_tui.services import mail


@pytest.fixture
def users(sqlite_db) -> list[int]:
    return [
        ExternalUser.create(surname=f"Holder{i}", email=f"h{i}@example.org", password_hash="x").id
        for i in range(2)
    ]


def point_at(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    monkeypatch.setenv("EXTGW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("EXTGW_SMTP_PORT", str(port))
    monkeypatch.setenv("EXTGW_SMTP_SECURITY", "none")
    monkeypatch.setenv("EXTGW_SMTP_FROM", "office@school.example")


def test_empty_outbox(sqlite_db, capsys) -> None:
    assert cli.main(["outbox", "--db", sqlite_db.url]) == 0
    assert "The outbox is empty" in capsys.readouterr().out


def test_list_newest_first_with_admin_status_error_and_file(
    sqlite_db, users, monkeypatch, capsys
) -> None:
    queued = mail.send_to_user(users[0], "Queued one", "Text.")
    with smtp_server() as (_, port):
        pass
    point_at(monkeypatch, port)
    mail.send_to_user(users[1], "Failed one", "Text.")
    discarded = mail.send_to_user(users[1], "Given up", "Text.")
    mail.discard_message(discarded.outbox_id)
    assert cli.main(["outbox", "--db", sqlite_db.url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "3 messages: 1 discarded, 1 failed, 1 queued."
    assert out[1].split() == ["When", "Admin", "To", "Subject", "Status", "Error", "or", "file"]
    assert "Given up" in out[2] and " discarded " in out[2] and "cannot be reached" in out[2]
    assert "h1@example.org" in out[3] and "failed" in out[3] and "cannot be reached" in out[3]
    assert "h0@example.org" in out[4] and "Queued one" in out[4] and "queued" in out[4]
    assert all(" test-admin " in line for line in out[2:])
    assert out[4].endswith(queued.eml_path)  # the whole path, never cut


def test_retry_exit_codes(sqlite_db, users, monkeypatch, capsys) -> None:
    with smtp_server() as (_, port):
        pass
    point_at(monkeypatch, port)
    for user_id in users:
        mail.send_to_user(user_id, "Hello", "Text.")
    assert cli.main(["outbox", "--db", sqlite_db.url, "--retry"]) == 1
    out = capsys.readouterr().out
    assert "failed: h0@example.org: The mail server 127.0.0.1" in out
    assert "Retried 1: 0 sent, 1 failed. 1 not tried" in out

    with smtp_server(port) as (server, _):
        assert cli.main(["outbox", "--db", sqlite_db.url, "--retry"]) == 0
    assert "Retried 2: 2 sent, 0 failed." in capsys.readouterr().out
    assert sorted(r.rcpt_tos[0] for r in server.received) == ["h0@example.org", "h1@example.org"]
    assert OutboxMessage.select().where(OutboxMessage.status == "sent").count() == 2
    assert cli.main(["outbox", "--db", sqlite_db.url, "--retry"]) == 0
    assert "Nothing to retry." in capsys.readouterr().out


def test_wrong_settings_exit_with_one_sentence(sqlite_db, monkeypatch, capsys) -> None:
    monkeypatch.setenv("EXTGW_SMTP_HOST", "127.0.0.1")
    assert cli.main(["outbox", "--db", sqlite_db.url, "--retry"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "extgw-tui: Set EXTGW_SMTP_FROM (the sender address) to send through the mail server."
    )
