"""The roll import benchmark: a local authority's roll into the large demo, preview and apply.

The roll file is the demo's own (services/demo_roll.py: 120,000 pupils less ~0.5% leavers, plus
~0.5% arrivals, ~1% moved form, about 200,000 contacts), so the import matches nearly every
pupil and adds every contact: the work a first import of contacts into a live database does.
It runs on a scratch copy of the large demo on each backend measured (stores.py).
Preview and apply each run in a child process (probe_import.py) for their own peak memory.
"""

from __future__ import annotations

from pathlib import Path

from common import BENCH, run_probe

PREVIEW_LIMIT, APPLY_LIMIT, MEMORY_LIMIT = 10.0, 30.0, 300.0


def _probe(env: dict, *args: str) -> dict:
    return run_probe([str(BENCH / "probe_import.py"), *args], env, f"probe_import.py {args[0]}")


def measure(env: dict, url: str, roll: Path) -> dict:
    """On a scratch database at `url`: write the roll file from it, then preview, apply and
    preview again (which must find nothing left to change)."""
    try:
        made = _probe(env, "roll", url, str(roll))
        return {
            "file": {**made, "mb": roll.stat().st_size / 1e6},
            "preview": _probe(env, "preview", url, str(roll)),
            "apply": _probe(env, "apply", url, str(roll)),
            "again": _probe(env, "preview", url, str(roll)),
        }
    finally:
        roll.unlink(missing_ok=True)


def targets(runs: dict, target_type) -> list:
    """PASS/MISS rows of the import on one backend."""
    return [
        target_type("roll import preview", runs["preview"]["seconds"], PREVIEW_LIMIT, "s"),
        target_type("roll import apply", runs["apply"]["seconds"], APPLY_LIMIT, "s"),
        target_type(
            "roll import peak memory",
            max(runs["preview"]["vmhwm_mb"], runs["apply"]["vmhwm_mb"]),
            MEMORY_LIMIT,
            "MB",
        ),
    ]


def line(runs: dict, backend: str) -> str:
    f, p, a, again = runs["file"], runs["preview"], runs["apply"], runs["again"]
    return (
        f"roll import on {backend} ({f['pupils']:,} pupils, {f['contacts']:,} contacts, "
        f"{f['mb']:.1f} MB): preview {p['seconds']:.1f} s (CPU here {p['cpu_seconds']:.1f} s, "
        f"{p['vmhwm_mb']:.0f} MB), apply {a['seconds']:.1f} s (CPU {a['cpu_seconds']:.1f} s, "
        f"{a['vmhwm_mb']:.0f} MB): {a['new']:,} new, {a['changed']:,} changed, "
        f"{a['leaving']:,} leaving, {a['contacts_added']:,} contacts added; the same file "
        f"again: {again['new'] + again['changed']} changes, "
        f"{again['contacts_added'] + again['contacts_changed']} contact changes"
    )
