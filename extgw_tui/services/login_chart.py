"""The login charts, the same on the statistics screen and from `extgw-tui stats`: logins and
distinct users per period as two charts, each on its own axis, titled with what it counts and
the period's name (so no legend, and no colour, is needed to tell them apart).
"""

from __future__ import annotations

from extgw_tui.services import periods
from extgw_tui.services.bar_chart import Bars, Series, y_ticks
from extgw_tui.services.periods import short_label
from extgw_tui.services.statistics import LoginSeries, period_name

__all__ = ["charts", "y_ticks"]  # y_ticks: the edit screen's chart imports it from here too

#: What one bar of each mode covers.
UNITS = {periods.MONTHS: "month", periods.WEEKS: "ISO week", periods.YEARS: "school year"}


def charts(series: LoginSeries) -> list[Bars]:
    """Logins per period, then distinct users per period."""
    labels = [short_label(series.mode, label) for label in series.labels]
    unit, name = UNITS[series.mode], period_name(series)
    counted = [("Logins", series.logins), ("Distinct users", series.users)]
    ticks = [y_ticks(max(values, default=0)) for _, values in counted]
    wide = max(len(label) for _, labels in ticks for label in labels)  # so the bars align
    return [
        Bars(
            f"{what} per {unit}, {name}",
            labels,
            [Series(what, values)],
            ticks=(at, [label.rjust(wide) for label in tick_labels]),
            short_title=f"{what} per {unit}",
        )
        for (what, values), (at, tick_labels) in zip(counted, ticks, strict=True)
    ]
