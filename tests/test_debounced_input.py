"""DebouncedInput: one Settled per pause in typing, none after enter."""

from __future__ import annotations

from host_app import HostApp
from textual.widgets import Input

from extgw_tui.widgets.debounced_input import DebouncedInput

DELAY = 0.2


def box_app() -> HostApp:
    """A host with one DebouncedInput, keeping its Settled and Submitted messages."""
    return HostApp(
        widgets=lambda: [DebouncedInput(id="box", delay=DELAY)],
        record=(DebouncedInput.Settled, Input.Submitted),
    )


def settled(app: HostApp) -> list[tuple[str | None, str]]:
    return [(m.control.id, m.value) for m in app.seen if isinstance(m, DebouncedInput.Settled)]


def submitted(app: HostApp) -> list[str]:
    return [m.value for m in app.seen if isinstance(m, Input.Submitted)]


async def test_typing_settles_once_after_the_pause_with_the_whole_value():
    app = box_app()
    async with app.run_test() as pilot:
        await pilot.press(*"smith")
        assert settled(app) == []  # still typing
        await pilot.pause(DELAY + 0.2)
        assert settled(app) == [("box", "smith")]
        await pilot.press("backspace")
        await pilot.pause(DELAY + 0.2)
        assert settled(app) == [("box", "smith"), ("box", "smit")]


async def test_enter_acts_at_once_and_cancels_the_pending_settle():
    app = box_app()
    async with app.run_test() as pilot:
        await pilot.press(*"jones", "enter")
        assert submitted(app) == ["jones"]
        await pilot.pause(DELAY + 0.2)
        assert settled(app) == []


async def test_a_change_under_prevent_starts_no_wait():
    app = box_app()
    async with app.run_test() as pilot:
        box = app.query_one(DebouncedInput)
        with box.prevent(Input.Changed):
            box.value = "quiet"
        await pilot.pause(DELAY + 0.2)
        assert settled(app) == []
        box.value = "loud"
        await pilot.pause(DELAY + 0.2)
        assert settled(app) == [("box", "loud")]
