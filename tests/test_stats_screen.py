"""The statistics screen under Pilot: links and keys change the chart's data; it fits 80x24."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from textual.app import App
from textual.widgets import Static
from textual_plotext import PlotextPlot

from extgw_tui.models import PARENT_GUARDIAN, PUPIL, ExternalUser, Licence, LicenceType, Pupil
from extgw_tui.screens.stats import StatsScreen
from extgw_tui.services import periods
from extgw_tui.services.licences import add_licence_type
from extgw_tui.services.portal import record_login


class StatsApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(StatsScreen())


@pytest.fixture
def logins(sqlite_db):
    """This month: 3 Parent/Guardian logins by one account, 1 Pupil login; Carer has none."""
    add_licence_type("Carer")
    types = dict(LicenceType.select(LicenceType.name, LicenceType.id).tuples())
    pupil = Pupil.create(forename="Pia", surname="One")
    parent = ExternalUser.create(surname="Parent", email="p@example.org", password_hash="x")
    child = ExternalUser.create(surname="Child", email="c@example.org", password_hash="x")
    Licence.create(user=parent, pupil=pupil, licence_type=types[PARENT_GUARDIAN])
    Licence.create(user=child, pupil=pupil, licence_type=types[PUPIL])
    start = datetime.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for minutes in (1, 2, 3):
        record_login(parent, at=start + timedelta(minutes=minutes))
    record_login(child, at=start + timedelta(minutes=4))
    return sqlite_db


async def _settle(app: App, pilot) -> StatsScreen:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, StatsScreen)
    return screen


def _plot_text(screen: StatsScreen) -> str:
    plot = screen.query_one(PlotextPlot)
    return str(plot.render())


async def test_links_keys_and_clicks_change_the_chart(logins):
    app = StatsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _settle(app, pilot)
        assert [g.name for g in screen.groups] == ["All", PARENT_GUARDIAN, PUPIL, "Carer"]
        assert screen.shown.group.name == "All"
        assert (screen.shown.series.logins[-1], screen.shown.series.users[-1]) == (4, 2)
        all_chart = _plot_text(screen)

        await pilot.press("right")
        screen = await _settle(app, pilot)
        assert screen.shown.group.name == PARENT_GUARDIAN
        assert (screen.shown.series.logins[-1], screen.shown.series.users[-1]) == (3, 1)
        assert _plot_text(screen) != all_chart

        await pilot.press("4")
        screen = await _settle(app, pilot)
        assert screen.shown.group.name == "Carer"
        assert sum(screen.shown.series.logins) == 0

        # a click on "3 Pupil" in the links line: " 1 All   2 Parent/Guardian   3 Pupil "
        links = str(screen.query_one("#stats-links", Static).render())
        await pilot.click("#stats-links", offset=(links.index("3 Pupil") + 2, 0))
        screen = await _settle(app, pilot)
        assert screen.shown.group.name == PUPIL
        assert screen.shown.series.logins[-1] == 1
        assert screen.shown.figures.accounts == 1

        await pilot.press("left", "left")
        screen = await _settle(app, pilot)
        assert screen.shown.group.name == "All"


async def test_period_switch_and_refresh(logins):
    app = StatsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _settle(app, pilot)
        await pilot.press("p")
        screen = await _settle(app, pilot)
        assert screen.shown.series.mode == periods.WEEKS
        assert len(screen.shown.series.labels) == 12
        await pilot.press("p")
        screen = await _settle(app, pilot)
        assert screen.shown.series.mode == periods.YEARS
        assert sum(screen.shown.series.logins) == 4
        await pilot.press("p")
        screen = await _settle(app, pilot)
        assert screen.shown.series.mode == periods.MONTHS

        record_login(ExternalUser.get(ExternalUser.surname == "Child"))
        await pilot.press("ctrl+r")
        screen = await _settle(app, pilot)
        assert screen.shown.series.logins[-1] == 5

        period = str(screen.query_one("#stats-period", Static).render())
        await pilot.click("#stats-period", offset=(period.index("years") + 2, 0))
        screen = await _settle(app, pilot)
        assert screen.shown.series.mode == periods.YEARS

        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, StatsScreen)


async def test_a_licence_type_name_is_shown_as_typed_never_as_markup(logins):
    add_licence_type("[b]Carer[/b] [@click=app.quit]x")
    app = StatsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _settle(app, pilot)
        links = str(screen.query_one("#stats-links", Static).render())
        assert "5 [b]Carer[/b] [@click=app.quit]x" in links
        await pilot.press("5")
        screen = await _settle(app, pilot)
        assert screen.shown.group.name.startswith("[b]Carer")


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_renders_whole_at_each_size(logins, size):
    app = StatsApp()
    async with app.run_test(size=size) as pilot:
        screen = await _settle(app, pilot)
        plot = screen.query_one(PlotextPlot)
        assert plot.size.height >= 8 and plot.size.width == size[0]
        for selector in ("#stats-title", "#stats-links", "#stats-figures", "#stats-period"):
            widget = screen.query_one(selector)
            assert widget.region.bottom <= size[1] - 1, selector  # above the footer
        assert "1 All" in str(screen.query_one("#stats-links", Static).render())
        assert datetime.now().strftime("%b") in _plot_text(screen)  # this month's bar label


async def test_no_color_draws_without_colours(logins, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = StatsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _settle(app, pilot)
        plot = screen.query_one(PlotextPlot)
        assert plot.theme == "clear"
        assert "▒" in _plot_text(screen)  # the distinct-users bars, told apart by their marker
