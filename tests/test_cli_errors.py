"""The command line with a bad database: one clear sentence, a non-zero exit, no traceback.

Run as real subprocesses (`python -m extgw_tui`). Permission cases need an unprivileged process:
root reads and writes any file whatever its mode, so when the tests run as root (as in CI) those
subprocesses run as `nobody` (runuser) or as root stripped of its file-permission override
(setpriv); see unprivileged_prefix.
"""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from extgw_tui.db import open_database
from extgw_tui.models import SchemaInfo

AS_ROOT = os.geteuid() == 0
#: Root keeps its uid but loses the capabilities that let it ignore file modes.
NO_DAC = [
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
]


@functools.cache
def unprivileged_prefix() -> list[str] | None:
    """How to run a command without root's power over file permissions, or None if we can't.

    As `nobody` when that user can reach this Python; otherwise (an interpreter under /root,
    say) as root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, which obeys file modes too.
    """
    candidates = []
    if shutil.which("runuser"):
        candidates.append(["runuser", "-u", "nobody", "--"])
    if shutil.which("setpriv"):
        candidates.append(["setpriv", *NO_DAC, "--"])
    for prefix in candidates:
        probe = subprocess.run(
            [*prefix, sys.executable, "-c", "import extgw_tui"],
            capture_output=True,
            cwd="/",
            timeout=60,
        )
        if probe.returncode == 0:
            return prefix
    return None


@pytest.fixture
def world_dir():
    """A folder every user can reach (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="extgw-cli-"))
    folder.chmod(0o777)
    for name in ("data", "config", "log"):
        (folder / name).mkdir()
        (folder / name).chmod(0o777)
    yield folder
    for path in folder.rglob("*"):  # make everything removable again
        if not path.is_symlink():
            path.chmod(0o777 if path.is_dir() else 0o666)
    shutil.rmtree(folder)


def run_cli(home: Path, *args: str, unprivileged: bool = False) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "EXTGW_DATA_DIR": str(home / "data"),
        "EXTGW_CONFIG_DIR": str(home / "config"),
        "EXTGW_LOG_DIR": str(home / "log"),
        "EXTGW_ADMIN": "cli-test",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("EXTGW_DB", None)
    command = [sys.executable, "-m", "extgw_tui", *args]
    if unprivileged and AS_ROOT:
        prefix = unprivileged_prefix()
        if prefix is None:
            pytest.fail("running as root and neither runuser nor setpriv can drop privileges")
        command = [*prefix, *command]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=home)


def assert_one_sentence(result: subprocess.CompletedProcess, *phrases: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_missing_folder(world_dir):
    result = run_cli(world_dir, "--db", url(world_dir / "no" / "such" / "x.sqlite3"), "activity")
    assert_one_sentence(result, "does not exist")
    assert result.returncode == 2


def test_corrupt_file(world_dir):
    target = world_dir / "garbage.sqlite3"
    target.write_bytes(bytes(range(256)) * 64)
    result = run_cli(world_dir, "--db", url(target), "activity")
    assert_one_sentence(result, "damaged or is not an extgw-tui database")
    assert target.read_bytes() == bytes(range(256)) * 64  # left exactly as it was


def test_sqlite_file_of_another_program(world_dir):
    """A valid SQLite file without our tables is not silently taken over... nor a crash."""
    target = world_dir / "other.sqlite3"
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE schema_info (nonsense TEXT)")
        conn.execute("INSERT INTO schema_info VALUES ('x')")
    conn.close()
    result = run_cli(world_dir, "--db", url(target), "activity")
    assert_one_sentence(result, "not an extgw-tui database")


def test_sqlite_file_with_only_other_tables_is_left_alone(world_dir):
    """Another program's database gets no extgw tables added to it."""
    target = world_dir / "foreign.sqlite3"
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.close()
    result = run_cli(world_dir, "--db", url(target), "stats")
    assert_one_sentence(result, "tables of another program")
    with sqlite3.connect(target) as conn:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master")]
    conn.close()
    assert tables == ["invoices"]


def test_postgres_database_that_does_not_exist(world_dir, postgres_url):
    missing = postgres_url.rsplit("/", 1)[0] + "/extgw_no_such_database"
    result = run_cli(world_dir, "--db", missing, "activity")
    assert_one_sentence(result, "does not exist on the server")


def test_directory_as_path(world_dir):
    result = run_cli(world_dir, "--db", url(world_dir / "data"), "activity")
    assert_one_sentence(result, "is a folder")


def test_newer_schema(world_dir):
    target = world_dir / "newer.sqlite3"
    handle = open_database(url(target))
    SchemaInfo.update(version=99).execute()
    handle.close()
    result = run_cli(world_dir, "--db", url(target), "activity")
    assert_one_sentence(result, "newer release", "schema 99")


def test_unsupported_url(world_dir):
    result = run_cli(world_dir, "--db", "mysql://somewhere/db", "activity")
    assert_one_sentence(result, "Unsupported database URL")


def _made(world_dir: Path, name: str) -> Path:
    target = world_dir / name
    open_database(url(target)).close()
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    return target


def test_read_only_file(world_dir):
    target = _made(world_dir, "readonly.sqlite3")
    target.chmod(0o444)
    result = run_cli(world_dir, "--db", url(target), "activity", unprivileged=True)
    assert_one_sentence(result, "read-only")


def test_read_only_folder(world_dir):
    folder = world_dir / "locked"
    folder.mkdir()
    target = _made(folder, "db.sqlite3")
    target.chmod(0o666)
    folder.chmod(0o555)
    result = run_cli(world_dir, "--db", url(target), "activity", unprivileged=True)
    assert_one_sentence(result, "read-only")
    new = run_cli(world_dir, "--db", url(folder / "new.sqlite3"), "activity", unprivileged=True)
    assert_one_sentence(new, "cannot be created", "permission denied")


def test_unreadable_file(world_dir):
    target = _made(world_dir, "secret.sqlite3")
    target.chmod(0)
    assert stat.S_IMODE(target.stat().st_mode) == 0
    result = run_cli(world_dir, "--db", url(target), "activity", unprivileged=True)
    assert_one_sentence(result, "cannot be read", "permission denied")


def test_demo_command_makes_the_demo_database(world_dir):
    result = run_cli(world_dir, "demo", "--size", "small")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    demo_file = world_dir / "data" / "demo-small.sqlite3"
    assert demo_file.is_file()
    assert "1,500 users" in result.stderr and "1,500 users" in result.stdout
    with sqlite3.connect(demo_file) as conn:
        assert conn.execute("SELECT COUNT(*) FROM external_user").fetchone() == (1_500,)
    conn.close()
    assert sorted(p.name for p in (world_dir / "data").iterdir()) == ["demo-small.sqlite3"]
    again = run_cli(world_dir, "demo")
    assert again.returncode == 0 and again.stderr == ""  # already there: not remade


def test_help_and_version(world_dir):
    result = run_cli(world_dir, "--help")
    assert result.returncode == 0 and "usage: extgw-tui" in result.stdout
    assert "demo" in result.stdout and "--db URL" in result.stdout
    version = run_cli(world_dir, "--version")
    assert version.returncode == 0 and version.stdout.startswith("extgw-tui ")
