"""The log file: where tracebacks go, so none ever reaches the screen."""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

from extgw_tui import settings

log = logging.getLogger("extgw_tui")
# Until (or unless) the file handler is added, records go nowhere: never to the terminal,
# where Python's last-resort handler would print a traceback over the app.
log.addHandler(logging.NullHandler())
log.propagate = False
_log_file: Path | None = None


class _PrivateLogFile(RotatingFileHandler):
    """Log lines name users (email addresses): the file is readable by its owner only."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # a file made by an older release keeps no wider permission
        return open(fd, "a", encoding=self.encoding, errors=self.errors)  # noqa: SIM115


def setup_logging() -> Path | None:
    """Log to a rotating file in the user log directory; returns its path (None if unwritable)."""
    global _log_file
    if _log_file is not None:
        return _log_file
    path = settings.log_dir() / "extgw-tui.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = _PrivateLogFile(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    _log_file = path
    return path


def log_file() -> Path | None:
    return _log_file
