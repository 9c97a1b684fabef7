"""The demo data at a million users: streamed into PostgreSQL with COPY, not INSERTs.

The planner is services/demo.py's (the same names, distributions and random draws in the same
order), so at a given size, day and seed the rows are the ones demo.generate would write; only
the way they reach the server differs:
- every row goes through COPY ... FROM STDIN as CSV, produced a few thousand rows at a time
  while the server takes the previous ones (no table's rows are ever held whole: the users wait
  in a temporary file until their last login is known, since the logins come after them);
- the loaded tables' secondary indexes and foreign keys are dropped first and built once at the
  end from their own definitions (pg_get_indexdef / pg_get_constraintdef), so the database ends
  with exactly the indexes open_database made, including create_backend_indexes' ones;
- each table is truncated in the load's transaction, so COPY FREEZE writes its rows frozen and
  all-visible: no VACUUM has to rewrite 20,000,000 login rows' hint bits afterwards;
- the login summary tables are counted as the logins are made (_Summaries), not rebuilt by
  GROUP BYs over the events afterwards (10 of the first run's 29 minutes).
One transaction: a failure leaves the tables empty (the caller drops them).
"""

from __future__ import annotations

import csv
import io
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from itertools import islice

from peewee import Field, Model

from extgw_tui import email_index, models
from extgw_tui.db import is_sqlite, licence_mask_triggers_paused
from extgw_tui.errors import ExtgwError
from extgw_tui.models import ExternalUser, Pupil, database
from extgw_tui.services import audit, demo
from extgw_tui.services.login_summary import EVERYONE
from extgw_tui.services.passwords import hash_password
from extgw_tui.services.periods import KIND, period_start

#: Rows turned into CSV per piece handed to the server.
ROWS_PER_PIECE = 5_000
#: The tables the load fills (or the summary rebuild refills): bare while it runs.
LOADED = (models.Pupil, models.Contact, models.ExternalUser, models.Licence, models.LoginEvent,
          models.LoginDay, models.LoginUserPeriod, models.LoginPeriodUsers)  # fmt: skip
#: For this session only: memory for building indexes and for the summaries' aggregates, and
#: no limit on one statement (an index over 20,000,000 rows is not a runaway query).
SESSION = (
    "SET LOCAL maintenance_work_mem = '1GB'",
    "SET LOCAL work_mem = '256MB'",
    "SET LOCAL statement_timeout = 0",
    "SET LOCAL synchronous_commit = off",
)


class _Pieces:
    """A file-like source for psycopg2's copy_expert: each read() is the next piece of text.

    psycopg2 sends whatever read() returns, so a piece may be longer than asked for.
    """

    def __init__(self, pieces: Iterator[str]) -> None:
        self.pieces = pieces

    def read(self, size: int = -1) -> str:
        return next(self.pieces, "")


def _csv_pieces(rows: Iterable[Sequence], counter: list[int]) -> Iterator[str]:
    """CSV text of `rows`, ROWS_PER_PIECE at a time; counter[0] counts the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    rows = iter(rows)
    while batch := list(islice(rows, ROWS_PER_PIECE)):
        writer.writerows(batch)
        counter[0] += len(batch)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _copy(fields: Sequence[Field], pieces: Iterator[str]) -> None:
    """COPY CSV `pieces` into the fields' table (truncated in this transaction: FREEZE).

    An empty unquoted value is NULL in a nullable column and '' in a NOT NULL one (no demo row
    puts '' in a nullable text column).
    """
    table = fields[0].model._meta.table_name
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    not_null = ", ".join(f'"{f.column_name}"' for f in fields if not f.null)
    options = "FORMAT csv, FREEZE" + (f", FORCE_NOT_NULL ({not_null})" if not_null else "")
    sql = f'COPY "{table}" ({columns}) FROM STDIN WITH ({options})'
    database.cursor().copy_expert(sql, _Pieces(pieces), size=1 << 20)


def _copy_rows(fields: Sequence[Field], rows: Iterable[Sequence]) -> int:
    counter = [0]
    _copy(fields, _csv_pieces(rows, counter))
    return counter[0]


def _definitions(tables: Sequence[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """(name, CREATE INDEX) of the tables' secondary indexes and (table, name, definition) of
    every foreign key from or to them, as the server would write them."""
    cursor = database.execute_sql(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s) "
        "AND NOT x.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint k "
        "WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x')) ORDER BY i.relname",
        (list(tables),),
    )
    indexes = [(name, sql) for name, sql in cursor.fetchall()]
    oids = _oids(tables)
    cursor = database.execute_sql(
        "SELECT k.conrelid::regclass::text, k.conname, pg_get_constraintdef(k.oid) "
        "FROM pg_constraint k WHERE k.contype = 'f' AND (k.conrelid::int = ANY(%s) "
        "OR k.confrelid::int = ANY(%s)) ORDER BY 1, 2",
        (oids, oids),
    )
    return indexes, [tuple(row) for row in cursor.fetchall()]


def _oids(tables: Sequence[str]) -> list[int]:
    cursor = database.execute_sql(
        "SELECT oid::int FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
        "AND relkind = 'r' AND relname = ANY(%s)",
        (list(tables),),
    )
    return [row[0] for row in cursor.fetchall()]


@contextmanager
def _bare(models: Sequence[type[Model]], timed):
    """The tables emptied and without secondary indexes or foreign keys while they are loaded;
    then each index built once over the loaded rows, and the foreign keys checked once."""
    tables = [m._meta.table_name for m in models]
    indexes, keys = _definitions(tables)
    for table, name, _ in keys:
        database.execute_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        database.execute_sql(f'DROP INDEX "{name}"')
    database.execute_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables))
    yield
    with timed("indexes"):
        for _, sql in indexes:
            database.execute_sql(sql)
    with timed("foreign keys"):
        for table, name, definition in keys:
            database.execute_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


class _Phases:
    """Wall time per phase of the load, for the report and the shared machine's log."""

    def __init__(self, progress: demo.Progress) -> None:
        self.progress = progress
        self.times: list[tuple[str, float]] = []

    @contextmanager
    def __call__(self, name: str, fraction: float = 0.0):
        self.progress(name, fraction)
        started = time.perf_counter()
        yield
        self.times.append((name, time.perf_counter() - started))


def _logins_tracked(chunks: Iterable[list[tuple]], last: list[str], report) -> Iterator[tuple]:
    """The login rows, noting each account's latest (ISO text sorts as time does)."""
    done = 0
    for chunk in chunks:
        for row in chunk:
            user = row[1]
            if user is not None and row[0] > last[user]:
                last[user] = row[0]
        done += len(chunk)
        report(done)
        yield from chunk


class _Summaries:
    """The login summary tables (models.LoginDay, LoginUserPeriod, LoginPeriodUsers) counted
    while the logins are made, each account's at once: what rebuild_login_summary computes
    from the events in SQL, which takes minutes over 20,000,000 of them. The periods' rows go
    to `spool` (one account's are final when its logins are); tests check that all three
    tables equal the rebuild's."""

    def __init__(self, days: list[date], type_ids: Iterable[int], spool: io.TextIOBase) -> None:
        self.days = days
        kinds = list(KIND.values())
        self.periods = [[(k, period_start(k, day).isoformat()) for k in kinds] for day in days]
        self.types = [(type_id, models.licence_bit(type_id)) for type_id in type_ids]
        self.logins: Counter[tuple[int, int]] = Counter()  # (day index, mask): logins
        self.users: Counter[tuple[str, str, int]] = Counter()  # (kind, start, type): accounts
        self.writer = csv.writer(spool, lineterminator="\n")

    def account(self, user_id: int, mask: int, days: list[int]) -> None:
        logins, users = self.logins, self.users
        for day in days:
            logins[day, mask] += 1
        periods = {period for day in set(days) for period in self.periods[day]}
        self.writer.writerows((kind, start, user_id, mask) for kind, start in periods)
        types = [EVERYONE] + [type_id for type_id, bit in self.types if mask & bit]
        for kind, start in periods:
            for type_id in types:
                users[kind, start, type_id] += 1

    def day_rows(self) -> Iterator[tuple]:
        return ((self.days[day], mask, n) for (day, mask), n in sorted(self.logins.items()))

    def user_rows(self) -> Iterator[tuple]:
        return ((kind, start, t, n) for (kind, start, t), n in sorted(self.users.items()))


def _spooled(spool: io.TextIOBase) -> Iterator[str]:
    spool.seek(0)
    while piece := spool.read(1 << 20):
        yield piece


def _users_with_last_login(spool: io.TextIOBase, last: list[str]) -> Iterator[str]:
    """The spooled user rows (CSV lines starting with the id) with last_login_at appended."""
    spool.seek(0)
    while lines := spool.readlines(1 << 20):
        yield "".join(f"{line[:-1]},{last[int(line[: line.index(',')])]}\n" for line in lines)


def generate_copy(
    size: str | demo.Size,
    *,
    today: date,
    seed: int = demo.DEFAULT_SEED,
    progress: demo.Progress | None = None,
    phases: list[tuple[str, float]] | None = None,
) -> demo.DemoSummary:
    """Fill the bound, empty PostgreSQL database with demo data of `size` (a name in
    demo.SIZES or a Size, e.g. a small one for tests) by COPY; `phases` gets each phase's
    wall time in seconds."""
    if is_sqlite():
        raise ExtgwError(demo.SERVER_ONLY_REFUSAL)
    if isinstance(size, str):
        if size not in demo.SIZES:
            raise ExtgwError(f"Unknown demo size {size!r}; choose one of: {', '.join(demo.SIZES)}.")
        name, spec = size, demo.SIZES[size]
    else:
        name, spec = "custom", size
    if ExternalUser.select().exists() or Pupil.select().exists():
        raise ExtgwError("Demo data can only be generated into an empty database.")
    report = progress or (lambda stage, fraction: None)
    timed = _Phases(report)
    with database.atomic():
        for statement in SESSION:
            database.execute_sql(statement)
        email_table = email_index.drop(database.obj)
        with _bare(LOADED, timed):
            summary, top = _load(name, spec, today, seed, report, timed)
        if email_table:
            with timed("email index"):
                email_index.create(database.obj)
        with timed("finishing", 0.98):
            demo._reserve_ids({ExternalUser: top, Pupil: summary.pupils})
    report("finishing", 1.0)
    if phases is not None:
        phases.extend(timed.times)
    return summary


def _load(
    name: str, spec: demo.Size, today: date, seed: int, report, timed
) -> tuple[demo.DemoSummary, int]:
    """Plan and COPY every table; the summary, and the highest user id (a deleted one's)."""
    with timed("planning", 0.0):
        gen, audits = demo.plan(spec, today, seed, report)
    with timed("pupils", 0.1):
        pupils = _copy_rows(demo.PUPIL_FIELDS, gen.pupils)
        leavers = sum(1 for row in gen.pupils if not row[9])
    with timed("contacts", 0.15):
        contacts = _copy_rows(demo.CONTACT_FIELDS, gen.iter_contacts())
    for planned in (gen.pupils, gen.families, gen.emails, gen.pupil_years, gen.pupil_girls):
        planned.clear()  # the planning is done with them; the logins need only the accounts
    T = models.LicenceType
    type_ids = dict(T.select(T.name, T.id).tuples())
    parent_type, pupil_type = type_ids[models.PARENT_GUARDIAN], type_ids[models.PUPIL]
    password_hash = hash_password(demo.DEMO_PASSWORD)
    masks: dict[int, int] = {}
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool,
        tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as period_spool,
    ):
        spool_writer = csv.writer(spool, lineterminator="\n")

        def licences() -> Iterator[tuple]:
            for account in gen.accounts:
                user, rows, masks[account.id] = gen.account_row(
                    account, password_hash, parent_type, pupil_type
                )
                spool_writer.writerow(user)
                yield from rows

        with timed("licences", 0.2), licence_mask_triggers_paused(database.obj):
            licence_count = _copy_rows(demo.LICENCE_FIELDS, licences())  # masks: users
            demo._insert(audit.ENTRY_FIELDS, sorted(audits))
        deleted = gen.plan_deleted(
            [models.licence_bit(parent_type), models.licence_bit(pupil_type)]
        )
        summaries = _Summaries(gen.days, type_ids.values(), period_spool)
        last = [""] * (len(gen.accounts) + 1)
        with timed("logins", 0.25):  # the summaries count them: their periods come whole
            chunks = gen.login_rows(masks, deleted, set(), summaries.account)
            rows = _logins_tracked(
                chunks, last, lambda done: report("logins", 0.25 + 0.45 * done / spec.logins)
            )
            logins = _copy_rows(demo.LOGIN_FIELDS, rows)
        with timed("users", 0.7):
            fields = (*demo.USER_FIELDS, ExternalUser.last_login_at)
            _copy(fields, _users_with_last_login(spool, last))
        with timed("summaries", 0.75):  # the statistics read these, not the raw events
            _copy(demo.PERIOD_FIELDS, _spooled(period_spool))
            D, U = models.LoginDay, models.LoginPeriodUsers
            _copy_rows((D.day, D.licence_mask, D.logins), summaries.day_rows())
            _copy_rows((U.kind, U.start, U.licence_type, U.users), summaries.user_rows())
    summary = demo.DemoSummary(
        size=name,
        users=len(gen.accounts),
        pupils=pupils,
        licences=licence_count,
        logins=logins,
        denied=sum(1 for a in gen.accounts if a.denied_on is not None),
        contacts=contacts,
        leavers=leavers,
    )
    return summary, len(gen.accounts) + len(deleted)
