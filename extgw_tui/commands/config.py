"""`extgw-tui config`: every setting in force and where it came from, passwords hidden.

Opens no database, so it also checks a config.toml before use: a value of the wrong type or an
SMTP setting that cannot work is the command's error (exit 1, one sentence, from cli.py); what
it does not know is warned about on stderr (cli.py) before the list.
"""

from __future__ import annotations

import argparse
from typing import Any

from extgw_tui import settings
from extgw_tui.db import redact_url
from extgw_tui.escapes import escape_controls
from extgw_tui.services import schools
from extgw_tui.services.mail_config import SmtpSettings, load_smtp_settings

EXIT_OK = 0

#: smtp.<key> -> the SmtpSettings field that holds its value in force (defaults worked out).
_SMTP_FIELDS = {"from": "from_header"}


def run(args: argparse.Namespace) -> int:
    config = settings.load_config()
    smtp = load_smtp_settings()
    path = settings.config_file()
    print(f"Config file: {path}{'' if path.exists() else ' (none)'}")
    rows = [("Setting", "Value", "From")]
    for name in settings.names_in_force(config):
        row = settings.setting(name)
        found, source = _resolve(args, name, config)
        rows.append((name, _shown(row, name, found, source, smtp), source))
    for table, reader in settings.OPEN_TABLES.items():
        if table in config:
            entries = len(config[table])
            shown = f"{entries} entr{'y' if entries == 1 else 'ies'}"
            rows.append((f"[{table}]", shown, f"config file (read by {reader})"))
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    for name, shown, source in rows:
        print(f"{name.ljust(widths[0])}  {shown.ljust(widths[1])}  {source}".rstrip())
    return EXIT_OK


def _resolve(args: argparse.Namespace, name: str, config: dict[str, Any]) -> tuple[Any, str]:
    if name == "database" and getattr(args, "demo", False):
        return settings.demo_db_url(getattr(args, "demo_size", None) or "small"), "option --demo"
    if name == "database" and not getattr(args, "db", None):
        school = schools.chosen(getattr(args, "school", None))
        if school is not None:
            return school.database, f"school {school.key} (config file)"
    option = {
        "database": "db",
        "admin": "admin",
        "chosen_school": "school",
        "portal.listen": "listen",
        "portal.workers": "workers",
    }.get(name)
    given = getattr(args, option, None) if option else None
    found, source = settings.resolve(name, given, config=config)
    if name.startswith("settings.") and source == "default":
        return found, "the Settings screen (database)"
    return found, source


def _shown(row: settings.Setting, name: str, found: Any, source: str, smtp: SmtpSettings) -> str:
    """The value as the administrator should see it: secrets and URL passwords hidden."""
    if row.secret:
        return "(set, hidden)" if found else "(not set)"
    if name.startswith("smtp."):
        key = name.removeprefix("smtp.")
        found = getattr(smtp, _SMTP_FIELDS.get(key, key))
        if source == "default" and found in ("", None):
            return "(not set)"
    if name.startswith("settings.") and not source.startswith("config"):
        return "(see the app)"
    if found is None or found == "" or found == []:
        return "(not set)"
    text = ", ".join(found) if isinstance(found, list) else str(found)
    return escape_controls(redact_url(text) if name.endswith("database") else text)
