"""The portal's own options, checked once as each worker starts: config.toml's [portal] table
(rows "portal.*" of settings.SETTINGS, which `extgw-tui config` lists with where each came from).

[portal]
cors_origins = ["https://www.hillside.example"]   # none: CORS stays off
max_body_bytes = 65536
reset_link = "https://www.hillside.example/portal/reset#token={token}"
session_idle_minutes = 30
session_max_hours = 12
login_failures_per_email = 10
login_failures_per_client = 100
resets_per_email = 3
resets_per_client = 20
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from extgw_tui import settings
from extgw_tui.errors import ExtgwError
from extgw_tui.services import portal_limits, portal_sessions

#: name -> (lowest, highest) of each whole-number option.
_RANGES = {
    "max_body_bytes": (1024, 1024 * 1024),
    "session_idle_minutes": (1, 24 * 60),
    "session_max_hours": (1, 24 * 30),
    "login_failures_per_email": (1, 10_000),
    "login_failures_per_client": (1, 1_000_000),
    "resets_per_email": (1, 1_000),
    "resets_per_client": (1, 100_000),
}


@dataclass(frozen=True)
class PortalConfig:
    cors_origins: tuple[str, ...]
    max_body_bytes: int
    session_idle_minutes: int
    session_max_hours: int
    login_failures_per_email: int
    login_failures_per_client: int
    resets_per_email: int
    resets_per_client: int

    def apply(self) -> None:
        """Put the lifetimes and limits in force in this process (each worker at its start)."""
        portal_sessions.set_lifetime(
            timedelta(minutes=self.session_idle_minutes), timedelta(hours=self.session_max_hours)
        )
        portal_limits.set_limits(
            login=(self.login_failures_per_client, self.login_failures_per_email),
            reset=(self.resets_per_client, self.resets_per_email),
        )


def load_portal_config() -> PortalConfig:
    """The [portal] options in force; ExtgwError says in one sentence what to fix."""
    table = settings.load_config().get("portal", {})
    where = f"{settings.config_file()} [portal]"
    if not isinstance(table, dict):
        raise ExtgwError(f"{where} must be a table.")
    origins = settings.value("portal.cors_origins") or []
    if "*" in origins:
        raise ExtgwError(f"{where}: cors_origins must name origins; '*' is not allowed.")
    numbers = {}
    for name, (low, high) in _RANGES.items():
        numbers[name] = settings.value(f"portal.{name}")
        if not low <= numbers[name] <= high:
            raise ExtgwError(f"{where}: {name} must be a number from {low} to {high}.")
    return PortalConfig(cors_origins=tuple(origins), **numbers)
