"""Calendar periods for the login statistics: months, ISO weeks (Monday), school years (1 Sept).

Each period is a half-open range of days [start, end), so SQL compares `>= start AND < end`
on both backends without date functions.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = "months"
WEEKS = "weeks"
YEARS = "years"
MODES = (MONTHS, WEEKS, YEARS)

#: The LoginUserPeriod.kind of each mode.
KIND = {MONTHS: "m", WEEKS: "w", YEARS: "y"}

#: How many periods the month and week modes show (the year mode shows all time).
RECENT = 12

SCHOOL_YEAR_MONTH = 9


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date  # exclusive


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after (or before, if negative) day's month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def week_start(day: date) -> date:
    """The Monday of day's ISO week."""
    return day - timedelta(days=day.weekday())


def school_year_start(day: date) -> date:
    """1 September of the school year day falls in (1 Sept - 31 Aug)."""
    year = day.year if day.month >= SCHOOL_YEAR_MONTH else day.year - 1
    return date(year, SCHOOL_YEAR_MONTH, 1)


def period_start(kind: str, day: date) -> date:
    """The start of the period of LoginUserPeriod.kind `kind` that day falls in."""
    if kind == "m":
        return month_start(day)
    if kind == "w":
        return week_start(day)
    return school_year_start(day)


def last_months(today: date, count: int = RECENT) -> list[Period]:
    """The `count` months up to and including today's, oldest first, labelled "2026-01"."""
    first = add_months(today, -(count - 1))
    starts = [add_months(first, i) for i in range(count + 1)]
    return [Period(s.strftime("%Y-%m"), s, e) for s, e in zip(starts, starts[1:], strict=False)]


def last_weeks(today: date, count: int = RECENT) -> list[Period]:
    """The `count` ISO weeks up to and including today's, oldest first, labelled "2026-W05"."""
    first = week_start(today) - timedelta(weeks=count - 1)
    out = []
    for i in range(count):
        start = first + timedelta(weeks=i)
        year, week, _ = start.isocalendar()
        out.append(Period(f"{year}-W{week:02d}", start, start + timedelta(weeks=1)))
    return out


def school_years(first_day: date | None, today: date) -> list[Period]:
    """Every school year from the one holding first_day to today's, labelled "2024/25"."""
    last = school_year_start(today)
    start = school_year_start(min(first_day or today, today))
    out = []
    while start <= last:
        end = date(start.year + 1, SCHOOL_YEAR_MONTH, 1)
        out.append(Period(f"{start.year}/{(start.year + 1) % 100:02d}", start, end))
        start = end
    return out


def short_label(mode: str, label: str) -> str:
    """A label narrow enough for 12 pairs of bars at 80 columns: "Apr", "W05", "24/25"."""
    if mode == MONTHS:
        return date.fromisoformat(f"{label}-01").strftime("%b")
    if mode == WEEKS:
        return label.split("-")[1]
    return label[2:]


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier, clamped to the end of a shorter month."""
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def rolling_year_start(today: date) -> date:
    """The first day of "the last 12 months", counted as the review counts them: the day after
    the same day a year earlier (services/review.cutoff_day(12))."""
    return months_before(today, 12) + timedelta(days=1)
