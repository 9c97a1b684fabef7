"""Processes that open one new PostgreSQL database at the same moment (the portal's workers at
start-up, or an app and the CLI after an upgrade) all succeed: they take turns making the schema
and indexes, where two concurrent CREATE ... IF NOT EXISTS of one name can both miss it."""

from __future__ import annotations

import multiprocessing

import pytest

from extgw_tui import db as dbmod
from extgw_tui.models import SchemaInfo

CTX = multiprocessing.get_context("spawn")
OPENERS = 4


def _open(url: str, barrier, results) -> None:
    try:
        barrier.wait(timeout=60)
        handle = dbmod.open_database(url)
        results.put(("ok", SchemaInfo.select().count()))
        handle.close()
    except Exception as exc:  # what this test is here to catch
        results.put(("error", f"{type(exc).__name__}: {exc}"))


@pytest.mark.parametrize("round_", range(3))
def test_openers_at_once_all_succeed(postgres_url: str, round_: int) -> None:
    barrier = CTX.Barrier(OPENERS)
    results = CTX.Queue()
    procs = [
        CTX.Process(target=_open, args=(postgres_url, barrier, results)) for _ in range(OPENERS)
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    assert outcomes == [("ok", 1)] * OPENERS
