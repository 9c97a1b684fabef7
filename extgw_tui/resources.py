"""Where the Textual stylesheets in styles/ are, installed or in a plain source checkout.

styles/ sits at the top of the repository (beside extgw_tui/); a wheel installs it as the
extgw_tui.styles package. Running from a checkout (a clone, an editable install, an unpacked
sdist) uses the folder itself, so `python -m extgw_tui` works there without installing.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def stylesheet(name: str) -> Path:
    """The path of styles/<name>."""
    in_checkout = _CHECKOUT / "styles" / name
    if in_checkout.is_file() and (_CHECKOUT / "pyproject.toml").is_file():
        return in_checkout
    return Path(str(files("extgw_tui.styles").joinpath(name)))
