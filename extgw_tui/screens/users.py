"""The main screen: search external users, mark them, allow or deny, and open every other task.

Only a window of the result is ever loaded (PagedTable); counts and totals come from SQL. The
other screens are imported inside the actions that open them, so start-up stays fast and
each can land on its own.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Select, Static

from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.services import access, filters, users
from extgw_tui.services.users import UserRow
from extgw_tui.text import plural
from extgw_tui.widgets.dbwork import db_work
from extgw_tui.widgets.debounced_input import DebouncedInput
from extgw_tui.widgets.match_highlight import Highlighter
from extgw_tui.widgets.paged_table import PagedColumn, PagedTable
from extgw_tui.widgets.status_line import StatusLine

#: Seconds of quiet typing before the search runs.
DEBOUNCE = 0.15
ACTIONS = "Edit · Remove"

COLUMNS = [
    PagedColumn("id", "ID", 6, sort="id", hide_below=56),
    PagedColumn("title", "Title", 5, sort="title", hide_below=70),
    PagedColumn("forename", "Forename", 10, sort="forename", hide_below=100),
    PagedColumn("surname", "Surname", 14, sort="surname"),
    PagedColumn("email", "Email", 22, sort="email", flex=True),
    PagedColumn("created", "Account Created", 16, sort="created", hide_below=100),
    PagedColumn("adr", "ADR", 3, sort="adr", hide_below=76),
    PagedColumn("access", "Access", 9, sort="access"),
    PagedColumn("actions", "Actions", len(ACTIONS), hide_below=118),
]

NO_HIGHLIGHT = Highlighter()
ALLOWED = Text("✓ Allowed", style="green")
DENIED = Text("✗ DENIED", style="bold red")
#: Before a bouncing address (mail.bouncing()): a word, so it reads without colour.
BOUNCING = "bounces! "


def email_cell(row: UserRow, marks: Highlighter) -> Text:
    """The address (its match highlighted), marked when deliveries to it fail for good."""
    cell = marks.email_cell(row.email)
    if row.bounced_at is None:
        return cell
    return Text.assemble((BOUNCING, "bold red"), cell)


def render_user(row: UserRow, marks: Highlighter = NO_HIGHLIGHT) -> tuple:
    return (
        marks.id_cell(row.id),
        row.title,
        marks.name(row.forename),
        marks.name(row.surname),
        email_cell(row, marks),
        f"{row.created_at:%Y-%m-%d %H:%M}",
        "✓" if row.adr else "",
        ALLOWED if row.access_allowed else DENIED,
        ACTIONS,
    )


def user_id(row: UserRow) -> int:
    return row.id


class UsersScreen(Screen[None]):
    """Every external user, searchable by name, email, ID and filters, with bulk allow/deny."""

    CSS_PATH = stylesheet("users.tcss")
    TITLE = "External users"
    HELP_NOTES = filters.HELP
    BINDINGS = [
        Binding(
            "slash",
            "focus_search",
            "Search",
            tooltip="Search by surname, forename, email, #ID or a filter such as access:denied",
            id="main.search",
        ),
        Binding(
            "escape", "leave_search", "Leave the search box", show=False, id="main.leave_search"
        ),
        Binding(
            "e",
            "edit",
            "Edit",
            tooltip="Edit user: pupils, licences, login statistics",
            id="main.edit",
        ),
        Binding("m", "email", "Email", tooltip="Email the user under the cursor", id="main.email"),
        Binding(
            "r",
            "remove",
            "Remove a pupil",
            show=False,
            tooltip="Remove a pupil from the user under the cursor",
            id="main.remove_pupil",
        ),
        Binding(
            "D",
            "set_access(False)",
            "Deny",
            tooltip="Deny access to the marked users",
            id="main.deny",
        ),
        Binding(
            "A",
            "set_access(True)",
            "Allow",
            tooltip="Allow access for the marked users",
            id="main.allow",
        ),
        Binding("x", "export", "Export", tooltip="Export to Excel", id="main.export"),
        Binding("s", "stats", "Login statistics", show=False, id="main.stats"),
        Binding("v", "review", "Review user accounts", show=False, id="main.review"),
        Binding("L", "activity", "Activity log", show=False, id="main.activity"),
        Binding(
            "M",
            "outbox",
            "Outbox",
            show=False,
            id="main.outbox",
            tooltip="Outbox: queued, sent, failed and discarded mail",
        ),
        Binding(
            "P",
            "pupils",
            "Pupils",
            id="main.pupils",
            show=False,
            tooltip="Pupils: the roll, holders, contacts, coverage",
        ),
        Binding(
            "K",
            "licence_keys",
            "Licence keys",
            show=False,
            id="main.licence_keys",
            tooltip="Licence keys: generate, email, revoke, follow up",
        ),
        Binding("I", "import_roll", "Import the roll", show=False, id="main.import_roll"),
        Binding(
            "w",
            "saved_views",
            "Saved views",
            show=False,
            id="main.saved_views",
            tooltip="Saved views: name the current search, or search a saved one again",
        ),
        Binding(
            "S",
            "settings",
            "Settings",
            show=False,
            id="main.settings",
            tooltip="Settings: school name, bounce and registration addresses, portal login",
        ),
        Binding(
            "ctrl+r,f5",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Refresh from the database",
            id="app.refresh",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.term = ""
        self.highlight = NO_HIGHLIGHT
        self.totals: users.Totals | None = None
        self._started = False
        self._totals_asked = False
        self._asking = False  # a confirmation is up: coming back from it is not a new visit

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="search-bar"):
            yield Static("Search", id="search-label")
            yield DebouncedInput(
                placeholder="name, email, #ID or filter e.g. access:denied  (? lists filters)",
                id="search",
                compact=True,
                delay=DEBOUNCE,
            )
        yield Static("", id="search-problem")
        yield PagedTable(COLUMNS, self._user_cells, user_id, sort="surname", id="users-table")
        with Horizontal(id="base-bar"):
            yield StatusLine("0 marked", id="marked")
            yield Select(
                [("Allow", "allow"), ("Deny", "deny")],
                prompt="Allow/Deny…",
                id="bulk-action",
                compact=True,
            )
            yield Button("Apply", id="apply", compact=True)
        yield StatusLine("", id="status")
        yield Footer()

    @property
    def table(self) -> PagedTable:
        return self.query_one("#users-table", PagedTable)

    def on_mount(self) -> None:
        self.table.focus()
        self._query()  # the totals follow the first rows, so as not to hold them up

    def on_screen_resume(self) -> None:
        """Back from a dialog or screen: another admin may have changed data meanwhile.

        The first resume is the screen being shown for the first time: on_mount's query is
        already on its way, and a second one would hold up the first rows."""
        if not self._started:
            self._started = True
        elif not self._asking:
            self.action_refresh()

    # ----- search, totals and the status line ---------------------------------------------

    def _user_cells(self, row: UserRow) -> tuple:
        return render_user(row, self.highlight)

    def _query(self) -> None:
        term = self.term
        self.highlight = Highlighter.for_search(term)
        self.table.set_source(
            lambda offset, limit, sort, descending: users.search_users(
                term, sort=sort, descending=descending, offset=offset, limit=limit
            ),
            lambda: users.count_users(term),
            lambda: users.user_ids_matching(term),
            lambda ids: users.count_among(term, ids),
            reversible=True,  # users.SORTS: each ends in a unique key, NULLs mirrored
        )

    def on_debounced_input_settled(self, event: DebouncedInput.Settled) -> None:
        if event.input.id == "search":
            self._search_now()

    def _search_now(self) -> None:
        """Check what was typed (a filter may name a licence type: the database knows them),
        then search, or say under the box what is wrong with it."""
        value = self.query_one("#search", Input).value
        if value == self.term:
            return

        def checked(problem: str | None) -> None:
            if self.query_one("#search", Input).value != value:
                return  # typed on meanwhile: the newer text is checked next
            self._show_problem(problem)
            if problem is None:
                self.term = value
                self._query()

        db_work(self, filters.check, value, on_success=checked, group="users-check", exclusive=True)

    def _show_problem(self, problem: str | None) -> None:
        line, text = self.query_one("#search-problem", Static), problem or ""
        if line.content != text:  # unchanged: no layout pass
            line.update(text)
        line.display = problem is not None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            self._search_now()
            self.set_focus(self.table)

    def _load_totals(self) -> None:
        self._totals_asked = True
        db_work(
            self, users.totals, on_success=self._got_totals, group="users-totals", exclusive=True
        )

    def _got_totals(self, totals: users.Totals) -> None:
        self.totals = totals
        self._show_status()

    def on_paged_table_loaded(self, event: PagedTable.Loaded) -> None:
        if self.totals is None and not self._totals_asked:
            self._load_totals()
        self._show_status()
        self._show_marks()

    def on_paged_table_moved(self, event: PagedTable.Moved) -> None:
        self._show_status()

    def on_paged_table_marks_changed(self, event: PagedTable.MarksChanged) -> None:
        self._show_marks()

    def _show_status(self) -> None:
        """The line reads "1,000,000 users · 14,187 denied · rows 1-18 of 309,552 matches":
        the matches are named once, in the rows' part, so it fits 80 columns at a million."""
        table = self.table
        parts = []
        if self.totals is not None:
            parts += [f"{self.totals.users:,} users", f"{self.totals.denied:,} denied"]
        searching = bool(self.term.strip())
        if searching and table.counting:
            parts.extend((table.status_text(), "counting matches…"))
        elif searching and not table.total:
            parts.append("no matches")
        elif searching:
            parts.append(f"{table.status_text()} {'match' if table.total == 1 else 'matches'}")
        else:
            parts.append(table.status_text())
        self.query_one("#status", StatusLine).show(" · ".join(parts))

    def _show_marks(self) -> None:
        self.query_one("#marked", StatusLine).show(self.table.marks_text())

    def action_focus_search(self) -> None:
        # at once, not on the next turn as widget.focus() does: "/smith" typed quickly must
        # put "smith" in the box, not open the statistics (s) and an email (m)
        self.set_focus(self.query_one("#search", Input))

    def action_leave_search(self) -> None:
        if self.focused is not None and self.focused.id == "search":
            self.set_focus(self.table)

    def action_refresh(self) -> None:
        self.table.reload()
        self._load_totals()

    # ----- the user under the cursor -----------------------------------------------------

    def _with_current(self, open_it, row: UserRow | None = None) -> None:
        """Check the user still exists (another admin may have deleted it), then open_it(id).

        Pressed while the cursor's rows are loading, it waits for them.
        """
        if row is None:
            if self.table.current_row is None and not self.table.fetching:
                self.notify("There is no user under the cursor.", severity="warning")
                return
            self.table.with_current_row(lambda current: self._with_current(open_it, current))
            return

        def gone(message: str) -> None:
            self.notify(message, severity="warning", timeout=8)
            self.action_refresh()

        db_work(
            self,
            users.user_row,
            row.id,
            on_success=lambda fresh: open_it(fresh.id),
            on_error=gone,
            group="users-open",
            exclusive=True,
        )

    def _refresh_if(self, changed: bool | None) -> None:
        if changed:
            self.action_refresh()

    def action_edit(self, row: UserRow | None = None) -> None:
        def open_edit(uid: int) -> None:
            from extgw_tui.screens.edit_user import EditUserModal

            self.app.push_screen(EditUserModal(uid), self._refresh_if)

        self._with_current(open_edit, row)

    def action_email(self, row: UserRow | None = None) -> None:
        def open_email(uid: int) -> None:
            from extgw_tui.screens.email_user import EmailUserModal

            self.app.push_screen(EmailUserModal(uid))

        self._with_current(open_email, row)

    def action_remove(self, row: UserRow | None = None) -> None:
        def open_remove(uid: int) -> None:
            from extgw_tui.screens.remove_pupil import RemovePupilModal

            self.app.push_screen(RemovePupilModal(uid), self._refresh_if)

        self._with_current(open_remove, row)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def on_paged_table_cell_clicked(self, event: PagedTable.CellClicked) -> None:
        row: UserRow = event.row
        if event.column_key == "email":
            self.action_email(row)
        elif event.column_key == "actions":
            from extgw_tui.screens.row_actions import RowActionsModal

            def chosen(choice: str | None) -> None:
                if choice == "edit":
                    self.action_edit(row)
                elif choice == "remove":
                    self.action_remove(row)
                elif choice == "email":
                    self.action_email(row)

            self.app.push_screen(RowActionsModal(f"{row.surname} <{row.email}>"), chosen)

    # ----- allow / deny the marked users ---------------------------------------------------

    def action_set_access(self, allowed: bool) -> None:
        self.table.when_loaded(lambda: self._ask_access(allowed))  # marks pressed mid-load count

    def _ask_access(self, allowed: bool) -> None:
        ids = sorted(self.table.marks)
        if not ids:
            self.notify(
                "Mark users first: space marks one, a marks every match.", severity="warning"
            )
            return
        self._asking = True  # until the confirmation is answered
        db_work(
            self,
            access.preview,
            ids,
            allowed,
            on_success=lambda preview: self._confirm_access(preview, ids),
            on_error=self._access_failed,
            group="users-access",
        )

    def _confirm_access(self, preview: access.AccessPreview, ids: list[int]) -> None:
        """Ask, saying how many accounts will actually change (counted in SQL)."""
        allowed = preview.allowed
        n = len(ids)
        accounts = plural(n, "account")
        question = preview.question()
        if not allowed:
            question += " The portal will then behave as if the account did not exist."
        hidden = self.table.marks_hidden
        if hidden:
            verb = "is" if hidden == 1 else "are"
            question += f" {hidden:,} of them {verb} not in the current search."
        question += " The marks are cleared afterwards; the activity log (L) can undo it."

        def answered(yes: bool | None) -> None:
            self._asking = False
            if not yes:
                return
            self.table.loading = True  # the change may take a second at 10,000 accounts
            self.notify(f"{'Allowing' if allowed else 'Denying'} {accounts}…", timeout=3)
            db_work(
                self,
                access.set_access,
                ids,
                allowed,
                on_success=self._access_done,
                on_error=self._access_failed,
                group="users-access",
            )

        label = "Allow" if allowed else "Deny"
        self._asking = True
        self.table.focus()  # what the screen gives the focus back to afterwards, not Apply
        self.app.push_screen(
            ConfirmModal(question, title=f"{label} access", yes_label=label), answered
        )

    def _access_done(self, result: access.AccessResult) -> None:
        self.table.loading = False
        self.table.set_marks(set())  # done: a second A or D must not repeat it by accident
        severity = "warning" if result.missing else "information"
        self.notify(result.summary() + " Marks cleared.", severity=severity)
        self.action_refresh()

    def _access_failed(self, message: str) -> None:
        self._asking = False
        self.table.loading = False
        self.notify(message, severity="error", timeout=10)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "apply":
            return
        event.stop()
        choice = self.query_one("#bulk-action", Select).value
        if choice not in ("allow", "deny"):
            self.notify("Choose Allow or Deny first.", severity="warning")
            return
        self.action_set_access(choice == "allow")

    # ----- other screens ------------------------------------------------------------------

    def action_saved_views(self) -> None:
        from extgw_tui.screens.saved_views import SavedViewsModal

        def chosen(search: str | None) -> None:
            if search is not None:
                self.query_one("#search", Input).value = search
                self._search_now()

        self.app.push_screen(SavedViewsModal(self.term), chosen)

    def action_export(self) -> None:
        from extgw_tui.screens.export import ExportModal

        self.app.push_screen(ExportModal(search=self.term.strip() or None))

    def action_stats(self) -> None:
        from extgw_tui.screens.stats import StatsScreen

        self.app.push_screen(StatsScreen())

    def action_review(self) -> None:
        from extgw_tui.screens.review import ReviewScreen

        self.app.push_screen(ReviewScreen())

    def action_import_roll(self) -> None:
        from extgw_tui.screens.import_roll import ImportRollScreen

        self.app.push_screen(ImportRollScreen())

    def action_outbox(self) -> None:
        from extgw_tui.screens.outbox import OutboxScreen

        self.app.push_screen(OutboxScreen())

    def action_settings(self) -> None:
        from extgw_tui.screens.settings import SettingsModal

        self.app.push_screen(SettingsModal())

    def action_activity(self) -> None:
        from extgw_tui.screens.activity import ActivityLogScreen

        self.app.push_screen(ActivityLogScreen())

    def action_pupils(self) -> None:
        from extgw_tui.screens.pupils import PupilsScreen

        self.app.push_screen(PupilsScreen())

    def action_licence_keys(self) -> None:
        from extgw_tui.screens.licence_keys import LicenceKeysScreen

        self.app.push_screen(LicenceKeysScreen())
