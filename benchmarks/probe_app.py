"""A child process that runs the app headless at 80x24 and reports what the runner asks for.

    probe_app.py bare   LAUNCHED              a bare Textual app with an empty DataTable
    probe_app.py start  LAUNCHED DB_URL       ExtgwApp until the first page of users shows,
                                              then page moves, with peak memory after each
    probe_app.py search LAUNCHED DB_URL TERMS each term of the JSON list TERMS typed into the
                                              search box, timed until a frame shows its rows

LAUNCHED is the runner's time.time() just before it started this process, so start-up is
measured from process start (interpreter and imports included), not from main().
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable

from common import emit, vmhwm_mb

#: How often the probe looks whether the screen is there yet.
POLL = 0.001
#: Page moves after the first page, as an administrator scrolls around a large list.
MOVES = ["pagedown"] * 5 + ["end", "pageup", "home"]


async def until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there within a minute")
        await asyncio.sleep(POLL)


async def bare(launched: float) -> dict:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Header

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable()
            yield Footer()

        def on_mount(self) -> None:
            self.query_one(DataTable).add_columns("ID", "Surname", "Email", "Access")

    app = Bare()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        ready = time.time() - launched
    return {"ready": ready, "vmhwm_mb": vmhwm_mb()}


def _app(url: str):
    from extgw_tui.app import ExtgwApp
    from extgw_tui.db import open_database

    class TimedApp(ExtgwApp):
        """The app as shipped, noting when a window of rows lands and when a frame is drawn
        (headless, Textual still composes every frame; only writing it out is skipped)."""

        def __init__(self, db_url: str) -> None:
            super().__init__(db_url)
            self.loaded_at: list[float] = []
            self.frames: list[float] = []

        def on_paged_table_loaded(self) -> None:
            self.loaded_at.append(time.perf_counter())

        def _display(self, screen, renderable) -> None:
            super()._display(screen, renderable)
            if renderable is not None:
                self.frames.append(time.perf_counter())

    open_database(url, pooled=True)  # as the CLI opens it for the app
    return TimedApp(url)


def _table(app):
    from extgw_tui.screens.users import UsersScreen
    from extgw_tui.widgets.paged_table import PagedTable

    if not isinstance(app.screen, UsersScreen):
        return None
    return app.screen.query_one("#users-table", PagedTable)


async def start(launched: float, url: str) -> dict:
    app = _app(url)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: (t := _table(app)) is not None and t.row_count > 0)
        ready = time.time() - launched
        first = vmhwm_mb()
        table = _table(app)
        for key in MOVES:
            await pilot.press(key)
            await until(lambda: not table.fetching)
            await pilot.pause()
        position = table.position
    return {
        "ready": ready,
        "vmhwm_first_mb": first,
        "vmhwm_mb": vmhwm_mb(),
        "rows": table.total,
        "final_position": position,
    }


async def _painted(app, table, started: float) -> tuple[float, float]:
    """Seconds from `started` until the table's rows landed, and until the next frame."""
    await until(lambda: not table.fetching and any(t > started for t in app.loaded_at))
    landed = min(t for t in app.loaded_at if t > started)
    await until(lambda: any(t > landed for t in app.frames))
    return landed - started, min(t for t in app.frames if t > landed) - started


async def search(launched: float, url: str, terms: list[str]) -> dict:
    """Each term twice, as an administrator searches:

    typed: the term is typed into the box and the search runs by itself after the debounce
           (focus stays in the box); timed from the last keystroke to the frame showing the
           rows, and reported with and without the deliberate DEBOUNCE wait;
    enter: the term is typed and enter pressed at once (the search runs now and focus moves
           to the table, so the footer and every visible row are drawn again).
    """
    from textual.widgets import Input

    from extgw_tui.screens.users import DEBOUNCE

    app = _app(url)
    typed: list[dict] = []
    entered: list[dict] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: (t := _table(app)) is not None and t.row_count > 0)
        screen, table = app.screen, _table(app)
        box = screen.query_one("#search", Input)
        box.focus()
        await pilot.pause()
        for term in terms:
            await asyncio.sleep(DEBOUNCE + 0.15)  # quiet: the previous search is over
            started = time.perf_counter()
            box.value = term
            landed, painted = await _painted(app, table, started)
            typed.append(
                {
                    "term": term,
                    "seconds": painted - DEBOUNCE,
                    "landed": landed,
                    "from_keystroke": painted,
                    "matches": table.total,
                }
            )
        for term in terms:
            box.value = ""
            box.focus()
            await pilot.pause()
            await asyncio.sleep(DEBOUNCE + 0.3)  # the emptied box's search has run
            started = time.perf_counter()
            box.value = term
            await pilot.press("enter")
            landed, painted = await _painted(app, table, started)
            entered.append(
                {"term": term, "seconds": painted, "landed": landed, "matches": table.total}
            )
    return {"typed": typed, "enter": entered, "vmhwm_mb": vmhwm_mb()}


def main(argv: list[str]) -> None:
    mode, launched = argv[0], float(argv[1])
    if mode == "bare":
        result = asyncio.run(bare(launched))
    elif mode == "start":
        result = asyncio.run(start(launched, argv[2]))
    elif mode == "search":
        result = asyncio.run(search(launched, argv[2], json.loads(argv[3])))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    emit(result)


if __name__ == "__main__":
    main(sys.argv[1:])
