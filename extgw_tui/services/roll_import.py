"""Importing the roll and parental contacts from an MIS export: preview, then apply.

    preview(path, options)  reads the file, says what would change; writes nothing
    apply(path, options)    the same reading, then every change in ONE transaction with ONE
                            audit batch; a cancel or a killed process leaves the database as
                            it was

Pupils are matched by UPN, else by admission number (so a changed UPN is seen as a change).
A full-roll file marks the pupils on roll that it does not name as leavers (on_roll false,
left_on today); they are never deleted. A partial file (--partial) never marks leavers.
Contacts are matched by pupil and priority; an import of a file with contact columns makes
each named pupil's contacts those of the file. Importing the same file twice changes nothing.

The file is read once per call, a row at a time, into temporary tables (services/roll_stage.py);
only its keys are held in memory, to find duplicates.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import chain, islice
from pathlib import Path

import peewee

from extgw_tui.db import is_sqlite
from extgw_tui.errors import ExtgwError, InvalidInput
from extgw_tui.models import AuditEvent, Contact, Pupil, database, now
from extgw_tui.services import audit
from extgw_tui.services import roll_stage as stage
from extgw_tui.services.roll_columns import Layout, layout_of, recognise
from extgw_tui.services.roll_reader import RowSource, open_rows
from extgw_tui.services.roll_rows import Row, read_row

#: Rows looked at for the header row (report titles may sit above it).
HEADER_ROWS = 50
#: The most data rows read: a roll (even one row per contact) has far fewer.
MAX_ROWS = 2_000_000
#: Examples of each kind of change kept for the preview.
SAMPLES = 20
#: Refused rows and warnings listed in full up to this many (all are counted).
MAX_LISTED = 10_000

#: progress(stage, fraction): "reading" then "comparing" (or "applying").
Progress = Callable[[str, float], None]

ACTION = "roll.import"


class ImportCancelled(ExtgwError):
    """The administrator stopped the import; nothing was changed."""


@dataclass(frozen=True)
class ImportOptions:
    mapping: Mapping[str, str] = field(default_factory=dict)
    sheet: str | None = None
    partial: bool = False
    max_rows: int = MAX_ROWS
    today: date | None = None


@dataclass
class Preview:
    """What an import of the file does (or, from apply, did)."""

    file: str
    source: str = ""
    columns: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    rows: int = 0
    pupils: int = 0
    new: int = 0
    changed: int = 0
    changed_fields: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0
    leaving: int = 0
    partial: bool = False
    has_contacts: bool = False
    contacts_added: int = 0
    contacts_changed: int = 0
    contacts_removed: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    rejected_count: int = 0
    warnings: list[tuple[int, str]] = field(default_factory=list)
    warning_count: int = 0
    samples: dict[str, list[str]] = field(default_factory=dict)
    applied: bool = False
    batch: str = ""

    @property
    def changes_anything(self) -> bool:
        return bool(
            self.new
            or self.changed
            or self.leaving
            or self.contacts_added
            or self.contacts_changed
            or self.contacts_removed
        )

    def summary_lines(self) -> list[str]:
        """The preview in a few lines, for the terminal and the screen."""
        verb = "" if self.applied else "would be "
        fields = ", ".join(f"{k} {v:,}" for k, v in self.changed_fields.items() if v)
        lines = [
            f"{self.file}: {self.source}; {self.rows:,} rows, {self.pupils:,} pupils.",
            f"New pupils: {self.new:,}",
            f"Changed: {self.changed:,}" + (f" ({fields})" if fields else ""),
            f"Unchanged: {self.unchanged:,}",
            "Leaving: none (a partial file never marks leavers)"
            if self.partial
            else f"Leaving (on roll, not in the file): {self.leaving:,}",
        ]
        if self.has_contacts:
            lines.append(
                f"Contacts: {self.contacts_added:,} added, {self.contacts_changed:,} "
                f"changed, {self.contacts_removed:,} removed"
            )
        else:
            lines.append("Contacts: the file has no contact columns; contacts are left alone")
        lines.append(f"Refused rows: {self.rejected_count:,}")
        if self.warning_count:
            lines.append(f"Warnings: {self.warning_count:,}")
        if not self.changes_anything:
            lines.append("Nothing " + verb + "changed.")
        return lines

    def detail_lines(self) -> Iterator[str]:
        """Examples of each change, every refused row and warning, for --dry-run."""
        for kind, items in self.samples.items():
            if items:
                yield f"{kind} (first {len(items)}):"
                yield from (f"  {item}" for item in items)
        if self.rejected:
            yield "Refused rows:"
            yield from (f"  row {row:,}: {reason}" for row, reason in self.rejected)
            if self.rejected_count > len(self.rejected):
                yield f"  ... and {self.rejected_count - len(self.rejected):,} more"
        if self.warnings:
            yield "Warnings:"
            yield from (f"  row {row:,}: {reason}" for row, reason in self.warnings)
            if self.warning_count > len(self.warnings):
                yield f"  ... and {self.warning_count - len(self.warnings):,} more"


def preview(
    path: Path,
    options: ImportOptions = ImportOptions(),  # noqa: B008 (frozen)
    *,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] = lambda: False,
) -> Preview:
    """Read `path` and say what an import would do; nothing is written."""
    return _run(path, options, progress, should_cancel, write=False)


def apply(
    path: Path,
    options: ImportOptions = ImportOptions(),  # noqa: B008
    *,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] = lambda: False,
) -> Preview:
    """Import `path`: every change in one transaction and one audit batch; what was done."""
    return _run(path, options, progress, should_cancel, write=True)


def _run(path, options, progress, should_cancel, *, write: bool) -> Preview:
    report = progress or (lambda stage_, fraction: None)

    def check() -> None:
        if should_cancel():
            raise ImportCancelled("The import was cancelled; nothing was changed.")

    path = Path(path)
    result = Preview(file=path.name, partial=options.partial)
    try:
        stage.create()
        layout = _stage_file(path, options, result, report, check)
        check()
        report("comparing", 0.0)
        if write:
            with database.atomic():
                _compare(layout, result, check)
                check()
                report("applying", 0.5)
                if result.changes_anything:  # the same file again writes nothing, not even audit
                    _write(layout, result, options)
                check()  # the last moment a cancel still rolls everything back
            result.applied = True
        else:
            with _snapshot():
                _compare(layout, result, check)
        report("done", 1.0)
        return result
    finally:
        with contextlib.suppress(peewee.DatabaseError):  # a lost connection took them anyway
            stage.drop()


def _snapshot():
    if is_sqlite():
        return database.atomic(lock_type="DEFERRED")
    return database.atomic(isolation_level="REPEATABLE READ")


# ----- reading ----------------------------------------------------------------------------


def _header_score(cells: list[str], mapping: Mapping[str, str]) -> int:
    return sum(1 for c in cells if recognise(c, mapping) is not None)


def _find_header(
    head: list[tuple[int, list[str]]], path: Path, mapping: Mapping[str, str]
) -> tuple[int, Layout]:
    """The header row among the first HEADER_ROWS: the one naming the most roll columns."""
    best: tuple[int, int, list[str]] | None = None
    for number, cells in head:
        score = _header_score(cells, mapping)
        if score and (best is None or score > best[0]):
            best = (score, number, cells)
    if best is None or best[0] < 2:
        raise InvalidInput(
            f"{path.name} has no recognisable header row in its first {HEADER_ROWS} rows "
            "(headers such as UPN, Adno, Surname, Forename, Year, Reg); name its columns "
            "with --map HEADER=field."
        )
    layout = layout_of(best[2], mapping)
    missing = layout.missing()
    if missing:
        raise InvalidInput(
            f"{path.name} (header on row {best[1]}) has no column for "
            f"{' and '.join(missing)}; found: {'; '.join(layout.found()) or 'nothing'}. "
            "Name the columns with --map HEADER=field."
        )
    return best[1], layout


def _stage_file(path, options, result: Preview, report, check) -> Layout:
    with open_rows(
        path, sheet=options.sheet, score=lambda c: _header_score(c, options.mapping)
    ) as source:
        result.source = source.describe()
        rows = source.rows()
        head = list(islice(rows, HEADER_ROWS))
        header_row, layout = _find_header(head, path, options.mapping)
        result.columns = layout.found()
        result.unused = layout.ignored
        result.has_contacts = layout.has_contacts
        with database.atomic(**({"lock_type": "DEFERRED"} if is_sqlite() else {})):
            _stage_rows(
                chain(head, rows), source, path, header_row, layout, options, result, report, check
            )
        stage.index()
    return layout


@dataclass
class _Keys:
    """What is remembered per pupil while reading: the first row naming each key."""

    upn: dict[str, int] = field(default_factory=dict)
    adno: dict[str, int] = field(default_factory=dict)
    #: row -> hash of its pupil fields (one-contact-per-row files repeat the pupil)
    fingerprint: dict[int, int] = field(default_factory=dict)
    #: row -> contacts seen (priorities), for one-contact-per-row files
    priorities: dict[int, set[int]] = field(default_factory=dict)


def _stage_rows(
    rows: Iterator[tuple[int, list[str]]],
    source: RowSource,
    path: Path,
    header_row: int,
    layout: Layout,
    options: ImportOptions,
    result: Preview,
    report: Progress,
    check: Callable[[], None],
) -> None:
    keys = _Keys()
    pupils: list[tuple] = []
    contacts: list[tuple] = []
    per_row = layout.per_row_contacts
    numbered_priority = "priority" in layout.contacts.get(0, {})
    for number, cells in rows:
        if number <= header_row or not any(c.strip() for c in cells):
            continue
        result.rows += 1
        if result.rows > options.max_rows:
            raise InvalidInput(
                f"{path.name} has more than {options.max_rows:,} rows, more than any "
                "roll; nothing was imported. Export one year group at a time (--partial)."
            )
        row = read_row(number, cells, layout)
        owner = _owner(row, keys, per_row)
        for warning in row.warnings:
            _note(result, "warning", number, warning)
        if owner is None:  # a new pupil (or a refused row, kept to protect its pupil)
            if row.problem:
                _note(result, "rejected", number, row.problem)
                row.contacts = []
            else:
                result.pupils += 1
            pupils.append(row.pupil_values())
            owner = number
        elif row.problem:
            _note(result, "rejected", number, row.problem)
            continue
        if not row.problem:
            for contact in row.contacts:
                if per_row:
                    seen = keys.priorities.setdefault(owner, set())
                    if not numbered_priority:
                        contact.priority = len(seen) + 1
                    if contact.priority in seen:
                        _note(result, "warning", number, _duplicate_priority(contact.priority))
                        continue
                    seen.add(contact.priority)
                contacts.append((contact.row, owner, *contact.values()[1:]))
        if len(pupils) >= stage.CHUNK or len(contacts) >= stage.CHUNK:
            _flush(pupils, contacts)
            check()
            report("reading", source.fraction())
    _flush(pupils, contacts)
    report("reading", 1.0)


def _duplicate_priority(priority: int) -> str:
    return f"a second contact with priority {priority} for the same pupil; left out"


def _owner(row: Row, keys: _Keys, per_row: bool) -> int | None:
    """The earlier row this one repeats (None: a pupil not seen yet). Sets row.problem for a
    duplicate key, or for a one-contact-per-row repeat whose pupil details differ."""
    first_upn = keys.upn.get(row.upn) if row.upn else None
    first_adno = keys.adno.get(row.admission_number) if row.admission_number else None
    first = first_upn or first_adno
    if first is None:
        if row.upn:
            keys.upn[row.upn] = row.row
        if row.admission_number:
            keys.adno[row.admission_number] = row.row
        if per_row:
            keys.fingerprint[row.row] = hash(row.pupil_values()[1:])
        return None
    if row.problem:
        return first
    same = per_row and first_upn in (None, first) and first_adno in (None, first)
    if same and keys.fingerprint.get(first) == hash(row.pupil_values()[1:]):
        return first
    if same:
        row.problem = f"the same pupil as row {first:,} with different details"
    elif first_upn is not None:
        row.problem = f"duplicate UPN {row.upn} (also on row {first_upn:,})"
    else:
        row.problem = (
            f"duplicate admission number {row.admission_number} (also on row {first_adno:,})"
        )
    return first


def _note(result: Preview, kind: str, row: int, text: str) -> None:
    if kind == "rejected":
        result.rejected_count += 1
        if len(result.rejected) < MAX_LISTED:
            result.rejected.append((row, text))
    else:
        result.warning_count += 1
        if len(result.warnings) < MAX_LISTED:
            result.warnings.append((row, text))


def _flush(pupils: list[tuple], contacts: list[tuple]) -> None:
    stage.insert(stage.STAGE_PUPIL, stage.PUPIL_COLUMNS, pupils)
    stage.insert(stage.STAGE_CONTACT, stage.CONTACT_COLUMNS, contacts)
    pupils.clear()
    contacts.clear()


# ----- comparing --------------------------------------------------------------------------


def _compare(layout: Layout, result: Preview, check) -> None:
    stage.match()
    check()
    found = stage.changes(set(layout.columns))
    accepted = f"{stage.STAGE_PUPIL} WHERE rejected = 0"
    result.new = stage.count(f"SELECT COUNT(*) FROM {accepted} AND pupil_id IS NULL")
    matched = stage.count(f"SELECT COUNT(*) FROM {accepted} AND pupil_id IS NOT NULL")
    result.changed, result.changed_fields = stage.field_counts(found)
    result.unchanged = matched - result.changed
    if not result.partial:
        result.leaving = stage.count(
            f"SELECT COUNT(*) FROM {Pupil._meta.table_name} p WHERE {stage.leavers_condition()}"
        )
    if layout.has_contacts:
        added, changed, removed = stage.contact_counts()
        result.contacts_added, result.contacts_changed, result.contacts_removed = (
            added,
            changed,
            removed,
        )
    check()
    result.samples = _samples(found, result.partial)


def _samples(found, partial: bool) -> dict[str, list[str]]:
    label = stage.pupil_label("r", adno="adno")
    new = database.execute_sql(
        f"SELECT {label} FROM {stage.STAGE_PUPIL} r WHERE r.rejected = 0 "
        f"AND r.pupil_id IS NULL ORDER BY r.row_no LIMIT {SAMPLES}"
    )
    changed = database.execute_sql(
        f"SELECT {stage.pupil_label('p')}, {stage.change_text(found)} FROM "
        f"{stage.matched_join()} AND {stage.any_change(found)} ORDER BY r.row_no LIMIT {SAMPLES}"
    )
    samples = {
        "New pupils": [r[0] for r in new],
        "Changed": [f"{name}: {text.rstrip('; ')}" for name, text in changed],
    }
    if not partial:
        leaving = database.execute_sql(
            f"SELECT {stage.pupil_label('p')} FROM {Pupil._meta.table_name} p "
            f"WHERE {stage.leavers_condition()} ORDER BY p.surname_key, p.id LIMIT {SAMPLES}"
        )
        samples["Leaving"] = [r[0] for r in leaving]
    return samples


# ----- applying ---------------------------------------------------------------------------


def _write(layout: Layout, result: Preview, options: ImportOptions) -> None:
    """Every change, audited in one batch; runs inside the caller's transaction."""
    today = options.today or date.today()
    log = _Auditor(audit.new_batch())
    result.batch = log.batch
    found = stage.changes(set(layout.columns))
    p, r = Pupil._meta.table_name, stage.STAGE_PUPIL
    # changed pupils and leavers are audited first, with the values before the change
    log.add(
        "roll.pupil_changed",
        stage.pupil_label("p"),
        f"FROM {stage.matched_join()} AND {stage.any_change(found)}",
        detail=f"RTRIM({stage.change_text(found)}, '; ')",
    )
    sets = ["forename = r.forename", "surname = r.surname"]
    sets += ["surname_key = r.surname_key", "forename_key = r.forename_key"]
    if "year_group" in layout.columns:
        sets.append("year_group = r.year_group")
    if "form" in layout.columns:
        sets.append("form = r.form")
    if "upn" in layout.columns:
        sets.append("upn = COALESCE(r.upn, p.upn)")
    if "admission_number" in layout.columns:
        sets.append("admission_number = COALESCE(r.adno, p.admission_number)")
    sets += [f"on_roll = {stage.TRUE()}", "left_on = NULL"]
    database.execute_sql(
        f"UPDATE {p} AS p SET {', '.join(sets)} FROM {r} r "
        f"WHERE p.id = r.pupil_id AND r.rejected = 0 AND {stage.any_change(found)}"
    )
    if not options.partial:
        log.add(
            "roll.pupil_left",
            stage.pupil_label("p"),
            f"FROM {p} p WHERE {stage.leavers_condition()}",
            detail=f"'left on {today.isoformat()}'",
        )
        database.execute_sql(
            f"UPDATE {p} AS p SET on_roll = {stage.FALSE()}, left_on = {database.param} "
            f"WHERE {stage.leavers_condition()}",
            (stage.stamp(today),),
        )
    _insert_new_pupils(log)
    if layout.has_contacts:
        _write_contacts(log)
    log.add_one(
        ACTION,
        result.file,
        f"{result.new} new, {result.changed} changed, {result.leaving} leaving; contacts "
        f"{result.contacts_added} added, {result.contacts_changed} changed, "
        f"{result.contacts_removed} removed; {result.rejected_count} rows refused"
        + (" (partial file)" if options.partial else ""),
    )


def _insert_new_pupils(log: _Auditor) -> None:
    p, r = Pupil._meta.table_name, stage.STAGE_PUPIL
    top = stage.count(f"SELECT MAX(id) FROM {p}")
    columns = (
        "forename, surname, surname_key, forename_key, year_group, form, "
        "admission_number, upn, on_roll"
    )
    database.execute_sql(
        f"INSERT INTO {p} ({columns}) SELECT r.forename, r.surname, r.surname_key, "
        f"r.forename_key, r.year_group, r.form, r.adno, r.upn, {stage.TRUE()} FROM {r} r "
        "WHERE r.rejected = 0 AND r.pupil_id IS NULL ORDER BY r.row_no"
    )
    # their ids, by the keys that are unique in the file, among the new ids only
    for key, column in (("upn", "upn"), ("adno", "admission_number")):
        database.execute_sql(
            f"UPDATE {r} SET pupil_id = (SELECT MIN(p.id) FROM {p} p WHERE p.id > {top} "
            f"AND p.{column} = {r}.{key}), matched_by = 'new' WHERE rejected = 0 "
            f"AND pupil_id IS NULL AND {key} IS NOT NULL"
        )
    log.add(
        "roll.pupil_added",
        stage.pupil_label("r", adno="adno"),
        f"FROM {r} r WHERE r.matched_by = 'new'",
    )


def _write_contacts(log: _Auditor) -> None:
    k, fields = Contact._meta.table_name, stage.CONTACT_FIELDS
    of_pupil = stage.pupil_label("r", adno="adno")
    label = (
        "c.forename || ' ' || c.surname || ' (contact ' || CAST(c.priority AS TEXT) || "
        f"' of ' || {of_pupil} || ')'"
    )
    removed = "k.forename || ' ' || k.surname || ' (contact ' || CAST(k.priority AS TEXT) || ')'"
    log.add(
        "roll.contact_removed", removed, f"FROM {k} k WHERE {stage.removed_contacts_condition()}"
    )
    database.execute_sql(f"DELETE FROM {k} AS k WHERE {stage.removed_contacts_condition()}")
    log.add(
        "roll.contact_changed",
        label,
        f"FROM {stage.contact_join()} AND EXISTS ({stage.existing_contact()} "
        f"AND {stage.contact_differs()})",
    )
    database.execute_sql(
        f"UPDATE {k} AS k SET {', '.join(f'{f} = c.{f}' for f in fields)} "
        f"FROM {stage.STAGE_CONTACT} c JOIN {stage.STAGE_PUPIL} r ON r.row_no = c.pupil_row "
        "WHERE r.rejected = 0 AND k.pupil_id = r.pupil_id AND k.priority = c.priority "
        f"AND {stage.contact_differs()}"
    )
    log.add(
        "roll.contact_added",
        label,
        f"FROM {stage.contact_join()} AND NOT EXISTS ({stage.existing_contact()})",
    )
    database.execute_sql(
        f"INSERT INTO {k} (pupil_id, priority, {', '.join(fields)}) "
        f"SELECT r.pupil_id, c.priority, {', '.join('c.' + f for f in fields)} "
        f"FROM {stage.contact_join()} AND NOT EXISTS ({stage.existing_contact()}) "
        "ORDER BY c.row_no"
    )


class _Auditor:
    """Audit entries of one batch written by INSERT ... SELECT, one per pupil or contact."""

    def __init__(self, batch: str) -> None:
        self.batch = batch
        self.admin = audit.clean(audit.current_admin())[:100]
        self.at = AuditEvent.at.db_value(now())

    def add(self, action: str, target_sql: str, from_sql: str, *, detail: str = "''") -> None:
        a = AuditEvent._meta.table_name
        q = database.param
        at = q if is_sqlite() else f"CAST({q} AS TIMESTAMP)"
        database.execute_sql(
            f"INSERT INTO {a} (at, admin, action, user_id, target, outcome, detail, batch) "
            f"SELECT {at}, {q}, {q}, NULL, SUBSTR({target_sql}, 1, 300), 'ok', {detail}, {q} "
            f"{from_sql}",
            (self.at, self.admin, action, self.batch),
        )

    def add_one(self, action: str, target: str, detail: str) -> None:
        audit.record(action, target=target, detail=detail, batch=self.batch, admin=self.admin)
