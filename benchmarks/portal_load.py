"""The portal under load: logins per second against the running server, and a hammer.

    python benchmarks/portal_load.py [--seconds 20] [--db URL] [--hammer 10000]
    ./tasks bench --portal-only           (the same, from run.py; the full bench runs it too)

1. Floor: a login is one argon2 verification, so the server can do at most
   cores / (one verification's time) logins per second; measured in this process first, and
   again just before and just after each concurrency level, which is judged against the median
   of those two: a shared machine's speed drifts by a third within minutes (raw openpyxl's
   time 7.2 -> 10.8 s between two runs half an hour apart), and a floor timed once at the
   start flattered or wronged every later level accordingly.
2. Logins per second at concurrency 1, 8 and 32 for `--seconds` each (each a real HTTP login
   of one of 200 accounts, recorded as the statistics record it), with p50/p99 and errors.
   Concurrency 1 can use one core only; its floor is 1 / (one verification).
3. Hammer: `--hammer` failed logins on one account, sent one after another by another process
   (as an attacker's single connection would), while the other accounts log in at concurrency
   = cores; their logins per second is compared with the same load without the hammer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from common import BENCH, ROOT, child_env, machine

PASSWORD = "bench password 1234"
ACCOUNTS = 200
VICTIM = "victim@bench.example"


def cores() -> int:
    from extgw_tui.portal_api.pool import cores

    return cores()


def one_verification() -> float:
    from extgw_tui.portal_api.pool import verification_seconds

    return verification_seconds(rounds=7)


def pool_verifications_per_second(seconds: float = 5.0) -> float:
    """What `cores` threads verifying at once achieve in one process (argon2 drops the GIL)."""
    from extgw_tui.services.passwords import DUMMY_HASH, verify_password

    done = [0] * cores()
    stop = time.perf_counter() + seconds

    def work(i: int) -> None:
        while time.perf_counter() < stop:
            verify_password(DUMMY_HASH, PASSWORD)
            done[i] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(cores())]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - started)


def prepare(url: str) -> None:
    from extgw_tui.db import open_database
    from extgw_tui.models import ExternalUser
    from extgw_tui.services.passwords import hash_password

    db = open_database(url)
    stored = hash_password(PASSWORD)
    rows = [
        {
            "surname": f"Bench{n}",
            "surname_key": f"bench{n}",
            "email": f"user{n}@bench.example",
            "email_key": f"user{n}@bench.example",
            "password_hash": stored,
        }
        for n in range(ACCOUNTS)
    ]
    rows.append({**rows[0], "email": VICTIM, "email_key": VICTIM, "surname": "Victim"})
    with db.atomic():
        ExternalUser.insert_many(rows).execute()
    db.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "extgw_tui", "--db", url, "portal", "--listen", f"127.0.0.1:{port}"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/openapi.json", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the portal did not start: {process.stderr.read()[-2000:]}")


async def load(base: str, concurrency: int, seconds: float, offset: int = 0) -> dict:
    """`concurrency` clients logging in back to back for `seconds`."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        stop = time.perf_counter() + seconds

        async def one(worker: int) -> None:
            nonlocal errors
            n = worker
            while time.perf_counter() < stop:
                email = f"user{(offset + n) % ACCOUNTS}@bench.example"
                started = time.perf_counter()
                try:
                    response = await client.post(
                        "/api/login", json={"email": email, "password": PASSWORD}
                    )
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok
                n += concurrency

        started = time.perf_counter()
        await asyncio.gather(*(one(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "concurrency": concurrency,
        "seconds": elapsed,
        "logins": len(latencies) - errors,
        "errors": errors,
        "per_second": (len(latencies) - errors) / elapsed,
        "p50": _rank(ordered, 0.50),
        "p99": _rank(ordered, 0.99),
    }


def _rank(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def hammer(port: int, count: int, result: multiprocessing.Queue) -> None:
    """One attacker connection: `count` wrong passwords for one account, back to back.

    A bare socket rather than httpx: the attacker's client runs on their machine, not ours, so
    the few microseconds it spends per request keep this machine's cores for the server.
    """
    body = json.dumps({"email": VICTIM, "password": "wrong password!"}).encode()
    request = (
        f"POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Forwarded-For: 203.0.113.9\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    statuses: dict[int, int] = {}
    started, cpu = time.perf_counter(), time.process_time()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        buffer = b""
        for _ in range(count):
            sock.sendall(request)
            while b"\r\n\r\n" not in buffer:
                buffer += sock.recv(65536)
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))
            while len(buffer) < length:
                buffer += sock.recv(65536)
            buffer = buffer[length:]
            status = int(head.split(b" ", 2)[1])
            statuses[status] = statuses.get(status, 0) + 1
    result.put(
        {
            "seconds": time.perf_counter() - started,
            "statuses": statuses,
            "client_cpu": time.process_time() - cpu,  # the attacker's, here on our cores
        }
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def hammered(base: str, count: int, server_pid: int) -> dict:
    """Others' logins at concurrency = cores, without and then during the hammer."""
    port = int(base.rpartition(":")[2])
    queue: multiprocessing.Queue = multiprocessing.Queue()
    hammer(port, 20, queue)  # the limit trips (10 verifications), then:
    queue.get()
    before = cpu_seconds(server_pid)  # the hammer alone: what one limited answer costs
    hammer(port, 1000, queue)
    alone = queue.get()
    server_cpu = (cpu_seconds(server_pid) - before) / 1000
    baseline = asyncio.run(load(base, cores(), 10.0, offset=7))
    attacker = multiprocessing.Process(target=hammer, args=(port, count, queue))
    attacker.start()
    during: list[dict] = []
    while attacker.is_alive():
        during.append(asyncio.run(load(base, cores(), 3.0, offset=11)))
    attacker.join()
    outcome = queue.get(timeout=10)
    logins = sum(d["logins"] for d in during)
    seconds = sum(d["seconds"] for d in during)
    during_rate = logins / seconds if seconds else float("nan")
    return {
        "hammer": outcome,
        "alone_per_second": 1000 / alone["seconds"],
        "server_cpu_per_answer": server_cpu,
        "client_cpu_per_answer": alone["client_cpu"] / 1000,
        "baseline_per_second": baseline["per_second"],
        "baseline_p50": baseline["p50"],
        "during_per_second": during_rate,
        "during_errors": sum(d["errors"] for d in during),
        "during_p50": statistics.median([d["p50"] for d in during]) if during else float("nan"),
        "slowdown": 1 - during_rate / baseline["per_second"],
    }


def measure(seconds: float = 20.0, url: str | None = None, hammer_count: int = 10_000) -> dict:
    home = Path(tempfile.mkdtemp(prefix="extgw-portal-bench-"))
    env = child_env(home)
    for key, value in env.items():  # prepare() runs here: the same folders as the server
        if key.startswith("EXTGW_"):
            os.environ[key] = value
    url = url or f"sqlite:///{home / 'portal.sqlite3'}"
    if not url.startswith("sqlite"):
        from playhouse.db_url import connect

        scratch = connect(url)
        scratch.execute_sql("DROP SCHEMA public CASCADE")
        scratch.execute_sql("CREATE SCHEMA public")
        scratch.close()
    prepare(url)
    verify = one_verification()
    pool = pool_verifications_per_second()
    figures: dict = {
        "backend": url.split(":")[0],
        "cores": cores(),
        "verify_seconds": verify,
        "floor_per_second": cores() / verify,
        "pool_per_second": pool,
        "runs": [],
    }
    process, base = start_server(url, env)
    try:
        asyncio.run(load(base, 2, 2.0))  # warm-up: threads, connections
        for concurrency in (1, 8, 32):
            before = one_verification()  # the server is idle between levels
            run = asyncio.run(load(base, concurrency, seconds))
            run["verify_seconds"] = statistics.median([before, one_verification()])
            figures["runs"].append(run)
        figures["hammer"] = hammered(base, hammer_count, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    return figures


def report(f: dict) -> tuple[str, bool]:
    floor = f["floor_per_second"]
    lines = [
        f"portal on {f['backend']}: one argon2 verification {f['verify_seconds'] * 1000:.0f} ms; "
        f"floor {f['cores']} cores / verification = {floor:.2f} logins/s "
        f"({f['pool_per_second']:.2f}/s measured with {f['cores']} threads in one process)"
    ]
    ok = True
    for run in f["runs"]:
        c = run["concurrency"]
        verify = run.get("verify_seconds", f["verify_seconds"])  # around this level
        limit = (1 if c == 1 else f["cores"]) / verify
        share = run["per_second"] / limit
        passed = share >= 0.85 and run["errors"] == 0
        ok &= passed
        lines.append(
            f"  concurrency {c:>2}: {run['per_second']:6.2f} logins/s = {share:.0%} of "
            f"{limit:.2f} (a verification {verify * 1000:.0f} ms around this level); "
            f"p50 {run['p50'] * 1000:.0f} ms, p99 {run['p99'] * 1000:.0f} ms; "
            f"{run['errors']} errors  {'PASS' if passed else 'MISS'}"
        )
    h = f["hammer"]
    passed = h["slowdown"] <= 0.20 and h["during_errors"] == 0
    ok &= passed
    lines += [
        f"  hammer: {sum(h['hammer']['statuses'].values()):,} failed logins on one account in "
        f"{h['hammer']['seconds']:.1f} s (answers {h['hammer']['statuses']}); others "
        f"{h['baseline_per_second']:.2f} -> {h['during_per_second']:.2f} logins/s "
        f"(p50 {h['baseline_p50'] * 1000:.0f} -> {h['during_p50'] * 1000:.0f} ms), "
        f"slowdown {h['slowdown']:.0%} (<= 20%)  {'PASS' if passed else 'MISS'}",
        f"  a limited answer alone: {h['alone_per_second']:,.0f}/s on one connection, "
        f"{h['server_cpu_per_answer'] * 1e6:.0f} µs of server CPU each (a login: one argon2 "
        f"verification, {f['verify_seconds'] * 1000:.0f} ms); the attacker's client "
        f"{h['client_cpu_per_answer'] * 1e6:.0f} µs each, on the same cores",
    ]
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--db", metavar="URL", help="default: a new SQLite file")
    parser.add_argument("--hammer", type=int, default=10_000)
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "portal.json")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    figures = measure(args.seconds, args.db, args.hammer)
    figures["machine"] = machine()
    figures["load"] = {"before": load_before, "after": os.getloadavg()}
    text, ok = report(figures)
    print(text)
    print(f"load average before {load_before}, after {os.getloadavg()}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=1, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
