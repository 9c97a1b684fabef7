"""StatusLine: shows text as typed (never markup), repaints only when the text changes, and
never asks the screen for a new layout (its height is fixed)."""

from __future__ import annotations

from app_helpers import screen_text
from host_app import HostApp

from extgw_tui.widgets.status_line import StatusLine


async def test_text_is_shown_as_typed_and_only_a_change_repaints():
    app = HostApp(widgets=lambda: [StatusLine("Loading…", id="line")])
    async with app.run_test(size=(60, 5)) as pilot:
        line = app.query_one("#line", StatusLine)
        asked: list[dict] = []
        repaint = line.refresh

        def noted(*args, **kwargs):
            asked.append(kwargs)
            return repaint(*args, **kwargs)

        line.refresh = noted
        line.show("[b]O'Brien[/b] · rows 1-18 of 1,273")
        await pilot.pause()
        assert "[b]O'Brien[/b] · rows 1-18 of 1,273" in screen_text(app)
        assert asked and not any(kwargs.get("layout") for kwargs in asked)
        asked.clear()
        line.show("[b]O'Brien[/b] · rows 1-18 of 1,273")
        assert asked == []  # the same text: nothing to draw
