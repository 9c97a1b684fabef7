"""The school's settings (the original product's "Edit settings"): stored in the Setting table.

The database is what every process shares (the admin app, the CLI, each portal worker), so a
change made in the app takes effect on the portal's next request. config.toml's [settings]
table may fix a value instead; a fixed value wins and the app shows it as read-only:

    [settings]
    school_name = "Hillside Academy"
    bounce_address = "bounces@hillside.example"
    registration_address = "https://portal.hillside.example/register"
    login_disabled = false
    maintenance_message = "The portal is closed for maintenance until 8 am."
    end_sessions_without_pupils = false
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from email_validator import EmailNotValidError, validate_email

from extgw_tui import settings
from extgw_tui.errors import ExtgwError, InvalidInput
from extgw_tui.escapes import escape_controls
from extgw_tui.models import Setting, database
from extgw_tui.services import audit

DEFAULT_MAINTENANCE = "The portal is closed for maintenance; please try again later."
MAX_TEXT = 300


@dataclass(frozen=True)
class SchoolSettings:
    """Every setting with its value in force."""

    school_name: str = ""
    #: Where error receipts (bounces) go: the envelope sender (MAIL FROM) of every message.
    bounce_address: str = ""
    #: Printed in the licence key letters: where parents register.
    registration_address: str = ""
    #: The maintenance switch: every login and registration refused, sessions paused.
    login_disabled: bool = False
    maintenance_message: str = DEFAULT_MAINTENANCE
    #: A session ends when its account no longer holds any pupil (and such a login is refused).
    end_sessions_without_pupils: bool = False


NAMES = tuple(f.name for f in fields(SchoolSettings))
BOOLEANS = ("login_disabled", "end_sessions_without_pupils")
LABELS = {
    "school_name": "School name",
    "bounce_address": "Bounce address",
    "registration_address": "Registration address",
    "login_disabled": "External login disabled",
    "maintenance_message": "Maintenance message",
    "end_sessions_without_pupils": "End sessions without pupils",
}


def _text(value: str) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def _parse(name: str, raw: Any) -> Any:
    if name in BOOLEANS:
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in ("1", "true", "yes", "on")
    return str(raw)


def fixed_in_config() -> dict[str, Any]:
    """The settings config.toml fixes, checked; ExtgwError names a wrong one."""
    table = settings.load_config().get("settings", {})
    if not isinstance(table, dict):
        raise ExtgwError(f"The [settings] section of {settings.config_file()} must be a table.")
    unknown = sorted(set(table) - set(NAMES))
    if unknown:
        raise ExtgwError(
            f"{settings.config_file()}: unknown setting {unknown[0]!r} in [settings] "
            f"(known: {', '.join(NAMES)})."
        )
    try:
        return {name: check(name, _parse(name, value)) for name, value in table.items()}
    except InvalidInput as exc:
        raise ExtgwError(f"{settings.config_file()} [settings]: {exc}") from exc


def check(name: str, value: Any) -> Any:
    """The value cleaned, or InvalidInput with one sentence saying what to fix."""
    if name in BOOLEANS:
        if not isinstance(value, bool):
            raise InvalidInput(f"{LABELS[name]} must be on or off.")
        return value
    text = str(value).strip()
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InvalidInput(f"{LABELS[name]} must be one line without control characters.")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{LABELS[name]} is too long (at most {MAX_TEXT} characters).")
    if name == "bounce_address" and text:
        try:
            text = validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise InvalidInput(f"The bounce address {text!r} is not valid: {exc}") from exc
    if name == "maintenance_message" and not text:
        text = DEFAULT_MAINTENANCE
    return text


def load() -> SchoolSettings:
    """The settings in force: config.toml's fixed values over the database's over defaults."""
    stored = {key: value for key, value in Setting.select(Setting.key, Setting.value).tuples()}
    values = {name: _parse(name, stored[name]) for name in NAMES if name in stored}
    values.update(fixed_in_config())
    return replace(SchoolSettings(), **values)


def save(changes: dict[str, Any]) -> SchoolSettings:
    """Store changed settings in one transaction, one audit entry per change; returns them all.

    A setting fixed in config.toml cannot be changed here (InvalidInput says where it is).
    """
    fixed = fixed_in_config()
    cleaned = {}
    for name, value in changes.items():
        if name not in NAMES:
            raise InvalidInput(f"There is no setting called {name!r}.")
        if name in fixed:
            raise InvalidInput(
                f"{LABELS[name]} is set in {settings.config_file()}; change it there."
            )
        cleaned[name] = check(name, value)
    with database.atomic():
        current = load()
        for name, value in cleaned.items():
            before = getattr(current, name)
            if value == before:
                continue
            Setting.insert(key=name, value=_text(value)).on_conflict(
                conflict_target=[Setting.key], update={Setting.value: _text(value)}
            ).execute()
            audit.record(
                _action(name, value),
                target=LABELS[name],
                detail=f"{escape_controls(_text(before))!r} -> {escape_controls(_text(value))!r}",
            )
        return load()


def _action(name: str, value: Any) -> str:
    if name == "login_disabled":
        return "portal.login_off" if value else "portal.login_on"
    return "settings.change"
