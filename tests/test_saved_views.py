"""Saved views: a named search per administrator, recalled from the main screen by `w`."""

from __future__ import annotations

import pytest
from app_helpers import settle
from textual.widgets import Input, OptionList
from user_rows import make_users

from extgw_tui.app import ExtgwApp
from extgw_tui.errors import InvalidInput
from extgw_tui.models import SavedView
from extgw_tui.screens.saved_views import SavedViewsModal
from extgw_tui.services import access, audit, saved_views


def test_views_are_each_administrators_own_and_a_name_saved_again_replaces(db):
    saved_views.save_view("Denied", "access:denied")
    saved_views.save_view("  Year 7   parents ", 'year:7 licence:"Parent/Guardian"')
    saved_views.save_view("Denied", "access:denied -login:never")
    assert saved_views.list_views() == [
        ("Denied", "access:denied -login:never"),
        ("Year 7 parents", 'year:7 licence:"Parent/Guardian"'),
    ]
    audit.set_admin("someone-else")
    try:
        assert saved_views.list_views() == []
        saved_views.save_view("Denied", "access:allowed")
        assert saved_views.list_views() == [("Denied", "access:allowed")]
    finally:
        audit.set_admin("test-admin")
    saved_views.delete_view("Denied")
    assert [name for name, _ in saved_views.list_views()] == ["Year 7 parents"]
    assert SavedView.select().count() == 2


@pytest.mark.parametrize(
    ("name", "search", "sentence"),
    [
        ("", "access:denied", "Give the view a name."),
        ("x" * 61, "access:denied", "at most 60 characters"),
        ("Empty", "   ", "There is no search to save"),
        ("Typo", "acess:denied", "There is no filter acess:"),
    ],
)
def test_what_cannot_be_saved_is_one_sentence(db, name, search, sentence):
    with pytest.raises(InvalidInput) as refused:
        saved_views.save_view(name, search)
    assert sentence in str(refused.value)
    assert SavedView.select().count() == 0


async def test_name_the_search_then_recall_it_by_keyboard(sqlite_db):
    ids = make_users(20)
    access.set_access(ids[:4], False)
    app = ExtgwApp(db_url=sqlite_db.url)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot, app, typed=False)
        await pilot.press("slash", *"access:denied", "enter")
        table = await settle(pilot, app)
        assert table.total == 4
        await pilot.press("w")
        await settle(pilot, app, typed=False)
        assert isinstance(app.screen, SavedViewsModal)
        assert app.screen.query_one("#view-name", Input).has_focus
        await pilot.press(*"Denied", "enter")
        await settle(pilot, app, typed=False)
        assert saved_views.list_views() == [("Denied", "access:denied")]
        await pilot.press("escape")
        await pilot.press("slash", "ctrl+u", "enter")  # back to everyone
        table = await settle(pilot, app)
        assert table.total == 20
        await pilot.press("w")
        await settle(pilot, app, typed=False)
        assert app.screen.query_one("#views-list", OptionList).has_focus
        await pilot.press("enter")  # the highlighted (only) view
        table = await settle(pilot, app)
        assert app.screen.query_one("#search", Input).value == "access:denied"
        assert table.total == 4
