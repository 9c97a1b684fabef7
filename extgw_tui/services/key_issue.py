"""Generating a batch of keys and writing them where they go, once: one call for CLI and app.

The keys are made chunk by chunk; those for letters stream into the .xlsx (and the PDF), those
for email into pending outbox messages. Only when every file is in place does the batch turn
ready (licence_keys.Generation.finish); a cancel or failure removes the files and the batch.

The .xlsx is written by a child process fed chunk by chunk, so on a second core it runs while
this process makes and stores the next chunks (a thread would hold the GIL). Its rows are plain
text and numbers, written as sheet XML directly (xlsx plain_rows): 240,000 keys cost it ~3.5 s
of CPU, where openpyxl's cells took ~18 s, more than the key maker itself.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.synchronize
import os
import queue
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from extgw_tui.errors import ExtgwError, InvalidInput
from extgw_tui.services import audit, key_letters, key_mail
from extgw_tui.services.licence_keys import Generated, Generation, Plan, count_pupils
from extgw_tui.services.xlsx import ExportCancelled, WriteResult, write_workbook


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
    about = key_letters.about(
        f"{generation.type_name}, {generation.plan.scope.describe()}",
        f"batch {generation.result.batch_id}",
        school,
    )
    writer = _WorkbookProcess(letters, about, pupils * generation.plan.per_pupil)
    done = 0
    try:
        for keys in generation.chunks(should_cancel):
            rows = list(key_letters.rows_for(keys, document, url))
            writer.put(rows)
            done += len(rows)
            if progress is not None:
                progress(done)
        if should_cancel is not None and should_cancel():
            raise ExportCancelled("Cancelled; no key was made and no file was left.")
        result = writer.close()
    except BaseException:
        writer.abort()
        raise
    written.append(result.path)
    if should_cancel is not None and should_cancel():
        raise ExportCancelled("Cancelled; no key was made and no file was left.")
    if document is not None and pdf is not None:
        document.save(pdf)
        written.append(Path(pdf).expanduser().absolute())
    if not result.rows and not generation.result.emailed:
        raise ExtgwError("No key was made: no pupil in this choice could be reached.")


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with the process's real stderr. The tracker
    hands its child sys.stderr's descriptor, and a caller may have replaced sys.stderr with an
    object whose fileno() is not one (a terminal UI capturing output): the first queue made
    then fails with "bad value(s) in fds_to_keep"."""
    from multiprocessing import resource_tracker

    replaced, sys.stderr = sys.stderr, sys.__stderr__
    try:
        resource_tracker.ensure_running()
    finally:
        sys.stderr = replaced


class _WorkbookProcess:
    """The letters .xlsx written by a process of its own while this one makes and stores the
    next chunks of keys: on two cores the two overlap. A bounded queue of chunks keeps memory
    flat. abort() leaves no file: the writer stops, and write_workbook removes its temporary
    file; a writer whose parent has gone stops the same way."""

    def __init__(self, path: Path, about: list[tuple[str, str]], expected_rows: int) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded app
        _start_resource_tracker()
        self._rows: multiprocessing.Queue = context.Queue(maxsize=4)
        self._answer: multiprocessing.Queue = context.Queue()
        self._stop = context.Event()
        self._answered: WriteResult | BaseException | None = None
        self._process = context.Process(
            target=_write_in_child,
            args=(path, about, expected_rows, audit.current_admin()),
            kwargs={"rows": self._rows, "answer": self._answer, "stop": self._stop},
            name="letters-xlsx",
            daemon=True,
        )
        self._process.start()

    def put(self, rows: list[tuple] | None) -> None:
        """Queue rows (None: the end), waiting while the writer is behind; its error, if it
        failed early (a full disk), is raised here."""
        while True:
            if not self._process.is_alive():
                self._raise_answer()
            try:
                self._rows.put(rows, timeout=0.2)
                return
            except queue.Full:
                continue

    def _wait_answer(self) -> WriteResult | BaseException:
        while self._answered is None:
            try:
                self._answered = self._answer.get(timeout=0.2)
            except queue.Empty:
                if not self._process.is_alive():
                    with contextlib.suppress(queue.Empty):
                        self._answered = self._answer.get(timeout=1)
                        break
                    return ExtgwError("The letters file could not be written: its writer stopped.")
        return self._answered

    def _raise_answer(self) -> None:
        answer = self._wait_answer()
        raise (
            answer
            if isinstance(answer, BaseException)
            else ExtgwError("The letters file could not be written: its writer stopped.")
        )

    def close(self) -> WriteResult:
        self.put(None)
        answer = self._wait_answer()
        self._process.join()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def abort(self) -> None:
        """Stop the writer and wait until it has removed its temporary file."""
        self._stop.set()
        self._rows.cancel_join_thread()  # rows not yet sent are dropped, never waited for
        with contextlib.suppress(queue.Full):
            self._rows.put_nowait(None)
        answer = self._wait_answer()
        self._process.join(timeout=30)
        if isinstance(answer, WriteResult):  # it finished just before the stop: remove it
            with contextlib.suppress(OSError):
                answer.path.unlink()


def _write_in_child(
    path: Path,
    about: list[tuple[str, str]],
    expected_rows: int,
    admin: str,
    *,
    rows: multiprocessing.Queue,
    answer: multiprocessing.Queue,
    stop: multiprocessing.synchronize.Event,
) -> None:
    """The writer process: rows from the queue into the file; the result or the error back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to act on
    audit.set_admin(admin)
    parent = os.getppid()

    def received() -> Iterator[tuple]:
        while True:
            try:
                part = rows.get(timeout=1)
            except queue.Empty:
                if os.getppid() != parent:
                    stop.set()  # the parent is gone: write_workbook discards the file
                if stop.is_set():
                    return
                continue
            if part is None:
                return
            yield from part

    try:
        result: WriteResult | BaseException = write_workbook(
            path,
            sheet_title=key_letters.SHEET_TITLE,
            columns=key_letters.COLUMNS,
            rows=received(),
            about=about,
            should_cancel=stop.is_set,
            expected_rows=expected_rows,
            plain_rows=True,  # key_letters.letter_row: text and whole numbers only
        )
    except ExtgwError as exc:
        result = exc
    except Exception as exc:  # one sentence for the caller, never a traceback
        result = ExtgwError(f"The letters file could not be written: {exc}.")
    answer.put(result)
