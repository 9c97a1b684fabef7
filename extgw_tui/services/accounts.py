"""Deleting accounts: a soft delete that the activity log's Undo can reverse until the purge.

A deleted account is hidden everywhere (models.live_user()) and cannot log in; its licences
go at once (so its pupils no longer count it as a holder) but are kept in BatchLicence under
the deleting batch, and its login history and outbox keep pointing at it. Undo
(services/undo.py) gives all of that back; services/purge.py ends it for good after the
retention period.
"""

from __future__ import annotations

from collections.abc import Sequence

from peewee import Expression, Field, Value

from extgw_tui.models import BatchLicence, ExternalUser, Licence, database, live_user, now
from extgw_tui.services import audit
from extgw_tui.services.chunks import chunked

U = ExternalUser
_GONE = ExternalUser.alias("gone")


def not_deleted(user_id: Field = U.id) -> Expression:
    """models.live_user() for queries that page or sort through another index: "not one of
    the few deleted ids". Given `deleted_at IS NULL`, SQLite walks the deleted_at index over
    every live account and sorts them (a search page at 100,000 accounts), where this keeps the
    query on its own index and looks the deleted ids up once."""
    return user_id.not_in(_GONE.select(_GONE.id).where(_GONE.deleted_at.is_null(False)))


def deleted(user_id: Field = U.id) -> Expression:
    """The account is one of the deleted ones (found through the deleted_at index)."""
    return user_id.in_(_GONE.select(_GONE.id).where(_GONE.deleted_at.is_null(False)))


def keep_for_undo(batch: str, which: Expression) -> None:
    """Copy the licences matching `which` into BatchLicence under the batch that removes them."""
    saved = Licence.select(
        Value(batch), Licence.user, Licence.pupil, Licence.licence_type, Licence.created_at
    ).where(which)
    BatchLicence.insert_from(
        saved,
        [
            BatchLicence.batch,
            BatchLicence.user_id,
            BatchLicence.pupil_id,
            BatchLicence.licence_type_id,
            BatchLicence.created_at,
        ],
    ).execute()


def delete_users(
    user_ids: Sequence[int], batch: str = "", *, detail: str = "", admin: str | None = None
) -> int:
    """Soft-delete the live accounts among user_ids with one "account.delete" entry each, in
    the caller's transaction, under `batch` (a new one if empty); returns how many.

    Callers write no audit entry of their own for the deletion. Done explicitly rather than
    by ON DELETE so the outcome is the same whatever the backend's foreign-key settings.
    """
    batch = batch or audit.new_batch()
    deleted = 0
    when = now()
    with database.atomic():
        for part in chunked(list(user_ids)):
            targets = list(
                U.select(U.id, U.email).where(U.id.in_(part) & live_user()).order_by(U.id).tuples()
            )
            ids = [user_id for user_id, _ in targets]
            if not ids:
                continue
            keep_for_undo(batch, Licence.user.in_(ids))
            Licence.delete().where(Licence.user.in_(ids)).execute()
            deleted += U.update(deleted_at=when).where(U.id.in_(ids) & live_user()).execute()
            audit.record_many(
                "account.delete", targets, detail=detail, batch=batch, admin=admin, undoable=True
            )
    return deleted
