"""Several schools from one seat (issue 17): config.toml's [schools.<name>], --school and
EXTGW_SCHOOL, the picker the app starts on when several are configured and none is chosen, the
school in the header and in every activity-log entry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from app_helpers import settle
from schema_files import schema_2_copy
from user_rows import make_users

from extgw_tui import settings
from extgw_tui.app import ExtgwApp
from extgw_tui.db import open_database
from extgw_tui.models import AuditEvent, ExternalUser, database
from extgw_tui.screens.school_picker import SchoolPickerScreen
from extgw_tui.screens.users import UsersScreen
from extgw_tui.services import schools

pytestmark = pytest.mark.usefixtures("isolated_env")


@pytest.fixture
def two_schools(tmp_path: Path) -> dict[str, str]:
    """north and south, each an SQLite file with three users; their URLs."""
    urls = {key: f"sqlite:///{tmp_path / f'{key}.sqlite3'}" for key in ("north", "south")}
    for url in urls.values():
        open_database(url)
        make_users(3)
        database.close()
    settings.config_file().write_text(
        f'[schools.north]\ndatabase = "{urls["north"]}"\nname = "North Academy"\n'
        f'[schools.south]\ndatabase = "{urls["south"]}"\n',
        encoding="utf-8",
    )
    yield urls
    schools.set_current(None)


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "extgw_tui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def audit_schools(url: str) -> list[str | None]:
    open_database(url)
    try:
        return [e.school for e in AuditEvent.select().order_by(AuditEvent.id)]
    finally:
        database.close()


def test_a_wrong_school_name_is_one_sentence_naming_the_known_ones(two_schools) -> None:
    result = cli("--school", "west", "users")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "extgw-tui: There is no school called 'west'; the schools are: north, south."
    )


def test_several_schools_and_none_chosen_is_refused_by_a_command(two_schools) -> None:
    result = cli("users")
    assert result.returncode == 1
    assert "Several schools are configured (north, south)" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_school_chosen_gets_the_change_and_its_audit_entries_name_it(two_schools) -> None:
    result = cli("--school", "north", "access", "deny", "--filter", "user00001", "--yes")
    assert result.returncode == 0, result.stderr
    assert set(audit_schools(two_schools["north"])) == {"north"}
    assert audit_schools(two_schools["south"]) == []
    # EXTGW_SCHOOL, by display name in any case, picks too
    result = cli("users", "--format", "csv", env={"EXTGW_SCHOOL": "north academy"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 4  # header and three users


def test_school_and_db_together_are_refused(two_schools) -> None:
    result = cli("--school", "north", "--db", two_schools["south"], "users")
    assert result.returncode == 1
    assert "Give --school or --db, not both" in result.stderr


def test_config_lists_the_schools_and_warns_of_unknown_keys_inside_one(two_schools) -> None:
    path = settings.config_file()
    path.write_text(path.read_text() + 'nmae = "typo"\n', encoding="utf-8")
    result = cli("--school", "north", "config")
    assert result.returncode == 0, result.stderr
    assert "schools.north.name" in result.stdout and "North Academy" in result.stdout
    assert "schools.south.database" in result.stdout
    assert "school north (config file)" in result.stdout
    assert "nmae in [schools.south]" in result.stderr and "did you mean name?" in result.stderr


def test_a_school_without_a_database_is_one_sentence(two_schools) -> None:
    settings.config_file().write_text('[schools.east]\nname = "East"\n', encoding="utf-8")
    result = cli("--school", "east", "users")
    assert result.returncode == 1
    assert "The school 'east'" in result.stderr and "has no database" in result.stderr


async def test_the_app_starts_on_the_picker_and_opens_the_chosen_school(two_schools) -> None:
    open_database(two_schools["south"])
    ExternalUser.update(forename="Southerner").where(ExternalUser.id == 1).execute()
    database.close()
    database.initialize(None)
    app = ExtgwApp(db_url=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SchoolPickerScreen)
        assert "North Academy" in str(app.screen.query_one("#school-list").render_line(0))
        await pilot.press("down", "enter")
        await settle(pilot, app, typed=False)
        assert isinstance(app.screen, UsersScreen)
        assert schools.current().key == "south"
        assert app.sub_title.startswith("south · ")
        assert app.db_url == two_schools["south"]
        assert ExternalUser.get_by_id(1).forename == "Southerner"


def test_a_schema_2_database_gets_the_audit_school_column(tmp_path: Path) -> None:
    url = schema_2_copy(tmp_path)
    handle = open_database(url)
    try:
        columns = {c.name: c for c in handle.get_columns("audit_event")}
        assert columns["school"].null
    finally:
        database.close()
