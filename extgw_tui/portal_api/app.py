"""The Starlette application: routes, error answers, CORS (off unless configured), lifespan.

`create_app()` is what uvicorn runs in each worker process (a factory, so each opens its own
database connections): the database URL comes from EXTGW_DB and the school (recorded on every
audit entry) from EXTGW_SCHOOL, both set by `extgw-tui portal`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from extgw_tui import settings
from extgw_tui.db import open_database, redact_url
from extgw_tui.logs import log, setup_logging
from extgw_tui.portal_api import routes
from extgw_tui.portal_api.config import load_portal_config
from extgw_tui.portal_api.errors import ApiError, error_response
from extgw_tui.portal_api.guard import Guard
from extgw_tui.portal_api.openapi import document
from extgw_tui.portal_api.pool import Pools
from extgw_tui.portal_api.refusal import LimitedLogins
from extgw_tui.services import audit, mail, portal, portal_sessions, schools, throttle

#: Seconds between two clean-ups of ended sessions and used reset codes.
HOUSEKEEPING = 3600

ROUTES = [
    Route("/api/register", routes.register, methods=["POST"]),
    Route("/api/login", routes.login, methods=["POST"]),
    Route("/api/logout", routes.logout, methods=["POST"]),
    Route("/api/me", routes.me, methods=["GET"]),
    Route("/api/me", routes.delete_me, methods=["DELETE"]),
    Route("/api/pupils", routes.add_pupil, methods=["POST"]),
    Route("/api/password/forgot", routes.forgot, methods=["POST"]),
    Route("/api/password/reset", routes.reset, methods=["POST"]),
]


async def openapi(request: Request) -> Response:
    return JSONResponse(document())


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, exc.headers)


_HTTP_TEXT = {404: "There is nothing at this address.", 405: "That method is not allowed here."}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    text = _HTTP_TEXT.get(exc.status_code, "The request cannot be answered.")
    return error_response(exc.status_code, text, dict(exc.headers or {}))


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    setup_logging()
    audit.set_admin(portal.PORTAL)
    db = open_database(settings.db_url())
    db.close()  # each worker thread opens its own connection
    app.state.pools = pools = Pools()
    school = schools.current()
    log.info(
        "portal worker %s started on %s%s",
        os.getpid(),
        redact_url(settings.db_url()),
        f" for school {school.key}" if school else "",
    )
    cleaner = asyncio.create_task(_housekeeping(pools))
    try:
        yield
    finally:
        cleaner.cancel()
        pools.close()


async def _housekeeping(pools: Pools) -> None:
    """Delete what has ended for a day: sessions, reset codes and counted failed attempts
    (they only grow otherwise; a login never waits for this); discard reset messages that
    could not go within their code's hour (services/mail.py)."""
    while True:
        try:
            await pools.query(portal_sessions.purge_expired)
            await pools.query(throttle.purge_expired)
            await pools.query(mail.discard_expired)
        except Exception:  # the next round tries again; the portal itself goes on
            log.exception("portal: housekeeping failed")
        await asyncio.sleep(HOUSEKEEPING)


def create_app() -> Starlette:
    config = load_portal_config()
    config.apply()
    chosen = settings.value("chosen_school")
    if chosen:
        schools.set_current(schools.find(chosen, schools.configured()))
    middleware = [Middleware(Guard, max_body=config.max_body_bytes)]
    if config.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_origins),
                allow_methods=["GET", "POST", "DELETE"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            )
        )
    middleware.append(Middleware(LimitedLogins))  # innermost: its 429 gets every header
    return Starlette(
        routes=[*ROUTES, Route("/api/openapi.json", openapi, methods=["GET"])],
        middleware=middleware,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
        lifespan=_lifespan,
    )
