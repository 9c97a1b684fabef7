"""Coverage: which forms' parents (and pupils) will see a report released on the portal.

For every year group and form, the pupils on roll, and how many of them have at least one
*active* holder of a licence type: an allowed, live account holding that type for the pupil
that logged in during the last 12 months (rolling: since the same day twelve calendar months
ago). Counted for Parent/Guardian and for Pupil, all in SQL: one pass over the roll marks each
pupil covered or not, then the form, year and school totals are grouped from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from peewee import SQL, Case, Select, Value, fn

from extgw_tui.models import (
    PARENT_GUARDIAN,
    PUPIL,
    ExternalUser,
    Licence,
    Pupil,
    database,
)
from extgw_tui.services import export_folder, exports, xlsx
from extgw_tui.services.bar_chart import Bars, Series
from extgw_tui.services.licences import licence_type_id
from extgw_tui.services.pupils import live
from extgw_tui.services.review import months_before

_DIGITS = re.compile(r"(\d+)")
#: The rolling window a holder must have logged in during to count as active.
ACTIVE_MONTHS = 12
#: What a row is: one form, a year group's total, or the whole school's.
FORM, YEAR, SCHOOL = "form", "year", "school"


@dataclass(frozen=True, slots=True)
class CoverageRow:
    kind: str
    year_group: int | None
    form: str
    pupils: int
    #: Pupils on roll with an active Parent/Guardian holder, and with an active Pupil holder.
    parents: int
    own: int

    @property
    def label(self) -> str:
        if self.kind == SCHOOL:
            return "Whole school"
        if self.kind == YEAR:
            return f"Year {self.year_group}" if self.year_group is not None else "No year"
        return self.form or "(no form)"

    @property
    def parent_share(self) -> float:
        return self.parents / self.pupils if self.pupils else 0.0

    @property
    def own_share(self) -> float:
        return self.own / self.pupils if self.pupils else 0.0


@dataclass(frozen=True)
class CoverageReport:
    since: date
    school: CoverageRow
    years: list[CoverageRow]
    forms: list[CoverageRow]

    def rows(self) -> Iterator[CoverageRow]:
        """Each year's total followed by its forms, then the whole school."""
        by_year: dict[int | None, list[CoverageRow]] = {}
        for row in self.forms:
            by_year.setdefault(row.year_group, []).append(row)
        for year in self.years:
            yield year
            yield from by_year.get(year.year_group, [])
        yield self.school


def active_since(today: date | None = None) -> date:
    """The first day of the rolling window: twelve calendar months before today."""
    return months_before(today or date.today(), ACTIVE_MONTHS)


def _covered(type_id: int, since: datetime):
    """1 when the pupil has an active holder of the type, else 0 (a correlated EXISTS)."""
    active = (
        Licence.select(SQL("1"))
        .join(ExternalUser)
        .where(
            (Licence.pupil == Pupil.id)
            & (Licence.licence_type == type_id)
            & (ExternalUser.access_allowed == True)  # noqa: E712
            & live(ExternalUser.id)
            & (ExternalUser.last_login_at >= since)
        )
    )
    return Case(None, [(fn.EXISTS(active), 1)], 0)


def coverage(today: date | None = None) -> CoverageReport:
    """Pupils on roll and their active holders per form, year group and the whole school.

    One statement: the roll is read once into a materialised CTE (a pupil and two flags),
    grouped three ways and joined by UNION ALL, so the three levels always agree.
    """
    since = active_since(today)
    start = datetime.combine(since, time.min)
    parent, own = licence_type_id(PARENT_GUARDIAN), licence_type_id(PUPIL)
    flags = (
        Pupil.select(
            Pupil.year_group.alias("year_group"),
            Pupil.form.alias("form"),
            _covered(parent, start).alias("parents"),
            _covered(own, start).alias("own"),
        )
        .where(Pupil.on_roll == True)  # noqa: E712
        .cte("covered", materialized=True)
    )
    c = flags.c

    def grouped(kind: str, *keys) -> Select:
        year = keys[0] if keys else SQL("NULL")
        form = keys[1] if len(keys) > 1 else Value("")
        sums = [fn.COUNT(SQL("*")), fn.SUM(c.parents), fn.SUM(c.own)]
        query = Select(from_list=[flags], columns=[Value(kind), year, form, *sums])
        return query.group_by(*keys) if keys else query

    query = grouped(FORM, c.year_group, c.form) + grouped(YEAR, c.year_group) + grouped(SCHOOL)
    rows = [_row(*values) for values in database.execute(query.with_cte(flags)).fetchall()]
    rows.sort(key=lambda r: (r.year_group is None, r.year_group or 0, form_order(r.form)))
    school = next((r for r in rows if r.kind == SCHOOL), CoverageRow(SCHOOL, None, "", 0, 0, 0))
    years = [r for r in rows if r.kind == YEAR]
    return CoverageReport(since, school, years, [r for r in rows if r.kind == FORM])


def form_order(form: str) -> tuple:
    """Forms in the order people read them: 7A2 before 7A10."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(form))


def _row(kind: str, year: int | None, form: str | None, *counts) -> CoverageRow:
    pupils, parents, own = (int(value or 0) for value in counts)
    return CoverageRow(kind, year, form or "", pupils, parents, own)


def percent(share: float) -> str:
    return f"{share * 100:.0f}%"


EXPORT_COLUMNS = [
    xlsx.Column("Year", 12),
    xlsx.Column("Form", 10),
    xlsx.Column("Pupils on roll", 14),
    xlsx.Column("With an active Parent/Guardian", 18),
    xlsx.Column("Parent/Guardian %", 12),
    xlsx.Column("With an active Pupil account", 18),
    xlsx.Column("Pupil %", 10),
]


def default_export_path(today: date | None = None) -> Path:
    """e.g. coverage_2026-12-01.xlsx in the export folder."""
    return export_folder.default_folder() / f"coverage_{(today or date.today()).isoformat()}.xlsx"


def export_coverage(
    path: Path,
    *,
    today: date | None = None,
    progress: exports.Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> xlsx.WriteResult:
    """The coverage table as an .xlsx workbook, written and audited like every export."""
    report: list[CoverageReport] = []

    def count() -> int:  # inside the export's snapshot, as its rows are
        report.append(coverage(today))
        return len(report[0].forms) + len(report[0].years) + 1

    def rows():
        for row in report[0].rows():
            yield (
                "" if row.year_group is None else row.year_group,
                row.form if row.kind == FORM else row.label if row.kind == SCHOOL else "All forms",
                row.pupils,
                row.parents,
                round(row.parent_share * 100, 1),
                row.own,
                round(row.own_share * 100, 1),
            )

    since = active_since(today).isoformat()
    return exports.write_export(
        path,
        what="coverage",
        facts=[f"active since: {since}"],
        sheet_title="Coverage",
        columns=EXPORT_COLUMNS,
        rows=rows(),
        about=[
            ("Report", "Pupils on roll with an active holder, per year group and form"),
            (
                "Active holder",
                "an allowed account holding the licence type for the pupil that logged in "
                f"on or after {since} (the last {ACTIVE_MONTHS} months)",
            ),
            ("Pupils", "On roll only"),
        ],
        count=count,
        progress=progress,
        should_cancel=should_cancel,
    )


def bars(report: CoverageReport) -> Bars:
    """The chart: per year group, the share with an active Parent/Guardian and with a Pupil
    account, in percent (on the screen and from `extgw-tui coverage`)."""
    years = report.years
    return Bars(
        "",  # the screen's title and the command's heading say what it counts
        [row.label.replace("Year ", "Y") for row in years] or ["-"],
        [
            Series(f"{PARENT_GUARDIAN} %", [round(r.parent_share * 100) for r in years] or [0]),
            Series(f"{PUPIL} %", [round(r.own_share * 100) for r in years] or [0]),
        ],
        ticks=([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"]),
        top=100,
    )
