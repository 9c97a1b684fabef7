"""The statistics screen's figures: each bar's figure is the count SQL gives for its month, the
logins and the distinct users are two charts with a title each and no legend inside either
plot, and the screen and `extgw-tui stats` name the period in the same words."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from chart_helpers import inside_plot
from peewee import fn
from stats_app import settle_stats, stats_app

from extgw_tui.cli import main
from extgw_tui.models import ExternalUser, LoginEvent
from extgw_tui.services import periods, statistics
from extgw_tui.services.portal import record_login
from extgw_tui.widgets.bar_chart import BarChart

#: Logins per month before this one (0: this month), by how many accounts.
LOGINS = {0: (3, 1), 1: (17, 4), 2: (250, 5), 4: (1, 1)}

FIGURE = re.compile(r"\d[\d,.]*[kM]?")


@pytest.fixture
def month_logins(db, db_url) -> str:
    users = [
        ExternalUser.create(surname=f"U{i}", email=f"u{i}@example.org", password_hash="x")
        for i in range(5)
    ]
    today = date.today()
    for back, (count, accounts) in LOGINS.items():
        start = datetime.combine(periods.add_months(today, -back), time(8))
        for n in range(count):
            record_login(users[n % accounts], at=start + timedelta(minutes=n))
    return db_url


def _sql_counts(column) -> list[int]:
    """Per month of the chart, counted straight from the login events."""
    out = []
    for p in periods.last_months(date.today()):
        start, end = (datetime.combine(day, time()) for day in (p.start, p.end))
        query = LoginEvent.select(column).where((LoginEvent.at >= start) & (LoginEvent.at < end))
        out.append(int(query.scalar() or 0))
    return out


def _bar_figures(chart: str) -> list[str]:
    """The figure written on each bar: the topmost number over each tick of the x axis."""
    lines = chart.splitlines()
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    left = lines[top].index("┌") + 1  # where the plot starts: the y axis's labels are left of it
    ticks = [i for i, char in enumerate(lines[bottom]) if char == "┬"]
    figures = []
    for tick in ticks:
        found = [
            m.group()
            for line in lines[top + 1 : bottom]
            for m in FIGURE.finditer(line, left)
            if m.start() - 1 <= tick < m.end() + 1
        ]
        figures.append(found[0] if found else "")
    return figures


@pytest.mark.parametrize("size", [(80, 24), (140, 40)])
async def test_each_bar_shows_the_sql_count_and_no_legend_covers_the_bars(month_logins, size):
    logins = _sql_counts(fn.COUNT(LoginEvent.id))
    users = _sql_counts(fn.COUNT(LoginEvent.user.distinct()))
    assert logins[-3:] == [250, 17, 3] and users[-3:] == [5, 4, 1]  # the fixture is as meant
    app = stats_app()
    async with app.run_test(size=size) as pilot:
        screen = await settle_stats(app, pilot)
        for chart_id, counts, title in (
            ("#stats-logins", logins, "Logins per month"),
            ("#stats-users", users, "Distinct users per month"),
        ):
            chart = str(screen.query_one(chart_id, BarChart).render())
            assert _bar_figures(chart) == [f"{count:,}" for count in counts], chart_id
            above, frame = chart.split("┌", 1)
            assert title in above  # the title names the series, above the plot
            inside = inside_plot(chart)
            assert not re.search(r"[A-Za-z]", inside.replace("k", "").replace("M", "")), inside


async def test_the_screen_and_the_command_name_the_period_alike(month_logins, capsys):
    today = date.today()
    first = periods.add_months(today, -11)
    name = f"last 12 calendar months ({first:%-d %b %Y} to {today:%-d %b %Y})"
    series = statistics.login_series(statistics.ALL, periods.MONTHS)
    assert statistics.period_name(series) == name
    app = stats_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await settle_stats(app, pilot)
        title = str(screen.query_one("#stats-title").render())
        figures = str(screen.query_one("#stats-figures").render())
        charts = str(screen.query_one("#stats-logins", BarChart).render())
    assert title.strip() == f"Login statistics · All · {name}"
    assert f"Logins per month, {name}" in charts
    logged_in = statistics.logged_in(statistics.account_figures(statistics.ALL))
    assert logged_in in figures
    assert main(["stats", "--db", month_logins]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"Login statistics: All, {name}"
    assert logged_in in out.splitlines()
