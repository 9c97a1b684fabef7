"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the mail tests, with optional TLS and login.

Nothing of ours is imitated: the code under test talks SMTP over a socket to this server,
which records exactly what arrived (envelope and raw message).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Recorder:
    """The aiosmtpd handler: keeps every message; refuses recipients listed in `refuse`;
    waits `delay` seconds before answering MAIL and RCPT (a slow server)."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    logins: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        await asyncio.sleep(self.delay)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        await asyncio.sleep(self.delay)
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Tls:
    """A throwaway CA (trustme) and a certificate for 127.0.0.1 signed by it."""

    server_context: ssl.SSLContext
    ca_file: Path


def make_tls(folder: Path) -> Tls:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca_file = folder / "test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return Tls(context, ca_file)


def _authenticator(recorder: Recorder, user: str, password: str):
    def check(server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, given = auth_data.login.decode(), auth_data.password.decode()
            recorder.logins.append((mechanism, login))
            return AuthResult(success=(login, given) == (user, password), handled=False)
        return AuthResult(success=False, handled=False)

    return check


@contextmanager
def smtp_server(
    port: int | None = None,
    *,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    login: tuple[str, str] | None = None,
    mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
    recorder: Recorder | None = None,
) -> Iterator[tuple[Recorder, int]]:
    """Run a server until the block ends; yields (recorder, port)."""
    recorder = recorder or Recorder()
    port = port or free_port()
    kwargs: dict = {"server_hostname": "localhost", "ident": "extgw test server"}
    if starttls is not None:
        kwargs.update(tls_context=starttls, require_starttls=True)
    if login is not None:
        kwargs.update(
            authenticator=_authenticator(recorder, *login),
            auth_required=True,
            auth_require_tls=True,
            auth_exclude_mechanism=[m for m in ("LOGIN", "PLAIN") if m not in mechanisms],
        )
    controller = Controller(
        recorder, hostname="127.0.0.1", port=port, ssl_context=implicit_tls, **kwargs
    )
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def smtp_env(port: int, sender: str = "School Office <office@school.example>") -> dict[str, str]:
    """The environment that points extgw-tui at the test server on port (plain SMTP)."""
    return {
        "EXTGW_SMTP_HOST": "127.0.0.1",
        "EXTGW_SMTP_PORT": str(port),
        "EXTGW_SMTP_SECURITY": "none",
        "EXTGW_SMTP_FROM": sender,
        "EXTGW_SMTP_TIMEOUT": "5",
    }
