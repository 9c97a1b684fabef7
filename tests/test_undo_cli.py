"""`extgw-tui undo` and `extgw-tui purge`: listing, dry runs, confirmations and exit codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cli_helpers import answer_on_a_terminal, run_cli

from extgw_tui.cli import main
from extgw_tui.models import AuditEvent, Batch, ExternalUser, LoginEvent, now
from extgw_tui.services import access
from extgw_tui.services.accounts import delete_users

U = ExternalUser


@pytest.fixture
def denied(sqlite_db):
    """Six accounts, two denied on purpose, then a deny of all six (four changed)."""
    ids = [
        U.create(surname=f"S{n}", email=f"u{n}@example.org", password_hash="x").id for n in range(6)
    ]
    access.set_access(ids[:2], False)
    return ids, access.set_access(ids, False).batch


def allowed() -> set[int]:
    return {i for (i,) in U.select(U.id).where(U.access_allowed == True).tuples()}  # noqa: E712


def test_lists_the_changes_that_can_be_undone(sqlite_db, denied, capsys):
    _, batch = denied
    assert main(["undo", "--db", sqlite_db.url]) == 0
    out = capsys.readouterr().out
    assert "`extgw-tui undo BATCH` undoes one" in out
    first = out.splitlines()[2]
    assert first.startswith(batch[:8]) and "access.deny" in first and "4 would change" in first


def test_dry_run_changes_nothing(sqlite_db, denied, capsys):
    ids, batch = denied
    assert main(["undo", batch[:8], "--dry-run", "--db", sqlite_db.url]) == 0
    out = capsys.readouterr().out
    assert "Undo the deny of 4 accounts by test-admin on " in out
    assert "? 4 will be allowed again." in out and "Nothing was changed (--dry-run)." in out
    assert allowed() == set()


def test_undo_with_yes_leaves_the_accounts_denied_before(sqlite_db, denied, capsys):
    ids, batch = denied
    assert main(["undo", batch, "--yes", "--admin", "ops", "--db", sqlite_db.url]) == 0
    out = capsys.readouterr().out
    assert ": 4 accounts allowed again." in out
    assert allowed() == set(ids[2:])
    undo_batch = Batch.get(Batch.undoes == batch)
    assert undo_batch.admin == "ops" and f"batch {undo_batch.id[:8]}" in out
    # a second time: refused, with the reason, exit 1
    assert main(["undo", batch, "--yes", "--db", sqlite_db.url]) == 1
    assert "This batch was already undone on " in capsys.readouterr().err


def test_refusals_are_one_sentence(sqlite_db, denied):
    _, batch = denied
    result = run_cli("undo", batch, "--db", sqlite_db.url)
    assert result.returncode == 1 and "add --yes" in result.stderr
    result = run_cli("undo", "xyz", "--db", sqlite_db.url)
    assert result.returncode == 1
    assert (
        result.stderr.strip() == "extgw-tui: 'xyz' is not a batch id (32 hexadecimal characters)."
    )
    assert "Traceback" not in result.stderr
    assert allowed() == set()


@pytest.mark.parametrize(("answer", "code", "changed"), [("no", 4, 0), ("yes", 0, 4)])
def test_undo_confirmed_on_the_terminal(sqlite_db, denied, answer, code, changed):
    _, batch = denied
    proc = answer_on_a_terminal(["undo", batch, "--db", sqlite_db.url], answer)
    out = proc.stdout
    assert proc.returncode == code, proc.stderr
    assert "Undo it? Type 'yes' to undo:" in out
    assert len(allowed()) == changed


def test_purge_removes_only_accounts_past_the_retention(sqlite_db, monkeypatch, capsys):
    ids = [
        U.create(surname=f"S{n}", email=f"p{n}@example.org", password_hash="x").id for n in range(3)
    ]
    LoginEvent.create(user=ids[0], at=now())
    delete_users(ids)
    U.update(deleted_at=now() - timedelta(days=31)).where(U.id == ids[0]).execute()
    U.update(deleted_at=now() - timedelta(days=9)).where(U.id == ids[1]).execute()
    assert main(["purge", "--db", sqlite_db.url]) == 1  # pytest's stdin is no terminal
    assert "add --yes" in capsys.readouterr().err
    assert main(["purge", "--yes", "--db", sqlite_db.url]) == 0
    out = capsys.readouterr().out
    assert "1 deleted account older than 30 days (2 more still restorable)." in out
    assert "Purged 1 account deleted more than 30 days ago, for good." in out
    assert {u.id for u in U.select()} == set(ids[1:])
    monkeypatch.setenv("EXTGW_PURGE_AFTER_DAYS", "7")
    assert main(["purge", "--yes", "--db", sqlite_db.url]) == 0
    assert {u.id for u in U.select()} == {ids[2]}
    monkeypatch.setenv("EXTGW_PURGE_AFTER_DAYS", "a month")
    assert main(["purge", "--yes", "--db", sqlite_db.url]) == 1
    err = capsys.readouterr().err
    assert "EXTGW_PURGE_AFTER_DAYS must be a whole number, not 'a month'." in err
    monkeypatch.setenv("EXTGW_PURGE_AFTER_DAYS", "-1")
    assert main(["purge", "--yes", "--db", sqlite_db.url]) == 1
    err = capsys.readouterr().err
    assert "must be a whole number of days from 0 to 3650, not -1." in err
    purges = AuditEvent.select().where(AuditEvent.action == "account.purge")
    assert sorted(e.user_id for e in purges) == ids[:2]


def test_purge_after_days_in_config_toml(sqlite_db, isolated_env, capsys):
    (isolated_env / "config" / "config.toml").write_text("purge_after_days = 0\n")
    user = U.create(surname="S", email="s@example.org", password_hash="x")
    delete_users([user.id])
    U.update(deleted_at=now() - timedelta(seconds=5)).execute()
    assert main(["purge", "--yes", "--db", sqlite_db.url]) == 0
    assert "older than 0 days" in capsys.readouterr().out
    assert U.select().count() == 0
