"""`extgw-tui export ...`: the same exports from the command line, on a real SQLite file."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from export_world import World, build_world, bulk_users
from openpyxl import load_workbook

from extgw_tui import cli
from extgw_tui.services.exports import export_rows, make_request


@pytest.fixture
def world(sqlite_db) -> World:
    return build_world()


def rows_of(path: Path) -> list[tuple]:
    return list(load_workbook(path).worksheets[0].iter_rows(min_row=2, values_only=True))


def as_read(value):
    """A service value as a spreadsheet gives it back: Yes/No, and empty text as no value."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return None if value == "" else value


def export(sqlite_db, *args: str) -> int:
    return cli.main(["--db", sqlite_db.url, "export", *args])


@pytest.mark.parametrize(
    "args, expected",
    [
        (["users"], 4),
        (["users", "--search", "smith"], 1),
        (["holders", "--licence", "Parent/Guardian"], 2),
        (["holders", "--licence", "pupil", "--search", "abbot"], 1),
        (["pupils-with", "--licence", "Parent/Guardian"], 2),
        (["pupils-without", "--licence", "Parent/Guardian"], 2),
        (["pupils-without", "--licence", "Pupil"], 2),
    ],
)
def test_each_export_writes_the_service_rows(
    world: World, sqlite_db, tmp_path: Path, capsys, args: list[str], expected: int
) -> None:
    out = tmp_path / "out.xlsx"
    assert export(sqlite_db, *args, "-o", str(out)) == 0
    captured = capsys.readouterr()
    noun = "row" if expected == 1 else "rows"
    assert captured.out.startswith(f"Exported {expected} {noun} (")
    assert captured.out.rstrip().endswith(f"to {out}")
    assert captured.err == ""  # not a terminal: no progress bar, just the summary line
    kind = args[0]
    licence = args[args.index("--licence") + 1] if "--licence" in args else None
    search = args[args.index("--search") + 1] if "--search" in args else None
    written = rows_of(out)
    assert len(written) == expected
    service = [
        tuple(as_read(v) for v in row) for row in export_rows(make_request(kind, licence, search))
    ]
    assert written == service


def test_default_name_goes_to_the_export_folder(
    world: World, sqlite_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("EXTGW_EXPORT_DIR", str(tmp_path))
    assert export(sqlite_db, "pupils-without", "--licence", "parent/guardian") == 0
    [written] = tmp_path.glob("pupils-without_parent-guardian_*.xlsx")
    assert str(written) in capsys.readouterr().out


def test_suffix_is_added(world: World, sqlite_db, tmp_path: Path) -> None:
    assert export(sqlite_db, "users", "-o", str(tmp_path / "plain")) == 0
    assert (tmp_path / "plain.xlsx").is_file()


def test_a_folder_gets_the_proposed_name(world: World, sqlite_db, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    assert export(sqlite_db, "holders", "--licence", "Pupil", "-o", str(folder)) == 0
    [written] = folder.glob("external-users_pupil_*.xlsx")
    assert capsys.readouterr().out.rstrip().endswith(f"to {written}")
    assert not (tmp_path / "reports.xlsx").exists()
    assert len(rows_of(written)) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["holders"], "needs --licence NAME (licence types: Parent/Guardian, Pupil)"),
        (["pupils-with", "--licence", "Grandparent"], "no licence type called 'Grandparent'"),
        (["pupils-with", "--licence", "Pupil", "--search", "x"], "user exports only"),
        (
            ["users", "--licence", "Pupil"],
            "The users export takes no --licence; for the users holding a licence type, use "
            "`export holders --licence NAME`.",
        ),
        (["users", "-o", "/proc/x.xlsx"], "cannot be saved in /proc"),
        (["users", "-o", "/no/such/folder/x.xlsx"], "The folder /no/such/folder does not exist"),
    ],
)
def test_errors_are_one_sentence(
    world: World, sqlite_db, capsys, args: list[str], message: str
) -> None:
    assert export(sqlite_db, *args) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_progress_bar_on_a_terminal(world: World, sqlite_db, tmp_path: Path) -> None:
    """A real pseudo-terminal on stderr: the bar is drawn there, the summary goes to stdout."""
    out = tmp_path / "tty.xlsx"
    main_fd, child_fd = pty.openpty()
    env = {**os.environ, "EXTGW_ADMIN": "tty-admin"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "extgw_tui",
            "--db",
            sqlite_db.url,
            "export",
            "users",
            "-o",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=child_fd,
        env=env,
        timeout=60,
        check=False,
    )
    os.close(child_fd)
    drawn = b""
    try:
        while chunk := os.read(main_fd, 4096):
            drawn += chunk
    except OSError:  # the terminal closed: everything was read
        pass
    os.close(main_fd)
    assert proc.returncode == 0, drawn
    assert b"Exporting [" in drawn and b"100%" in drawn and b"4 of 4 rows" in drawn
    assert proc.stdout.decode().startswith("Exported 4 rows")
    assert len(rows_of(out)) == 4


def test_sigterm_mid_export_leaves_no_files(sqlite_db, tmp_path: Path) -> None:
    """A real process stopped by SIGTERM (or SIGHUP) as it writes: the writer still cleans up."""
    bulk_users(30_000)
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    out.mkdir()
    scratch.mkdir()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "extgw_tui",
            "--db",
            sqlite_db.url,
            "export",
            "users",
            "-o",
            str(out / "big.xlsx"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch)},  # openpyxl's scratch files go here
    )
    deadline = time.monotonic() + 60
    # the hidden file the export is written to, made before the first row: rows are coming
    # (the data sheet streams straight into it; openpyxl's scratch files come at the end)
    while not any(out.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err == "extgw-tui: interrupted.\n"
    assert list(out.iterdir()) == [] and list(scratch.iterdir()) == []
