"""Real roll files for the import tests: CSV in each encoding and separator, .xlsx by openpyxl."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from extgw_tui.services.demo import upn

TITLE = [["Student List - Test Academy"], ["Printed 01/12/2026"], []]
HEADER = ["UPN", "Adno", "Legal Surname", "Legal Forename", "Year", "Reg"]


def good_upn(n: int) -> str:
    return upn(n, 2021)


def write_csv(
    path: Path,
    rows: list[list[object]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    title: bool = True,
    header: list[str] = HEADER,
) -> Path:
    """Write rows under a header (and report-title rows) as an MIS would."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    if title:
        writer.writerows(TITLE)
    writer.writerow(header)
    writer.writerows(rows)
    writer.writerow([""] * len(header))  # trailing blank rows
    writer.writerow([])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(
    path: Path, sheets: dict[str, list[list[object]]], *, header: list[str] = HEADER
) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in [*TITLE, header, *rows]:
            sheet.append(row)
    book.save(path)
    return path


def pupil(n: int, surname: str, forename: str, year: object = 7, form: str = "7A") -> list:
    return [good_upn(n), f"{n:04d}", surname, forename, year, form]
