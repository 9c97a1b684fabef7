"""The benchmark still runs end to end: `benchmarks/run.py --size tiny` on the small demo.

Timings are not judged here (CI machines vary); what is checked is that every measurement ran
against real data and produced a sane figure, so a change that breaks the harness (a renamed
service, a screen that no longer shows its rows) fails here rather than on the next full run.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TARGETS = {
    "start-up at large / at small",
    "start-up at large / bare Textual floor",
    "search: typed term to repainted table, p95",
    "search: query alone (page + count), p95",
    "review query (count + first 200)",
    "export throughput / raw openpyxl floor",
    "export peak memory",
    "app peak memory at large / at small",
    "small demo generation",
}


def test_tiny_benchmark_runs_every_measurement(tmp_path: Path) -> None:
    out = tmp_path / "tiny.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--size",
            "tiny",
            "--data-dir",
            str(tmp_path / "data"),
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stderr  # 1: some target missed on this machine
    report = json.loads(out.read_text())

    names = {t["name"] for t in report["targets"]}
    assert not TARGETS - names, f"missing targets: {TARGETS - names}"
    assert any(n.startswith("bulk deny of ") for n in names)
    assert any(n.startswith("statistics: All, ") for n in names)
    assert any(n.startswith("keys: ") and "generated + letters file (sqlite)" in n for n in names)
    for target in report["targets"]:
        assert math.isfinite(target["figure"]) and target["figure"] > 0, target
        assert target["result"] in ("PASS", "MISS")
        assert target["result"] in done.stdout

    figures = report["figures"]
    assert figures["export_export"]["rows"] == figures["export_raw"]["rows"] == 1_500
    assert figures["startup_large"]["runs"] and figures["startup_bare"]["runs"]
    assert figures["search_typed"]["terms"] == figures["search_enter"]["terms"] == 3
    assert figures["bulk_access"]["users"] > 0
    assert figures["review"]["candidates"] > 0  # the demo always has review candidates
    assert report["machine"]["cores"] >= 1 and report["machine"]["sqlite"]
    assert figures["keys_sqlite"]["keys"] == 1_000  # 500 pupils, 2 keys each
