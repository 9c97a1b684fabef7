"""The statistics screen under Pilot: links and keys change the charts' data; they fit from 40x12
to 200x60; they follow the theme; the footer, the help and the palette name its keys."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from stats_app import settle_stats, stats_app
from textual.color import Color
from textual.command import CommandList
from textual.widgets import DataTable, Footer, Static

from extgw_tui.app import ExtgwApp
from extgw_tui.models import PARENT_GUARDIAN, PUPIL, ExternalUser, Licence, LicenceType, Pupil
from extgw_tui.screens.help import HelpScreen, screen_actions
from extgw_tui.screens.stats import StatsScreen
from extgw_tui.services import periods
from extgw_tui.services.licences import add_licence_type
from extgw_tui.services.portal import record_login
from extgw_tui.widgets.bar_chart import BarChart


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


def _plot_text(screen: StatsScreen, chart: str = "#stats-logins") -> str:
    return str(screen.query_one(chart, BarChart).render())


def _bar_colours(screen: StatsScreen, chart: str = "#stats-logins") -> set[tuple[int, int, int]]:
    """The foreground colours in the drawn chart (its bars, axes and labels)."""
    text = screen.query_one(chart, BarChart).render()
    return {
        tuple(span.style.color.triplet)
        for span in text.spans
        if not isinstance(span.style, str) and span.style.color and span.style.color.triplet
    }


async def _open_over_users(app: ExtgwApp, pilot) -> StatsScreen:
    """The real app, its statistics screen opened from the users screen with `s`."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.press("s")
    return await settle_stats(app, pilot)


async def test_links_keys_and_clicks_change_the_chart(logins):
    app = stats_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle_stats(app, pilot)
        assert [g.name for g in screen.groups] == ["All", PARENT_GUARDIAN, PUPIL, "Carer"]
        assert screen.shown.group.name == "All"
        assert (screen.shown.series.logins[-1], screen.shown.series.users[-1]) == (4, 2)
        all_chart = _plot_text(screen)

        await pilot.press("right")
        screen = await settle_stats(app, pilot)
        assert screen.shown.group.name == PARENT_GUARDIAN
        assert (screen.shown.series.logins[-1], screen.shown.series.users[-1]) == (3, 1)
        assert _plot_text(screen) != all_chart

        await pilot.press("4")
        screen = await settle_stats(app, pilot)
        assert screen.shown.group.name == "Carer"
        assert sum(screen.shown.series.logins) == 0

        # a click on "3 Pupil" in the links line: " 1 All   2 Parent/Guardian   3 Pupil "
        links = str(screen.query_one("#stats-links", Static).render())
        await pilot.click("#stats-links", offset=(links.index("3 Pupil") + 2, 0))
        screen = await settle_stats(app, pilot)
        assert screen.shown.group.name == PUPIL
        assert screen.shown.series.logins[-1] == 1
        assert screen.shown.figures.accounts == 1

        await pilot.press("left", "left")
        screen = await settle_stats(app, pilot)
        assert screen.shown.group.name == "All"


async def test_period_switch_and_refresh(logins):
    app = stats_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle_stats(app, pilot)
        await pilot.press("p")
        screen = await settle_stats(app, pilot)
        assert screen.shown.series.mode == periods.WEEKS
        assert len(screen.shown.series.labels) == 12
        await pilot.press("p")
        screen = await settle_stats(app, pilot)
        assert screen.shown.series.mode == periods.YEARS
        assert sum(screen.shown.series.logins) == 4
        await pilot.press("p")
        screen = await settle_stats(app, pilot)
        assert screen.shown.series.mode == periods.MONTHS

        record_login(ExternalUser.get(ExternalUser.surname == "Child"))
        await pilot.press("ctrl+r")
        screen = await settle_stats(app, pilot)
        assert screen.shown.series.logins[-1] == 5

        period = str(screen.query_one("#stats-period", Static).render())
        await pilot.click("#stats-period", offset=(period.index("years") + 2, 0))
        screen = await settle_stats(app, pilot)
        assert screen.shown.series.mode == periods.YEARS

        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, StatsScreen)


async def test_a_licence_type_name_is_shown_as_typed_never_as_markup(logins):
    add_licence_type("[b]Carer[/b] [@click=app.quit]x")
    app = stats_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle_stats(app, pilot)
        links = str(screen.query_one("#stats-links", Static).render())
        assert "5 [b]Carer[/b] [@click=app.quit]x" in links
        await pilot.press("5")
        screen = await settle_stats(app, pilot)
        assert screen.shown.group.name.startswith("[b]Carer")


async def test_the_palette_shows_a_licence_type_name_as_typed(logins):
    add_licence_type("Odd [/i] [b]name")  # unbalanced: read as markup it cannot even be parsed
    app = ExtgwApp(logins.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_over_users(app, pilot)
        await pilot.press("ctrl+p", *"odd")
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        options = app.screen.query_one(CommandList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any(prompt.startswith("Show Odd [/i] [b]name") for prompt in prompts), prompts


@pytest.mark.parametrize("size", [(40, 12), (80, 24), (140, 40), (200, 60)])
async def test_links_and_figures_stay_in_view_at_each_size(logins, size):
    """The chart gives way in a small window; from 80x24 up all three are there to read."""
    app = stats_app()
    async with app.run_test(size=size) as pilot:
        screen = await settle_stats(app, pilot)
        for selector in ("#stats-title", "#stats-links", "#stats-figures", "#stats-period"):
            region = screen.query_one(selector).region
            assert region.height >= 1 and region.bottom <= size[1] - 1, selector  # above footer
        assert "never" in str(screen.query_one("#stats-figures", Static).render())
        assert "4 Carer" in str(screen.query_one("#stats-links", Static).render())
        for chart in ("#stats-logins", "#stats-users"):
            plot = screen.query_one(chart, BarChart)
            if size == (40, 12):
                assert plot.size.height < BarChart.MIN_ROWS
                assert "Enlarge the window" in _plot_text(screen, chart)
            else:
                assert plot.size.height >= 8 and plot.size.width == size[0]
                assert datetime.now().strftime("%b") in _plot_text(screen, chart)  # its label
        await pilot.resize_terminal(80, 24)  # and back: the charts return
        await pilot.pause()
        assert "Logins per month" in _plot_text(screen)
        assert "Distinct users per month" in _plot_text(screen, "#stats-users")


async def test_y_axis_ticks_have_thousands_separators(logins):
    for _ in range(1_500):
        record_login(ExternalUser.get(ExternalUser.surname == "Child"))
    app = stats_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle_stats(app, pilot)
        chart = _plot_text(screen)
        assert "1,000┤" in chart and "1,500┤" in chart and "1000" not in chart
        assert "1,504" in chart  # this month's bar, its figure: 1,500 and the fixture's 4


async def test_a_theme_change_redraws_the_bars_in_its_colours(logins):
    app = stats_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle_stats(app, pilot)
        before = Color.parse(app.theme_variables["primary"]).rgb
        assert before in _bar_colours(screen)
        app.theme = "nord"  # what ctrl+p "Change theme" does
        await pilot.pause()
        await pilot.pause()
        after = Color.parse(app.theme_variables["primary"]).rgb
        assert after != before
        assert after in _bar_colours(screen) and before not in _bar_colours(screen)
        accent = Color.parse(app.theme_variables["accent"]).rgb
        assert accent in _bar_colours(screen, "#stats-users")
        app.theme = "ansi-dark"  # the terminal's own colours: the charts' titles tell them apart
        await pilot.pause()
        await pilot.pause()
        for chart in ("#stats-logins", "#stats-users"):
            assert screen.query_one(chart, BarChart).theme == "clear"
            assert after not in _bar_colours(screen, chart)


async def test_footer_shows_the_main_keys_at_80_columns(logins):
    app = ExtgwApp(logins.url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_over_users(app, pilot)
        keys = {key.action: key for key in screen.query_one(Footer).query("FooterKey")}
        palette = keys["command_palette"].region
        for action in ("back", "step(-1)", "step(1)", "cycle_period", "refresh", "help"):
            region = keys[action].region
            assert region.width and region.right <= palette.x, action


async def test_help_and_palette_name_the_links_there_are(logins):
    app = ExtgwApp(logins.url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_over_users(app, pilot)
        shows = [a.description for a in screen_actions(screen) if a.action.startswith("choose")]
        assert shows == ["Show All", f"Show {PARENT_GUARDIAN}", f"Show {PUPIL}", "Show Carer"]
        palette = [command.title for command in app.get_system_commands(screen)]
        assert "Show Carer" in palette and not any("link" in title for title in palette)

        await pilot.press("question_mark")  # the help over this screen shows every key
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        table = help_screen.query_one(DataTable)
        assert table.row_count == len(screen_actions(screen))
        assert table.region.height >= table.row_count + 1  # the heading too: none cut off
        assert table.region.bottom <= 24
        assert "Show Pupil" in [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        await pilot.press("escape")
        await pilot.press("5")  # no fifth link: nothing happens
        screen = await settle_stats(app, pilot)
        assert screen.shown.group.name == "All"


async def test_no_color_draws_without_colours(logins, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = stats_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle_stats(app, pilot)
        for chart, title in (("#stats-logins", "Logins per"), ("#stats-users", "Distinct users")):
            assert screen.query_one(chart, BarChart).theme == "clear"
            assert _bar_colours(screen, chart) == set()
            assert _plot_text(screen, chart).lstrip().startswith(title)  # the title tells them
