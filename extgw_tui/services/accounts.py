"""Deleting accounts: licences go with them, login history stays without the personal link."""

from __future__ import annotations

from collections.abc import Sequence

from extgw_tui.models import ExternalUser, Licence, LoginEvent, OutboxMessage
from extgw_tui.services.chunks import chunked


def delete_users(user_ids: Sequence[int]) -> int:
    """Delete the accounts; call inside the caller's transaction, which also writes the audit.

    Done explicitly rather than by ON DELETE so the outcome is the same whatever the backend's
    foreign-key settings.
    """
    deleted = 0
    for part in chunked(list(user_ids)):
        Licence.delete().where(Licence.user.in_(part)).execute()
        LoginEvent.update(user=None).where(LoginEvent.user.in_(part)).execute()
        OutboxMessage.update(user=None).where(OutboxMessage.user.in_(part)).execute()
        deleted += ExternalUser.delete().where(ExternalUser.id.in_(part)).execute()
    return deleted
