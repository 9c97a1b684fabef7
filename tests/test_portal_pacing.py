"""The refusals of one limited scope are paced (portal_api/refusal.py): a client that sends the
next attempt the moment the last is answered gets at most REFUSALS_PER_SECOND of them, so it
cannot keep the event loop busy on the cores the other logins' argon2 needs."""

from __future__ import annotations

import time

from extgw_tui.portal_api.refusal import MOST_WAIT, REFUSALS_PER_SECOND, Pacer

SPACING = 1 / REFUSALS_PER_SECOND


def test_each_refusal_of_a_scope_waits_for_its_turn():
    pacer = Pacer()
    started = time.monotonic()
    assert pacer.wait("email:a") == 0.0  # a quiet scope is answered at once
    for _ in range(199):
        turn = pacer.next_turn["email:a"]
        wait = pacer.wait("email:a")
        if wait > 0:  # it waits for the turn the last one left, and leaves the next
            assert abs(pacer.next_turn["email:a"] - turn - SPACING) < 1e-9
            assert abs(time.monotonic() + wait - turn) < 0.05
    assert wait > 199 * SPACING - (time.monotonic() - started) - 1e-6
    assert pacer.wait("ip:192.0.2.7") == 0.0  # another scope has its own turns


def test_a_long_queue_waits_at_most_most_wait_and_takes_no_turn():
    pacer = Pacer()
    queued = int(MOST_WAIT * REFUSALS_PER_SECOND) + 10
    waits = [pacer.wait("email:a") for _ in range(queued)]
    assert max(waits) == MOST_WAIT
    last_turn = pacer.next_turn["email:a"]
    assert pacer.wait("email:a") == MOST_WAIT
    assert pacer.next_turn["email:a"] == last_turn  # no turn taken past the cap


def test_a_flood_of_scopes_keeps_the_memory_small():
    pacer = Pacer()
    for n in range(10_050):
        pacer.wait(f"ip:10.0.{n // 250}.{n % 250}")
    assert len(pacer.next_turn) <= 10_001
