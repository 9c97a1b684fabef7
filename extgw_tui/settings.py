"""Where things live and who is acting: paths from platformdirs, values from the environment.

Environment variables (all optional):
  EXTGW_DB            database URL (sqlite:///path or postgresql://...)
  EXTGW_ADMIN         the acting administrator's name (default: the OS login name)
  EXTGW_EXPORT_DIR    folder for exports (default: the current directory)
  EXTGW_DATA_DIR      override the data directory (database, outbox)
  EXTGW_CONFIG_DIR    override the config directory (config.toml)
  EXTGW_LOG_DIR       override the log directory
  EXTGW_SMTP_*        SMTP settings, see services/mail_config.py
"""

from __future__ import annotations

import getpass
import os
import tomllib
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "extgw-tui"


def _dir(env: str, default: str) -> Path:
    value = os.environ.get(env)
    return Path(value).expanduser() if value else Path(default)


def data_dir() -> Path:
    return _dir("EXTGW_DATA_DIR", platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    return _dir("EXTGW_CONFIG_DIR", platformdirs.user_config_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return _dir("EXTGW_LOG_DIR", platformdirs.user_log_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    return config_dir() / "config.toml"


def load_config() -> dict[str, Any]:
    """The optional config.toml in the user config directory, or {} when there is none."""
    path = config_file()
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        from extgw_tui.errors import ExtgwError

        raise ExtgwError(f"The config file {path} cannot be read: {exc}.") from exc


def default_db_url() -> str:
    return f"sqlite:///{data_dir() / 'extgw.sqlite3'}"


def demo_db_url(size: str) -> str:
    """Demo databases live apart from real data, one file per size."""
    return f"sqlite:///{data_dir() / f'demo-{size}.sqlite3'}"


def db_url(cli_value: str | None = None) -> str:
    return (
        cli_value or os.environ.get("EXTGW_DB") or load_config().get("database") or default_db_url()
    )


def admin_name(cli_value: str | None = None) -> str:
    if cli_value:
        return cli_value
    if os.environ.get("EXTGW_ADMIN"):
        return os.environ["EXTGW_ADMIN"]
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers without passwd entries)
        return "admin"


def export_dir() -> Path:
    value = os.environ.get("EXTGW_EXPORT_DIR") or load_config().get("export_dir")
    return Path(value).expanduser() if value else Path.cwd()
