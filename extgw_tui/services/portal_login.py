"""Logging in to the portal and what a signed-in holder sees: the flows behind the HTTP door.

Every path does the same work for an unknown, a denied and a real account with a wrong
password (a limit check, one argon2 verification, the failure counted), so neither the answer
nor its time tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from extgw_tui.models import ExternalUser, database, now
from extgw_tui.services import portal, portal_limits, portal_sessions, school_settings
from extgw_tui.services.licences import user_pupils
from extgw_tui.services.portal_limits import LOGIN

#: Shown with the ADR flag, which the holder cannot change (the seed's help page).
ADR_NOTE = "ADR is set for every account since May 2023 and cannot be changed here."


@dataclass(frozen=True)
class LoginResult:
    """A token on success; `limited` when the rate limit answered instead of the password;
    `closed`: the school's maintenance message while the external login is disabled."""

    token: str | None = None
    limited: bool = False
    closed: str | None = None


def login(email: str, password: str, client: str) -> LoginResult:
    """Check the password (unless a limit is reached), record the login, open a session.

    Every database step is one statement (the settings, both limits, the account with its
    licence types) or one transaction (the login recorded with its session), so on PostgreSQL
    a login costs a few round trips and one commit beside its argon2 verification.
    """
    current = school_settings.load()
    if current.login_disabled:
        return LoginResult(closed=current.maintenance_message)
    standing = portal_limits.standing(LOGIN, client, email)
    if standing.limited:
        return LoginResult(limited=True)
    account = portal.login_account(email)
    matches = portal.password_matches(account.password_hash if account else None, password)
    if (
        account is None
        or not matches
        or (current.end_sessions_without_pupils and not account.licence_mask)
    ):
        portal_limits.note(LOGIN, client, email)
        return LoginResult()
    new_hash = portal.refreshed_hash(account.password_hash, password)
    with database.atomic():
        portal.log_login(account.id, now(), account.licence_mask, new_hash)
        token = portal_sessions.open_session(account.id)
        if standing.email_failures:
            portal_limits.forget_email(LOGIN, email)
    return LoginResult(token=token)


def account_view(user_id: int) -> dict:
    """The account as its holder sees it: details, ADR (read-only), pupils and licence types."""
    user = ExternalUser.get_by_id(user_id)
    return {
        "email": user.email,
        "title": user.title,
        "forename": user.forename,
        "surname": user.surname,
        "adr": bool(user.adr),
        "adr_note": ADR_NOTE,
        "created_at": user.created_at.isoformat(),
        "pupils": [
            {
                "id": pupil.pupil_id,
                "forename": pupil.forename,
                "surname": pupil.surname,
                "year_group": pupil.year_group,
                "form": pupil.form,
                "licence_types": list(pupil.licence_types),
            }
            for pupil in user_pupils(user_id)
        ],
    }
