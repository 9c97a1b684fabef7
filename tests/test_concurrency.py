"""Several administrators at once on one SQLite file: nothing locked, lost, half done or unaudited.

Real processes (the spawn context, as on Windows and macOS) open the same file through
db.open_database and call the same services the app does.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sqlite3
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import peewee
import psycopg2
import pytest
from app_helpers import NotedApp
from login_summary_rows import summary_rows

from extgw_tui import db as dbmod
from extgw_tui.cli import main
from extgw_tui.errors import NotFound
from extgw_tui.models import (
    AuditEvent,
    ExternalUser,
    Licence,
    LicenceType,
    LoginEvent,
    Pupil,
    live_user,
    text_key,
)
from extgw_tui.services import access, audit, licences, portal, review
from extgw_tui.services.login_summary import rebuild_login_summary
from extgw_tui.widgets.dbwork import db_work

OLD = datetime.now().replace(microsecond=0) - timedelta(days=800)
CTX = multiprocessing.get_context("spawn")
BLOCKED = (
    "Another administrator is writing to the database and it stayed busy for 1 second; "
    "nothing was changed, try again."
)

#: users 1-60: pupils to remove; 61-120: inactive, no pupils, to delete; all: access toggled.
REMOVE_USERS = range(1, 61)
DELETE_USERS = range(61, 121)
ALL_USERS = range(1, 121)


def _add_users(count: int, *, start: int = 1) -> list[int]:
    rows = [
        {
            "id": n,
            "surname": f"Surname{n}",
            "surname_key": text_key(f"Surname{n}"),
            "email": f"user{n}@example.org",
            "email_key": f"user{n}@example.org",
            "password_hash": "x",
            "created_at": OLD,
        }
        for n in range(start, start + count)
    ]
    for part in range(0, len(rows), 500):
        ExternalUser.insert_many(rows[part : part + 500]).execute()
    return [row["id"] for row in rows]


def _seed_shared() -> list[tuple[int, int]]:
    """The users above; each REMOVE user holds licences for two pupils. Returns the pairs."""
    _add_users(len(ALL_USERS))
    parent = LicenceType.get(LicenceType.name == "Parent/Guardian").id
    pupil_ids = [
        Pupil.create(forename="P", surname=f"Pupil{n}").id for n in range(2 * len(REMOVE_USERS))
    ]
    pairs = []
    for index, user_id in enumerate(REMOVE_USERS):
        for pupil_id in pupil_ids[2 * index : 2 * index + 2]:
            Licence.create(user=user_id, pupil=pupil_id, licence_type=parent)
            pairs.append((user_id, pupil_id))
    return pairs


def _admin_worker(url: str, name: str, seed: int, pairs, barrier, results) -> None:
    """One administrator: a shuffled mix of access changes, pupil removals and deletions."""
    audit.set_admin(name)
    dbmod.open_database(url)
    rng = random.Random(seed)
    ops: list[tuple] = [("remove", pair) for pair in pairs]
    delete_ids = list(DELETE_USERS)
    rng.shuffle(delete_ids)
    ops += [("delete", delete_ids[i : i + 6]) for i in range(0, len(delete_ids), 6)]
    ops += [("access", rng.sample(list(ALL_USERS), 25), rng.random() < 0.5) for _ in range(40)]
    rng.shuffle(ops)
    out = {"name": name, "changed": 0, "missing": 0, "removed": [], "deleted": 0}
    out |= {"not_found": 0, "errors": []}
    barrier.wait(timeout=120)  # a worker that failed to start fails the test, never hangs it
    for op in ops:
        try:
            if op[0] == "access":
                result = access.set_access(op[1], op[2])
                out["changed"] += result.changed
                out["missing"] += len(result.missing)
            elif op[0] == "remove":
                licences.remove_pupil(*op[1])
                out["removed"].append(op[1])
            else:
                out["deleted"] += review.delete_accounts(op[1], 12).deleted
        except NotFound:
            out["not_found"] += 1
        except Exception as exc:  # anything else is what this test is here to catch
            out["errors"].append(f"{op[0]}: {type(exc).__name__}: {exc}")
        time.sleep(0.002)  # a person between two changes; lets the other admin's turn come
    results.put(out)


def test_two_admins_at_once_lose_nothing(db, db_url):
    pairs = _seed_shared()
    barrier = CTX.Barrier(2)
    results = CTX.Queue()
    procs = [
        CTX.Process(target=_admin_worker, args=(db_url, name, seed, pairs, barrier, results))
        for name, seed in (("alice", 1), ("bob", 2))
    ]
    for proc in procs:
        proc.start()
    outs = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    assert [out["errors"] for out in outs] == [[], []]

    # Pupil removals: every pair removed exactly once, by one admin or the other, all audited.
    removed = [tuple(pair) for out in outs for pair in out["removed"]]
    assert sorted(removed) == sorted(pairs)
    assert all(out["removed"] for out in outs), "the two admins did not really overlap"
    assert sum(out["not_found"] for out in outs) == len(pairs)
    assert Licence.select().count() == 0
    assert AuditEvent.select().where(AuditEvent.action == "pupil.remove").count() == len(pairs)

    # Deletions: each candidate deleted once, the other admin told it no longer exists.
    assert sum(out["deleted"] for out in outs) == len(DELETE_USERS)
    assert sum(out["missing"] for out in outs) > 0  # deleted ids reported, not an error
    deleted = ExternalUser.select().where(ExternalUser.id.in_(list(DELETE_USERS)))
    assert deleted.where(live_user()).count() == 0
    deleted_audit = [
        e.user_id for e in AuditEvent.select().where(AuditEvent.action == "account.delete")
    ]
    assert sorted(deleted_audit) == list(DELETE_USERS)

    # Access: per user the audit alternates deny, allow, deny... (a lost update would repeat
    # one), every reported change has its entry, and the last entry is the stored state.
    entries = (
        AuditEvent.select(AuditEvent.user_id, AuditEvent.action, AuditEvent.admin)
        .where(AuditEvent.action.in_(["access.allow", "access.deny"]))
        .order_by(AuditEvent.id)
        .tuples()
    )
    history: dict[int, list[str]] = defaultdict(list)
    by_admin: Counter[str] = Counter()
    for user_id, action, admin in entries:
        history[user_id].append(action)
        by_admin[admin] += 1
    for user_id, actions in history.items():
        expected = ["access.deny", "access.allow"] * len(actions)
        assert actions == expected[: len(actions)], f"user {user_id}: {actions}"
    assert by_admin == {out["name"]: out["changed"] for out in outs}
    assert sum(out["changed"] for out in outs) > 0
    states = ExternalUser.select(ExternalUser.id, ExternalUser.access_allowed).tuples()
    for user_id, allowed in states:
        assert bool(allowed) == (len(history[user_id]) % 2 == 0)


def _login_worker(url: str, user_ids: list[int], rounds: int, barrier, results) -> None:
    """The portal under load: the same accounts logging in from two processes at once."""
    dbmod.open_database(url)
    errors = []
    barrier.wait(timeout=120)  # a worker that failed to start fails the test, never hangs it
    for _ in range(rounds):
        for user_id in user_ids:
            try:
                portal.record_login(ExternalUser.get_by_id(user_id))
            except Exception as exc:  # a deadlock or lost count is what this test catches
                errors.append(f"{type(exc).__name__}: {exc}")
    results.put(errors)


def test_the_same_accounts_logging_in_at_once_all_count(db, db_url):
    ids = _add_users(6)
    parent = LicenceType.get(LicenceType.name == "Parent/Guardian").id
    pupil = Pupil.create(forename="P", surname="Shared").id
    for user_id in ids[:3]:
        Licence.create(user=user_id, pupil=pupil, licence_type=parent)
    rounds = 25
    barrier = CTX.Barrier(2)
    results = CTX.Queue()
    procs = [
        CTX.Process(target=_login_worker, args=(db_url, ids, rounds, barrier, results))
        for _ in range(2)
    ]
    for proc in procs:
        proc.start()
    outs = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    assert outs == [[], []]
    assert LoginEvent.select().count() == 2 * rounds * len(ids)
    kept = summary_rows()
    rebuild_login_summary()  # what the upkeep counted, login by login, equals a recount
    assert summary_rows() == kept


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE external_user SET surname = 'Held' WHERE id = 1")
    return other


@pytest.fixture
def quick_timeout(tmp_path, monkeypatch):
    """A database opened with a one-second busy timeout, so a blocked write fails fast."""
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT", 1)
    url = f"sqlite:///{tmp_path / 'locked.sqlite3'}"
    handle = dbmod.open_database(url)
    handle.url = url  # type: ignore[attr-defined]
    yield handle
    handle.close()


def test_write_blocked_past_timeout_says_so_and_changes_nothing(quick_timeout, tmp_path):
    ids = _add_users(50)
    other = _hold_write_lock(tmp_path / "locked.sqlite3")
    try:
        started = time.monotonic()
        with pytest.raises(peewee.OperationalError) as caught:
            access.set_access(ids, False)
        waited = time.monotonic() - started
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert 0.9 <= waited < 5
    assert dbmod.describe(caught.value) == BLOCKED
    assert ExternalUser.select().where(ExternalUser.access_allowed == False).count() == 0  # noqa: E712
    assert AuditEvent.select().count() == 0
    assert access.set_access(ids, False).changed == 50  # and it works once the lock is gone


def test_postgres_write_blocked_past_timeout_says_so_and_changes_nothing(postgres_url, monkeypatch):
    """PostgreSQL waits for a row lock at most BUSY_TIMEOUT too (lock_timeout), never forever."""
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT", 1)
    handle = dbmod.open_database(postgres_url)
    ids = _add_users(50)
    other = psycopg2.connect(postgres_url)
    try:
        with other.cursor() as cursor:  # another admin's transaction holds user 1
            cursor.execute("UPDATE external_user SET surname = 'Held' WHERE id = 1")
        started = time.monotonic()
        with pytest.raises(peewee.OperationalError) as caught:
            access.set_access(ids, False)
        waited = time.monotonic() - started
    finally:
        other.rollback()
        other.close()
    assert 0.9 <= waited < 5
    assert dbmod.describe(caught.value) == BLOCKED
    assert ExternalUser.select().where(ExternalUser.access_allowed == False).count() == 0  # noqa: E712
    assert AuditEvent.select().count() == 0
    assert access.set_access(ids, False).changed == 50
    handle.close()


def test_cli_write_blocked_is_one_sentence(quick_timeout, tmp_path, capsys):
    _add_users(5)
    quick_timeout.close()
    other = _hold_write_lock(tmp_path / "locked.sqlite3")
    try:
        code = main(["--db", quick_timeout.url, "review", "--delete", "--yes"])
    finally:
        other.execute("ROLLBACK")
        other.close()
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == f"extgw-tui: {BLOCKED}"
    dbmod.open_database(quick_timeout.url)
    assert ExternalUser.select().count() == 5
    assert AuditEvent.select().count() == 0


def _bulk_worker(url: str, kind: str, ready) -> None:
    dbmod.open_database(url)
    ids = list(range(1, BULK + 1))
    ready.set()
    if kind == "deny":
        access.set_access(ids, False)
    else:
        review.delete_accounts(ids, 12)


BULK = 20_000


def _writer_active(path: Path) -> bool:
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


@pytest.mark.parametrize("kind", ["deny", "delete"])
def test_killed_mid_bulk_change_leaves_nothing_half_done(sqlite_db, tmp_path, kind):
    _add_users(BULK)
    path = tmp_path / "test.sqlite3"
    ready = CTX.Event()
    proc = CTX.Process(target=_bulk_worker, args=(sqlite_db.url, kind, ready))
    proc.start()
    assert ready.wait(60)
    deadline = time.monotonic() + 30
    while not _writer_active(path):
        assert time.monotonic() < deadline, "the bulk change never started"
        time.sleep(0.001)
    time.sleep(0.05)  # well inside the transaction, which takes far longer
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(timeout=30)
    assert proc.exitcode == -signal.SIGKILL

    sqlite_db.close()
    dbmod.open_database(sqlite_db.url)
    assert ExternalUser.select().count() == BULK
    assert ExternalUser.select().where(ExternalUser.access_allowed == False).count() == 0  # noqa: E712
    assert AuditEvent.select().count() == 0
    assert sqlite_db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    # The file is usable and the same change now completes in full.
    assert access.set_access(list(range(1, BULK + 1)), False).changed == BULK
    assert AuditEvent.select().count() == BULK


async def test_app_write_blocked_is_one_sentence_notification(quick_timeout, tmp_path):
    """The same through the app: db_work turns the lock into the sentence, never a traceback."""
    ids = _add_users(20)
    app = NotedApp(quick_timeout.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        other = _hold_write_lock(tmp_path / "locked.sqlite3")
        try:
            worker = db_work(app.screen, access.set_access, ids, False)
            await worker.wait()
            await pilot.pause()
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert app.is_running
    assert ("error", BLOCKED) in app.seen
    assert not any("locked" in message for _, message in app.seen)
    assert AuditEvent.select().count() == 0
