"""Secrets that travel by email, and the rule that keeps them out of the database afterwards.

A password reset code and a licence key exist for the holder, not for whoever reads the outbox
table later: once a message has been sent or given up on, its stored body keeps that it went
and what it said, never the secret (services/mail.py applies `redact` then). A reset code also
dies after an hour, and so does its message: one still waiting after that is discarded with
the reason instead of sending a dead link (`expired_reason`).

Both are recognised by their form, so the rule holds on every path a message can take (the
portal, `outbox --retry`, the Outbox screen, a key batch) without each path remembering it.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

#: A reset code: this prefix and 32 random bytes, URL-safe base64 (43 characters).
RESET_PREFIX = "reset-"
RESET_CODE = re.compile(r"(?<![\w-])reset-[\w-]{43}(?![\w-])", re.ASCII)
#: A licence key (services/key_codes.py): five groups of four letters and digits.
LICENCE_KEY = re.compile(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}\b")
#: How long a reset code, and a message carrying one, is good for.
RESET_VALID_FOR = timedelta(hours=1)
RESET_REMOVED = "[reset link removed after sending]"
KEY_REMOVED = "[licence key removed once sent]"
EXPIRED = "Not sent: its password reset code had expired (a code lasts one hour)."


def new_reset_code() -> str:
    return RESET_PREFIX + secrets.token_urlsafe(32)


def holds_secret(body: str) -> bool:
    return bool(RESET_CODE.search(body) or LICENCE_KEY.search(body))


def redact(body: str) -> str:
    """The body without its secrets: a line holding a reset code (the code alone, or a link
    around it) becomes RESET_REMOVED; a licence key becomes KEY_REMOVED."""
    lines = [RESET_REMOVED if RESET_CODE.search(line) else line for line in body.split("\n")]
    return LICENCE_KEY.sub(KEY_REMOVED, "\n".join(lines))


def expired_reason(body: str, created_at: datetime, at: datetime) -> str:
    """EXPIRED when the body carries a reset code older than RESET_VALID_FOR, else ""."""
    if created_at + RESET_VALID_FOR <= at and RESET_CODE.search(body):
        return EXPIRED
    return ""
