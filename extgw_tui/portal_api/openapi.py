"""The OpenAPI 3.1 description served at /api/openapi.json, kept by hand beside the routes.

tests/test_portal_api.py checks that it names exactly the routes the app serves, and that each
request schema lists exactly the fields portal_api/body.py accepts.
"""

from __future__ import annotations

from extgw_tui import __version__
from extgw_tui.portal_api import body

_ERROR = {"$ref": "#/components/schemas/Error"}


def _schema(*fields: body.Field) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [f.name for f in fields if f.required],
        "properties": {f.name: {"type": "string", "maxLength": f.max_length} for f in fields},
    }


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _answers(ok: int, ok_text: str, *errors: int, ok_schema: dict | None = None) -> dict:
    answers: dict = {str(ok): {"description": ok_text}}
    if ok_schema is not None:
        answers[str(ok)].update(_json(ok_schema))
    for status in (*errors, 413, 415, 503):
        answers[str(status)] = {"description": _STATUS[status], **_json(_ERROR)}
    return answers


_STATUS = {
    400: "Bad input or refused: one sentence in `error`",
    401: "Not signed in, or the credentials are not right (the same for every account)",
    413: "The body is too large",
    415: "The body is not JSON",
    429: "Too many attempts from this client or for this address",
    503: "The school has closed the portal for maintenance (its message in `error`)",
}

_MESSAGE = {"type": "object", "properties": {"message": {"type": "string"}}}
_BEARER = [{"bearer": []}]

REQUEST_FIELDS: dict[tuple[str, str], tuple[body.Field, ...]] = {
    ("/api/register", "post"): (
        body.EMAIL,
        body.PASSWORD,
        body.TITLE,
        body.FORENAME,
        body.SURNAME,
        body.KEY,
    ),
    ("/api/login", "post"): (body.EMAIL, body.PASSWORD),
    ("/api/pupils", "post"): (body.EMAIL, body.PASSWORD, body.KEY),
    ("/api/password/forgot", "post"): (body.EMAIL,),
    ("/api/password/reset", "post"): (body.TOKEN, body.PASSWORD),
    ("/api/me", "delete"): (body.PASSWORD,),
}

_PUPIL = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "forename": {"type": "string"},
        "surname": {"type": "string"},
        "year_group": {"type": ["integer", "null"]},
        "form": {"type": "string"},
        "licence_types": {"type": "array", "items": {"type": "string"}},
    },
}
_ME = {
    "type": "object",
    "properties": {
        "email": {"type": "string"},
        "title": {"type": "string"},
        "forename": {"type": "string"},
        "surname": {"type": "string"},
        "adr": {"type": "boolean", "description": "read-only"},
        "adr_note": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "pupils": {"type": "array", "items": _PUPIL},
    },
}
_TOKEN = {
    "type": "object",
    "properties": {
        "token": {"type": "string", "description": "send as `Authorization: Bearer <token>`"},
        "token_type": {"const": "Bearer"},
        "idle_seconds": {"type": "integer"},
    },
}


def _operation(
    summary: str,
    ok: int,
    ok_text: str,
    *errors: int,
    ok_schema: dict | None = _MESSAGE,
    signed_in: bool = False,
) -> dict:
    operation: dict = {"summary": summary}
    if signed_in:
        operation["security"] = _BEARER
    operation["responses"] = _answers(ok, ok_text, *errors, ok_schema=ok_schema)
    return operation


_OPERATIONS: dict[tuple[str, str], dict] = {
    ("/api/register", "post"): _operation(
        "Register a new account with a licence key", 201, "Account created", 400, 429
    ),
    ("/api/login", "post"): _operation(
        "Log in: a session token (sliding expiry)", 200, "Signed in", 401, 429, ok_schema=_TOKEN
    ),
    ("/api/logout", "post"): {
        "summary": "End this session",
        "security": _BEARER,
        "responses": {"204": {"description": "Session ended (or there was none)"}},
    },
    ("/api/me", "get"): _operation(
        "The account, its pupils and licence types; ADR read-only",
        200,
        "The account",
        401,
        ok_schema=_ME,
        signed_in=True,
    ),
    ("/api/me", "delete"): _operation(
        "Delete one's own account (password confirmed)",
        200,
        "Deleted",
        400,
        401,
        429,
        signed_in=True,
    ),
    ("/api/pupils", "post"): _operation(
        "Register a pupil on an existing account with a licence key", 201, "Pupil added", 400, 429
    ),
    ("/api/password/forgot", "post"): _operation(
        "Email a one-time reset code (the same answer for every address)", 202, "Accepted", 400, 429
    ),
    ("/api/password/reset", "post"): _operation(
        "Set a new password with the emailed code; ends every session", 200, "Changed", 400, 429
    ),
    ("/api/openapi.json", "get"): {
        "summary": "This description",
        "responses": {"200": {"description": "OpenAPI 3.1"}},
    },
}


def document() -> dict:
    paths: dict = {}
    for (path, method), operation in _OPERATIONS.items():
        op = dict(operation)
        if (path, method) in REQUEST_FIELDS:
            op["requestBody"] = {"required": True, **_json(_schema(*REQUEST_FIELDS[path, method]))}
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "External Gateway portal", "version": __version__},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "request_id": {"type": "string", "description": "only on 500"},
                    },
                }
            },
        },
    }
