"""Review user accounts by one of two rules, then delete them safely: no pupils and no login
for at least N months, or (t switches) every pupil left the roll at least N months ago.

The list is a PagedTable over services/review.py, so any number of candidates pages from the
database. The threshold box re-queries as it changes (marks are cleared, since they were chosen
under the old rule). Deleting asks first, naming the number of accounts, and runs in a worker;
the service re-checks every account inside its transaction and the screen reports what was
kept and why. Escape during a deletion stops it with nothing deleted. x exports the whole list
to Excel, which is worth doing before deleting. Each rule keeps its own threshold; switching
rule clears the marks (they were chosen under the other rule) and shows that rule's columns.
"""

from __future__ import annotations

import threading
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from extgw_tui.errors import InvalidInput
from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.services import purge, review
from extgw_tui.services.review import ReviewDeleteResult, ReviewRow
from extgw_tui.text import noun, plural
from extgw_tui.widgets.dbwork import db_work
from extgw_tui.widgets.debounced_input import DebouncedInput
from extgw_tui.widgets.list_screen import EnterOpens, ListStatus
from extgw_tui.widgets.paged_table import PagedColumn, PagedTable
from extgw_tui.widgets.status_line import StatusLine
from extgw_tui.widgets.to_ui import post_to_ui

#: Seconds of quiet typing before the threshold re-queries the database.
TYPING_PAUSE = 0.3
#: Kept accounts named one by one in the report after a deletion; the rest are counted.
KEPT_SHOWN = 5

#: At 80 columns Created and Title go first: Access matters more (a denied account is a
#: candidate too), and months inactive already says how old the last activity is.
COLUMNS = [
    PagedColumn("id", "ID", 6, sort="id"),
    PagedColumn("title", "Title", 5, sort="title", hide_below=100),
    PagedColumn("surname", "Surname", 12, sort="surname"),
    PagedColumn("email", "Email", 16, sort="email", flex=True),
    PagedColumn("created", "Created", 10, sort="created", hide_below=90),
    PagedColumn("last_login", "Last login", 10, sort="last_login"),
    PagedColumn("months", "Months", 8, sort="months"),  # 8: room for the sort arrow
    PagedColumn("access", "Access", 7, sort="access"),
]
#: The "left" rule: when the last pupil left instead of the creation day; at 80 columns the
#: last login goes first (months since the last pupil left is what the rule is about).
LEFT_COLUMNS = [
    *(c for c in COLUMNS if c.key not in ("created", "last_login", "months", "access")),
    PagedColumn("last_login", "Last login", 10, sort="last_login", hide_below=90),
    PagedColumn("left", "Pupils left", 11, sort="left"),
    PagedColumn("months", "Months", 8, sort="months"),
    PagedColumn("access", "Access", 7, sort="access"),
]


def _cells(row: ReviewRow) -> tuple[str | Text, ...]:
    """One row's cells; PagedTable shows str as typed (never as markup)."""
    return (
        str(row.id),
        row.title,
        row.surname,
        row.email,
        row.created_at.strftime("%Y-%m-%d"),
        row.last_login_at.strftime("%Y-%m-%d") if row.last_login_at else "Never",
        Text(str(row.months_inactive), justify="right"),
        "allowed" if row.access_allowed else "denied",
    )


def _left_cells(row: ReviewRow) -> tuple[str | Text, ...]:
    """The "left" rule's cells, in LEFT_COLUMNS' order."""
    return (
        str(row.id),
        row.title,
        row.surname,
        row.email,
        row.last_login_at.strftime("%Y-%m-%d") if row.last_login_at else "Never",
        row.last_left_on.isoformat() if row.last_left_on else "",
        Text(str(row.months(review.LEFT)), justify="right"),
        "allowed" if row.access_allowed else "denied",
    )


class ReviewTable(PagedTable):
    """The candidates: the list's marking keys, named in the footer, since marking comes
    before deleting."""

    BINDINGS = [
        Binding("space", "toggle_mark", "Mark", tooltip="Mark/unmark row", id="list.mark"),
        Binding(
            "a",
            "mark_all",
            "Mark all",
            tooltip="Mark every account on the list",
            id="list.mark_all",
        ),
    ]


class ReviewScreen(ListStatus, EnterOpens, Screen[None]):
    """Candidates for deletion, with the threshold, marks, delete and export; escape goes back."""

    CSS_PATH = stylesheet("review.tcss")
    TITLE = "Review user accounts"
    BINDINGS = [
        Binding(
            "slash",
            "focus_months",
            "Threshold",
            tooltip="Change the months threshold",
            id="review.threshold",
        ),
        Binding(
            "d,delete",
            "delete",
            "Delete",
            tooltip="Delete the marked accounts, or the cursor's",
            id="review.delete",
        ),
        Binding(
            "x", "export", "Export", tooltip="Export the whole list to Excel", id="review.export"
        ),
        Binding(
            "t",
            "switch_rule",
            "Rule",
            id="review.rule",
            tooltip="Switch rule: inactive accounts / accounts whose pupils have all left",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            tooltip="Back to the users (or stop a deletion)",
            show=False,
            id="review.back",
        ),
        Binding(
            "e",
            "open",
            "Open",
            tooltip="Open the account under the cursor",
            show=False,
            id="review.open",
        ),
        Binding(
            "ctrl+r,f5",
            "refresh",
            "Refresh",
            tooltip="Refresh from the database",
            show=False,
            id="app.refresh",
        ),
    ]

    def __init__(self, months: int | None = None, rule: str = review.INACTIVE) -> None:
        super().__init__()
        self.rule = review.check_rule(rule)
        self.months = review.check_months(months or review.default_months(rule))
        #: Each rule's threshold, kept while the other rule is shown.
        self.rule_months = {r: review.default_months(r) for r in review.RULES}
        self.rule_months[self.rule] = self.months
        #: Set while a deletion runs; setting the event stops it (the transaction rolls back).
        self._stop_delete: threading.Event | None = None

    def compose(self) -> ComposeResult:
        yield Static("Review user accounts", id="review-title")
        yield Static(review.WHY, id="review-why")
        with Horizontal(id="review-threshold"):
            yield Label(review.RULE_TEXT[self.rule], id="review-months-label")
            yield DebouncedInput(
                str(self.months),
                delay=TYPING_PAUSE,
                restrict=r"[0-9]*",
                max_length=3,
                id="review-months",
                tooltip=f"Months, {review.MIN_MONTHS} to {review.MAX_MONTHS}",
            )
            yield Label(self._unit(), id="review-months-unit")
            yield Static("counting…", id="review-count", markup=False)
        yield self._table()
        yield StatusLine("Loading…", id="review-status")
        yield Footer()

    def _table(self) -> ReviewTable:
        left = self.rule == review.LEFT
        return ReviewTable(
            LEFT_COLUMNS if left else COLUMNS,
            _left_cells if left else _cells,
            lambda row: row.id,
            sort="months",
            descending=True,
            id="review-table",
        )

    def on_mount(self) -> None:
        self._query()
        self.query_one(PagedTable).focus()

    async def action_switch_rule(self) -> None:
        """The other rule, with its own threshold and columns; marks are cleared."""
        if self._stop_delete is not None:
            self.notify("A deletion is running; switch the rule once it is done.")
            return
        old = self.query_one(PagedTable)
        had_marks = bool(old.marks)
        self.rule_months[self.rule] = self.months
        self.rule = review.RULES[(review.RULES.index(self.rule) + 1) % len(review.RULES)]
        self.months = self.rule_months[self.rule]
        self.query_one("#review-months-label", Label).update(review.RULE_TEXT[self.rule])
        months_box = self.query_one("#review-months", Input)
        with months_box.prevent(Input.Changed):
            months_box.value = str(self.months)
        self.query_one("#review-months-unit", Label).update(self._unit())
        await old.remove()
        table = self._table()
        await self.mount(table, before="#review-status")
        table.focus()
        self._query()
        note = " Marks cleared." if had_marks else ""
        self.notify(f"Showing {review.RULE_NAMES[self.rule]}.{note}")

    def on_screen_resume(self) -> None:
        """Back from a dialog: another admin or the edit modal may have changed things."""
        table = self.query_one(PagedTable)
        if table.total:
            table.reload()

    # ----- the query ---------------------------------------------------------------------

    def _query(self) -> None:
        months, rule = self.months, self.rule
        self.query_one("#review-count", Static).update("counting…")
        self.query_one(PagedTable).set_source(
            lambda offset, limit, sort, descending: review.candidates(
                months, sort=sort, descending=descending, offset=offset, limit=limit, rule=rule
            ),
            lambda: review.count_candidates(months, rule=rule),
            lambda: review.candidate_ids(months, rule=rule),
        )

    def _apply_months(self) -> None:
        text = self.query_one("#review-months", Input).value.strip()
        try:
            months = review.check_months(int(text) if text else 0)
        except InvalidInput as exc:
            self.query_one("#review-count", Static).update(str(exc))
            return
        if months == self.months:
            self._show_count()
            return
        self.months = months
        self.query_one("#review-months-unit", Label).update(self._unit())
        table = self.query_one(PagedTable)
        if table.marks:
            table.set_marks(set())
            self.notify("Marks cleared: the threshold changed.")
        self._query()

    def _unit(self) -> str:
        return f"{noun(self.months, 'month')}:"

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()

    def on_debounced_input_settled(self, event: DebouncedInput.Settled) -> None:
        event.stop()
        self._apply_months()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply_months()
        self.query_one(PagedTable).focus()

    def _table_loaded(self) -> None:
        self._show_count()
        self._show_status()

    def _show_count(self) -> None:
        table = self.query_one(PagedTable)
        self.query_one("#review-count", Static).update(plural(table.total, "account"))

    def _show_status(self) -> None:
        table = self.query_one(PagedTable)
        cutoff = review.cutoff_day(self.months).isoformat()
        what = "last pupil left" if self.rule == review.LEFT else "last active"
        self.query_one("#review-status", StatusLine).show(
            f"{table.status_text()} · {table.marks_text()} · {what} on or before {cutoff}"
        )

    # ----- actions ------------------------------------------------------------------------

    def action_back(self) -> None:
        """Escape stops a running deletion, else leaves the threshold box, else the screen."""
        if self._stop_delete is not None:
            self._stop_delete.set()
            self.query_one("#review-status", StatusLine).show("Stopping the deletion…")
            return
        if isinstance(self.focused, Input):
            self.query_one(PagedTable).focus()
            return
        self.dismiss()

    def action_focus_months(self) -> None:
        self.set_focus(self.query_one("#review-months", Input))  # at once: keys typed next go in

    def action_refresh(self) -> None:
        self.query_one(PagedTable).reload()

    def _chosen_ids(self) -> list[int]:
        """The marked accounts, or else the one under the cursor."""
        table = self.query_one(PagedTable)
        if table.marks:
            return sorted(table.marks)
        row = table.current_row
        return [row.id] if row is not None else []

    def action_delete(self) -> None:
        if self._stop_delete is not None:
            self.notify("A deletion is already running.")
            return
        ids = self._chosen_ids()
        if not ids:
            self.notify("There is no account to delete.", severity="warning")
            return
        months, rule = self.months, self.rule
        if rule == review.LEFT:
            which = f"whose pupils all left the roll at least {review.months_text(months)} ago"
        else:
            which = f"with no pupils and no login for at least {review.months_text(months)}"
        accounts = plural(len(ids), "account")
        days = purge.retention_days()  # config.toml, read again: an edit since start counts
        question = (
            f"Delete {accounts} {which}? They can no longer log in and disappear from every "
            f"list. For {days} days the activity log (L, then u) can restore them with their "
            "login history; then they are purged for good, and their login history stays in "
            "the statistics without their names."
        )
        self.app.push_screen(
            ConfirmModal(question, title=f"Delete {accounts}", yes_label="Delete"),
            lambda yes: self._delete(ids, months, rule) if yes else None,
        )

    def _delete(self, ids: list[int], months: int, rule: str = review.INACTIVE) -> None:
        stop = self._stop_delete = threading.Event()
        total = len(ids)
        self._delete_progress(0, total)
        db_work(
            self,
            review.delete_accounts,
            ids,
            months,
            progress=lambda done: post_to_ui(self, self._delete_progress, done, total),
            should_cancel=stop.is_set,
            rule=rule,
            on_success=self._deleted,
            on_error=self._delete_failed,
            group="review-delete",
        )

    def _delete_progress(self, done: int, total: int) -> None:
        if self._stop_delete is not None and not self._stop_delete.is_set():
            self.query_one("#review-status", StatusLine).show(
                f"Deleting: checked {done:,} of {plural(total, 'account')} · escape stops, "
                "deleting none"
            )

    def _deleted(self, result: ReviewDeleteResult) -> None:
        self._stop_delete = None
        table = self.query_one(PagedTable)
        table.set_marks(set())
        table.reload()
        if not result.kept:
            self.notify(result.summary(), timeout=8)
            return
        lines = [f"ID {user_id}: {reason}" for user_id, reason in result.kept[:KEPT_SHOWN]]
        if len(result.kept) > KEPT_SHOWN:
            lines.append(f"and {len(result.kept) - KEPT_SHOWN:,} more")
        self.notify(
            result.summary() + "\n" + "\n".join(lines),
            severity="warning",
            timeout=15,
            markup=False,
        )

    def _delete_failed(self, message: str) -> None:
        self._stop_delete = None
        self._show_status()
        self.notify(message, severity="warning", timeout=10, markup=False)

    def action_export(self) -> None:
        table = self.query_one(PagedTable)
        if not table.total:
            self.notify("There is nothing to export: no account matches.")
            return
        from extgw_tui.screens.review_export import ReviewExportModal

        self.app.push_screen(ReviewExportModal(self.months, table.total, self.rule), self._exported)

    def _exported(self, path: Path | None) -> None:
        if path is not None:
            self.notify(f"Exported the review list to {path}.", timeout=10, markup=False)

    def action_open(self) -> None:
        """The user's details and login statistics, in the same modal as the main screen."""
        row = self.query_one(PagedTable).current_row
        if row is None:
            return
        from extgw_tui.screens.edit_user import EditUserModal

        self.app.push_screen(EditUserModal(row.id), self._edited)

    def _edited(self, changed: bool | None) -> None:
        if changed:
            self.query_one(PagedTable).reload()
