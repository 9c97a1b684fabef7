"""Running the real CLI the way an administrator does (a helper module)."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m extgw_tui ARGS` with no terminal (stdin closed), capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "extgw_tui", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def answer_on_a_terminal(args: list[str], answer: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m extgw_tui ARGS` with a real terminal (a pty) on stdin and type `answer`
    and enter at its question, as an administrator would; stdout and stderr are captured."""
    primary, secondary = os.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "extgw_tui", *args],
            stdin=secondary,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(secondary)
        os.write(primary, f"{answer}\n".encode())
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(primary)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
