"""The real portal server for the tests: `extgw-tui portal` as a subprocess on a free port.

Nothing is imitated: the tests talk HTTP to uvicorn over a loopback socket with httpx, and the
server reads and writes the same database file or PostgreSQL schema as the test process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import httpx

from tests.smtp_helpers import free_port


@contextmanager
def portal_server(
    db_url: str | None,
    *,
    env: dict[str, str] | None = None,
    before: Sequence[str] = (),
    after: Sequence[str] = (),
) -> Iterator[str]:
    """Start the server on a free loopback port; yields its base URL; stops it afterwards.

    db_url None: the database comes from `before` (e.g. --school NAME) or the config file;
    `after` goes after the command (e.g. --workers 2)."""
    port = free_port()
    database = ["--db", db_url] if db_url else []
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "extgw_tui",
            *database,
            *before,
            "portal",
            "--listen",
            f"127.0.0.1:{port}",
            *after,
        ],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        assert "Traceback" not in output, output


def _wait_until_up(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the portal did not start: {process.stdout.read()}")
        try:
            if httpx.get(f"{base}/api/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the portal did not answer within 60 s")
