"""Statistics: "last 12 months" is a rolling year by the review's rule, named on screen, with a
line saying why the licence types need not add up to All."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from stats_app import settle_stats, stats_app

from extgw_tui.models import ExternalUser
from extgw_tui.services import periods, review, statistics
from extgw_tui.services.portal import record_login

TODAY = date(2026, 3, 18)


def test_last_12_months_is_rolling_as_in_the_review(db) -> None:
    first = periods.rolling_year_start(TODAY)
    assert first == review.cutoff_day(12, TODAY) + timedelta(days=1) == date(2025, 3, 19)
    inside = ExternalUser.create(surname="In", email="in@example.org", password_hash="x")
    outside = ExternalUser.create(surname="Out", email="out@example.org", password_hash="x")
    record_login(inside, at=datetime(2025, 3, 19, 8, 0))  # 364 days ago: inside
    record_login(outside, at=datetime(2025, 3, 18, 23, 0))  # a year ago to the day: outside
    # (calendar months since 1 April 2025 would count neither; since 1 March 2025, both)
    f = statistics.account_figures(statistics.ALL, TODAY)
    assert (f.last_12_months, f.year_from) == (1, first)
    assert not review.months_inactive(datetime(2025, 3, 19), TODAY) >= 12
    assert review.months_inactive(datetime(2025, 3, 18), TODAY) >= 12


async def test_the_screen_names_the_period_and_why_types_overlap(sqlite_db) -> None:
    app = stats_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle_stats(app, pilot)
        text = str(screen.query_one("#stats-figures").render())
        since = periods.rolling_year_start(date.today())
        assert f"since {since:%-d %b %Y} (12 months)" in text
        note = screen.query_one("#stats-note")
        assert note.display and "may hold both, or none" in str(note.render())
