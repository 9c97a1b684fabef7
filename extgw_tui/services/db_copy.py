"""Copy a whole extgw-tui database into an empty one: SQLite <-> PostgreSQL, or PG -> PG.

Everything goes: schema version, ids, the next id of every table (ids are never reused, so a
deleted account's id stays retired in the copy too) and all history. The target is filled in
one transaction, so an interrupted copy (Ctrl+C, a lost connection, kill -9) leaves it as empty
as it was; a new SQLite file is removed again. At the end every table's row count and a
checksum of its rows, read back from the target, must equal the source's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import peewee

from extgw_tui import email_index
from extgw_tui.db import (
    create_backend_indexes,
    create_licence_mask_triggers,
    is_sqlite,
    make_database,
    redact_url,
    sqlite_path,
)
from extgw_tui.errors import DatabaseProblem, ExtgwError
from extgw_tui.models import ALL_MODELS, database
from extgw_tui.services import audit
from extgw_tui.services.exports import snapshot

#: Rows read and written at a time: small enough for memory, large enough for few round trips.
CHUNK = 5000

#: progress(table, rows copied of that table, rows in that table)
Progress = Callable[[str, int, int], None]


class CopyCancelled(ExtgwError):
    """The copy was stopped; the target was left empty."""


@dataclass
class TableResult:
    rows: int = 0
    checksum: str = ""
    next_id: int = 0


@dataclass
class CopyReport:
    target: str
    tables: dict[str, TableResult] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())


def copy_database(
    target_url: str,
    *,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] = lambda: False,
) -> CopyReport:
    """Copy the open database (models.database) into the empty database at `target_url`."""
    target_path = sqlite_path(target_url)
    created_file = target_path is not None and not target_path.exists()
    target = make_database(target_url)
    try:
        target.connect()
        if target.get_tables():
            raise ExtgwError(
                f"The target database {redact_url(target_url)} is not empty; "
                "copy only into a new, empty database."
            )
        report = _copy_into(target, target_url, progress, should_cancel)
        target.execute_sql("ANALYZE")  # the planner's statistics, or the first queries crawl
    except BaseException:
        target.close()
        if created_file:
            _remove_sqlite_file(target_path)
        raise
    target.close()
    return report


def _check_source(models: list) -> None:
    """Every table of this release is in the source, before anything is copied."""
    have = set(database.get_tables())
    missing = [m._meta.table_name for m in models if m._meta.table_name not in have]
    if missing:
        raise DatabaseProblem(
            f"The source database lacks the tables {', '.join(missing)} of this release; "
            "nothing was copied."
        )


def _copy_into(
    target: peewee.Database,
    target_url: str,
    progress: Progress | None,
    should_cancel: Callable[[], bool],
) -> CopyReport:
    models = peewee.sort_models(ALL_MODELS)  # referenced tables first
    _check_source(models)
    report = CopyReport(target=redact_url(target_url))
    with snapshot(), target.atomic():
        with target.bind_ctx(models, bind_refs=False, bind_backrefs=False):
            target.create_tables(models)
        create_backend_indexes(target)
        # PostgreSQL's email table is made from the copied accounts, in surname order, rather
        # than filled by its trigger one account at a time in id order
        email_table = email_index.drop(target)
        for model in models:
            report.tables[model._meta.table_name] = _copy_table(
                model, target, progress, should_cancel
            )
        if email_table:
            email_index.create(target)
        for model in models:
            _set_next_id(target, model, report.tables[model._meta.table_name].next_id)
        create_licence_mask_triggers(target)  # after the rows: each account brought its mask
        _verify(target, models, report)
    return report


def _rows(model: type[peewee.Model]) -> Iterator[list[tuple]]:
    """The model's rows in id order, a chunk at a time, as Python values (keyset paging)."""
    fields = model._meta.sorted_fields
    last = None
    while True:
        query = model.select(*fields).order_by(model._meta.primary_key).limit(CHUNK)
        if last is not None:
            query = query.where(model._meta.primary_key > last)
        chunk = list(query.tuples())
        if not chunk:
            return
        last = chunk[-1][0]
        yield chunk


def _copy_table(
    model: type[peewee.Model],
    target: peewee.Database,
    progress: Progress | None,
    should_cancel: Callable[[], bool],
) -> TableResult:
    name = model._meta.table_name
    total = model.select().count()
    digest = hashlib.sha256()
    result = TableResult(next_id=_next_id(model))
    if progress:
        progress(name, 0, total)
    for chunk in _rows(model):
        if should_cancel():
            raise CopyCancelled("The copy was cancelled; the target database was left empty.")
        target.execute(model.insert_many(chunk, fields=model._meta.sorted_fields))
        for row in chunk:
            digest.update(repr(row).encode())
        result.rows += len(chunk)
        if progress:
            progress(name, result.rows, total)
    result.checksum = digest.hexdigest()
    return result


def _next_id(model: type[peewee.Model]) -> int:
    """The highest id the source ever handed out (not just the highest left); 0 for a table
    whose key is not a counter."""
    if not isinstance(model._meta.primary_key, peewee.AutoField):
        return 0
    table = model._meta.table_name
    highest = model.select(peewee.fn.MAX(model._meta.primary_key)).scalar() or 0
    if is_sqlite():
        row = database.execute_sql(
            "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)
        ).fetchone()
    else:
        row = database.execute_sql(
            "SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, %s))",
            (f'"{table}"', model._meta.primary_key.column_name),
        ).fetchone()
    return max(highest, (row[0] or 0) if row else 0)


def _set_next_id(target: peewee.Database, model: type[peewee.Model], next_id: int) -> None:
    table = model._meta.table_name
    if next_id <= 0:
        return
    if isinstance(target, peewee.SqliteDatabase):
        # Only AUTOINCREMENT tables have a row here; the others take max(id) + 1 as SQLite does.
        target.execute_sql("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (next_id, table))
    else:
        target.execute_sql(
            "SELECT setval(pg_get_serial_sequence(%s, %s), %s)",
            (f'"{table}"', model._meta.primary_key.column_name, next_id),
        )


def _verify(target: peewee.Database, models: list, report: CopyReport) -> None:
    """Read every table back from the target: counts and checksums must match the source's."""
    with target.bind_ctx(models, bind_refs=False, bind_backrefs=False):
        for model in models:
            expected = report.tables[model._meta.table_name]
            digest, rows = hashlib.sha256(), 0
            for chunk in _rows(model):
                rows += len(chunk)
                for row in chunk:
                    digest.update(repr(row).encode())
            if rows != expected.rows or digest.hexdigest() != expected.checksum:
                raise DatabaseProblem(
                    f"The copy of table {model._meta.table_name} does not match the source "
                    f"({rows:,} rows read back, {expected.rows:,} copied); nothing was kept."
                )


def record_copy(source_url: str, report: CopyReport) -> None:
    """The audit entry, in the source: where its data went and how much."""
    with database.atomic():
        audit.record(
            "db.copy",
            target=report.target,
            detail=f"from {redact_url(source_url)}; {report.rows:,} rows in "
            f"{len(report.tables)} tables; counts and checksums verified",
        )


def _remove_sqlite_file(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
