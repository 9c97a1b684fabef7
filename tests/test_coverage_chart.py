"""The coverage chart: its legend is a line of its own above the plot (never drawn over the
bars), in the bars' colours, or told apart by marker with NO_COLOR; the bars are each year's
shares; the command's chart has no legend inside its plot either."""

from __future__ import annotations

import re

import pytest
from app_helpers import settle
from chart_helpers import inside_plot
from host_app import HostApp
from textual.app import App
from textual.color import Color
from textual.widgets import Static

from extgw_tui.models import ExternalUser, Licence, Pupil, now
from extgw_tui.screens.coverage import CoverageScreen
from extgw_tui.services import bar_chart, coverage
from extgw_tui.widgets.bar_chart import BarChart

PARENT, OWN = 1, 2


@pytest.fixture
def school(db):
    """Year 7: 2 pupils, both with an active parent, one also with her own account; year 8:
    4 pupils, one with an active parent."""
    for year, pupils, parents, own in ((7, 2, 2, 1), (8, 4, 1, 0)):
        for n in range(pupils):
            kid = Pupil.create(forename="Kim", surname=f"Y{year}", year_group=year, form=f"{year}A")
            for licence_type, covered in ((PARENT, n < parents), (OWN, n < own)):
                if covered:
                    user = ExternalUser.create(
                        surname="Holder",
                        email=f"h{ExternalUser.select().count()}@example.org",
                        password_hash="x",
                        last_login_at=now(),
                    )
                    Licence.create(user=user.id, pupil=kid.id, licence_type=licence_type)
    return db


async def _settle(app: App, pilot) -> CoverageScreen:
    await settle(pilot, app, typed=False)
    assert isinstance(app.screen, CoverageScreen)
    return app.screen


@pytest.mark.parametrize("size", [(80, 24), (140, 40)])
async def test_the_legend_is_above_the_plot_in_the_bars_colours(school, size):
    app = HostApp(CoverageScreen)
    async with app.run_test(size=size) as pilot:
        screen = await _settle(app, pilot)
        shares = [bar.values for bar in screen.query_one(BarChart).bars.series]
        assert shares == [[100, 25], [50, 0]]
        legend = screen.query_one("#coverage-legend", Static)
        chart = screen.query_one(BarChart)
        assert legend.region.height == 1 and legend.region.bottom <= chart.region.y
        text = legend.content  # the Text the screen gave it
        assert str(text).split() == ["██", "Parent/Guardian", "%", "▒▒", "Pupil", "%"]
        colours = [span.style.color.triplet for span in text.spans if span.style.color]
        wanted = [Color.parse(app.theme_variables[name]).rgb for name in ("primary", "accent")]
        assert [tuple(c) for c in colours] == wanted
        drawn = str(chart.render())
        inside = inside_plot(drawn)
        assert not re.search(r"[A-Za-z]", inside), inside  # no legend over the bars
        assert "█" in inside and "▒" in inside  # both series, by marker
        assert "100%┤" in drawn and "Y7" in drawn and "Y8" in drawn


async def test_no_color_legend_tells_the_series_apart_by_marker(school, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = HostApp(CoverageScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _settle(app, pilot)
        text = screen.query_one("#coverage-legend", Static).content
        assert str(text).split()[::3] == ["██", "▒▒"]
        assert not [span for span in text.spans if span.style.color]
        assert screen.query_one(BarChart).theme == "clear"


def test_the_commands_chart_has_no_legend_inside_its_plot(school):
    text = bar_chart.text(coverage.bars(coverage.coverage()), 80, 18, plain=True)
    inside = inside_plot(text)
    assert not re.search(r"[A-Za-z]", inside) and "▒" in inside
