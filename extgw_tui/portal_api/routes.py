"""The endpoints: each reads its JSON, calls one service off the event loop, answers JSON.

Answers that a parent can reach never tell an unknown, a denied and a real account apart:
the same status, the same bytes (request ids travel in a header, not the body).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from extgw_tui.errors import InvalidInput
from extgw_tui.logs import log
from extgw_tui.portal_api import body as fields
from extgw_tui.portal_api.body import read_json
from extgw_tui.portal_api.errors import (
    LOGIN_REFUSED,
    NOT_SIGNED_IN,
    PASSWORD_REFUSED,
    RESET_SENT,
    TOO_MANY,
    TOO_MANY_HEADERS,
    ApiError,
)
from extgw_tui.portal_api.pool import Pools
from extgw_tui.services import (
    portal,
    portal_limits,
    portal_login,
    portal_reset,
    portal_sessions,
    registration,
    school_settings,
)
from extgw_tui.services.portal_limits import LOGIN, RESET_REQUEST, RESET_TOKEN
from extgw_tui.services.portal_sessions import SessionUser


def _pools(request: Request) -> Pools:
    return request.app.state.pools


def _client(request: Request) -> str:
    """The client's address (uvicorn resolves X-Forwarded-For from trusted proxies)."""
    return request.client.host if request.client else "unknown"


def _too_many() -> ApiError:
    return ApiError(429, TOO_MANY, TOO_MANY_HEADERS)


def _closed(message: str) -> ApiError:
    return ApiError(503, message, {"Retry-After": "600"})


async def _open(request: Request) -> school_settings.SchoolSettings:
    """The settings in force; 503 with the school's message while the login is disabled."""
    current = await _pools(request).query(school_settings.load)
    if current.login_disabled:
        raise _closed(current.maintenance_message)
    return current


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def _signed_in(request: Request) -> SessionUser:
    current = await _open(request)
    who = await _pools(request).query(
        lambda: portal_sessions.resolve(
            _bearer(request), require_pupil=current.end_sessions_without_pupils
        )
    )
    if who is None:
        raise ApiError(401, NOT_SIGNED_IN, {"WWW-Authenticate": "Bearer"})
    return who


async def register(request: Request) -> Response:
    data = await read_json(
        request,
        fields.EMAIL,
        fields.PASSWORD,
        fields.TITLE,
        fields.FORENAME,
        fields.SURNAME,
        fields.KEY,
    )
    await _open(request)
    client = _client(request)
    try:
        user = await _pools(request).hash(
            lambda: registration.register(
                data["email"],
                data["password"],
                data["title"],
                data["forename"],
                data["surname"],
                data["key"],
                client,
            )
        )
    except InvalidInput as exc:
        raise ApiError(400, str(exc)) from None
    return JSONResponse({"email": user.email, "message": "Your account is ready; log in."}, 201)


async def add_pupil(request: Request) -> Response:
    data = await read_json(request, fields.EMAIL, fields.PASSWORD, fields.KEY)
    await _open(request)
    client = _client(request)
    try:
        await _pools(request).hash(
            lambda: registration.register_pupil(
                data["email"], data["password"], data["key"], client
            )
        )
    except InvalidInput as exc:
        raise ApiError(400, str(exc)) from None
    return JSONResponse({"message": "The pupil has been added to your account."}, 201)


async def login(request: Request) -> Response:
    # A limit this process already found reached was answered before routing (refusal.py);
    # the settings (maintenance) are read in the same call as the login, not in one before it.
    data = await read_json(request, fields.EMAIL, fields.PASSWORD)
    result = await _pools(request).hash(
        portal_login.login, data["email"], data["password"], _client(request)
    )
    if result.closed is not None:
        raise _closed(result.closed)
    if result.limited:
        raise _too_many()
    if result.token is None:
        raise ApiError(401, LOGIN_REFUSED)
    return JSONResponse(
        {
            "token": result.token,
            "token_type": "Bearer",
            "idle_seconds": int(portal_sessions.IDLE.total_seconds()),
        }
    )


async def logout(request: Request) -> Response:
    token = _bearer(request)
    if token:
        await _pools(request).query(portal_sessions.revoke, token)
    return Response(status_code=204)


async def me(request: Request) -> Response:
    who = await _signed_in(request)
    return JSONResponse(await _pools(request).query(portal_login.account_view, who.user_id))


async def delete_me(request: Request) -> Response:
    who = await _signed_in(request)
    data = await read_json(request, fields.PASSWORD)
    client = _client(request)
    pools = _pools(request)
    if await pools.query(portal_limits.is_limited, LOGIN, client, who.email):
        raise _too_many()
    if not await pools.hash(portal.delete_own_account, who.email, data["password"]):
        await pools.query(portal_limits.note, LOGIN, client, who.email)
        raise ApiError(401, PASSWORD_REFUSED)
    log.info("portal: user %s deleted their own account", who.user_id)
    return JSONResponse({"message": "Your account has been deleted."})


async def forgot(request: Request) -> Response:
    data = await read_json(request, fields.EMAIL)
    await _open(request)
    client = _client(request)
    pools = _pools(request)
    if await pools.query(portal_limits.is_limited, RESET_REQUEST, client, data["email"]):
        raise _too_many()
    await pools.query(portal_limits.note, RESET_REQUEST, client, data["email"])
    # Answered before the address is even looked up: the same bytes and time for all.
    pools.detach(portal_reset.request_reset, data["email"])
    return JSONResponse({"message": RESET_SENT}, status_code=202)


async def reset(request: Request) -> Response:
    data = await read_json(request, fields.TOKEN, fields.PASSWORD)
    await _open(request)
    client = _client(request)
    pools = _pools(request)
    if await pools.query(portal_limits.is_limited, RESET_TOKEN, client):
        raise _too_many()
    try:
        await pools.hash(portal_reset.reset_password, data["token"], data["password"])
    except InvalidInput as exc:
        if str(exc) == portal_reset.REFUSED:
            await pools.query(portal_limits.note, RESET_TOKEN, client)
        raise ApiError(400, str(exc)) from None
    return JSONResponse({"message": "Your password has been changed; log in with it."})
