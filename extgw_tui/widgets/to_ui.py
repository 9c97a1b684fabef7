"""Handing a call from a worker thread to the UI without waiting for it.

App.call_from_thread makes its worker wait until the event loop has run the call: while the
loop is stopped or stuck (the app closing, a terminal gone), the worker is stuck with it, and
the process waits for its worker threads before it can exit. A worker never needs what its
progress report or result returns, so it posts the call instead, through
MessagePump.post_message (Textual's documented thread-safe way in), and carries on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.events import Callback
from textual.message_pump import MessagePump


def post_to_ui(node: MessagePump, callback: Callable[..., object], *args: Any) -> bool:
    """From a worker thread: run callback(*args) on the UI thread, in node's message queue.

    Never waits. Calls posted to one node run in the order posted (progress, then the result),
    and only while the node is attached: one that reaches a closed dialog is dropped there.
    False when it is dropped at once: the node, the app or its event loop already gone.
    """

    def run() -> None:
        if node.is_attached:
            callback(*args)

    try:
        return node.post_message(Callback(callback=run))
    except RuntimeError:  # the loop closed, or the node left the app, as the call was posted
        return False
