"""Every setting extgw-tui reads, in one table (SETTINGS), and where the value in force came from.

A value comes from its command-line option, else its environment variable, else config.toml in
the user config folder, else its default. To add a setting, add one Setting row below and read
it with value("name") (README, "Configuration", says more); a dotted name lives in a table of
config.toml ("smtp.host" is `host` in `[smtp]`, "schools.*.name" is `name` in any
`[schools.<name>]`). What is in config.toml or the environment but in no row is reported, with
the nearest known name, by config_warnings(); a value of the wrong type is an ExtgwError.
"""

from __future__ import annotations

import difflib
import getpass
import os
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from extgw_tui.errors import ExtgwError

APP_NAME = "extgw-tui"
ENV_PREFIX = "EXTGW_"


@dataclass(frozen=True)
class Setting:
    """One setting and the places it may be given."""

    name: str  # dotted for a table of config.toml; a "*" part matches any table name
    about: str
    env: str = ""  # its environment variable, if any
    option: str = ""  # its command-line option, if any (cli.py passes the value in)
    kind: type = str  # what config.toml must hold: str, int, float, bool or list (of str)
    in_file: bool = True  # False: config.toml may not give it
    secret: bool = False  # `extgw-tui config` shows only whether it is set
    default: Callable[[], Any] | Any = None  # a value, or a function that works it out


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers without passwd entries)
        return "admin"


def default_db_url() -> str:
    return f"sqlite:///{data_dir() / 'extgw.sqlite3'}"


def _platform_dir(kind: str) -> Callable[[], str]:
    return lambda: getattr(platformdirs, f"user_{kind}_dir")(APP_NAME, appauthor=False)


SETTINGS: tuple[Setting, ...] = (
    Setting("database", "database URL", "EXTGW_DB", "--db", default=default_db_url),
    Setting(
        "admin",
        "acting administrator (audit log)",
        "EXTGW_ADMIN",
        "--admin",
        in_file=False,
        default=_login_name,
    ),
    Setting(
        "export_dir",
        "folder for exports (default: the last one used, else Downloads)",
        "EXTGW_EXPORT_DIR",
        default=platformdirs.user_downloads_dir,
    ),
    Setting(
        "data_dir", "data folder", "EXTGW_DATA_DIR", in_file=False, default=_platform_dir("data")
    ),
    Setting(
        "config_dir",
        "config folder",
        "EXTGW_CONFIG_DIR",
        in_file=False,
        default=_platform_dir("config"),
    ),
    Setting("log_dir", "log folder", "EXTGW_LOG_DIR", in_file=False, default=_platform_dir("log")),
    # [smtp]: read and checked by services/mail_config.py
    Setting("smtp.host", "mail server (unset: the local outbox)", "EXTGW_SMTP_HOST"),
    Setting("smtp.port", "mail server port", "EXTGW_SMTP_PORT", kind=int),
    Setting("smtp.security", "starttls, tls or none", "EXTGW_SMTP_SECURITY"),
    Setting("smtp.user", "mail server login", "EXTGW_SMTP_USER"),
    Setting(
        "smtp.password", "mail server password", "EXTGW_SMTP_PASSWORD", in_file=False, secret=True
    ),
    Setting("smtp.from", "sender address", "EXTGW_SMTP_FROM"),
    Setting("smtp.reply_to", "Reply-To address", "EXTGW_SMTP_REPLY_TO"),
    Setting("smtp.timeout", "seconds one delivery may take", "EXTGW_SMTP_TIMEOUT", kind=float),
    Setting("smtp.ca_file", "CA certificate file (PEM)", "EXTGW_SMTP_CA_FILE"),
    # licence key letters and emails: read by services/key_letters.py
    Setting("school", "the school's name", "EXTGW_SCHOOL_NAME"),
    Setting("register_url", "where parents register", "EXTGW_REGISTER_URL"),
    # deleted accounts: read by services/purge.py
    Setting(
        "purge_after_days",
        "days a deleted account stays restorable",
        "EXTGW_PURGE_AFTER_DAYS",
        kind=int,
        default=30,
    ),
    # several schools from one seat: read by services/schools.py
    Setting(
        "chosen_school",
        "the school to open (a [schools.<name>])",
        "EXTGW_SCHOOL",
        "--school",
        in_file=False,
    ),
    Setting("schools.*.database", "that school's database URL"),
    Setting("schools.*.name", "that school's display name"),
    # [portal]: read by `extgw-tui portal` (commands/portal.py) and portal_api/config.py
    Setting(
        "portal.listen",
        "address:port the portal serves",
        "EXTGW_PORTAL_LISTEN",
        "--listen",
        default="127.0.0.1:8080",
    ),
    Setting(
        "portal.workers",
        "portal server processes",
        "EXTGW_PORTAL_WORKERS",
        "--workers",
        kind=int,
        default=1,
    ),
    Setting(
        "portal.forwarded_allow_ips",
        "proxies trusted for X-Forwarded-For (uvicorn's variable)",
        "FORWARDED_ALLOW_IPS",
        default="127.0.0.1",
    ),
    Setting("portal.cors_origins", "web origins allowed to call it (none: CORS off)", kind=list),
    Setting("portal.max_body_bytes", "largest request body, bytes", kind=int, default=65536),
    Setting("portal.reset_link", "the reset email's link; {token} stands for the code"),
    Setting("portal.session_idle_minutes", "a session unused this long ends", kind=int, default=30),
    Setting(
        "portal.session_max_hours", "a session ends this long after login", kind=int, default=12
    ),
    Setting(
        "portal.login_failures_per_email",
        "failed logins per address in 15 minutes",
        kind=int,
        default=10,
    ),
    Setting(
        "portal.login_failures_per_client",
        "failed logins per client address in 15 minutes",
        kind=int,
        default=100,
    ),
    Setting("portal.resets_per_email", "reset requests per address an hour", kind=int, default=3),
    Setting(
        "portal.resets_per_client",
        "reset requests per client address an hour",
        kind=int,
        default=20,
    ),
    # [settings]: fixes one of the school's settings (services/school_settings.py); unfixed,
    # the Settings screen keeps it in the database
    Setting("settings.school_name", "school name"),
    Setting("settings.bounce_address", "bounce address (envelope sender)"),
    Setting("settings.registration_address", "registration address in key letters"),
    Setting("settings.login_disabled", "external login disabled", kind=bool),
    Setting("settings.maintenance_message", "what the portal answers while disabled"),
    Setting(
        "settings.end_sessions_without_pupils",
        "a portal session ends when its last pupil is removed",
        kind=bool,
    ),
)

#: Tables of config.toml whose contents another module checks: table -> what reads it.
OPEN_TABLES: dict[str, str] = {"keys": "the key registry (key bindings)"}

#: EXTGW_* variables that are no setting of the app: the test suite's and CI's.
OTHER_VARIABLES = frozenset({"EXTGW_TEST_PG_URL", "EXTGW_CI_PGPORT", "EXTGW_BENCH_PG_URL"})

_KIND_WORDS = {
    str: "text in quotes",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list of texts in quotes",
}


# ----- folders and files ---------------------------------------------------------------------


def data_dir() -> Path:
    return Path(value("data_dir")).expanduser()


def config_dir() -> Path:
    return Path(value("config_dir")).expanduser()


def log_dir() -> Path:
    return Path(value("log_dir")).expanduser()


def config_file() -> Path:
    return config_dir() / "config.toml"


def load_config() -> dict[str, Any]:
    """The optional config.toml in the user config folder ({} when there is none).

    ExtgwError when it cannot be read or holds a value of the wrong type.
    """
    path = config_file()
    data = _read(path)
    list(_inspect(data, (), path))  # raises on a wrong type
    return data


class ConfigUnreadable(ExtgwError):
    """config.toml exists but cannot be read or parsed."""


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigUnreadable(f"The config file {path} cannot be read: {exc}.") from exc


# ----- the value in force ----------------------------------------------------------------------

_MISSING = object()


def setting(name: str) -> Setting:
    """The row of SETTINGS for name ("schools.north.name" finds "schools.*.name")."""
    parts = tuple(name.split("."))
    for row in SETTINGS:
        if row.name == name or _matches(tuple(row.name.split(".")), parts):
            return row
    raise KeyError(name)


def resolve(
    name: str, option: Any = None, config: Mapping[str, Any] | None = None
) -> tuple[Any, str]:
    """(value in force, where it came from): option, environment, config file or default.

    Environment values are text as given; config.toml values have their TOML type. config:
    load_config() already read, when the caller resolves several settings at once.
    """
    row = setting(name)
    if option is not None and option != "":
        return option, f"option {row.option}" if row.option else "option"
    if row.env:
        raw = os.environ.get(row.env, "").strip()
        if raw:
            return raw, f"environment {row.env}"
    if row.in_file:
        found = _lookup(load_config() if config is None else config, name)
        if found is not _MISSING:
            return found, "config file"
    default = row.default() if callable(row.default) else row.default
    return default, "default"


def value(name: str, option: Any = None) -> Any:
    """The value in force of a setting, of its kind (environment text is converted)."""
    found, source = resolve(name, option)
    row = setting(name)
    if not source.startswith("environment") or row.kind is str:
        return found
    try:
        if row.kind is bool:
            return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}[
                found.lower()
            ]
        return row.kind(found)
    except (KeyError, ValueError):
        raise ExtgwError(f"{row.env} must be {_KIND_WORDS[row.kind]}, not {found!r}.") from None


def names_in_force(config: Mapping[str, Any]) -> Iterator[str]:
    """Every setting's name in SETTINGS order; a "*" row once per table config.toml has for it."""
    for row in SETTINGS:
        if "*" not in row.name:
            yield row.name
            continue
        names = [()]
        for part in row.name.split("."):
            names = [
                (*n, key)
                for n in names
                for key in (_tables_at(config, n) if part == "*" else [part])
            ]
        yield from (".".join(n) for n in names if _lookup(config, ".".join(n)) is not _MISSING)


def _tables_at(config: Mapping[str, Any], parts: tuple[str, ...]) -> list[str]:
    table = _lookup(config, ".".join(parts)) if parts else config
    return (
        sorted(k for k, v in table.items() if isinstance(v, dict))
        if isinstance(table, Mapping)
        else []
    )


def demo_db_url(size: str) -> str:
    """Demo databases live apart from real data, one file per size."""
    return f"sqlite:///{data_dir() / f'demo-{size}.sqlite3'}"


def db_url(cli_value: str | None = None) -> str:
    return value("database", cli_value)


def admin_name(cli_value: str | None = None) -> str:
    return value("admin", cli_value)


def export_dir() -> Path:
    return Path(value("export_dir")).expanduser()


# ----- what was not understood -----------------------------------------------------------------


def config_warnings(environ: Mapping[str, str] | None = None) -> list[str]:
    """One sentence per thing in config.toml or the environment that extgw-tui does not know.

    Each names it and, when there is one, the nearest known name; none of them is used.
    """
    path = config_file()
    try:
        sentences = list(_inspect(load_config(), (), path))
    except ConfigUnreadable:  # said by whatever needs the file; a command that doesn't runs
        sentences = []
    environ = os.environ if environ is None else environ
    # What a mistyped variable is compared with: each known one without the prefix they all
    # share (or it alone would look close), and each setting's own name (EXTGW_DATABASE -> DB).
    known = {name.removeprefix(ENV_PREFIX): name for name in OTHER_VARIABLES}
    for row in SETTINGS:
        if row.env:
            known[row.env.removeprefix(ENV_PREFIX)] = row.env
            known.setdefault(row.name.upper().replace(".", "_"), row.env)
    for name in sorted(environ):
        if name.startswith(ENV_PREFIX) and name not in known.values():
            guess = _nearest(name.removeprefix(ENV_PREFIX), known)
            sentences.append(
                f"The environment variable {name} is not one extgw-tui reads"
                f"{f' (did you mean {known[guess]}?)' if guess else ''}; it is ignored."
            )
    return sentences


def _inspect(table: Mapping[str, Any], prefix: tuple[str, ...], path: Path) -> Iterator[str]:
    """Sentences for unknown keys and tables under prefix; ExtgwError for a wrong type."""
    for key, item in table.items():
        parts = (*prefix, key)
        dotted = ".".join(parts)
        where = f"{key} in [{'.'.join(prefix)}]" if prefix else key
        if ".".join(parts) in OPEN_TABLES:
            if not isinstance(item, dict):
                raise ExtgwError(f"In {path}, {dotted} must be a table ([{dotted}]).")
            continue
        row = _row_for(parts)
        if row is not None:
            if isinstance(item, dict) or not _is_kind(item, row.kind):
                raise ExtgwError(
                    f"In {path}, {where} must be {_KIND_WORDS[row.kind]}, not {item!r}."
                )
            if not row.in_file and not row.secret:  # a secret: its reader says why (mail_config)
                given = " or ".join(x for x in (row.option, row.env) if x)
                yield f"{path} cannot set {where} (only {given} can); it is ignored."
            continue
        if _is_table(parts):
            if not isinstance(item, dict):
                raise ExtgwError(f"In {path}, {dotted} must be a table ([{dotted}]).")
            yield from _inspect(item, parts, path)
            continue
        guess = _nearest(key, _names_under(prefix))
        if isinstance(item, dict):
            hint = f" (did you mean [{'.'.join((*prefix, guess))}]?)" if guess else ""
            yield f"{path} has a table [{dotted}] extgw-tui does not know{hint}; it is ignored."
        else:
            hint = f" (did you mean {guess}?)" if guess else ""
            yield f"{path} has a setting {where} extgw-tui does not know{hint}; it is ignored."


def _nearest(name: str, known: Iterable[str]) -> str:
    """The known name closest to a mistyped one, or "" when none is close."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return close[0] if close else ""


def _patterns() -> list[tuple[str, ...]]:
    return [tuple(row.name.split(".")) for row in SETTINGS] + [
        tuple(name.split(".")) for name in OPEN_TABLES
    ]


def _matches(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    return len(pattern) == len(parts) and all(
        p in ("*", q) for p, q in zip(pattern, parts, strict=True)
    )


def _row_for(parts: tuple[str, ...]) -> Setting | None:
    for row in SETTINGS:
        if _matches(tuple(row.name.split(".")), parts):
            return row
    return None


def _is_table(parts: tuple[str, ...]) -> bool:
    return any(len(p) > len(parts) and _matches(p[: len(parts)], parts) for p in _patterns())


def _names_under(prefix: tuple[str, ...]) -> set[str]:
    """The known names (keys and tables) directly inside the table at prefix."""
    n = len(prefix)
    return {p[n] for p in _patterns() if len(p) > n and _matches(p[:n], prefix) and p[n] != "*"}


def _lookup(data: Mapping[str, Any], name: str) -> Any:
    for part in name.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return _MISSING
        data = data[part]
    return data


def _is_kind(item: Any, kind: type) -> bool:
    if kind is list:
        return isinstance(item, list) and all(isinstance(x, str) for x in item)
    if kind is float:
        return isinstance(item, int | float) and not isinstance(item, bool)
    if kind is int:
        return isinstance(item, int) and not isinstance(item, bool)
    return isinstance(item, kind)
