"""One way for app tests to wait and to read what the administrator was told."""

from __future__ import annotations

from extgw_tui.widgets.paged_table import PagedTable


async def settle(pilot, app, *, typed: bool = True) -> PagedTable | None:
    """Let a search debounce fire (after typing) and every worker and paged query land; the
    screen's first paged table, if it has one. Every app test waits this one way."""
    await pilot.pause(0.2 if typed else 0)
    for _ in range(500):
        await app.workers.wait_for_complete()
        await pilot.pause()
        tables = app.screen.query(PagedTable)
        if not any(w.is_running for w in app.workers) and not any(t.fetching for t in tables):
            await pilot.pause()
            return tables.first() if tables else None
    raise AssertionError("the screen never settled")


def messages(app) -> list[str]:
    """The notifications shown so far."""
    return [n.message for n in app._notifications]
