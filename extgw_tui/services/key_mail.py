"""Licence keys by email: the template, its preview, and sending a batch's messages.

A key emailed is written, at generation, into an outbox message with status "pending" (the
email is where the key exists, as the letter is for a letter key). send_batch() then claims
each pending or failed message of the batch and delivers it through services/mail, so a batch
can be sent, stopped and resumed without any key going twice to an address, and a failed
delivery is retried (here or by `outbox --retry`) with the same key. Once a message is sent or
discarded, the key in its stored copy is blanked out (services/mail.py, on every path, by the
rule in services/mail_secrets.py): the database keeps that it went, not the key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from peewee import fn

from extgw_tui.errors import InvalidInput, NotFound
from extgw_tui.logs import log
from extgw_tui.models import Contact, KeyBatch, LicenceKey, OutboxMessage, Pupil, database
from extgw_tui.services import mail, mail_secrets
from extgw_tui.services.key_codes import new_key
from extgw_tui.services.key_letters import expiry_text, register_url, school_name
from extgw_tui.services.licence_keys import (
    EMAIL,
    PENDING,
    IssuedKey,
    KeyScope,
    contacts_of,
    email_contacts,
    get_batch,
    pupil_queries,
)
from extgw_tui.services.mail_config import load_smtp_settings

PLACEHOLDERS = ("forename", "pupil", "key", "expiry", "school", "register_url")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_KEY_TEXT = mail_secrets.LICENCE_KEY
REDACTED = mail_secrets.KEY_REMOVED
_PAGE = 200

DEFAULT_SUBJECT = "Your licence key for {pupil}"
#: One line per paragraph: mail programs wrap them to the reader's window.
DEFAULT_BODY = "\n\n".join(
    [
        "Dear {forename},",
        "This is your licence key for {pupil}'s account on the {school} External Gateway:",
        "    {key}",
        "To use it, go to {register_url} and choose to register a pupil. If you already have "
        "an account, sign in and add the pupil with the same key. The key works once and can be "
        "used until {expiry}.",
        "Please keep this email private: anyone with the key can use it.",
        "{school}\n",
    ]
)


def last_template() -> tuple[str, str]:
    """The template of the latest emailed batch (edited in the app), else the default."""
    batch = (
        KeyBatch.select(KeyBatch.subject, KeyBatch.body)
        .where((KeyBatch.method == EMAIL) & (KeyBatch.body != ""))
        .order_by(KeyBatch.id.desc())
        .first()
    )
    return (batch.subject, batch.body) if batch else (DEFAULT_SUBJECT, DEFAULT_BODY)


def check_template(subject: str, body: str) -> None:
    """InvalidInput naming the first unknown placeholder, or a body without {key}."""
    for text in (subject, body):
        for name in _PLACEHOLDER.findall(text):
            if name not in PLACEHOLDERS:
                known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                raise InvalidInput(f"Unknown placeholder {{{name}}}; the template knows {known}.")
    if "{key}" in subject:
        raise InvalidInput("Keep {key} out of the subject: subjects show in lists and logs.")
    if "{key}" not in body:
        raise InvalidInput("The message must contain {key}, or the key would never arrive.")


def render(text: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def values_for(key: IssuedKey) -> dict[str, str]:
    contact = key.contact
    return {
        "forename": (contact.forename or contact.name) if contact else "Parent/Guardian",
        "pupil": f"{key.pupil_forename} {key.pupil_surname}",
        "key": key.key,
        "expiry": expiry_text(key) or "the school withdraws it",
        "school": school_name() or "school",
        "register_url": register_url() or "the school's portal",
    }


def composer(subject: str, body: str) -> Callable[[IssuedKey], tuple[str, str]]:
    """The function that writes one key's message from the template (checked first)."""
    check_template(subject, body)

    def compose(key: IssuedKey) -> tuple[str, str]:
        values = values_for(key)
        return render(subject, values), render(body, values)

    return compose


@dataclass(frozen=True)
class Preview:
    to: str
    subject: str
    body: str


def preview(scope: KeyScope, type_name: str, subject: str, body: str) -> Preview:
    """The message for the first real contact in scope, with a sample key (not stored)."""
    compose = composer(subject, body)
    reachable_contact = Contact.select(Contact.id).where(
        (Contact.pupil == Pupil.id)
        & (Contact.parental_responsibility == True)  # noqa: E712
        & Contact.email.is_null(False)
        & (Contact.email != "")
    )
    fields = [Pupil.id, Pupil.forename, Pupil.surname, Pupil.year_group, Pupil.form]
    for query in pupil_queries(scope, fields):
        row = query.where(fn.EXISTS(reachable_contact)).order_by(Pupil.id).tuples().first()
        if row is None:
            continue
        pupil_id, forename, surname, year, form = row
        contact = email_contacts(contacts_of([pupil_id]).get(pupil_id, []))[0]
        key = IssuedKey(
            new_key(), pupil_id, forename, surname, year, form or "", type_name, None, contact
        )
        subj, text = compose(key)
        return Preview(contact.email, subj, text)
    raise InvalidInput(
        "No pupil in this choice has a contact with parental responsibility and an email "
        "address; issue these keys by letter."
    )


@dataclass
class SendSummary:
    sent: int = 0
    queued: int = 0
    failed: int = 0
    untried: int = 0
    errors: list[str] = field(default_factory=list)

    def text(self) -> str:
        done = self.sent + self.queued + self.failed
        if not done and not self.untried:
            return "Nothing to send: every key email of this batch has gone."
        parts = [f"{self.sent:,} sent"]
        if self.queued:
            parts.append(f"{self.queued:,} queued in the local outbox")
        parts.append(f"{self.failed:,} failed")
        text = "Key emails: " + ", ".join(parts) + "."
        if self.untried:
            text += f" {self.untried:,} not tried: the mail server could not be reached."
        return text


def _waiting(batch_id: int):
    return (LicenceKey.batch == batch_id) & OutboxMessage.status.in_(
        [PENDING, mail.FAILED] + ([] if not load_smtp_settings().configured else [mail.QUEUED])
    )


def waiting_count(batch_id: int) -> int:
    """Messages of the batch still to send (pending, failed, queued once a server is set)."""
    return (
        LicenceKey.select(LicenceKey.id)
        .join(OutboxMessage, on=(LicenceKey.outbox == OutboxMessage.id))
        .where(_waiting(batch_id))
        .count()
    )


def _redact(outbox_id: int) -> None:
    row = OutboxMessage.get_or_none(OutboxMessage.id == outbox_id)
    if row is not None and row.status == mail.SENT:
        OutboxMessage.update(body=mail_secrets.redact(row.body)).where(
            OutboxMessage.id == outbox_id
        ).execute()


def redact_sent(batch_id: int) -> None:
    """Blank the key out of the batch's sent messages stored before mail.py did it on sending."""
    rows = (
        OutboxMessage.select(OutboxMessage.id, OutboxMessage.body)
        .join(LicenceKey, on=(LicenceKey.outbox == OutboxMessage.id))
        .where((LicenceKey.batch == batch_id) & (OutboxMessage.status == mail.SENT))
        .tuples()
    )
    for outbox_id, body in rows:
        if _KEY_TEXT.search(body):
            with database.atomic():
                _redact(outbox_id)


def send_batch(
    batch_id: int,
    *,
    progress: Callable[[int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> SendSummary:
    """Send the batch's waiting key emails, oldest first; stop at a failure that would stop all."""
    batch_for_email(batch_id)
    redact_sent(batch_id)
    cfg = load_smtp_settings()
    summary = SendSummary()
    condition = _waiting(batch_id)
    last = 0
    while True:
        page = list(
            OutboxMessage.select(OutboxMessage)
            .join(LicenceKey, on=(LicenceKey.outbox == OutboxMessage.id))
            .where(condition & (OutboxMessage.id > last))
            .order_by(OutboxMessage.id)
            .limit(_PAGE)
        )
        if not page:
            return summary
        for row in page:
            last = row.id
            if should_cancel is not None and should_cancel():
                return summary
            if not mail.claim(row):  # another admin's run took it: never twice
                continue
            result, fatal = mail.attempt_delivery(cfg, row)
            if result.status == mail.SENT:
                summary.sent += 1  # its stored copy lost the key as it went (services/mail.py)
            elif result.status == mail.QUEUED:
                summary.queued += 1
            else:
                summary.failed += 1
                summary.errors.append(f"{result.to}: {result.error}")
            if progress is not None:
                progress(summary.sent + summary.queued + summary.failed)
            if fatal:
                summary.untried = waiting_count(batch_id)
                log.info("key emails of batch %s stopped: %s", batch_id, result.error)
                return summary


def batch_for_email(batch_id: int) -> KeyBatch:
    batch = get_batch(batch_id)
    if batch.method != EMAIL:
        raise NotFound(f"Batch {batch_id} was issued by letter; it has no emails to send.")
    return batch
