"""The portal's settings in the settings registry: `extgw-tui config` lists each with where it
came from, a [portal] or [settings] key it does not know is warned about, a wrong one refused,
and a worker puts the lifetimes and limits in force."""

from __future__ import annotations

from datetime import timedelta

import pytest

from extgw_tui import cli, settings
from extgw_tui.errors import ExtgwError
from extgw_tui.portal_api.config import load_portal_config
from extgw_tui.services import portal_limits, portal_sessions

CONFIG = """\
[portal]
workers = 3
cors_origins = ["https://www.hillside.example", "https://app.hillside.example"]
session_idle_minutes = 20
resets_per_email = 2
cors_orgins = ["https://typo.example"]
[settings]
end_sessions_without_pupils = true
"""


def _config(text: str) -> None:
    settings.config_file().write_text(text, encoding="utf-8")


def _listed(capsys) -> tuple[dict[str, list[str]], str]:
    assert cli.main(["config"]) == 0
    out, err = capsys.readouterr()
    return {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:]}, err


def test_config_lists_the_portal_settings_and_where_each_came_from(capsys, monkeypatch):
    _config(CONFIG)
    monkeypatch.setenv("EXTGW_PORTAL_LISTEN", "127.0.0.1:9090")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.5")
    rows, warnings = _listed(capsys)
    assert rows["portal.listen"] == ["127.0.0.1:9090", "environment", "EXTGW_PORTAL_LISTEN"]
    assert rows["portal.workers"] == ["3", "config", "file"]
    assert rows["portal.forwarded_allow_ips"] == ["10.0.0.5", "environment", "FORWARDED_ALLOW_IPS"]
    assert rows["portal.cors_origins"] == [
        "https://www.hillside.example,",
        "https://app.hillside.example",
        "config",
        "file",
    ]
    assert rows["portal.max_body_bytes"] == ["65536", "default"]
    assert rows["portal.session_idle_minutes"] == ["20", "config", "file"]
    assert rows["portal.session_max_hours"] == ["12", "default"]
    assert rows["portal.login_failures_per_email"] == ["10", "default"]
    assert rows["portal.resets_per_email"] == ["2", "config", "file"]
    assert rows["settings.end_sessions_without_pupils"] == ["True", "config", "file"]
    assert rows["settings.school_name"][:2] == ["(see", "the"]  # kept in the database
    assert "cors_orgins in [portal]" in warnings and "did you mean cors_origins?" in warnings
    assert "[settings]" not in warnings and "table [portal]" not in warnings


def test_the_registry_defaults_are_the_services_defaults():
    assert settings.setting("portal.session_idle_minutes").default * 60 == (
        portal_sessions.IDLE.total_seconds()
    )
    assert settings.setting("portal.session_max_hours").default * 3600 == (
        portal_sessions.ABSOLUTE.total_seconds()
    )
    login, reset = portal_limits.LOGIN, portal_limits.RESET_REQUEST
    assert settings.setting("portal.login_failures_per_email").default == login.per_email
    assert settings.setting("portal.login_failures_per_client").default == login.per_client
    assert settings.setting("portal.resets_per_email").default == reset.per_email
    assert settings.setting("portal.resets_per_client").default == reset.per_client


def test_a_worker_puts_the_configured_lifetimes_and_limits_in_force(monkeypatch):
    _config(CONFIG)
    for name in ("IDLE", "ABSOLUTE"):
        monkeypatch.setattr(portal_sessions, name, getattr(portal_sessions, name))
    for limit in (portal_limits.LOGIN, portal_limits.RESET_REQUEST):
        monkeypatch.setattr(limit, "per_email", limit.per_email)
        monkeypatch.setattr(limit, "per_client", limit.per_client)
    config = load_portal_config()
    assert config.cors_origins == ("https://www.hillside.example", "https://app.hillside.example")
    config.apply()
    assert timedelta(minutes=20) == portal_sessions.IDLE
    assert timedelta(hours=12) == portal_sessions.ABSOLUTE
    assert portal_limits.RESET_REQUEST.per_email == 2
    assert portal_limits.LOGIN.per_email == 10


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[portal]\nworkers = "two"\n', "workers in [portal] must be a whole number"),
        ('[portal]\ncors_origins = "https://a.example"\n', "must be a list of texts"),
        ('[portal]\ncors_origins = ["*"]\n', "'*' is not allowed"),
        ("[portal]\nmax_body_bytes = 10\n", "max_body_bytes must be a number from 1024"),
        ("[portal]\nsession_idle_minutes = 0\n", "session_idle_minutes must be a number from 1"),
    ],
)
def test_a_wrong_portal_setting_is_refused_in_one_sentence(text, says):
    _config(text)
    with pytest.raises(ExtgwError) as caught:
        load_portal_config()
    assert says in str(caught.value) and "\n" not in str(caught.value)
