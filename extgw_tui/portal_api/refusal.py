"""The cheap refusal: a login whose limit this process already found reached is answered here.

A hammer of failed logins on one account keeps arriving after its limit trips; each such
request must cost as little as possible, because it shares the cores with other people's
argon2 verifications. So, before routing, request objects and exception handling, this reads
the body, applies read_json's own checks and, when `portal_limits.tripped` (memory only, no
query) says so, sends the prepared 429. The answer is the very one the login route gives
(same status, headers and bytes); anything else, a body the route would refuse included, goes
on to the route unchanged.

However cheap each answer, a client that sends the next attempt the moment the last is
answered keeps the event loop busy all the time, on cores the logins' argon2 needs: the
faster the answers, the faster it sends. So the refusals of one limited scope (a client
address, or an email address whatever the client) are also paced: at most REFUSALS_PER_SECOND,
each waiting (a timer, no CPU) for its turn. A refused client loses nothing by it, and what
one scope can take of the server is bounded however fast or on how many connections it sends.
"""

from __future__ import annotations

import asyncio
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from extgw_tui.portal_api import body as fields
from extgw_tui.portal_api.errors import TOO_MANY, TOO_MANY_HEADERS, ApiError, error_response
from extgw_tui.services import portal_limits
from extgw_tui.services.portal_limits import LOGIN

LOGIN_PATH = "/api/login"
#: Refusals answered per second at most for one limited scope (in each worker process).
REFUSALS_PER_SECOND = 500
#: A refusal never waits longer than this; past it, it is answered without taking a turn.
MOST_WAIT = 1.0


class Pacer:
    """Turns for the refusals of each scope, REFUSALS_PER_SECOND apart."""

    def __init__(self) -> None:
        self.next_turn: dict[str, float] = {}

    def wait(self, scope: str) -> float:
        """Seconds this refusal waits for its turn (0 when the scope has been quiet)."""
        moment = time.monotonic()
        turn = max(moment, self.next_turn.get(scope, 0.0))
        if turn - moment >= MOST_WAIT:
            return MOST_WAIT
        if len(self.next_turn) > 10_000:  # a flood of addresses: start again, stay small
            self.next_turn.clear()
        self.next_turn[scope] = turn + 1 / REFUSALS_PER_SECOND
        return turn - moment


class LimitedLogins:
    """Pure ASGI middleware in front of the router (inside Guard and CORS)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.refusal = error_response(429, TOO_MANY, TOO_MANY_HEADERS)
        self.pacer = Pacer()

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
        limited = _tripped_scope(raw, client)
        if limited is not None:
            delay = self.pacer.wait(limited)
            if delay > 0:
                await asyncio.sleep(delay)
            await self.refusal(scope, receive, send)
            return
        await self.app(scope, _replay(raw, receive), send)


def _tripped_scope(raw: bytes, client: str) -> str | None:
    try:
        data = fields.parse_json(raw, fields.EMAIL, fields.PASSWORD)
    except ApiError:
        return None  # the route answers it, in its own words
    return portal_limits.tripped_scope(LOGIN, client, data["email"])


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
