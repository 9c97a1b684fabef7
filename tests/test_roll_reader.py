"""Reading MIS exports: every encoding and separator, workbooks, and the files that are refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from roll_files import HEADER, pupil, write_csv, write_xlsx

from extgw_tui.errors import InvalidInput
from extgw_tui.services import roll_columns
from extgw_tui.services.roll_reader import SheetChoice, open_rows

ROWS = [pupil(1, "Öztürk", "Ayşe"), pupil(2, "O’Brien", "Seán"), pupil(3, "Smith", "Zoë")]


def _score(cells: list[str]) -> int:
    return sum(1 for c in cells if roll_columns.recognise(c))


def _read(path: Path, **kwargs) -> tuple[str, list[list[str]]]:
    with open_rows(path, score=_score, **kwargs) as source:
        rows = [cells for _, cells in source.rows()]
        return source.describe(), rows


@pytest.mark.parametrize(
    ("encoding", "name"),
    [
        ("utf-8", "UTF-8"),
        ("utf-8-sig", "UTF-8 with BOM"),
        ("utf-16", "UTF-16"),
    ],
)
@pytest.mark.parametrize(("delimiter", "word"), [(",", "comma"), (";", "semicolon"), ("\t", "tab")])
def test_csv_encodings_and_separators(tmp_path, encoding, name, delimiter, word):
    path = write_csv(tmp_path / "roll.csv", ROWS, encoding=encoding, delimiter=delimiter)
    described, rows = _read(path)
    assert described == f"CSV, {name}, {word}-separated"
    assert rows[3] == HEADER
    assert rows[4][2:4] == ["Öztürk", "Ayşe"]
    assert rows[5][2] == "O’Brien"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_windows_1252(tmp_path, delimiter):
    rows = [pupil(1, "Zoë", "Renée"), pupil(2, "Müller", "Jürgen")]
    path = write_csv(tmp_path / "sims.csv", rows, encoding="cp1252", delimiter=delimiter)
    described, read = _read(path)
    assert described.startswith("CSV, Windows-1252")
    assert read[4][2:4] == ["Zoë", "Renée"] and read[5][2] == "Müller"


def test_windows_1252_late_in_the_file(tmp_path):
    """A file plain ASCII for thousands of lines, then one Windows-1252 name."""
    rows = [pupil(n, "Smith", "Sam") for n in range(1, 3000)] + [pupil(3000, "Zoë", "Ann")]
    path = write_csv(tmp_path / "late.csv", rows, encoding="cp1252")
    described, read = _read(path)
    assert "Windows-1252" in described
    assert read[4 + 2999][2] == "Zoë"


def test_quoted_fields_with_separators_and_line_breaks(tmp_path):
    rows = [[*pupil(1, "Smith, Jr", "Sam")[:4], 7, "7A"], [*pupil(2, 'Say "Hi"', "Al")]]
    path = write_csv(tmp_path / "quoted.csv", rows)
    _, read = _read(path)
    assert read[4][2] == "Smith, Jr" and read[5][2] == 'Say "Hi"'


def test_xlsx_single_sheet(tmp_path):
    path = write_xlsx(tmp_path / "roll.xlsx", {"Students": [pupil(1, "Öztürk", "Ayşe", 7)]})
    described, rows = _read(path)
    assert described == "Excel workbook, sheet 'Students'"
    assert rows[3] == HEADER and rows[4][2] == "Öztürk" and rows[4][4] == "7"


def test_xlsx_several_sheets_asks_which(tmp_path):
    path = write_xlsx(tmp_path / "roll.xlsx", {"Year 7": [pupil(1, "A", "B")], "Year 8": []})
    with pytest.raises(SheetChoice) as caught:
        _read(path)
    assert caught.value.sheets == ["Year 7", "Year 8"]
    assert "--sheet" in str(caught.value)
    _, rows = _read(path, sheet="Year 7")
    assert rows[4][2] == "A"
    with pytest.raises(InvalidInput, match="no sheet 'Year 9'"):
        _read(path, sheet="Year 9")


def test_xlsx_numbers_read_as_typed(tmp_path):
    """Admission numbers and years typed as numbers come back as "1234" and "7", not 1234.0."""
    path = write_xlsx(tmp_path / "n.xlsx", {"S": [[pupil(1, "A", "B")[0], 1234.0, "A", "B", 7]]})
    _, rows = _read(path)
    assert rows[4][1] == "1234" and rows[4][4] == "7"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InvalidInput, match="empty.csv is empty"):
        _read(path)
    path.write_bytes(b"\xef\xbb\xbf\r\n\r\n")
    with pytest.raises(InvalidInput, match="is empty"):
        _read(path)


def test_binary_file(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(InvalidInput, match="holds binary data"):
        _read(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InvalidInput, match="There is no file"):
        _read(tmp_path / "nope.csv")
    with pytest.raises(InvalidInput, match="is a folder"):
        _read(tmp_path)


def test_broken_zip_is_not_a_workbook(tmp_path):
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    with pytest.raises(InvalidInput, match="not a readable .xlsx workbook"):
        _read(path)


def test_old_xls(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000)
    with pytest.raises(InvalidInput, match="old Excel 97-2003"):
        _read(path)


def test_password_protected_xlsx(tmp_path):
    import msoffcrypto  # the test extra (pyproject.toml): never skipped
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = write_xlsx(tmp_path / "plain.xlsx", {"S": [pupil(1, "A", "B")]})
    locked = tmp_path / "locked.xlsx"
    with plain.open("rb") as source, locked.open("wb") as target:
        OOXMLFile(source).encrypt("secret", target)
    assert msoffcrypto.OfficeFile(locked.open("rb")).is_encrypted()
    with pytest.raises(InvalidInput, match="locked.xlsx is password-protected"):
        _read(locked)


def test_a_line_too_long_is_refused(tmp_path, monkeypatch):
    """A file with no line breaks (a 2 GB blob) is never read into memory whole."""
    from extgw_tui.services import roll_reader

    monkeypatch.setattr(roll_reader, "MAX_LINE", 10_000)
    path = tmp_path / "one-line.csv"
    path.write_text("UPN,Surname," + "x" * 50_000)
    with pytest.raises(InvalidInput, match="Line 1 of one-line.csv is longer than 10,000"):
        _read(path)
