"""The `?` help: every key of the screen underneath, with what it does.

The same list feeds the command palette (ExtgwApp.get_system_commands), so a key added to any
screen's BINDINGS shows up in both without further wiring.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from extgw_tui import keymap
from extgw_tui.resources import stylesheet
from extgw_tui.screens.dialog import DIALOG_CSS


@dataclass(frozen=True, slots=True)
class KeyAction:
    """One action of a screen: its keys as shown, what it does, and where it runs."""

    keys: str
    description: str
    action: str
    node: DOMNode


def screen_actions(screen: Screen) -> list[KeyAction]:
    """The actions reachable on `screen`: the focus chain's, plus every paged list's on it.

    A list's keys (mark, sort) are included even while the search box has the focus, so the
    help and the palette show them all. Keys are those in force: config.toml's [keys] applied.
    """
    from extgw_tui.widgets.paged_table import PagedTable

    app = screen.app
    overrides: dict[str, str] = getattr(app, "key_overrides", {})
    grouped: dict[tuple[int, str], tuple[DOMNode, Binding, list[str]]] = {}

    def add(node: DOMNode, binding: Binding, key: str) -> None:
        if not binding.description or binding.system or not _ours(node, key, binding):
            return
        slot = (id(node), binding.description)  # q and ctrl+q are one "Quit"
        if slot not in grouped:
            grouped[slot] = (node, binding, [])
        display = app.get_key_display(Binding(key, binding.action))
        if display not in grouped[slot][2]:
            grouped[slot][2].append(display)

    for key, active in screen.active_bindings.items():
        add(active.node, active.binding, key)
    for table in screen.query(PagedTable):
        for key, binding in keymap.bindings_in_force(table, overrides):
            if keymap.action_enabled(table, binding.action):  # skip what the list switched off
                add(table, binding, key)

    def rank(node: DOMNode) -> int:  # the screen's own actions first, the app's last
        return 0 if node is screen else 2 if node is app else 1

    ordered = sorted(grouped.values(), key=lambda entry: rank(entry[0]))
    return [
        KeyAction(", ".join(shown), _description(node, binding), binding.action, node)
        for node, binding, shown in ordered
    ]


def _description(node: DOMNode, binding: Binding) -> str:
    """The help's words for a binding: the node's own (binding_description, for keys whose
    meaning is loaded, like a licence type's name), else its tooltip, else its label."""
    describe = getattr(node, "binding_description", None)
    named = describe(binding) if describe is not None else None
    return named or binding.tooltip or binding.description


#: Textual's own bindings worth listing; the rest (cursor left, copy text, focus next...) are
#: the terminal's usual keys and would only bury ours.
_TEXTUAL_KEPT = {"quit"}


def _ours(node: DOMNode, key: str, binding: Binding) -> bool:
    """Whether extgw-tui declared this binding (on the node's class or one it derives from):
    by its id, or by key and action for one declared without an id.

    A binding's `description` is its short footer label; its `tooltip`, when set, is the
    longer text the help and the palette show.
    """
    if binding.action in _TEXTUAL_KEPT:
        return True
    for cls in type(node).__mro__:
        if not cls.__module__.startswith("extgw_tui"):
            continue
        for declared in keymap.declared_bindings(cls):
            if binding.id and declared.id == binding.id:
                return True
            listed = {k.strip() for k in declared.key.split(",")}
            if not declared.id and key in listed and declared.action == binding.action:
                return True
    return False


class HelpKeys(DataTable):
    """The list of keys: every list key scrolls it (DataTable's own Home/End scroll sideways)."""

    BINDINGS = [
        Binding("down,j", "cursor_down", "Down", show=False, id="help.down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="help.up"),
        Binding("home,g", "first", "First key", show=False, id="help.first"),
        Binding("end,G", "last", "Last key", show=False, id="help.last"),
    ]

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=self.row_count - 1)


#: Widths of the two columns, so a long description wraps instead of running off sideways.
KEY_WIDTH, ACTION_WIDTH = 20, 38


class HelpScreen(ModalScreen[None]):
    """The keys of the screen it was opened over; escape, ? or F1 closes it."""

    CSS_PATH = [DIALOG_CSS, stylesheet("help.tcss")]
    BINDINGS = [
        Binding("escape,question_mark,f1,q", "close", "Close help", id="help.close"),
    ]

    def __init__(
        self, title: str, actions: list[KeyAction], notes: tuple[tuple[str, str], ...] = ()
    ) -> None:
        """`notes`: (what to type, what it does) rows after the keys (the search language)."""
        super().__init__()
        self.heading = title
        self.actions = actions
        self.notes = notes

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Static(f"Keys: {self.heading}", classes="dialog-title")
            yield HelpKeys(id="help-keys", cursor_type="row", zebra_stripes=True)
            yield Static(
                "tab moves between fields · ctrl+p lists every action by name · escape closes",
                id="help-hint",
            )

    def on_mount(self) -> None:
        table = self.query_one(HelpKeys)
        table.add_column("Key", key="key", width=KEY_WIDTH)
        table.add_column("Action", key="action", width=ACTION_WIDTH)
        rows = [(item.keys, item.description) for item in self.actions]
        if self.notes:
            rows.append(("In the search box", ""))
        rows.extend(self.notes)
        for keys, meaning in rows:
            style = "bold underline" if keys == "In the search box" and not meaning else "bold"
            table.add_row(Text(keys, style=style), Text(meaning), height=None)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
