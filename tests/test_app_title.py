"""The title names the database (and DEMO for the demo) and fits in 80 columns."""

from __future__ import annotations

from pathlib import Path

from app_helpers import screen_strips

from extgw_tui import settings
from extgw_tui.app import ExtgwApp
from extgw_tui.db import database_name
from extgw_tui.models import database


def _top_line(app) -> str:
    return screen_strips(app)[0].text


async def _title_at_80x24(url: str) -> str:
    app = ExtgwApp(url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        line = _top_line(app)
    database.close()
    database.initialize(None)
    return line


async def test_the_demo_is_named_demo_in_full_at_80_columns() -> None:
    url = settings.demo_db_url("large")
    line = await _title_at_80x24(url)
    assert "DEMO demo-large.sqlite3 · admin test-admin" in line, line


async def test_a_real_database_shows_its_file_name(tmp_path: Path) -> None:
    folder = tmp_path / ("a-very-long-folder-name-of-the-school-office" * 2)
    folder.mkdir()
    line = await _title_at_80x24(f"sqlite:///{folder / 'gateway.sqlite3'}")
    assert "gateway.sqlite3 · admin test-admin" in line and "DEMO" not in line, line


def test_a_postgresql_database_is_named_without_server_or_password() -> None:
    url = "postgresql://admin:secret@db.school.example:5432/extgw_live"
    assert database_name(url) == "extgw_live"
