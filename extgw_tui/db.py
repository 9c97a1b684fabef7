"""Opening the database: URL parsing, SQLite pragmas, schema creation and versioning.

Every failure to open becomes a DatabaseProblem with one sentence the administrator can act on.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import peewee
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase
from playhouse.shortcuts import ReconnectMixin

from extgw_tui import email_index
from extgw_tui.errors import DatabaseProblem
from extgw_tui.logs import log
from extgw_tui.models import (
    ALL_MODELS,
    DEFAULT_LICENCE_TYPES,
    SCHEMA_VERSION,
    ExternalUser,
    LicenceType,
    Pupil,
    SchemaInfo,
    database,
    name_key,
)

#: Seconds a writer waits for another writer before giving up with a clear message.
BUSY_TIMEOUT = 15

#: Seconds one PostgreSQL statement may run before the server stops it: far beyond any query
#: of the app (the slowest, an export's, streams in pages), so only a runaway one is stopped
#: instead of holding its locks and a worker for ever.
STATEMENT_TIMEOUT = 300

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "cache_size": -4000,  # 4 MB per connection: each worker thread opens its own
    "temp_store": "memory",
}


def _rekey_names(
    db: peewee.Database, model: type[peewee.Model], name: peewee.Field, key: peewee.Field
) -> None:
    """Rewrite the name keys (models.name_key) that the current folding makes differently.

    Read and written a chunk of rows at a time, the changed keys in one statement per chunk
    (at 100,000 users and 120,000 pupils a new key column means every row).
    """
    table, column = model._meta.table_name, key.column_name
    last = 0
    while True:
        rows = list(
            model.select(model.id, name, key)
            .where(model.id > last)
            .order_by(model.id)
            .limit(5000)
            .tuples()
        )
        if not rows:
            break
        last = rows[-1][0]
        changed = [
            (name_key(value), row_id) for row_id, value, old in rows if name_key(value) != old
        ]
        if not changed:
            continue
        if is_sqlite(db):
            db.cursor().executemany(f'UPDATE "{table}" SET "{column}" = ? WHERE id = ?', changed)
        else:
            from psycopg2.extras import execute_values

            execute_values(
                db.cursor(),
                f'UPDATE "{table}" SET "{column}" = v.k FROM (VALUES %s) AS v(k, id) '
                f'WHERE "{table}".id = v.id',
                changed,
            )


def _surname_keys_without_accents(db: peewee.Database) -> None:
    """Schema 2: surname keys lose their accents, so "ozturk" finds Öztürk."""
    for model in (ExternalUser, Pupil):
        _rekey_names(db, model, model.surname, model.surname_key)


def add_missing_tables_and_columns(db: peewee.Database) -> None:
    """Bring the tables up to the models: new tables, new columns (with their defaults) and
    their indexes. Idempotent, so a later step may run it again after adding more.

    Every column added to an existing table must have a default or be nullable.
    """
    existing = set(db.get_tables())
    for model in ALL_MODELS:
        table = model._meta.table_name
        if table not in existing:
            model.create_table(safe=True)
            continue
        have = {column.name for column in db.get_columns(table)}
        for field in model._meta.sorted_fields:
            if field.column_name not in have:
                _add_column(db, table, field)
        model._schema.create_indexes(safe=True)


def _add_column(db: peewee.Database, table: str, field: peewee.Field) -> None:
    """ALTER TABLE ... ADD COLUMN with the model's constant default in the DDL, so the column is
    NOT NULL as on a new database (peewee's add_not_null would rebuild an SQLite table, and its
    DROP would cascade to the rows that reference it)."""
    default = field.default
    if field.null or not isinstance(default, str | bool | int | float):
        from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate  # rare

        migrator = SqliteMigrator(db) if is_sqlite(db) else PostgresqlMigrator(db)
        operations = [migrator.alter_add_column(table, field.column_name, field)]
        if default is not None:
            operations.append(migrator.apply_default(table, field.column_name, field))
        migrate(*operations)
        return
    if isinstance(default, bool):
        literal = str(int(default)) if is_sqlite(db) else str(default).upper()
    elif isinstance(default, str):
        literal = "'" + default.replace("'", "''") + "'"
    else:
        literal = repr(default)
    ctx = db.get_sql_context()
    column_sql, _ = ctx.sql(field.ddl(ctx)).query()
    if " DEFAULT " not in column_sql.upper():  # a field may declare its default in SQL itself
        column_sql += f" DEFAULT {literal}"
    db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN {column_sql}')


def _schema_3(db: peewee.Database) -> None:
    """Schema 3: soft delete, pupils' leaving dates, contacts, portal rate limits, and name keys
    that fold every alphabet and drop punctuation (Łukasiewicz, O'Brien), forenames included."""
    # the search index now covers forenames and deletion too (models.ExternalUser.Meta)
    db.execute_sql('DROP INDEX IF EXISTS "external_user_surname_key_forename_id_email_key"')
    add_missing_tables_and_columns(db)
    for name in REDUNDANT_INDEXES:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    for model in (ExternalUser, Pupil):
        _rekey_names(db, model, model.surname, model.surname_key)
        _rekey_names(db, model, model.forename, model.forename_key)


def _schema_4(db: peewee.Database) -> None:
    """Schema 4: each account's licence types on its row (ExternalUser.licence_mask), filled
    from its licences and kept by triggers from then on."""
    add_missing_tables_and_columns(db)
    if is_sqlite(db):
        held = _sqlite_mask_of("external_user.id")
        db.execute_sql(f"UPDATE external_user SET licence_mask = {held}")
    else:
        db.execute_sql(
            "UPDATE external_user AS u SET licence_mask = h.mask FROM (SELECT user_id, "
            f"{_PG_MASK} AS mask FROM licence GROUP BY user_id) AS h WHERE u.id = h.user_id"
        )
    create_licence_mask_triggers(db)


#: Single-column indexes that schema 2 had beside a pair starting with the same column (which
#: serves both): each only slowed the inserts (an allow/deny's 10,000 audit entries, logins).
REDUNDANT_INDEXES = (
    "audit_event_admin",
    "audit_event_action",
    "audit_event_user_id",
    "login_event_user_id",
    "licence_key_batch_id",
    "licence_key_pupil_id",
)


#: version -> function(db) that migrates from version-1 to version (playhouse.migrate inside
#: for changes of the tables themselves).
MIGRATIONS: dict[int, Callable[[peewee.Database], None]] = {
    2: _surname_keys_without_accents,
    3: _schema_3,
    4: _schema_4,
}


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parsed = urlparse(url)
    if parsed.password:
        netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
        return parsed._replace(netloc=netloc).geturl()
    return url


def database_name(url: str) -> str:
    """What the title calls the database: the SQLite file's name, or the PostgreSQL database's
    (the folder and the server are left out so the name fits an 80-column title)."""
    path = sqlite_path(url)
    if path is not None:
        return path.name
    name = urlparse(url).path.strip("/")
    return name or redact_url(url)


def sqlite_path(url: str) -> Path | None:
    """The file of a sqlite:/// URL (sqlite:////abs/path or sqlite:///relative/path).

    None for other backends and for in-memory databases.
    """
    if not url.startswith("sqlite:///"):
        return None
    rest = url[len("sqlite:///") :]
    return None if rest in ("", ":memory:") else Path(rest)


def _check_sqlite_file(path: Path) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise DatabaseProblem(f"The folder for the database, {folder}, does not exist.")
    if path.exists():
        if path.is_dir():
            raise DatabaseProblem(f"The database path {path} is a folder, not a file.")
        if not os.access(path, os.R_OK):
            raise DatabaseProblem(f"The database file {path} cannot be read (permission denied).")
        if not os.access(path, os.W_OK) or not os.access(folder, os.W_OK):
            raise DatabaseProblem(
                f"The database file {path} is read-only; "
                "extgw-tui needs to write to it and its folder."
            )
    elif not os.access(folder, os.W_OK):
        raise DatabaseProblem(f"A database cannot be created in {folder} (permission denied).")


class ReconnectingPostgresqlDatabase(ReconnectMixin, peewee.PostgresqlDatabase):
    """A server restarted or a connection dropped mid-session: the next statement outside a
    transaction connects again. Inside one it fails (the work is rolled back, nothing is left
    half-done, describe() says the server cannot be reached) and the next action reconnects."""

    reconnect_errors = (
        (peewee.OperationalError, "server closed the connection"),
        (peewee.OperationalError, "terminating connection"),
        (peewee.OperationalError, "could not receive data"),
        (peewee.OperationalError, "ssl syscall error"),
        (peewee.InterfaceError, "connection already closed"),
    )

    def execute_sql(self, sql, params=None):
        try:
            return super().execute_sql(sql, params)
        except peewee.InterfaceError as exc:  # not a DatabaseError: callers would miss it
            raise peewee.OperationalError(f"server closed the connection ({exc})") from exc

    def rollback(self):
        """A transaction on a connection the server dropped is already gone with it."""
        try:
            super().rollback()
        except (peewee.InterfaceError, peewee.OperationalError):
            if self.connection().closed == 0:
                raise


class PooledReconnectingPostgresqlDatabase(
    PooledPostgresqlDatabase, ReconnectingPostgresqlDatabase
):
    """Reconnecting, with connections kept between threads: the pool checks a connection with
    a round trip as it hands it out, so one the server dropped meanwhile (a restart) is
    replaced, never given to a query."""


#: Connections kept by a pooled database: as many as worker threads ever ran at once (no cap:
#: a cap would make a worker wait); each replaced after POOL's stale_timeout seconds, so a
#: PostgreSQL server process does not live as long as the app.
POOL = {"max_connections": None, "stale_timeout": 600}


def close_pool(db: peewee.Database | None = None) -> None:
    """Close the pooled connections no thread is using (the app's exit; SQLite then folds its
    write-ahead log back into the file as it does when the last connection closes)."""
    db = db or database.obj
    close_idle = getattr(db, "close_idle", None)
    if close_idle is not None:
        close_idle()


def make_database(url: str, *, pooled: bool = False) -> peewee.Database:
    """The database at `url`, not yet connected. pooled: connections are kept for the next
    thread (see open_database)."""
    path = sqlite_path(url)
    if url.startswith("sqlite:/"):
        if path is not None:
            _check_sqlite_file(path)
        options = {"pragmas": SQLITE_PRAGMAS, "timeout": BUSY_TIMEOUT, "lock_type": "IMMEDIATE"}
        name = str(path) if path else ":memory:"
        if pooled and path is not None:  # (each :memory: connection is a database of its own)
            # a pooled connection moves between threads, one at a time
            return PooledSqliteDatabase(name, **POOL, check_same_thread=False, **options)
        return peewee.SqliteDatabase(name, **options)
    if url.startswith(("postgres:", "postgresql:")):
        # imported here: db_url loads every playhouse backend (MySQL, CockroachDB, pools...)
        from playhouse.db_url import parse as parse_url

        try:
            # a write blocked by another session fails after BUSY_TIMEOUT, as on SQLite
            options = f"-c lock_timeout={BUSY_TIMEOUT * 1000} "
            options += f"-c statement_timeout={STATEMENT_TIMEOUT * 1000}"
            # JIT compiling costs more than it saves on queries of this size (coverage: 2.3 s
            # of 3.7 s at 100,000 users was compilation)
            options += " -c jit=off"
            if pooled:
                pool = PooledReconnectingPostgresqlDatabase
                return pool(**parse_url(url), options=options, **POOL)
            return ReconnectingPostgresqlDatabase(**parse_url(url), options=options)
        except Exception as exc:  # bad URL or missing driver
            raise DatabaseProblem(f"Cannot use the database {redact_url(url)}: {exc}.") from exc
    raise DatabaseProblem(
        f"Unsupported database URL {redact_url(url)}: use sqlite:///path or postgresql://..."
    )


def open_database(url: str, *, pooled: bool = False) -> peewee.Database:
    """Open (and if new, create) the database at `url`, bind the models to it and return it.

    pooled: for the app, whose every query runs in a new worker thread: a thread's connection
    goes back to a pool when its work ends and the next thread takes it, instead of each
    connecting anew (~10 ms on PostgreSQL, a server process with cold caches; on SQLite, an
    empty page cache). close_pool() closes them.
    """
    db = make_database(url, pooled=pooled)
    if database.obj is not None:  # another school's database: its idle connections go
        close_pool(database.obj)
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
        if not _up_to_date(db):
            with _one_opener_at_a_time(db):
                _ensure_schema(db)
                create_backend_indexes(db)  # a later grant of pg_trgm: on the next start
    except DatabaseProblem:
        db.close()
        raise
    except (peewee.DatabaseError, sqlite3.DatabaseError) as exc:
        db.close()
        raise DatabaseProblem(
            f"Cannot open the database {redact_url(url)}: {describe(exc)}"
        ) from exc
    return db


@contextlib.contextmanager
def _one_opener_at_a_time(db: peewee.Database) -> Iterator[None]:
    """PostgreSQL: processes opening the database at once (the portal's workers, an app and the
    CLI after an upgrade) take turns creating tables and indexes; two concurrent CREATE ... IF NOT
    EXISTS of one name can both miss it and one fails on a catalogue key. SQLite's write lock
    already serialises them."""
    if not isinstance(db, peewee.PostgresqlDatabase):
        yield
        return
    with db.atomic():
        db.execute_sql("SELECT pg_advisory_xact_lock(hashtext('extgw-tui schema'))")
        yield


def _up_to_date(db: peewee.Database) -> bool:
    """PostgreSQL: the schema is this release's and every backend index is there, read from the
    catalogue in two queries, so an open needs no lock and no DDL. CREATE INDEX IF NOT EXISTS
    takes its table's SHARE lock before it sees the index exists: on every start it would wait
    for (and hold up) another session writing users or pupils. SQLite: always False (its checks
    are cheap and its write lock already serialises openers)."""
    if not isinstance(db, peewee.PostgresqlDatabase):
        return False
    table = SchemaInfo._meta.table_name
    names = backend_index_names(postgres=True)
    have_table, indexes, access_index = db.execute_sql(
        "SELECT to_regclass(%s) IS NOT NULL, (SELECT count(*) FROM pg_indexes "
        "WHERE schemaname = current_schema() AND indexname = ANY(%s)), "
        "to_regclass(%s) IS NOT NULL",
        (f'"{table}"', names, ACCESS_INDEX),
    ).fetchone()
    if not have_table or indexes != len(names) or access_index:
        return False
    row = SchemaInfo.select(SchemaInfo.version).first()
    return row is not None and row.version == SCHEMA_VERSION


def _ensure_schema(db: peewee.Database) -> None:
    if not db.table_exists(SchemaInfo._meta.table_name):
        if db.get_tables():
            raise DatabaseProblem(
                "The database holds tables of another program and no extgw-tui schema; "
                "it is not an extgw-tui database. Give extgw-tui a new file or database."
            )
        with db.atomic():
            db.create_tables(ALL_MODELS, safe=True)
            create_licence_mask_triggers(db)  # an older database gains them in _schema_4
            SchemaInfo.create(version=SCHEMA_VERSION)
            for name in DEFAULT_LICENCE_TYPES:
                LicenceType.get_or_create(name=name)
        return
    row = SchemaInfo.select().first()
    version = row.version if row else 0
    if version > SCHEMA_VERSION:
        raise DatabaseProblem(
            f"This database was written by a newer release of extgw-tui (schema {version}; "
            f"this release knows {SCHEMA_VERSION}). Upgrade extgw-tui to open it."
        )
    if version < SCHEMA_VERSION:
        with db.atomic():
            for step in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[step](db)
            SchemaInfo.update(version=SCHEMA_VERSION).execute()


#: The Pupils screen's sort orders (services/pupils.SORTS), on_roll last so the roll filter is
#: read from the index: a page deep in a 120,000-pupil list walks the index, never sorts the
#: table. Not declared on the model: PostgreSQL needs NULLS FIRST (SQLite's default, which its
#: CREATE INDEX cannot spell) to serve the nullable columns in the order the screen shows.
PUPIL_SORT_INDEXES = {
    "pupil_name_order": "surname_key, forename_key, id, on_roll",
    "pupil_year_order": "year_group {nulls}, form, surname_key, forename_key, id, on_roll",
    "pupil_form_order": "form, surname_key, forename_key, id, on_roll",
    # the search's `form:7a` branch, so its OR with the name branches stays index-served
    "pupil_form_folded": "lower(form)",
}

#: Counts of the account search's parts read from an index alone (services/users): a forename
#: or address prefix, less the surname's matches and deleted accounts, at any size. And the
#: review's last activity (services/review.LAST_ACTIVITY): its candidates are one range of it,
#: counted and paged in order from the index alone (it holds the two columns the expression
#: reads, which PostgreSQL needs for an index-only scan), not a sort of every old account.
USER_SEARCH_INDEXES = {
    "external_user_forename_cover": "forename_key, surname_key, deleted_at",
    "external_user_email_cover": "email_key, forename_key, surname_key, deleted_at",
    "external_user_activity": "COALESCE(last_login_at, created_at), id, last_login_at, created_at",
}


#: PostgreSQL's text_pattern_ops indexes (LIKE 'prefix%' under a non-C collation): (table, column).
PATTERN_INDEXES = (
    ("external_user", "surname_key"),
    ("external_user", "forename_key"),
    ("external_user", "email_key"),
    ("pupil", "surname_key"),
    ("pupil", "forename_key"),
    ("pupil", "admission_number"),
    ("pupil", "upn"),
)
#: PostgreSQL's trigram index for "email contains" (needs the pg_trgm extension).
TRIGRAM_INDEX = "external_user_email_trigram"


def _pattern_index_name(table: str, column: str) -> str:
    return f"{table}_{column.removesuffix('_key')}_pattern"


def backend_index_names(*, postgres: bool) -> list[str]:
    """The names create_backend_indexes makes (on PostgreSQL, with pg_trgm allowed)."""
    names = list(PUPIL_SORT_INDEXES) + list(USER_SEARCH_INDEXES)
    if postgres:
        names += [_pattern_index_name(t, c) for t, c in PATTERN_INDEXES] + [
            TRIGRAM_INDEX,
            email_index.TRIGRAM,
        ]
    return names


#: The model's index on external_user.access_allowed, which PostgreSQL does without.
ACCESS_INDEX = "external_user_access_allowed"


def _update_access_in_place(db: peewee.Database) -> None:
    """PostgreSQL: with no index on access_allowed and a tenth of each page of external_user
    kept free, allowing or denying rewrites a row in place on its page (a "HOT" update) rather
    than adding an entry to each of the table's dozen indexes: 10,000 accounts change in well
    under a second. The one reader of that index, the denied total (users.totals), scans."""
    db.execute_sql(f"DROP INDEX IF EXISTS {ACCESS_INDEX}")
    db.execute_sql("ALTER TABLE external_user SET (fillfactor = 90)")


def create_backend_indexes(db: peewee.Database) -> None:
    """The indexes a peewee model cannot declare, made on every open (IF NOT EXISTS is cheap,
    and a database made before them gains them): the pupil sort orders and the account
    search's covering indexes on both backends; on
    PostgreSQL also pattern-ops indexes for LIKE 'prefix%' under a non-C collation, and a
    trigram index for the "email contains" search (LIKE '%term%'), which no B-tree serves, with
    the narrow table that counts its matches (email_index); on SQLite the same search's FTS5
    trigram index (_create_email_trigram).

    pg_trgm ships with PostgreSQL, but creating an extension needs the database's owner (or a
    superuser): where the role may not, searches still work, scanning the table, and the log
    says what to ask for.
    """
    postgres = isinstance(db, peewee.PostgresqlDatabase)
    for name, columns in PUPIL_SORT_INDEXES.items():
        columns = columns.format(nulls="NULLS FIRST" if postgres else "")
        db.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON pupil ({columns})")
    for name, columns in USER_SEARCH_INDEXES.items():
        db.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON external_user ({columns})")
    if not postgres:
        _create_email_trigram(db)
        return
    _update_access_in_place(db)
    for table, column in PATTERN_INDEXES:
        name = _pattern_index_name(table, column)
        db.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column} text_pattern_ops)")
    try:
        with db.atomic():  # a savepoint: a refusal must not spoil the migration around it
            db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except peewee.DatabaseError as exc:
        log.warning(
            "Could not create the PostgreSQL extension pg_trgm (%s): email searches will scan "
            "the accounts table. Ask the database owner to run CREATE EXTENSION pg_trgm in "
            "this database; extgw-tui adds its index on the next start.",
            describe(exc),
        )
        return
    db.execute_sql(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} "
        "ON external_user USING gin (email_key gin_trgm_ops)"
    )
    email_index.create(db)


#: SQLite's index for "email contains": an FTS5 table of trigrams of external_user.email_key
#: (external content: it stores no copy of the addresses), kept by triggers.
EMAIL_TRIGRAM = "external_user_email_trigram"

_EMAIL_TRIGRAM_SQL = (
    f"CREATE VIRTUAL TABLE {EMAIL_TRIGRAM} USING fts5(email_key, content='external_user', "
    "content_rowid='id', tokenize='trigram', detail='full')",
    f"CREATE TRIGGER {EMAIL_TRIGRAM}_insert AFTER INSERT ON external_user BEGIN "
    f"INSERT INTO {EMAIL_TRIGRAM}(rowid, email_key) VALUES (new.id, new.email_key); END",
    f"CREATE TRIGGER {EMAIL_TRIGRAM}_delete AFTER DELETE ON external_user BEGIN "
    f"INSERT INTO {EMAIL_TRIGRAM}({EMAIL_TRIGRAM}, rowid, email_key) "
    "VALUES ('delete', old.id, old.email_key); END",
    f"CREATE TRIGGER {EMAIL_TRIGRAM}_update AFTER UPDATE OF email_key ON external_user BEGIN "
    f"INSERT INTO {EMAIL_TRIGRAM}({EMAIL_TRIGRAM}, rowid, email_key) "
    "VALUES ('delete', old.id, old.email_key); "
    f"INSERT INTO {EMAIL_TRIGRAM}(rowid, email_key) VALUES (new.id, new.email_key); END",
    f"INSERT INTO {EMAIL_TRIGRAM}({EMAIL_TRIGRAM}) VALUES ('rebuild')",
)


def _create_email_trigram(db: peewee.Database) -> None:
    """Create (once) and fill SQLite's email trigram index. A build of SQLite without FTS5's
    trigram tokenizer (before 3.34) keeps searching by scanning, and the log says so."""
    if has_email_trigram(db):
        return
    try:
        with db.atomic():
            for statement in _EMAIL_TRIGRAM_SQL:
                db.execute_sql(statement)
    except peewee.OperationalError as exc:
        log.warning(
            "This SQLite (%s) cannot make an FTS5 trigram index (%s): email searches will scan "
            "the accounts table.",
            sqlite3.sqlite_version,
            describe(exc),
        )
    db.__dict__.pop("has_email_trigram", None)


def has_email_trigram(db: peewee.Database | None = None) -> bool:
    """Whether the SQLite database has the email trigram index (remembered per connection
    object: it is made once and never dropped)."""
    db = db or database.obj
    if "has_email_trigram" not in db.__dict__:
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        found = db.execute_sql(query, (EMAIL_TRIGRAM,)).fetchone() is not None
        db.__dict__["has_email_trigram"] = found
    return db.__dict__["has_email_trigram"]


def byte_ordered(db: peewee.Database | None = None) -> bool:
    """Whether text compares byte by byte (SQLite's binary collation; PostgreSQL's "C" and
    "C.UTF-8"), so a range `key <= x < next(key)` is exactly "x starts with key" (remembered
    per connection object: a database's collation never changes)."""
    db = db or database.obj
    if "byte_ordered" not in db.__dict__:
        collation = "C"
        if isinstance(db, peewee.PostgresqlDatabase):
            query = "SELECT datcollate FROM pg_database WHERE datname = current_database()"
            collation = db.execute_sql(query).fetchone()[0]
        db.__dict__["byte_ordered"] = collation in ("C", "POSIX") or collation.lower() in (
            "c.utf-8",
            "c.utf8",
        )
    return db.__dict__["byte_ordered"]


def is_sqlite(db: peewee.Database | None = None) -> bool:
    return isinstance(db or database.obj, peewee.SqliteDatabase)


def describe(exc: BaseException) -> str:
    """One sentence for a database error, without connection strings or SQL."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    low = text.lower()
    if any(word in low for word in ("locked", "busy", "lock timeout", "deadlock detected")):
        return (
            "Another administrator is writing to the database and it stayed busy for "
            f"{BUSY_TIMEOUT} second{'s' if BUSY_TIMEOUT != 1 else ''}; nothing was changed, "
            "try again."
        )
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return "The database file is damaged or is not an extgw-tui database."
    missing = ("no such table", "no such column", "relation", "column")
    if any(word in low for word in missing) and ("no such" in low or "does not exist" in low):
        return "The database is not an extgw-tui database, or another program changed its tables."
    if "readonly" in low or "read-only" in low:
        return "The database is read-only; nothing was changed."
    if "unable to open" in low:
        return "The database file cannot be opened."
    if 'database "' in low and "does not exist" in low:
        return "The database named in the URL does not exist on the server; create it first."
    if "password authentication failed" in low:
        return "The database server refused the user name or password in the URL."
    if "could not connect" in low or "connection refused" in low or "connection" in low:
        return "The database server cannot be reached."
    return text.rstrip(".") + "."


# ----- each account's licence types (ExternalUser.licence_mask), kept by triggers -----------


def _sqlite_mask_of(user: str) -> str:
    """The licence types `user` (an SQL expression) holds, as licence_bit()s OR-ed: distinct
    powers of two summed (SQLite has no bitwise OR aggregate)."""
    return (
        "(SELECT coalesce(sum(DISTINCT 1 << licence_type_id), 0) FROM licence "
        f"WHERE user_id = {user})"
    )


_PG_MASK = "bit_or(1::bigint << licence_type_id)"

#: SQLite: a row trigger per change (cheap in-process). Every writer of licence is covered:
#: the services, undo, imports, and the cascades from a deleted pupil or account.
_SQLITE_MASK_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS licence_mask_insert AFTER INSERT ON licence BEGIN "
    "UPDATE external_user SET licence_mask = licence_mask | (1 << new.licence_type_id) "
    "WHERE id = new.user_id; END",
    "CREATE TRIGGER IF NOT EXISTS licence_mask_delete AFTER DELETE ON licence BEGIN "
    f"UPDATE external_user SET licence_mask = {_sqlite_mask_of('old.user_id')} "
    "WHERE id = old.user_id; END",
    "CREATE TRIGGER IF NOT EXISTS licence_mask_update "
    "AFTER UPDATE OF user_id, licence_type_id ON licence BEGIN "
    f"UPDATE external_user SET licence_mask = {_sqlite_mask_of('old.user_id')} "
    "WHERE id = old.user_id; "
    f"UPDATE external_user SET licence_mask = {_sqlite_mask_of('new.user_id')} "
    "WHERE id = new.user_id; END",
)

#: PostgreSQL: one trigger per statement over the rows it changed (transition tables), so a
#: bulk change updates each account once, set-based. `added` and `removed` are those rows.
_PG_MASK_FUNCTION = f"""
CREATE OR REPLACE FUNCTION licence_mask_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE external_user AS u SET licence_mask = u.licence_mask | n.mask
        FROM (SELECT user_id, {_PG_MASK} AS mask FROM added GROUP BY user_id) AS n
        WHERE u.id = n.user_id AND u.licence_mask | n.mask <> u.licence_mask;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE external_user AS u SET licence_mask = coalesce(
            (SELECT {_PG_MASK} FROM licence AS l WHERE l.user_id = u.id), 0)
        WHERE u.id IN (SELECT user_id FROM removed);
    ELSE
        UPDATE external_user AS u SET licence_mask = coalesce(
            (SELECT {_PG_MASK} FROM licence AS l WHERE l.user_id = u.id), 0)
        WHERE u.id IN (SELECT user_id FROM removed UNION SELECT user_id FROM added);
    END IF;
    RETURN NULL;
END $$
"""

_PG_MASK_TRIGGERS = {
    "licence_mask_insert": "AFTER INSERT ON licence REFERENCING NEW TABLE AS added",
    "licence_mask_delete": "AFTER DELETE ON licence REFERENCING OLD TABLE AS removed",
    "licence_mask_update": (
        "AFTER UPDATE ON licence REFERENCING OLD TABLE AS removed NEW TABLE AS added"
    ),
}


def create_licence_mask_triggers(db: peewee.Database) -> None:
    """The triggers that keep ExternalUser.licence_mask equal to the account's licences
    (made on opening a new or older database, and by a copy once its rows are in)."""
    if is_sqlite(db):
        for statement in _SQLITE_MASK_TRIGGERS:
            db.execute_sql(statement)
        return
    with db.atomic():
        db.execute_sql(_PG_MASK_FUNCTION)
        for name, when in _PG_MASK_TRIGGERS.items():  # (CREATE OR REPLACE TRIGGER: PG 14+)
            db.execute_sql(f"DROP TRIGGER IF EXISTS {name} ON licence")
            db.execute_sql(
                f"CREATE TRIGGER {name} {when} "
                "FOR EACH STATEMENT EXECUTE FUNCTION licence_mask_kept()"
            )


@contextlib.contextmanager
def licence_mask_triggers_paused(db: peewee.Database) -> Iterator[None]:
    """For a bulk load that writes each account's licence_mask itself (the demo generators, a
    copy): the triggers are off while it runs, inside the caller's transaction."""
    if is_sqlite(db):
        for name in _PG_MASK_TRIGGERS:  # the same three names on both backends
            db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
        yield
        create_licence_mask_triggers(db)
        return
    db.execute_sql("ALTER TABLE licence DISABLE TRIGGER USER")
    yield
    db.execute_sql("ALTER TABLE licence ENABLE TRIGGER USER")
