"""Errors that carry one clear sentence for the administrator.

Anything raised as an ExtgwError is shown as its message (a notification in the app, one line
on stderr in the CLI); anything else is a bug and goes to the log file with its traceback.
"""


class ExtgwError(Exception):
    """A failure the administrator can understand and act on."""


class DatabaseProblem(ExtgwError):
    """The database cannot be opened, read or written."""


class NotFound(ExtgwError):
    """A record that was asked for no longer exists (perhaps deleted by another admin)."""


class InvalidInput(ExtgwError):
    """Input that was refused, with the reason."""
