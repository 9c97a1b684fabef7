"""Each account's licence types, as its licences say and as its row records (a helper module):
ExternalUser.licence_mask must always equal the first."""

from __future__ import annotations

from extgw_tui.models import ExternalUser, Licence, licence_bit


def masks_held() -> dict[int, int]:
    """Every account's licence types, OR-ed from its licence rows."""
    held = {user_id: 0 for (user_id,) in ExternalUser.select(ExternalUser.id).tuples()}
    for user_id, type_id in Licence.select(Licence.user, Licence.licence_type).tuples():
        held[user_id] |= licence_bit(type_id)
    return held


def masks_recorded() -> dict[int, int]:
    """Every account's licence_mask as its row holds it."""
    return dict(ExternalUser.select(ExternalUser.id, ExternalUser.licence_mask).tuples())
