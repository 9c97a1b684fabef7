"""DebouncedInput: an Input that says when typing has paused, so a query runs once, not per key.

    yield DebouncedInput(delay=0.3, placeholder="Target contains…", id="activity-text")

    def on_debounced_input_settled(self, event: DebouncedInput.Settled) -> None:
        self.apply(event.value)        # `delay` seconds after the last change

Every change restarts the wait; enter (Input.Submitted, handled by the screen as usual) cancels
it, since the screen acts at once then. A change made under `prevent(Input.Changed)` starts
no wait. Settled carries `control`, so `@on(DebouncedInput.Settled, "#id")` picks one box.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input


class DebouncedInput(Input):
    """An Input posting Settled once its value has stopped changing for `delay` seconds."""

    class Settled(Message):
        """The value has not changed for `delay` seconds."""

        def __init__(self, input: DebouncedInput, value: str) -> None:
            super().__init__()
            self.input = input
            self.value = value

        @property
        def control(self) -> DebouncedInput:
            return self.input

    def __init__(self, value: str | None = None, *, delay: float, **kwargs: Any) -> None:
        super().__init__(value, **kwargs)
        self.delay = delay
        self._wait: Timer | None = None

    @on(Input.Changed)
    def _restart_wait(self) -> None:
        self.cancel_wait()
        self._wait = self.set_timer(self.delay, self._settled)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.cancel_wait()

    def cancel_wait(self) -> None:
        """Forget the pending Settled (the screen acted on the value already)."""
        if self._wait is not None:
            self._wait.stop()
            self._wait = None

    def _settled(self) -> None:
        self._wait = None
        self.post_message(self.Settled(self, self.value))
