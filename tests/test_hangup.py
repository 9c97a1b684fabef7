"""A terminal window closed under the app: the app still closes (extgw_tui/hangup.py)."""

from __future__ import annotations

import contextlib
import os
import pty
import signal
import subprocess
import sys
import threading
import time

from extgw_tui.hangup import release_hung_up_terminal

#: A Textual app that repaints 100 times a second and, as a busy app does, closes a second
#: after the terminal hangs up: 100 writes after the hang-up, where 31 blocked for good.
PAINTER = """
import asyncio, signal
from textual.app import App
from textual.widgets import Static
from extgw_tui.hangup import release_hung_up_terminal

class Painter(App):
    def compose(self):
        yield Static("painting", id="frame")

    def on_mount(self):
        self.frames = 0
        self.set_interval(0.01, self.paint)

    def paint(self):
        self.frames += 1
        self.query_one("#frame", Static).update(f"frame {self.frames}")

def hung_up(signum, frame):
    release_hung_up_terminal()
    asyncio.get_running_loop().call_later(1, app.exit)

app = Painter()
signal.signal(signal.SIGHUP, hung_up)
app.run()
"""


def test_an_app_painting_after_the_window_closed_still_exits() -> None:
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the painter, with the pseudo-terminal as its terminal
        os.execv(sys.executable, [sys.executable, "-c", PAINTER])
    drawn = bytearray()
    threading.Thread(target=_drain, args=(terminal, drawn), daemon=True).start()
    deadline = time.monotonic() + 60
    while b"frame" not in drawn:
        assert time.monotonic() < deadline, "the painter never started"
        time.sleep(0.02)
    os.close(terminal)  # the window closes
    deadline = time.monotonic() + 30
    while not (done := os.waitpid(pid, os.WNOHANG))[0]:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("the app never exited after its terminal hung up")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(done[1]) == 0


def test_only_a_hung_up_terminal_is_let_go() -> None:
    live, live_end = os.openpty()
    dead, dead_end = os.openpty()
    piped, pipe_end = os.pipe()
    os.close(dead)  # its window closed: dead_end has hung up
    try:
        before = [os.fstat(fd) for fd in (live_end, pipe_end)]
        release_hung_up_terminal([live_end, dead_end, pipe_end])
        assert [os.fstat(fd) for fd in (live_end, pipe_end)] == before
        assert os.fstat(dead_end).st_rdev == os.stat(os.devnull).st_rdev
        assert os.write(dead_end, b"still written") == len(b"still written")
    finally:
        for fd in (live, live_end, dead_end, piped, pipe_end):
            os.close(fd)


def test_a_command_without_a_terminal_keeps_its_output() -> None:
    """Standard streams that are pipes (a cron job, a script) are not a terminal to let go."""
    script = "from extgw_tui.hangup import release_hung_up_terminal as r; r(); print('kept')"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout == "kept\n"


def _drain(terminal: int, into: bytearray) -> None:
    with contextlib.suppress(OSError):
        while chunk := os.read(terminal, 65536):
            into.extend(chunk)
