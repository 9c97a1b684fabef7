"""Running service calls off the UI thread, with errors turned into notifications.

It lives with the widgets (layer 3) because widgets and screens both use it, and widgets may
not import screens.

Every screen reaches the database through `db_work`: the call runs in a thread worker with its
own connection; the result is posted back to the UI thread (never waited for: to_ui.py); an
ExtgwError becomes its message, a database error one sentence, and anything else a short notice
while the traceback goes to the log file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import peewee
from textual.app import App
from textual.dom import DOMNode
from textual.worker import Worker, get_current_worker

from extgw_tui.db import describe
from extgw_tui.errors import ExtgwError
from extgw_tui.logs import log, log_file
from extgw_tui.models import database
from extgw_tui.textual_private import ErrorFunnelApp
from extgw_tui.widgets.to_ui import post_to_ui

T = TypeVar("T")


def error_message(exc: BaseException) -> str:
    """What the administrator reads for an exception; a bug's traceback goes to the log."""
    if not is_expected(exc):
        log.error("Unexpected error", exc_info=exc)
    return describe_error(exc)


def describe_error(exc: BaseException) -> str:
    """error_message without the logging (for an error already logged)."""
    if isinstance(exc, ExtgwError):
        return str(exc)
    if isinstance(exc, peewee.DatabaseError):
        return describe(exc)
    where = log_file()
    return f"Unexpected error ({type(exc).__name__}); details are in {where or 'the log'}."


def is_expected(exc: BaseException) -> bool:
    """A failure the administrator can act on (a refusal, the database), not a bug."""
    return isinstance(exc, ExtgwError | peewee.DatabaseError)


def report(app: App, exc: Exception) -> None:
    """Into the app's error funnel (ExtgwApp.report_exception): logged, one notification, and
    under Pilot a bug fails its test. A bare App (a test's host) just gets the notification."""
    if isinstance(app, ErrorFunnelApp):
        app.report_exception(exc)
    else:
        app.notify(error_message(exc), severity="error", timeout=8)


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

    A refusal or a database error goes to on_error as one sentence (the screen shows it), or
    into the app's error funnel when there is no on_error; a bug always goes into the funnel,
    and on_error then hears its one sentence too. With exclusive=True an older call in the same
    group is cancelled and its result dropped, so a slow search never overwrites a newer one.
    """
    app = node.app

    def deliver(worker: Worker, callback: Callable[..., None], value: Any) -> None:
        if worker.is_cancelled:  # replaced by a newer call in its group while this was queued
            return
        try:
            callback(value)
        except Exception as exc:  # into the funnel, not out of the node's handler
            report(app, exc)

    def failed(worker: Worker, exc: Exception) -> None:
        """In the worker thread: a bug reaches the app's funnel even once node has gone."""
        if on_error is None or not is_expected(exc):
            post_to_ui(app, report, app, exc)
        if on_error is not None:
            post_to_ui(node, deliver, worker, on_error, describe_error(exc))

    def job() -> None:
        worker = get_current_worker()
        try:
            with database.connection_context():
                result = fn(*args, **kwargs)
        except Exception as exc:  # every failure becomes a message, never a traceback
            if not worker.is_cancelled:
                failed(worker, exc)
            return
        if on_success is not None and not worker.is_cancelled:
            post_to_ui(node, deliver, worker, on_success, result)

    return node.run_worker(job, thread=True, group=group, exclusive=exclusive, exit_on_error=False)
