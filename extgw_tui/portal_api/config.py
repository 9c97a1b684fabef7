"""The portal's own options: config.toml's [portal] table, checked once at start.

[portal]
cors_origins = ["https://www.hillside.example"]   # none: CORS stays off
max_body_bytes = 65536
reset_link = "https://www.hillside.example/portal/reset#token={token}"
"""

from __future__ import annotations

from dataclasses import dataclass

from extgw_tui import settings
from extgw_tui.errors import ExtgwError

DEFAULT_MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class PortalConfig:
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY


def load_portal_config() -> PortalConfig:
    table = settings.load_config().get("portal", {})
    where = f"{settings.config_file()} [portal]"
    if not isinstance(table, dict):
        raise ExtgwError(f"{where} must be a table.")
    origins = table.get("cors_origins", [])
    if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
        raise ExtgwError(f"{where}: cors_origins must be a list of origins (strings).")
    if "*" in origins:
        raise ExtgwError(f"{where}: cors_origins must name origins; '*' is not allowed.")
    size = table.get("max_body_bytes", DEFAULT_MAX_BODY)
    if not isinstance(size, int) or not 1024 <= size <= 1024 * 1024:
        raise ExtgwError(f"{where}: max_body_bytes must be a number from 1024 to 1048576.")
    return PortalConfig(cors_origins=tuple(origins), max_body_bytes=size)
