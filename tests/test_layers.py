"""The layers README describes are checked, not promised: pyproject.toml's import-linter
contracts (services import no Textual, widgets no screens, commands no screens...) hold."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold():
    pytest.importorskip("importlinter")
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is installed but its lint-imports command is not"
    done = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 broken" in done.stdout


def test_no_test_module_imports_another():
    """Shared test code lives in helper modules (app_helpers, export_world ...), so running one
    test file never runs, or depends on the fixtures of, another."""
    offenders = [
        f"{path.name}: {line.strip()}"
        for path in sorted((ROOT / "tests").glob("*.py"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith(("from test_", "import test_"))
    ]
    assert offenders == []
