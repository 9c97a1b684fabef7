"""Settings: what config.toml and the EXTGW_* environment hold that extgw-tui does not know is
named with the nearest known name; a value of the wrong type is an error naming its key;
`extgw-tui config` shows every setting in force and where it came from."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest
from app_helpers import NotedApp, settle

from extgw_tui import settings
from extgw_tui.errors import ExtgwError
from extgw_tui.services.mail_config import load_smtp_settings

pytestmark = pytest.mark.usefixtures("isolated_env")
ROOT = Path(__file__).resolve().parent.parent


def write_config(text: str) -> Path:
    path = settings.config_file()
    path.write_text(text, encoding="utf-8")
    return path


def warnings_about(*needles: str) -> list[str]:
    return [w for w in settings.config_warnings() if all(n in w for n in needles)]


def test_a_clean_config_and_environment_give_no_warnings() -> None:
    write_config(
        'database = "sqlite:///x.sqlite3"\nexport_dir = "/tmp"\n'
        '[smtp]\nhost = "mail.example"\nport = 2525\ntimeout = 5\n'
        '[keys]\n"main.pupils" = "P"\n'
    )
    assert settings.config_warnings() == []
    assert settings.db_url() == "sqlite:///x.sqlite3"


def test_a_misspelt_key_is_named_with_the_nearest_known_one() -> None:
    path = write_config('databse = "postgresql://db/extgw"\n')
    (sentence,) = settings.config_warnings()
    assert sentence == (
        f"{path} has a setting databse extgw-tui does not know (did you mean database?); "
        "it is ignored."
    )
    assert settings.db_url() == settings.default_db_url()  # ignored, as the sentence says


def test_a_misspelt_key_in_a_table_names_the_table() -> None:
    write_config('[smtp]\nhots = "mail.example"\n')
    assert warnings_about("hots in [smtp]", "(did you mean host?)")


def test_a_misspelt_table_is_named_with_the_nearest_known_table() -> None:
    write_config('[smtpp]\nhost = "mail.example"\n')
    assert warnings_about("table [smtpp]", "(did you mean [smtp]?)")


def test_nothing_close_gives_no_guess() -> None:
    write_config("zzzzzz = 1\n")
    (sentence,) = settings.config_warnings()
    assert "zzzzzz" in sentence and "did you mean" not in sentence


def test_a_setting_the_file_may_not_give_is_named_with_what_may() -> None:
    write_config('admin = "someone"\n')
    assert warnings_about("cannot set admin", "--admin or EXTGW_ADMIN")


def test_an_unknown_environment_variable_is_named_with_the_nearest(monkeypatch) -> None:
    monkeypatch.setenv("EXTGW_SMTP_HOTS", "mail.example")
    monkeypatch.setenv("EXTGW_DATABASE", "sqlite:///x.sqlite3")
    assert warnings_about("EXTGW_SMTP_HOTS", "(did you mean EXTGW_SMTP_HOST?)", "ignored")
    assert warnings_about("EXTGW_DATABASE", "(did you mean EXTGW_DB?)")
    assert not warnings_about("EXTGW_CONFIG_DIR")  # set by isolated_env: known


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[smtp]\nport = "587"\n', "port in [smtp] must be a whole number, not '587'"),
        ("[smtp]\ntimeout = true\n", "timeout in [smtp] must be a number"),
        ("database = 5\n", "database must be text in quotes, not 5"),
        ('smtp = "mail.example"\n', "smtp must be a table"),
        ('keys = "P"\n', "keys must be a table"),
        ("[smtp.host]\nname = 1\n", "host in [smtp] must be text in quotes"),
    ],
)
def test_a_value_of_the_wrong_type_is_an_error_naming_the_key(text: str, named: str) -> None:
    path = write_config(text)
    with pytest.raises(ExtgwError) as caught:
        settings.load_config()
    assert str(caught.value).startswith(f"In {path}, ")
    assert named in str(caught.value)


def test_the_environment_is_converted_to_the_kind_or_named(monkeypatch) -> None:
    monkeypatch.setenv("EXTGW_SMTP_PORT", "2525")
    assert settings.value("smtp.port") == 2525
    assert settings.resolve("smtp.port") == ("2525", "environment EXTGW_SMTP_PORT")
    monkeypatch.setenv("EXTGW_SMTP_PORT", "many")
    with pytest.raises(ExtgwError, match="EXTGW_SMTP_PORT must be a whole number, not 'many'"):
        settings.value("smtp.port")


def test_where_each_value_comes_from(monkeypatch) -> None:
    write_config('database = "sqlite:///file.sqlite3"\nexport_dir = "~/exports"\n')
    assert settings.resolve("database", "sqlite:///option.sqlite3") == (
        "sqlite:///option.sqlite3",
        "option --db",
    )
    monkeypatch.setenv("EXTGW_DB", "sqlite:///env.sqlite3")
    assert settings.resolve("database") == ("sqlite:///env.sqlite3", "environment EXTGW_DB")
    monkeypatch.delenv("EXTGW_DB")
    assert settings.resolve("database") == ("sqlite:///file.sqlite3", "config file")
    assert settings.export_dir() == Path("~/exports").expanduser()
    write_config("")
    assert settings.resolve("database") == (settings.default_db_url(), "default")
    # never the current directory (the program's checkout under ./tasks demo): issue 13
    assert settings.export_dir() == Path(platformdirs.user_downloads_dir())


def test_a_new_table_is_one_row_wildcards_included(monkeypatch) -> None:
    """What another issue does to add [schools.<name>]: one row, nothing else."""
    rows = (*settings.SETTINGS, settings.Setting("schools.*.name", "the school's name"))
    monkeypatch.setattr(settings, "SETTINGS", rows)
    write_config('[schools.north]\nname = "North High"\n[schools.south]\nnmae = "South"\n')
    assert warnings_about("nmae in [schools.south]", "(did you mean name?)")
    assert len(settings.config_warnings()) == 1
    assert settings.value("schools.north.name") == "North High"
    names = list(settings.names_in_force(settings.load_config()))
    assert names[-1] == "schools.north.name" and "schools.south.name" not in names


def test_smtp_settings_still_come_from_the_table_and_the_environment(monkeypatch) -> None:
    write_config('[smtp]\nhost = "mail.example"\nport = 2525\nfrom = "office@school.example"\n')
    monkeypatch.setenv("EXTGW_SMTP_SECURITY", "TLS")
    smtp = load_smtp_settings()
    assert (smtp.host, smtp.port, smtp.security, smtp.from_addr) == (
        "mail.example",
        2525,
        "tls",
        "office@school.example",
    )


# ----- the command line --------------------------------------------------------------------


def run_cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("EXTGW_") or key == "EXTGW_TEST_PG_URL"
    }
    environ.update(env)
    # this checkout's code, also when it runs as an unpacked sdist (python -S, see test_packaging)
    environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    no_site = ["-S"] if sys.flags.no_site else []
    return subprocess.run(
        [sys.executable, *no_site, "-m", "extgw_tui", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=home,
    )


def test_config_command_lists_every_setting_and_its_source(isolated_env: Path) -> None:
    write_config(
        'database = "postgresql://extgw:s3cret-in-url@db.example/extgw"\n'
        '[smtp]\nhost = "mail.example"\nuser = "mailer"\nfrom = "office@school.example"\n'
        'hots = "typo"\n'
    )
    result = run_cli(
        isolated_env,
        "config",
        "--admin",
        "head",
        EXTGW_CONFIG_DIR=str(settings.config_dir()),
        EXTGW_DATA_DIR=str(settings.data_dir()),
        EXTGW_LOG_DIR=str(settings.log_dir()),
        EXTGW_SMTP_PASSWORD="hunter2-secret",
        EXTGW_SMTP_PORT="2525",
    )
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[2:]}
    assert [name for name in lines if not name.startswith("[")] == [
        s.name
        for s in settings.SETTINGS
        if "*" not in s.name  # [schools.x]: none configured
    ]
    assert lines["database"].endswith("config file") and "***" in lines["database"]
    assert lines["admin"].split()[1:] == ["head", "option", "--admin"]
    assert lines["smtp.port"].split()[1:] == ["2525", "environment", "EXTGW_SMTP_PORT"]
    assert lines["smtp.security"].split()[1:] == ["starttls", "default"]
    assert lines["smtp.password"].split()[1:3] == ["(set,", "hidden)"]
    assert lines["export_dir"].endswith("default")
    assert "s3cret-in-url" not in result.stdout and "hunter2-secret" not in result.stdout
    assert result.stderr.startswith("extgw-tui: warning: ")
    assert "hots in [smtp]" in result.stderr and "did you mean host?" in result.stderr


def test_config_command_refuses_a_wrong_type_in_one_sentence(isolated_env: Path) -> None:
    write_config('[smtp]\nport = "many"\n')
    result = run_cli(isolated_env, "config", EXTGW_CONFIG_DIR=str(settings.config_dir()))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"extgw-tui: In {settings.config_file()}, port in [smtp] must be a whole number, "
        "not 'many'."
    )


def test_every_command_warns_about_an_unknown_variable(isolated_env: Path) -> None:
    result = run_cli(
        isolated_env,
        "outbox",
        EXTGW_CONFIG_DIR=str(settings.config_dir()),
        EXTGW_DATA_DIR=str(settings.data_dir()),
        EXTGW_LOG_DIR=str(settings.log_dir()),
        EXTGW_EXPORTDIR="/tmp",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "extgw-tui: warning: The environment variable EXTGW_EXPORTDIR is not one extgw-tui "
        "reads (did you mean EXTGW_EXPORT_DIR?); it is ignored.\n"
    )
    assert "The outbox is empty" in result.stdout


async def test_the_app_shows_each_warning_as_a_notification(sqlite_db, monkeypatch) -> None:
    write_config('[smtp]\nhots = "mail.example"\n')
    monkeypatch.setenv("EXTGW_SMTP_HOTS", "mail.example")
    app = NotedApp(sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
    seen = [(text, severity) for severity, text in app.seen]
    assert [severity for _, severity in seen] == ["warning", "warning"]
    assert "hots in [smtp]" in seen[0][0] and "did you mean host?" in seen[0][0]
    assert "EXTGW_SMTP_HOTS" in seen[1][0]


def test_an_unreadable_config_file_is_an_error_only_where_it_is_needed() -> None:
    path = write_config('database = "sqlite:///x.sqlite3"\n[smtp\n')
    assert settings.config_warnings() == []  # a command given --db still runs
    with pytest.raises(ExtgwError, match=f"The config file {path} cannot be read"):
        settings.db_url()
    assert settings.db_url("sqlite:///given.sqlite3") == "sqlite:///given.sqlite3"
