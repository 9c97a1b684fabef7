"""The export dialog's keys at 80x24: up/down choose, the focus never jumps by itself, and the
focus shows without colour (NO_COLOR)."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import settle
from export_modal_helpers import rows_of, status
from export_world import World, build_world
from host_app import HostApp
from textual.widgets import Input, RadioSet, Select

from extgw_tui.screens.export import ExportModal
from extgw_tui.services.exports import ExportKind


@pytest.fixture
def world(sqlite_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("EXTGW_EXPORT_DIR", str(tmp_path))
    monkeypatch.setenv("NO_COLOR", "1")
    return build_world()


def _border(widget) -> str:
    return widget.styles.border_top[0]


async def test_up_down_choose_and_the_focus_stays_where_the_admin_put_it(
    world: World, tmp_path: Path
) -> None:
    app = HostApp(ExportModal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        modal = app.screen
        assert isinstance(modal, ExportModal) and app.no_color
        choices = modal.query_one(RadioSet)
        field = modal.query_one("#export-path", Input)
        assert app.focused is choices and _border(choices) == "double"
        assert _border(field) != "double"  # the focus is told by the border's shape
        await pilot.press("down")  # chooses "holders" without space
        await settle(pilot, app, typed=False)
        assert modal.kind is ExportKind.HOLDERS and choices.pressed_index == 1
        assert "external-users_parent-guardian_" in field.value
        await pilot.press("down", "up")
        await settle(pilot, app, typed=False)
        assert modal.kind is ExportKind.HOLDERS
        await pilot.press("tab")  # to the licence type
        select = modal.query_one("#export-licence", Select)
        assert app.focused is select
        await pilot.press("enter", "down", "enter")  # another licence type, by keyboard
        await settle(pilot, app, typed=False)
        assert select.value == "Pupil"
        assert app.focused is select  # no jump to "Save as"
        await pilot.press("tab")
        assert app.focused is field and _border(field) == "double"
        target = tmp_path / "chosen.xlsx"
        field.value = str(target)
        await pilot.press("enter")
        await settle(pilot, app, typed=False)
        assert f"to {target}" in status(app)
        assert len(rows_of(target)) > 1
