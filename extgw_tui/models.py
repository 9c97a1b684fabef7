"""The data model: external users, pupils, licences, logins, outbox and audit.

Every model binds to `database`, a proxy that db.open_database() points at SQLite or PostgreSQL.
Searchable text is stored twice: as typed, and as a normalised key that the indexes and
case-insensitive search use, so both backends behave the same: NFKC + casefold for email
addresses (text_key), and folded to plain letters for names (name_key).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from anyascii import anyascii
from peewee import (
    SQL,
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    NodeList,
    SqliteDatabase,
    TextField,
)

database = DatabaseProxy()

#: The schema this release writes and understands. Bump it and add a step to db.MIGRATIONS
#: whenever a model changes.
SCHEMA_VERSION = 4

PARENT_GUARDIAN = "Parent/Guardian"
PUPIL = "Pupil"
DEFAULT_LICENCE_TYPES = (PARENT_GUARDIAN, PUPIL)

#: LoginEvent.licence_mask is a 63-bit set of licence type ids, so a type's id must stay below this.
MAX_LICENCE_TYPE_ID = 62


def text_key(value: str) -> str:
    """The form used for matching and sorting: NFKC-normalised and casefolded."""
    return unicodedata.normalize("NFKC", value or "").casefold()


#: What name_key drops after folding (anyascii turns curly apostrophes and dashes into these).
NAME_JOINERS = frozenset("'`-")


def name_key(value: str) -> str:
    """The form names are matched and sorted by: folded, without apostrophes, hyphens, spaces.

    Administrators type names on UK keyboards, often from a phone call, so "ozturk" must find
    Öztürk, "lukasiewicz" Łukasiewicz and "thorsdottir" Þórsdóttir (anyascii folds letters that
    Unicode decomposition leaves alone: Ł Ø Đ Æ ß Þ ...), and "obrien" or "walker patel" must find
    O'Brien and Walker-Patel, so apostrophes, hyphens and spaces are dropped. Email addresses keep
    their accents (text_key): two addresses differing by one are two accounts.
    """
    folded = anyascii(unicodedata.normalize("NFKC", value or "")).casefold()
    return "".join(ch for ch in folded if ch not in NAME_JOINERS and not ch.isspace())


def now() -> datetime:
    """Naive local time, second precision: what the school sees on its clock."""
    return datetime.now().replace(microsecond=0)


class NeverReusedId(AutoField):
    """An id never handed out twice, even after the newest row is deleted.

    SQLite gives a new row the largest rowid + 1 unless the key is AUTOINCREMENT, so deleting
    the newest account would let the next sign-up inherit its id, its audit trail and any
    admin's pending action on it. PostgreSQL sequences never go back, so only SQLite needs it.
    """

    def ddl(self, ctx):
        node = super().ddl(ctx)
        bound = self.model._meta.database
        if isinstance(getattr(bound, "obj", bound), SqliteDatabase):
            return NodeList((node, SQL("AUTOINCREMENT")))
        return node


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class SchemaInfo(BaseModel):
    """One row holding the schema version of this database."""

    version = IntegerField()


class ExternalUser(BaseModel):
    """A portal account: a parent, guardian, pupil or other licence holder."""

    id = NeverReusedId()
    title = CharField(max_length=20, default="")
    forename = CharField(max_length=100, default="")
    forename_key = CharField(max_length=100, default="", index=True)
    surname = CharField(max_length=100)
    surname_key = CharField(max_length=100)
    email = CharField(max_length=254)
    email_key = CharField(max_length=254, unique=True)
    #: When a delivery to this address last failed for good (SMTP 5xx); cleared by the next
    #: successful send. services/mail.bouncing() is the condition.
    bounced_at = DateTimeField(null=True)
    password_hash = CharField(max_length=255)
    created_at = DateTimeField(default=now, index=True)
    adr = BooleanField(default=True)
    # SQLite's denied count reads only this index; PostgreSQL drops it (db._update_access_in_place)
    access_allowed = BooleanField(default=True, index=True)
    last_login_at = DateTimeField(null=True, index=True)
    #: Soft delete: set when the account is deleted, restorable until the retention period
    #: ends and it is purged. Every query for accounts ANDs live_user() in.
    deleted_at = DateTimeField(null=True)  # indexed where set: see below the class
    #: The licence types held now, a bit each (licence_bit), kept by triggers on licence
    #: (db.create_licence_mask_triggers): the statistics count a type's holders from this
    #: row alone rather than joining two million licences. DEFAULT 0 in the table too: a row
    #: inserted in SQL alone starts with no types, and its licences' triggers add them.
    licence_mask = BigIntegerField(default=0, constraints=[SQL("DEFAULT 0")])

    class Meta:
        # Search pages in surname order and tests surname, forename and email (and that the
        # account is not deleted) on this index alone, so no table row is read until one
        # matches.
        indexes = (
            (("surname_key", "forename", "id", "email_key", "forename_key", "deleted_at"), False),
        )

    def save(self, *args, **kwargs):
        self.surname_key = name_key(self.surname)
        self.forename_key = name_key(self.forename)
        self.email_key = text_key(self.email)
        return super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.title, self.forename, self.surname) if p)


# Only the few deleted accounts: an index of every row's NULL would tempt SQLite's planner to
# walk all of them for "deleted_at IS NULL".
ExternalUser.add_index(
    ExternalUser.index(ExternalUser.deleted_at, where=ExternalUser.deleted_at.is_null(False))
)


def live_user():
    """The condition that an account is not (soft-)deleted: AND it into every account query."""
    return ExternalUser.deleted_at.is_null()


class Pupil(BaseModel):
    id = NeverReusedId()
    forename = CharField(max_length=100)
    forename_key = CharField(max_length=100, default="", index=True)
    surname = CharField(max_length=100)
    surname_key = CharField(max_length=100, index=True)
    year_group = IntegerField(null=True, index=True)
    form = CharField(max_length=20, default="", index=True)
    admission_number = CharField(max_length=20, null=True, index=True)
    upn = CharField(max_length=13, null=True, index=True)
    on_roll = BooleanField(default=True)
    #: The day the pupil left the roll (on_roll false); pupils are never deleted by an import.
    left_on = DateField(null=True)

    def save(self, *args, **kwargs):
        self.surname_key = name_key(self.surname)
        self.forename_key = name_key(self.forename)
        return super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.forename} {self.surname}"


class LicenceType(BaseModel):
    id = AutoField()
    name = CharField(max_length=60, unique=True)

    @property
    def bit(self) -> int:
        return licence_bit(self.id)


def licence_bit(licence_type_id: int) -> int:
    return 1 << licence_type_id


class Licence(BaseModel):
    """A user holds a licence of a type for a pupil."""

    id = AutoField()
    user = ForeignKeyField(ExternalUser, backref="licences", on_delete="CASCADE")
    pupil = ForeignKeyField(Pupil, backref="licences", on_delete="CASCADE")
    licence_type = ForeignKeyField(LicenceType, backref="licences", on_delete="RESTRICT")
    created_at = DateTimeField(default=now)

    class Meta:
        indexes = (
            (("user", "pupil", "licence_type"), True),
            (("pupil", "licence_type"), False),
            (("licence_type", "user"), False),
        )


class LoginEvent(BaseModel):
    """A successful portal login; survives its account's deletion for the statistics."""

    id = AutoField()
    at = DateTimeField(index=True)
    # indexed with `at` (Meta): an index of its own would only cost every login's insert
    user = ForeignKeyField(
        ExternalUser, null=True, backref="logins", on_delete="SET NULL", index=False
    )
    #: The licence types the account held at login, as a bit set of licence type ids.
    licence_mask = BigIntegerField(default=0)

    class Meta:
        indexes = ((("user", "at"), False),)


class OutboxMessage(BaseModel):
    """Every email an admin sends, with what became of it."""

    id = AutoField()
    created_at = DateTimeField(default=now, index=True)
    admin = CharField(max_length=100)
    user = ForeignKeyField(ExternalUser, null=True, on_delete="SET NULL")
    to_addr = CharField(max_length=254)
    subject = CharField(max_length=998)
    body = TextField()
    message_id = CharField(max_length=255, default="")
    status = CharField(max_length=10, index=True)  # sending | sent | queued | failed | discarded
    error = TextField(default="")
    attempts = IntegerField(default=0)
    sent_at = DateTimeField(null=True)
    eml_path = CharField(max_length=1024, default="")


class AuditEvent(BaseModel):
    """One admin action on one target (or on none), for the activity log."""

    id = AutoField()
    at = DateTimeField(default=now, index=True)
    admin = CharField(max_length=100)  # indexed with `at` (Meta), as are action and user_id
    action = CharField(max_length=40)
    user_id = IntegerField(null=True)  # no foreign key: the entry outlives the account
    target = CharField(max_length=300, default="")
    outcome = CharField(max_length=20, default="ok")
    detail = TextField(default="")
    batch = CharField(max_length=32, default="", index=True)
    #: True on a batch's second and later entries: the activity log lists a batch as one row
    #: (its first entry) and shows these when the batch is opened. NULL on every other entry.
    batch_tail = BooleanField(null=True)
    #: issue 17: the [schools.<key>] the administrator had open; NULL with one school only.
    school = CharField(max_length=60, null=True)

    class Meta:
        # The activity log pages newest first within one admin, action or user; one row per
        # batch pages on the last index.
        indexes = (
            (("admin", "at"), False),
            (("action", "at"), False),
            (("user_id", "at"), False),
            (("batch_tail", "at", "id"), False),
        )


class LoginDay(BaseModel):
    """Logins per day and licence-type mask: the login charts read this, not 2M events.

    Kept up to date by portal.record_login; services/login_summary.rebuild_login_summary()
    recomputes it from LoginEvent after bulk loads.
    """

    id = AutoField()
    day = DateField()
    licence_mask = BigIntegerField()
    logins = IntegerField()

    class Meta:
        indexes = ((("day", "licence_mask"), True),)


class LoginUserPeriod(BaseModel):
    """That an account logged in during a month, ISO week or school year, with which mask.

    user_id has no foreign key: like AuditEvent.user_id (a number, nothing personal) it
    outlives the account, so a deleted account still counts among the period's users.
    """

    id = AutoField()
    kind = CharField(max_length=1)  # m: month, w: ISO week, y: school year (1 September)
    start = DateField()
    user_id = IntegerField()
    licence_mask = BigIntegerField()

    class Meta:
        indexes = ((("kind", "start", "user_id", "licence_mask"), True),)


class LoginPeriodUsers(BaseModel):
    """How many distinct accounts logged in during a period: all (licence_type 0) or per type."""

    id = AutoField()
    kind = CharField(max_length=1)
    start = DateField()
    licence_type = IntegerField()  # a LicenceType id, or 0 for every account
    users = IntegerField()

    class Meta:
        indexes = ((("kind", "licence_type", "start"), True),)


# ----- issue 14: the school's roll --------------------------------------------------------------


class Contact(BaseModel):
    """A pupil's parental contact as the MIS exports it; licence keys are sent to these."""

    id = AutoField()
    pupil = ForeignKeyField(Pupil, backref="contacts", on_delete="CASCADE")
    priority = IntegerField(default=1)  # the MIS's contact order, 1 first
    title = CharField(max_length=20, default="")
    forename = CharField(max_length=100, default="")
    surname = CharField(max_length=100, default="")
    relationship = CharField(max_length=60, default="")
    email = CharField(max_length=254, null=True)
    email_key = CharField(max_length=254, null=True, index=True)
    parental_responsibility = BooleanField(default=False)
    address = TextField(default="")

    class Meta:
        indexes = ((("pupil", "priority"), False),)

    def save(self, *args, **kwargs):
        self.email_key = text_key(self.email) if self.email else None
        return super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.title, self.forename, self.surname) if p)


# ----- issues 15 and 16: the portal's rate limits -------------------------------------------------


class Attempt(BaseModel):
    """A failed portal attempt (login, licence key, reset) by one scope, for rate limits.

    In the database rather than in memory, so every worker process of the portal sees it.
    """

    id = AutoField()
    kind = CharField(max_length=20)
    scope = CharField(max_length=128)
    at = DateTimeField(index=True)

    class Meta:
        indexes = ((("kind", "scope", "at"), False),)


# --- issue 15: licence keys --------------------------------------------------------------------

GENERATING, READY = "generating", "ready"


class KeyBatch(BaseModel):
    """One generation of licence keys: for whom, of which type, how issued, until when."""

    id = AutoField()
    created_at = DateTimeField(default=now, index=True)
    admin = CharField(max_length=100)
    licence_type = ForeignKeyField(LicenceType, on_delete="RESTRICT")
    scope = CharField(max_length=200, default="")  # e.g. "form 7A", "every pupil on roll"
    per_pupil = IntegerField(default=1)
    keys = IntegerField(default=0)
    method = CharField(max_length=10, default="letter")  # letter | email
    #: generating (its keys cannot be redeemed yet) | ready; a cancelled one is deleted.
    state = CharField(max_length=10, default="generating")
    expires_at = DateTimeField(null=True)
    #: The email template (with its placeholders) the batch's messages were written from.
    subject = CharField(max_length=250, default="")
    body = TextField(default="")


class LicenceKey(BaseModel):
    """A key that lets one holder take one licence type for one pupil, redeemable once.

    Only `digest` (services/key_codes.key_digest) is stored: the key itself exists only in the
    letter file or email it was issued in. State: redeemed_at, revoked_at, expires_at.
    """

    id = AutoField()
    # both indexed first in a pair (Meta), which serves them alone too
    batch = ForeignKeyField(KeyBatch, backref="licence_keys", on_delete="CASCADE", index=False)
    pupil = ForeignKeyField(Pupil, on_delete="CASCADE", index=False)
    licence_type = ForeignKeyField(LicenceType, on_delete="RESTRICT")
    digest = CharField(max_length=64, unique=True)
    issued_at = DateTimeField(default=now)
    expires_at = DateTimeField(null=True)
    #: The contact it was meant for (name, or the address it was emailed to) and its id.
    issued_to = CharField(max_length=254, default="")
    contact_id = IntegerField(null=True)  # no foreign key: a re-import may replace contacts
    outbox = ForeignKeyField(OutboxMessage, null=True, on_delete="SET NULL")
    redeemed_at = DateTimeField(null=True)
    redeemed_by = ForeignKeyField(ExternalUser, null=True, on_delete="SET NULL")
    licence = ForeignKeyField(Licence, null=True, on_delete="SET NULL")
    revoked_at = DateTimeField(null=True)
    revoked_by = CharField(max_length=100, default="")

    class Meta:
        indexes = (
            (("pupil", "licence_type"), False),
            (("batch", "id"), False),
            (("redeemed_by",), False),
            (("licence",), False),
        )


# ----- issue 13: saved views ---------------------------------------------------------------------


class SavedView(BaseModel):
    """A search an administrator named, to recall it later: each administrator has their own."""

    id = AutoField()
    admin = CharField(max_length=100)
    name = CharField(max_length=60)
    search = TextField()
    saved_at = DateTimeField(default=now)

    class Meta:
        indexes = ((("admin", "name"), True),)


# ----- issue 16: the portal's door: sessions, password resets, the school's settings --------------


class PortalSession(BaseModel):
    """A signed-in portal client: only the SHA-256 of its token is kept, never the token."""

    id = AutoField()
    token_hash = CharField(max_length=64, unique=True)
    user = ForeignKeyField(ExternalUser, backref="portal_sessions", on_delete="CASCADE")
    created_at = DateTimeField(default=now)
    last_seen_at = DateTimeField(default=now)
    expires_at = DateTimeField(index=True)
    revoked_at = DateTimeField(null=True)


class PasswordReset(BaseModel):
    """A one-time password reset token sent by email: its SHA-256, expiry and use."""

    id = AutoField()
    token_hash = CharField(max_length=64, unique=True)
    user = ForeignKeyField(ExternalUser, backref="password_resets", on_delete="CASCADE")
    created_at = DateTimeField(default=now)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)


class Setting(BaseModel):
    """One of the school's settings ("Edit settings"), as text; services/school_settings.py."""

    key = CharField(max_length=60, primary_key=True)
    value = TextField(default="")


# ----- issue 13: undo and soft delete ---------------------------------------------------------


class Batch(BaseModel):
    """A change that can be undone, as one unit: a bulk allow or deny, a removed pupil, a
    deletion, or the undo of one of those. Its entries are the AuditEvents with this batch id.

    undone_by is claimed in the undoing transaction (only while still empty), so a batch is
    undone once even when two administrators press Undo together.
    """

    id = CharField(max_length=32, primary_key=True)
    at = DateTimeField(default=now)
    admin = CharField(max_length=100)
    action = CharField(max_length=40)
    #: The batch this one undid; an undo cannot itself be undone.
    undoes = CharField(max_length=32, default="")
    undone_by = CharField(max_length=32, default="")


class BatchLicence(BaseModel):
    """A licence a batch took away (a removed pupil, a deleted account): what undo gives back.

    Plain ids, no foreign keys: the row must outlive the licence it describes. Purging an
    account removes its rows.
    """

    id = AutoField()
    batch = CharField(max_length=32)
    user_id = IntegerField()
    pupil_id = IntegerField()
    licence_type_id = IntegerField()
    created_at = DateTimeField()

    class Meta:
        indexes = ((("batch", "user_id"), False), (("user_id",), False))


ALL_MODELS = [
    SchemaInfo,
    ExternalUser,
    Pupil,
    LicenceType,
    Licence,
    LoginEvent,
    OutboxMessage,
    AuditEvent,
    LoginDay,
    LoginUserPeriod,
    LoginPeriodUsers,
    Contact,
    Attempt,
    KeyBatch,
    LicenceKey,
    SavedView,
    PortalSession,
    PasswordReset,
    Setting,
    Batch,
    BatchLicence,
]
