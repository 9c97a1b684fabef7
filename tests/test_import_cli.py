"""`extgw-tui import pupils` and `extgw-tui demo --roll-file`: real files, real processes."""

from __future__ import annotations

import subprocess
import sys

from roll_files import pupil, write_csv, write_xlsx

from extgw_tui.cli import main
from extgw_tui.models import AuditEvent, Contact, Pupil, database


def _cli(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "extgw_tui", "import", "pupils", "--db", url, *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_dry_run_then_yes(sqlite_db, tmp_path, capsys):
    path = write_csv(tmp_path / "roll.csv", [pupil(1, "Smith", "Tom"), pupil(2, "Lee", "Kim", 15)])
    assert main(["import", "pupils", str(path), "--db", sqlite_db.url, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "New pupils: 1" in out and "Refused rows: 1" in out
    assert "row 6: impossible year group '15'" in out
    assert Pupil.select().count() == 0

    assert main(["import", "pupils", str(path), "--db", sqlite_db.url, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Imported roll.csv: one audit batch" in out
    assert [p.surname for p in Pupil.select()] == ["Smith"]
    assert AuditEvent.select().where(AuditEvent.action == "roll.import").count() == 1


def test_without_a_terminal_it_refuses_to_ask(sqlite_db, tmp_path):
    path = write_csv(tmp_path / "roll.csv", [pupil(1, "Smith", "Tom")])
    done = _cli(sqlite_db.url, str(path))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "extgw-tui: Refusing to import without a terminal to confirm on; add --yes, or "
        "--dry-run for the preview only."
    )


def test_map_sheet_and_partial(sqlite_db, tmp_path):
    Pupil.create(forename="Other", surname="Year", upn=None, admission_number="9999")
    header = ["Pupil ID", "Adno", "Surname", "Forename", "Year", "Reg"]
    path = write_xlsx(
        tmp_path / "y7.xlsx", {"Y7": [pupil(1, "Smith", "Tom")], "Y8": []}, header=header
    )
    done = _cli(sqlite_db.url, str(path), "--yes")
    assert done.returncode == 1 and "has 2 sheets ('Y7', 'Y8'); choose one" in done.stderr
    done = _cli(sqlite_db.url, str(path), "--sheet", "Y7", "--map", "Pupil ID=upn", "--partial",
                "--yes")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Leaving: none (a partial file never marks leavers)" in done.stdout
    database.connect(reuse_if_open=True)
    assert {(p.surname, p.on_roll) for p in Pupil.select()} == {("Smith", True), ("Year", True)}
    assert Pupil.get(Pupil.surname == "Smith").upn == pupil(1, "", "")[0]


def test_one_sentence_errors(sqlite_db, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00" * 100)
    cases = {
        str(tmp_path / "missing.csv"): "There is no file",
        str(empty): "empty.csv is empty.",
        str(binary): "is not a CSV or .xlsx file (it holds binary data).",
    }
    for path, expected in cases.items():
        done = _cli(sqlite_db.url, path, "--dry-run")
        assert done.returncode == 1, done.stderr
        assert expected in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    done = _cli(sqlite_db.url, str(empty), "--map", "nonsense", "--dry-run")
    assert done.returncode == 1 and "is not HEADER=field" in done.stderr
    done = _cli(sqlite_db.url, str(empty), "--dry-run", "--yes")
    assert done.returncode == 2  # argparse: not allowed together


def test_confirmation_on_a_terminal(sqlite_db, tmp_path, monkeypatch, capsys):
    path = write_csv(tmp_path / "roll.csv", [pupil(1, "Smith", "Tom")])
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    assert main(["import", "pupils", str(path), "--db", sqlite_db.url]) == 4
    assert "Nothing was imported." in capsys.readouterr().out
    assert Pupil.select().count() == 0
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    assert main(["import", "pupils", str(path), "--db", sqlite_db.url]) == 0
    assert Pupil.select().count() == 1


def test_demo_roll_file_round_trip(tmp_path):
    """The demo's roll file imports into the demo: a few changes, every contact, the refusals."""
    roll = tmp_path / "roll.csv"
    env_args = ["demo", "--roll-file", str(roll)]
    assert main(env_args) == 0
    preview_args = ["--demo", "import", "pupils", str(roll), "--dry-run"]
    done = subprocess.run(
        [sys.executable, "-m", "extgw_tui", *preview_args], capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Refused rows: 3" in out and "Warnings: 1" in out
    assert "fails the DfE check letter" in out and "no UPN and no admission number" in out
    assert "UPN " in out and " -> " in out  # the changed UPN, matched by admission number
    assert main(["--demo", "import", "pupils", str(roll), "--yes"]) == 0
    assert Contact.select().count() > 1000
    again = subprocess.run(
        [sys.executable, "-m", "extgw_tui", *preview_args], capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert "Nothing would be changed." in again.stdout
    xlsx = tmp_path / "roll.xlsx"
    assert main(["demo", "--roll-file", str(xlsx)]) == 0
    assert main(["--demo", "import", "pupils", str(xlsx), "--dry-run"]) == 0
