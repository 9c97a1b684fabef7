"""`?` help at 80x24: every list key scrolls it, a scrollbar shows there is more, and no
description runs off sideways."""

from __future__ import annotations

from app_helpers import settle

from extgw_tui.app import ExtgwApp
from extgw_tui.screens.help import HelpKeys, HelpScreen


async def test_help_scrolls_with_every_list_key_at_80x24(sqlite_db) -> None:
    app = ExtgwApp(sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("question_mark")
        await settle(pilot, app, typed=False)
        assert isinstance(app.screen, HelpScreen)
        keys = app.screen.query_one(HelpKeys)
        assert keys.max_scroll_y > 0 and keys.show_vertical_scrollbar
        assert keys.max_scroll_x == 0  # long descriptions wrap within the box
        await pilot.press("end")
        await pilot.pause()
        assert keys.cursor_row == keys.row_count - 1 and keys.scroll_y == keys.max_scroll_y
        await pilot.press("home")
        await pilot.pause()
        assert keys.cursor_row == 0 and keys.scroll_y == 0
        await pilot.press("G")
        await pilot.pause()
        assert keys.scroll_y == keys.max_scroll_y
        await pilot.press("g", "pagedown")
        await pilot.pause()
        assert keys.scroll_y > 0
        await pilot.press("pageup")
        await pilot.pause()
        assert keys.scroll_y == 0
        for _ in range(keys.row_count):
            await pilot.press("j")
        await pilot.pause()
        assert keys.scroll_y == keys.max_scroll_y
        await pilot.press("k", "up")
        await pilot.pause()
        assert keys.cursor_row == keys.row_count - 3
