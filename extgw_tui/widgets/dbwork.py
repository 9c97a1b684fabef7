"""Running service calls off the UI thread, with errors turned into notifications.

It lives with the widgets (layer 3) because widgets and screens both use it, and widgets may
not import screens.

Every screen reaches the database through `db_work`: the call runs in a thread worker with its
own connection; the result comes back on the UI thread; an ExtgwError becomes its message, a
database error one sentence, and anything else a short notice while the traceback goes to the
log file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import peewee
from textual.dom import DOMNode
from textual.worker import Worker, get_current_worker

from extgw_tui.db import describe
from extgw_tui.errors import ExtgwError
from extgw_tui.logs import log, log_file
from extgw_tui.models import database

T = TypeVar("T")


def error_message(exc: BaseException) -> str:
    """What the administrator reads for an exception (the details go to the log)."""
    if isinstance(exc, ExtgwError):
        return str(exc)
    if isinstance(exc, peewee.DatabaseError):
        return describe(exc)
    log.error("Unexpected error", exc_info=exc)
    where = log_file()
    return f"Unexpected error ({type(exc).__name__}); details are in {where or 'the log'}."


def db_work(
    node: DOMNode,
    fn: Callable[..., T],
    *args: Any,
    on_success: Callable[[T], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    group: str = "db",
    exclusive: bool = False,
    **kwargs: Any,
) -> Worker:
    """Run fn(*args, **kwargs) in a thread; deliver its result to on_success on the UI thread.

    With exclusive=True an older call in the same group is cancelled and its result dropped,
    so a slow search never overwrites a newer one.
    """
    app = node.app

    def deliver(callback: Callable[..., None], value: Any) -> None:
        if node.is_attached:
            try:
                callback(value)
            except Exception as exc:  # raised here it would die silently in the worker
                app.notify(error_message(exc), severity="error", timeout=8)

    def job() -> None:
        worker = get_current_worker()
        try:
            with database.connection_context():
                result = fn(*args, **kwargs)
        except Exception as exc:  # every failure becomes a message, never a traceback
            message = error_message(exc)
            if not worker.is_cancelled:
                if on_error is not None:
                    app.call_from_thread(deliver, on_error, message)
                else:
                    app.call_from_thread(app.notify, message, severity="error", timeout=8)
            return
        if on_success is not None and not worker.is_cancelled:
            app.call_from_thread(deliver, on_success, result)

    return node.run_worker(job, thread=True, group=group, exclusive=exclusive, exit_on_error=False)
