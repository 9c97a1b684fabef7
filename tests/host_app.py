"""The one host app for testing a screen, modal or widget outside ExtgwApp (a helper module).

A test hands HostApp what to show; the host keeps what the screen dismissed with and the
messages the test asked to see and every notification, so no test writes its own App subclass
for that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual.app import App, ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget

from extgw_tui.resources import stylesheet

UNSET = object()  # HostApp.result before the screen was dismissed


class HostApp(App[None]):
    """Pushes `screen()` (a screen or modal) on mount, or composes `widgets()`.

    styled: load the app's shared stylesheet (app.tcss), as ExtgwApp does.
    record: message types (bubbling up from the widgets) to keep, in order, in `seen`.
    setup: called with the app once it is mounted (e.g. to give a table its source).
    """

    def __init__(
        self,
        screen: Callable[[], Screen] | None = None,
        *,
        widgets: Callable[[], Iterable[Widget]] | None = None,
        styled: bool = False,
        record: tuple[type[Message], ...] = (),
        setup: Callable[[HostApp], None] | None = None,
    ) -> None:
        super().__init__(css_path=stylesheet("app.tcss") if styled else None)
        self.make_screen = screen
        self.make_widgets = widgets
        self.record = record
        self.setup = setup
        self.results: list[object] = []  # every value the pushed screen dismissed with
        self.seen: list[Message] = []
        self.messages: list[str] = []  # every notification, in order, even once it has gone

    @property
    def result(self) -> object:
        """What the pushed screen last dismissed with (UNSET while it is open)."""
        return self.results[-1] if self.results else UNSET

    @property
    def closed(self) -> bool:
        """Whether the pushed screen has been dismissed."""
        return bool(self.results)

    def compose(self) -> ComposeResult:
        if self.make_widgets is not None:
            yield from self.make_widgets()

    def on_mount(self) -> None:
        if self.make_screen is not None:
            self.push_screen(self.make_screen(), self.results.append)
        if self.setup is not None:
            self.setup(self)

    def notify(self, message: str, **kwargs) -> None:
        """Keep the text of every notification (App keeps only the ones still showing)."""
        self.messages.append(message)
        super().notify(message, **kwargs)

    def post_message(self, message: Message) -> bool:
        """Keep the recorded message types as they reach the app (bubbled or posted)."""
        posted = super().post_message(message)
        if posted and isinstance(message, self.record):
            self.seen.append(message)
        return posted
