"""PostgreSQL: the roll import compares with nested loops off (roll_stage.create; the figure
is in benchmarks/README.md), and the setting does not outlive the import's temporary tables."""

from __future__ import annotations

from extgw_tui import db as dbmod
from extgw_tui.models import database
from extgw_tui.services import roll_stage


def _nestloop() -> str:
    return database.execute_sql("SHOW enable_nestloop").fetchone()[0]


def test_nested_loops_are_off_only_while_staged(postgres_url) -> None:
    dbmod.open_database(postgres_url)
    try:
        assert _nestloop() == "on"
        roll_stage.create()
        assert _nestloop() == "off"
        roll_stage.drop()
        assert _nestloop() == "on"
    finally:
        database.close()
