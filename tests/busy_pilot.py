"""Pressing keys while a worker keeps the CPU busy (an export in progress).

Pilot.press() returns only once the process looks idle, or after a second per key, so during a
CPU-bound export the work is nearly done before a test's next key lands. send_key() delivers a
key through the driver exactly as press() does, without that wait; wait_until() then waits
for what the test is looking for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual import events
from textual.app import App


def send_key(app: App, key: str) -> None:
    """Deliver one key press to the app now, as the terminal would."""
    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app.post_message(event)  # what the driver does with a key, minus Pilot's wait


async def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the condition")
        await asyncio.sleep(0.01)
