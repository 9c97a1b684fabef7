"""The statistics screen in the one host app, and one way to wait for it (a helper module)."""

from __future__ import annotations

from host_app import HostApp
from textual.app import App

from extgw_tui.screens.stats import StatsScreen


def stats_app() -> HostApp:
    return HostApp(StatsScreen)


async def settle_stats(app: App, pilot) -> StatsScreen:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, StatsScreen)
    return screen
