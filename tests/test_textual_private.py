"""The private Textual names the app still needs exist, and the error funnel they serve works.

extgw_tui/textual_private.py is the one module allowed to use Textual's private names; when a
Textual release renames one, the first test here fails and names it, instead of a screen
quietly breaking somewhere.
"""

from __future__ import annotations

import inspect

import pytest
from app_helpers import PRIVATE_READS, NotedApp, settle
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widgets import Button, Input, Select, Static

from extgw_tui.app import ExtgwApp
from extgw_tui.textual_private import PRIVATE_NAMES


@pytest.mark.parametrize(("owner", "name"), PRIVATE_NAMES, ids=lambda v: getattr(v, "__name__", v))
def test_every_private_name_used_still_exists(owner, name):
    if owner is App and name == "_exception":  # an instance attribute
        assert hasattr(App(), name)
    else:
        assert hasattr(owner, name), f"Textual no longer has {owner.__name__}.{name}"


def test_the_private_methods_still_take_what_we_pass():
    register = inspect.signature(App._register).parameters
    assert list(register)[:2] == ["self", "parent"]
    assert register["widgets"].kind is inspect.Parameter.VAR_POSITIONAL
    assert list(inspect.signature(MessagePump._dispatch_message).parameters) == ["self", "message"]
    assert list(inspect.signature(App._handle_exception).parameters) == ["self", "error"]


class BuggyScreen(Screen[None]):
    """A screen whose button handler has a bug, and a second button that still works."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        yield Button("Broken", id="broken")
        yield Button("Works", id="works")
        yield Static("", id="said")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "broken":
            raise ZeroDivisionError("a bug in a screen's handler")
        self.query_one("#said", Static).update("still answering")


async def test_a_bug_in_a_screen_handler_is_one_notification_and_the_screen_carries_on(
    sqlite_db,
):
    app = NotedApp(sqlite_db.url, reraise_bugs=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        await app.push_screen(BuggyScreen())
        await pilot.click("#broken")
        await pilot.pause()
        assert len(app.errors) == 1 and "ZeroDivisionError" in app.errors[0], app.errors
        await pilot.click("#works")  # the screen's message loop survived the bug
        await pilot.pause()
        assert str(app.screen.query_one("#said", Static).render()) == "still answering"
        assert app.is_running


async def test_a_bug_still_fails_its_pilot_test(sqlite_db):
    app = ExtgwApp(db_url=sqlite_db.url)
    with pytest.raises(ZeroDivisionError, match="screen's handler"):
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app, typed=False)
            await app.push_screen(BuggyScreen())
            await pilot.click("#broken")
            await pilot.pause()
            assert app.is_running  # reported and carried on; re-raised when the test ends


async def test_nothing_outside_the_app_is_patched(sqlite_db):
    original = MessagePump._dispatch_message
    app = NotedApp(sqlite_db.url, reraise_bugs=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, typed=False)
        assert MessagePump._dispatch_message is original
    assert MessagePump._dispatch_message is original
    assert original.__module__ == "textual.message_pump"


async def test_the_private_names_the_tests_read_still_exist():
    """tests/app_helpers.py reads these where Textual has no public way; an upgrade that
    renames one fails here, naming it, instead of in every test that reads the screen."""
    app = App()
    async with app.run_test(size=(20, 4)):
        owners = {"App": app, "Screen": app.screen, "Input": Input(), "Select": Select([])}
        for owner, name in PRIVATE_READS:
            assert hasattr(owners[owner], name), f"Textual no longer has {owner}.{name}"
        assert callable(app.screen._compositor.render_strips)
        assert list(app._notifications) == []
