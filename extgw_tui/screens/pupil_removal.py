"""Removing a pupil from an account, as the Edit modal and the Remove-a-pupil chooser both do:
the question and the removal.

Not a screen: the flow both pupil modals share, so neither uses the other as a library. The
question names the pupil, their form and the account holder, so the admin sees exactly whose
access ends; the removal (licences.remove_pupil: one transaction and an audit entry) runs in a
worker.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen

from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.services import licences, users
from extgw_tui.services.licences import LinkedPupil
from extgw_tui.text import noun
from extgw_tui.widgets.dbwork import db_work


def holder_label(row: users.UserRow) -> str:
    """The account holder as the admin knows them: name and address."""
    name = " ".join(p for p in (row.title, row.forename, row.surname) if p)
    return f"{name} <{row.email}>"


def pupil_label(pupil: LinkedPupil) -> str:
    """The pupil with their form and year, e.g. "Amy Jones (form 7B, Year 7)"."""
    form = f"form {pupil.form}" if pupil.form else ""
    where = ", ".join(part for part in (form, pupil.year_label) if part)
    return f"{pupil.name} ({where})" if where else pupil.name


def load_account(user_id: int) -> tuple[users.UserRow, list[LinkedPupil]]:
    """The holder and their pupils (runs in a worker)."""
    return users.user_row(user_id), licences.user_pupils(user_id)


def confirm_removal(
    screen: Screen,
    holder: users.UserRow,
    pupil: LinkedPupil,
    on_removed: Callable[[], None],
    on_failed: Callable[[str], None],
) -> None:
    """Ask, then remove the pupil from the holder's account; report through the callbacks."""
    question = (
        f"Remove {pupil_label(pupil)} from the account of {holder_label(holder)}?\n"
        f"They will no longer see this pupil in the portal "
        f"({', '.join(pupil.licence_types)} {noun(len(pupil.licence_types), 'licence')})."
    )

    def answered(yes: bool | None) -> None:
        if not yes:
            return

        def removed(_: int) -> None:
            screen.app.notify(f"Removed {pupil.name} from {holder.email}.")
            on_removed()

        db_work(
            screen,
            licences.remove_pupil,
            holder.id,
            pupil.pupil_id,
            on_success=removed,
            on_error=on_failed,
            group="remove-pupil",
        )

    screen.app.push_screen(
        ConfirmModal(question, title="Remove pupil?", yes_label="Remove"), answered
    )
