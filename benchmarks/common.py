"""What every benchmark piece shares: the repository on sys.path, timing, memory, the machine.

The probes run as child processes (start-up and memory must be measured from a fresh process),
so this module imports nothing heavy and nothing from Textual.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: list[float]) -> float:
    """The 95th percentile, nearest rank: with 50 samples, the third slowest."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(int(round(0.95 * len(ordered) + 0.499999)), 1)
    return ordered[min(rank, len(ordered)) - 1]


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call takes."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def repeat(fn: Callable[[], object], runs: int, warmup: int = 1) -> list[float]:
    """Seconds of each of `runs` calls after `warmup` untimed ones (caches warm, as in use)."""
    for _ in range(warmup):
        fn()
    return [timed(fn) for _ in range(runs)]


def vmhwm_mb() -> float:
    """This process's peak resident memory so far (VmHWM), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child_env(home: Path) -> dict[str, str]:
    """Environment for a probe: its own data, config and log folders and a fixed admin name."""
    env = dict(os.environ)
    for name in ("DATA", "CONFIG", "LOG"):
        folder = home / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[f"EXTGW_{name}_DIR"] = str(folder)
    env["EXTGW_ADMIN"] = "benchmark"
    # Compiled bytecode for every probe, as an installed app has it (pip compiles a wheel at
    # install; a checkout writes __pycache__ on its first run): under PYTHONDONTWRITEBYTECODE
    # each start-up probe would compile the app's modules from source again (about 75 ms)
    # while the bare Textual floor reads the files pip compiled. The runner's first round,
    # which it drops, writes them.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    env["EXTGW_EXPORT_DIR"] = str(home)
    env.pop("EXTGW_DB", None)
    return env


def emit(result: dict) -> None:
    """A probe's answer: one JSON line on stdout, which the runner parses."""
    print("RESULT " + json.dumps(result), flush=True)


def parse(stdout: str) -> dict:
    for line in reversed(stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"the probe printed no result:\n{stdout[-2000:]}")


def run_probe(args: list[str], env: dict, what: str, cwd: Path = ROOT) -> dict:
    """Run a Python child process and return its RESULT; its stderr's tail when it fails."""
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr[-3000:]}")
    return parse(done.stdout)


def machine() -> dict:
    """Where the figures were measured: CPU, cores, memory, Python, SQLite, Textual."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
                break
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "textual": version("textual"),
        "peewee": version("peewee"),
        "openpyxl": version("openpyxl"),
    }
