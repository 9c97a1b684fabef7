"""The export modal driven from the keyboard only (Pilot), on a real SQLite database."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import signal
import struct
import sys
import termios
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from app_helpers import settle
from busy_pilot import send_key, wait_until
from export_modal_helpers import rows_of, status
from export_world import World, build_world, bulk_users
from host_app import HostApp
from textual.app import App
from textual.widgets import Input, ProgressBar, RadioButton, RadioSet, Select, Static

from extgw_tui import cli
from extgw_tui.models import ExternalUser
from extgw_tui.screens.export import KINDS, ExportModal
from extgw_tui.services.exports import LABELS, ExportKind


async def replace_path(pilot, path: Path) -> None:
    """Clear the file name field and type a new one, as an admin would."""
    await pilot.press("end", "ctrl+u")
    await pilot.press(*str(path))


async def paste_path(pilot, path: Path) -> None:
    """Put a path in the focused file name field at once (a paste), to keep tests quick."""
    field = pilot.app.focused
    assert isinstance(field, Input) and field.id == "export-path"
    field.value = str(path)
    await pilot.pause()


async def start_writing(app: App, pilot, path: Path) -> None:
    """Start "All external users" into `path`; return once rows are being written."""
    await settle(pilot, app, typed=False)
    await pilot.press("tab")
    await paste_path(pilot, path)
    send_key(app, "enter")  # without Pilot's wait for idle: the export keeps the CPU busy
    progress = app.screen.query_one(ProgressBar)
    await wait_until(lambda: (progress.progress or 0) > 0)


@pytest.fixture
def world(sqlite_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("EXTGW_EXPORT_DIR", str(tmp_path))
    return build_world()


async def test_keyboard_only_pupils_with_export_matches_the_cli(
    world: World, sqlite_db, tmp_path: Path
) -> None:
    app = HostApp(ExportModal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        modal = app.screen
        assert isinstance(modal, ExportModal)
        assert not modal.query_one("#export-licence-row").display  # "all users" needs none
        path_field = modal.query_one("#export-path", Input)
        assert path_field.value == str(tmp_path / f"external-users_{datetime.now():%Y-%m-%d}.xlsx")
        # Radio list has focus: move to "Pupils that have a holder", choose it, tab onwards.
        await pilot.press("down", "down", "enter")
        assert modal.query_one(RadioSet).pressed_index == 2
        assert modal.query_one("#export-licence-row").display
        assert modal.query_one("#export-licence", Select).value == "Parent/Guardian"
        assert "pupils-with_parent-guardian_" in path_field.value
        # Enter on a choice that needs a licence type goes on to the licence type.
        assert app.focused is modal.query_one("#export-licence", Select)
        await pilot.press("tab")
        assert app.focused is path_field
        target = tmp_path / "from-modal.xlsx"
        await replace_path(pilot, target)
        await pilot.press("enter")
        await settle(pilot, app, typed=False)
        assert f"Saved 2 rows to {target}" in status(app)
        assert app.screen is modal  # stays open to show where the file went
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]
    cli_file = tmp_path / "from-cli.xlsx"
    code = cli.main(
        [
            "--db",
            sqlite_db.url,
            "export",
            "pupils-with",
            "--licence",
            "Parent/Guardian",
            "-o",
            str(cli_file),
        ]
    )
    assert code == 0
    assert rows_of(target) == rows_of(cli_file)
    assert len(rows_of(target)) == 3


async def test_enter_on_a_choice_without_licence_exports_at_once(
    world: World, tmp_path: Path
) -> None:
    app = HostApp(ExportModal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("enter")  # "All external users" is highlighted: enter is Export
        await settle(pilot, app, typed=False)
        written = tmp_path / f"external-users_{datetime.now():%Y-%m-%d}.xlsx"
        assert f"to {written}" in status(app)
        assert len(rows_of(written)) == 1 + ExternalUser.select().count()


async def test_users_as_currently_listed(world: World, tmp_path: Path) -> None:
    app = HostApp(lambda: ExportModal("smith"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        modal = app.screen
        radios = modal.query_one(RadioSet)
        assert radios.pressed_button.name == ExportKind.SEARCH.value  # preselected
        assert "search-smith" in modal.query_one("#export-path", Input).value
        await pilot.press("ctrl+s")
        await settle(pilot, app, typed=False)
        written = next(tmp_path.glob("external-users_search-smith_*.xlsx"))
        assert str(written) in status(app)
        assert [r[0] for r in rows_of(written)[1:]] == [world.ann]


async def test_no_search_no_search_choice(world: World) -> None:
    app = HostApp(lambda: ExportModal("   "))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        names = [b.name for b in app.screen.query("RadioButton")]
        assert ExportKind.SEARCH.value not in names and len(names) == 6  # help page + roll


async def test_existing_file_asks_before_replacing(world: World, tmp_path: Path) -> None:
    target = tmp_path / "keep.xlsx"
    target.write_bytes(b"precious")
    app = HostApp(ExportModal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("tab")
        await paste_path(pilot, target)
        await pilot.press("enter")
        await pilot.pause()
        assert "Replace" in str(app.screen.query_one("#confirm-question", Static).render())
        await pilot.press("n")
        await settle(pilot, app, typed=False)
        assert target.read_bytes() == b"precious"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, app, typed=False)
        assert len(rows_of(target)) == 5  # header + four users
        assert "Saved 4 rows" in status(app)


async def test_unwritable_folder_message_in_the_modal(world: World, tmp_path: Path) -> None:
    app = HostApp(ExportModal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("tab")
        await paste_path(pilot, Path("/proc/nope.xlsx"))
        await pilot.press("enter")
        await settle(pilot, app, typed=False)
        assert "cannot be saved in /proc" in status(app)
        assert isinstance(app.focused, Input)
        await paste_path(pilot, tmp_path / "missing" / "x.xlsx")
        await pilot.press("enter")
        await settle(pilot, app, typed=False)
        assert "does not exist" in status(app)


async def test_escape_cancels_a_running_export_and_leaves_no_file(
    world: World, tmp_path: Path
) -> None:
    bulk_users(30_000)
    out = tmp_path / "out"
    out.mkdir()
    app = HostApp(ExportModal)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_writing(app, pilot, out / "big.xlsx")
        assert app.screen.running is not None
        await pilot.press("escape")
        await settle(pilot, app, typed=False)
        assert "cancelled; no file was written" in status(app)
        assert isinstance(app.screen, ExportModal)  # the first escape only cancels
        assert list(out.iterdir()) == []
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]


async def test_mouse_and_the_other_exports_ignore_the_search(world: World, tmp_path: Path) -> None:
    app = HostApp(lambda: ExportModal("smith"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        modal = app.screen
        holders = next(b for b in modal.query(RadioButton) if b.name == ExportKind.HOLDERS.value)
        assert await pilot.click(holders)
        await pilot.pause()
        assert modal.query_one(RadioSet).pressed_button is holders
        path = modal.query_one("#export-path", Input).value
        assert "external-users_parent-guardian_" in path and "search" not in path
        assert await pilot.click("#export")
        await settle(pilot, app, typed=False)
        assert f"Saved 2 rows to {path}" in status(app)  # both holders, not just the Smiths
        assert await pilot.click("#close")
        await pilot.pause()
        assert app.results == [None]


async def test_enter_with_a_search_exports_only_the_matches(world: World, tmp_path: Path) -> None:
    """The search choice is pressed and highlighted, so enter exports it, under its own name."""
    app = HostApp(lambda: ExportModal("smith"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("enter")
        await settle(pilot, app, typed=False)
        [written] = tmp_path.glob("*.xlsx")
        assert written.name == f"external-users_search-smith_{datetime.now():%Y-%m-%d}.xlsx"
        assert [r[0] for r in rows_of(written)[1:]] == [world.ann]
        assert f"Saved 1 row to {written}" in status(app)


async def test_enter_exports_the_highlighted_choice_under_its_name(
    world: World, tmp_path: Path
) -> None:
    """Space presses "holders" (its name is proposed); up, enter: all users, under their name."""
    app = HostApp(ExportModal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        field = app.screen.query_one("#export-path", Input)
        await pilot.press("down", "space")
        await settle(pilot, app, typed=False)
        assert "external-users_parent-guardian_" in field.value
        await pilot.press("up", "enter")
        await settle(pilot, app, typed=False)
        [written] = tmp_path.glob("*.xlsx")
        assert written.name == f"external-users_{datetime.now():%Y-%m-%d}.xlsx"
        assert len(rows_of(written)) == 1 + ExternalUser.select().count()
        assert f"Saved 4 rows to {written}" in status(app)


async def test_the_choices_are_the_service_labels(world: World) -> None:
    app = HostApp(lambda: ExportModal("[b]smith"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        labels = [str(b.label) for b in app.screen.query(RadioButton)]
        assert labels == [LABELS[k] for k in KINDS] + [f"{LABELS[ExportKind.SEARCH]}: [b]smith"]


async def test_a_folder_in_save_as_gets_the_proposed_name(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    app = HostApp(ExportModal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await pilot.press("tab")
        await paste_path(pilot, folder)
        await pilot.press("enter")
        await settle(pilot, app, typed=False)
        written = folder / f"external-users_{datetime.now():%Y-%m-%d}.xlsx"
        assert f"Saved 4 rows to {written}" in status(app)
        assert not (tmp_path / "reports.xlsx").exists()


async def test_enter_during_an_export_does_not_cancel_it(world: World, tmp_path: Path) -> None:
    bulk_users(30_000)
    app = HostApp(ExportModal)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_writing(app, pilot, tmp_path / "big.xlsx")
        assert app.focused is None  # not the Cancel button: enter has nothing to press
        assert app.screen.unsaved_work() == f"the export to {tmp_path / 'big.xlsx'} being written"
        send_key(app, "enter")
        await wait_until(lambda: app.screen.running is None)
        assert "Saved 30,004 rows" in status(app)
        assert len(rows_of(tmp_path / "big.xlsx")) == 1 + 30_004


def test_terminal_closed_mid_export_leaves_no_file(sqlite_db, tmp_path: Path) -> None:
    """The real app on a pseudo-terminal; the terminal closes (SIGHUP) as the file is written."""
    bulk_users(30_000)
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    out.mkdir()
    scratch.mkdir()
    env = {
        **os.environ,
        "EXTGW_EXPORT_DIR": str(out),
        "TMPDIR": str(scratch),
        "TERM": "xterm-256color",
    }
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the app, with the pseudo-terminal as its controlling terminal
        os.execve(sys.executable, [sys.executable, "-m", "extgw_tui", "--db", sqlite_db.url], env)
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    drawn = bytearray()
    reader = threading.Thread(target=_drain, args=(terminal, drawn), daemon=True)
    reader.start()
    try:
        _wait_for(lambda: b"External users" in drawn, "the app to start")
        os.write(terminal, b"x")
        _wait_for(lambda: b"Save as" in drawn, "the export dialog")
        time.sleep(1)  # the proposed file name arrives from a worker
        os.write(terminal, b"\r")  # "All external users" is highlighted: export
        # the hidden file the export is written to, made before the first row (the data
        # sheet streams straight into it; openpyxl's scratch files come at the end)
        _wait_for(lambda: any(out.iterdir()), "rows being written")
    finally:
        os.close(terminal)  # the terminal window closes
    _, code = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(code) == 128 + signal.SIGHUP
    assert list(out.iterdir()) == [] and list(scratch.iterdir()) == []


def _drain(terminal: int, into: bytearray) -> None:
    """Read what the app draws, so it never blocks on a full terminal."""
    with contextlib.suppress(OSError):
        while chunk := os.read(terminal, 65536):
            into.extend(chunk)


def _wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
