"""The portal's HTTP door, end to end: the real server (uvicorn, a subprocess) over real HTTP.

Every test runs on SQLite and on PostgreSQL; the administrator's side (deny, remove a pupil,
settings) goes through the same services the app calls, in this process, on the same database.
"""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest
from portal_server import portal_server
from smtp_helpers import smtp_env, smtp_server

from extgw_tui.models import (
    AuditEvent,
    ExternalUser,
    Licence,
    LicenceType,
    LoginEvent,
    OutboxMessage,
    PortalSession,
    Pupil,
    database,
)
from extgw_tui.portal_api.app import ROUTES
from extgw_tui.portal_api.openapi import REQUEST_FIELDS, document
from extgw_tui.services import access, licences, portal, school_settings, statistics

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple battery horse!"
JSON = {"content-type": "application/json"}


@pytest.fixture
def server(db, db_url):
    with portal_server(db_url) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client


def holder(email: str = "jo.bloggs@home.example") -> ExternalUser:
    """An account holding a Parent/Guardian licence for one pupil (made as the app would)."""
    user = portal.register(email, PASSWORD, title="Ms", forename="Jo", surname="Bloggs")
    pupil = Pupil.create(forename="Ann", surname="Bloggs", year_group=9, form="9B")
    Licence.create(user=user, pupil=pupil, licence_type=LicenceType.get(name="Parent/Guardian"))
    return user


def login(client: httpx.Client, email: str, password: str = PASSWORD, **kw) -> httpx.Response:
    return client.post("/api/login", json={"email": email, "password": password}, **kw)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def one_line_error(response: httpx.Response) -> str:
    """The response is a 4xx/5xx with exactly {"error": sentence} (or + request_id) on one line."""
    assert response.headers["content-type"].startswith("application/json")
    text = response.text
    assert "\n" not in text and "Traceback" not in text, text
    for leak in ("SELECT", "INSERT", "sqlite", "psycopg", "peewee", 'File "'):
        assert leak not in text, text
    data = json.loads(text)
    assert set(data) <= {"error", "request_id"} and data["error"], data
    return data["error"]


def test_login_me_logout_and_statistics(server):
    user = holder()
    response = login(server, "  JO.BLOGGS@home.example ")
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    assert PortalSession.get(PortalSession.user == user.id).token_hash != token  # stored hashed
    me = server.get("/api/me", headers=bearer(token))
    assert me.status_code == 200
    data = me.json()
    assert (data["email"], data["surname"], data["adr"]) == (
        "jo.bloggs@home.example",
        "Bloggs",
        True,
    )
    assert data["pupils"] == [
        {
            "id": data["pupils"][0]["id"],
            "forename": "Ann",
            "surname": "Bloggs",
            "year_group": 9,
            "form": "9B",
            "licence_types": ["Parent/Guardian"],
        }
    ]
    # The login is a statistic (the statistics screen reads it), not an audit entry.
    assert LoginEvent.select().where(LoginEvent.user == user.id).count() == 1
    assert statistics.login_series(statistics.ALL, "months").logins[-1] == 1
    assert statistics.account_figures(statistics.ALL).last_30_days == 1
    assert not AuditEvent.select().where(AuditEvent.action.contains("login")).exists()
    assert server.post("/api/logout", headers=bearer(token)).status_code == 204
    gone = server.get("/api/me", headers=bearer(token))
    assert (gone.status_code, one_line_error(gone)) == (401, "Please log in.")


def test_deny_ends_the_session_on_the_next_request(server):
    user = holder()
    token = login(server, user.email).json()["token"]
    assert server.get("/api/me", headers=bearer(token)).status_code == 200
    access.set_access([user.id], False)  # an administrator denies the account
    denied = server.get("/api/me", headers=bearer(token))
    bogus = server.get("/api/me", headers=bearer("x" * 43))
    assert (denied.status_code, denied.content) == (bogus.status_code, bogus.content)
    assert denied.status_code == 401
    access.set_access([user.id], True)
    assert server.get("/api/me", headers=bearer(token)).status_code == 200


def test_removing_the_last_pupil_ends_the_session_where_the_school_wants_it(server):
    user = holder()
    token = login(server, user.email).json()["token"]
    (pupil,) = licences.user_pupils(user.id)
    school_settings.save({"end_sessions_without_pupils": True})
    assert server.get("/api/me", headers=bearer(token)).status_code == 200
    licences.remove_pupil(user.id, pupil.pupil_id)
    assert server.get("/api/me", headers=bearer(token)).status_code == 401
    assert login(server, user.email).status_code == 401  # and no new session either
    school_settings.save({"end_sessions_without_pupils": False})
    assert server.get("/api/me", headers=bearer(token)).status_code == 200


def test_maintenance_refuses_logins_and_pauses_sessions(server):
    user = holder()
    token = login(server, user.email).json()["token"]
    school_settings.save(
        {"login_disabled": True, "maintenance_message": "Closed until 8 am for the upgrade."}
    )
    for response in (
        login(server, user.email),
        server.get("/api/me", headers=bearer(token)),
        server.post("/api/password/forgot", json={"email": user.email}),
    ):
        assert response.status_code == 503
        assert one_line_error(response) == "Closed until 8 am for the upgrade."
    school_settings.save({"login_disabled": False})
    assert server.get("/api/me", headers=bearer(token)).status_code == 200  # resumed
    (off, on) = AuditEvent.select().where(AuditEvent.action.startswith("portal.login_"))
    assert (off.action, on.action) == ("portal.login_off", "portal.login_on")


def _reset_token(recorder, to: str, seen: int) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(recorder.received) <= seen:
        time.sleep(0.05)
    assert len(recorder.received) == seen + 1, "no reset message arrived"
    message = recorder.received[-1]
    assert message.rcpt_tos == [to]
    body = message.message.get_content()
    return re.search(r"^(reset-[A-Za-z0-9_-]{43})\r?$", body, re.M).group(1)


def test_forgot_and_reset_password_through_real_smtp(db, db_url, monkeypatch):
    user = holder()
    other = holder("denied@home.example")
    access.set_access([other.id], False)
    school_settings.save({"bounce_address": "bounces@school.example", "school_name": "Hillside"})
    with smtp_server() as (recorder, smtp_port):
        env = smtp_env(smtp_port, "Hillside Office <office@school.example>")
        with (
            portal_server(db_url, env=env) as base,
            httpx.Client(base_url=base, timeout=30) as client,
        ):
            session = login(client, user.email).json()["token"]
            answers = [
                client.post("/api/password/forgot", json={"email": email})
                for email in ("nobody@home.example", other.email, user.email)
            ]
            assert {(a.status_code, a.content) for a in answers} == {
                (answers[0].status_code, answers[0].content)
            }
            assert answers[0].status_code == 202
            token = _reset_token(recorder, user.email, 0)
            time.sleep(1)  # nothing else arrives: not for the denied, not for the unknown
            assert len(recorder.received) == 1
            message = recorder.received[0]
            assert message.mail_from == "bounces@school.example"  # the envelope sender
            assert "Hillside" in message.message["Subject"]

            short = client.post("/api/password/reset", json={"token": token, "password": "short"})
            assert short.status_code == 400 and "at least" in one_line_error(short)
            done = client.post(
                "/api/password/reset", json={"token": token, "password": NEW_PASSWORD}
            )
            assert done.status_code == 200, done.text
            again = client.post(
                "/api/password/reset", json={"token": token, "password": NEW_PASSWORD}
            )
            bogus = client.post(
                "/api/password/reset", json={"token": "y" * 43, "password": NEW_PASSWORD}
            )
            assert again.status_code == 400 and again.content == bogus.content
            assert client.get("/api/me", headers=bearer(session)).status_code == 401  # ended
            assert login(client, user.email).status_code == 401
            assert login(client, user.email, NEW_PASSWORD).status_code == 200
    entry = AuditEvent.get(AuditEvent.action == "account.password_reset")
    assert (entry.admin, entry.user_id) == ("portal", user.id)
    assert token not in entry.detail
    stored = OutboxMessage.get()  # the server has stopped: its sending is over
    assert stored.status == "sent" and token not in stored.body


def test_delete_own_account(server):
    user = holder()
    token = login(server, user.email).json()["token"]
    wrong = server.request(
        "DELETE", "/api/me", json={"password": "not the password"}, headers=bearer(token)
    )
    assert (wrong.status_code, one_line_error(wrong)) == (401, "The password is not right.")
    done = server.request("DELETE", "/api/me", json={"password": PASSWORD}, headers=bearer(token))
    assert done.status_code == 200, done.text
    assert server.get("/api/me", headers=bearer(token)).status_code == 401
    assert login(server, user.email).status_code == 401
    entry = AuditEvent.get(AuditEvent.action == "account.delete")
    assert (entry.admin, entry.user_id) == ("portal", user.id)


def test_denied_answers_exactly_as_unknown(server):
    denied = holder("denied@home.example")
    access.set_access([denied.id], False)
    pairs = [
        (login(server, denied.email), login(server, "nobody@home.example")),
        (
            login(server, denied.email, "wrong password"),
            login(server, "nobody@home.example", "x" * 12),
        ),
        (
            server.post(
                "/api/pupils",
                json={
                    "email": denied.email,
                    "password": PASSWORD,
                    "key": "ABCD-EFGH-JKLM-NPQR-STUV",
                },
            ),
            server.post(
                "/api/pupils",
                json={
                    "email": "nobody@home.example",
                    "password": PASSWORD,
                    "key": "ABCD-EFGH-JKLM-NPQR-STUV",
                },
            ),
        ),
        (
            server.post("/api/password/forgot", json={"email": denied.email}),
            server.post("/api/password/forgot", json={"email": "nobody@home.example"}),
        ),
    ]
    for a, b in pairs:
        assert (a.status_code, a.content) == (b.status_code, b.content)
        assert a.status_code in (202, 400, 401)


def test_failed_logins_are_limited_the_same_for_every_address(server):
    real = holder()
    for email in (real.email, "nobody@home.example"):
        answers = [login(server, email, "wrong password").status_code for _ in range(11)]
        assert answers == [401] * 10 + [429]
        assert login(server, email).status_code == 429  # even the right password, for now
    # another account is not affected
    other = holder("other@home.example")
    assert login(server, other.email).status_code == 200


def _answer(response: httpx.Response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k not in ("x-request-id", "date")}
    return response.status_code, headers, response.content


def test_a_limit_remembered_in_memory_answers_as_the_route_does(server, db_url):
    """Once the database said "limited", the refusal comes before routing (refusal.py): the
    same status, headers and bytes as the route's, for a real and an unknown address alike;
    a body the route would refuse is still refused in the route's words; and no query is
    made (on PostgreSQL a lock on the tables a login reads does not hold it up)."""
    real = holder()
    answers = []
    for email in (real.email, "nobody@home.example"):
        for _ in range(10):
            login(server, email, "wrong password")
        from_route = login(server, email, "wrong password")  # the database said "limited"
        from_memory = login(server, email, "wrong password")
        assert from_route.status_code == 429
        assert _answer(from_memory) == _answer(from_route)
        answers.append(_answer(from_memory))
        if db_url.startswith("postgres"):
            with database.atomic():
                database.execute_sql(
                    "LOCK TABLE setting, attempt, external_user IN ACCESS EXCLUSIVE MODE"
                )
                assert _answer(login(server, email, timeout=5)) == answers[-1]
        bad = server.post("/api/login", json={"email": email, "password": 5})
        assert bad.status_code == 400
        assert one_line_error(bad) == "The field 'password' must be a string."
    assert answers[0] == answers[1]


BAD_BODIES = [
    (b"{", JSON),
    (b"[]", JSON),
    (b'"just a string"', JSON),
    (b'{"email": 5, "password": "xxxxxxxxxxxx"}', JSON),
    (b'{"email": null, "password": "xxxxxxxxxxxx"}', JSON),
    (b'{"email": ["a@b.example"], "password": "xxxxxxxxxxxx"}', JSON),
    (b'{"email": "a@b.example"}', JSON),
    (b'{"email": "a@b.example", "password": "xxxxxxxxxxxx", "admin": true}', JSON),
    (b'{"email": "a@b.example", "email": "b@b.example", "password": "x"}', JSON),
    (b'{"email": "a@b.example", "password": NaN}', JSON),
    (b'{"email": "\\ud800@b.example", "password": "xxxxxxxxxxxx"}', JSON),
    (b'{"email": "a\\u0000@b.example", "password": "xxxxxxxxxxxx"}', JSON),
    (b'{"email": "a@b.example\\r\\nBcc: all@b.example", "password": "xxxxxxxxxxxx"}', JSON),
    (b'{"email": "a@b.example\\u202e", "password": "xxxxxxxxxxxx"}', JSON),
    ('{"email": "ä@b.example", "password": "xxxxxxxxxxxx"}'.encode("latin-1"), JSON),
    (b'{"email": "' + b"a" * 5000 + b'@b.example", "password": "x"}', JSON),
    (b"[" * 50_000, JSON),
    (b"x" * 1_000_000, JSON),
    (b'{"email": "a@b.example", "password": "xxxxxxxxxxxx"}', {"content-type": "text/plain"}),
    (
        b"email=a@b.example&password=xxxxxxxxxxxx",
        {"content-type": "application/x-www-form-urlencoded"},
    ),
]

ODD_BUT_WELL_FORMED = [
    "' OR '1'='1' --@b.example",
    "admin'--",
    "a@b.example'; DROP TABLE external_user; --",
    "a@b.example%0d%0aSet-Cookie: x=y",
    "\u200b\u200ba@b.example",  # zero-width spaces
    "ǅ@b.example",
    "ﬃ@b.example",
    "😀@b.example",
    "𝐚@b.example",
    "a@xn--bcher-kva.example",
]


def test_bad_input_gets_a_4xx_with_one_line_of_json(server):
    for content, headers in BAD_BODIES:
        response = server.post("/api/login", content=content, headers=headers)
        assert 400 <= response.status_code < 500, (content[:60], response.status_code)
        one_line_error(response)
    # a body sent in chunks without a length is cut off as it arrives
    chunked = server.post("/api/login", content=iter([b"x" * 50_000] * 30), headers=JSON)
    assert chunked.status_code == 413 and "too large" in one_line_error(chunked)
    for email in ODD_BUT_WELL_FORMED:
        for path in ("/api/login", "/api/password/forgot"):
            body = (
                {"email": email, "password": "xxxxxxxxxxxx"}
                if path.endswith("login")
                else {"email": email}
            )
            response = server.post(path, json=body)
            assert 200 <= response.status_code < 500, (email, response.status_code)
            if response.status_code >= 400:
                one_line_error(response)
    for method, path in (("GET", "/api/login"), ("GET", "/nowhere"), ("PUT", "/api/me")):
        response = server.request(method, path)
        assert response.status_code in (404, 405)
        one_line_error(response)
    assert ExternalUser.select().count() == 0
    # the security headers are on every answer, and CORS is off unless configured
    response = server.options(
        "/api/login",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers
    for name in (
        "x-content-type-options",
        "content-security-policy",
        "x-frame-options",
        "x-request-id",
    ):
        assert name in response.headers
    assert "server" not in response.headers


def test_an_internal_error_shows_a_request_id_and_logs_the_detail(server, db, isolated_env):
    user = holder()
    token = login(server, user.email).json()["token"]
    db.execute_sql('DROP TABLE "portal_session"')  # something goes badly wrong underneath
    response = server.get("/api/me", headers=bearer(token))
    assert response.status_code in (500, 503)
    one_line_error(response)
    request_id = response.json()["request_id"]
    assert request_id == response.headers["x-request-id"]
    log_text = (isolated_env / "log" / "extgw-tui.log").read_text()
    assert request_id in log_text and "Traceback" in log_text


def test_openapi_describes_exactly_the_routes(server):
    served = {
        (route.path, method.lower()) for route in ROUTES for method in route.methods - {"HEAD"}
    }
    served.add(("/api/openapi.json", "get"))
    doc = server.get("/api/openapi.json").json()
    described = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert described == served
    assert doc == document()
    # each request schema names exactly the fields the endpoint accepts
    for (path, method), fields in REQUEST_FIELDS.items():
        body = {f.name: "x" for f in fields} | {"zzz": "x"}
        response = server.request(method.upper(), path, json=body)
        if response.status_code == 401:  # DELETE /api/me: signed in first
            continue
        assert one_line_error(response) == "Unknown field 'zzz'.", path
