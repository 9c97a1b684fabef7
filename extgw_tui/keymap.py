"""One table of keys: every Binding extgw-tui declares, by id, and the administrator's [keys].

Each screen and widget declares its keys in BINDINGS, each Binding with an `id`; this module
reads them from there (a new screen's keys join without any list to edit). The footer, the `?`
help and the command palette all show the bindings in force, that is these with config.toml's
`[keys]` table applied through Textual's keymap (App.set_keymap), so a rebound key shows
everywhere it works:

    [keys]
    "main.export" = "X"            # id = key, or several keys: "ctrl+e,X"

An id that does not exist or a key Textual cannot name gets one warning sentence and is left
out; every other line still applies. `python -m extgw_tui.keymap` prints the table of ids (the
README's "Rebinding keys" lists it).
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from textual.actions import parse
from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode
from textual.keys import Keys

#: Where the screens and widgets live; every module in them is read for BINDINGS.
UI_PACKAGES = ("extgw_tui.screens", "extgw_tui.widgets")
MODIFIERS = {"ctrl", "shift", "alt", "meta", "super", "hyper"}
_KEY_NAMES = {key.value for key in Keys if not key.value.startswith("<")}


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One id: its default keys, what it does, and the screens or widgets that declare it."""

    id: str
    keys: str
    description: str
    where: tuple[str, ...]


def declared_bindings(cls: type) -> list[Binding]:
    """The Bindings a class itself declares (not those it inherits)."""
    return [
        item if isinstance(item, Binding) else Binding(*item)
        for item in cls.__dict__.get("BINDINGS", ())
    ]


def _ui_classes() -> Iterator[type[DOMNode]]:
    """Every screen, widget and app class of extgw_tui, importing the UI packages first."""
    importlib.import_module("extgw_tui.app")
    for name in UI_PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.iter_modules(package.__path__, f"{name}."):
            importlib.import_module(module.name)
    seen: set[type] = set()
    pending: list[type] = [DOMNode]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                pending.append(sub)
                if sub.__module__.startswith("extgw_tui."):
                    yield sub


def registry() -> dict[str, KeyEntry]:
    """Every binding id, in a stable order (by id)."""
    entries: dict[str, KeyEntry] = {}
    # base classes first, so an id's description is the one its base class gives
    for cls in sorted(_ui_classes(), key=lambda c: (len(c.__mro__), c.__module__, c.__qualname__)):
        for binding in declared_bindings(cls):
            if not binding.id:
                continue
            known = entries.get(binding.id)
            where = (*known.where, cls.__name__) if known else (cls.__name__,)
            description = known.description if known else binding.tooltip or binding.description
            entries[binding.id] = KeyEntry(binding.id, binding.key, description, where)
    return dict(sorted(entries.items()))


def unbound_ids() -> list[str]:
    """Bindings declared without an id ("Class: key -> action"): they cannot be rebound."""
    return [
        f"{cls.__name__}: {binding.key} -> {binding.action}"
        for cls in _ui_classes()
        for binding in declared_bindings(cls)
        if not binding.id
    ]


def key_problem(keys: str) -> str | None:
    """Why Textual could not read `keys` ("ctrl+e,X"), or None when every key is a real one."""
    for key in (part.strip() for part in keys.split(",")):
        *modifiers, name = key.split("+") if len(key) > 1 else [key]
        unknown = [m for m in modifiers if m not in MODIFIERS]
        if not name or unknown:
            return f"{key!r} is not a key (modifiers are {', '.join(sorted(MODIFIERS))})"
        if not _is_key_name(name):
            return f"{key!r} is not a key Textual knows"
    return None


def _is_key_name(name: str) -> bool:
    if len(name) == 1:
        return name.isprintable() and not name.isspace()
    if name in _KEY_NAMES:
        return True
    try:  # "question_mark", "full_stop": Textual's names for punctuation
        return len(unicodedata.lookup(name.replace("_", " "))) == 1
    except KeyError:
        return False


def load_keymap(table: object, known: Mapping[str, KeyEntry]) -> tuple[dict[str, str], list[str]]:
    """config.toml's [keys] as a Textual keymap (id -> keys), and a sentence per line refused."""
    if not isinstance(table, dict):
        return {}, ['config.toml: [keys] must be a table of id = "key" lines; it is ignored.']
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in table.items():
        if binding_id not in known:
            near = difflib.get_close_matches(binding_id, list(known), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else "."
            problems.append(f"config.toml [keys]: there is no key id {binding_id!r}{hint}")
        elif not isinstance(keys, str) or not keys.strip():
            problems.append(f'config.toml [keys]: {binding_id!r} needs a key in quotes, e.g. "X".')
        elif problem := key_problem(keys):
            problems.append(f"config.toml [keys]: {binding_id!r} keeps its key: {problem}.")
        else:
            keymap[binding_id] = keys
    return keymap, problems


def bindings_in_force(node: DOMNode, keymap: Mapping[str, str]) -> BindingsMap:
    """The bindings extgw-tui's classes give `node` (its own and inherited), `keymap` applied:
    what the node answers to even while it does not have the focus."""
    bindings = [
        binding
        for cls in reversed(type(node).__mro__)
        if cls.__module__.startswith("extgw_tui.")
        for binding in declared_bindings(cls)
    ]
    in_force = BindingsMap(bindings)
    if keymap:
        in_force.apply_keymap(dict(keymap))
    return in_force


def action_enabled(node: DOMNode, action: str) -> bool:
    """Whether the node's check_action lets `action` run (False: hidden from help and palette)."""
    _, name, parameters = parse(action)
    return node.check_action(name, parameters) is not False


def markdown_table() -> str:
    """The README's table of ids."""
    lines = ["| id | default keys | what | where |", "|---|---|---|---|"]
    for entry in registry().values():
        keys = ", ".join(f"`{key.strip()}`" for key in entry.keys.split(","))
        lines.append(f"| `{entry.id}` | {keys} | {entry.description} | {', '.join(entry.where)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
