"""`extgw-tui stats`: the figures as a table (a chart only on a terminal), and its errors."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta

from extgw_tui.cli import main
from extgw_tui.models import PUPIL, ExternalUser, Licence, LicenceType, Pupil
from extgw_tui.services import bar_chart, login_chart, periods
from extgw_tui.services.bar_chart import figure, y_ticks
from extgw_tui.services.portal import record_login
from extgw_tui.services.statistics import LoginSeries, period_name


def _fixture() -> None:
    """A pupil account with 2 logins this week and 1 a year ago; a parent with 1 today, denied."""
    pupil_type = LicenceType.get(LicenceType.name == PUPIL).id
    pupil = Pupil.create(forename="Pia", surname="One")
    child = ExternalUser.create(surname="Child", email="c@example.org", password_hash="x")
    parent = ExternalUser.create(
        surname="Parent", email="p@example.org", password_hash="x", access_allowed=False
    )
    Licence.create(user=child, pupil=pupil, licence_type=pupil_type)
    monday = datetime.combine(periods.week_start(date.today()), datetime.min.time())
    record_login(child, at=monday - timedelta(days=364))
    record_login(child, at=monday + timedelta(minutes=1))
    record_login(child, at=monday + timedelta(minutes=2))
    record_login(parent, at=monday + timedelta(minutes=3))


def _rows(text: str) -> dict[str, tuple[str, ...]]:
    return {line.split()[0]: tuple(line.split()[1:]) for line in text.splitlines() if line}


def test_weeks_for_one_licence_type(sqlite_db, capsys):
    _fixture()
    assert main(["stats", "--db", sqlite_db.url, "--licence", "pupil", "--period", "weeks"]) == 0
    out = capsys.readouterr().out
    monday = periods.week_start(date.today()) - timedelta(weeks=11)
    weeks = f"last 12 ISO weeks ({monday:%-d %b %Y} to {date.today():%-d %b %Y})"
    assert out.startswith(f"Login statistics: Pupil, {weeks}\n")
    assert "Accounts 1 · allowed 1 · denied 0\n" in out
    since = periods.rolling_year_start(date.today())
    assert f"Logged in: 30 days 1 · since {since:%-d %b %Y} (12 months) 1 · never 0\n" in out
    rows = _rows(out)
    this_week = periods.last_weeks(date.today())[-1].label
    assert rows[this_week] == ("2", "1")
    assert rows["Total"] == ("2",)
    assert sum(1 for label in rows if "-W" in label) == 12
    assert "┤" not in out  # no chart when stdout is not a terminal


def test_all_by_school_year(sqlite_db, capsys):
    _fixture()
    assert main(["stats", "--db", sqlite_db.url, "--period", "years"]) == 0
    out = capsys.readouterr().out
    assert "Accounts 2 · allowed 1 · denied 1\n" in out
    rows = _rows(out)
    assert rows["Total"] == ("4",)
    assert list(rows)[-2] == periods.school_years(None, date.today())[0].label


def test_unknown_licence_type_is_one_sentence(sqlite_db, capsys):
    assert main(["stats", "--db", sqlite_db.url, "--licence", "Nanny"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("extgw-tui: There is no licence type called 'Nanny'")
    assert "Traceback" not in err


def _series(mode: str, labels: list[str], logins: list[int], users: list[int]) -> LoginSeries:
    return LoginSeries(mode, labels, logins, users, date(2024, 9, 1), date(2026, 3, 18))


def test_the_charts_are_titled_with_the_period_and_show_each_bars_figure():
    series = _series(periods.YEARS, ["2024/25", "2025/26"], [10, 4], [3, 2])
    name = "every school year (1 Sep 2024 to 18 Mar 2026)"
    assert period_name(series) == name
    logins, users = (bar_chart.text(b, 100, 14, plain=True) for b in login_chart.charts(series))
    assert f"Logins per school year, {name}" in logins
    assert f"Distinct users per school year, {name}" in users
    assert "24/25" in logins and "25/26" in logins
    assert "█10█" in logins and "█3██" in users  # each bar's figure written on it
    assert "\x1b[" not in logins + users
    narrow = bar_chart.text(login_chart.charts(series)[1], 60, 14, plain=True)
    assert narrow.splitlines()[0].strip() == "Distinct users per school year"  # too wide: shorter


def test_chart_ticks_are_round_and_figures_shortened_only_where_narrow():
    series = _series(periods.MONTHS, ["2026-01", "2026-02"], [144_680, 36_170], [9_000, 5])
    text = bar_chart.text(login_chart.charts(series)[0], 60, 14, plain=True)
    assert "100,000┤" in text and "50,000┤" in text and "144,680" in text
    assert "150,000" not in text  # above the tallest bar: it would be drawn over the frame
    assert figure(144_680, 5) == "145k" and figure(36_170, 5) == "36.2k"
    assert figure(36_170, 6) == "36,170" and figure(999, 1) == "999"
    assert figure(999_999, 4) == "1.0M" and figure(12_345_678, 4) == "12M"
    assert y_ticks(144_680) == ([0, 50_000, 100_000], ["0", "50,000", "100,000"])
    assert y_ticks(7_700) == ([0, 2_000, 4_000, 6_000], ["0", "2,000", "4,000", "6,000"])
    assert y_ticks(3) == ([0, 1, 2, 3], ["0", "1", "2", "3"])
    assert y_ticks(1_000) == ([0, 250, 500, 750, 1_000], ["0", "250", "500", "750", "1,000"])
    assert y_ticks(86_000)[1] == ["0", "25,000", "50,000", "75,000"]
    assert y_ticks(9) == ([0, 5], ["0", "5"])
    assert y_ticks(1) == ([0, 1], ["0", "1"])
    assert y_ticks(0) == ([0], ["0"])


def test_the_command_does_not_load_the_screens():
    """Layering: commands use services; the Textual screens are the app's alone."""
    script = (
        "import sys, extgw_tui.commands.stats\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'textual_plotext')"
        " or m.startswith('extgw_tui.screens')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"
