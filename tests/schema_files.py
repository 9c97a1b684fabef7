"""The database files an older release wrote, for the migration tests (a helper module)."""

from __future__ import annotations

import shutil
from pathlib import Path

SCHEMA_2_FILE = Path(__file__).parent / "data" / "schema2.sqlite3"  # written by release 0.1.0


def schema_2_copy(tmp_path: Path) -> str:
    """The URL of a fresh copy of the schema-2 file, so opening (migrating) it leaves the
    original alone."""
    path = tmp_path / "old.sqlite3"
    shutil.copy(SCHEMA_2_FILE, path)
    return f"sqlite:///{path}"
