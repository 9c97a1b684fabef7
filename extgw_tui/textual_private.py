"""Every private Textual name extgw-tui still needs, in one place, each with the reason.

Textual has no public way to do these few things. Keeping every use here means a release that
renames one fails tests/test_textual_private.py in one place, instead of quietly breaking a
screen somewhere. Everything else in extgw_tui uses Textual's public API; keep it that way
(`grep -rn '\\._[a-z]' extgw_tui` should find only our own names outside this module).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.app import App
from textual.message import Message
from textual.message_pump import MessagePump
from textual.widget import Widget
from textual.widgets import DataTable, RadioSet

#: (class, attribute) for each private name used below; the test checks they all still exist.
PRIVATE_NAMES: list[tuple[type, str]] = [
    (MessagePump, "_dispatch_message"),
    (App, "_register"),
    (App, "_handle_exception"),
    (App, "_exception"),  # an instance attribute, set in App.__init__
    (RadioSet, "_selected"),
    (DataTable, "_set_hover_cursor"),
]

Dispatch = Callable[[Message], Awaitable[None]]


class ErrorFunnelApp(App[None]):
    """An App that hands every exception its code raises to one method, `report_exception`,
    and keeps every widget's message loop running afterwards.

    Why private names: Textual ends a widget's message loop (MessagePump._process_messages_loop)
    after an exception escapes one of its handlers, and then calls App._handle_exception, which
    exits the app. There is no public hook for either, and an app for administrators must not
    freeze or die on one bug: it logs it, says so in one notification, and carries on.
    """

    def report_exception(self, error: Exception) -> None:
        """Called with every exception a handler, callback, action or worker let through."""
        raise NotImplementedError

    # Private: MessagePump._dispatch_message runs one message's handlers. Guarding it (for the
    # app here, for every widget and screen in _register) keeps the loop alive after a bug.
    async def _dispatch_message(self, message: Message) -> None:
        try:
            await super()._dispatch_message(message)
        except Exception as error:
            self.report_exception(error)

    # Private: App._register is where every widget and screen joins the app, the one place to
    # guard each one's dispatch (on the instance, so nothing outside this app is touched).
    def _register(self, parent: Any, *widgets: Widget, **kwargs: Any) -> list[Widget]:
        for widget in widgets:
            if "_dispatch_message" not in vars(widget):
                widget._dispatch_message = _guarded(widget._dispatch_message, self.report_exception)  # type: ignore[method-assign]
        return super()._register(parent, *widgets, **kwargs)

    # Private: App._handle_exception is Textual's exception hook, where everything else ends
    # (a timer's callback, a worker with exit_on_error=True, a failed render); Textual's own
    # version exits the app with a traceback on the terminal.
    def _handle_exception(self, error: Exception) -> None:
        self.report_exception(error)


def _guarded(dispatch: Dispatch, report: Callable[[Exception], None]) -> Dispatch:
    async def guarded(message: Message) -> None:
        try:
            await dispatch(message)
        except Exception as error:
            report(error)

    return guarded


def keep_for_pilot(app: App, error: Exception) -> None:
    """Keep the first bug for App.run_test to re-raise when the test's app closes.

    Private: App._exception is what run_test re-raises; there is no public way to make a bug
    that the app survived still fail its Pilot test.
    """
    if app._exception is None:
        app._exception = error


def highlighted_index(radio_set: RadioSet) -> int | None:
    """The button the RadioSet's highlight is on (None: none yet).

    Private: RadioSet keeps its highlight in `_selected` and offers no public read or write.
    """
    return radio_set._selected


def highlight(radio_set: RadioSet, index: int) -> None:
    """Move the RadioSet's highlight to button `index` (see highlighted_index)."""
    radio_set._selected = index


def show_hover_cursor(table: DataTable, active: bool) -> None:
    """Show or hide DataTable's faint hover cursor (the cell under the mouse).

    Private: DataTable hides it on its own cursor keys and shows it on a click; a table that
    moves its cursor with its own actions has no public way to do the same.
    """
    table._set_hover_cursor(active)
