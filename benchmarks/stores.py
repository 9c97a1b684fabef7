"""Where the benchmark's databases live, one store per backend, so every measurement takes a URL.

SQLite: files in the data folder, with a .meta.json beside each. PostgreSQL: databases on the
server EXTGW_BENCH_PG_URL names (created beside its database: <name>_large, <name>_small, ...;
the role needs CREATEDB), or on a throwaway cluster started for the run (pg_cluster.py). Either
way a database is generated once and reused until the code that makes it changes (SOURCES).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from common import BENCH, ROOT, run_probe

#: The code a demo database is made from: when any of it changes, the database is made again.
SOURCES = (
    "extgw_tui/models.py",
    "extgw_tui/db.py",
    "extgw_tui/email_index.py",
    "extgw_tui/services/demo.py",
    "extgw_tui/services/demo_copy.py",
    "extgw_tui/services/demo_names.py",
    "extgw_tui/services/login_summary.py",
    "extgw_tui/services/periods.py",
)

_GENERATE = (
    "import sys; from extgw_tui.commands.demo import ensure_demo; "
    "from common import emit, vmhwm_mb; "
    "ensure_demo(sys.argv[1], sys.argv[2], force=True); "
    "emit({'vmhwm_mb': vmhwm_mb()})"
)


def source_hash() -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        file = ROOT / name
        digest.update(file.read_bytes() if file.is_file() else b"-")
    return digest.hexdigest()[:16]


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def generate(url: str, size: str, env: dict) -> dict:
    """Generate the demo of `size` at `url` in a child process (what `extgw-tui demo` runs)."""
    started = time.perf_counter()
    done = run_probe(["-c", _GENERATE, url, size], env, f"generating the {size} demo", BENCH)
    return {
        "seconds": time.perf_counter() - started,
        "vmhwm_mb": done["vmhwm_mb"],
        "built_at": now_text(),
        "source": source_hash(),
    }


class SqliteStore:
    """Demo databases as SQLite files in the data folder."""

    name = "sqlite"

    def __init__(self, data: Path) -> None:
        self.data = data

    def url(self, size: str) -> str:
        return f"sqlite:///{self.data / f'{size}.sqlite3'}"

    def meta(self, size: str) -> dict | None:
        meta = self.data / f"{size}.meta.json"
        return json.loads(meta.read_text()) if meta.is_file() else None

    def ensure(self, size: str, env: dict, rebuild: bool) -> dict:
        """The generation figures of `size`, generating it first when missing or stale."""
        meta = self.meta(size)
        path = self.data / f"{size}.sqlite3"
        if rebuild or not path.is_file() or not meta or meta.get("source") != source_hash():
            self.data.mkdir(parents=True, exist_ok=True)
            meta = generate(self.url(size), size, env)
            (self.data / f"{size}.meta.json").write_text(json.dumps(meta))
        return meta

    @contextmanager
    def scratch(self, size: str) -> Iterator[str]:
        """A copy of `size` for measurements that write; removed afterwards."""
        source = self.data / f"{size}.sqlite3"
        target = self.data / f"work-{size}.sqlite3"
        _remove(target)
        shutil.copyfile(source, target)
        try:
            yield f"sqlite:///{target}"
        finally:
            _remove(target)

    @contextmanager
    def empty(self) -> Iterator[str]:
        """A new, empty database; removed afterwards."""
        target = self.data / "work-empty.sqlite3"
        _remove(target)
        try:
            yield f"sqlite:///{target}"
        finally:
            _remove(target)

    def close(self) -> None:
        """Nothing to stop: SQLite has no server."""


class PostgresStore:
    """Demo databases on a PostgreSQL server, named after the database of `admin_url`."""

    name = "postgresql"

    def __init__(self, admin_url: str, prefix: str | None = None, on_close=None) -> None:
        self.admin_url = admin_url
        self.prefix = prefix or urlsplit(admin_url).path.lstrip("/") or "extgw_bench"
        self.on_close = on_close

    def database(self, size: str) -> str:
        return f"{self.prefix}_{size}"

    def url(self, size: str, database: str | None = None) -> str:
        parts = urlsplit(self.admin_url)
        name = database or self.database(size)
        return urlunsplit(parts._replace(path=f"/{name}"))

    def _admin(self, *statements: str) -> list[tuple]:
        import psycopg2

        connection = psycopg2.connect(self.admin_url)
        connection.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
        try:
            with connection.cursor() as cursor:
                rows: list[tuple] = []
                for statement in statements:
                    cursor.execute(statement)
                    rows = cursor.fetchall() if cursor.description else []
                return rows
        finally:
            connection.close()

    def meta(self, size: str) -> dict | None:
        rows = self._admin(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            f"WHERE datname = '{self.database(size)}'"
        )
        try:
            return json.loads(rows[0][0]) if rows and rows[0][0] else None
        except ValueError:
            return None

    def ensure(self, size: str, env: dict, rebuild: bool) -> dict:
        meta = self.meta(size)
        if rebuild or not meta or meta.get("source") != source_hash():
            name = self.database(size)
            self._admin(
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
            )
            meta = generate(self.url(size), size, env)
            text = json.dumps(meta).replace("'", "''")
            self._admin(f"COMMENT ON DATABASE \"{name}\" IS '{text}'")
        return meta

    @contextmanager
    def scratch(self, size: str) -> Iterator[str]:
        """A copy of `size` made by CREATE DATABASE ... TEMPLATE (a file copy, statistics too)."""
        work = f"{self.prefix}_work"
        self._admin(
            f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)',
            f'CREATE DATABASE "{work}" TEMPLATE "{self.database(size)}"',
        )
        try:
            yield self.url(size, work)
        finally:
            self._admin(f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)')

    @contextmanager
    def empty(self) -> Iterator[str]:
        fresh = f"{self.prefix}_empty"
        self._admin(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)', f'CREATE DATABASE "{fresh}"')
        try:
            yield self.url("", fresh)
        finally:
            self._admin(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')

    def close(self) -> None:
        if self.on_close:
            self.on_close()


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
