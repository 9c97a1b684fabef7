"""`extgw-tui stats`: the figures as a table (a chart only on a terminal), and its errors."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta

from extgw_tui.cli import main
from extgw_tui.commands.stats import chart
from extgw_tui.models import PUPIL, ExternalUser, Licence, LicenceType, Pupil
from extgw_tui.services import periods
from extgw_tui.services.login_chart import y_ticks
from extgw_tui.services.portal import record_login
from extgw_tui.services.statistics import LoginSeries


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
    assert out.startswith("Login statistics: Pupil, last 12 weeks by ISO week\n")
    assert "Accounts 1 · allowed 1 · denied 0\n" in out
    assert "Logged in: last 30 days 1 · last 12 months 1 · never 0\n" in out
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


def test_chart_without_colour_tells_the_series_apart_by_marker():
    series = LoginSeries(periods.YEARS, ["2024/25", "2025/26"], [10, 4], [3, 2])
    text = chart(series, 60, plain=True)
    assert "24/25" in text and "25/26" in text
    assert "▒" in text and "█" in text
    assert "\x1b[" not in text


def test_chart_ticks_are_round_with_thousands_separators():
    series = LoginSeries(periods.MONTHS, ["2026-01", "2026-02"], [144_680, 36_170], [9_000, 5])
    text = chart(series, 60, plain=True)
    assert "100,000┤" in text and "50,000┤" in text and "144680" not in text
    assert "150,000" not in text  # above the tallest bar: it would be drawn over the frame
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
