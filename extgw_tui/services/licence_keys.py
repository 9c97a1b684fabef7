"""Licence keys on the school's side: choose pupils, generate a batch, revoke, count, list.

A generation is one KeyBatch. Its keys are written in short transactions, a chunk of pupils at
a time, so neither the portal nor another administrator waits behind 240,000 inserts; until the
batch turns "ready" in its final transaction (which also revokes the pupils' older outstanding
keys of the type and writes the audit) none of its keys can be redeemed. A cancel or failure
deletes what was written: nothing is half done. The keys themselves go only into the letters
file (services/key_letters) or the pending emails (services/key_mail) written as they are made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from peewee import JOIN, SQL, Case, fn

from extgw_tui.db import is_sqlite
from extgw_tui.errors import InvalidInput, NotFound
from extgw_tui.models import (
    GENERATING,
    READY,
    Contact,
    ExternalUser,
    KeyBatch,
    Licence,
    LicenceKey,
    LicenceType,
    OutboxMessage,
    Pupil,
    database,
    now,
)
from extgw_tui.services import audit, roll_stage
from extgw_tui.services.chunks import chunked
from extgw_tui.services.key_codes import new_keys_and_digests
from extgw_tui.services.licences import licence_type_id
from extgw_tui.services.mail_secrets import redact

#: Pupils per generation chunk (one short transaction each).
CHUNK = 900
MAX_PER_PUPIL = 10
MAX_EXPIRY_DAYS = 3650
#: A key still outstanding this long after issue puts its pupil on the follow-up list.
FOLLOW_UP_DAYS = 30
LETTER, EMAIL = "letter", "email"
OUTSTANDING, REDEEMED, REVOKED, EXPIRED = "outstanding", "redeemed", "revoked", "expired"
#: Outbox status of a key email written at generation and not sent yet (key_mail sends it).
PENDING = "pending"

Progress = Callable[[int], None]


@dataclass(frozen=True)
class KeyScope:
    """Which pupils on roll get keys: marked ones, a year, a form, those without a holder."""

    licence_type_id: int
    pupil_ids: tuple[int, ...] | None = None
    year: int | None = None
    form: str | None = None
    without_holder: bool = False

    def describe(self) -> str:
        parts = []
        if self.pupil_ids is not None:
            parts.append(f"{len(self.pupil_ids):,} marked pupil(s)")
        if self.year is not None:
            parts.append(f"year {self.year}")
        if self.form:
            parts.append(f"form {self.form}")
        if self.without_holder:
            parts.append("without a holder of the type")
        return ", ".join(parts) or "every pupil on roll"


def on_roll():
    return (Pupil.on_roll == True) & Pupil.left_on.is_null()  # noqa: E712


def _condition(scope: KeyScope):
    cond = on_roll()
    if scope.year is not None:
        cond &= Pupil.year_group == scope.year
    if scope.form:
        cond &= fn.LOWER(Pupil.form) == scope.form.strip().lower()
    if scope.without_holder:
        # live holders as "not one of the deleted ids": with deleted_at IS NULL in the join,
        # SQLite scans the deleted_at index (e-pupils measured 22 s a page at 100,000 users)
        deleted = ExternalUser.select(ExternalUser.id).where(ExternalUser.deleted_at.is_null(False))
        held = Licence.select(Licence.id).where(
            (Licence.pupil == Pupil.id)
            & (Licence.licence_type == scope.licence_type_id)
            & Licence.user.not_in(deleted)
        )
        cond &= ~fn.EXISTS(held)
    return cond


def pupil_queries(scope: KeyScope, fields: Sequence) -> Iterator:
    """The queries that together select the scope's pupils (marked ids come in chunks)."""
    if scope.pupil_ids is None:
        yield Pupil.select(*fields).where(_condition(scope))
        return
    for part in chunked(sorted(set(scope.pupil_ids))):
        yield Pupil.select(*fields).where(_condition(scope) & Pupil.id.in_(part))


def count_pupils(scope: KeyScope) -> int:
    """How many pupils a generation for this scope would give keys (the preview)."""
    _type_name(scope.licence_type_id)
    return sum(q.count() for q in pupil_queries(scope, [Pupil.id]))


def _ordered_ids(scope: KeyScope) -> list[int]:
    """The scope's pupil ids in letter order (form, surname, forename): ints only."""
    fields = [Pupil.id, Pupil.form, Pupil.surname_key, Pupil.forename]
    rows = [row for q in pupil_queries(scope, fields) for row in q.tuples()]
    rows.sort(key=lambda r: (r[1] or "", r[2], r[3], r[0]))
    return [r[0] for r in rows]


def _type_name(type_id: int) -> str:
    row = LicenceType.get_or_none(LicenceType.id == type_id)
    if row is None:
        raise InvalidInput("That licence type no longer exists.")
    return row.name


class ContactInfo(NamedTuple):
    """A contact with parental responsibility; a tuple, as a generation makes many."""

    id: int
    name: str
    forename: str
    email: str
    email_key: str
    address: str


class IssuedKey(NamedTuple):
    """One new key as it goes into a letter or an email; `key` is never stored."""

    key: str
    pupil_id: int
    pupil_forename: str
    pupil_surname: str
    year_group: int | None
    form: str
    licence_type: str
    expires_at: datetime | None
    contact: ContactInfo | None


def id_list(ids: Sequence[int]) -> SQL:
    """`(1, 2, ...)` for IN: one node for the lot, where a plain list (or a parameter per id)
    costs peewee a node and a conversion per id (a generation's IN lists hold 240,000 ids)."""
    return SQL("(" + ", ".join(map(str, map(int, ids))) + ")")  # int(): nothing but digits


def contacts_of(pupil_ids: Sequence[int]) -> dict[int, list[ContactInfo]]:
    """Each pupil's contacts with parental responsibility, in priority order."""
    if not pupil_ids:
        return {}
    query = (
        Contact.select(
            Contact.pupil,
            Contact.id,
            Contact.title,
            Contact.forename,
            Contact.surname,
            Contact.email,
            Contact.email_key,
            Contact.address,
        )
        .where(Contact.pupil.in_(id_list(pupil_ids)) & (Contact.parental_responsibility == True))  # noqa: E712
        .order_by(Contact.pupil, Contact.priority, Contact.id)
    )
    out: dict[int, list[ContactInfo]] = {}
    # the cursor's rows as they are: peewee's row wrappers cost more than the query here
    for pupil_id, cid, title, forename, surname, email, email_key, address in database.execute(
        query
    ).fetchall():
        name = " ".join(p for p in (title, forename, surname) if p)
        info = ContactInfo(cid, name, forename or "", email or "", email_key or "", address or "")
        out.setdefault(pupil_id, []).append(info)
    return out


def email_contacts(contacts: list[ContactInfo]) -> list[ContactInfo]:
    """The contacts a key can be emailed to: with an address, each address once."""
    seen: set[str] = set()
    out = []
    for contact in contacts:
        if contact.email and contact.email_key not in seen:
            seen.add(contact.email_key)
            out.append(contact)
    return out


@dataclass(frozen=True)
class Plan:
    """What a generation makes: the scope, keys per pupil, expiry, and how they go out."""

    scope: KeyScope
    per_pupil: int
    expires_days: int | None = None
    #: Email the keys to contacts with parental responsibility (the rest go to the letters).
    email: bool = False
    #: Whether a letters file takes the keys that are not emailed.
    letters: bool = True
    subject: str = ""
    body: str = ""

    def check(self) -> None:
        if not 1 <= self.per_pupil <= MAX_PER_PUPIL:
            raise InvalidInput(f"Keys per pupil must be between 1 and {MAX_PER_PUPIL}.")
        if self.expires_days is not None and not 1 <= self.expires_days <= MAX_EXPIRY_DAYS:
            raise InvalidInput(f"The expiry must be between 1 and {MAX_EXPIRY_DAYS} days.")
        if not self.email and not self.letters:
            raise InvalidInput("Choose a letters file, email, or both.")


@dataclass
class Generated:
    batch_id: int
    pupils: int = 0
    keys: int = 0
    emailed: int = 0
    lettered: int = 0
    revoked: int = 0
    #: Pupils left without a key because email was the only way and no contact had an address.
    unreachable: int = 0


class Generation:
    """One run of a Plan: yields the keys for letters while writing them, then finish()."""

    def __init__(self, plan: Plan, compose: Callable[[IssuedKey], tuple[str, str]] | None):
        plan.check()
        self.plan = plan
        self.compose = compose
        self.type_name = _type_name(plan.scope.licence_type_id)
        self.when = now()
        self.expires = self.when + timedelta(days=plan.expires_days) if plan.expires_days else None
        self.admin = audit.current_admin()
        with database.atomic():
            batch = KeyBatch.create(
                created_at=self.when,
                admin=self.admin,
                licence_type=plan.scope.licence_type_id,
                scope=plan.scope.describe()[:200],
                per_pupil=plan.per_pupil,
                method=EMAIL if plan.email else LETTER,
                state=GENERATING,
                expires_at=self.expires,
                subject=plan.subject,
                body=plan.body,
            )
        self.result = Generated(batch.id)

    def letters(self, should_cancel: Callable[[], bool] | None = None) -> Iterator[IssuedKey]:
        """Make the keys, chunk by chunk; yield those that go into the letters file."""
        for part in self.chunks(should_cancel):
            yield from part

    def chunks(self, should_cancel: Callable[[], bool] | None = None) -> Iterator[list[IssuedKey]]:
        """Make the keys a chunk of pupils at a time (one transaction each); yield each
        chunk's keys for the letters file. Stops early, quietly, once should_cancel() is true."""
        ids = _ordered_ids(self.plan.scope)
        for part in chunked(ids, CHUNK):
            if should_cancel is not None and should_cancel():
                return
            yield self._chunk(part)

    def _chunk(self, part: Sequence[int]) -> list[IssuedKey]:
        details = {
            row[0]: row
            for row in database.execute(
                Pupil.select(
                    Pupil.id, Pupil.forename, Pupil.surname, Pupil.year_group, Pupil.form
                ).where(Pupil.id.in_(id_list(part)) & on_roll())
            ).fetchall()
        }
        contacts = contacts_of(part)
        made_keys = iter(new_keys_and_digests(len(details) * self.plan.per_pupil))
        batch_id, type_id, type_name = (
            self.result.batch_id,
            self.plan.scope.licence_type_id,
            self.type_name,
        )
        issued_at = LicenceKey.issued_at.db_value(self.when)
        expires_at = LicenceKey.expires_at.db_value(self.expires)
        rows: list[list] = []
        for_letters: list[IssuedKey] = []
        mails: list[tuple[int, IssuedKey]] = []
        for pupil_id in part:
            if pupil_id not in details:  # left the roll or removed since the count
                continue
            _, forename, surname, year, form = details[pupil_id]
            mine = contacts.get(pupil_id, [])
            reachable = email_contacts(mine) if self.plan.email else []
            made = 0
            for index in range(self.plan.per_pupil):
                emailed = index < len(reachable)
                if not emailed and not self.plan.letters:
                    break
                contact = reachable[index] if emailed else _letter_contact(mine, reachable, index)
                text, digest = next(made_keys)
                key = IssuedKey(
                    text,
                    pupil_id,
                    forename,
                    surname,
                    year,
                    form or "",
                    type_name,
                    self.expires,
                    contact,
                )
                issued_to = (contact.email if emailed else contact.name) if contact else ""
                if emailed:
                    mails.append((len(rows), key))
                else:
                    for_letters.append(key)
                contact_id = contact.id if contact else None
                row = [batch_id, pupil_id, type_id, digest, issued_at, expires_at]
                rows.append(row + [issued_to[:254], contact_id, None, ""])
                made += 1
            if made:
                self.result.pupils += 1
            else:
                self.result.unreachable += 1
        with database.atomic():
            if not is_sqlite():
                # no wait for the disk at each chunk's commit: the batch is redeemable only
                # once finish() commits, durably (and with it every chunk before it)
                database.execute_sql("SET LOCAL synchronous_commit = off")
            for index, key in mails:
                rows[index][-2] = self._pending_mail(key)
            _insert_keys(rows)
        self.result.keys += len(rows)
        self.result.emailed += len(mails)
        self.result.lettered += len(for_letters)
        return for_letters

    def _pending_mail(self, key: IssuedKey) -> int:
        assert self.compose is not None and key.contact is not None
        subject, body = self.compose(key)
        return OutboxMessage.insert(
            admin=self.admin,
            to_addr=key.contact.email,
            subject=subject,
            body=body,
            status=PENDING,
            created_at=self.when,
        ).execute()

    def finish(self) -> Generated:
        """Make the batch redeemable, revoke the older outstanding keys it replaces, audit."""
        batch_id = self.result.batch_id
        with database.atomic():
            replaced = _outstanding() & (
                (LicenceKey.licence_type == self.plan.scope.licence_type_id)
                & (LicenceKey.batch != batch_id)
                & LicenceKey.pupil.in_(
                    LicenceKey.select(LicenceKey.pupil).where(LicenceKey.batch == batch_id)
                )
            )
            self.result.revoked = _revoke_where(replaced, self.admin)
            KeyBatch.update(state=READY, keys=self.result.keys).where(
                KeyBatch.id == batch_id
            ).execute()
            tag = audit.new_batch()
            audit.record(
                "key.generate",
                target=f"batch {batch_id}",
                detail=(
                    f"{self.result.keys:,} {self.type_name} key(s) for {self.result.pupils:,} "
                    f"pupil(s), {self.plan.scope.describe()}; {self.result.emailed:,} by email, "
                    f"{self.result.lettered:,} by letter"
                    + (f"; expire {self.expires:%Y-%m-%d}" if self.expires else "")
                ),
                batch=tag,
            )
            if self.result.revoked:
                audit.record(
                    "key.revoke",
                    target=f"batch {batch_id}",
                    detail=f"{self.result.revoked:,} older outstanding key(s) replaced",
                    batch=tag,
                )
        return self.result

    def abandon(self) -> None:
        """Delete everything this generation wrote (cancelled or failed)."""
        discard_batch(self.result.batch_id)


_KEY_FIELDS = (
    LicenceKey.batch,
    LicenceKey.pupil,
    LicenceKey.licence_type,
    LicenceKey.digest,
    LicenceKey.issued_at,
    LicenceKey.expires_at,
    LicenceKey.issued_to,
    LicenceKey.contact_id,
    LicenceKey.outbox,
    LicenceKey.revoked_by,
)


def _insert_keys(rows: list[list]) -> None:
    """COPY on PostgreSQL (against 500-row INSERTs: a quarter of this process's work and
    three quarters of the server's, whose share is mostly the rows' foreign keys and indexes).
    On SQLite multi-row INSERTs written here, as audit.record_many does: peewee's insert_many
    spent more time building its query objects than the database spent inserting."""
    db = LicenceKey._meta.database
    names = [f'"{f.column_name}"' for f in _KEY_FIELDS]
    if not is_sqlite(db):
        roll_stage.insert(f'"{LicenceKey._meta.table_name}"', names, rows)
        return
    columns = ", ".join(names)
    one = "(" + ", ".join([db.param] * len(_KEY_FIELDS)) + ")"
    for start in range(0, len(rows), 500):
        part = rows[start : start + 500]
        db.execute_sql(
            f'INSERT INTO "{LicenceKey._meta.table_name}" ({columns}) VALUES '
            + ", ".join([one] * len(part)),
            [value for row in part for value in row],
        )


def _letter_contact(
    contacts: list[ContactInfo], emailed: list[ContactInfo], index: int
) -> ContactInfo | None:
    """The contact a letter key is addressed to: the next one not already emailed a key."""
    rest = [c for c in contacts if c not in emailed] if emailed else contacts
    position = index - len(emailed)
    return rest[position] if 0 <= position < len(rest) else None


def discard_batch(batch_id: int) -> None:
    """Remove an unfinished batch: its keys, their unsent emails, the batch."""
    while True:
        with database.atomic():
            ids = [
                r[0]
                for r in LicenceKey.select(LicenceKey.id)
                .where(LicenceKey.batch == batch_id)
                .limit(5000)
                .tuples()
            ]
            if not ids:
                KeyBatch.delete().where(
                    (KeyBatch.id == batch_id) & (KeyBatch.state == GENERATING)
                ).execute()
                return
            outbox = LicenceKey.select(LicenceKey.outbox).where(
                LicenceKey.id.in_(ids) & LicenceKey.outbox.is_null(False)
            )
            OutboxMessage.delete().where(
                OutboxMessage.id.in_(outbox) & (OutboxMessage.status == PENDING)
            ).execute()
            LicenceKey.delete().where(LicenceKey.id.in_(ids)).execute()


def _outstanding():
    return LicenceKey.redeemed_at.is_null() & LicenceKey.revoked_at.is_null()


def _revoke_where(condition, admin: str) -> int:
    """Revoke the keys matching `condition`; their unsent emails are discarded. No audit."""
    when = now()
    pending = LicenceKey.select(LicenceKey.outbox).where(
        condition & LicenceKey.outbox.is_null(False)
    )
    unsent = OutboxMessage.id.in_(pending) & OutboxMessage.status.in_([PENDING, "failed", "queued"])
    # a discarded message keeps its text, never the key (mail_secrets: as once sent)
    ids = [row[0] for row in OutboxMessage.select(OutboxMessage.id).where(unsent).tuples()]
    for part in chunked(ids):
        rows = list(
            OutboxMessage.select(OutboxMessage.id, OutboxMessage.body).where(
                OutboxMessage.id.in_(id_list(part))
            )
        )
        for message in rows:
            message.body = redact(message.body)
        OutboxMessage.bulk_update(rows, fields=[OutboxMessage.body])
    OutboxMessage.update(status="discarded", error="licence key revoked").where(unsent).execute()
    return LicenceKey.update(revoked_at=when, revoked_by=admin[:100]).where(condition).execute()


def revoke(
    *,
    pupil_ids: Sequence[int] = (),
    batch_id: int | None = None,
    key_ids: Sequence[int] = (),
    licence_type_id: int | None = None,
    reason: str = "",
) -> int:
    """Revoke the outstanding keys of these pupils (optionally one type), a batch, or keys."""
    if not pupil_ids and batch_id is None and not key_ids:
        raise InvalidInput("Say which keys to revoke: pupils, keys or a batch.")
    admin = audit.current_admin()
    total = 0
    with database.atomic():
        if batch_id is not None:
            if not KeyBatch.select().where(KeyBatch.id == batch_id).exists():
                raise NotFound(f"There is no key batch {batch_id}.")
            cond = _outstanding() & (LicenceKey.batch == batch_id)
            total += _revoke_where(cond, admin)
            what = f"batch {batch_id}"
        for part in chunked(list(pupil_ids)):
            cond = _outstanding() & LicenceKey.pupil.in_(part)
            if licence_type_id is not None:
                cond &= LicenceKey.licence_type == licence_type_id
            total += _revoke_where(cond, admin)
        if pupil_ids:
            what = f"{len(pupil_ids):,} pupil(s)"
        for part in chunked(list(key_ids)):
            total += _revoke_where(_outstanding() & LicenceKey.id.in_(part), admin)
        if key_ids:
            what = f"{len(key_ids):,} key(s)"
        if total:
            audit.record(
                "key.revoke",
                target=what,
                detail=f"{total:,} outstanding key(s) revoked" + (f"; {reason}" if reason else ""),
            )
    return total


def pupil_ids_by_upn(upns: Sequence[str]) -> list[int]:
    wanted = [u.strip().upper() for u in upns if u.strip()]
    rows = Pupil.select(Pupil.id, Pupil.upn).where(Pupil.upn.in_(wanted)).tuples()
    found = {upn: pid for pid, upn in rows}
    missing = [u for u in wanted if u not in found]
    if missing:
        raise NotFound(f"No pupil has the UPN {missing[0]}.")
    return [found[u] for u in wanted]


def state_expression(at: datetime | None = None):
    """The state of a key in SQL: redeemed, revoked, expired or outstanding."""
    when = at or now()
    return Case(
        None,
        (
            (LicenceKey.redeemed_at.is_null(False), REDEEMED),
            (LicenceKey.revoked_at.is_null(False), REVOKED),
            (LicenceKey.expires_at <= when, EXPIRED),
        ),
        OUTSTANDING,
    )


@dataclass(frozen=True)
class FormTotals:
    form: str
    pupils: int
    keys: int
    redeemed: int
    outstanding: int
    revoked: int
    expired: int
    #: Outstanding keys issued more than FOLLOW_UP_DAYS ago: the follow-up list.
    overdue: int


def _count_if(condition):
    return fn.SUM(Case(None, ((condition, 1),), 0))


def form_totals(
    *, form: str | None = None, year: int | None = None, licence_type_id: int | None = None
) -> list[FormTotals]:
    """Per form, how the keys of ready batches stand, counted in SQL."""
    when = now()
    live = _outstanding() & (LicenceKey.expires_at.is_null() | (LicenceKey.expires_at > when))
    overdue = live & (LicenceKey.issued_at <= when - timedelta(days=FOLLOW_UP_DAYS))
    expired = _outstanding() & (LicenceKey.expires_at <= when)
    query = (
        LicenceKey.select(
            Pupil.form,
            fn.COUNT(fn.DISTINCT(LicenceKey.pupil)),
            fn.COUNT(LicenceKey.id),
            _count_if(LicenceKey.redeemed_at.is_null(False)),
            _count_if(live),
            _count_if(LicenceKey.revoked_at.is_null(False)),
            _count_if(expired),
            _count_if(overdue),
        )
        .join(Pupil)
        .switch(LicenceKey)
        .join(KeyBatch)
        .where(_listing_filter(form=form, year=year, licence_type_id=licence_type_id))
        .group_by(Pupil.form)
        .order_by(Pupil.form)
        .tuples()
    )
    return [FormTotals(f or "", *(int(v or 0) for v in rest)) for f, *rest in query]


def _listing_filter(
    *,
    form: str | None = None,
    year: int | None = None,
    licence_type_id: int | None = None,
    batch_id: int | None = None,
    state: str | None = None,
    pupil_id: int | None = None,
):
    cond = KeyBatch.state == READY
    if form:
        cond &= fn.LOWER(Pupil.form) == form.strip().lower()
    if year is not None:
        cond &= Pupil.year_group == year
    if licence_type_id is not None:
        cond &= LicenceKey.licence_type == licence_type_id
    if batch_id is not None:
        cond &= LicenceKey.batch == batch_id
    if pupil_id is not None:
        cond &= LicenceKey.pupil == pupil_id
    if state is not None:
        cond &= state_expression() == state
    return cond


@dataclass(frozen=True)
class KeyRow:
    """One key as the Licence keys screen lists it (never the key itself: it is not stored)."""

    id: int
    pupil_id: int
    pupil: str
    year_group: int | None
    form: str
    licence_type: str
    batch_id: int
    issued_at: datetime
    issued_by: str
    issued_to: str
    method: str
    state: str
    redeemed_at: datetime | None
    holder: str
    email_status: str


@dataclass(frozen=True)
class KeyFilter:
    form: str | None = None
    year: int | None = None
    licence_type_id: int | None = None
    batch_id: int | None = None
    state: str | None = None
    pupil_id: int | None = None

    def condition(self):
        return _listing_filter(**self.__dict__)

    def describe(self) -> str:
        parts = [
            f"form {self.form}" if self.form else "",
            f"year {self.year}" if self.year is not None else "",
            f"batch {self.batch_id}" if self.batch_id else "",
            self.state or "",
        ]
        return ", ".join(p for p in parts if p) or "every key"


STATES = (OUTSTANDING, REDEEMED, REVOKED, EXPIRED)


def parse_filter(text: str) -> KeyFilter:
    """The Licence keys screen's filter box: `form:7A year:7 batch:3 type:pupil outstanding`.

    A bare word is a state (outstanding, redeemed, revoked, expired) or a form ("7A").
    InvalidInput names the first term it cannot read.
    """
    values: dict = {}
    for term in text.split():
        name, sep, value = term.partition(":")
        name = name.lower()
        if not sep and name in STATES:
            values["state"] = name
        elif not sep:
            values["form"] = term
        elif name == "form" and value:
            values["form"] = value
        elif name in ("year", "batch") and value.isdigit():
            values["year" if name == "year" else "batch_id"] = int(value)
        elif name == "type" and value:
            values["licence_type_id"] = licence_type_id(value)
        elif name == "state" and value.lower() in STATES:
            values["state"] = value.lower()
        else:
            raise InvalidInput(
                f"{term!r} is not a filter: try form:7A, year:7, batch:3, type:pupil, "
                "or outstanding, redeemed, revoked, expired."
            )
    return KeyFilter(**values)


def _key_query(flt: KeyFilter, *fields):
    holder = ExternalUser.alias()
    return (
        LicenceKey.select(*fields)
        .join(Pupil)
        .switch(LicenceKey)
        .join(KeyBatch)
        .switch(LicenceKey)
        .join(LicenceType)
        .switch(LicenceKey)
        .join(holder, JOIN.LEFT_OUTER, on=(LicenceKey.redeemed_by == holder.id))
        .switch(LicenceKey)
        .join(OutboxMessage, JOIN.LEFT_OUTER, on=(LicenceKey.outbox == OutboxMessage.id))
        .where(flt.condition())
    ), holder


def count_keys(flt: KeyFilter) -> int:
    query = (LicenceKey.select(LicenceKey.id).join(Pupil).switch(LicenceKey).join(KeyBatch)).where(
        flt.condition()
    )
    return query.count()


def key_ids(flt: KeyFilter) -> list[int]:
    """Every key id the filter matches (`a` marks them all)."""
    query = (LicenceKey.select(LicenceKey.id).join(Pupil).switch(LicenceKey).join(KeyBatch)).where(
        flt.condition()
    )
    return [key_id for (key_id,) in query.tuples()]


def list_keys(flt: KeyFilter, offset: int, limit: int) -> list[KeyRow]:
    """One page of keys: newest batch first, each in letter order (form, surname)."""
    base, holder = _key_query(flt)
    fields = (
        LicenceKey.id,
        Pupil.id,
        Pupil.forename.concat(" ").concat(Pupil.surname),
        Pupil.year_group,
        Pupil.form,
        LicenceType.name,
        LicenceKey.batch,
        LicenceKey.issued_at,
        KeyBatch.admin,
        LicenceKey.issued_to,
        KeyBatch.method,
        state_expression(),
        LicenceKey.redeemed_at,
        fn.COALESCE(holder.email, ""),
        fn.COALESCE(OutboxMessage.status, ""),
    )
    query = (
        base.select(*fields)
        # newest batch first; within a batch ids follow the letters' order (form, surname), and
        # the (batch, id) index serves it without sorting 240,000 joined rows per page
        .order_by(LicenceKey.batch.desc(), LicenceKey.id)
        .offset(offset)
        .limit(limit)
        .tuples()
    )
    return [KeyRow(*row) for row in query]


def pupil_keys(pupil_id: int) -> list[KeyRow]:
    """Every key of one pupil (the pupil view): newest first."""
    return list_keys(KeyFilter(pupil_id=pupil_id), 0, 500)


@dataclass(frozen=True)
class Obtained:
    """How an account came by a licence: which key, when (None: given by the school)."""

    licence_id: int
    key_id: int
    batch_id: int
    redeemed_at: datetime


def obtained_by(user_id: int) -> dict[tuple[int, int], Obtained]:
    """(pupil id, licence type id) -> the key the user redeemed for it."""
    rows = (
        LicenceKey.select(
            LicenceKey.pupil,
            LicenceKey.licence_type,
            LicenceKey.licence,
            LicenceKey.id,
            LicenceKey.batch,
            LicenceKey.redeemed_at,
        )
        .where(LicenceKey.redeemed_by == user_id)
        .tuples()
    )
    return {(p, t): Obtained(lic or 0, k, b, at) for p, t, lic, k, b, at in rows}


def obtained_lines(user_id: int) -> list[str]:
    """For the Edit dialog: how each of the user's licences was obtained, one line each."""
    query = (
        Licence.select(
            Pupil.forename,
            Pupil.surname,
            LicenceType.name,
            Licence.created_at,
            LicenceKey.id,
            LicenceKey.batch,
            LicenceKey.redeemed_at,
        )  # fmt: skip
        .join(Pupil)
        .switch(Licence)
        .join(LicenceType)
        .switch(Licence)
        .join(LicenceKey, JOIN.LEFT_OUTER, on=(LicenceKey.licence == Licence.id))
        .where(Licence.user == user_id)
        .order_by(Pupil.surname_key, Pupil.forename, Pupil.id, LicenceType.id)
        .tuples()
    )
    lines = []
    for forename, surname, type_name, created, key_id, batch_id, redeemed in query:
        if key_id is not None:
            how = f"licence key {key_id} (batch {batch_id}), redeemed {redeemed:%Y-%m-%d %H:%M}"
        else:
            how = f"given by the school, {created:%Y-%m-%d}"
        lines.append(f"{forename} {surname} · {type_name}: {how}")
    return lines


@dataclass(frozen=True)
class BatchRow:
    id: int
    created_at: datetime
    admin: str
    licence_type: str
    scope: str
    keys: int
    method: str
    expires_at: datetime | None
    state: str


def batches(limit: int = 200) -> list[BatchRow]:
    rows = (
        KeyBatch.select(
            KeyBatch.id,
            KeyBatch.created_at,
            KeyBatch.admin,
            LicenceType.name,
            KeyBatch.scope,
            KeyBatch.keys,
            KeyBatch.method,
            KeyBatch.expires_at,
            KeyBatch.state,
        )
        .join(LicenceType)
        .order_by(KeyBatch.id.desc())
        .limit(limit)
        .tuples()
    )
    return [BatchRow(*r) for r in rows]


def get_batch(batch_id: int) -> KeyBatch:
    batch = KeyBatch.get_or_none(KeyBatch.id == batch_id)
    if batch is None or batch.state != READY:
        raise NotFound(f"There is no key batch {batch_id}.")
    return batch


def batch_state_counts(batch_id: int) -> dict[str, int]:
    rows = (
        LicenceKey.select(state_expression(), fn.COUNT(LicenceKey.id))
        .where(LicenceKey.batch == batch_id)
        .group_by(SQL("1"))
        .tuples()
    )
    return {state: count for state, count in rows}
