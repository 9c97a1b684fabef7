"""Two portal processes redeeming keys at the same moment: exactly one holder per key.

Real processes (spawn) open the same database (SQLite file or PostgreSQL) and call the same
services the portal does, released together by a barrier, several rounds each.
"""

from __future__ import annotations

import multiprocessing

from key_helpers import add_pupil, keys_for

from extgw_tui import db as dbmod
from extgw_tui.models import ExternalUser, Licence, LicenceKey
from extgw_tui.services.registration import KeyRefused, register

CTX = multiprocessing.get_context("spawn")
PASSWORD = "correct horse battery"
ROUNDS = 4


def _redeemer(url: str, name: str, keys: list[str], barrier, results) -> None:
    """One parent's browser: registers with each key as soon as the other process does."""
    dbmod.open_database(url)
    out = []
    for index, key in enumerate(keys):
        barrier.wait()
        try:
            user = register(f"{name}{index}@example.org", PASSWORD, "", "A", name, key, name)
            out.append(("ok", user.id))
        except KeyRefused:
            out.append(("refused", None))
        except Exception as exc:  # a deadlock, a lost update: what this test is here for
            out.append(("error", f"{type(exc).__name__}: {exc}"))
    results.put((name, out))


def _run(url: str, plan: dict[str, list[str]]) -> dict[str, list]:
    barrier = CTX.Barrier(len(plan))
    results = CTX.Queue()
    procs = [
        CTX.Process(target=_redeemer, args=(url, name, keys, barrier, results))
        for name, keys in plan.items()
    ]
    for proc in procs:
        proc.start()
    outs = dict(results.get(timeout=240) for _ in procs)
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    return outs


def test_one_key_redeemed_twice_at_once_has_one_holder(db, db_url, tmp_path):
    pupils = [add_pupil(f"Pupil{n}") for n in range(ROUNDS)]
    keys = [keys_for(tmp_path, p, per_pupil=1, name=f"{n}.xlsx")[0] for n, p in enumerate(pupils)]
    outs = _run(db_url, {"alice": keys, "bob": keys})
    for index in range(ROUNDS):
        answers = sorted(outs[name][index][0] for name in ("alice", "bob"))
        assert answers == ["ok", "refused"], outs
    assert Licence.select().count() == ROUNDS
    assert ExternalUser.select().count() == ROUNDS
    for key in LicenceKey.select():
        licence = Licence.get_by_id(key.licence_id)
        assert licence.user_id == key.redeemed_by_id and licence.pupil_id == key.pupil_id


def test_two_parents_redeeming_one_pupils_two_keys_at_once_both_hold(db, db_url, tmp_path):
    pupils = [add_pupil(f"Pupil{n}") for n in range(ROUNDS)]
    pairs = [keys_for(tmp_path, p, name=f"{n}.xlsx") for n, p in enumerate(pupils)]
    outs = _run(db_url, {"mum": [a for a, _ in pairs], "dad": [b for _, b in pairs]})
    assert all(answer == "ok" for out in outs.values() for answer, _ in out), outs
    for pupil in pupils:
        holders = {lic.user_id for lic in Licence.select().where(Licence.pupil == pupil.id)}
        assert len(holders) == 2
    assert LicenceKey.select().where(LicenceKey.redeemed_at.is_null()).count() == 0
