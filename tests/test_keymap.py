"""One key registry: every binding has an id, config.toml's [keys] rebinds ids, and the footer,
the `?` help and the command palette all show the keys in force."""

from __future__ import annotations

import os
import re
from pathlib import Path

from app_helpers import messages, settle
from textual.widgets import DataTable
from user_rows import make_users

from extgw_tui import keymap
from extgw_tui.app import ExtgwApp
from extgw_tui.screens.export import ExportModal
from extgw_tui.screens.help import HelpScreen, screen_actions

README = Path(__file__).resolve().parent.parent / "README.md"


def write_keys(lines: str) -> None:
    folder = Path(os.environ["EXTGW_CONFIG_DIR"])
    (folder / "config.toml").write_text(f"[keys]\n{lines}\n", encoding="utf-8")


def test_every_binding_has_an_id_and_the_registry_reads_them_from_bindings():
    assert keymap.unbound_ids() == []
    table = keymap.registry()
    assert table["main.export"].keys == "x"
    assert table["list.mark"].keys == "space"
    assert "PagedTable" in table["list.mark"].where and "ReviewTable" in table["list.mark"].where
    assert {"UsersScreen", "StatsScreen", "ExtgwApp"} <= set(table["app.refresh"].where)
    assert table["stats.period"].description.startswith("Switch period")


def test_the_readme_names_only_ids_that_exist():
    section = README.read_text(encoding="utf-8").split("## Rebinding keys", 1)[1]
    named = set(re.findall(r"^\| `([a-z_]+\.[a-z_0-9]+)` \|", section, flags=re.MULTILINE))
    assert named, "README lists no key ids"
    assert named <= set(keymap.registry())


def test_a_bad_id_or_key_is_one_sentence_and_the_rest_applies():
    known = keymap.registry()
    loaded, problems = keymap.load_keymap(
        {
            "main.exprt": "X",
            "main.email": "ctrl+nothing",
            "main.stats": 3,
            "main.export": "X",
            "main.review": "?,ctrl+shift+v",
        },
        known,
    )
    assert loaded == {"main.export": "X", "main.review": "?,ctrl+shift+v"}
    assert len(problems) == 3
    assert "'main.exprt'" in problems[0] and "did you mean 'main.export'" in problems[0]
    assert "'main.email'" in problems[1] and "'ctrl+nothing' is not a key" in problems[1]
    assert "'main.stats'" in problems[2] and "in quotes" in problems[2]
    assert all("\n" not in p and p.endswith((".", "?")) for p in problems), problems
    assert keymap.load_keymap(["not", "a", "table"], known)[0] == {}
    for good in ("x", "X", "ctrl+r,f5", "question_mark", "f1", "pagedown", "ctrl+home", "?"):
        assert keymap.key_problem(good) is None, good
    for bad in ("ctrl+", "hyperspace", "cmd+x", "f99"):
        assert keymap.key_problem(bad) is not None, bad


async def test_a_rebound_key_works_and_shows_in_footer_help_and_palette(sqlite_db):
    make_users(3)
    write_keys('"main.export" = "X"\n"list.sort_next" = "S"\n"main.exprt" = "y"')
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        warnings = [m for m in messages(app) if "main.exprt" in m]
        assert len(warnings) == 1 and "did you mean 'main.export'" in warnings[0]
        assert warnings[0].startswith("config.toml [keys]: ")  # shown as written, not as markup
        main = app.screen
        footer = {b.binding.id: key for key, b in main.active_bindings.items() if b.binding.id}
        assert footer["main.export"] == "X"  # what the footer draws from
        shown = {a.description: a.keys for a in screen_actions(main)}
        assert shown["Export to Excel"] == "X"
        assert shown["Sort: next column"] == "S"  # a list key, while the list has the focus
        await pilot.press("slash")  # and while the search box has it
        assert {a.description: a.keys for a in screen_actions(main)}["Sort: next column"] == "S"
        await pilot.press("escape")
        palette = {c.title: c.help for c in app.get_system_commands(main)}
        assert palette["Export to Excel"] == "key: X"
        await pilot.press("x")  # the old key no longer exports
        await settle(pilot, app)
        assert app.screen is main
        await pilot.press("X")
        await settle(pilot, app)
        assert isinstance(app.screen, ExportModal)
        await pilot.press("escape")
        await settle(pilot, app)
        await pilot.press("question_mark")
        await settle(pilot, app)
        assert isinstance(app.screen, HelpScreen)
        rows = app.screen.query_one(DataTable)
        cells = [str(rows.get_row_at(i)[0]) for i in range(rows.row_count)]
        assert "X" in cells and "x" not in cells


async def test_help_still_leaves_out_textuals_own_keys(sqlite_db):
    make_users(2)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash")  # an Input has the focus: its cursor and copy keys are not ours
        actions = {a.action for a in screen_actions(app.screen)}
        assert not {"cursor_left", "copy", "focus_next", "delete_left"} & actions
        assert {"help", "leave_search", "toggle_mark", "next_sort"} <= actions
