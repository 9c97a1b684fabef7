"""The dialog box is written once (styles/dialog.tcss) and every dialog gets it."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from extgw_tui.resources import stylesheet
from extgw_tui.screens.confirm import ConfirmModal
from extgw_tui.screens.dialog import DIALOG_CSS, Dialog


class OwnStyles(Dialog[None]):
    """A dialog with a stylesheet of its own that does not name the shared one."""

    CSS_PATH = stylesheet("row_actions.tcss")

    def compose(self) -> ComposeResult:
        with Vertical(id="row-actions-dialog", classes="dialog"):
            yield Static("Who", classes="dialog-title")


async def test_every_dialog_draws_the_shared_box_centred():
    app = App()
    async with app.run_test(size=(80, 24)) as pilot:
        for dialog, box_id, width in (
            (ConfirmModal("Sure?"), "#confirm-dialog", 60),
            (OwnStyles(), "#row-actions-dialog", 56),
        ):
            assert dialog.css_path[0] == DIALOG_CSS
            app.push_screen(dialog)
            await pilot.pause()
            box = dialog.query_one(box_id)
            assert box.styles.border_top[0] == "thick"
            assert box.outer_size.width == width  # the dialog's own file sets the width
            assert box.region.x == (80 - width) // 2  # centred by dialog.tcss
            app.pop_screen()
            await pilot.pause()
