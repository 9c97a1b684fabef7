"""`extgw-tui keys generate|email|status|revoke`, end to end on a real database and SMTP server."""

from __future__ import annotations

import re

import pytest
from key_helpers import KEY_COLUMN, add_contact, add_pupil, read_letters
from smtp_helpers import smtp_server

from extgw_tui import cli
from extgw_tui.models import AuditEvent, KeyBatch, LicenceKey
from extgw_tui.services.key_codes import key_digest

KEY = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}")


@pytest.fixture
def school(sqlite_db):
    pupils = []
    for form, year in (("7A", 7), ("7A", 7), ("8B", 8)):
        pupil = add_pupil(f"Pupil{len(pupils)}", year=year, form=form, upn=f"K{len(pupils):012d}")
        add_contact(pupil, 1, f"parent{len(pupils)}@example.org")
        pupils.append(pupil)
    return sqlite_db


def keys(db, *args: str) -> int:
    return cli.main(["keys", *args, "--db", db.url])


def test_generate_letters_then_status_and_revoke(school, tmp_path, capsys):
    out = tmp_path / "letters.xlsx"
    assert keys(school, "generate", "--type", "parent/guardian", "--form", "7A", "--dry-run") == 0
    assert "2 pupil(s) on roll: form 7A; up to 4 key(s)." in capsys.readouterr().out
    assert KeyBatch.select().count() == 0
    code = keys(
        school,
        "generate",
        "--type",
        "Parent/Guardian",
        "--form",
        "7A",
        "--expires",
        "30d",
        "-o",
        str(out),
    )
    text = capsys.readouterr().out
    assert code == 0, text
    assert "Batch 1: 4 key(s) for 2 pupil(s); 4 in the letters, 0 to email." in text
    assert "cannot be shown again" in text
    rows = read_letters(out)
    assert len(rows) == 4 and all(
        LicenceKey.get(LicenceKey.digest == key_digest(r[KEY_COLUMN])) for r in rows
    )
    assert keys(school, "status") == 0
    status = capsys.readouterr().out
    assert re.search(r"7A\s+2\s+4\s+0\s+4\s+0\s+0\s+0", status), status
    assert max(len(line) for line in status.splitlines()[:3]) <= 80
    assert keys(school, "revoke", "--pupil", "K000000000000") == 0
    assert "Revoked 2 outstanding key(s)." in capsys.readouterr().out
    assert keys(school, "status", "--batch", "1") == 0
    assert "4 key(s): 2 outstanding, 2 revoked." in capsys.readouterr().out
    assert AuditEvent.select().where(AuditEvent.action == "key.revoke").count() == 1


def test_generate_pupil_type_defaults_to_one_key_and_a_pdf(school, tmp_path, capsys):
    code = keys(
        school,
        "generate",
        "--type",
        "Pupil",
        "--year",
        "8",
        "-o",
        str(tmp_path / "l.xlsx"),
        "--pdf",
        str(tmp_path / "l.pdf"),
    )
    assert code == 0
    assert "Batch 1: 1 key(s) for 1 pupil(s)" in capsys.readouterr().out
    pdf = (tmp_path / "l.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"/Count 1" in pdf


def test_generate_by_email_then_send(school, monkeypatch, capsys):
    code = keys(school, "generate", "--type", "Parent/Guardian", "--per-pupil", "1", "--email")
    text = capsys.readouterr().out
    assert code == 0, text
    assert "Preview of the email to parent0@example.org" in text
    assert "3 to email" in text and "keys email --batch 1" in text
    with smtp_server() as (recorder, port):
        monkeypatch.setenv("EXTGW_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("EXTGW_SMTP_PORT", str(port))
        monkeypatch.setenv("EXTGW_SMTP_SECURITY", "none")
        monkeypatch.setenv("EXTGW_SMTP_FROM", "office@school.example")
        assert keys(school, "email", "--batch", "1") == 0
        assert "Key emails: 3 sent, 0 failed." in capsys.readouterr().out
        assert keys(school, "email", "--batch", "1") == 0
        assert "Nothing to send" in capsys.readouterr().out
    assert len(recorder.received) == 3
    assert all(KEY.search(r.message.get_content()) for r in recorder.received)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "--type", "Nope", "-o", "x.xlsx"], "no licence type called 'Nope'"),
        (["generate", "--type", "Pupil", "--expires", "soon", "-o", "x.xlsx"], "--expires"),
        (["generate", "--type", "Pupil", "--form", "9Z", "-o", "x.xlsx"], "No pupil matches"),
        (["generate", "--type", "Pupil"], "Choose a letters file, email, or both."),
        (["revoke"], "Give --pupil UPN"),
        (["revoke", "--pupil", "NOPE"], "No pupil has the UPN NOPE."),
        (["email", "--batch", "7"], "There is no key batch 7."),
        (["status", "--batch", "7"], "There is no key batch 7."),
    ],
)
def test_refusals_are_one_sentence(school, capsys, args, message):
    assert keys(school, *args) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
