"""Reading a JSON request body strictly: one object of known string fields, or a 4xx sentence.

Anything odd (not JSON, not UTF-8, duplicate or unknown keys, wrong types, lone surrogates,
NUL or other control characters, too long) is refused here, before any service sees it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.requests import Request

from extgw_tui.escapes import escape_controls
from extgw_tui.portal_api.errors import ApiError


@dataclass(frozen=True)
class Field:
    name: str
    max_length: int
    required: bool = True
    #: Passwords may hold any printable character, spaces at either end included.
    secret: bool = False


EMAIL = Field("email", 254)
PASSWORD = Field("password", 1024, secret=True)
KEY = Field("key", 64)
TOKEN = Field("token", 200)
TITLE = Field("title", 20, required=False)
FORENAME = Field("forename", 100, required=False)
SURNAME = Field("surname", 100)


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise ApiError(400, f"The field {_shown(key)} appears twice.")
        seen[key] = value
    return seen


def _no_constant(name: str) -> float:
    raise ApiError(400, "The body is not valid JSON.")


def _shown(name: str) -> str:
    return repr(escape_controls(name[:40]))


def _check(field: Field, value: object) -> str:
    if not isinstance(value, str):
        raise ApiError(400, f"The field {field.name!r} must be a string.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(
            400, f"The field {field.name!r} holds characters that are not allowed."
        ) from None
    if len(value) > field.max_length:
        raise ApiError(400, f"The field {field.name!r} is too long (at most {field.max_length}).")
    if "\x00" in value or (
        not field.secret and any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value)
    ):
        raise ApiError(400, f"The field {field.name!r} holds control characters.")
    if field.required and not value.strip():
        raise ApiError(400, f"The field {field.name!r} is required.")
    return value


async def read_json(request: Request, *fields: Field) -> dict[str, str]:
    """The body's fields, checked; ApiError (415, 400) for anything else."""
    if not is_json(request.headers.get("content-type", "")):
        raise ApiError(415, "Send the body as JSON (Content-Type: application/json).")
    return parse_json(await request.body(), *fields)


def is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/json"


def parse_json(raw: bytes, *fields: Field) -> dict[str, str]:
    """read_json's checks on a body already read (portal_api/refusal.py reads it itself)."""
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.")
    known = {f.name for f in fields}
    for name in data:
        if name not in known:
            raise ApiError(400, f"Unknown field {_shown(name)}.")
    values: dict[str, str] = {}
    for field in fields:
        if field.name not in data:
            if field.required:
                raise ApiError(400, f"The field {field.name!r} is required.")
            values[field.name] = ""
            continue
        values[field.name] = _check(field, data[field.name])
    return values
