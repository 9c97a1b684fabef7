"""The exit codes of `extgw-tui`, its subcommands and the app: one list, so they agree.

0    done (a command that lists: listed, perhaps nothing)
1    bad input or a task that failed (outbox --retry: some messages still failed)
2    the database cannot be opened or used
3    a bug: the traceback is in the log file
4    the administrator declined a confirmation (review --delete)
130  interrupted (ctrl+c); a signal gives 128 + its number
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_DATABASE = 2
EXIT_BUG = 3
EXIT_DECLINED = 4
EXIT_INTERRUPTED = 130


def exit_for_signal(signum: int) -> int:
    """The usual shell convention: 128 + the signal's number."""
    return 128 + signum
