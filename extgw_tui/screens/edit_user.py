"""One user in full: details, their pupils and licence types, removing a pupil, login statistics.

Dismisses with True when a pupil was removed, so the main table refreshes. The details and the
statistics load in separate workers: the account shows at once even while millions of login
events are counted. The chart is a plotext bar chart where the terminal is tall enough and a
one-line sparkline where it is not (80x24).
"""

from __future__ import annotations

from datetime import datetime

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Sparkline, Static
from textual_plotext import PlotextPlot

from extgw_tui.resources import stylesheet
from extgw_tui.screens.dialog import Dialog
from extgw_tui.screens.pupil_removal import confirm_removal, holder_label, load_account
from extgw_tui.services import licence_keys, statistics, users
from extgw_tui.services.licences import LinkedPupil
from extgw_tui.services.login_chart import y_ticks
from extgw_tui.text import plural
from extgw_tui.widgets.dbwork import db_work
from extgw_tui.widgets.pupil_table import PupilTable

#: Terminal rows from which the full bar chart replaces the sparkline.
PLOT_MIN_HEIGHT = 40

#: The help page: since version 4 (May 2023) ADR is true by default for new users and cannot
#: be edited; a parent who needs it changed goes through the supplier. One line at 80 columns.
ADR_NOTE = "ADR cannot be edited: new users get yes since May 2023; ask the supplier."


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "Never"


def month_name(label: str) -> str:
    """ "2026-01" -> "Jan" for the chart's axis."""
    return datetime.strptime(label, "%Y-%m").strftime("%b")


def month_start(label: str) -> str:
    """ "2026-01" -> "1 Jan 2026": where the statistics' twelve calendar months begin."""
    return f"1 {datetime.strptime(label, '%Y-%m'):%b %Y}"


class EditUserModal(Dialog[bool]):
    """The Edit modal of the main table."""

    TITLE = "Edit user"

    CSS_PATH = stylesheet("edit_user.tcss")
    BINDINGS = [
        Binding("escape", "close", "Close", tooltip="Close the Edit dialog", id="edit.close"),
        Binding(
            "r",
            "remove",
            "Remove pupil",
            tooltip="Remove the highlighted pupil (asks first)",
            id="edit.remove_pupil",
        ),
        Binding(
            "ctrl+r,f5",
            "refresh",
            "Refresh",
            tooltip="Reload the account, its pupils and its login statistics",
            id="app.refresh",
        ),
    ]

    def __init__(self, user_id: int) -> None:
        super().__init__()
        self.user_id = user_id
        self._holder: users.UserRow | None = None
        self._pupils: list[LinkedPupil] = []
        self._changed = False

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-dialog", classes="dialog"):
            yield Static(f"User {self.user_id}", id="edit-title", classes="dialog-title")
            with VerticalScroll(id="edit-body"):
                yield Static("Loading…", id="edit-details", markup=False)
                yield Static(ADR_NOTE, id="edit-adr-note")
                yield Static("Pupils", id="edit-pupils-title", classes="section")
                yield PupilTable(id="edit-pupils")
                yield Static("", id="edit-obtained", markup=False)
                yield Static("Login statistics", classes="section")
                yield Static("Loading…", id="edit-stats", markup=False)
                yield Sparkline([], id="edit-spark", summary_function=max)
                yield Static("", id="edit-spark-labels", markup=False)
                yield PlotextPlot(id="edit-plot")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    "Remove pupil (r)", id="remove", variant="error", disabled=True, compact=True
                )
                yield Button("Close (esc)", id="close", compact=True)

    def on_mount(self) -> None:
        self.query_one(PupilTable).focus()
        self._fit_chart()
        self.action_refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_chart()

    def _fit_chart(self) -> None:
        tall = self.app.size.height >= PLOT_MIN_HEIGHT
        self.query_one("#edit-plot").display = tall
        self.query_one("#edit-spark").display = not tall
        self.query_one("#edit-spark-labels").display = not tall

    # -- loading ----------------------------------------------------------------------------

    def action_refresh(self) -> None:
        db_work(self, load_account, self.user_id, on_success=self._show, on_error=self._problem)
        db_work(self, licence_keys.obtained_lines, self.user_id, on_success=self._show_obtained)
        db_work(
            self,
            statistics.user_login_summary,
            self.user_id,
            on_success=self._show_stats,
            on_error=self._stats_problem,
            group="edit-stats",
            exclusive=True,
        )

    def _show(self, account: tuple[users.UserRow, list[LinkedPupil]]) -> None:
        row, self._pupils = account
        self._holder = row
        self.query_one("#edit-title", Static).update(f"User {row.id}: {holder_label(row)}")
        access = "Allowed" if row.access_allowed else "Denied"
        adr = "✓ yes (read-only)" if row.adr else "✗ no (read-only)"
        self.query_one("#edit-details", Static).update(
            f"Title    {row.title or '-':<24} Forename    {row.forename or '-'}\n"
            f"Surname  {row.surname:<24} Access      {access}\n"
            f"Email    {row.email}\n"
            f"Created  {when(row.created_at):<24} Last login  {when(row.last_login_at)}\n"
            f"ADR      {adr}"
        )
        count = len(self._pupils)
        hint = " (r removes the highlighted one)" if count else ""
        title = self.query_one("#edit-pupils-title", Static)
        title.update(f"Pupils: {plural(count, 'pupil')}{hint}")
        self.query_one(PupilTable).show(self._pupils)
        self.query_one("#remove", Button).disabled = not self._pupils

    def _show_obtained(self, lines: list[str]) -> None:
        """How each licence was obtained: which licence key, when (issue 15)."""
        widget = self.query_one("#edit-obtained", Static)
        widget.update("How obtained:\n" + "\n".join(lines) if lines else "")
        widget.display = bool(lines)

    def _problem(self, message: str) -> None:
        self.query_one("#edit-details", Static).update(message)
        self.query_one("#remove", Button).disabled = True

    def _show_stats(self, summary: statistics.UserLoginSummary) -> None:
        counts = [count for _, count in summary.per_month]
        self.query_one("#edit-stats", Static).update(
            f"Logins: {summary.total:,} in total, {summary.last_30_days:,} in the last 30 days, "
            f"{summary.last_12_months:,} since {month_start(summary.per_month[0][0])} "
            "(12 months)\n"
            f"First login: {when(summary.first_at)}   Last login: {when(summary.last_at)}"
        )
        self.query_one(Sparkline).data = counts
        first, last = summary.per_month[0][0], summary.per_month[-1][0]
        self.query_one("#edit-spark-labels", Static).update(
            f"Logins per month, {first} to {last}; busiest month {max(counts, default=0):,}"
        )
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.bar([month_name(label) for label, _ in summary.per_month], counts)
        plt.yticks(*y_ticks(max(counts, default=0)))
        plt.title(f"Logins per month, {first} to {last}")
        plot.refresh()

    def _stats_problem(self, message: str) -> None:
        self.query_one("#edit-stats", Static).update(f"Login statistics unavailable: {message}")

    # -- removing a pupil -------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_remove()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "remove":
            self.action_remove()
        else:
            self.action_close()

    def action_remove(self) -> None:
        pupil = self.query_one(PupilTable).current_pupil
        if self._holder is None or pupil is None:
            return
        confirm_removal(self, self._holder, pupil, self._removed, self._remove_failed)

    def _removed(self) -> None:
        self._changed = True
        self.action_refresh()
        self.query_one(PupilTable).focus()

    def _remove_failed(self, message: str) -> None:
        self.app.notify(message, severity="error", timeout=8)
        self.action_refresh()

    def action_close(self) -> None:
        self.dismiss(self._changed)
