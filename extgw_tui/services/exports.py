"""The Excel exports of the help page: users, licence holders, pupils with / without a holder;
and of the roll: pupils and their contacts, leavers still linked to accounts.

Rows stream from the database in keyset order (id > last id, a chunk at a time) and the
per-row aggregates (pupils, licence types held, holders) are computed in SQL for each chunk's
ids, so memory stays flat at 100,000 users. Pupil exports list pupils on roll only: a pupil who
has left is nobody's to chase for an account. An export reads one snapshot (see snapshot()), so
its count and its rows agree under concurrent changes; only the audit entry is written, after.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from peewee import SQL, Case, Expression, Field, fn

from extgw_tui.db import is_sqlite
from extgw_tui.errors import InvalidInput
from extgw_tui.models import Contact, ExternalUser, Licence, LicenceType, Pupil, database
from extgw_tui.services import activity, audit, export_folder, xlsx
from extgw_tui.services.activity import ActivityFilter
from extgw_tui.services.filters import all_of
from extgw_tui.services.licences import licence_type_id, licence_types
from extgw_tui.services.pupils import live
from extgw_tui.services.users import ROW_FIELDS, search_condition
from extgw_tui.services.xlsx import Column, WriteResult

U = ExternalUser

#: Rows fetched per query while streaming an export.
STREAM_CHUNK = 2000

#: progress(rows_written, total_rows), as every export reports it.
Progress = Callable[[int, int], None]


class ExportKind(StrEnum):
    USERS = "users"
    HOLDERS = "holders"
    PUPILS_WITH = "pupils-with"
    PUPILS_WITHOUT = "pupils-without"
    PUPILS_CONTACTS = "pupils-contacts"
    LEAVERS = "leavers"
    SEARCH = "search"


LABELS: dict[ExportKind, str] = {
    ExportKind.USERS: "All external users",
    ExportKind.HOLDERS: "External users holding a licence type",
    ExportKind.PUPILS_WITH: "Pupils that have a holder of a licence type",
    ExportKind.PUPILS_WITHOUT: "Pupils that do not have a holder of a licence type",
    ExportKind.PUPILS_CONTACTS: "Pupils and their contacts",
    ExportKind.LEAVERS: "Leavers with accounts",
    ExportKind.SEARCH: "External users matching the search",
}
NEEDS_LICENCE = frozenset({ExportKind.HOLDERS, ExportKind.PUPILS_WITH, ExportKind.PUPILS_WITHOUT})
#: The exports of the roll itself: one row per contact, or per leaver; no search, no type.
ROLL_KINDS = frozenset({ExportKind.PUPILS_CONTACTS, ExportKind.LEAVERS})

USER_COLUMNS = [
    Column("ID", 8),
    Column("Title", 8),
    Column("Forename", 16),
    Column("Surname", 18),
    Column("Email", 32),
    Column("Account created", 19),
    Column("ADR", 6),
    Column("Access allowed", 9),
    Column("Last login", 19),
    Column("Pupils", 8),
    Column("Licence types held", 28),
]
PUPIL_COLUMNS = [
    Column("Forename", 16),
    Column("Surname", 18),
    Column("Year", 6),
    Column("Form", 8),
    Column("Admission number", 12),
]
#: The pupil's id, then PUPIL_COLUMNS' fields (the pupil exports and the leavers' start so).
PUPIL_FIELDS = (
    Pupil.id,
    Pupil.forename,
    Pupil.surname,
    Pupil.year_group,
    Pupil.form,
    Pupil.admission_number,
)
HOLDER_COLUMNS = [Column("Holders", 36), Column("Holders' emails", 44)]
CONTACT_COLUMNS = [
    Column("UPN", 15),
    Column("Admission number", 12),
    Column("Forename", 16),
    Column("Surname", 18),
    Column("Year", 6),
    Column("Form", 8),
    Column("Contact priority", 9),
    Column("Contact title", 8),
    Column("Contact forename", 16),
    Column("Contact surname", 18),
    Column("Relationship", 14),
    Column("Contact email", 32),
    Column("Parental responsibility", 12),
    Column("Address", 40),
]
LEAVER_COLUMNS = [
    *PUPIL_COLUMNS,
    Column("UPN", 15),
    Column("Left on", 12),
    Column("Holders", 40),
    Column("Holders' emails", 44),
    Column("Holders with a pupil on roll", 14),
]


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """One export, resolved and checked: the kind, the licence type (id, name), the search."""

    kind: ExportKind
    licence_id: int | None = None
    licence_name: str | None = None
    search: str | None = None

    @property
    def label(self) -> str:
        return LABELS[self.kind]


def make_request(
    kind: ExportKind | str, licence: str | None = None, search: str | None = None
) -> ExportRequest:
    """Check the choices; InvalidInput names what is missing or unknown."""
    try:
        kind = ExportKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in ExportKind)
        raise InvalidInput(f"There is no export called {kind!r}; choose one of {known}.") from None
    search = (search or "").strip() or None
    if search and kind in (ExportKind.PUPILS_WITH, ExportKind.PUPILS_WITHOUT, *ROLL_KINDS):
        raise InvalidInput("A search applies to the user exports only, not to pupil exports.")
    if kind not in NEEDS_LICENCE:
        # "all users" narrowed by a search is exactly the users as listed under that search
        return ExportRequest(ExportKind.SEARCH if search else kind, search=search)
    if not (licence or "").strip():
        raise InvalidInput(f"The export '{LABELS[kind]}' needs a licence type.")
    type_id = licence_type_id(licence or "")
    return ExportRequest(kind, type_id, dict(licence_types())[type_id], search)


def slug(text: str) -> str:
    """A file-name-safe, lower-case ASCII form: "Parent/Guardian" -> "parent-guardian"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40]


def proposed_name(request: ExportRequest, today: date | None = None) -> str:
    """e.g. external-users_parent-guardian_2026-11-28.xlsx."""
    stem = {
        ExportKind.USERS: "external-users",
        ExportKind.HOLDERS: "external-users",
        ExportKind.SEARCH: "external-users",
        ExportKind.PUPILS_WITH: "pupils-with",
        ExportKind.PUPILS_WITHOUT: "pupils-without",
        ExportKind.PUPILS_CONTACTS: "pupils-and-contacts",
        ExportKind.LEAVERS: "leavers-with-accounts",
    }[request.kind]
    parts = [stem]
    if request.licence_name:
        parts.append(slug(request.licence_name))
    if request.search:
        parts.append("search-" + (slug(request.search) or "text"))
    parts.append((today or date.today()).isoformat())
    return "_".join(p for p in parts if p) + ".xlsx"


def proposed_path(request: ExportRequest, today: date | None = None) -> Path:
    return export_folder.default_folder() / proposed_name(request, today)


def chosen_path(text: Path | str | None, proposed: Path) -> Path:
    """Where an export goes, from what the admin typed (-o, or the "Save as" box).

    Nothing typed means `proposed`; a folder (one that exists, or text ending in "/") means
    the proposed file name inside it; otherwise ".xlsx" is added if missing.
    """
    typed = str(text or "").strip()
    if not typed:
        return proposed
    chosen = Path(typed).expanduser()
    if typed.endswith(("/", os.sep)) or chosen.is_dir():
        return chosen / proposed.name
    if chosen.suffix.lower() != ".xlsx":
        chosen = chosen.with_name(chosen.name + ".xlsx")
    return chosen


def output_path(path: Path | str | None, request: ExportRequest) -> Path:
    """Where this export goes: see chosen_path; the proposed name is the request's."""
    return chosen_path(path, proposed_path(request))


# --- what each export selects -------------------------------------------------------------


def _holds(type_id: int) -> Expression:
    return fn.EXISTS(
        Licence.select(SQL("1")).where((Licence.user == U.id) & (Licence.licence_type == type_id))
    )


def _pupil_has(type_id: int) -> Expression:
    return fn.EXISTS(
        Licence.select(SQL("1")).where(
            (Licence.pupil == Pupil.id) & (Licence.licence_type == type_id)
        )
    )


def _is_user_export(request: ExportRequest) -> bool:
    return request.kind in (ExportKind.USERS, ExportKind.HOLDERS, ExportKind.SEARCH)


def _has_live_holder() -> Expression:
    return fn.EXISTS(
        Licence.select(SQL("1")).where((Licence.pupil == Pupil.id) & live(Licence.user))
    )


def _condition(request: ExportRequest) -> Expression | None:
    if request.kind is ExportKind.PUPILS_CONTACTS:
        return Pupil.on_roll == True  # noqa: E712
    if request.kind is ExportKind.LEAVERS:
        return (Pupil.on_roll == False) & _has_live_holder()  # noqa: E712
    if _is_user_export(request):
        parts = [search_condition(request.search)]
        if request.kind is ExportKind.HOLDERS:
            parts.append(_holds(request.licence_id))
    else:
        has = _pupil_has(request.licence_id)
        parts = [Pupil.on_roll == True, has if request.kind is ExportKind.PUPILS_WITH else ~has]  # noqa: E712
    return all_of(parts)


def _model(request: ExportRequest):
    return U if _is_user_export(request) else Pupil


def count_rows(request: ExportRequest) -> int:
    """How many rows the export will have, counted in SQL (for the progress bar)."""
    if request.kind is ExportKind.PUPILS_CONTACTS:  # a row per contact, or one without any
        on_roll = Pupil.on_roll == True  # noqa: E712
        contacts = Contact.select(fn.COUNT(Contact.id)).join(Pupil).where(on_roll).scalar()
        none = fn.EXISTS(Contact.select(SQL("1")).where(Contact.pupil == Pupil.id))
        alone = Pupil.select(fn.COUNT(Pupil.id)).where(on_roll & ~none).scalar()
        return (contacts or 0) + (alone or 0)
    model = _model(request)
    query = model.select(fn.COUNT(model.id))
    condition = _condition(request)
    if condition is not None:
        query = query.where(condition)
    if model is U:
        query = query.where(live(U.id))
    return query.scalar() or 0


def _fetch(query) -> list[tuple]:
    """Rows as the driver returns them: peewee's per-value conversion is the export's main
    cost at 100,000 rows, so the few typed columns are converted by hand (_when, bool)."""
    return database.execute(query).fetchall()


def _when(value: datetime | str | None) -> datetime | None:
    """A timestamp column: PostgreSQL gives datetimes, SQLite the text peewee stored."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _chunks(
    request: ExportRequest, fields: Sequence, chunk: int
) -> Iterator[tuple[list[tuple], Callable[[Field], Expression]]]:
    """Pages of matching rows in id order, by keyset (id > last id), never the whole table.

    With each page comes `in_page(column)`: the condition that a licence column points into
    that page, for the per-page aggregates. It is an id range the index serves (plus, when
    the export is filtered, the page's own query as a subquery), never thousands of IN (...)
    parameters.
    """
    model = _model(request)
    condition = _condition(request)
    last = 0
    while True:
        where = model.id > last
        if condition is not None:
            where &= condition
        if model is U:  # a deleted account holds no licence, so in_page needs no such test
            where &= live(U.id)
        page = _fetch(model.select(*fields).where(where).order_by(model.id).limit(chunk))
        if not page:
            return
        low, high = last, page[-1][0]
        scope = model.select(model.id).where(where & (model.id <= high))

        def in_page(column: Field, low=low, high=high, scope=scope) -> Expression:
            within = (column > low) & (column <= high)
            return within if condition is None else within & column.in_(scope)

        yield page, in_page
        last = high


def _user_rows(request: ExportRequest, chunk: int) -> Iterator[tuple]:
    names = dict(licence_types())
    for page, in_page in _chunks(request, ROW_FIELDS, chunk):
        pupils = dict(
            _fetch(
                Licence.select(Licence.user, fn.COUNT(fn.DISTINCT(Licence.pupil)))
                .where(in_page(Licence.user))
                .group_by(Licence.user)
            )
        )
        held: dict[int, list[str]] = {}
        types = _fetch(
            Licence.select(Licence.user, Licence.licence_type)
            .where(in_page(Licence.user))
            .distinct()
            .order_by(Licence.user, Licence.licence_type)
        )
        for user_id, type_id in types:
            held.setdefault(user_id, []).append(names.get(type_id, str(type_id)))
        for user_id, title, forename, surname, email, created, adr, access, last in page:
            yield (
                user_id,
                title,
                forename,
                surname,
                email,
                _when(created),
                bool(adr),
                bool(access),
                _when(last),
                pupils.get(user_id, 0),
                ", ".join(held.get(user_id, ())),
            )


def _pupil_rows(request: ExportRequest, chunk: int) -> Iterator[tuple]:
    with_holders = request.kind is ExportKind.PUPILS_WITH
    for page, in_page in _chunks(request, PUPIL_FIELDS, chunk):
        holders: dict[int, tuple[list[str], list[str]]] = {}
        if with_holders:
            rows = _fetch(
                Licence.select(Licence.pupil, U.title, U.forename, U.surname, U.email)
                .join(U)
                .where(in_page(Licence.pupil) & (Licence.licence_type == request.licence_id))
                .order_by(Licence.pupil, U.surname_key, U.forename, U.id)
            )
            for pupil_id, title, forename, surname, email in rows:
                names, emails = holders.setdefault(pupil_id, ([], []))
                names.append(" ".join(p for p in (title, forename, surname) if p))
                emails.append(email)
        for pupil_id, *rest in page:
            if with_holders:
                names, emails = holders.get(pupil_id, ((), ()))
                yield (*rest, "; ".join(names), "; ".join(emails))
            else:
                yield tuple(rest)


def _contact_rows(request: ExportRequest, chunk: int) -> Iterator[tuple]:
    """A row per contact of each pupil on roll (in priority order); one for a pupil with none."""
    fields = (
        Pupil.id,
        Pupil.upn,
        Pupil.admission_number,
        Pupil.forename,
        Pupil.surname,
        Pupil.year_group,
        Pupil.form,
    )
    C = Contact
    for page, in_page in _chunks(request, fields, chunk):
        found: dict[int, list[tuple]] = {}
        rows = _fetch(
            C.select(
                C.pupil,
                C.priority,
                C.title,
                C.forename,
                C.surname,
                C.relationship,
                C.email,
                C.parental_responsibility,
                C.address,
            )
            .where(in_page(C.pupil))
            .order_by(C.pupil, C.priority, C.id)
        )
        for pupil_id, *contact in rows:
            contact[6] = xlsx.YES if contact[6] else xlsx.NO
            found.setdefault(pupil_id, []).append(tuple(contact))
        for pupil_id, *pupil in page:
            for contact in found.get(pupil_id) or [("",) * 8]:
                yield (*pupil, *contact)


def _leaver_rows(request: ExportRequest, chunk: int) -> Iterator[tuple]:
    """A row per pupil off the roll whom a live account still holds a licence for."""
    fields = (*PUPIL_FIELDS, Pupil.upn, Pupil.left_on)
    on_roll = Pupil.alias("on_roll_pupil")
    other = Licence.alias("other")
    still_linked = fn.EXISTS(
        other.select(SQL("1"))
        .join(on_roll, on=(other.pupil == on_roll.id))
        .where((other.user == U.id) & (on_roll.on_roll == True))  # noqa: E712
    )
    for page, in_page in _chunks(request, fields, chunk):
        holders: dict[int, tuple[list[str], list[str], set[int]]] = {}
        rows = _fetch(
            Licence.select(
                Licence.pupil,
                U.id,
                U.title,
                U.forename,
                U.surname,
                U.email,
                LicenceType.name,
                Case(None, [(still_linked, 1)], 0),
            )
            .join(U)
            .switch(Licence)
            .join(LicenceType)
            .where(in_page(Licence.pupil) & live(U.id))
            .order_by(Licence.pupil, U.surname_key, U.forename, U.id, LicenceType.id)
        )
        for pupil_id, user_id, title, forename, surname, email, type_name, linked in rows:
            names, emails, staying = holders.setdefault(pupil_id, ([], [], set()))
            name = " ".join(p for p in (title, forename, surname) if p)
            names.append(f"{name} ({type_name})")
            if email not in emails:
                emails.append(email)
            if linked:
                staying.add(user_id)
        for pupil_id, *pupil in page:
            names, emails, staying = holders.get(pupil_id, ([], [], set()))
            left_on = pupil[-1]
            left = left_on if left_on is None or isinstance(left_on, date) else _day(left_on)
            yield (*pupil[:-1], left, "; ".join(names), "; ".join(emails), len(staying))


def _day(value: str) -> date:
    """A date column: PostgreSQL gives dates, SQLite the text peewee stored."""
    return date.fromisoformat(str(value)[:10])


def export_rows(request: ExportRequest, chunk: int = STREAM_CHUNK) -> Iterator[tuple]:
    """Every row of the export, streamed a page at a time."""
    if request.kind is ExportKind.PUPILS_CONTACTS:
        return _contact_rows(request, chunk)
    if request.kind is ExportKind.LEAVERS:
        return _leaver_rows(request, chunk)
    if _is_user_export(request):
        return _user_rows(request, chunk)
    return _pupil_rows(request, chunk)


def columns(request: ExportRequest) -> list[Column]:
    if request.kind is ExportKind.PUPILS_CONTACTS:
        return CONTACT_COLUMNS
    if request.kind is ExportKind.LEAVERS:
        return LEAVER_COLUMNS
    if _is_user_export(request):
        return USER_COLUMNS
    return PUPIL_COLUMNS + (HOLDER_COLUMNS if request.kind is ExportKind.PUPILS_WITH else [])


def about(request: ExportRequest) -> list[tuple[str, str]]:
    pairs = [("Export", request.label)]
    if request.licence_name:
        pairs.append(("Licence type", request.licence_name))
    if _is_user_export(request):
        pairs.append(("Search in force", request.search or "(none: every user)"))
    elif request.kind is ExportKind.LEAVERS:
        pairs.append(("Pupils", "Off the roll, with a licence held by an account"))
        pairs.append(
            (
                "Holders with a pupil on roll",
                "of the holders, those still linked to a pupil on roll",
            )
        )
    else:
        pairs.append(("Pupils", "On roll only"))
    return pairs


def run_export(
    request: ExportRequest,
    path: Path | str | None = None,
    *,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> WriteResult:
    """Write the export to `path` (see output_path) and audit it; see write_export."""
    facts = [f"licence: {request.licence_name}"] if request.licence_name else []
    facts += [f"search: {request.search}"] if request.search else []
    return write_export(
        output_path(path, request),
        what=request.kind.value,
        facts=facts,
        sheet_title="Pupils" if not _is_user_export(request) else "External users",
        columns=columns(request),
        rows=export_rows(request),
        about=about(request),
        count=lambda: count_rows(request),
        progress=progress,
        should_cancel=should_cancel,
        plain_rows=True,  # export_rows: text, whole numbers, booleans, dates, datetimes
    )


def write_export(
    path: Path,
    *,
    what: str,
    facts: Sequence[str] = (),
    sheet_title: str,
    columns: list[Column],
    rows: Iterable[Sequence],
    about: list[tuple[str, str]],
    count: Callable[[], int],
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    plain_rows: bool = False,
) -> WriteResult:
    """Every export of the app goes through here: the file, streamed, then its audit entry.

    count() gives the rows to expect, counted first in SQL, for progress(rows_written, total);
    it and `rows` read one snapshot of the database. plain_rows: as xlsx.write_workbook's.
    Raises xlsx.ExportCancelled or ExtgwError, leaving no file behind and no audit entry.
    """
    with snapshot():
        total = count()
        result = xlsx.write_workbook(
            path,
            sheet_title=sheet_title,
            columns=columns,
            rows=rows,
            about=about,
            progress=_rows_of(total, progress),
            should_cancel=should_cancel,
            expected_rows=total,
            plain_rows=plain_rows,
        )
    record_export(what, result, facts)
    return result


@contextmanager
def snapshot() -> Iterator[None]:
    """One consistent view of the database for an export's count and rows, however long the
    export takes, without blocking anyone: in WAL mode a DEFERRED SQLite transaction reads a
    snapshot and takes no write lock; on PostgreSQL, REPEATABLE READ READ ONLY."""
    if is_sqlite():
        options = {"lock_type": "DEFERRED"}
    else:
        options = {"isolation_level": "REPEATABLE READ READ ONLY"}
    with database.atomic(**options):
        yield


def _rows_of(total: int, progress: Progress | None) -> Callable[[int], None] | None:
    """The writer's progress(rows) as progress(rows, total), reporting 0 of total at once."""
    if progress is None:
        return None
    progress(0, total)
    return lambda done: progress(done, total)


def record_export(what: str, result: WriteResult, facts: Sequence[str] = ()) -> None:
    """The audit entry of a written export: what, how many rows, where."""
    detail = "; ".join([f"export: {what}", *facts, f"rows: {result.rows}", f"path: {result.path}"])
    with database.atomic():
        audit.record("export", target=result.path.name, detail=detail)
    export_folder.remember(Path(result.path).parent)


def export_activity_log(
    path: Path,
    flt: ActivityFilter,
    *,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> WriteResult:
    """The filtered activity log (services/activity.py writes it), audited like every export."""
    with snapshot():
        result = activity.export_log(
            path,
            flt,
            progress=_rows_of(activity.count(flt), progress),
            should_cancel=should_cancel,
        )
    record_export("activity log", result, [f"filter: {flt.describe()}"])
    return result


def licence_choices() -> list[str]:
    """The licence type names, for the modal's list and the CLI's error message."""
    return [name for _, name in licence_types()]
