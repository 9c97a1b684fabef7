"""extgw-tui: the administrators' terminal tool for External Gateway users."""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DISTRIBUTION = "extgw-tui"


def _version(distribution: str = DISTRIBUTION) -> str:
    """pyproject.toml's version: from the installed metadata, or read from pyproject.toml itself
    when running from a source checkout that was never installed."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            with pyproject.open("rb") as fh:
                return tomllib.load(fh)["project"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown"


__version__ = _version()
