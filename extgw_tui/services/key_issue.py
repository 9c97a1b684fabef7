"""Generating a batch of keys and writing them where they go, once: one call for CLI and app.

The keys are made chunk by chunk; those for letters stream into the .xlsx (and the PDF), those
for email into pending outbox messages. Only when every file is in place does the batch turn
ready (licence_keys.Generation.finish); a cancel or failure removes the files and the batch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from extgw_tui.errors import ExtgwError, InvalidInput
from extgw_tui.services import key_letters, key_mail
from extgw_tui.services.licence_keys import Generated, Generation, Plan, count_pupils
from extgw_tui.services.xlsx import ExportCancelled, write_workbook


def issue(
    plan: Plan,
    *,
    letters: Path | None = None,
    pdf: Path | None = None,
    progress: Callable[[int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Generated:
    """Generate the plan's keys, write the letters file(s) and the pending emails.

    Raises InvalidInput before any work for a plan that cannot run, ExportCancelled when
    cancelled (nothing is left: no file, no key, no email), ExtgwError for a file that cannot
    be written.
    """
    plan.check()
    if plan.letters and letters is None:
        raise InvalidInput("Give the letters file (.xlsx) the keys are written to.")
    pupils = count_pupils(plan.scope)
    if not pupils:
        raise InvalidInput(f"No pupil on roll matches: {plan.scope.describe()}.")
    key_letters.check_pdf(pdf if plan.letters else None, pupils * plan.per_pupil)
    compose = key_mail.composer(plan.subject, plan.body) if plan.email else None
    generation = Generation(plan, compose)
    written: list[Path] = []
    try:
        if plan.letters:
            assert letters is not None
            _write_letters(generation, letters, pdf, written, progress, should_cancel, pupils)
        else:
            done = 0
            for _ in generation.letters(should_cancel):
                pass
            if should_cancel is not None and should_cancel():
                raise ExportCancelled("Cancelled; no key was made.")
            done = generation.result.keys
            if progress is not None:
                progress(done)
        return generation.finish()
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        generation.abandon()
        raise


def _write_letters(
    generation: Generation,
    letters: Path,
    pdf: Path | None,
    written: list[Path],
    progress: Callable[[int], None] | None,
    should_cancel: Callable[[], bool] | None,
    pupils: int,
) -> None:
    school, url = key_letters.school_name(), key_letters.register_url()
    document = key_letters.LetterPdf(school, url) if pdf is not None else None
    rows = key_letters.rows_for(generation.letters(should_cancel), document, url)
    result = write_workbook(
        letters,
        sheet_title=key_letters.SHEET_TITLE,
        columns=key_letters.COLUMNS,
        rows=rows,
        about=key_letters.about(
            f"{generation.type_name}, {generation.plan.scope.describe()}",
            f"batch {generation.result.batch_id}",
            school,
        ),
        progress=progress,
        should_cancel=should_cancel,
        expected_rows=pupils * generation.plan.per_pupil,
    )
    written.append(result.path)
    if should_cancel is not None and should_cancel():
        raise ExportCancelled("Cancelled; no key was made and no file was left.")
    if document is not None and pdf is not None:
        document.save(pdf)
        written.append(Path(pdf).expanduser().absolute())
    if not result.rows and not generation.result.emailed:
        raise ExtgwError("No key was made: no pupil in this choice could be reached.")
