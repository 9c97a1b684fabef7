"""A parent's whole journey through the real portal server, with real licence keys and SMTP:
register with a key -> log in -> see the account -> add a pupil -> forget and reset the
password -> delete the account. And a denied account's key redemption answers as an unknown's."""

from __future__ import annotations

import re
import time

import httpx
from key_helpers import add_pupil, keys_for
from portal_server import portal_server
from smtp_helpers import smtp_env, smtp_server

from extgw_tui.models import AuditEvent, ExternalUser, LicenceKey
from extgw_tui.services import access

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple battery horse!"
EMAIL = "Jo.Bloggs@Home.example"


def _wait_for_mail(recorder, count: int) -> None:
    deadline = time.monotonic() + 20
    while len(recorder.received) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(recorder.received) == count


def test_the_whole_journey(db, db_url, tmp_path):
    ann, ben = add_pupil("Bloggs", forename="Ann"), add_pupil("Bloggs", forename="Ben", year=9)
    ann_key = keys_for(tmp_path, ann, per_pupil=1, name="ann.xlsx")[0]
    ben_key = keys_for(tmp_path, ben, per_pupil=1, name="ben.xlsx")[0]
    with smtp_server() as (recorder, smtp_port):
        env = smtp_env(smtp_port, "office@school.example")
        with portal_server(db_url, env=env) as base, httpx.Client(base_url=base) as client:
            new = {
                "email": EMAIL,
                "password": PASSWORD,
                "title": "Ms",
                "forename": "Jo",
                "surname": "Bloggs",
                "key": "ABCD-EFGH-JKLM-NPQR-STUV",
            }
            refused = client.post("/api/register", json=new)
            assert refused.status_code == 400
            registered = client.post("/api/register", json={**new, "key": ann_key})
            assert registered.status_code == 201, registered.text
            again = client.post("/api/register", json={**new, "key": ann_key})
            assert again.status_code == 400  # a key works once

            token = client.post("/api/login", json={"email": EMAIL, "password": PASSWORD})
            token = token.json()["token"]
            auth = {"authorization": f"Bearer {token}"}
            me = client.get("/api/me", headers=auth).json()
            assert [p["forename"] for p in me["pupils"]] == ["Ann"]
            assert me["pupils"][0]["licence_types"] == ["Parent/Guardian"] and me["adr"] is True

            added = client.post(
                "/api/pupils", json={"email": EMAIL, "password": PASSWORD, "key": ben_key}
            )
            assert added.status_code == 201, added.text
            me = client.get("/api/me", headers=auth).json()
            assert sorted(p["forename"] for p in me["pupils"]) == ["Ann", "Ben"]

            assert client.post("/api/password/forgot", json={"email": EMAIL}).status_code == 202
            _wait_for_mail(recorder, 1)
            body = recorder.received[0].message.get_content()
            code = re.search(r"^(reset-[A-Za-z0-9_-]{43})\r?$", body, re.M).group(1)
            reset = client.post(
                "/api/password/reset", json={"token": code, "password": NEW_PASSWORD}
            )
            assert reset.status_code == 200
            assert client.get("/api/me", headers=auth).status_code == 401  # every session ended

            token = client.post("/api/login", json={"email": EMAIL, "password": NEW_PASSWORD})
            auth = {"authorization": f"Bearer {token.json()['token']}"}
            gone = client.request(
                "DELETE", "/api/me", json={"password": NEW_PASSWORD}, headers=auth
            )
            assert gone.status_code == 200
            assert client.get("/api/me", headers=auth).status_code == 401
            login = client.post("/api/login", json={"email": EMAIL, "password": NEW_PASSWORD})
            assert login.status_code == 401
    actions = {e.action for e in AuditEvent.select().where(AuditEvent.admin == "portal")}
    assert {"account.register", "key.redeem", "account.password_reset", "account.delete"} <= actions
    assert LicenceKey.select().where(LicenceKey.redeemed_at.is_null(False)).count() == 2


def test_a_denied_account_redeeming_a_key_answers_as_an_unknown_one(db, db_url, tmp_path):
    pupil = add_pupil("Bloggs")
    key = keys_for(tmp_path, pupil, per_pupil=1)[0]
    with portal_server(db_url) as base, httpx.Client(base_url=base) as client:
        new = {"email": EMAIL, "password": PASSWORD, "surname": "Bloggs", "key": key}
        assert client.post("/api/register", json=new).status_code == 201
        user = ExternalUser.get(ExternalUser.surname == "Bloggs")
        access.set_access([user.id], False)
        second = keys_for(tmp_path, pupil, per_pupil=1, name="second.xlsx")[0]
        denied = client.post(
            "/api/pupils", json={"email": EMAIL, "password": PASSWORD, "key": second}
        )
        unknown = client.post(
            "/api/pupils",
            json={"email": "nobody@home.example", "password": PASSWORD, "key": second},
        )
        assert (denied.status_code, denied.content) == (unknown.status_code, unknown.content)
        assert denied.status_code == 400
    assert LicenceKey.select().where(LicenceKey.redeemed_at.is_null(False)).count() == 1
