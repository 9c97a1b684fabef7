"""`extgw-tui review`: the list, deleting with and without confirmation, and the exit codes."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from cli_helpers import answer_on_a_terminal, run_cli

from extgw_tui.cli import main
from extgw_tui.models import AuditEvent, ExternalUser, Licence, LoginEvent, Pupil, live_user

NOW = datetime.now().replace(microsecond=0)


def _user(surname: str, *, created: datetime, last_login: datetime | None = None) -> int:
    user = ExternalUser.create(
        surname=surname,
        email=f"{surname.lower()}@example.org",
        password_hash="x",
        created_at=created,
        last_login_at=last_login,
    )
    return user.id


@pytest.fixture
def people(sqlite_db):
    """Two candidates (one with login history), one recent login, one holder of a pupil."""
    old = NOW - timedelta(days=3 * 365)
    ids = {
        "never": _user("Never", created=old),
        "lapsed": _user("Lapsed", created=old, last_login=NOW - timedelta(days=500)),
        "recent": _user("Recent", created=old, last_login=NOW - timedelta(days=2)),
        "parent": _user("Parent", created=old),
    }
    LoginEvent.create(user=ids["lapsed"], at=NOW - timedelta(days=500))
    pupil = Pupil.create(forename="Kim", surname="Parent")
    Licence.create(user=ids["parent"], pupil=pupil.id, licence_type=1)
    return ids


def _remaining() -> set[str]:
    return {u.surname for u in ExternalUser.select(ExternalUser.surname).where(live_user())}


def test_lists_the_candidates(sqlite_db, people, capsys):
    assert main(["review", "--db", sqlite_db.url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 accounts with no pupils and no login for at least 12 months")
    assert "never@example.org" in out and "lapsed@example.org" in out
    assert "recent@" not in out and "parent@" not in out
    assert "Never  " in out  # the last-login column of the account that never logged in
    assert _remaining() == {"Never", "Lapsed", "Recent", "Parent"}


def test_threshold_option(sqlite_db, people, capsys):
    assert main(["review", "--db", sqlite_db.url, "--months", "20"]) == 0
    assert capsys.readouterr().out.startswith("1 account with no pupils")
    assert main(["review", "--db", sqlite_db.url, "--months", "240", "--delete"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("0 accounts") and "ID" not in out


def test_one_month_is_singular(sqlite_db, people, capsys):
    assert main(["review", "--db", sqlite_db.url, "--months", "1"]) == 0
    assert "no login for at least 1 month (last activity" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("months", "message"),
    [
        ("0", "The threshold must be between 1 and 240 months."),
        ("abc", "The threshold must be a whole number of months, not 'abc'."),
        ("1.5", "The threshold must be a whole number of months, not '1.5'."),
    ],
)
def test_bad_threshold_is_an_error(sqlite_db, capsys, months, message):
    """Exit 1 with one sentence; 2 is for a database that cannot be opened."""
    assert main(["review", "--db", sqlite_db.url, "--months", months]) == 1
    assert capsys.readouterr().err == f"extgw-tui: {message}\n"


def test_delete_with_yes(sqlite_db, people, capsys):
    assert main(["review", "--db", sqlite_db.url, "--delete", "--yes", "--admin", "ops"]) == 0
    out = capsys.readouterr().out
    assert "Deleted 2 accounts." in out
    assert _remaining() == {"Recent", "Parent"}
    entries = AuditEvent.select().where(AuditEvent.action == "account.delete")
    assert sorted((e.target, e.admin) for e in entries) == [
        ("lapsed@example.org", "ops"),
        ("never@example.org", "ops"),
    ]
    assert LoginEvent.select().where(LoginEvent.user.is_null()).count() == 0  # until the purge
    assert "undo" in out  # the batch can be undone, and the output says how


def test_delete_refused_without_a_terminal(sqlite_db, people):
    result = run_cli("review", "--db", sqlite_db.url, "--delete")
    assert result.returncode == 1, result.stderr
    assert "add --yes" in result.stderr
    assert "Traceback" not in result.stderr
    assert _remaining() == {"Never", "Lapsed", "Recent", "Parent"}


@pytest.mark.parametrize(("answer", "code", "left"), [("no", 4, 4), ("yes", 0, 2)])
def test_delete_confirmed_on_the_terminal(sqlite_db, people, answer, code, left):
    proc = answer_on_a_terminal(["review", "--db", sqlite_db.url, "--delete"], answer)
    out = proc.stdout
    assert proc.returncode == code, proc.stderr
    assert "Delete these 2 accounts? Type 'yes' to delete:" in out
    assert ("Nothing was deleted." in out) == (answer == "no")
    assert len(_remaining()) == left


@pytest.mark.parametrize(("args", "code"), [((), 0), (("--delete", "--yes"), 1)])
def test_output_closed_early(sqlite_db, args, code):
    """`review | head`: no traceback; and no deletion of a list nobody saw to the end."""
    old = NOW - timedelta(days=3 * 365)
    for n in range(2000):
        _user(f"Many{n}", created=old)
    proc = subprocess.Popen(
        [sys.executable, "-m", "extgw_tui", "review", "--db", sqlite_db.url, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().startswith("2,000 accounts")
    proc.stdout.close()
    proc.wait(timeout=120)
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.returncode == code, err
    assert "unexpected" not in err and "Traceback" not in err
    assert ExternalUser.select().count() == 2000
