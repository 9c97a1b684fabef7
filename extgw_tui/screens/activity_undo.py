"""Undo batch, as the activity log and an opened batch both offer it: preview, ask, undo.

The preview (services/undo.py, counted in SQL) and the undo run in workers; the question says
how many accounts will change and how many stay because they were changed since. A batch that
cannot be undone gets its reason in one sentence, and nothing is asked.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen

from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.services import undo
from extgw_tui.services.activity import ActivityRow
from extgw_tui.services.undo import UndoPlan, UndoResult
from extgw_tui.widgets.dbwork import db_work


def ask_undo(screen: Screen, row: ActivityRow | None, on_done: Callable[[], None]) -> None:
    """Offer to undo the batch of the entry `row`; on_done() runs after an undo."""
    if row is None:
        screen.notify("There is no entry under the cursor.", severity="warning")
        return
    if not row.batch:
        screen.notify(f"This entry ({row.action}) is not a change that can be undone.")
        return

    def failed(message: str) -> None:
        screen.notify(message, severity="warning", timeout=10, markup=False)

    def undone(result: UndoResult) -> None:
        screen.notify(result.summary(), timeout=10, markup=False)
        on_done()

    def answered(yes: bool | None) -> None:
        if yes:
            db_work(screen, undo.undo, row.batch, on_success=undone, on_error=failed, group="undo")

    def previewed(plan: UndoPlan) -> None:
        if plan.refusal:
            failed(plan.refusal)
            return
        screen.app.push_screen(
            ConfirmModal(plan.question(), title="Undo batch", yes_label="Undo"), answered
        )

    db_work(
        screen,
        undo.preview,
        row.batch,
        on_success=previewed,
        on_error=failed,
        group="undo-preview",
        exclusive=True,
    )
