"""`extgw-tui activity`: filters, limit, escaping, errors, through the real CLI entry point."""

from __future__ import annotations

from datetime import datetime, timedelta

from extgw_tui.cli import main
from extgw_tui.models import ExternalUser
from extgw_tui.services import audit

T0 = datetime(2026, 3, 1, 9, 0, 0)


def _seed() -> ExternalUser:
    user = ExternalUser.create(surname="Jones", email="jones@example.org", password_hash="x")
    for minute in range(5):
        audit.record_many(
            "access.deny", [(user.id, user.email)], admin="alice", at=T0 + timedelta(minutes=minute)
        )
    audit.record_many(
        "pupil.remove",
        [(user.id, "evil\x1b[31m@example.org")],
        admin="bob",
        detail="line one\nline two",
        at=T0 + timedelta(hours=1),
    )
    return user


def test_prints_newest_first_with_limit(sqlite_db, capsys):
    _seed()
    assert main(["--db", sqlite_db.url, "activity", "--limit", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "6 entries (all entries); showing the newest 3."
    assert out[1].split() == ["When", "Admin", "Action", "User", "Target", "Detail"]
    body = out[2:]
    assert len(body) == 3
    assert body[0].startswith("2026-03-01 10:00:00  bob")
    assert body[1].startswith("2026-03-01 09:04:00  alice")
    assert "\x1b" not in "\n".join(out)
    assert "evil\\x1b[31m@example.org" in body[0]
    assert "line one\\nline two" in body[0]


def test_filters(sqlite_db, capsys):
    user = _seed()
    assert (
        main(
            [
                "--db",
                sqlite_db.url,
                "activity",
                "--admin-filter",
                "alice",
                "--action",
                "access.deny",
                "--user",
                str(user.id),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("5 entries (admin alice, action access.deny, user ")
    assert len(out) == 2 + 5
    assert main(["--db", sqlite_db.url, "activity", "--admin-filter", "nobody"]) == 0
    assert capsys.readouterr().out.splitlines() == ["0 entries (admin nobody)."]


def test_bad_limit_is_one_sentence(sqlite_db, capsys):
    assert main(["--db", sqlite_db.url, "activity", "--limit", "0"]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == "extgw-tui: --limit must be at least 1."
    assert "Traceback" not in captured.err
