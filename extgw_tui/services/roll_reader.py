"""Reading an MIS export row by row, whatever it is: CSV in any of the usual encodings and
separators, or an .xlsx workbook; never the whole file in memory.

CSV: a byte-order mark says UTF-8 or UTF-16 (Excel's "Unicode text"); otherwise each line is
read as UTF-8 until one is not, and from there as Windows-1252 (older SIMS reports), so a
file is read once, from disk, a line at a time. The separator (comma, semicolon or tab) is the
one under which one of the first rows reads most like a header (the caller's `score`).
XLSX: openpyxl in read-only mode streams the sheet's rows. Anything else (a binary file, an
old .xls, a password-protected workbook, an empty file) is one sentence.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from extgw_tui.errors import InvalidInput

#: Lines looked at to choose the separator (the header may sit below report-title rows).
SNIFF_LINES = 50
#: The longest line (bytes) accepted: a roll's line is a few hundred; a binary file's is not.
MAX_LINE = 1_000_000
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003, and password-protected workbooks


class SheetChoice(InvalidInput):
    """A workbook of several sheets, and no sheet named: the caller asks which."""

    def __init__(self, path: Path, sheets: list[str]) -> None:
        self.sheets = sheets
        names = ", ".join(repr(s) for s in sheets)
        super().__init__(
            f"{path.name} has {len(sheets)} sheets ({names}); choose one (--sheet NAME)."
        )


class RowSource:
    """The rows of one file as lists of text, numbered as a spreadsheet numbers them."""

    kind = ""

    def describe(self) -> str:
        raise NotImplementedError

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        raise NotImplementedError

    def fraction(self) -> float:
        """How far through the file the rows read so far are, 0-1."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> RowSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_rows(
    path: Path, *, sheet: str | None = None, score: Callable[[list[str]], int] = len
) -> RowSource:
    """Open `path` for reading rows; `score` rates a row as a header (picks the separator)."""
    try:
        if path.is_dir():
            raise InvalidInput(f"{path} is a folder, not a file.")
        handle = path.open("rb")
    except FileNotFoundError:
        raise InvalidInput(f"There is no file {path}.") from None
    except OSError as exc:
        raise InvalidInput(f"{path} cannot be read: {exc.strerror or exc}.") from None
    try:
        head = handle.read(8192)
        handle.seek(0)
        if not head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
            raise InvalidInput(f"{path.name} is empty.")
        if head.startswith(_ZIP):
            handle.close()
            return XlsxRows(path, sheet)
        if head.startswith(_OLE):
            raise InvalidInput(_ole_message(path, handle))
        return CsvRows(path, handle, head, score)
    except BaseException:
        handle.close()
        raise


def _ole_message(path: Path, handle: BinaryIO) -> str:
    """A password-protected .xlsx is an OLE file holding an EncryptedPackage stream."""
    sample = handle.read(4 * 1024 * 1024)
    if "EncryptedPackage".encode("utf-16-le") in sample:
        return (
            f"{path.name} is password-protected; open it in Excel, remove the password "
            "(File > Info > Protect Workbook) or save it as CSV, and import that."
        )
    return f"{path.name} is an old Excel 97-2003 (.xls) file; save it as .xlsx or CSV first."


class CsvRows(RowSource):
    kind = "csv"

    def __init__(self, path: Path, handle: BinaryIO, head: bytes, score) -> None:
        self.path = path
        self.handle = handle
        self.size = max(path.stat().st_size, 1)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self.encoding = "UTF-16"
            self.text = io.TextIOWrapper(handle, encoding="utf-16", newline="")
        else:
            if b"\x00" in head:
                raise InvalidInput(
                    f"{path.name} is not a CSV or .xlsx file (it holds binary data)."
                )
            self.text = None
            self.encoding = "UTF-8 with BOM" if head.startswith(codecs.BOM_UTF8) else "UTF-8"
        self._first = True
        self._lines = self._read_lines()
        self._buffer = list(itertools.islice(self._lines, SNIFF_LINES))
        self.delimiter = _choose_separator(self._buffer, score)

    def describe(self) -> str:
        return f"CSV, {self.encoding}, {SEPARATORS[self.delimiter]}-separated"

    def _read_lines(self) -> Iterator[str]:
        number = 0
        while True:
            raw = (self.text or self.handle).readline(MAX_LINE + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE:
                raise InvalidInput(
                    f"Line {number:,} of {self.path.name} is longer than {MAX_LINE:,} "
                    "characters; this is not a roll export."
                )
            yield raw if isinstance(raw, str) else self._decode(raw)

    def _decode(self, raw: bytes) -> str:
        if self._first:
            self._first = False
            raw = raw.removeprefix(codecs.BOM_UTF8)
        if self.encoding != "Windows-1252":
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                self.encoding = "Windows-1252"
        return raw.decode("cp1252", errors="replace")

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        lines = itertools.chain(self._buffer, self._lines)
        self._buffer = []
        reader = csv.reader(lines, delimiter=self.delimiter)
        number = 0
        try:
            for number, cells in enumerate(reader, start=1):  # noqa: B007
                yield number, cells
        except csv.Error as exc:
            raise InvalidInput(
                f"Row {number + 1:,} of {self.path.name} cannot be read: {exc}."
            ) from None

    def fraction(self) -> float:
        try:
            return min(self.handle.tell() / self.size, 1.0)
        except (OSError, ValueError):
            return 0.0

    def close(self) -> None:
        self.handle.close()


def _choose_separator(lines: list[str], score: Callable[[list[str]], int]) -> str:
    """The separator under which some early row reads most like a header; comma on a tie."""
    best, best_score = ",", -1
    for separator in SEPARATORS:
        try:
            rows = list(csv.reader(lines, delimiter=separator))
        except csv.Error:
            continue
        top = max((score(row) for row in rows), default=0)
        if top > best_score:
            best, best_score = separator, top
    return best


class XlsxRows(RowSource):
    kind = "xlsx"

    def __init__(self, path: Path, sheet: str | None) -> None:
        from openpyxl import load_workbook

        self.path = path
        try:
            self.book = load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
            raise InvalidInput(f"{path.name} is not a readable .xlsx workbook ({exc}).") from None
        except Exception as exc:  # openpyxl's InvalidFileException and its XML errors
            raise InvalidInput(f"{path.name} is not a readable .xlsx workbook ({exc}).") from None
        names = self.book.sheetnames
        if sheet is None and len(names) > 1:
            self.book.close()
            raise SheetChoice(path, names)
        chosen = sheet if sheet is not None else names[0]
        if chosen not in names:
            self.book.close()
            raise InvalidInput(
                f"{path.name} has no sheet {chosen!r}; its sheets: "
                f"{', '.join(repr(n) for n in names)}."
            )
        self.sheet = chosen
        self.sheet_obj = self.book[chosen]
        self.total = self.sheet_obj.max_row or 0
        self.done = 0

    def describe(self) -> str:
        return f"Excel workbook, sheet {self.sheet!r}"

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        for number, values in enumerate(self.sheet_obj.iter_rows(values_only=True), start=1):
            self.done = number
            yield number, [_cell_text(v) for v in values]

    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0

    def close(self) -> None:
        self.book.close()


def _cell_text(value: object) -> str:
    """A cell as the text an administrator sees: 1234.0 -> "1234", a date -> 2024-09-01."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)
