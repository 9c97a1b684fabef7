"""The outermost layer of every request: request id, body limit, security headers, last resort.

Whatever goes wrong inside, the client gets one line of JSON and a request id (also in the
X-Request-ID header); the traceback and the SQL stay in the log file under that id.
"""

from __future__ import annotations

import json
import uuid

import peewee
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from extgw_tui.logs import log

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
    (b"strict-transport-security", b"max-age=31536000"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class BodyTooLarge(Exception):
    pass


def _json_body(message: str, request_id: str | None = None) -> bytes:
    data = {"error": message}
    if request_id:
        data["request_id"] = request_id
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


class Guard:
    """Pure ASGI middleware (no buffering of responses)."""

    def __init__(self, app: ASGIApp, *, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                headers += SECURITY_HEADERS + [(b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        async def answer(status: int, body: bytes) -> None:
            if started:
                return
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})

        declared = _content_length(scope)
        if declared is not None and declared > self.max_body:
            await answer(413, _json_body(f"The body is too large (at most {self.max_body} bytes)."))
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            await answer(413, _json_body(f"The body is too large (at most {self.max_body} bytes)."))
        except peewee.OperationalError:
            log.exception("portal request %s: database busy or unreachable", request_id)
            await answer(
                503,
                _json_body("The portal is busy; please try again in a moment.", request_id),
            )
        except Exception:
            log.exception("portal request %s failed", request_id)
            await answer(
                500,
                _json_body(
                    "Something went wrong on our side; please quote the request id.", request_id
                ),
            )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
