"""PostgreSQL: a narrow copy of each account's search keys, for counting "email contains".

The trigram index on external_user.email_key finds the addresses containing a term, but each
candidate is then read from external_user's wide rows to check the LIKE and the other parts
of a search. At a million accounts a surname that is also in addresses ("smith") has tens of
thousands of candidates, nearly all the surname part's own, and a provider ("gmail") hundreds
of thousands: reading them was most of the search. This table holds only (id, email_key,
surname_key, forename_key), a quarter of the bytes, with its own trigram index, so the
address part is counted, and the surname's and forenames' matches left out, without reading
external_user (SQLite counts from its FTS5 trigram table the same way). It is filled in
surname order, as most address fragments that match many ("smith") are a surname's, so their
rows share pages (at a million accounts a third to a half of the time). A trigger keeps it;
db.create_backend_indexes makes it where pg_trgm can be had, and a database made before it
gains it on its next open.
"""

from __future__ import annotations

import peewee

from extgw_tui.models import database

NAME = "external_user_email"
#: Its trigram index.
TRIGRAM = "external_user_email_trgm"
_SYNC = "external_user_email_sync"

#: The table, for queries: EMAILS.email_key, EMAILS.surname_key, ...
EMAILS = peewee.Table(NAME, ("id", "email_key", "surname_key", "forename_key"))

_KEYS = "id, email_key, surname_key, forename_key"
_TRIGRAM_COLUMN = "USING gin (email_key gin_trgm_ops)"

_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {_SYNC}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {NAME} ({_KEYS})
        VALUES (NEW.id, NEW.email_key, NEW.surname_key, NEW.forename_key);
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM {NAME} WHERE id = OLD.id;
    ELSE
        UPDATE {NAME} SET id = NEW.id, email_key = NEW.email_key,
            surname_key = NEW.surname_key, forename_key = NEW.forename_key
        WHERE id = OLD.id;
    END IF;
    RETURN NULL;
END $$"""

_TRUNCATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {_SYNC}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE {NAME};
    RETURN NULL;
END $$"""

_CREATE = (
    f"CREATE TABLE {NAME} (id integer PRIMARY KEY, email_key varchar(254) NOT NULL, "
    "surname_key varchar(100) NOT NULL, forename_key varchar(100) NOT NULL)",
    # in surname order: a fragment of a surname ("smith", "ewis") finds its rows on a few
    # pages, not one page for each (new accounts are added at the end)
    f"INSERT INTO {NAME} ({_KEYS}) SELECT {_KEYS} FROM external_user "
    "ORDER BY surname_key, forename_key, id",
    f"CREATE INDEX {TRIGRAM} ON {NAME} {_TRIGRAM_COLUMN}",
    _FUNCTION,
    _TRUNCATE_FUNCTION,
    # allowing and denying (access_allowed) and logins (last_login_at) do not fire it
    f"CREATE TRIGGER {_SYNC} AFTER INSERT OR DELETE "
    "OR UPDATE OF id, email_key, surname_key, forename_key ON external_user "
    f"FOR EACH ROW EXECUTE FUNCTION {_SYNC}()",
    f"CREATE TRIGGER {_SYNC}_truncate AFTER TRUNCATE ON external_user "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {_SYNC}_truncate()",
    f"ANALYZE {NAME}",
)


def exists(db: peewee.Database | None = None) -> bool:
    """Whether the database has the table (remembered per connection object, as
    db.has_email_trigram is; create() and drop() forget it)."""
    db = db or database.obj
    if not isinstance(db, peewee.PostgresqlDatabase):
        return False
    if "has_email_table" not in db.__dict__:
        found = db.execute_sql("SELECT to_regclass(%s) IS NOT NULL", (NAME,)).fetchone()[0]
        db.__dict__["has_email_table"] = bool(found)
    return db.__dict__["has_email_table"]


def create(db: peewee.Database) -> None:
    """Make and fill the table, its trigram index and its triggers, once (pg_trgm must be
    there). In one transaction (a savepoint inside a caller's)."""
    db.__dict__.pop("has_email_table", None)
    if exists(db):  # the index alone may be missing (dropped by hand): the start checks it
        db.execute_sql(f"CREATE INDEX IF NOT EXISTS {TRIGRAM} ON {NAME} {_TRIGRAM_COLUMN}")
        return
    with db.atomic():
        for statement in _CREATE:
            db.execute_sql(statement)
    db.__dict__.pop("has_email_table", None)


def drop(db: peewee.Database) -> bool:
    """Remove the table, its triggers and their functions: before a bulk load of
    external_user (demo_copy), so no row fires the trigger, and create() then makes it from
    the loaded rows (a fill and one index build, not a million trigger calls and index
    insertions); or with the other tables of a demo that failed. Whether it was there."""
    had = exists(db)
    if had:
        db.execute_sql(f"DROP TRIGGER IF EXISTS {_SYNC} ON external_user")
        db.execute_sql(f"DROP TRIGGER IF EXISTS {_SYNC}_truncate ON external_user")
        db.execute_sql(f"DROP TABLE {NAME}")
        db.execute_sql(f"DROP FUNCTION IF EXISTS {_SYNC}(), {_SYNC}_truncate()")
        db.__dict__.pop("has_email_table", None)
    return had
