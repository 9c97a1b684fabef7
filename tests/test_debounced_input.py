"""DebouncedInput: one Settled per pause in typing, none after enter."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Input

from extgw_tui.widgets.debounced_input import DebouncedInput

DELAY = 0.2


class BoxApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.settled: list[tuple[str | None, str]] = []
        self.submitted: list[str] = []

    def compose(self) -> ComposeResult:
        yield DebouncedInput(id="box", delay=DELAY)

    def on_debounced_input_settled(self, event: DebouncedInput.Settled) -> None:
        self.settled.append((event.control.id, event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.submitted.append(event.value)


async def test_typing_settles_once_after_the_pause_with_the_whole_value():
    app = BoxApp()
    async with app.run_test() as pilot:
        await pilot.press(*"smith")
        assert app.settled == []  # still typing
        await pilot.pause(DELAY + 0.2)
        assert app.settled == [("box", "smith")]
        await pilot.press("backspace")
        await pilot.pause(DELAY + 0.2)
        assert app.settled == [("box", "smith"), ("box", "smit")]


async def test_enter_acts_at_once_and_cancels_the_pending_settle():
    app = BoxApp()
    async with app.run_test() as pilot:
        await pilot.press(*"jones", "enter")
        assert app.submitted == ["jones"]
        await pilot.pause(DELAY + 0.2)
        assert app.settled == []


async def test_a_change_under_prevent_starts_no_wait():
    app = BoxApp()
    async with app.run_test() as pilot:
        box = app.query_one(DebouncedInput)
        with box.prevent(Input.Changed):
            box.value = "quiet"
        await pilot.pause(DELAY + 0.2)
        assert app.settled == []
        box.value = "loud"
        await pilot.pause(DELAY + 0.2)
        assert app.settled == [("box", "loud")]
