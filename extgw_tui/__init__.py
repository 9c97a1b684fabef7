"""extgw-tui: the administrators' terminal tool for External Gateway users."""

from __future__ import annotations

from pathlib import Path

DISTRIBUTION = "extgw-tui"


def _version(distribution: str = DISTRIBUTION) -> str:
    """pyproject.toml's version: from the installed metadata, or read from pyproject.toml itself
    when running from a source checkout that was never installed."""
    import tomllib
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            with pyproject.open("rb") as fh:
                return tomllib.load(fh)["project"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown"


def __getattr__(name: str) -> str:
    """`__version__`, looked up when first asked for: reading the installed metadata costs
    ~35 ms, which every start would otherwise pay before the first frame."""
    if name == "__version__":
        return _version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
