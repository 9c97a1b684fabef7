"""A worker hands its progress and result to the UI without waiting for the event loop.

When App.call_from_thread delivered them, a worker whose loop had stopped or was stuck waited
with it, and the process waits for its worker threads at exit. Here the UI thread itself stops
running the loop and waits for the worker, as an exit does: the worker must still end.
"""

from __future__ import annotations

import threading
from pathlib import Path

from busy_pilot import wait_until
from export_modal_helpers import status
from host_app import HostApp
from textual.widgets import Static

from extgw_tui.errors import ExtgwError
from extgw_tui.screens.export_dialog import ExportDialog
from extgw_tui.widgets.dbwork import db_work
from extgw_tui.widgets.to_ui import post_to_ui

WAIT = 10  # seconds: far beyond a handover that does not wait; the old one never returned


class Tracked(Static):
    """A widget whose thread workers say when their work has returned (its thread is free)."""

    def __init__(self) -> None:
        super().__init__()
        self.returned = threading.Event()

    def run_worker(self, work, *args, **kwargs):
        def tracked():
            try:
                return work()
            finally:
                self.returned.set()

        return super().run_worker(tracked, *args, **kwargs)


async def test_a_worker_ends_while_the_loop_is_stopped_and_its_calls_land_in_order(sqlite_db):
    node = Tracked()
    app = HostApp(widgets=lambda: [node])
    seen: list[object] = []
    started, go = threading.Event(), threading.Event()

    def work() -> str:
        started.set()
        go.wait(WAIT)
        post_to_ui(node, seen.append, 1)
        post_to_ui(node, seen.append, 2)
        return "done"

    async with app.run_test() as pilot:
        db_work(node, work, on_success=seen.append)
        await wait_until(started.is_set)
        go.set()
        # The loop runs nothing until this returns: the worker must not need it to.
        assert node.returned.wait(WAIT), "the worker waited for the stopped event loop"
        assert seen == []  # nothing ran on the worker's thread
        await wait_until(lambda: len(seen) == 3)
        await pilot.pause()
        assert seen == [1, 2, "done"]


class Reporting(ExportDialog):
    """An export that reports its progress only once the UI thread has stopped the loop."""

    def __init__(self) -> None:
        super().__init__()
        self.started, self.go, self.reported = (threading.Event() for _ in range(3))

    def compose_choices(self):
        yield Static("two rows")

    def default_path(self) -> Path:
        return Path("two.xlsx")

    def write(self, target, progress, should_cancel):
        self.started.set()
        self.go.wait(WAIT)
        progress(1, 2)
        progress(2, 2)
        self.reported.set()
        raise ExtgwError("Stopped after the progress.")


async def test_export_progress_never_waits_for_the_loop(sqlite_db, tmp_path: Path):
    dialog = Reporting()
    app = HostApp(lambda: dialog)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dialog.query_one("#export-path").value = str(tmp_path / "two.xlsx")
        dialog.action_export()
        await wait_until(dialog.started.is_set)
        dialog.go.set()
        assert dialog.reported.wait(WAIT), "the export's progress waited for the stopped loop"
        await wait_until(lambda: "Stopped after" in status(app))
        assert str(dialog.query_one("#export-count").render()) == "2 of 2 rows"


async def test_a_call_for_an_app_that_has_exited_is_dropped_at_once():
    node = Static()
    app = HostApp(widgets=lambda: [node])
    seen: list[object] = []
    posted: list[bool] = []
    go = threading.Event()

    def late() -> None:
        go.wait(WAIT)
        posted.append(post_to_ui(node, seen.append, "late"))

    thread = threading.Thread(target=late)
    async with app.run_test():
        thread.start()
    go.set()
    thread.join(WAIT)
    assert not thread.is_alive()
    assert posted == [False] and seen == []
