"""Emailing a user: validation, delivery through SMTP or the local outbox, and the record of both.

Every message becomes an OutboxMessage row before anything leaves, so nothing an admin wrote is
lost: a message goes out as "sending", then ends "sent", "failed" (with the error, kept for a
retry) or "queued" (no server configured: written as an .eml file in the data folder). A failed
message the admin gave up on becomes "discarded" and is never retried. A sent or discarded
message's stored body loses its secrets (a reset code, a licence key: services/mail_secrets.py),
and one whose reset code expired before it could go is discarded. The network conversation
happens outside any transaction, so a slow server never holds a database lock, and it must end
within the SMTP timeout as a whole, not per step. The SMTP password comes from the environment
only and is scrubbed from every error text.
"""

from __future__ import annotations

import base64
import os
import smtplib
import socket
import ssl
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from peewee import fn

from extgw_tui import settings
from extgw_tui.errors import ExtgwError, InvalidInput, NotFound
from extgw_tui.logs import log
from extgw_tui.models import ExternalUser, OutboxMessage, database, live_user, now, text_key
from extgw_tui.services import audit, mail_secrets, school_settings
from extgw_tui.services.mail_config import LOCAL_FROM, SmtpSettings, load_smtp_settings

SENDING, SENT, QUEUED, FAILED, DISCARDED = "sending", "sent", "queued", "failed", "discarded"
#: A licence key's message not sent yet (services/licence_keys.py sends it from its batch).
PENDING = "pending"
#: Every status, in the order the Outbox screen's filter offers them.
STATUSES = (QUEUED, PENDING, SENDING, SENT, FAILED, DISCARDED)
#: What the Outbox screen may discard: never sent and not a licence key's pending message.
DISCARDABLE = (FAILED, QUEUED)
MAX_SUBJECT = 250
MAX_BODY = 100_000
#: A message still "sending" after this long was interrupted (the app or the machine stopped).
STALE_SENDING = timedelta(hours=1)
_RETRY_PAGE = 200

Msg = OutboxMessage


@dataclass(frozen=True)
class OutboxResult:
    """What became of one message."""

    outbox_id: int
    to: str
    status: str
    error: str = ""
    eml_path: str = ""
    attempts: int = 1
    #: Another admin's retry (`outbox --retry`) delivered it before this one could.
    by_another: bool = False

    @property
    def ok(self) -> bool:
        return self.status in (SENT, QUEUED)

    def summary(self) -> str:
        if self.status == SENT and self.by_another:
            return f"Already sent to {self.to} by another retry."
        if self.status == SENT:
            return f"Sent to {self.to}."
        if self.status == QUEUED:
            return f"No mail server is configured; queued in the local outbox: {self.eml_path}"
        if self.status == DISCARDED:
            return f"Discarded; it will not be sent to {self.to}."
        return f"Not sent to {self.to}: {self.error}"


@dataclass
class RetrySummary:
    sent: int = 0
    queued: int = 0
    failed: int = 0
    untried: int = 0
    expired: int = 0  # discarded: the reset code they carried had expired
    failures: list[OutboxResult] = field(default_factory=list)

    def text(self) -> str:
        tried = self.sent + self.queued + self.failed + self.expired
        if not tried:
            return "Nothing to retry."
        parts = [f"Retried {tried:,}: {self.sent:,} sent"]
        if self.queued:
            parts.append(f"{self.queued:,} queued in the local outbox")
        parts.append(f"{self.failed:,} failed")
        if self.expired:
            parts.append(f"{self.expired:,} discarded (their reset code had expired)")
        text = ", ".join(parts) + "."
        if self.untried:
            text += f" {self.untried:,} not tried because the mail server could not be reached."
        return text


@dataclass(frozen=True)
class OutboxRow:
    id: int
    created_at: datetime
    admin: str
    to_addr: str
    subject: str
    status: str
    error: str
    attempts: int
    sent_at: datetime | None
    eml_path: str


class _Failure(Exception):
    """A delivery failure in one sentence; `fatal` when no other message could get through,
    `bounce` when the server refused the address for good (a 5xx reply to it)."""

    def __init__(self, message: str, *, fatal: bool, bounce: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal
        self.bounce = bounce


#: Replies to DATA that refuse the mailbox rather than the message (RFC 5321 4.2.2):
#: 550 unavailable, 551 not local, 553 name not allowed.
_MAILBOX_CODES = (550, 551, 553)


def bouncing():
    """The condition that a user's address bounces: the filter language's email:bouncing."""
    return ExternalUser.bounced_at.is_null(False)


def _mark_bounce(row: OutboxMessage, bounced: bool, when: datetime) -> None:
    """Mark the account's address bouncing, or clear the mark after a delivery went through;
    only while the account still has the address the message went to."""
    if row.user_id is None:
        return
    same = (ExternalUser.id == row.user_id) & (ExternalUser.email_key == text_key(row.to_addr))
    ExternalUser.update(bounced_at=when if bounced else None).where(same).execute()


def _has_control(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def validate(to: str, subject: str, body: str) -> tuple[str, str, str]:
    """The cleaned (to, subject, body), or InvalidInput with the first thing to fix."""
    subject = subject.strip()
    if not subject:
        raise InvalidInput("Enter a subject.")
    if "\r" in subject or "\n" in subject:
        raise InvalidInput("The subject must be one line: remove the line breaks.")
    if _has_control(subject):
        raise InvalidInput("The subject contains control characters; remove them.")
    if len(subject) > MAX_SUBJECT:
        raise InvalidInput(
            f"The subject is too long ({len(subject)} characters; at most {MAX_SUBJECT})."
        )
    if not body.strip():
        raise InvalidInput("Enter the message text.")
    if len(body) > MAX_BODY:
        raise InvalidInput(
            f"The message is too long ({len(body):,} characters; at most {MAX_BODY:,})."
        )
    if "\x00" in body:
        raise InvalidInput("The message contains a NUL character; remove it.")
    address = to.strip()
    if "\r" in address or "\n" in address or _has_control(address):
        raise InvalidInput("The recipient address must be one line without control characters.")
    if "," in address or ";" in address or address.count("@") > 1 or " " in address:
        raise InvalidInput("Exactly one recipient is allowed: the user's own address.")
    if "<" in address or ">" in address or '"' in address:
        raise InvalidInput("The recipient must be a bare address (no display name).")
    try:
        address = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"{address!r} is not a valid email address: {exc}") from exc
    return address, subject, body


def with_sender(cfg: SmtpSettings) -> SmtpSettings:
    """The settings with the school's sender when SMTP names none (smtp.from unset, so the
    local outbox): "School name <bounce address>" from the school's Settings (S)."""
    if cfg.from_addr != LOCAL_FROM:
        return cfg
    school = school_settings.load()
    if not school.bounce_address:
        return cfg
    header = formataddr((school.school_name, school.bounce_address))
    return replace(cfg, from_header=header, from_addr=school.bounce_address)


def build_message(cfg: SmtpSettings, row: OutboxMessage) -> EmailMessage:
    """The message as it goes out or into the local outbox. With no sender configured at all
    it carries no From line (the mail program that sends the .eml adds its own), never a
    made-up address."""
    cfg = with_sender(cfg)
    msg = EmailMessage()
    if cfg.from_addr != LOCAL_FROM:
        msg["From"] = cfg.from_header
    msg["To"] = row.to_addr
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(datetime.now().astimezone())
    msg["Message-ID"] = row.message_id
    if cfg.reply_to:
        msg["Reply-To"] = cfg.reply_to
    msg.set_content(row.body)
    return msg


def _scrub(text: str, cfg: SmtpSettings) -> str:
    """The text with the password (and its AUTH encodings) blanked out."""
    if not cfg.password:
        return text
    secrets = {
        cfg.password,
        base64.b64encode(cfg.password.encode()).decode(),
        base64.b64encode(f"\0{cfg.user}\0{cfg.password}".encode()).decode(),
    }
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _server_reply(exc: smtplib.SMTPResponseException) -> str:
    reply = exc.smtp_error
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{exc.smtp_code} {' '.join(text.split())}".strip()


def _describe(exc: BaseException, cfg: SmtpSettings) -> _Failure:
    server = cfg.server
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _Failure(
            f"The mail server {server} refused the login for {cfg.user} ({_server_reply(exc)}).",
            fatal=True,
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = "; ".join(f"{code} {msg!r}" for code, msg in exc.recipients.values())
        permanent = all(500 <= code < 600 for code, _ in exc.recipients.values())
        return _Failure(
            f"The mail server refused the recipient ({replies}).", fatal=False, bounce=permanent
        )
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _Failure(
            f"The mail server refused the sender {cfg.from_addr} ({_server_reply(exc)}).",
            fatal=True,
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        bounce = isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code in _MAILBOX_CODES
        return _Failure(
            f"The mail server refused the message ({_server_reply(exc)}).",
            fatal=False,
            bounce=bounce,
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return _Failure(
            f"The mail server {server} does not offer what the settings ask for ({exc}); "
            "check EXTGW_SMTP_SECURITY and EXTGW_SMTP_USER.",
            fatal=True,
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _Failure(
            f"The certificate of the mail server {server} cannot be trusted "
            f"({exc.verify_message}); set EXTGW_SMTP_CA_FILE if it is signed by your own CA.",
            fatal=True,
        )
    if isinstance(exc, ssl.SSLError):
        return _Failure(
            f"The secure connection to {server} failed ({exc.reason or exc}).", fatal=True
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(
        exc.__context__, TimeoutError
    ):
        exc = exc.__context__
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return _Failure(f"The mail server {server} closed the connection ({exc}).", fatal=True)
    if isinstance(exc, TimeoutError | socket.timeout):
        return _Failure(
            f"The mail server {server} did not answer within {cfg.timeout:g} seconds.", fatal=True
        )
    if isinstance(exc, ConnectionRefusedError):
        return _Failure(
            f"The mail server {server} cannot be reached (connection refused).", fatal=True
        )
    if isinstance(exc, socket.gaierror):
        return _Failure(f"The mail server name {cfg.host} cannot be resolved.", fatal=True)
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return _Failure(f"The mail server {server} cannot be reached ({detail}).", fatal=True)


class _Deadline:
    """Mixed into smtplib's clients: the whole conversation ends by `deadline` (monotonic).

    Before every command and every reply the socket's timeout shrinks to the time left, so a
    server that answers each step slowly cannot stretch a send to several times the timeout.
    """

    def __init__(self, *args: object, deadline: float, **kwargs: object) -> None:
        self.deadline = deadline
        super().__init__(*args, **kwargs)  # connects, within the deadline

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the time for the whole delivery is up")
        return left

    def _shrink(self) -> None:
        sock = getattr(self, "sock", None)
        if sock is not None:
            sock.settimeout(self._left())

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return super()._get_socket(host, port, self._left())  # type: ignore[misc]

    def send(self, s: str | bytes) -> None:
        self._shrink()
        super().send(s)  # type: ignore[misc]

    def getreply(self) -> tuple[int, bytes]:
        self._shrink()
        return super().getreply()  # type: ignore[misc]


class _SMTP(_Deadline, smtplib.SMTP):
    pass


class _SMTPS(_Deadline, smtplib.SMTP_SSL):
    pass


def _quit(client: smtplib.SMTP) -> None:
    """Say goodbye if the server still listens; the outcome of the delivery is already known."""
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        pass
    finally:
        client.close()


def _send_smtp(cfg: SmtpSettings, msg: EmailMessage, to: str) -> None:
    # The envelope sender: where bounces go, the school's bounce address when it has one.
    sender = school_settings.load().bounce_address or cfg.from_addr
    deadline = time.monotonic() + cfg.timeout
    try:
        context = ssl.create_default_context(cafile=cfg.ca_file or None)
        if cfg.security == "tls":
            client: smtplib.SMTP = _SMTPS(
                cfg.host, cfg.port, timeout=cfg.timeout, context=context, deadline=deadline
            )
        else:
            client = _SMTP(cfg.host, cfg.port, timeout=cfg.timeout, deadline=deadline)
        try:
            client.ehlo()
            if cfg.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if cfg.user:
                client.login(cfg.user, cfg.password)
            client.send_message(msg, from_addr=sender, to_addrs=[to])
        finally:
            _quit(client)
    except (OSError, smtplib.SMTPException) as exc:
        failure = _describe(exc, cfg)
        raise _Failure(
            _scrub(str(failure), cfg), fatal=failure.fatal, bounce=failure.bounce
        ) from None


def delivery_wait() -> float:
    """The longest one send may take, in seconds; 0 when messages go to the local outbox."""
    cfg = load_smtp_settings()
    return cfg.timeout if cfg.configured else 0.0


def outbox_dir() -> Path:
    return settings.data_dir() / "outbox"


def _write_eml(msg: EmailMessage, outbox_id: int) -> str:
    """Write the message atomically into the outbox folder; returns the file's path."""
    folder = outbox_dir()
    path = folder / f"{now():%Y%m%d-%H%M%S}-{outbox_id:07d}.eml"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(msg.as_bytes())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise _Failure(
            f"The local outbox folder {folder} cannot be written ({exc.strerror or exc}).",
            fatal=True,
        ) from None
    return str(path)


_LOCAL_DOMAIN = "@" + LOCAL_FROM.rpartition("@")[2] + ">"


def _new_message_id(cfg: SmtpSettings) -> str:
    return make_msgid(domain=cfg.from_addr.rpartition("@")[2])


def attempt_delivery(cfg: SmtpSettings, row: OutboxMessage) -> tuple[OutboxResult, bool]:
    """Deliver a claimed row (status "sending") and record the outcome with its audit entry.

    A message queued while no server was configured carries a Message-ID "@localhost"; once it
    goes through a real server it gets a new one in the sender's domain, kept in the row.
    Returns the result and whether the failure would stop every other message too.
    """
    expired = mail_secrets.expired_reason(row.body, row.created_at, now())
    if expired:
        return _discard_expired(row, expired), False
    status, error, eml_path = SENT, "", row.eml_path
    fatal = bounce = False
    if cfg.configured and row.message_id.endswith(_LOCAL_DOMAIN):
        row.message_id = _new_message_id(cfg)
    try:
        msg = build_message(cfg, row)
        if cfg.configured:
            _send_smtp(cfg, msg, row.to_addr)
        else:
            eml_path = _write_eml(msg, row.id)
            status = QUEUED
    except _Failure as failure:
        status, error, fatal, bounce = FAILED, str(failure), failure.fatal, failure.bounce
    when = now()
    with database.atomic():
        Msg.update(
            status=status,
            error=error,
            eml_path=eml_path,
            message_id=row.message_id,
            sent_at=when if status == SENT else None,
            body=mail_secrets.redact(row.body) if status == SENT else row.body,
        ).where(Msg.id == row.id).execute()
        notes = [row.subject]
        if row.attempts > 1:
            notes.append(f"attempt {row.attempts}")
        if status == QUEUED:
            notes.append(f"local outbox {eml_path}")
        if error:
            notes.append(error)
        if bounce or status == SENT:
            _mark_bounce(row, bounce, when)
        if bounce:
            notes.append("the address is marked as bouncing")
        audit.record(
            "email.send",
            user_id=row.user_id,
            target=row.to_addr,
            outcome=status,
            detail="; ".join(notes),
        )
    log.info("email %s to %s: %s %s", row.id, row.to_addr, status, error)
    return OutboxResult(row.id, row.to_addr, status, error, eml_path, row.attempts), fatal


def recipient(user_id: int) -> str:
    """The address a message to this user goes to: the one stored on the account."""
    row = (
        ExternalUser.select(ExternalUser.email)
        .where((ExternalUser.id == user_id) & live_user())
        .first()
    )
    if row is None:
        raise NotFound(
            f"User {user_id} no longer exists; another administrator may have deleted it."
        )
    return row.email


def send_to_user(user_id: int, subject: str, body: str) -> OutboxResult:
    """Send (or queue) one message to the user's stored address; a failure is in the result.

    Raises InvalidInput for something to fix in the text, NotFound for a deleted user and
    ExtgwError for wrong SMTP settings: in those cases nothing is recorded or sent.
    """
    cfg = with_sender(load_smtp_settings())
    to, subject, body = validate(recipient(user_id), subject, body)
    with database.atomic():
        row = Msg.create(
            admin=audit.current_admin(),
            user=user_id,
            to_addr=to,
            subject=subject,
            body=body,
            message_id=_new_message_id(cfg),
            status=SENDING,
            attempts=1,
        )
    return attempt_delivery(cfg, row)[0]


def _retry_condition(cfg: SmtpSettings):
    stale = (Msg.status == SENDING) & (Msg.created_at < now() - STALE_SENDING)
    condition = (Msg.status == FAILED) | stale
    if cfg.configured:
        condition |= Msg.status == QUEUED
    return condition


def claim(row: OutboxMessage, **changes: str) -> bool:
    """Take the row for this process; False if another admin's retry took it first."""
    with database.atomic():
        taken = (
            Msg.update(status=SENDING, attempts=Msg.attempts + 1, **changes)
            .where((Msg.id == row.id) & (Msg.status == row.status) & (Msg.attempts == row.attempts))
            .execute()
        )
    if taken:
        row.status, row.attempts = SENDING, row.attempts + 1
        for name, value in changes.items():
            setattr(row, name, value)
    return bool(taken)


def _outbox_row(outbox_id: int) -> OutboxMessage:
    row = Msg.get_or_none(Msg.id == outbox_id)
    if row is None:
        raise NotFound("That message is no longer in the outbox.")
    return row


def _settled_elsewhere(outbox_id: int) -> OutboxResult:
    """What another admin's retry made of the message, when it got there first.

    Sent or queued is reported as done; anything else (still sending) is an error to read.
    """
    row = _outbox_row(outbox_id)
    if row.status in (SENT, QUEUED):
        return OutboxResult(
            row.id, row.to_addr, row.status, "", row.eml_path, row.attempts, by_another=True
        )
    raise ExtgwError(
        f"That message is {row.status} now (another administrator may be retrying it); "
        "see `extgw-tui outbox` for how it ended."
    )


def retry_message(outbox_id: int, subject: str, body: str) -> OutboxResult:
    """Try a failed message again with the text as it is now (the Email modal's Retry).

    The same outbox row is reused, so a later `outbox --retry` cannot send it a second time;
    if such a retry already sent it, that outcome is returned and nothing is sent again.
    """
    cfg = load_smtp_settings()
    row = _outbox_row(outbox_id)
    if row.status != FAILED:
        return _settled_elsewhere(outbox_id)
    _, subject, body = validate(row.to_addr, subject, body)
    if not claim(row, subject=subject, body=body):
        return _settled_elsewhere(outbox_id)
    return attempt_delivery(cfg, row)[0]


def discard_messages(ids: Collection[int]) -> int:
    """Give up on these messages where they are failed or queued (the Outbox screen's discard):
    each becomes "discarded" with its audit entry; returns how many did. Others are left as
    they are (sent, pending licence-key mail, already discarded)."""
    done = 0
    for outbox_id in sorted(ids):
        with database.atomic():
            row = Msg.get_or_none(Msg.id == outbox_id)
            if row is None or row.status not in DISCARDABLE:
                continue
            taken = (
                Msg.update(status=DISCARDED, body=mail_secrets.redact(row.body))
                .where((Msg.id == outbox_id) & (Msg.status == row.status))
                .execute()
            )
            if taken:
                _audit_discard(row)
                done += 1
    return done


def _audit_discard(row: OutboxMessage, reason: str = "") -> None:
    audit.record(
        "email.discard",
        user_id=row.user_id,
        target=row.to_addr,
        outcome=DISCARDED,
        detail=f"{row.subject}; {reason or f'not sent after {row.attempts} attempt(s)'}",
    )


def _discard_expired(row: OutboxMessage, reason: str) -> OutboxResult:
    """Give up on a claimed message whose reset code expired: a dead link is never sent."""
    with database.atomic():
        Msg.update(status=DISCARDED, error=reason, body=mail_secrets.redact(row.body)).where(
            Msg.id == row.id
        ).execute()
        _audit_discard(row, reason)
    log.info("email %s to %s: discarded, %s", row.id, row.to_addr, reason)
    return OutboxResult(row.id, row.to_addr, DISCARDED, reason, "", row.attempts)


def discard_expired() -> int:
    """Discard every waiting message (failed, queued, interrupted) whose reset code has
    expired, so none keeps a code longer than the code lives; returns how many."""
    at = now()
    waiting = (Msg.status.in_([FAILED, QUEUED])) | (
        (Msg.status == SENDING) & (Msg.created_at < at - STALE_SENDING)
    )
    condition = (
        waiting
        & (Msg.created_at <= at - mail_secrets.RESET_VALID_FOR)
        & Msg.body.contains(mail_secrets.RESET_PREFIX)
    )
    done = last_id = 0
    while page := list(
        Msg.select().where(condition & (Msg.id > last_id)).order_by(Msg.id).limit(_RETRY_PAGE)
    ):
        for row in page:
            last_id = row.id
            if mail_secrets.expired_reason(row.body, row.created_at, at) and claim(row):
                _discard_expired(row, mail_secrets.EXPIRED)
                done += 1
    return done


def discard_message(outbox_id: int) -> OutboxResult:
    """Give up on a failed message: it becomes "discarded", which no retry ever sends.

    If another admin's retry sent it meanwhile, that outcome is returned instead.
    """
    with database.atomic():
        row = _outbox_row(outbox_id)
        taken = (
            Msg.update(status=DISCARDED, body=mail_secrets.redact(row.body))
            .where((Msg.id == outbox_id) & (Msg.status == FAILED))
            .execute()
        )
        if taken:
            _audit_discard(row)
    if not taken:
        return _settled_elsewhere(outbox_id)
    log.info("email %s to %s: discarded", row.id, row.to_addr)
    return OutboxResult(row.id, row.to_addr, DISCARDED, row.error, "", row.attempts)


def retry_failed(
    *,
    ids: Collection[int] | None = None,
    progress: Callable[[int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> RetrySummary:
    """Resend failed messages (and queued ones once a server is configured), oldest first.

    Stops at the first failure that would stop every message (server unreachable, login
    refused) and counts the rest as untried. With `ids`, only those of them that can be retried
    (the Outbox screen's marked rows).
    """
    cfg = load_smtp_settings()
    condition = _retry_condition(cfg)
    if ids is not None:
        condition &= Msg.id.in_(sorted(ids))
    summary = RetrySummary()
    last_id = 0
    while True:
        query = Msg.select().where(condition & (Msg.id > last_id)).order_by(Msg.id)
        page = list(query.limit(_RETRY_PAGE))
        if not page:
            return summary
        for row in page:
            last_id = row.id
            if should_cancel is not None and should_cancel():
                return summary
            if not claim(row):
                continue
            result, fatal = attempt_delivery(cfg, row)
            if result.status == SENT:
                summary.sent += 1
            elif result.status == QUEUED:
                summary.queued += 1
            elif result.status == DISCARDED:
                summary.expired += 1
            else:
                summary.failed += 1
                summary.failures.append(result)
            if progress is not None:
                progress(summary.sent + summary.queued + summary.failed + summary.expired)
            if fatal:
                summary.untried = Msg.select().where(condition & (Msg.id > last_id)).count()
                return summary


_LIST_FIELDS = (
    Msg.id,
    Msg.created_at,
    Msg.admin,
    Msg.to_addr,
    Msg.subject,
    Msg.status,
    Msg.error,
    Msg.attempts,
    Msg.sent_at,
    Msg.eml_path,
)


def iter_outbox(chunk: int = 500) -> Iterator[OutboxRow]:
    """Every message, newest first, read `chunk` rows at a time (keyset paging on id)."""
    last_id: int | None = None
    while True:
        query = Msg.select(*_LIST_FIELDS)
        if last_id is not None:
            query = query.where(Msg.id < last_id)
        rows = [OutboxRow(*v) for v in query.order_by(Msg.id.desc()).limit(chunk).tuples()]
        yield from rows
        if len(rows) < chunk:
            return
        last_id = rows[-1].id


def outbox_counts() -> dict[str, int]:
    """How many messages are in each status, counted in SQL."""
    rows = Msg.select(Msg.status, fn.COUNT(Msg.id)).group_by(Msg.status).tuples()
    return {status: count for status, count in rows}


def _of_status(query, status: str | None):
    return query if status is None else query.where(Msg.status == status)


def outbox_page(status: str | None, offset: int, limit: int) -> list[OutboxRow]:
    """One page of the outbox, newest first, of one status or all (the Outbox screen)."""
    query = _of_status(Msg.select(*_LIST_FIELDS), status)
    query = query.order_by(Msg.id.desc()).offset(offset).limit(limit)
    return [OutboxRow(*values) for values in query.tuples()]


def outbox_count(status: str | None) -> int:
    return _of_status(Msg.select(Msg.id), status).count()


def outbox_body(outbox_id: int) -> str:
    """The text of one message (the list leaves bodies out)."""
    return _outbox_row(outbox_id).body
