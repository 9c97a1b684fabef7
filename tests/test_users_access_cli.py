"""`extgw-tui users` and `extgw-tui access`: the search box's language on the command line,
the same accounts as the app, one audited batch, a dry run that changes nothing."""

from __future__ import annotations

import csv
import io
import json

from user_rows import make_users

from extgw_tui.cli import main
from extgw_tui.models import AuditEvent, ExternalUser
from extgw_tui.services import access, users


def _run(capsys, db, *args: str) -> tuple[int, str, str]:
    code = main(["--db", db.url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_users_lists_what_the_filter_finds_in_every_format(sqlite_db, capsys):
    ids = make_users(12)
    access.set_access(ids[:3], False)
    code, out, _ = _run(capsys, sqlite_db, "users", "--filter", "access:denied")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "Title", "Forename", "Surname"]
    assert len(lines) == 4 and all("denied" in line for line in lines[1:])
    code, out, _ = _run(capsys, sqlite_db, "users", "--filter", "access:denied", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sorted(int(r["id"]) for r in rows) == sorted(ids[:3])
    code, out, _ = _run(capsys, sqlite_db, "users", "--filter=-access:denied", "--format", "json")
    objects = [json.loads(line) for line in out.splitlines()]
    assert len(objects) == 9 and {o["access"] for o in objects} == {"allowed"}
    assert [o["id"] for o in objects] == [
        r.id for r in users.search_users("-access:denied", limit=100)
    ]  # the app's order


def test_users_explains_a_bad_filter_in_one_sentence(sqlite_db, capsys):
    code, out, err = _run(capsys, sqlite_db, "users", "--filter", "acess:denied")
    assert code == 1 and out == ""
    assert err.startswith("extgw-tui: There is no filter acess: (did you mean access:?)")
    assert len(err.strip().splitlines()) == 1
    code, out, _ = _run(capsys, sqlite_db, "users", "--help-filters")
    assert code == 0 and "login:>12m" in out


def test_access_says_what_will_change_and_a_dry_run_changes_nothing(sqlite_db, capsys):
    ids = make_users(10)
    access.set_access(ids[:2], False)  # denied on purpose, before the bulk change
    before = AuditEvent.select().count()
    code, out, _ = _run(capsys, sqlite_db, "access", "deny", "--filter", "example.org", "--dry-run")
    assert code == 0
    assert out.strip() == "Deny 10 accounts? 2 already denied: 8 will change."
    assert AuditEvent.select().count() == before
    assert users.count_users("access:denied") == 2
    code, out, err = _run(capsys, sqlite_db, "access", "deny", "--filter", "example.org")
    assert code == 1 and "add --yes" in err  # no terminal to ask on
    assert users.count_users("access:denied") == 2
    code, out, _ = _run(
        capsys, sqlite_db, "access", "deny", "--filter", "example.org", "--yes", "--reason", "left"
    )
    assert code == 0 and "Denied 8 accounts; 2 already denied." in out
    assert users.count_users("access:denied") == 10
    denied = AuditEvent.select().where(
        AuditEvent.action == "access.deny", AuditEvent.detail == "left"
    )
    assert denied.count() == 8 and len({e.batch for e in denied}) == 1  # one batch
    code, out, _ = _run(capsys, sqlite_db, "access", "deny", "--filter", "example.org", "--yes")
    assert code == 0 and "0 will change" in out
    assert ExternalUser.select().count() == 10
