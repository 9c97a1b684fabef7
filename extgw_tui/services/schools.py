"""Several schools from one seat: config.toml's `[schools.<name>]` tables, one database each.

A school is chosen by --school NAME or EXTGW_SCHOOL; with one school configured it is chosen
without asking. The school in force is kept here so the audit trail records it in every entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from extgw_tui import settings
from extgw_tui.errors import ExtgwError


@dataclass(frozen=True)
class School:
    """One `[schools.<key>]` table: its key, display name and database URL."""

    key: str
    name: str
    database: str

    @property
    def label(self) -> str:
        return self.name or self.key


_current: School | None = None


def configured(config: Mapping[str, Any] | None = None) -> list[School]:
    """The schools config.toml names, sorted by key ([] when it names none)."""
    config = settings.load_config() if config is None else config
    table = config.get("schools")
    if not isinstance(table, Mapping):
        return []
    found = []
    for key in sorted(table):
        entry = table[key]
        if not isinstance(entry, Mapping):
            continue
        database = entry.get("database")
        if not database:
            raise ExtgwError(
                f"The school {key!r} in {settings.config_file()} has no database "
                f'(add database = "URL" under [schools.{key}]).'
            )
        found.append(School(key, str(entry.get("name") or ""), str(database)))
    return found


def find(name: str, schools: list[School]) -> School:
    """The school called name (its key, or its display name, any case); one sentence if none."""
    wanted = name.strip().casefold()
    for school in schools:
        if wanted in (school.key.casefold(), school.name.casefold()):
            return school
    if not schools:
        raise ExtgwError(
            f"There is no school called {name!r}: {settings.config_file()} names no schools "
            "(add a [schools.<name>] table with a database)."
        )
    known = ", ".join(s.key for s in schools)
    raise ExtgwError(f"There is no school called {name!r}; the schools are: {known}.")


def chosen(option: str | None = None) -> School | None:
    """The school --school/EXTGW_SCHOOL names, or the only one configured; None when there is
    no school table, or several and none named (the app then asks)."""
    schools = configured()
    name = settings.value("chosen_school", option)
    if name:
        return find(name, schools)
    return schools[0] if len(schools) == 1 else None


def set_current(school: School | None) -> None:
    global _current
    _current = school


def current() -> School | None:
    """The school in force in this process (None: a single-school set-up)."""
    return _current
