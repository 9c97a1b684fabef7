"""The benchmarks: every main operation at 100,000 users, against its floor and its target.

    ./tasks bench                 full: the large (100,000 users) and small (1,500) demo databases
    ./tasks bench --size tiny     a smoke run on the small database only, in seconds (CI)
    ./tasks bench --rebuild       generate the demo databases again (and time it)

Databases are generated once into benchmarks/data/ (gitignored) and reused until the code that
makes them (SOURCES) changes; the generation time is kept beside each file. Start-up, memory,
in-app search and the export run in child processes (probe_app.py, probe_export.py) so each
starts fresh and its peak memory is its own.
Prints a table with PASS/MISS per target and writes benchmarks/results/latest.json (full) or
<data-dir>/tiny.json (tiny). See benchmarks/README.md for the latest figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import import_roll
import portal_load
from common import BENCH, ROOT, child_env, machine, median, p95, parse
from measure import (
    bulk_access,
    login_statistics,
    login_summary_filled,
    review,
    search_query,
    search_terms,
    statistics_available,
    work_copy,
)


@dataclass(frozen=True)
class Plan:
    """How much each size measures: which demo databases, and how many repeats."""

    large: str  # demo size used as "large"
    small: str
    startup_runs: int
    search_terms: int
    query_terms: int
    repeats: int


PLANS = {
    "full": Plan(
        large="large", small="small", startup_runs=7, search_terms=50, query_terms=50, repeats=5
    ),
    "tiny": Plan(
        large="small", small="small", startup_runs=1, search_terms=3, query_terms=5, repeats=1
    ),
}


@dataclass(frozen=True)
class Target:
    name: str
    figure: float
    limit: float
    unit: str
    at_most: bool = True

    @property
    def passed(self) -> bool:
        return self.figure <= self.limit if self.at_most else self.figure >= self.limit

    def row(self) -> dict:
        return {
            "name": self.name,
            "figure": round(self.figure, 4),
            "limit": self.limit,
            "unit": self.unit,
            "rule": "<=" if self.at_most else ">=",
            "result": "PASS" if self.passed else "MISS",
        }


class Runner:
    def __init__(self, plan: Plan, data: Path, rebuild: bool) -> None:
        self.plan, self.data, self.rebuild = plan, data, rebuild
        self.home = Path(tempfile.mkdtemp(prefix="extgw-bench-"))
        self.env = child_env(self.home)
        self.figures: dict = {}
        self.built: set[str] = set()
        self.terms: list[str] = []

    # ----- databases -------------------------------------------------------------------

    def database(self, size: str) -> Path:
        """The demo database of `size`, generated (and timed) unless already there."""
        path = self.data / f"{size}.sqlite3"
        meta = self.data / f"{size}.meta.json"
        if size in self.built:
            return path
        stale = not meta.is_file() or json.loads(meta.read_text()).get("source") != source_hash()
        if self.rebuild or not path.is_file() or stale:
            log(f"generating the {size} demo database (once; reused by later runs)")
            self.data.mkdir(parents=True, exist_ok=True)
            script = (
                "import sys; from extgw_tui.commands.demo import ensure_demo; "
                "from common import emit, vmhwm_mb; "
                "ensure_demo(sys.argv[1], sys.argv[2], force=True); "
                "emit({'vmhwm_mb': vmhwm_mb()})"
            )
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", script, f"sqlite:///{path}", size],
                env=self.env,
                check=True,
                capture_output=True,
                text=True,
                cwd=BENCH,
            )
            seconds = time.perf_counter() - started
            meta.write_text(
                json.dumps(
                    {
                        "seconds": seconds,
                        "vmhwm_mb": parse(done.stdout)["vmhwm_mb"],
                        "built_at": now_text(),
                        "source": source_hash(),
                    }
                )
            )
            self.built.add(size)
        return path

    def generation(self, size: str) -> dict:
        return json.loads((self.data / f"{size}.meta.json").read_text())

    # ----- child processes ---------------------------------------------------------------

    def probe(self, script: str, *args: str) -> dict:
        launched = time.time()
        done = subprocess.run(
            [sys.executable, str(BENCH / script), args[0], repr(launched), *args[1:]]
            if script == "probe_app.py"
            else [sys.executable, str(BENCH / script), *args],
            env=self.env,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{script} {args[0]} failed:\n{done.stderr[-3000:]}")
        return parse(done.stdout)

    # ----- the measurements ----------------------------------------------------------------

    def startup(self, large: Path, small: Path) -> None:
        """Start-up and memory: bare floor, small and large, interleaved so drift hits all."""
        runs: dict[str, list[dict]] = {"bare": [], "small": [], "large": []}
        for _ in range(self.plan.startup_runs + 1):  # the first round warms the disk cache
            runs["bare"].append(self.probe("probe_app.py", "bare"))
            runs["small"].append(self.probe("probe_app.py", "start", f"sqlite:///{small}"))
            runs["large"].append(self.probe("probe_app.py", "start", f"sqlite:///{large}"))
        for name, results in runs.items():
            kept = results[1:] if len(results) > 1 else results
            self.figures[f"startup_{name}"] = {
                "median": median([r["ready"] for r in kept]),
                "runs": [round(r["ready"], 4) for r in kept],
                "vmhwm_mb": median([r["vmhwm_mb"] for r in kept]),
            }
        log("start-up and memory done")

    def search_in_app(self, large: Path) -> None:
        terms = self.terms[: self.plan.search_terms]
        result = self.probe("probe_app.py", "search", f"sqlite:///{large}", json.dumps(terms))
        for flow in ("typed", "enter"):
            timings = result[flow]
            seconds = [t["seconds"] for t in timings]
            slowest = sorted(timings, key=lambda t: t["seconds"], reverse=True)[:5]
            self.figures[f"search_{flow}"] = {
                "median": median(seconds),
                "p95": p95(seconds),
                "max": max(seconds),
                "landed_median": median([t["landed"] for t in timings]),
                "terms": len(seconds),
                "slowest": [
                    [t["term"], round(t["seconds"] * 1000, 1), t["matches"]] for t in slowest
                ],
            }
        log("in-app search done")

    def in_process(self, large: Path) -> None:
        from extgw_tui.db import open_database
        from extgw_tui.services import audit

        audit.set_admin("benchmark")
        db = open_database(f"sqlite:///{large}")
        self.terms = search_terms(max(self.plan.search_terms, self.plan.query_terms))
        self.figures["search_query"] = search_query(self.terms[: self.plan.query_terms])
        self.figures["review"] = review(self.plan.repeats)
        if statistics_available():
            self.figures["login_summary"] = login_summary_filled()
            self.figures["statistics"] = login_statistics(self.plan.repeats)
        db.close()
        log("queries done")

    def bulk(self, copy: Path) -> None:
        from extgw_tui.db import open_database

        db = open_database(f"sqlite:///{copy}")
        self.figures["bulk_access"] = bulk_access(max(self.plan.repeats // 2, 1))
        db.close()
        log("bulk access done")

    def export(self, large: Path) -> None:
        out = self.home / "export.xlsx"
        runs = {"export": [], "raw": []}
        for _ in range(max(self.plan.repeats // 2, 1)):
            for mode in runs:
                runs[mode].append(
                    self.probe("probe_export.py", mode, f"sqlite:///{large}", str(out))
                )
                out.unlink(missing_ok=True)
        for mode, results in runs.items():
            self.figures[f"export_{mode}"] = {
                "seconds": median([r["seconds"] for r in results]),
                "rows": results[0]["rows"],
                "rows_per_second": median([r["rows"] / r["seconds"] for r in results]),
                "vmhwm_mb": max(r["vmhwm_mb"] for r in results),
            }
        log("export done")

    def keys(self) -> None:
        """Licence keys (bench_keys.py, a fresh database each): SQLite, and PostgreSQL when
        EXTGW_BENCH_PG_URL names a database of its own (it is emptied)."""
        pupils = "120000" if self.plan.large == "large" else "500"
        self.figures["keys_sqlite"] = self.probe("bench_keys.py", "--pupils", pupils)
        pg = os.environ.get("EXTGW_BENCH_PG_URL")
        if pg:
            self.figures["keys_postgresql"] = self.probe(
                "bench_keys.py", "--pupils", pupils, "--db", pg
            )
        log("licence keys done")

    # ----- judging -------------------------------------------------------------------------

    def targets(self) -> list[Target]:
        f = self.figures
        large, small, bare = (f[f"startup_{n}"]["median"] for n in ("large", "small", "bare"))
        found = [
            Target("start-up at large / at small", large / small, 1.10, "x"),
            Target("start-up at large / bare Textual floor", large / bare, 1.5, "x"),
            Target(
                "search: typed term to repainted table, p95", f["search_typed"]["p95"], 0.100, "s"
            ),
            Target("search: query alone (page + count), p95", f["search_query"]["p95"], 0.030, "s"),
            Target(
                f"bulk deny of {f['bulk_access']['users']:,} users",
                f["bulk_access"]["deny"],
                1.0,
                "s",
            ),
            Target(
                f"bulk allow of {f['bulk_access']['users']:,} users",
                f["bulk_access"]["allow"],
                1.0,
                "s",
            ),
            Target("review query (count + first 200)", f["review"]["median"], 0.300, "s"),
            Target(
                "export throughput / raw openpyxl floor",
                f["export_export"]["rows_per_second"] / f["export_raw"]["rows_per_second"],
                0.85,
                "x",
                at_most=False,
            ),
            Target("export peak memory", f["export_export"]["vmhwm_mb"], 150, "MB"),
            Target(
                "app peak memory at large / at small",
                f["startup_large"]["vmhwm_mb"] / f["startup_small"]["vmhwm_mb"],
                1.2,
                "x",
            ),
            Target(f"{self.plan.large} demo generation", f["generation"]["seconds"], 60, "s"),
        ]
        for backend in ("sqlite", "postgresql"):
            keys = f.get(f"keys_{backend}")
            if keys:
                name = f"keys: {keys['keys']:,} generated + letters file ({backend})"
                found.append(Target(name, keys["generate_and_letters_seconds"], 30, "s"))
                p95_seconds = keys["lookup_p95_ms"] / 1000
                found.append(Target(f"keys: lookup p95 ({backend})", p95_seconds, 0.005, "s"))
        for chart, seconds in f.get("statistics", {}).get("charts", {}).items():
            found.append(Target(f"statistics: {chart}", seconds, 0.300, "s"))
        return found


#: The code a demo database is made from: when any of it changes, the database is made again.
SOURCES = (
    "extgw_tui/models.py",
    "extgw_tui/db.py",
    "extgw_tui/services/demo.py",
    "extgw_tui/services/demo_names.py",
    "extgw_tui/services/login_summary.py",
    "extgw_tui/services/periods.py",
)


def source_hash() -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        file = ROOT / name
        digest.update(file.read_bytes() if file.is_file() else b"-")
    return digest.hexdigest()[:16]


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def show(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:,.1f} ms" if value < 10 else f"{value:,.1f} s"
    if unit == "MB":
        return f"{value:,.1f} MB"
    return f"{value:.2f}x"


def table(targets: list[Target], figures: dict) -> str:
    lines = [f"{'target':<48} {'measured':>11} {'limit':>12}  result", "-" * 80]
    for t in targets:
        rule = "<=" if t.at_most else ">="
        lines.append(
            f"{t.name:<48} {show(t.figure, t.unit):>11} {rule} {show(t.limit, t.unit):>9}"
            f"  {'PASS' if t.passed else 'MISS'}"
        )
    lines.append("-" * 80)
    s = {n: figures[f"startup_{n}"] for n in ("bare", "small", "large")}
    lines.append(
        "start-up (median): bare {:.0f} ms, small {:.0f} ms, large {:.0f} ms; "
        "app memory: small {:.1f} MB, large {:.1f} MB".format(
            s["bare"]["median"] * 1000,
            s["small"]["median"] * 1000,
            s["large"]["median"] * 1000,
            s["small"]["vmhwm_mb"],
            s["large"]["vmhwm_mb"],
        )
    )
    q, r, n = figures["search_query"], figures["search_typed"], figures["search_enter"]
    lines.append(
        f"search over {r['terms']} terms, repaint after the debounce: median "
        f"{r['median'] * 1000:.0f} ms, p95 {r['p95'] * 1000:.0f} ms; with enter (focus "
        f"moves to the table): median {n['median'] * 1000:.0f} ms, p95 "
        f"{n['p95'] * 1000:.0f} ms; query alone: median {q['median'] * 1000:.1f} ms, "
        f"p95 {q['p95'] * 1000:.1f} ms"
    )
    e, w = figures["export_export"], figures["export_raw"]
    lines.append(
        f"export of {e['rows']:,} rows: {e['seconds']:.2f} s ({e['rows_per_second']:,.0f}"
        f" rows/s, peak {e['vmhwm_mb']:.0f} MB); raw openpyxl {w['seconds']:.2f} s "
        f"({w['rows_per_second']:,.0f} rows/s, peak {w['vmhwm_mb']:.0f} MB with the list)"
    )
    if "statistics" not in figures:
        lines.append("statistics: services/statistics.py is not there yet; not measured")
    else:
        st = figures["statistics"]
        lines.append(
            f"statistics: slowest chart {max(st['charts'].values()) * 1000:.1f} ms; "
            f"one user's summary {st['user_summary'] * 1000:.1f} ms"
        )
    summary = figures.get("login_summary", {})
    if summary.get("rebuilt"):
        lines.append(
            f"login summary tables were empty: rebuilt in {summary['seconds']:.1f} s "
            "(a database made before the generator filled them)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(PLANS), default="full")
    parser.add_argument("--rebuild", action="store_true", help="generate the databases again")
    parser.add_argument("--data-dir", type=Path, default=BENCH / "data")
    parser.add_argument("--json", type=Path, help="where to write the results")
    parser.add_argument(
        "--portal-only", action="store_true", help="only the portal's load test (portal_load.py)"
    )
    args = parser.parse_args(argv)
    if args.portal_only:
        return portal_load.main([])
    plan = PLANS[args.size]
    out = args.json or (
        BENCH / "results" / "latest.json" if args.size == "full" else args.data_dir / "tiny.json"
    )
    load_before = os.getloadavg()
    runner = Runner(plan, args.data_dir.resolve(), args.rebuild)
    large = runner.database(plan.large)
    small = runner.database(plan.small)
    runner.figures["generation"] = runner.generation(plan.large)
    runner.in_process(large)
    runner.startup(large, small)
    runner.search_in_app(large)
    copy = work_copy(large, args.data_dir)  # bulk access and export write (audit entries)
    try:
        runner.bulk(copy)
        runner.export(copy)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
    runner.keys()
    runner.figures["roll_import"] = import_roll.measure(
        runner.env, large, args.data_dir, plan.large
    )
    log("roll import done")
    targets = runner.targets() + import_roll.targets(runner.figures["roll_import"], Target)
    print(table(targets, runner.figures))
    print("\n".join(import_roll.lines(runner.figures["roll_import"])))
    # Other work on the machine slows every figure: keep the load beside them.
    load = {
        "before": [round(x, 2) for x in load_before],
        "after": [round(x, 2) for x in os.getloadavg()],
    }
    print(f"load average (1, 5, 15 min): before {load['before']}, after {load['after']}")
    report = {
        "measured_at": now_text(),
        "size": args.size,
        "machine": machine(),
        "load_average": load,
        "databases": {"large": plan.large, "small": plan.small},
        "targets": [t.row() for t in targets],
        "figures": runner.figures,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_suffix(".tmp")
    temp.write_text(json.dumps(report, indent=2, default=str) + "\n")
    temp.replace(out)
    print(f"written: {out}")
    portal = portal_load.main([]) if args.size == "full" else 0  # its own table and json
    return 0 if all(t.passed for t in targets) and portal == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
