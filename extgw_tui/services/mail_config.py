"""SMTP settings: environment variables first, then the [smtp] table of config.toml.

  EXTGW_SMTP_HOST      mail server; unset means "no server": messages go to the local outbox
  EXTGW_SMTP_PORT      default 587 (starttls), 465 (tls) or 25 (none)
  EXTGW_SMTP_SECURITY  starttls (default), tls (implicit TLS) or none
  EXTGW_SMTP_USER      login name, when the server wants one
  EXTGW_SMTP_PASSWORD  the login's password: environment only, never the config file
  EXTGW_SMTP_FROM      the sender, e.g. "School Office <office@school.example>"
  EXTGW_SMTP_REPLY_TO  optional Reply-To address
  EXTGW_SMTP_TIMEOUT   seconds one whole delivery may take (default 20), not per step
  EXTGW_SMTP_CA_FILE   optional PEM file of the CA that signed the server's certificate

The config file takes the same keys in lower case without the prefix (host, port, ...); the
rows of settings.SETTINGS name them all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from email.utils import parseaddr

from email_validator import EmailNotValidError, validate_email

from extgw_tui import settings
from extgw_tui.errors import ExtgwError

SECURITY_MODES = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
DEFAULT_TIMEOUT = 20.0
#: The sender written into .eml files when no server (and no From) is configured.
LOCAL_FROM = "extgw-tui@localhost"

_KEYS = ("host", "port", "security", "user", "from", "reply_to", "timeout", "ca_file")


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 587
    security: str = "starttls"
    user: str = ""
    password: str = field(default="", repr=False)
    from_header: str = LOCAL_FROM
    from_addr: str = LOCAL_FROM
    reply_to: str = ""
    timeout: float = DEFAULT_TIMEOUT
    ca_file: str = ""

    @property
    def configured(self) -> bool:
        """True when a server is named; otherwise messages go to the local outbox."""
        return bool(self.host)

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"


def _raw() -> dict[str, str]:
    """Each smtp.* setting given (environment, else config.toml), as text."""
    config = settings.load_config()  # checks the types, [smtp] being a table included
    if "password" in config.get("smtp", {}):
        raise ExtgwError(
            f"{settings.config_file()} must not hold the SMTP password; "
            "remove it and set EXTGW_SMTP_PASSWORD instead."
        )
    values = {}
    for key in _KEYS:
        found, _source = settings.resolve(f"smtp.{key}", config=config)
        if found is not None:
            values[key] = str(found).strip()
    return values


def _one_line(name: str, value: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ExtgwError(f"The SMTP setting {name} must be on one line without control characters.")
    return value


def _address(name: str, value: str) -> tuple[str, str]:
    """(header, bare address) for From / Reply-To, which may carry a display name."""
    _one_line(name, value)
    display, addr = parseaddr(value)
    if not addr or "," in value or ";" in value:
        raise ExtgwError(f"The SMTP setting {name} ({value!r}) is not one email address.")
    try:
        bare = validate_email(addr, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ExtgwError(f"The SMTP setting {name} ({value!r}) is not valid: {exc}") from exc
    return (value if display else bare), bare


def load_smtp_settings() -> SmtpSettings:
    """The SMTP settings in force now, or ExtgwError naming the setting that is wrong."""
    raw = _raw()
    host = _one_line("host", raw.get("host", ""))
    security = raw.get("security", "starttls").lower()
    if security not in SECURITY_MODES:
        raise ExtgwError(
            f"EXTGW_SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)}, not {security!r}."
        )
    try:
        port = int(raw.get("port", DEFAULT_PORTS[security]))
        timeout = float(raw.get("timeout", DEFAULT_TIMEOUT))
    except ValueError as exc:
        raise ExtgwError(f"The SMTP port and timeout must be numbers ({exc}).") from exc
    if not 0 < port < 65536 or timeout <= 0:
        raise ExtgwError("The SMTP port must be 1-65535 and the timeout above zero.")
    user = _one_line("user", raw.get("user", ""))
    password = os.environ.get("EXTGW_SMTP_PASSWORD", "")
    if host and user and not password:
        raise ExtgwError("EXTGW_SMTP_USER is set but EXTGW_SMTP_PASSWORD is not.")
    if host and user and security == "none":
        raise ExtgwError(
            "The SMTP password would travel unencrypted; "
            "set EXTGW_SMTP_SECURITY to starttls or tls."
        )
    if host and "from" not in raw:
        raise ExtgwError(
            "Set EXTGW_SMTP_FROM (the sender address) to send through the mail server."
        )
    from_header, from_addr = _address("from", raw["from"]) if "from" in raw else (LOCAL_FROM,) * 2
    reply_to = _address("reply_to", raw["reply_to"])[0] if raw.get("reply_to") else ""
    ca_file = raw.get("ca_file", "")
    if ca_file and not os.path.isfile(ca_file):
        raise ExtgwError(f"The SMTP CA file {ca_file} does not exist.")
    return SmtpSettings(
        host=host,
        port=port,
        security=security,
        user=user,
        password=password,
        from_header=from_header,
        from_addr=from_addr,
        reply_to=reply_to,
        timeout=timeout,
        ca_file=ca_file,
    )
