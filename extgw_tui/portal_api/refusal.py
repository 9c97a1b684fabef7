"""The cheap refusal: a login whose limit this process already found reached is answered here.

A hammer of failed logins on one account keeps arriving after its limit trips; each such
request must cost as little as possible, because it shares the cores with other people's
argon2 verifications. So, before routing, request objects and exception handling, this reads
the body, applies read_json's own checks and, when `portal_limits.tripped` (memory only, no
query) says so, sends the prepared 429. The answer is the very one the login route gives
(same status, headers and bytes); anything else, a body the route would refuse included, goes
on to the route unchanged.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from extgw_tui.portal_api import body as fields
from extgw_tui.portal_api.errors import TOO_MANY, TOO_MANY_HEADERS, ApiError, error_response
from extgw_tui.services import portal_limits
from extgw_tui.services.portal_limits import LOGIN

LOGIN_PATH = "/api/login"


class LimitedLogins:
    """Pure ASGI middleware in front of the router (inside Guard and CORS)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.refusal = error_response(429, TOO_MANY, TOO_MANY_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != LOGIN_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        content_type = _header(scope, b"content-type")
        if not fields.is_json(content_type):
            await self.app(scope, receive, send)
            return
        raw = await _read_body(receive)
        if raw is None:  # the client went away
            return
        client = scope["client"][0] if scope.get("client") else "unknown"
        if _tripped(raw, client):
            await self.refusal(scope, receive, send)
            return
        await self.app(scope, _replay(raw, receive), send)


def _tripped(raw: bytes, client: str) -> bool:
    try:
        data = fields.parse_json(raw, fields.EMAIL, fields.PASSWORD)
    except ApiError:
        return False  # the route answers it, in its own words
    return portal_limits.tripped(LOGIN, client, data["email"])


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(raw: bytes, receive: Receive) -> Receive:
    """The body once more for the route; after it, the real channel (a disconnect)."""
    pending = [{"type": "http.request", "body": raw, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed
