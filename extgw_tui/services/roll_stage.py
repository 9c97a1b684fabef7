"""The roll file in the database: two temporary tables, and set-based SQL against the pupils.

A roll of 120,000 pupils and 200,000 contacts is compared with the database in a few
statements rather than 320,000 look-ups: the checked rows are bulk-inserted into temporary
tables of this connection (never seen by another session, gone when it closes, so a killed
import leaves nothing), matched to pupils by UPN then admission number, counted, and applied
with INSERT ... SELECT and UPDATE ... FROM. The same SQL runs on SQLite (3.39 or newer, for
IS DISTINCT FROM and UPDATE ... FROM) and PostgreSQL.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from extgw_tui.db import is_sqlite
from extgw_tui.models import Contact, Pupil, database

#: Rows per bulk INSERT into the temporary tables.
CHUNK = 5000

STAGE_PUPIL = "roll_stage_pupil"
STAGE_CONTACT = "roll_stage_contact"

PUPIL_COLUMNS = (
    "row_no",
    "upn",
    "adno",
    "forename",
    "surname",
    "surname_key",
    "forename_key",
    "year_group",
    "form",
    "rejected",
)
#: Contact fields compared and copied, in CONTACT_COLUMNS' names (the same in Contact).
CONTACT_FIELDS = (
    "title",
    "forename",
    "surname",
    "relationship",
    "email",
    "email_key",
    "parental_responsibility",
    "address",
)
CONTACT_COLUMNS = ("row_no", "pupil_row", "priority", *CONTACT_FIELDS)


def create() -> None:
    """Empty temporary tables for one import on this connection.

    PostgreSQL plans the comparisons without nested loops until drop(): every one joins whole
    tables, and an anti-join's estimate of one row (the contacts whose priority the file no
    longer has) once made it scan the 119,000 staged pupils once per such contact (75 s)."""
    drop()
    if not is_sqlite():
        database.execute_sql("SET enable_nestloop = off")
    database.execute_sql(
        f"CREATE TEMPORARY TABLE {STAGE_PUPIL} (row_no INTEGER PRIMARY KEY, upn TEXT, "
        "adno TEXT, forename TEXT NOT NULL, surname TEXT NOT NULL, surname_key TEXT NOT NULL, "
        "forename_key TEXT NOT NULL, year_group INTEGER, form TEXT NOT NULL, "
        "rejected INTEGER NOT NULL, pupil_id INTEGER, matched_by TEXT)"
        # room on each page, so PostgreSQL's matching updates stay on it (no index updates)
        + ("" if is_sqlite() else " WITH (fillfactor = 50)")
    )
    database.execute_sql(
        f"CREATE TEMPORARY TABLE {STAGE_CONTACT} (row_no INTEGER NOT NULL, "
        "pupil_row INTEGER NOT NULL, priority INTEGER NOT NULL, title TEXT NOT NULL, "
        "forename TEXT NOT NULL, surname TEXT NOT NULL, relationship TEXT NOT NULL, "
        "email TEXT, email_key TEXT, parental_responsibility BOOLEAN NOT NULL, "
        "address TEXT NOT NULL)"
    )


def index() -> None:
    """Indexes once the rows are in (faster than keeping them up to date row by row)."""
    for sql in (
        f"CREATE INDEX roll_stage_upn ON {STAGE_PUPIL} (upn)",
        f"CREATE INDEX roll_stage_adno ON {STAGE_PUPIL} (adno)",
        f"CREATE INDEX roll_stage_contact_pupil ON {STAGE_CONTACT} (pupil_row, priority)",
    ):
        database.execute_sql(sql)
    if not is_sqlite():  # autovacuum never analyses temporary tables
        database.execute_sql(f"ANALYZE {STAGE_CONTACT}")


def drop() -> None:
    for table in (STAGE_CONTACT, STAGE_PUPIL):
        database.execute_sql(f"DROP TABLE IF EXISTS {table}")
    if not is_sqlite():
        database.execute_sql("RESET enable_nestloop")


def insert(table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Bulk insert: executemany on SQLite, COPY on PostgreSQL."""
    if not rows:
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    if is_sqlite():
        database.connection().executemany(sql + f"({', '.join('?' * len(columns))})", rows)
        return
    # COPY: several times faster than INSERT. In its CSV an unquoted empty field is NULL and
    # a quoted one an empty string.
    buffer = io.StringIO("".join(",".join(map(_copy_field, row)) + "\n" for row in rows))
    database.cursor().copy_expert(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer
    )


def _copy_field(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    return str(value)  # int, or bool as True/False, which COPY reads


def _pupil_table() -> str:
    return Pupil._meta.table_name


def _contact_table() -> str:
    return Contact._meta.table_name


def match() -> None:
    """Point each staged row at its pupil: by UPN, else by admission number.

    A pupil already matched by UPN is not matched again by admission number, so a pupil whose
    UPN changed (same admission number) is found, and two rows never claim one pupil. Each
    phase is one join against the pupils grouped by key (a hash join on PostgreSQL).
    """
    p = _pupil_table()
    database.execute_sql(
        f"UPDATE {STAGE_PUPIL} SET pupil_id = x.id, matched_by = 'upn' FROM "
        f"(SELECT upn, MIN(id) AS id FROM {p} WHERE upn IS NOT NULL GROUP BY upn) x "
        f"WHERE x.upn = {STAGE_PUPIL}.upn"
    )
    database.execute_sql(f"CREATE INDEX roll_stage_pupil_id ON {STAGE_PUPIL} (pupil_id)")
    database.execute_sql(
        f"UPDATE {STAGE_PUPIL} SET pupil_id = x.id, matched_by = 'adno' FROM "
        f"(SELECT admission_number AS adno, MIN(id) AS id FROM {p} p "
        "WHERE admission_number IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {STAGE_PUPIL} s WHERE s.pupil_id = p.id) GROUP BY admission_number) x "
        f"WHERE {STAGE_PUPIL}.pupil_id IS NULL AND x.adno = {STAGE_PUPIL}.adno"
    )
    if not is_sqlite():
        database.execute_sql(f"ANALYZE {STAGE_PUPIL}")


@dataclass(frozen=True)
class Change:
    """A pupil field a row may change: its label, and SQL (r: staged row, p: pupil)."""

    label: str
    differs: str
    old: str
    new: str


def changes(columns: set[str]) -> list[Change]:
    """The fields this file can change: those it has columns for (a blank key never clears)."""
    found = [
        Change("forename", "p.forename <> r.forename", "p.forename", "r.forename"),
        Change("surname", "p.surname <> r.surname", "p.surname", "r.surname"),
    ]
    if "year_group" in columns:
        found.append(
            Change(
                "year",
                "p.year_group IS DISTINCT FROM r.year_group",
                "CAST(p.year_group AS TEXT)",
                "CAST(r.year_group AS TEXT)",
            )
        )
    if "form" in columns:
        found.append(Change("form", "p.form <> r.form", "p.form", "r.form"))
    if "upn" in columns:
        found.append(
            Change("UPN", "r.upn IS NOT NULL AND p.upn IS DISTINCT FROM r.upn", "p.upn", "r.upn")
        )
    if "admission_number" in columns:
        found.append(
            Change(
                "admission number",
                "r.adno IS NOT NULL AND p.admission_number IS DISTINCT FROM r.adno",
                "p.admission_number",
                "r.adno",
            )
        )
    found.append(Change("back on roll", f"p.on_roll = {FALSE()}", "'left'", "'on roll'"))
    return found


def FALSE() -> str:  # noqa: N802 (reads as the SQL literal it returns)
    return "0" if is_sqlite() else "FALSE"


def TRUE() -> str:  # noqa: N802
    return "1" if is_sqlite() else "TRUE"


def any_change(found: list[Change]) -> str:
    return "(" + " OR ".join(c.differs for c in found) + ")"


def matched_join() -> str:
    return f"{STAGE_PUPIL} r JOIN {_pupil_table()} p ON p.id = r.pupil_id WHERE r.rejected = 0"


def count(sql: str, params: Sequence = ()) -> int:
    return int(database.execute_sql(sql, params).fetchone()[0] or 0)


def field_counts(found: list[Change]) -> tuple[int, dict[str, int]]:
    """How many matched rows change, and how many change each field, in one pass."""
    sums = ", ".join(f"SUM(CASE WHEN {c.differs} THEN 1 ELSE 0 END)" for c in found)
    row = database.execute_sql(
        f"SELECT SUM(CASE WHEN {any_change(found)} THEN 1 ELSE 0 END), {sums} FROM {matched_join()}"
    ).fetchone()
    return int(row[0] or 0), {c.label: int(v or 0) for c, v in zip(found, row[1:], strict=True)}


def leavers_condition() -> str:
    """Pupils on roll that no row of the file (refused rows included) names."""
    return (
        f"p.on_roll = {TRUE()} AND NOT EXISTS "
        f"(SELECT 1 FROM {STAGE_PUPIL} r WHERE r.pupil_id = p.id)"
    )


def change_text(found: list[Change]) -> str:
    """SQL for "form 7A -> 8A; year 7 -> 8" of a matched row (r, p)."""
    parts = [
        f"CASE WHEN {c.differs} THEN '{c.label} ' || COALESCE({c.old}, '') || ' -> ' || "
        f"COALESCE({c.new}, '') || '; ' ELSE '' END"
        for c in found
    ]
    return " || ".join(parts)


def pupil_label(alias: str, upn: str = "upn", adno: str = "admission_number") -> str:
    """SQL for "Forename Surname (UPN)" of a pupil or staged row."""
    return (
        f"{alias}.forename || ' ' || {alias}.surname || ' (' || "
        f"COALESCE({alias}.{upn}, 'Adno ' || {alias}.{adno}, '') || ')'"
    )


# ----- contacts ---------------------------------------------------------------------------


def contact_join() -> str:
    """Staged contacts of matched, accepted rows, with the pupil's id (r.pupil_id)."""
    return (
        f"{STAGE_CONTACT} c JOIN {STAGE_PUPIL} r ON r.row_no = c.pupil_row "
        "WHERE r.rejected = 0 AND r.pupil_id IS NOT NULL"
    )


def contact_differs() -> str:
    return "(" + " OR ".join(f"k.{f} IS DISTINCT FROM c.{f}" for f in CONTACT_FIELDS) + ")"


def existing_contact(alias: str = "k") -> str:
    return (
        f"SELECT 1 FROM {_contact_table()} {alias} "
        f"WHERE {alias}.pupil_id = r.pupil_id AND {alias}.priority = c.priority"
    )


def removed_contacts_condition() -> str:
    """Contacts (k) of pupils in the file whose priority the file no longer has."""
    return (
        f"EXISTS (SELECT 1 FROM {STAGE_PUPIL} r WHERE r.pupil_id = k.pupil_id "
        f"AND r.rejected = 0) AND NOT EXISTS (SELECT 1 FROM {STAGE_CONTACT} c "
        f"JOIN {STAGE_PUPIL} r ON r.row_no = c.pupil_row "
        "WHERE r.pupil_id = k.pupil_id AND c.priority = k.priority)"
    )


def contact_counts() -> tuple[int, int, int]:
    """(added, changed, removed) contacts, against the matched pupils (new pupils' count too)."""
    added = count(
        f"SELECT COUNT(*) FROM {STAGE_CONTACT} c JOIN {STAGE_PUPIL} r "
        "ON r.row_no = c.pupil_row WHERE r.rejected = 0 AND (r.pupil_id IS NULL OR NOT EXISTS "
        f"({existing_contact()}))"
    )
    changed = count(
        f"SELECT COUNT(*) FROM {contact_join()} AND EXISTS ({existing_contact()} "
        f"AND {contact_differs()})"
    )
    removed = count(
        f"SELECT COUNT(*) FROM {_contact_table()} k WHERE {removed_contacts_condition()}"
    )
    return added, changed, removed


def stamp(value: datetime | date) -> object:
    """A date or time as the driver stores it for this backend."""
    return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
