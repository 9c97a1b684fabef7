"""Purging deleted accounts for good once their retention period is over.

A deleted account (accounts.delete_users) can be restored by undoing its batch for
`purge_after_days` days (config.toml, or EXTGW_PURGE_AFTER_DAYS; default 30). After that
`extgw-tui purge` and the app at start-up remove it: the row goes, its login history and
outbox messages lose the link (the login statistics keep counting them), what undo kept for
it goes, and its audit entries keep the account's id but lose its email address: their target
is emptied and the address is cut out of their detail. One "account.purge" entry per account,
in one batch, records the id and nothing personal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import fn

from extgw_tui import settings
from extgw_tui.errors import ExtgwError
from extgw_tui.models import (
    AuditEvent,
    BatchLicence,
    ExternalUser,
    LoginEvent,
    OutboxMessage,
    database,
    now,
)
from extgw_tui.services import audit
from extgw_tui.services.chunks import chunked

U, A = ExternalUser, AuditEvent

DEFAULT_DAYS = 30
MAX_DAYS = 3650
#: The config.toml key and the environment variable that set the retention period.
CONFIG_KEY = "purge_after_days"
ENV_VAR = "EXTGW_PURGE_AFTER_DAYS"
#: What a purged account's address becomes in its audit entries' details.
PURGED = "[purged]"


def retention_days() -> int:
    """Days a deleted account stays restorable: EXTGW_PURGE_AFTER_DAYS, then config.toml's
    purge_after_days (settings.SETTINGS checks the kind), else 30."""
    days = settings.value(CONFIG_KEY)
    if days is None:
        return DEFAULT_DAYS
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
        raise ExtgwError(
            f"{CONFIG_KEY} ({ENV_VAR}) must be a whole number of days from 0 to {MAX_DAYS}, "
            f"not {days!r}."
        )
    return days


def cutoff(days: int | None = None, when: datetime | None = None) -> datetime:
    """Accounts deleted before this instant are due."""
    return (when or now()) - timedelta(days=retention_days() if days is None else days)


def _due(limit: datetime):
    return U.deleted_at.is_null(False) & (U.deleted_at < limit)


def count_due(days: int | None = None, when: datetime | None = None) -> int:
    return U.select(fn.COUNT(U.id)).where(_due(cutoff(days, when))).scalar() or 0


def count_deleted() -> int:
    """Deleted accounts still restorable, due or not."""
    return U.select(fn.COUNT(U.id)).where(U.deleted_at.is_null(False)).scalar() or 0


@dataclass(frozen=True)
class PurgeResult:
    purged: int
    days: int
    batch: str = ""

    def summary(self) -> str:
        if not self.purged:
            return f"No deleted account is older than {self.days} days; nothing was purged."
        noun = "account" if self.purged == 1 else "accounts"
        return f"Purged {self.purged:,} {noun} deleted more than {self.days} days ago, for good."


def purge_accounts(
    user_ids: list[int], batch: str, *, detail: str, admin: str | None = None
) -> int:
    """Remove these deleted accounts for good (see the module); in the caller's transaction."""
    purged = 0
    for part in chunked(user_ids):
        rows = list(
            U.select(U.id, U.email, U.deleted_at)
            .where(U.id.in_(part) & U.deleted_at.is_null(False))
            .tuples()
        )
        ids = [user_id for user_id, _, _ in rows]
        if not ids:
            continue
        address = U.select(U.email).where(U.id == A.user_id)
        A.update(target="", detail=fn.REPLACE(A.detail, address, PURGED)).where(
            A.user_id.in_(ids)
        ).execute()
        LoginEvent.update(user=None).where(LoginEvent.user.in_(ids)).execute()
        OutboxMessage.update(user=None).where(OutboxMessage.user.in_(ids)).execute()
        BatchLicence.delete().where(BatchLicence.user_id.in_(ids)).execute()
        purged += U.delete().where(U.id.in_(ids)).execute()
        audit.record_many(
            "account.purge",
            [(user_id, "") for user_id in ids],
            detail=detail,
            batch=batch,
            admin=admin,
        )
    return purged


def purge_deleted_address(email_key: str) -> int:
    """Purge the deleted account holding this address, if any, whatever its age: someone
    registers with it again, and the address is unique among accounts. Caller's transaction."""
    ids = [
        i
        for (i,) in U.select(U.id)
        .where((U.email_key == email_key) & U.deleted_at.is_null(False))
        .tuples()
    ]
    if not ids:
        return 0
    detail = "its address was registered again"
    return purge_accounts(ids, audit.new_batch(), detail=detail, admin="portal")


def purge_due(
    *,
    days: int | None = None,
    when: datetime | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> PurgeResult:
    """Purge every account deleted more than the retention period ago, in one transaction."""
    days = retention_days() if days is None else days
    limit = cutoff(days, when)
    batch = audit.new_batch()
    detail = f"deleted more than {days} days ago"
    with database.atomic():
        ids = [i for (i,) in U.select(U.id).where(_due(limit)).order_by(U.id).tuples()]
        if should_cancel is not None and should_cancel():
            return PurgeResult(0, days)
        purged = purge_accounts(ids, batch, detail=detail)
    return PurgeResult(purged, days, batch if purged else "")
