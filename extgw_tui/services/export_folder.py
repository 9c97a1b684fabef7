"""Where exports go unless a path is typed: a folder the administrator can find.

In order: the export_dir setting when one is given ($EXTGW_EXPORT_DIR or config.toml); else the
folder this administrator last exported to (remembered per administrator in the data folder,
so it survives a restart); else their Downloads folder, else Documents, else home. Never the
current directory, which through `./tasks demo` is the program's source checkout.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import platformdirs

from extgw_tui import settings
from extgw_tui.logs import log
from extgw_tui.services import audit


def _store() -> Path:
    return settings.data_dir() / "export-folders.json"


def _remembered() -> dict[str, str]:
    try:
        found = json.loads(_store().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def platform_folder() -> Path:
    """The user's Downloads folder, else Documents, else home (the first that exists)."""
    for found in (platformdirs.user_downloads_dir(), platformdirs.user_documents_dir()):
        if found and Path(found).is_dir():
            return Path(found)
    return Path.home()


def default_folder() -> Path:
    """The folder an export goes to when none is typed (see the module's docstring)."""
    given, source = settings.resolve("export_dir")
    if source != "default":
        return Path(str(given)).expanduser()
    last = _remembered().get(audit.current_admin())
    if isinstance(last, str) and Path(last).is_dir():
        return Path(last)
    return platform_folder()


def remember(folder: Path) -> None:
    """Keep `folder` as this administrator's last export folder; a failure only logs (the
    export itself succeeded)."""
    store = _store()
    folders = _remembered()
    folders[audit.current_admin()] = str(folder.resolve())
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=store.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(folders, fh, indent=1)
        os.replace(temp, store)
    except OSError as exc:
        log.warning("could not remember the export folder %s: %s", folder, exc)
