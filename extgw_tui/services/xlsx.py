"""Writing .xlsx files: streamed, safe against formula injection, and never left half-written.

openpyxl's write-only mode streams rows to disk, so 100,000 rows never sit in memory. Cells are
plain values wherever possible (ints and datetimes go straight through, for speed); only text
that needs care is wrapped:

* Formula injection: text starting with =, +, -, @, tab, CR or LF (and text equal to an Excel
  error code such as #N/A) is written as an explicit string cell (data_type "s", never "f") with
  the quotePrefix style, exactly what Excel stores when someone types '=1+1. A reader sees the
  original text; Excel, LibreOffice and a later edit of the cell never evaluate it.
* Characters XML cannot carry (control characters other than tab/CR/LF, lone surrogates,
  U+FFFE/U+FFFF) are removed, and text over Excel's 32,767-character cell limit is cut; both
  are counted and noted on the "About this export" sheet. A carriage return is written as a
  line feed: every XML reader (Excel's included) would read a stored CR as LF anyway.

The file is written to a hidden temporary file in the target folder and renamed into place at
the end, so a cancel or failure leaves no partial file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Alignment, Font
from openpyxl.styles.numbers import FORMAT_DATE_DATETIME, FORMAT_DATE_YYYYMMDD2
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.writer.excel import ExcelWriter

from extgw_tui.errors import ExtgwError
from extgw_tui.models import now
from extgw_tui.services import audit

#: Excel's limit on the characters (UTF-16 code units) in one cell.
CELL_LIMIT = 32_767
#: Characters that make a spreadsheet treat text as a formula (or split it) when first.
FORMULA_STARTS = frozenset("=+-@\t\r\n")
_CAREFUL_STARTS = FORMULA_STARTS | {"#"}
_ERROR_CODES = frozenset(ERROR_CODES)
#: What openpyxl refuses (ILLEGAL_CHARACTERS_RE) plus what XML 1.0 cannot encode at all.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
ABOUT_TITLE = "About this export"
YES, NO = "Yes", "No"


class ExportCancelled(ExtgwError):
    """The administrator cancelled the export; no file was left behind."""


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the data sheet: its header and its width in characters."""

    title: str
    width: float = 14


@dataclass(frozen=True, slots=True)
class WriteResult:
    path: Path
    rows: int


class _Cleaner:
    """Turns row values into what openpyxl should write, counting every deliberate change."""

    def __init__(self, ws: WriteOnlyWorksheet) -> None:
        self.ws = ws
        self.cut = 0
        self.stripped = 0

    def row(self, values: Sequence) -> list:
        out = []
        for value in values:
            kind = type(value)
            if kind is str:
                if value and (
                    value[0] in _CAREFUL_STARTS
                    or len(value) > CELL_LIMIT // 2
                    or not value.isprintable()
                ):
                    value = self.text(value)
            elif kind is bool:
                value = YES if value else NO
            out.append(value)
        return out

    def text(self, value: str) -> str | WriteOnlyCell:
        """The slow path: strip, cut and, for risky text, an explicit quote-prefixed string."""
        cleaned = self.cleaned(value)
        if not cleaned:
            return cleaned
        risky = cleaned[0] in FORMULA_STARTS
        if not risky and cleaned not in _ERROR_CODES:
            return cleaned
        cell = WriteOnlyCell(self.ws, cleaned)
        cell.data_type = "s"  # openpyxl inferred "f" (formula) or "e" (error): text it is
        if risky:
            cell.quotePrefix = True
        return cell

    def cleaned(self, value: str) -> str:
        """`value` without what XML cannot carry, CR as LF, cut to Excel's limit (counted)."""
        cleaned = _UNWRITABLE.sub("", value)
        if len(cleaned) != len(value):
            self.stripped += 1
        if "\r" in cleaned:  # XML turns a stored CR into LF anyway; do it knowingly
            cleaned = cleaned.replace("\r\n", "\n").replace("\r", "\n")
        if len(cleaned) > CELL_LIMIT // 2 and utf16_len(cleaned) > CELL_LIMIT:
            cleaned = cut_to_limit(cleaned)
            self.cut += 1
        return cleaned


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def cut_to_limit(text: str) -> str:
    """The longest prefix of `text` that fits in one Excel cell (counted as Excel counts)."""
    units = text[:CELL_LIMIT].encode("utf-16-le")[: CELL_LIMIT * 2]
    return units.decode("utf-16-le", "ignore")  # "ignore" drops half a cut surrogate pair


def safe_sheet_title(title: str) -> str:
    """A valid worksheet name: no []:*?/\\ and at most 31 characters."""
    cleaned = _SHEET_TITLE_BAD.sub("-", _UNWRITABLE.sub("", title)).strip("'") or "Export"
    return cleaned[:31]


def _progress_step(expected_rows: int | None) -> int:
    """Report about a hundred times per export, but not more often than every 200 rows."""
    if not expected_rows:
        return 1000
    return min(max(expected_rows // 100, 200), 5000)


def write_workbook(
    path: Path | str,
    *,
    sheet_title: str,
    columns: list[Column],
    rows: Iterable[Sequence],
    about: list[tuple[str, str]],
    progress: Callable[[int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    expected_rows: int | None = None,
    plain_rows: bool = False,
) -> WriteResult:
    """Stream `rows` into a new .xlsx at `path`, with an "About this export" sheet.

    plain_rows: every value is text, a whole number, a boolean, a date, a datetime or None, so
    the data sheet is written as XML here rather than cell by cell by openpyxl (about 8 times
    less work: the 240,000 rows of a licence letters file, the 100,000 of a user export). The
    file and its safety are the same.

    Raises ExportCancelled when should_cancel() turns true, ExtgwError when the file cannot be
    written; in both cases nothing is left at `path` or beside it.
    """
    target = Path(path).expanduser().absolute()
    _check_target(target)
    # The stdlib's first tempfile call probes the scratch folder with a file of its own, which a
    # signal arriving just then would leave behind; done now, before any file of the export.
    tempfile.gettempdir()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(safe_sheet_title(sheet_title))
    temp: Path | None = None
    try:
        temp = _temp_path(target)  # first, so an unwritable folder fails before any work
        if plain_rows:
            count = _save_plain(
                wb, ws, temp, columns, rows, about, progress, should_cancel, expected_rows
            )
        else:
            count, cleaner = _write_data(ws, columns, rows, progress, should_cancel, expected_rows)
            _write_about(wb, about, count, cleaner)
            _save(wb, temp)
        _stop_if_cancelled(should_cancel)  # escape while the file was being zipped
        os.replace(temp, target)
    except OSError as exc:
        _discard(wb, temp)
        raise ExtgwError(_os_message(exc, target)) from exc
    except BaseException:  # cancelled, a database error, Ctrl+C: no file either way
        _discard(wb, temp)
        raise
    return WriteResult(path=target, rows=count)


def _write_data(
    ws: WriteOnlyWorksheet,
    columns: list[Column],
    rows: Iterable[Sequence],
    progress: Callable[[int], None] | None,
    should_cancel: Callable[[], bool] | None,
    expected_rows: int | None,
) -> tuple[int, _Cleaner]:
    _sheet_settings(ws, columns)
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, column.title)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    cleaner = _Cleaner(ws)
    step = _progress_step(expected_rows)
    count = 0
    append, clean = ws.append, cleaner.row
    for row in rows:
        append(clean(row))
        count += 1
        if count % step == 0:
            _stop_if_cancelled(should_cancel)
            if progress is not None:
                progress(count)
    _stop_if_cancelled(should_cancel)
    ws.auto_filter.ref = _filter_ref(columns, count)
    if progress is not None:
        progress(count)
    return count, cleaner


def _sheet_settings(ws: WriteOnlyWorksheet, columns: list[Column]) -> None:
    for index, column in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"


def _filter_ref(columns: list[Column], count: int) -> str:
    return f"A1:{get_column_letter(max(len(columns), 1))}{count + 1}"


def _save_plain(
    wb: Workbook,
    ws: WriteOnlyWorksheet,
    temp: Path,
    columns: list[Column],
    rows: Iterable[Sequence],
    about: list[tuple[str, str]],
    progress: Callable[[int], None] | None,
    should_cancel: Callable[[], bool] | None,
    expected_rows: int | None,
) -> int:
    """The data sheet streamed as XML into the zip first, then the rest of the workbook saved
    by openpyxl around it (its own, empty version of that sheet left out)."""
    sheet = _PlainSheet(ws, columns)
    with _ZipAroundPart(temp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        info = zipfile.ZipInfo(_PLAIN_PART, date_time=time.localtime()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as part:
            count = sheet.write(part, rows, progress, should_cancel, expected_rows)
        ws.auto_filter.ref = _filter_ref(columns, count)  # workbook.xml names the filter
        _write_about(wb, about, count, sheet.cleaner)
        ExcelWriter(wb, archive).save()
        if not archive.left_out:
            raise ExtgwError("The data sheet was not where the workbook expected it.")
    return count


#: The data sheet's part: the workbook's first sheet (openpyxl numbers them from 1 on save).
_PLAIN_PART = "xl/worksheets/sheet1.xml"


class _ZipAroundPart(zipfile.ZipFile):
    """The archive openpyxl saves into after _PLAIN_PART was streamed into it: openpyxl's own
    version of that part (ExcelWriter adds each worksheet with write()) is left out."""

    left_out = False

    def write(self, filename, arcname=None, *args, **kwargs) -> None:  # noqa: ANN001
        if arcname == _PLAIN_PART:
            self.left_out = True
            return
        super().write(filename, arcname, *args, **kwargs)

    def __exit__(self, kind, value, traceback) -> None:  # noqa: ANN001
        """Unwinding (a SIGTERM, a failed row), the archive is discarded with its temp file:
        if the stop came inside zipfile's own code while it opened the part, the part is
        still open for writing and close() refuses, which must not replace the first error;
        the file is closed as it is."""
        try:
            super().__exit__(kind, value, traceback)
        except ValueError:
            if kind is None:
                raise
            if self.fp is not None:
                self.fp.close()
                self.fp = None


class _PlainSheet:
    """A data sheet of plain values as SpreadsheetML, as openpyxl's write-only mode writes it
    (inline strings, header in bold, frozen, filtered), with _Cleaner's rules: risky text is
    an explicit quote-prefixed string, never a formula; what XML cannot carry is removed."""

    def __init__(self, ws: WriteOnlyWorksheet, columns: list[Column]) -> None:
        bold, quoted, stamp, day = (WriteOnlyCell(ws) for _ in range(4))
        bold.font = Font(bold=True)
        quoted.quotePrefix = True
        stamp.number_format = FORMAT_DATE_DATETIME  # what openpyxl gives a datetime
        day.number_format = FORMAT_DATE_YYYYMMDD2  # and a date
        # style_id registers each style with the workbook, so openpyxl's styles.xml holds it
        self.bold, self.quoted = bold.style_id, quoted.style_id
        self.stamp, self.day = stamp.style_id, day.style_id
        self.columns = columns
        self.letters = [get_column_letter(i) for i in range(1, len(columns) + 1)]
        self.cleaner = _Cleaner(ws)

    def write(
        self,
        part,  # noqa: ANN001  (a zip member open for writing)
        rows: Iterable[Sequence],
        progress: Callable[[int], None] | None,
        should_cancel: Callable[[], bool] | None,
        expected_rows: int | None,
    ) -> int:
        part.write(self._head().encode())
        step = _progress_step(expected_rows)
        count, pending = 0, []
        for row in rows:
            count += 1
            pending.append(self._row(count + 1, row))
            if count % step == 0:
                part.write("".join(pending).encode())
                pending.clear()
                _stop_if_cancelled(should_cancel)
                if progress is not None:
                    progress(count)
        pending.append(f'</sheetData><autoFilter ref="{_filter_ref(self.columns, count)}"/>')
        part.write(("".join(pending) + "</worksheet>").encode())
        _stop_if_cancelled(should_cancel)
        if progress is not None:
            progress(count)
        return count

    def _head(self) -> str:
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{c.width}" customWidth="1"/>'
            for i, c in enumerate(self.columns, 1)
        )
        header = "".join(
            f'<c r="{letter}1" s="{self.bold}" t="inlineStr"><is>{_xml_t(c.title)}</is></c>'
            for letter, c in zip(self.letters, self.columns, strict=True)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" '
            'activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
            f'<sheetData><row r="1">{header}</row>'
        )

    def _row(self, number: int, values: Sequence) -> str:
        letters = self.letters
        while len(letters) < len(values):  # a row wider than the header
            letters.append(get_column_letter(len(letters) + 1))
        cells = []
        for letter, value in zip(letters, values, strict=False):  # letters may be more
            kind = type(value)
            if kind is str:
                style = ""
                if value and (
                    value[0] in _CAREFUL_STARTS
                    or len(value) > CELL_LIMIT // 2
                    or not value.isprintable()
                ):
                    value = self.cleaner.cleaned(value)
                    if value and value[0] in FORMULA_STARTS:
                        style = f' s="{self.quoted}"'
                if not value:  # an empty cell, as openpyxl writes "" (a reader sees None)
                    cells.append(f'<c r="{letter}{number}" t="inlineStr"></c>')
                    continue
                cells.append(
                    f'<c r="{letter}{number}"{style} t="inlineStr"><is>{_xml_t(value)}</is></c>'
                )
            elif kind is int:
                cells.append(f'<c r="{letter}{number}" t="n"><v>{value}</v></c>')
            elif kind is bool:
                text = YES if value else NO
                cells.append(f'<c r="{letter}{number}" t="inlineStr"><is><t>{text}</t></is></c>')
            elif kind is datetime or kind is date:  # an Excel serial, as openpyxl writes it
                style = self.stamp if kind is datetime else self.day
                serial = to_excel(value)  # as openpyxl formats it: %.16g
                cells.append(f'<c r="{letter}{number}" s="{style}" t="n"><v>{serial:.16g}</v></c>')
            elif value is not None:
                raise TypeError(
                    "a plain row holds text, whole numbers, booleans, dates or datetimes, "
                    f"not {kind.__name__}"
                )
        return f'<row r="{number}">{"".join(cells)}</row>'


def _xml_text(text: str) -> str:
    """`text` escaped for an XML text node (it holds nothing XML cannot carry: _Cleaner)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _xml_t(text: str) -> str:
    """A <t> element: whitespace at either end kept, as Excel would otherwise drop it."""
    if text and (text[0] in " \t\n" or text[-1] in " \t\n"):
        return f'<t xml:space="preserve">{_xml_text(text)}</t>'
    return f"<t>{_xml_text(text)}</t>"


def _stop_if_cancelled(should_cancel: Callable[[], bool] | None) -> None:
    if should_cancel is not None and should_cancel():
        raise ExportCancelled("Export cancelled; no file was written.")


def _write_about(wb: Workbook, about: list[tuple[str, str]], count: int, cleaner: _Cleaner) -> None:
    ws = wb.create_sheet(ABOUT_TITLE)
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 70
    pairs = [
        *about,
        ("Generated", now()),
        ("Generated by", audit.current_admin()),
        ("Rows", count),
        (
            "Text safety",
            "Text starting with =, +, -, @, tab or a line break is stored as text, "
            "never as a formula.",
        ),
    ]
    if cleaner.stripped:
        pairs.append(
            (
                "Characters removed",
                f"{cleaner.stripped} cell(s) held control "
                "characters a spreadsheet cannot store; removed.",
            )
        )
    if cleaner.cut:
        pairs.append(
            (
                "Text cut",
                f"{cleaner.cut} cell(s) were longer than Excel's "
                f"{CELL_LIMIT:,}-character limit and were cut.",
            )
        )
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    about_cleaner = _Cleaner(ws)
    for label, value in pairs:
        name = WriteOnlyCell(ws, label)
        name.font = bold
        name.alignment = wrap
        ws.append([name, *about_cleaner.row([value])])


def _check_target(target: Path) -> None:
    """Refuse early, before any work, what would fail only at the end."""
    folder = target.parent
    if target.is_dir():
        raise ExtgwError(f"{target} is a folder; give a file name for the export.")
    if not folder.exists():
        blocked = any(p.exists() and not p.is_dir() for p in folder.parents)
        code = errno.ENOTDIR if blocked else errno.ENOENT
        raise ExtgwError(_os_message(OSError(code, ""), target))
    if not folder.is_dir():
        raise ExtgwError(_os_message(OSError(errno.ENOTDIR, ""), target))


def _save(wb: Workbook, temp: Path) -> None:
    """Workbook.save, but the zip is closed here even on failure (a full disk), not by the GC."""
    with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()


def _temp_path(target: Path) -> Path:
    """A new hidden file beside the target, created with the umask's usual permissions."""
    while True:
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return temp


def _discard(wb: Workbook, temp: Path | None) -> None:
    """Remove the temporary file and openpyxl's scratch files of unsaved sheets."""
    if temp is not None:
        with contextlib.suppress(OSError):
            temp.unlink()
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None or ws.closed:
            continue
        with contextlib.suppress(Exception):  # best effort: the export has already failed
            if ws._rows is not None:
                ws._rows.close()
            writer.close()
            writer.cleanup()


def _os_message(exc: OSError, target: Path) -> str:
    folder = target.parent
    if exc.errno == errno.ENOSPC:
        return f"The disk is full; the export to {target} was not saved."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"The export cannot be saved in {folder} (permission denied)."
    if exc.errno == errno.ENOENT and folder.is_dir():
        return f"The export cannot be saved in {folder}: files cannot be created there."
    if exc.errno == errno.ENOENT:
        return f"The folder {folder} does not exist; choose another place for the export."
    if exc.errno == errno.ENOTDIR:
        return f"The export cannot be saved in {folder}: that path goes through a file."
    reason = exc.strerror or type(exc).__name__
    return f"The export to {target} could not be written: {reason}."
