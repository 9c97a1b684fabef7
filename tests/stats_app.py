"""A host app for the statistics screen and one way to wait for it (a helper module)."""

from __future__ import annotations

from textual.app import App

from extgw_tui.screens.stats import StatsScreen


class StatsApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(StatsScreen())


async def settle_stats(app: App, pilot) -> StatsScreen:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, StatsScreen)
    return screen
