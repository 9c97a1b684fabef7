"""Errors as the portal answers them: a status code and one sentence, as one line of JSON."""

from __future__ import annotations

from starlette.responses import JSONResponse


class ApiError(Exception):
    """Answered as {"error": message} with this status; never carries internal detail."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


# The answers every client can see: the same bytes whatever the account behind them.
LOGIN_REFUSED = "The email address or password is not right."
PASSWORD_REFUSED = "The password is not right."
NOT_SIGNED_IN = "Please log in."
TOO_MANY = "Too many attempts; please wait a while and try again."
#: Sent with TOO_MANY: the longest limit window (15 minutes) is how long to wait at most.
TOO_MANY_HEADERS = {"Retry-After": "900"}
RESET_SENT = (
    "If that address belongs to an account, a message with a reset code is on its way; "
    "the code works once, within one hour."
)
