"""The `extgw-tui` command: open the app, or run one task from the command line.

Every subcommand goes through the same service functions as the app. Errors print one
sentence on stderr and exit non-zero; tracebacks go to the log file only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import peewee

import extgw_tui
from extgw_tui import settings
from extgw_tui.errors import DatabaseProblem, ExtgwError
from extgw_tui.exit_codes import (
    EXIT_BUG,
    EXIT_DATABASE,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    exit_for_signal,
)
from extgw_tui.hangup import release_hung_up_terminal
from extgw_tui.logs import log, setup_logging

if TYPE_CHECKING:
    from extgw_tui.app import ExtgwApp

DEMO_SIZES = ("small", "large", "huge")  # huge: PostgreSQL only (demo --db URL)


class _VersionAction(argparse.Action):
    """--version: the version is read only when asked for (extgw_tui.__version__ is lazy)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"extgw-tui {extgw_tui.__version__}")  # on stdout, as argparse's own action
        parser.exit()


def _common(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=default,
        help="database URL: sqlite:///path or postgresql://user@host/db "
        "(default: $EXTGW_DB, then a file in the user data folder)",
    )
    parser.add_argument(
        "--admin",
        metavar="NAME",
        default=default,
        help="the acting administrator's name for the audit log "
        "(default: $EXTGW_ADMIN, then your login name)",
    )
    parser.add_argument(
        "--school",
        metavar="NAME",
        default=default,
        help="the school to open, one of config.toml's [schools.<name>] "
        "(default: $EXTGW_SCHOOL; with several and none named, the app asks)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        default=default,
        help="use the demo database (made on first use), never your real data",
    )
    parser.add_argument(
        "--demo-size",
        choices=DEMO_SIZES,
        default=default,
        help="demo database size: small (about 1,500 users), large (100,000) or huge "
        "(1,000,000; PostgreSQL only, with demo --db)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="extgw-tui",
        description="Administer External Gateway users: search, allow/deny, email, export, "
        "statistics and review. With no command, opens the terminal app.",
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0, help="show the version")
    _common(parser, None)
    parser.add_argument(
        "--no-mouse",
        action="store_true",
        help="don't capture the mouse (keeps the terminal's copy and paste)",
    )
    parser.add_argument("--theme", metavar="NAME", help="a Textual theme, e.g. textual-ansi")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    shared = argparse.ArgumentParser(add_help=False)
    _common(shared, argparse.SUPPRESS)

    demo = sub.add_parser(
        "demo",
        parents=[shared],
        help="(re)generate the demo database; with --db postgresql://..., into that empty one",
    )
    demo.add_argument("--size", choices=DEMO_SIZES, default="small")
    demo.add_argument("--force", action="store_true", help="replace an existing demo database")
    demo.add_argument(
        "--roll-file", metavar="FILE", help="also write a roll file (.csv/.xlsx) to try the import"
    )

    export = sub.add_parser("export", parents=[shared], help="export to an Excel (.xlsx) file")
    export.add_argument(
        "kind",
        choices=["users", "holders", "pupils-with", "pupils-without", "pupils-contacts", "leavers"],
    )
    export.add_argument("--licence", metavar="NAME", help="licence type, e.g. 'Parent/Guardian'")
    export.add_argument("--search", metavar="TEXT", help="only users matching this search")
    export.add_argument(
        "-o", "--output", metavar="FILE", help="output file (default: proposed name)"
    )
    export.add_argument(
        "--force", action="store_true", help="replace the output file if it already exists"
    )

    stats = sub.add_parser("stats", parents=[shared], help="login statistics")
    stats.add_argument("--licence", metavar="NAME", help="only holders of this licence type")
    stats.add_argument("--period", choices=["months", "weeks", "years"], default="months")

    review = sub.add_parser(
        "review",
        parents=[shared],
        help="accounts with no pupils and no login for N months",
        epilog="exit codes: 0 nothing to delete, listed or deleted; "
        "1 error (or --delete without a terminal and without "
        "--yes); 2 database problem; 4 declined at the prompt",
    )
    review.add_argument(
        "--months",  # checked by the command, so a bad value gets its message and exit 1
        default=None,
        help="no login (or, never logged in, no account creation) for at "
        "least this many calendar months, 1-240 (default 12); with --rule left, months "
        "since the last pupil left (default 6)",
    )
    review.add_argument(
        "--rule",
        choices=["inactive", "left"],
        default="inactive",
        help="inactive: no pupils and no login (default); left: every pupil left the roll",
    )
    review.add_argument("--delete", action="store_true", help="delete the candidates (asks first)")
    review.add_argument("--yes", action="store_true", help="don't ask before deleting")

    imp = sub.add_parser(
        "import",
        parents=[shared],
        help="import the roll and parental contacts from an MIS export (CSV or .xlsx)",
        epilog="exit codes: 0 previewed or imported; 1 error (or no terminal to confirm on "
        "without --yes); 2 database problem; 4 declined at the prompt",
    )
    imp.set_defaults(command="import_pupils")
    imp.add_argument("what", choices=["pupils"], help="what to import: the roll (pupils)")
    imp.add_argument("file", metavar="FILE", help="the MIS export: .csv or .xlsx")
    imp.add_argument(
        "--map",
        metavar="HEADER=field",
        action="append",
        help="read column HEADER as field (e.g. 'Pupil ID=upn'; 'Notes=ignore'); repeatable",
    )
    imp.add_argument("--sheet", metavar="NAME", help="the sheet of a workbook of several")
    imp.add_argument(
        "--partial",
        action="store_true",
        help="the file holds part of the roll (one year group): never mark leavers",
    )
    imp_mode = imp.add_mutually_exclusive_group()
    imp_mode.add_argument("--dry-run", action="store_true", help="print the preview only")
    imp_mode.add_argument("--yes", action="store_true", help="import without asking")

    coverage = sub.add_parser(
        "coverage",
        parents=[shared],
        help="pupils on roll with an active parent or pupil account, per year group and form",
    )
    coverage.add_argument("--forms", action="store_true", help="list every form, not just years")
    coverage.add_argument("-o", "--output", metavar="FILE", help="also export it to .xlsx")

    outbox = sub.add_parser("outbox", parents=[shared], help="list sent, queued and failed emails")
    outbox.add_argument("--retry", action="store_true", help="resend the failed and queued ones")

    undo = sub.add_parser("undo", parents=[shared], help="undo a batch (list them without one)")
    undo.add_argument("batch", nargs="?", metavar="BATCH", help="batch id, or its first 6+ chars")
    undo.add_argument(
        "--dry-run", action="store_true", help="say what would change, change nothing"
    )
    undo.add_argument("--yes", action="store_true", help="don't ask before undoing")

    purge = sub.add_parser("purge", parents=[shared], help="remove deleted accounts for good")
    purge.add_argument("--yes", action="store_true", help="don't ask before purging")

    activity = sub.add_parser("activity", parents=[shared], help="the activity (audit) log")
    activity.add_argument("--admin-filter", metavar="NAME", dest="admin_filter")
    activity.add_argument("--action", metavar="ACTION")
    activity.add_argument("--user", metavar="ID", type=int)
    activity.add_argument("--limit", type=int, default=50)

    users_cmd = sub.add_parser(
        "users", parents=[shared], help="the accounts a search or filter finds"
    )
    users_cmd.add_argument(
        "--filter", metavar="TEXT", help="as in the search box, e.g. access:denied"
    )
    users_cmd.add_argument("--format", choices=["table", "csv", "json"], default="table")
    users_cmd.add_argument(
        "--help-filters", action="store_true", help="list the search language and exit"
    )

    access_cmd = sub.add_parser(
        "access",
        parents=[shared],
        help="allow or deny the accounts a filter finds",
        epilog="exit codes: 0 done, nothing to change or a dry run; 1 refused; "
        "2 database problem; 4 declined at the prompt",
    )
    access_cmd.add_argument("verb", choices=["allow", "deny"])
    access_cmd.add_argument("--filter", required=True, metavar="TEXT")
    access_cmd.add_argument("--reason", metavar="TEXT", help="kept in the activity log")
    access_cmd.add_argument("--dry-run", action="store_true", help="say what would change, only")
    access_cmd.add_argument("--yes", action="store_true", help="don't ask first")

    db = sub.add_parser("db", parents=[shared], help="move the database to another backend")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    copy = db_sub.add_parser(
        "copy",
        parents=[shared],
        help="copy the whole database into an empty one (SQLite <-> PostgreSQL)",
        epilog="exit codes: 0 copied and verified; 1 refused (target not empty, or the copy "
        "did not match: the target is left empty); 2 database problem",
    )
    copy.add_argument("--to", required=True, metavar="URL", help="the empty target database")

    keys = sub.add_parser(
        "keys", parents=[shared], help="licence keys: generate, email, status, revoke"
    )
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    generate = keys_sub.add_parser(
        "generate", parents=[shared], help="make keys for pupils on roll and write the letters"
    )
    generate.add_argument("--type", required=True, metavar="NAME", help="e.g. 'Parent/Guardian'")
    generate.add_argument("--year", type=int, metavar="N", help="only this year group")
    generate.add_argument("--form", metavar="FORM", help="only this form, e.g. 7A")
    generate.add_argument("--pupil", action="append", metavar="UPN", help="only this pupil")
    generate.add_argument(
        "--without-holder", action="store_true", help="only pupils with no holder of the type"
    )
    generate.add_argument("--per-pupil", type=int, metavar="N", help="default 2 (Pupil type: 1)")
    generate.add_argument("--expires", metavar="DAYS", help="e.g. 30d; default: never")
    generate.add_argument("-o", "--output", metavar="FILE", help="the letters file (.xlsx)")
    generate.add_argument("--pdf", metavar="FILE", help="also a printable PDF, one letter a page")
    generate.add_argument(
        "--email", action="store_true", help="email keys to contacts with parental responsibility"
    )
    generate.add_argument("--subject", metavar="TEXT", help="email subject (with placeholders)")
    generate.add_argument("--body-file", metavar="FILE", help="email text (with placeholders)")
    generate.add_argument("--dry-run", action="store_true", help="count (and preview) only")
    keys_email = keys_sub.add_parser("email", parents=[shared], help="send a batch's key emails")
    keys_email.add_argument("--batch", type=int, required=True, metavar="N")
    status = keys_sub.add_parser("status", parents=[shared], help="keys per form, and batches")
    status.add_argument("--form", metavar="FORM")
    status.add_argument("--year", type=int, metavar="N")
    status.add_argument("--type", metavar="NAME")
    status.add_argument("--batch", type=int, metavar="N", help="one batch's keys and emails")
    revoke = keys_sub.add_parser("revoke", parents=[shared], help="revoke outstanding keys")
    revoke.add_argument("--pupil", action="append", metavar="UPN")
    revoke.add_argument("--batch", type=int, metavar="N")
    revoke.add_argument("--type", metavar="NAME", help="only keys of this type (with --pupil)")
    revoke.add_argument("--reason", metavar="TEXT")

    sub.add_parser(
        "config",
        parents=[shared],
        help="every setting in force and where it came from (passwords hidden)",
    )

    portal = sub.add_parser(
        "portal", parents=[shared], help="serve the portal's JSON API (behind a TLS proxy)"
    )
    portal.add_argument(
        "--listen", metavar="HOST:PORT", help="default 127.0.0.1:8080 ([portal] listen)"
    )
    portal.add_argument(
        "--workers",
        type=int,
        help="server processes (default 1, [portal] workers; each hashes "
        "passwords on as many threads as there are cores)",
    )
    return parser


def resolve_db_url(args: argparse.Namespace) -> str | None:
    """The database to open; None when the app is to ask which school (several configured)."""
    if args.command == "demo" and args.db:  # demo data into a new, empty database
        return settings.db_url(args.db)
    if args.command == "demo" or args.demo:
        size = getattr(args, "size", None) if args.command == "demo" else None
        return settings.demo_db_url(size or args.demo_size or "small")
    from extgw_tui.services import schools

    if getattr(args, "school", None) and args.db:
        raise ExtgwError("Give --school or --db, not both: each school has its own database.")
    if args.db:
        return settings.db_url(args.db)
    school = schools.chosen(getattr(args, "school", None))
    known = ", ".join(s.key for s in schools.configured())
    if school is None and not known:
        return settings.db_url()
    if school is None and args.command is not None:
        raise ExtgwError(
            f"Several schools are configured ({known}); name one with --school NAME "
            "or EXTGW_SCHOOL."
        )
    schools.set_current(school)
    return school.database if school else None


class Stopped(KeyboardInterrupt):
    """SIGTERM, or SIGHUP when the terminal closed: unwound like Ctrl+C, so every cleanup runs
    (an export deletes its temporary files); the exit code is the usual 128 + the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.exit_code = exit_for_signal(signum)


#: The terminal app while it runs: a signal then asks it to close instead of unwinding.
_app: ExtgwApp | None = None


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _stop(signum: int, _frame: object) -> None:
    """The handler of _STOP_SIGNALS: unwind a command, or close the terminal app."""
    signal.signal(signum, signal.SIG_DFL)  # a second one ends the process at once
    if signum == signal.SIGHUP:
        release_hung_up_terminal()  # else the closing app can block on the dead terminal
    app = _app
    try:
        loop = asyncio.get_running_loop() if app is not None else None
    except RuntimeError:  # the app is not running yet, or any more
        loop = None
    if app is None or loop is None:
        raise Stopped(signum)
    # Closing, the app unmounts its screens; a running export sees its dialog go and deletes
    # its temporary files before the process ends (the interpreter waits for the worker).
    loop.call_soon_threadsafe(app.exit, None, exit_for_signal(signum))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    log_path = setup_logging()
    previous = {signum: signal.signal(signum, _stop) for signum in _STOP_SIGNALS}
    try:
        return _run(args)
    except KeyboardInterrupt as exc:
        with contextlib.suppress(OSError):  # SIGHUP: the terminal may be gone
            print("extgw-tui: interrupted.", file=sys.stderr)
        return getattr(exc, "exit_code", EXIT_INTERRUPTED)
    except DatabaseProblem as exc:
        print(f"extgw-tui: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    except peewee.DatabaseError as exc:  # e.g. locked past the busy timeout: one sentence
        from extgw_tui.db import describe

        log.warning("Database error: %s", describe(exc))
        print(f"extgw-tui: {describe(exc)}", file=sys.stderr)
        return EXIT_DATABASE
    except ExtgwError as exc:
        print(f"extgw-tui: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # a bug: the traceback goes to the log, one line to the screen
        log.exception("Unexpected error")
        print(
            f"extgw-tui: unexpected error ({type(exc).__name__}: {exc}); "
            f"details in {log_path or 'the log'}.",
            file=sys.stderr,
        )
        return EXIT_BUG
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run(args: argparse.Namespace) -> int:
    from extgw_tui.db import close_pool, open_database
    from extgw_tui.services import audit

    for sentence in settings.config_warnings():
        print(f"extgw-tui: warning: {sentence}", file=sys.stderr)
    if args.command == "config":  # opens no database: it checks the settings, even broken ones
        from extgw_tui.commands import config

        return config.run(args)
    audit.set_admin(settings.admin_name(args.admin))
    url = args.db_url_in_force = resolve_db_url(args)
    if args.command == "demo" or args.demo:
        from extgw_tui.commands.demo import ensure_demo

        size = (getattr(args, "size", None) if args.command == "demo" else None) or args.demo_size
        ensure_demo(url, size or "small", force=getattr(args, "force", False))
    if url is not None:  # None: the app's school picker opens the chosen school's
        open_database(url, pooled=args.command is None)  # the app: worker threads share them
    if args.command is None:
        from extgw_tui.app import ExtgwApp

        global _app
        app = _app = ExtgwApp(db_url=url, theme_name=args.theme)
        try:
            app.run(mouse=not args.no_mouse)
        finally:
            _app = None
            close_pool()
        return app.return_code or EXIT_OK
    module = importlib.import_module(f"extgw_tui.commands.{args.command}")
    return module.run(args)
