"""Service calls off the event loop: argon2 in a pool sized to the cores, the rest beside it.

A login spends ~all its time in argon2 (which releases the GIL), so at most `cores` of them
run at once; requests that only read the database use a separate, small limiter, so they are
never queued behind a burst of logins. Each worker thread keeps its own database connection
(peewee's are per thread) and drops it after a database error, so the next call reconnects.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import anyio.to_thread
import peewee
from anyio import CapacityLimiter

from extgw_tui.logs import log
from extgw_tui.models import database

T = TypeVar("T")

#: Database-only calls at once per process (each holds a connection).
DB_THREADS = 8


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def verification_seconds(rounds: int = 3, clock: Callable[[], float] = time.perf_counter) -> float:
    """The median time of one password verification here: with cores(), the floor a login
    rate is measured against (benchmarks/portal_load.py) and the least a login costs (tests)."""
    from extgw_tui.services.passwords import DUMMY_HASH, verify_password

    times = []
    for _ in range(rounds):
        started = clock()
        verify_password(DUMMY_HASH, "correct horse battery")
        times.append(clock() - started)
    return statistics.median(times)


class Pools:
    """Made inside the event loop (the limiters belong to it)."""

    def __init__(self) -> None:
        self.hashing = CapacityLimiter(cores())
        self.db = CapacityLimiter(DB_THREADS)
        self._detached = ThreadPoolExecutor(max_workers=2, thread_name_prefix="portal-mail")

    def detach(self, fn: Callable[..., object], *args: object) -> None:
        """Run fn after the answer, apart from the request and its connection: nothing about
        its work (an email sent or not) can be read from the time the connection takes."""
        self._detached.submit(_logged, fn, *args)

    def close(self) -> None:
        """Let detached work (an email on its way) finish."""
        self._detached.shutdown(wait=True)

    async def hash(self, fn: Callable[..., T], *args: object) -> T:
        """A call that verifies or hashes a password."""
        return await anyio.to_thread.run_sync(_call, fn, *args, limiter=self.hashing)

    async def query(self, fn: Callable[..., T], *args: object) -> T:
        """A call that only reads or writes the database."""
        return await anyio.to_thread.run_sync(_call, fn, *args, limiter=self.db)


def _call(fn: Callable[..., T], *args: object) -> T:
    try:
        return fn(*args)
    except (peewee.OperationalError, peewee.InterfaceError):
        with contextlib.suppress(Exception):
            database.close()
        raise


def _logged(fn: Callable[..., object], *args: object) -> None:
    try:
        _call(fn, *args)
    except Exception:
        log.exception("portal: detached %s failed", getattr(fn, "__name__", fn))
