"""The letters a batch of keys goes out in: an .xlsx for mail merge and, optionally, a PDF.

Both are written once, while the keys are made (services/key_issue), since a key is never
stored: the files are the only place it exists. The .xlsx goes through services/xlsx (streamed,
formula-safe, renamed into place at the end). The PDF (fpdf2: pure Python, small, well kept,
Unicode through a TrueType font; reportlab would bring C extensions and a larger API for one
page layout) holds one letter per page and is capped at MAX_PDF_LETTERS, as fpdf2 keeps the
pages in memory until it writes.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

from anyascii import anyascii

from extgw_tui import settings
from extgw_tui.errors import ExtgwError, InvalidInput
from extgw_tui.services import school_settings
from extgw_tui.services.licence_keys import IssuedKey
from extgw_tui.services.xlsx import Column

MAX_PDF_LETTERS = 10_000
SHEET_TITLE = "Licence keys"
COLUMNS = [
    Column("Pupil", 26),
    Column("Year", 6),
    Column("Form", 8),
    Column("Licence type", 16),
    Column("Licence key", 27),
    Column("Expires", 12),
    Column("Contact", 26),
    Column("Contact address", 40),
    Column("Register at", 36),
]
#: Where a TrueType font with wide Unicode coverage is usually found; else Helvetica (Latin-1,
#: other letters transliterated by anyascii).
_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/arial.ttf",
)


def school_name() -> str:
    """The school's name for letters and emails: the Settings' (S), else the settings file
    (EXTGW_SCHOOL_NAME, `school`)."""
    value = school_settings.load().school_name or settings.value("school")
    return str(value or "").strip()


def register_url() -> str:
    """Where parents register: the Settings' registration address (S), else the settings
    file (EXTGW_REGISTER_URL, `register_url`)."""
    value = school_settings.load().registration_address or settings.value("register_url")
    return str(value or "").strip()


def expiry_text(key: IssuedKey) -> str:
    return f"{key.expires_at:%d %B %Y}".lstrip("0") if key.expires_at else ""


def letter_row(key: IssuedKey, url: str) -> tuple:
    contact = key.contact
    return (
        f"{key.pupil_forename} {key.pupil_surname}",
        key.year_group,
        key.form,
        key.licence_type,
        key.key,
        # text, as printed in the letter: a date cell costs openpyxl a style lookup, a third
        # of the whole row (measured: 240,000 rows, 8 s of 25)
        expiry_text(key),
        contact.name if contact else "",
        contact.address if contact else "",
        url,
    )


def about(description: str, count_note: str, school: str) -> list[tuple[str, str]]:
    return [
        ("What", f"Licence keys: {description}"),
        ("School", school),
        ("Keys", count_note),
        (
            "Keep it safe",
            "These keys are not stored anywhere else and cannot be shown again. "
            "Anyone holding a key can register as the pupil's parent: print or mail-merge "
            "the letters, then delete this file.",
        ),
    ]


def check_pdf(path: Path | None, expected_keys: int) -> None:
    if path is not None and expected_keys > MAX_PDF_LETTERS:
        raise InvalidInput(
            f"A PDF holds at most {MAX_PDF_LETTERS:,} letters and this would make "
            f"{expected_keys:,}; generate per year or form, or use the .xlsx for mail merge."
        )


class LetterPdf:
    """One letter per page, added as keys are made; save() writes it atomically."""

    def __init__(self, school: str, url: str) -> None:
        from fpdf import FPDF

        self.school, self.url = school, url
        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(True, margin=20)
        font = next((f for f in _FONTS if Path(f).is_file()), None)
        if font:
            self.pdf.add_font("Letter", fname=font)
            self.family, self.latin1 = "Letter", False
        else:
            self.family, self.latin1 = "Helvetica", True
        self.pages = 0

    def _text(self, text: str) -> str:
        if not self.latin1:
            return text
        return "".join(ch if ord(ch) < 256 else anyascii(ch) for ch in text)

    def add(self, key: IssuedKey) -> None:
        pdf, t = self.pdf, self._text
        pdf.add_page()
        pdf.set_font(self.family, size=11)
        contact = key.contact
        if contact:
            pdf.multi_cell(0, 5, t("\n".join(filter(None, [contact.name, contact.address]))))
        pdf.ln(12)
        pdf.set_font(self.family, size=14)
        pdf.cell(0, 8, t(self.school or "Licence key"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(self.family, size=11)
        pdf.ln(4)
        greeting = f"Dear {contact.name}," if contact and contact.name else "Dear Parent/Guardian,"
        pupil = f"{key.pupil_forename} {key.pupil_surname}"
        form = f" ({key.form})" if key.form else ""
        lines = [
            greeting,
            "",
            f"This is your {key.licence_type} licence key for {pupil}{form}. With it you can "
            "create your account on the school's External Gateway, or add this pupil to the "
            "account you already have.",
            "",
            f"Go to {self.url or 'the school website'}, choose to register a pupil, and enter:",
        ]
        pdf.multi_cell(0, 5.5, t("\n".join(lines)))
        pdf.ln(4)
        pdf.set_font("Courier", style="B", size=18)
        pdf.cell(0, 12, key.key, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(self.family, size=11)
        pdf.ln(4)
        after = [
            "The key works once. Letters and digits only; capitals or not, with or without "
            "the dashes.",
        ]
        if key.expires_at:
            after.append(f"It can be used until {key.expires_at:%d %B %Y}.")
        after.append("Keep this letter private: anyone with the key can use it.")
        pdf.multi_cell(0, 5.5, t("\n".join(after)))
        self.pages += 1

    def save(self, path: Path) -> None:
        target = Path(path).expanduser().absolute()
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            self.pdf.output(str(temp))
            os.replace(temp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise ExtgwError(
                f"The letters PDF {target} could not be written: {exc.strerror or exc}."
            ) from exc


def rows_for(keys: Iterable[IssuedKey], pdf: LetterPdf | None, url: str) -> Iterator[tuple]:
    """The .xlsx rows of `keys`, adding each to the PDF on the way."""
    for key in keys:
        if pdf is not None:
            pdf.add(key)
        yield letter_row(key, url)
