"""The statistics screen in the one host app, and one way to wait for it (a helper module)."""

from __future__ import annotations

from app_helpers import settle
from host_app import HostApp
from textual.app import App

from extgw_tui.screens.stats import StatsScreen


def stats_app() -> HostApp:
    return HostApp(StatsScreen)


async def settle_stats(app: App, pilot) -> StatsScreen:
    await settle(pilot, app, typed=False)
    screen = app.screen
    assert isinstance(screen, StatsScreen)
    return screen
