"""`extgw-tui portal --workers 2` for real, on both backends: two processes serve, a session one
opened is honoured by the other, rate limits are counted in the shared Attempt table; and
`extgw-tui --school NAME portal` serves that school's database and records it in the audit log.

That both workers served is read from the operating system, not from a debug switch: each
worker's PID is in the server's log line "portal worker PID started", and each one's CPU time
(/proc/PID/stat) grows by at least one password verification during a burst of logins.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from portal_server import portal_server

from extgw_tui import settings
from extgw_tui.db import open_database
from extgw_tui.models import Attempt, AuditEvent, ExternalUser
from extgw_tui.portal_api.pool import verification_seconds
from extgw_tui.services import portal, portal_limits
from extgw_tui.services.passwords import hash_password

PASSWORD = "correct horse battery"
STARTED = re.compile(r"portal worker (\d+) started")

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _config(text: str) -> None:
    settings.config_file().write_text(text, encoding="utf-8")


def _worker_pids(count: int) -> list[int]:
    log = settings.log_dir() / "extgw-tui.log"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pids = STARTED.findall(log.read_text()) if log.exists() else []
        if len(set(pids)) >= count:
            return sorted({int(p) for p in pids})
        time.sleep(0.1)
    raise AssertionError(f"{count} workers did not start: {pids}")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _accounts(prefix: str, count: int) -> list[ExternalUser]:
    """Allowed accounts sharing one password hash (hashing each would only slow the test)."""
    hashed = hash_password(PASSWORD)
    return [
        ExternalUser.create(
            email=f"{prefix}{n}@home.example",
            surname="Bloggs",
            password_hash=hashed,
            adr=True,
            access_allowed=True,
        )
        for n in range(count)
    ]


def _login(base: str, user: ExternalUser) -> httpx.Response:
    return _post(base, "/api/login", json={"email": user.email, "password": PASSWORD})


def _me(base: str, token: str) -> httpx.Response:
    return httpx.get(f"{base}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _post(base: str, path: str, **kw) -> httpx.Response:
    """A request on a connection of its own, so the kernel may hand it to either worker."""
    return httpx.post(f"{base}{path}", timeout=60, **kw)


def test_two_workers_share_sessions_and_rate_limits(db, db_url):
    _config("[portal]\nlogin_failures_per_email = 3\n")
    users = _accounts("p", 12)
    floor = 0.5 * verification_seconds(clock=time.process_time)
    with portal_server(db_url, after=["--workers", "2"]) as base:
        pids = _worker_pids(2)
        before = {pid: _cpu_seconds(pid) for pid in pids}
        tokens: list[str] = []
        with ThreadPoolExecutor(4) as pool:
            for start in range(0, len(users), 4):  # rounds of 4 until both have verified one
                logins = list(pool.map(_login, [base] * 4, users[start : start + 4]))
                assert [r.status_code for r in logins] == [200] * 4
                tokens += [r.json()["token"] for r in logins]
                grown = {pid: _cpu_seconds(pid) - before[pid] for pid in pids}
                if all(cpu >= floor for cpu in grown.values()):
                    break
            assert all(cpu >= floor for cpu in grown.values()), (grown, floor)  # both served
            views = list(pool.map(_me, [base] * len(tokens) * 2, tokens * 2))
        # every session honoured on whichever worker the request reached
        assert [v.status_code for v in views] == [200] * len(views)
        assert [v.json()["email"] for v in views] == [u.email for u in users[: len(tokens)]] * 2

        # failed logins counted in the database, whichever worker took them
        wrong = [
            _post(base, "/api/login", json={"email": users[0].email, "password": "wrong one!"})
            for _ in range(3)
        ]
        assert [r.status_code for r in wrong] == [401] * 3
        after = [
            _post(base, "/api/login", json={"email": users[0].email, "password": PASSWORD})
            for _ in range(4)
        ]
        assert [r.status_code for r in after] == [429] * 4  # on both workers: limit shared
    scope = portal_limits.email_scope(users[0].email)
    assert Attempt.select().where(Attempt.scope == scope).count() == 3


def _school_config(tmp_path: Path) -> dict[str, str]:
    urls = {key: f"sqlite:///{tmp_path / f'{key}.sqlite3'}" for key in ("north", "south")}
    _config(
        "".join(
            f'[schools.{key}]\nname = "{key.title()} High"\ndatabase = "{url}"\n'
            for key, url in urls.items()
        )
    )
    return urls


def test_a_school_portal_serves_that_school_and_records_it(tmp_path):
    urls = _school_config(tmp_path)
    for key, url in urls.items():
        handle = open_database(url)
        _accounts(key, 4)
        handle.close()
    with portal_server(None, before=["--school", "north"], after=["--workers", "2"]) as base:
        _worker_pids(2)
        assert (
            _post(
                base, "/api/login", json={"email": "south0@home.example", "password": PASSWORD}
            ).status_code
            == 401
        )
        tokens = []
        for n in range(4):
            answer = _post(
                base, "/api/login", json={"email": f"north{n}@home.example", "password": PASSWORD}
            )
            assert answer.status_code == 200
            tokens.append(answer.json()["token"])
        with ThreadPoolExecutor(3) as pool:
            gone = list(
                pool.map(
                    lambda t: httpx.request(
                        "DELETE",
                        f"{base}/api/me",
                        json={"password": PASSWORD},
                        headers={"Authorization": f"Bearer {t}"},
                        timeout=60,
                    ),
                    tokens,
                )
            )
        assert [g.status_code for g in gone] == [200] * 4
    handle = open_database(urls["north"])
    entries = list(AuditEvent.select().where(AuditEvent.admin == portal.PORTAL))
    assert len(entries) >= 4
    assert {e.school for e in entries} == {"north"}
    assert ExternalUser.select().where(ExternalUser.deleted_at.is_null()).count() == 0
    handle.close()
    handle = open_database(urls["south"])
    assert AuditEvent.select().where(AuditEvent.admin == portal.PORTAL).count() == 0
    handle.close()


def test_the_portal_wants_a_school_when_several_are_configured(tmp_path):
    _school_config(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "extgw_tui", "portal", "--listen", "127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Several schools are configured (north, south)" in done.stderr
    assert "Traceback" not in done.stderr
