"""Letting go of a terminal that has hung up (its window closed), so the app can still close.

Textual writes to the terminal through one output thread fed by a queue of 30 writes. The
first write to a hung-up terminal fails (EIO) and ends that thread; the kernel's SIGCONT, sent
with the SIGHUP, also makes Textual start a new one, which fails the same way. From then on
the app's 31st write blocks forever, closing or not, and the process never ends: an export
repainting its progress as the window closes can get there (the likeliest cause of the hang CI
saw once). Writes to /dev/null succeed, so pointing the dead terminal's descriptors there lets
the app close and clean up.
"""

from __future__ import annotations

import errno
import os
import termios
from collections.abc import Iterable


def release_hung_up_terminal(fds: Iterable[int] = (0, 1, 2)) -> None:
    """Point each of fds that is a hung-up terminal at /dev/null; leave the others alone."""
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in fds:
            if hung_up(fd):
                os.dup2(null, fd)
    finally:
        os.close(null)


def hung_up(fd: int) -> bool:
    """A terminal that has hung up fails every request with EIO; anything else is not one."""
    try:
        termios.tcgetattr(fd)
    except termios.error as exc:
        return exc.args[0] == errno.EIO
    return False  # a live terminal
