"""One way for app tests to wait, and to read what the administrator was told and shown."""

from __future__ import annotations

from contextlib import suppress

from textual.strip import Strip
from textual.widgets import Input, Select
from textual.worker import WorkerCancelled, WorkerFailed

from extgw_tui.app import ExtgwApp
from extgw_tui.widgets.paged_table import PagedTable

#: The private Textual names read below, each because Textual has no public way to read it
#: (tests/test_textual_private.py checks they still exist, so an upgrade fails there first).
PRIVATE_READS: list[tuple[str, str]] = [
    ("App", "_notifications"),  # the notifications still showing: no public list of them
    ("Screen", "_compositor"),  # the screen as the terminal shows it: export_screenshot is SVG
    ("Input", "_suggestion"),  # the completion offered: Suggester results are not public
    ("Select", "_options"),  # the values offered: Select has no public list of its options
]


async def settle(pilot, app, *, typed: bool = True) -> PagedTable | None:
    """Let a search debounce fire (after typing) and every worker and paged query land; the
    screen's first paged table, if it has one. Every app test waits this one way."""
    await pilot.pause(0.2 if typed else 0)
    for _ in range(500):
        # A worker that failed or was cancelled has ended too; a failure reaches the app's
        # error funnel (a bug still fails its test there), and the tests read what it said.
        with suppress(WorkerFailed, WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()
        tables = app.screen.query(PagedTable)
        if not any(w.is_running for w in app.workers) and not any(t.fetching for t in tables):
            await pilot.pause()
            return tables.first() if tables else None
    raise AssertionError("the screen never settled")


def messages(app) -> list[str]:
    """The notifications showing now (App.notify adds, expiry and clear_notifications remove;
    recording App.notify in a subclass would keep cleared ones, so tests read the app's own)."""
    return [n.message for n in app._notifications]


def screen_strips(app) -> list[Strip]:
    """The current screen's lines, styled, exactly as the terminal is sent them."""
    return app.screen._compositor.render_strips()


def screen_text(app) -> str:
    """What the terminal shows, as plain lines."""
    return "\n".join(strip.text for strip in screen_strips(app))


def suggestion(field: Input) -> str:
    """The completion the field offers now (what right arrow would accept)."""
    return field._suggestion


def select_values(select: Select) -> list:
    """The values the Select offers, in order, its blank included."""
    return [value for _, value in select._options]


class NotedApp(ExtgwApp):
    """The real app, keeping every notification as (severity, text), even once it has gone.

    reraise_bugs=False: a bug is reported as in production (a notification, the app carries
    on), not kept for Pilot to re-raise, for the tests that check that reporting itself.
    """

    def __init__(self, db_url: str, *, reraise_bugs: bool = True) -> None:
        super().__init__(db_url=db_url)
        self.reraise_bugs_headless = reraise_bugs
        self.seen: list[tuple[str, str]] = []

    @property
    def errors(self) -> list[str]:
        """The text of every error notification, in order."""
        return [text for severity, text in self.seen if severity == "error"]

    def notify(self, message: str, *, severity: str = "information", **kwargs) -> None:
        self.seen.append((severity, str(message)))
        super().notify(message, severity=severity, **kwargs)
