"""Logging in to the portal and what a signed-in holder sees: the flows behind the HTTP door.

Every path does the same work for an unknown, a denied and a real account with a wrong
password (a limit check, one argon2 verification, the failure counted), so neither the answer
nor its time tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from extgw_tui.models import ExternalUser, Licence
from extgw_tui.services import portal, portal_limits, portal_sessions, school_settings
from extgw_tui.services.licences import user_pupils
from extgw_tui.services.portal_limits import LOGIN

#: Shown with the ADR flag, which the holder cannot change (the seed's help page).
ADR_NOTE = "ADR is set for every account since May 2023 and cannot be changed here."


@dataclass(frozen=True)
class LoginResult:
    """A token on success; `limited` when the rate limit answered instead of the password."""

    token: str | None = None
    limited: bool = False


def holds_pupil(user_id: int) -> bool:
    return Licence.select(Licence.id).where(Licence.user == user_id).exists()


def login(email: str, password: str, client: str) -> LoginResult:
    """Check the password (unless a limit is reached), record the login, open a session."""
    if portal_limits.is_limited(LOGIN, client, email):
        return LoginResult(limited=True)
    user = portal.check_credentials(email, password)
    if (
        user is not None
        and school_settings.load().end_sessions_without_pupils
        and not holds_pupil(user.id)
    ):
        user = None
    if user is None:
        portal_limits.note(LOGIN, client, email)
        return LoginResult()
    portal.complete_login(user, password)
    token = portal_sessions.open_session(user.id)
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
