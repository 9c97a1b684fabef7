"""Where exports go without a typed path (Downloads, then the folder last used, per
administrator; never the current directory), and `export` refusing to overwrite without
--force. Real .xlsx files, opened again."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_world import build_world
from openpyxl import load_workbook

from extgw_tui import cli
from extgw_tui.services import audit, export_folder


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home with a Downloads folder; the current directory is somewhere else."""
    home = tmp_path / "home"
    (home / "Downloads").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    monkeypatch.chdir(checkout)
    return home


def export(sqlite_db, *args: str) -> int:
    return cli.main(["--db", sqlite_db.url, "export", "users", *args])


def test_exports_go_to_downloads_then_the_folder_last_used_per_admin(
    sqlite_db, home: Path, tmp_path: Path
) -> None:
    build_world()
    assert export(sqlite_db) == 0
    written = list((home / "Downloads").glob("*.xlsx"))
    assert len(written) == 1 and load_workbook(written[0]).worksheets[0].max_row == 5
    assert list(Path.cwd().iterdir()) == []  # never the program's folder

    reports = tmp_path / "reports"
    reports.mkdir()
    assert export(sqlite_db, "-o", f"{reports}/", "--search", "smith") == 0
    assert export_folder.default_folder() == reports.resolve()
    audit.set_admin("another-admin")
    assert export_folder.default_folder() == home / "Downloads"
    audit.set_admin("test-admin")
    written[0].unlink()
    assert export(sqlite_db) == 0  # remembered: lands in reports, not Downloads
    assert len(list(reports.glob("*.xlsx"))) == 2 and not list((home / "Downloads").iterdir())


def test_export_refuses_to_overwrite_without_force(sqlite_db, home: Path, capsys) -> None:
    build_world()
    out = home / "users.xlsx"
    out.write_bytes(b"the administrator's own file")
    assert export(sqlite_db, "-o", str(out)) == 1
    assert "already exists; add --force to replace it" in capsys.readouterr().err
    assert out.read_bytes() == b"the administrator's own file"
    assert export(sqlite_db, "-o", str(out), "--force") == 0
    assert load_workbook(out).worksheets[0].max_row == 5
