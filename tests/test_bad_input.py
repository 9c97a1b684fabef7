"""Bad input wherever it enters the search and the audit trail, on SQLite and PostgreSQL.

Search terms are taken literally: the result must be exactly what a plain-Python reading of
the search language (services/filters.py: a name's start, forename and surname in either order,
an email fragment, an ID, `-` to negate, `word:` a filter) gives over the same rows, and a term
that language cannot understand is refused with one sentence, never run as SQL.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import pwd
import re
import shutil
import sqlite3
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extgw_tui.cli import main
from extgw_tui.db import open_database
from extgw_tui.errors import InvalidInput
from extgw_tui.models import AuditEvent, ExternalUser, name_key, text_key
from extgw_tui.services import access, activity, audit, users
from extgw_tui.services.activity import ActivityFilter

ZOE_NFC = unicodedata.normalize("NFC", "Zoë")
ZOE_NFD = unicodedata.normalize("NFD", "Zoë")

#: (surname, email) of the people the searches run over.
PEOPLE = [
    ("O'Brien", "obrien@example.org"),
    ("100%_Real", "percent_under@example.org"),
    ("Back\\slash", "back.slash@example.org"),
    (f"{ZOE_NFC}ller", "zoe.nfc@example.org"),
    (f"{ZOE_NFD}ppel", "zoe.nfd@example.org"),
    ("Ｓｍｉｔｈ", "fullwidth@example.org"),  # full-width letters
    ("Smith", "smith@example.org"),
    ("🙂Happy", "emoji🙂@example.org"),
    ("Robert'); DROP TABLE external_user;--", "bobby@example.org"),
    ("Straße", "strasse@example.org"),
    ("Ñúñez", "nunez@example.org"),
    ("李", "li@example.cn"),
]

NASTY = [
    "%",
    "_",
    "\\",
    "%%",
    "_%",
    "\\%",
    "\\_",
    "'",
    '"',
    "''",
    "`",
    "' OR '1'='1",
    "'; --",
    "'); DROP TABLE external_user;--",
    "1; SELECT * FROM audit_event",
    "/*",
    "*/",
    "\x00",
    "a\x00b",
    "\ud800",
    "smi\udfffth",
    "🙂",
    "\U0001f642happy",
    ZOE_NFC,
    ZOE_NFD,
    "ZOË",
    "zoe",
    "ＳＭＩ",
    "smi",
    "SMITH",
    "strasse",
    "STRASSE",
    "ß",
    "ñ",
    "n\u0303",
    "@",
    ".",
    "  smith  ",
    "\t",
    "\n",
    "\r\n",
    "\u200b",
    "\ufeff",
    "\u202e",
    "x" * 10_000,
    "s" + "\U0010ffff",
    "\U0010ffff",
    "李",
]


def _seed() -> None:
    for index, (surname, email) in enumerate(PEOPLE):
        ExternalUser.create(surname=surname, email=email, password_hash="x", forename=f"F{index}")


def _free_text_matches(text: str, index: int, surname: str, email: str) -> bool:
    """The free-text rule, read plainly: ID, then names, then (one word) the email: anywhere in
    it from 3 characters, else its start."""
    text = text.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8").strip()[:254]
    forename, key = f"F{index}", text_key(text)
    in_email = key in text_key(email) if len(key) >= 3 else text_key(email).startswith(key)
    digits = text[1:] if text.startswith("#") else text
    if digits.isascii() and digits.isdigit() and 0 < len(digits) <= 18:
        return int(digits) == index + 1 or (not text.startswith("#") and in_email)
    words, whole = text.split(), name_key(text)
    if not whole:
        return key in text_key(email)
    first, last = name_key(forename), name_key(surname)
    if last.startswith(whole) or first.startswith(whole):
        return True
    for cut in range(1, len(words)):
        a, b = name_key(" ".join(words[:cut])), name_key(" ".join(words[cut:]))
        if (
            a
            and b
            and (
                (first.startswith(a) and last.startswith(b))
                or (last.startswith(a) and first.startswith(b))
            )
        ):
            return True
    return len(words) == 1 and in_email


def _expected(term: str) -> set[str] | None:
    """The emails a search for `term` must find; None when it must be refused."""
    words, negated = [], []
    for token in term.split():
        if re.fullmatch(r"-?[A-Za-z]+:.*", token, re.S):
            return None  # a filter: none of these terms names a known one with a good value
        if token.startswith("-") and len(token) > 1:
            negated.append(token[1:])
        else:
            words.append(token)
    free = " ".join(words)
    return {
        email
        for index, (surname, email) in enumerate(PEOPLE)
        if (not free.strip() or _free_text_matches(free, index, surname, email))
        and not any(_free_text_matches(n, index, surname, email) for n in negated)
    }


def _check(term: str) -> None:
    expected = _expected(term)
    if expected is None:
        with pytest.raises(InvalidInput):
            users.search_users(term, limit=1000)
        return
    found = {row.email for row in users.search_users(term, limit=1000)}
    assert found == expected, repr(term)
    assert users.count_users(term) == len(found), repr(term)
    assert set(users.user_ids_matching(term)) == {
        row.id for row in users.search_users(term, limit=1000)
    }


def test_nasty_terms_are_literal(db):
    _seed()
    for term in NASTY:
        _check(term)
    assert ExternalUser.select().count() == len(PEOPLE)  # no fragment ran as SQL


def test_nfc_and_nfd_full_width_and_case_match_each_other(db):
    _seed()
    both = {"zoe.nfc@example.org"}
    assert {r.email for r in users.search_users(f"{ZOE_NFC}l")} == both
    assert {r.email for r in users.search_users(f"{ZOE_NFD}l")} == both
    assert {r.email for r in users.search_users(ZOE_NFD)} == {
        "zoe.nfc@example.org",
        "zoe.nfd@example.org",
    }
    assert users.count_users(ZOE_NFC) == users.count_users(ZOE_NFD) == 2
    smiths = {"fullwidth@example.org", "smith@example.org"}
    assert {r.email for r in users.search_users("ＳＭＩＴＨ")} == smiths
    assert {r.email for r in users.search_users("smith")} == smiths
    assert {r.email for r in users.search_users("STRASSE")} == {"strasse@example.org"}


def test_ten_thousand_characters(db):
    _seed()
    for term in ("s" * 10_000, "Smith" + " " * 10_000, "%" * 10_000, "🙂" * 10_000):
        _check(term)
    assert users.count_users("Smith" + "x" * 9_995) == 0


terms = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=40),
    st.sampled_from(NASTY),
    st.builds(
        lambda person, cut, extra: person[0][: max(cut, 1)] + extra,
        st.sampled_from(PEOPLE),
        st.integers(0, 8),
        st.sampled_from(["", "%", "_", "\\", "\ud800", "\x00", "'"]),
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(term=terms)
def test_any_term_is_literal(db, term):
    if ExternalUser.select().count() == 0:
        _seed()
    _check(term)
    activity.count(ActivityFilter(text=term))  # the activity log's free text, too


def test_audit_text_with_line_breaks_is_escaped(db):
    _seed()
    ids = [u.id for u in ExternalUser.select(ExternalUser.id).limit(2)]
    reason = "left\nthe school\r\nat\tonce\x1b[2J\x00\u2028end"
    access.set_access(ids, False, reason=reason)
    audit.set_admin("evil\nadmin")
    try:
        audit.record("note", target="line one\nline two", detail=reason)
    finally:
        audit.set_admin("test-admin")
    for row in AuditEvent.select():
        for text in (row.admin, row.target, row.detail):
            assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in text), repr(text)
    denied = AuditEvent.select().where(AuditEvent.action == "access.deny").first()
    assert denied.detail == "left\\nthe school\\r\\nat\\tonce\\x1b[2J\\x00\u2028end"
    note = AuditEvent.get(AuditEvent.action == "note")
    assert (note.admin, note.target) == ("evil\\nadmin", "line one\\nline two")


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec=None, exclude_categories=())))
def test_clean_never_leaves_a_control_character(text):
    cleaned = audit.clean(text)
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in cleaned)
    assert ("\n" in text) <= ("\\n" in cleaned)


# ----- the database itself: one sentence, exit code 2, no traceback ------------------------


def _cli(url: str) -> tuple[int, str]:
    """Run `extgw-tui --db URL activity`; returns (exit code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["--db", url, "activity"])
    return code, err.getvalue()


def _cli_as(uid: int, gid: int, url: str, answer) -> None:
    """In a fresh child process: drop to uid/gid, then run the CLI."""
    os.setgid(gid)
    os.setuid(uid)
    answer.put(_cli(url))


def _cli_unprivileged(url: str) -> tuple[int, str]:
    """_cli without root's power to ignore file permissions (in a child, when run as root)."""
    if os.geteuid() != 0:
        return _cli(url)
    nobody = pwd.getpwnam("nobody")
    ctx = multiprocessing.get_context("spawn")
    answer = ctx.Queue()
    proc = ctx.Process(target=_cli_as, args=(nobody.pw_uid, nobody.pw_gid, url, answer))
    proc.start()
    result = answer.get(timeout=60)
    proc.join(timeout=30)
    return result


@pytest.fixture
def shared_dir():
    """A folder the unprivileged child can enter (pytest's own are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="extgw-bad-db-"))
    folder.chmod(0o777)
    yield folder
    for path in folder.iterdir():
        path.chmod(0o600)
    folder.chmod(0o700)
    shutil.rmtree(folder)


def _made(folder: Path) -> tuple[Path, str]:
    path = folder / "made.sqlite3"
    url = f"sqlite:///{path}"
    open_database(url).close()
    return path, url


def _one_sentence(code: int, err: str, expected: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert expected in err, err


def test_missing_folder_and_folder_as_file(tmp_path):
    code, err = _cli(f"sqlite:///{tmp_path / 'nowhere' / 'x.sqlite3'}")
    _one_sentence(code, err, "does not exist.")
    code, err = _cli(f"sqlite:///{tmp_path}")
    _one_sentence(code, err, "is a folder, not a file.")


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"not a database " * 400),
        lambda path: path.write_bytes(path.read_bytes()[:1500]),
        lambda path: path.write_bytes(path.read_bytes()[:100] + os.urandom(8000)),
    ],
    ids=["garbage", "truncated", "scrambled"],
)
def test_corrupt_database(tmp_path, damage):
    path, url = _made(tmp_path)
    damage(path)
    code, err = _cli(url)
    _one_sentence(code, err, "damaged or is not an extgw-tui database.")


def test_newer_schema(tmp_path):
    path, url = _made(tmp_path)
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE schema_info SET version = 99")
    code, err = _cli(url)
    _one_sentence(code, err, "written by a newer release of extgw-tui (schema 99")


def test_unreadable_database(shared_dir):
    path, url = _made(shared_dir)
    path.chmod(0o000)
    code, err = _cli_unprivileged(url)
    _one_sentence(code, err, "cannot be read (permission denied).")


def test_read_only_database(shared_dir):
    path, url = _made(shared_dir)
    for extra in shared_dir.glob("made.sqlite3-*"):
        extra.unlink()
    path.chmod(0o444)
    shared_dir.chmod(0o555)
    try:
        code, err = _cli_unprivileged(url)
    finally:
        shared_dir.chmod(0o777)
    _one_sentence(code, err, "is read-only; extgw-tui needs to write to it and its folder.")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://u@h/db", "Unsupported database URL"),
        ("not a url at all", "Unsupported database URL"),
        ("postgresql://u@127.0.0.1:99999/db", "Cannot use the database"),
        ("postgresql://u@127.0.0.1:1/db", "cannot be reached"),
    ],
)
def test_unusable_urls(url, expected):
    code, err = _cli(url)
    _one_sentence(code, err, expected)
