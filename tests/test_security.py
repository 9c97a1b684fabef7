"""Security: portal logins reveal nothing, passwords are argon2id, no secret reaches a log or audit.

The timing test measures the real argon2 work; the SMTP test talks to a real aiosmtpd server
over STARTTLS (certificates from trustme) that echoes the password in its refusal.
"""

from __future__ import annotations

import os
import socket
import ssl
import stat
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from argon2 import PasswordHasher, Type, extract_parameters

from extgw_tui.cli import main
from extgw_tui.logs import setup_logging
from extgw_tui.models import AuditEvent, ExternalUser, OutboxMessage
from extgw_tui.services import access, mail, portal, portal_login
from extgw_tui.services.passwords import DUMMY_HASH, hash_password, needs_rehash

PASSWORD = "Corr3ct-Horse-Battery"

#: OWASP's argon2id configurations (memory KiB, iterations), all with parallelism 1: any one
#: of them, or more of both, meets the bar.
OWASP_ARGON2ID = [(47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5)]


def _median_seconds(call, email: str, attempts: int) -> list[float]:
    times = []
    for _ in range(attempts):
        started = time.perf_counter()
        assert call(email, PASSWORD + "x") is None
        times.append(time.perf_counter() - started)
    return times


def _denied_and_unknown_medians(rounds: int = 21) -> tuple[float, float]:
    denied: list[float] = []
    unknown: list[float] = []
    for _ in range(rounds):  # interleaved, so drift in machine load hits both alike
        denied += _median_seconds(portal.authenticate, "denied@example.org", 1)
        unknown += _median_seconds(portal.authenticate, "nobody@example.org", 1)
    return statistics.median(denied), statistics.median(unknown)


def _one_hash_seconds() -> float:
    """The median of five hashes: one load spike on a shared machine does not decide it."""
    times = []
    for _ in range(5):
        started = time.perf_counter()
        hash_password("calibration")
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def test_denied_and_unknown_look_the_same(sqlite_db):
    user = portal.register("denied@example.org", PASSWORD, surname="Denied")
    access.set_access([user.id], False)
    assert portal.authenticate("denied@example.org", PASSWORD) is None  # even the right password
    assert portal.authenticate("nobody@example.org", PASSWORD) is None
    d, u = _denied_and_unknown_medians()
    if abs(d - u) > 0.25 * min(d, u):  # a burst of load on a shared machine; a real
        d, u = _denied_and_unknown_medians()  # difference in the work done fails both rounds
    assert abs(d - u) <= 0.25 * min(d, u), f"denied {d:.4f}s, unknown {u:.4f}s"
    # And both do the full argon2 work: no shortcut for either case.
    assert min(d, u) >= 0.5 * _one_hash_seconds()
    assert ExternalUser.get_by_id(user.id).last_login_at is None


def test_the_dummy_hash_costs_what_a_real_one_does():
    """Verifying against it takes the hasher's own parameters (else timing would tell)."""
    assert not needs_rehash(DUMMY_HASH)
    assert extract_parameters(DUMMY_HASH) == extract_parameters(hash_password("x" * 12))


def test_argon2id_at_or_above_owasp(sqlite_db):
    user = portal.register("new@example.org", PASSWORD, surname="New")
    stored = ExternalUser.get_by_id(user.id).password_hash
    assert PASSWORD not in stored
    params = extract_parameters(stored)
    assert params.type is Type.ID
    assert params.parallelism >= 1
    assert any(
        params.memory_cost >= memory and params.time_cost >= iterations
        for memory, iterations in OWASP_ARGON2ID
    ), params
    assert params.salt_len >= 16 and params.hash_len >= 32


def test_an_older_hash_still_logs_in_and_is_rehashed_at_that_login(sqlite_db):
    """Release 0.1.0 hashed with t=3, p=4: those accounts keep working and move to the
    current parameters at their next successful portal login (not at a failed one)."""
    user = portal.register("old@example.org", PASSWORD, surname="Old")
    old = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, type=Type.ID)
    old_hash = old.hash(PASSWORD)
    assert needs_rehash(old_hash)
    ExternalUser.update(password_hash=old_hash).where(ExternalUser.id == user.id).execute()

    assert portal_login.login("old@example.org", "wrong-" + PASSWORD, "192.0.2.1").token is None
    assert ExternalUser.get_by_id(user.id).password_hash == old_hash

    assert portal_login.login("old@example.org", PASSWORD, "192.0.2.1").token is not None
    stored = ExternalUser.get_by_id(user.id).password_hash
    assert stored != old_hash and not needs_rehash(stored)
    assert extract_parameters(stored) == extract_parameters(hash_password("x" * 12))
    assert portal.authenticate("old@example.org", PASSWORD) is not None


def _log_text() -> str:
    path = setup_logging()
    assert path is not None
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _audit_text() -> str:
    rows = AuditEvent.select(AuditEvent.admin, AuditEvent.target, AuditEvent.detail).tuples()
    return "\n".join(" ".join(row) for row in rows)


def test_portal_password_never_stored_or_logged(sqlite_db):
    setup_logging()  # logging on before the work, or "not in the log" proves nothing
    user = portal.register("holder@example.org", PASSWORD, surname="Holder")
    assert portal.authenticate("holder@example.org", PASSWORD) is not None
    assert portal.authenticate("holder@example.org", "wrong-" + PASSWORD) is None
    assert portal.delete_own_account("holder@example.org", PASSWORD)
    assert AuditEvent.select().where(AuditEvent.user_id == user.id).count() == 1
    assert PASSWORD not in _audit_text()
    assert PASSWORD not in _log_text()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://extgw:Sup3r-Secret-Pw@127.0.0.1:1/extgw",
        "postgres://extgw:Sup3r-Secret-Pw@localhost:1/extgw?connect_timeout=2",
        "postgresql://extgw:Sup3r-Secret-Pw@127.0.0.1:99999/extgw",
        "postgresql://extgw:Sup3r%2DSecret%2DPw@127.0.0.1:1/extgw",
        "mysql://extgw:Sup3r-Secret-Pw@127.0.0.1/extgw",
    ],
)
def test_connection_password_never_shown_or_logged(url, capsys):
    code = main(["--db", url, "activity"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("extgw-tui: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert "***" in err  # the URL is named, without its password
    for secret in ("Sup3r-Secret-Pw", "Sup3r%2DSecret%2DPw"):
        assert secret not in err
        assert secret not in _log_text()


class _Recorder:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        return "250 OK"


def _echoing_refusal(server, session, envelope, mechanism, auth_data):
    """A careless server: its refusal repeats the credentials it was given."""
    login = auth_data.login.decode(errors="replace")
    password = auth_data.password.decode(errors="replace")
    return AuthResult(success=False, handled=False, message=f"535 no {login}:{password} here")


@pytest.fixture
def tls_smtp(tmp_path: Path):
    """A real SMTP server on 127.0.0.1 with STARTTLS, refusing every login."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with socket.socket() as probe:  # a free port (aiosmtpd needs one before it starts)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        _Recorder(),
        hostname="127.0.0.1",
        port=port,
        tls_context=server_ctx,
        require_starttls=True,
        authenticator=_echoing_refusal,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield port, ca_file
    finally:
        controller.stop()


def test_smtp_secret_never_logged_or_audited(sqlite_db, tls_smtp, monkeypatch):
    port, ca_file = tls_smtp
    secret = "smtp-S3cret-Passw0rd"
    for key, value in {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SECURITY": "starttls",
        "USER": "office",
        "PASSWORD": secret,
        "FROM": "School Office <office@school.example>",
        "CA_FILE": str(ca_file),
        "TIMEOUT": "10",
    }.items():
        monkeypatch.setenv(f"EXTGW_SMTP_{key}", value)
    user = ExternalUser.create(surname="Jones", email="jones@example.org", password_hash="x")
    setup_logging()  # logging on before the work, or "not in the log" proves nothing
    result = mail.send_to_user(user.id, "Reports", "Your reports are ready.")
    assert result.status == "failed"
    assert result.error.endswith("refused the login for office (535 no office:*** here).")
    rows = OutboxMessage.select(OutboxMessage.error, OutboxMessage.body)
    stored = " ".join(f"{row.error} {row.body}" for row in rows)
    for text in (result.error, _audit_text(), _log_text(), stored):
        assert secret not in text
    assert "535 no office:*** here" in _audit_text()  # the failure itself is recorded
    assert "535 no office:*** here" in _log_text()


def test_the_log_file_is_private(tmp_path):
    """It names users (email addresses): only its owner may read it."""
    env = {**os.environ, "EXTGW_LOG_DIR": str(tmp_path / "log"), "EXTGW_DATA_DIR": str(tmp_path)}
    db = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    subprocess.run(
        [sys.executable, "-m", "extgw_tui", "--db", db, "stats"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    log_path = tmp_path / "log" / "extgw-tui.log"
    assert stat.S_IMODE(log_path.stat().st_mode) == 0o600
