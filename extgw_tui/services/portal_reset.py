"""Forgotten passwords: a one-time token by email, valid for an hour, that ends every session.

The token (256 bits, "reset-" in front: services/mail_secrets.py) is emailed through the outbox
and SMTP (services/mail.py); the database keeps only its SHA-256, and the outbox's copy of the
message loses it once sent, or is discarded unsent when the hour is up. Nothing is sent for
an unknown or a denied address, and the caller answers before this work starts, so the answer
and its time are the same for all three.

The link in the message comes from config.toml, where {token} stands for the token:

    [portal]
    reset_link = "https://www.hillside.example/portal/reset#token={token}"

Without it the message carries the token alone, for the holder to paste.
"""

from __future__ import annotations

from extgw_tui import settings
from extgw_tui.errors import ExtgwError, InvalidInput
from extgw_tui.logs import log
from extgw_tui.models import ExternalUser, PasswordReset, database, live_user, now
from extgw_tui.services import audit, mail, mail_secrets, portal, portal_sessions, school_settings
from extgw_tui.services.passwords import hash_password
from extgw_tui.services.portal_sessions import token_hash

VALID_FOR = mail_secrets.RESET_VALID_FOR
REFUSED = "That reset link is not valid any more; ask for a new one."
R = PasswordReset
U = ExternalUser


def reset_text(token: str) -> tuple[str, str]:
    """The subject and body of the reset message."""
    school = school_settings.load().school_name or "the school"
    template = str(settings.load_config().get("portal", {}).get("reset_link", "")).strip()
    if template and "{token}" in template:
        link = template.replace("{token}", token)
        how = f"Open this link within one hour to choose a new password:\n\n{link}"
    else:
        how = f"Enter this code within one hour to choose a new password:\n\n{token}"
    body = (
        f"Someone (we hope you) asked to reset the password of your {school} External "
        f"Gateway account.\n\n{how}\n\nThe code works once. If you did not ask, ignore this "
        "message: your password stays as it is."
    )
    return f"Reset your {school} External Gateway password", body


def request_reset(email: str) -> bool:
    """Email a reset token if the address is an allowed account; True when one was sent.

    Earlier unused tokens of the account stop working. Errors are logged, never raised: the
    holder was already answered.
    """
    try:
        address = portal.normalise_email(email)
    except InvalidInput:
        return False
    user = portal.allowed_account(address)
    if user is None:
        return False
    token = mail_secrets.new_reset_code()
    when = now()
    with database.atomic():
        R.update(used_at=when).where((R.user == user.id) & R.used_at.is_null()).execute()
        R.create(
            token_hash=token_hash(token), user=user.id, created_at=when, expires_at=when + VALID_FOR
        )
    subject, body = reset_text(token)
    try:
        result = mail.send_to_user(user.id, subject, body)
    except ExtgwError as exc:  # wrong SMTP settings: the administrator reads it in the log
        log.error("password reset for user %s not sent: %s", user.id, exc)
        return False
    return result.ok


def reset_password(token: str, new_password: str) -> None:
    """Set the new password and use the token up; every session of the account ends.

    InvalidInput with REFUSED for an unknown, used or expired token, or one of an account
    that is denied or gone; with the reason for a password that is too short.
    """
    if len(new_password) < portal.MIN_PASSWORD:
        raise InvalidInput(f"A password needs at least {portal.MIN_PASSWORD} characters.")
    new_hash = hash_password(new_password)  # before the transaction: it takes a while
    when = now()
    with database.atomic():
        row = (
            R.select(R.id, U.id, U.email)
            .join(U)
            .where(
                (R.token_hash == token_hash(token))
                & R.used_at.is_null()
                & (R.expires_at > when)
                & (U.access_allowed == True)  # noqa: E712
                & live_user()
            )
            .tuples()
            .first()
        )
        if row is None:
            raise InvalidInput(REFUSED)
        reset_id, user_id, email = row
        if not R.update(used_at=when).where((R.id == reset_id) & R.used_at.is_null()).execute():
            raise InvalidInput(REFUSED)  # used by a request a moment ago
        U.update(password_hash=new_hash).where(U.id == user_id).execute()
        ended = portal_sessions.revoke_all(user_id)
        audit.record(
            "account.password_reset",
            user_id=user_id,
            target=email,
            detail=f"self-service: new password by emailed code; {ended} session(s) ended",
            admin=portal.PORTAL,
        )
