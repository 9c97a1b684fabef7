"""Packaging: a plain source checkout runs (styles/ found, version from pyproject.toml), every
package is in the wheel, and the sdist holds the tests and passes them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

import extgw_tui

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
#: Tests quick enough to run again from the unpacked sdist.
SDIST_TESTS = ("tests/test_settings.py", "tests/test_xlsx.py")


def site_packages_without_extgw(tmp_path: Path) -> Path:
    """A folder with every installed distribution but extgw-tui: "a clone with the
    dependencies installed" (the editable install's finder and metadata left out)."""
    deps = tmp_path / "deps"
    deps.mkdir()
    for folder in {Path(p) for p in sys.path if p.endswith("site-packages")}:
        for entry in folder.iterdir():
            lowered = entry.name.lower()
            if lowered.startswith(("extgw_tui", "__editable__", "extgw-tui")):
                continue
            if entry.suffix == ".pth" or (deps / entry.name).exists():
                continue
            (deps / entry.name).symlink_to(entry)
    return deps


def run_from_checkout(checkout: Path, deps: Path, home: Path, *args: str):
    """python -S (no site-packages, no .pth files) with only the dependencies on the path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("EXTGW_")}
    env.update(
        PYTHONPATH=str(deps),
        PYTHONDONTWRITEBYTECODE="1",
        EXTGW_DATA_DIR=str(home / "data"),
        EXTGW_CONFIG_DIR=str(home / "config"),
        EXTGW_LOG_DIR=str(home / "log"),
        EXTGW_ADMIN="checkout-test",
    )
    if "EXTGW_TEST_PG_URL" in os.environ:
        env["EXTGW_TEST_PG_URL"] = os.environ["EXTGW_TEST_PG_URL"]
    return subprocess.run(
        [sys.executable, "-S", *args],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_checkout(target: Path) -> Path:
    for name in ("extgw_tui", "styles"):
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    marked = text.replace(f'version = "{PYPROJECT["project"]["version"]}"', 'version = "0.0.0+co"')
    (target / "pyproject.toml").write_text(marked, encoding="utf-8")
    return target


APP_SCRIPT = """
import asyncio, sys
import extgw_tui
from extgw_tui.app import ExtgwApp
from extgw_tui.resources import stylesheet

async def main():
    app = ExtgwApp(db_url="sqlite:///" + sys.argv[1])
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        print(type(app.screen).__name__, extgw_tui.__file__, stylesheet("users.tcss"))

asyncio.run(main())
"""


def test_a_plain_source_checkout_runs_without_installing(tmp_path: Path) -> None:
    checkout = copy_checkout(tmp_path / "clone")
    deps = site_packages_without_extgw(tmp_path)
    home = tmp_path / "home"
    for name in ("data", "config", "log"):
        (home / name).mkdir(parents=True)

    result = run_from_checkout(checkout, deps, home, "-m", "extgw_tui", "--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, "extgw-tui 0.0.0+co\n", "")

    result = run_from_checkout(checkout, deps, home, "-m", "extgw_tui", "config")
    assert result.returncode == 0, result.stderr
    assert "database" in result.stdout

    result = run_from_checkout(checkout, deps, home, "-c", APP_SCRIPT, str(tmp_path / "x.db"))
    assert result.returncode == 0, result.stderr
    screen, package, users_css = result.stdout.split()
    assert screen == "UsersScreen"
    assert Path(package).is_relative_to(checkout)
    assert Path(users_css) == checkout / "styles" / "users.tcss"


def test_one_version_source() -> None:
    assert extgw_tui.__version__ == version("extgw-tui") == PYPROJECT["project"]["version"]
    assert extgw_tui._version("no-such-distribution") == PYPROJECT["project"]["version"]


def test_every_package_is_listed_for_the_wheel() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "extgw_tui").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    missing = found - listed
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"


def build(kind: str, outdir: Path) -> Path:
    """Build from a clean copy: what a fresh clone gives (no egg-info left by other builds)."""
    source = outdir.parent / "source"
    if not source.exists():
        shutil.copytree(
            ROOT,
            source,
            ignore=shutil.ignore_patterns(
                ".git", ".venv", "*.egg-info", "__pycache__", "build", "dist", ".*_cache", ".pg"
            ),
        )
    result = subprocess.run(
        [sys.executable, "-m", "build", f"--{kind}", "--no-isolation", "--outdir", str(outdir)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = outdir.iterdir()
    return built


def tracked(pattern: str) -> set[str]:
    return {
        str(path.relative_to(ROOT))
        for path in ROOT.glob(pattern)
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_holds_the_styles_and_the_licence(tmp_path: Path) -> None:
    wheel = build("wheel", tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    styles = {f"extgw_tui/styles/{Path(name).name}" for name in tracked("styles/*.tcss")}
    assert styles <= names
    assert {n for n in names if n.endswith("/licenses/LICENSE")}
    assert not {n for n in names if n.startswith("tests/")}


@pytest.mark.timeout(600)
def test_the_sdist_holds_its_tests_and_passes_them(tmp_path: Path) -> None:
    sdist = build("sdist", tmp_path / "dist")
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
        archive.extractall(tmp_path, filter="data")
    expected = (
        tracked("extgw_tui/**/*.py")
        | tracked("tests/**/*")
        | tracked("styles/*")
        | tracked("benchmarks/*.py")
        | {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "constraints.txt", "tasks"}
    )
    assert not expected - names, f"missing from the sdist: {sorted(expected - names)}"

    home = tmp_path / "home"
    for name in ("data", "config", "log"):
        (home / name).mkdir(parents=True)
    deps = site_packages_without_extgw(tmp_path)
    unpacked = tmp_path / top
    result = run_from_checkout(
        unpacked, deps, home, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SDIST_TESTS
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
