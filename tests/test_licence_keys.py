"""Generating, issuing, revoking and counting licence keys, on both backends, with real files."""

from __future__ import annotations

import multiprocessing
import random
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from key_helpers import (
    KEY_COLUMN,
    add_contact,
    add_pupil,
    keys_for,
    make_keys,
    parent_type,
    pupil_type,
    read_letters,
)
from openpyxl import load_workbook

from extgw_tui.errors import ExtgwError, InvalidInput
from extgw_tui.models import (
    AuditEvent,
    ExternalUser,
    KeyBatch,
    Licence,
    LicenceKey,
    OutboxMessage,
    Pupil,
    SchemaInfo,
    now,
)
from extgw_tui.services import key_codes, licence_keys
from extgw_tui.services.key_codes import ALPHABET, Mistyped, canonical, key_digest, new_key
from extgw_tui.services.key_issue import issue
from extgw_tui.services.key_letters import COLUMNS
from extgw_tui.services.licence_keys import KeyFilter, KeyScope, Plan
from extgw_tui.services.registration import register
from extgw_tui.services.xlsx import ExportCancelled

TITLES = [c.title for c in COLUMNS]


def test_keys_are_random_grouped_and_checked():
    keys = {new_key() for _ in range(2000)}
    assert len(keys) == 2000
    for key in list(keys)[:50]:
        groups = key.split("-")
        assert [len(g) for g in groups] == [4] * 5
        assert set(key.replace("-", "")) <= set(ALPHABET)
        assert canonical(key) == key.replace("-", "")
    assert key_codes.BODY_LENGTH * 5 >= 80


def test_every_single_wrong_character_is_caught():
    rng = random.Random(7)
    for _ in range(40):
        key = canonical(new_key())
        for pos in range(len(key)):
            for ch in ALPHABET:
                if ch != key[pos]:
                    with pytest.raises(Mistyped):
                        canonical(key[:pos] + ch + key[pos + 1 :])
    swapped = caught = 0
    for _ in range(2000):
        key = canonical(new_key())
        pos = rng.randrange(len(key) - 1)
        if key[pos] == key[pos + 1]:
            continue
        swapped += 1
        try:
            canonical(key[:pos] + key[pos + 1] + key[pos] + key[pos + 2 :])
        except Mistyped:
            caught += 1
    assert caught / swapped > 0.95


def test_look_alikes_case_and_spacing_read_as_the_key():
    key = new_key()
    typed = key.lower().replace("0", "o").replace("1", "i").replace("-", "  ")
    assert key_digest(typed) == key_digest(key)


def _school(n_per_form: int = 3) -> dict[str, list[Pupil]]:
    forms = {}
    for form, year in (("7A", 7), ("7B", 7), ("8A", 8)):
        forms[form] = [
            add_pupil(f"{form}Pupil{n}", year=year, form=form, upn=f"A{form}{n:09d}"[:13])
            for n in range(n_per_form)
        ]
    return forms


def test_generation_per_scope_counts_what_it_makes(db, tmp_path):
    forms = _school()
    gone = add_pupil("Left", year=7, form="7A")
    Pupil.update(on_roll=False, left_on=date.today()).where(Pupil.id == gone.id).execute()
    parent = parent_type()
    assert licence_keys.count_pupils(KeyScope(parent)) == 9
    assert licence_keys.count_pupils(KeyScope(parent, year=7)) == 6
    assert licence_keys.count_pupils(KeyScope(parent, form="7b")) == 3
    marked = (forms["8A"][0].id, forms["7A"][1].id, gone.id)
    assert licence_keys.count_pupils(KeyScope(parent, pupil_ids=marked)) == 2
    result, rows = make_keys(tmp_path, KeyScope(parent, year=7), per_pupil=2)
    assert (result.pupils, result.keys, result.lettered) == (6, 12, 12)
    assert len(rows) == 12
    assert {row[TITLES.index("Form")] for row in rows} == {"7A", "7B"}
    assert [r[TITLES.index("Pupil")] for r in rows][:2] == ["Sam 7APupil0", "Sam 7APupil0"]
    stored = {k.digest for k in LicenceKey.select()}
    assert {key_digest(row[KEY_COLUMN]) for row in rows} == stored
    batch = KeyBatch.get_by_id(result.batch_id)
    assert (batch.state, batch.keys, batch.admin) == ("ready", 12, "test-admin")
    assert AuditEvent.get(AuditEvent.action == "key.generate").target == f"batch {batch.id}"


def test_without_holder_leaves_out_pupils_already_held(db, tmp_path):
    forms = _school(2)
    (key,) = keys_for(tmp_path, forms["7A"][0], per_pupil=1, name="first.xlsx")
    register("p@example.org", "correct horse battery", "", "P", "Held", key, "192.0.2.1")
    scope = KeyScope(parent_type(), without_holder=True)
    assert licence_keys.count_pupils(scope) == 5
    assert licence_keys.count_pupils(KeyScope(pupil_type(), without_holder=True)) == 6
    ExternalUser.update(deleted_at=now()).execute()  # a deleted holder holds nothing
    assert licence_keys.count_pupils(scope) == 6


def test_the_key_is_stored_only_as_its_digest(db, tmp_path):
    pupil = add_pupil()
    keys = keys_for(tmp_path, pupil, per_pupil=3)
    for table in (LicenceKey, KeyBatch, AuditEvent):
        for row in table.select().tuples():
            text = " ".join(str(v) for v in row).upper()
            for key in keys:
                assert key.replace("-", "") not in text.replace("-", "")
                assert key not in text


def test_letters_file_is_formula_safe_and_names_the_contact(db, tmp_path, monkeypatch):
    monkeypatch.setenv("EXTGW_SCHOOL_NAME", "=Hill School")
    monkeypatch.setenv("EXTGW_REGISTER_URL", "https://portal.example/register")
    pupil = add_pupil('=HYPERLINK("http://evil")', forename="+Sam")
    add_contact(pupil, 2, "second@example.org", forename="Bo", surname="Two", address="2 Road")
    add_contact(pupil, 1, "first@example.org", forename="Al", surname="One", address="@1 Lane")
    add_contact(pupil, 3, None, pr=False, forename="Cy")
    path = tmp_path / "letters.xlsx"
    issue(Plan(KeyScope(parent_type(), pupil_ids=(pupil.id,)), 3), letters=path)
    wb = load_workbook(path)
    ws = wb["Licence keys"]
    assert [c.value for c in ws[1]] == TITLES
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == 3
    first = rows[0]
    name = first[TITLES.index("Pupil")]
    assert name.value == '+Sam =HYPERLINK("http://evil")' and name.data_type == "s"
    assert name.quotePrefix
    assert first[TITLES.index("Register at")].value == "https://portal.example/register"
    contacts = [r[TITLES.index("Contact")].value for r in rows]
    assert contacts == [
        "Ms Al One",
        "Ms Bo Two",
        None,
    ]  # PR contacts in priority order; the third: none
    assert rows[0][TITLES.index("Contact address")].value == "@1 Lane"
    about = {row[0].value: row[1] for row in wb["About this export"].iter_rows()}
    assert "cannot be shown again" in about["Keep it safe"].value
    assert about["School"].value == "=Hill School" and about["School"].data_type == "s"
    wb.close()


def test_each_key_row_is_stored_as_made_whatever_the_contact_name_holds(db, tmp_path):
    """The keys' rows reach the table as made (COPY on PostgreSQL): quotes, commas, a line
    break, a backslash and a tab in the name it was issued to; no contact: an empty name."""
    pupil = add_pupil("Smith")
    odd = 'O"Neil, Jr\\ \tthe\nsecond'
    contact = add_contact(pupil, 1, None, title="", forename="Jo", surname=odd)
    keys_for(tmp_path, pupil, per_pupil=2)
    rows = list(
        LicenceKey.select(LicenceKey.issued_to, LicenceKey.contact_id, LicenceKey.outbox)
        .order_by(LicenceKey.id)
        .tuples()
    )
    assert rows == [(f"Jo {odd}", contact.id, None), ("", None, None)]
    assert all(key.issued_at is not None for key in LicenceKey.select())


def test_regenerating_revokes_the_outstanding_keys_only(db, tmp_path):
    pupil = add_pupil()
    used, spare = keys_for(tmp_path, pupil, name="one.xlsx")
    register("p@example.org", "correct horse battery", "", "P", "Jones", used, "192.0.2.1")
    fresh = keys_for(tmp_path, pupil, name="two.xlsx")
    assert LicenceKey.get(LicenceKey.digest == key_digest(spare)).revoked_at is not None
    assert LicenceKey.get(LicenceKey.digest == key_digest(used)).revoked_at is None
    assert all(LicenceKey.get(LicenceKey.digest == key_digest(k)).revoked_at is None for k in fresh)
    revoked = AuditEvent.get(AuditEvent.action == "key.revoke")
    assert "1 older outstanding" in revoked.detail
    keys_for(tmp_path, pupil, name="three.xlsx", type_name="Pupil")  # another type: untouched
    assert all(LicenceKey.get(LicenceKey.digest == key_digest(k)).revoked_at is None for k in fresh)


def test_a_cancelled_generation_leaves_nothing(db, tmp_path):
    for n in range(30):
        add_pupil(f"P{n}")
    out = tmp_path / "out"
    out.mkdir()
    path = out / "letters.xlsx"
    calls = iter(range(10**6))
    with pytest.raises(ExportCancelled):
        issue(
            Plan(KeyScope(parent_type()), 2),
            letters=path,
            should_cancel=lambda: next(calls) > 0,
        )
    assert list(out.iterdir()) == []
    assert LicenceKey.select().count() == 0 and KeyBatch.select().count() == 0


def test_a_failed_letters_file_leaves_nothing(db, tmp_path):
    add_pupil()
    with pytest.raises(InvalidInput):
        issue(Plan(KeyScope(parent_type()), 2), letters=None)
    with pytest.raises(Exception, match="does not exist"):
        issue(Plan(KeyScope(parent_type()), 2), letters=tmp_path / "no" / "such.xlsx")
    assert LicenceKey.select().count() == 0 and KeyBatch.select().count() == 0


def _form_of(count: int, form: str = "10X") -> None:
    Pupil.insert_many(
        [
            {"forename": "F", "surname": f"S{n:03d}", "surname_key": f"s{n:03d}", "form": form}
            for n in range(count)
        ]
    ).execute()


def _writers() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.name == "letters-xlsx"]


def test_a_generation_cancelled_while_the_letters_are_written_leaves_nothing(
    db, tmp_path, monkeypatch
):
    """The letters file is written by a process of its own while the next chunks are made: a
    cancel after several chunks have gone to it leaves no file, no temporary file, no key, no
    process."""
    monkeypatch.setattr(licence_keys, "CHUNK", 7)
    _form_of(50)
    out = tmp_path / "out"
    out.mkdir()
    seen: list[int] = []
    with pytest.raises(ExportCancelled):
        issue(
            Plan(KeyScope(parent_type()), 2),
            letters=out / "letters.xlsx",
            progress=seen.append,
            should_cancel=lambda: len(seen) >= 4,
        )
    assert seen[:4] == [14, 28, 42, 56]
    assert list(out.iterdir()) == []
    assert LicenceKey.select().count() == 0 and KeyBatch.select().count() == 0
    assert _writers() == []


def test_a_letters_file_failing_at_the_end_leaves_no_key(db, tmp_path, monkeypatch):
    """The writer process's failure (here its folder vanishes before the file is zipped)
    reaches the caller as one sentence, and the keys already stored are removed."""
    monkeypatch.setattr(licence_keys, "CHUNK", 7)
    _form_of(50)
    out = tmp_path / "out"
    out.mkdir()

    def remove_folder(done: int) -> None:
        if done == 14:
            shutil.rmtree(out)

    with pytest.raises(ExtgwError, match="cannot be saved|does not exist"):
        issue(
            Plan(KeyScope(parent_type()), 2), letters=out / "letters.xlsx", progress=remove_folder
        )
    assert not out.exists()
    assert LicenceKey.select().count() == 0 and KeyBatch.select().count() == 0
    assert _writers() == []


def test_plan_checks(db):
    add_pupil()
    with pytest.raises(InvalidInput, match="Keys per pupil"):
        Plan(KeyScope(parent_type()), 0).check()
    with pytest.raises(InvalidInput, match="expiry"):
        Plan(KeyScope(parent_type()), 1, 0).check()
    with pytest.raises(InvalidInput, match="No pupil on roll"):
        issue(Plan(KeyScope(parent_type(), form="9Z"), 1), letters=Path("x.xlsx"))


def test_expiry_revoke_and_totals_per_form(db, tmp_path):
    forms = _school(2)
    parent = parent_type()
    result, rows = make_keys(tmp_path, KeyScope(parent), per_pupil=2, expires_days=30)
    key = LicenceKey.get_by_id(LicenceKey.select().first().id)
    assert key.expires_at == KeyBatch.get_by_id(result.batch_id).created_at + timedelta(days=30)
    register("p@example.org", "correct horse battery", "", "P", "J", rows[0][KEY_COLUMN], "ip")
    # one 7B key issued long ago (overdue), one 8A key expired
    old = now() - timedelta(days=40)
    b7 = LicenceKey.select().join(Pupil).where(Pupil.form == "7B").first()
    LicenceKey.update(issued_at=old).where(LicenceKey.id == b7.id).execute()
    a8 = LicenceKey.select().join(Pupil).where(Pupil.form == "8A").first()
    LicenceKey.update(expires_at=now() - timedelta(days=1)).where(LicenceKey.id == a8.id).execute()
    assert licence_keys.revoke(pupil_ids=[forms["7A"][1].id], reason="moved house") == 2
    totals = {t.form: t for t in licence_keys.form_totals()}
    assert (totals["7A"].keys, totals["7A"].redeemed, totals["7A"].revoked) == (4, 1, 2)
    assert totals["7A"].outstanding == 1
    assert (totals["7B"].outstanding, totals["7B"].overdue) == (4, 1)
    assert (totals["8A"].outstanding, totals["8A"].expired) == (3, 1)
    assert [t.form for t in licence_keys.form_totals(year=8)] == ["8A"]
    entry = AuditEvent.select().where(AuditEvent.action == "key.revoke").get()
    assert "2 outstanding" in entry.detail and "moved house" in entry.detail
    assert licence_keys.revoke(batch_id=result.batch_id) == 9  # all but used and revoked
    listed = licence_keys.list_keys(KeyFilter(state="redeemed"), 0, 50)
    assert [(k.holder, k.state) for k in listed] == [("p@example.org", "redeemed")]
    assert licence_keys.count_keys(KeyFilter(form="7a")) == 4


def test_obtained_by_names_the_key_and_when(db, tmp_path):
    pupil = add_pupil()
    key, _ = keys_for(tmp_path, pupil)
    user = register("p@example.org", "correct horse battery", "", "P", "J", key, "ip")
    got = licence_keys.obtained_by(user.id)
    licence = Licence.get(Licence.user == user.id)
    row = got[(pupil.id, parent_type())]
    assert row.licence_id == licence.id and row.redeemed_at is not None
    assert row.key_id == LicenceKey.get(LicenceKey.digest == key_digest(key)).id


def test_a_schema_2_database_gains_the_key_tables(tmp_path):
    from extgw_tui.db import open_database

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    handle = open_database(url)
    handle.execute_sql('DROP TABLE "licence_key"')
    handle.execute_sql('DROP TABLE "key_batch"')
    SchemaInfo.update(version=2).execute()
    handle.close()
    handle = open_database(url)
    assert {"licence_key", "key_batch"} <= set(handle.get_tables())
    assert SchemaInfo.get().version >= 3
    pupil = add_pupil()
    assert len(keys_for(tmp_path, pupil)) == 2
    handle.close()


def test_letters_of_many_pupils_stream_in_chunks(db, tmp_path, monkeypatch):
    monkeypatch.setattr(licence_keys, "CHUNK", 7)
    Pupil.insert_many(
        [
            {
                "forename": "F",
                "surname": f"S{n:03d}",
                "surname_key": f"s{n:03d}",
                "form": "10X",
                "year_group": 10,
            }
            for n in range(50)
        ]
    ).execute()
    result, rows = make_keys(tmp_path, KeyScope(parent_type(), form="10X"), per_pupil=2)
    assert result.keys == len(rows) == 100
    assert [r[0] for r in rows][::2] == [f"F S{n:03d}" for n in range(50)]
    assert read_letters(tmp_path / "letters.xlsx") == rows
    assert OutboxMessage.select().count() == 0
