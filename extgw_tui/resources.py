"""Where packaged files are: the Textual stylesheets in styles/."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def stylesheet(name: str) -> Path:
    """The path of styles/<name> (installed as the extgw_tui.styles package)."""
    return Path(str(files("extgw_tui.styles").joinpath(name)))
