"""Undoing a batch: putting back exactly what one allow, deny, pupil removal or deletion changed.

A batch's audit entries name the accounts it changed, and only those (a deny skips accounts
already denied, so undoing it never allows them); BatchLicence holds the licences it took away.
Undo is partial by design: an account changed since by a later action (allowed again by
hand, deleted, purged) is left as it is, and the preview and the result say how many. The
undo is itself a batch of audit entries, claimed on the Batch row in the same transaction, so
it happens once; an undo cannot be undone (make the change again instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peewee import SQL, Expression, fn

from extgw_tui.db import is_sqlite
from extgw_tui.errors import InvalidInput, NotFound
from extgw_tui.models import (
    AuditEvent,
    Batch,
    BatchLicence,
    ExternalUser,
    Licence,
    Pupil,
    database,
    live_user,
)
from extgw_tui.services import audit
from extgw_tui.services.chunks import id_in

U, A, BL = ExternalUser, AuditEvent, BatchLicence

#: What undoes each undoable action.
REVERSE = {
    "access.deny": "access.allow",
    "access.allow": "access.deny",
    "pupil.remove": "pupil.restore",
    "account.delete": "account.restore",
}
#: Later actions on an account that make a batch's change to it no longer the latest one.
LATER = {
    "access.deny": ("access.allow", "access.deny"),
    "access.allow": ("access.allow", "access.deny"),
    "account.delete": ("account.delete", "account.restore"),
}
#: Shortest batch id prefix accepted (the activity log shows eight characters).
MIN_PREFIX = 6

_WHAT = {
    "access.deny": "deny",
    "access.allow": "allow",
    "pupil.remove": "pupil removal",
    "account.delete": "deletion",
}
_DONE = {
    "access.deny": "allowed again",
    "access.allow": "denied again",
    "pupil.remove": "given their pupils back",
    "account.delete": "restored",
}


def _accounts(count: int) -> str:
    return f"{count:,} account{'s' if count != 1 else ''}"


@dataclass(frozen=True)
class UndoPlan:
    """What undoing a batch would do now, or why it cannot be undone (refusal)."""

    batch: str
    action: str
    admin: str
    at: datetime
    accounts: int
    will_change: int
    refusal: str = ""

    @property
    def changed_since(self) -> int:
        return self.accounts - self.will_change

    def describe(self) -> str:
        """e.g. "the deny of 19,803 accounts by alice on 2026-12-01 21:40"."""
        what = _WHAT.get(self.action, self.action)
        return (
            f"the {what} of {_accounts(self.accounts)} by {self.admin} on {self.at:%Y-%m-%d %H:%M}"
        )

    def question(self) -> str:
        """The confirmation: what will change, and what stays because it changed since."""
        text = f"Undo {self.describe()}? {self.will_change:,} will be {_DONE[self.action]}"
        if self.changed_since:
            verb = "was" if self.changed_since == 1 else "were"
            text += f"; {self.changed_since:,} {verb} changed since and stay as they are"
        return text + "."


@dataclass(frozen=True)
class UndoResult:
    plan: UndoPlan
    changed: int
    batch: str

    def summary(self) -> str:
        text = f"Undid {self.plan.describe()}: {_accounts(self.changed)} {_DONE[self.plan.action]}"
        skipped = self.plan.accounts - self.changed
        if skipped:
            verb = "was" if skipped == 1 else "were"
            text += f"; {skipped:,} {verb} changed since and left as they are"
        return text + "."


def resolve(batch_id: str) -> str:
    """The full id of a batch named by its id or a unique prefix, or an error saying why not."""
    text = (batch_id or "").strip().lower()
    if not text or not all(ch in "0123456789abcdef" for ch in text) or len(text) > 32:
        raise InvalidInput(f"{batch_id!r} is not a batch id (32 hexadecimal characters).")
    if len(text) == 32:
        return text
    if len(text) < MIN_PREFIX:
        raise InvalidInput(f"Give at least {MIN_PREFIX} characters of the batch id.")
    found = [
        b for (b,) in A.select(A.batch).where(A.batch.startswith(text)).distinct().limit(2).tuples()
    ]
    if not found:
        raise NotFound(f"There is no batch starting with {text}.")
    if len(found) > 1:
        raise InvalidInput(f"More than one batch starts with {text}; give more characters.")
    return found[0]


def _entries(batch: Batch):
    """The accounts the batch changed (its entries of its own action)."""
    return A.select(A.user_id).where(
        (A.batch == batch.id) & (A.action == batch.action) & A.user_id.is_null(False)
    )


def _last_entry(batch: Batch) -> int:
    return A.select(fn.MAX(A.id)).where(A.batch == batch.id).scalar() or 0


def _not_changed_later(batch: Batch) -> Expression:
    later = A.select(SQL("1")).where(
        (A.user_id == U.id) & (A.id > _last_entry(batch)) & A.action.in_(LATER[batch.action])
    )
    return ~fn.EXISTS(later)


def _restorable_accounts(batch: Batch) -> Expression:
    """The accounts whose state is still the one this access change or deletion left."""
    mine = U.id.in_(_entries(batch))
    if batch.action == "account.delete":
        return mine & U.deleted_at.is_null(False) & _not_changed_later(batch)
    after = batch.action == "access.allow"
    return mine & live_user() & (U.access_allowed == after) & _not_changed_later(batch)


def _missing_licences(batch: Batch, users: Expression | None = None):
    """The licences the batch took away that can come back: the pupil is still there, the
    licence is not back already, and the account is live (or, for a deletion, is itself
    coming back: `users`)."""
    holder = U.select(U.id).where(users if users is not None else live_user())
    present = Licence.select(SQL("1")).where(
        (Licence.user == BL.user_id)
        & (Licence.pupil == BL.pupil_id)
        & (Licence.licence_type == BL.licence_type_id)
    )
    return BL.select().where(
        (BL.batch == batch.id)
        & BL.user_id.in_(holder)
        & BL.pupil_id.in_(Pupil.select(Pupil.id))
        & ~fn.EXISTS(present)
    )


def _count(batch: Batch) -> tuple[int, int]:
    """(accounts the batch changed, accounts an undo would change now)."""
    accounts = (
        A.select(fn.COUNT(fn.DISTINCT(A.user_id)))
        .where((A.batch == batch.id) & (A.action == batch.action))
        .scalar()
        or 0
    )
    if batch.action == "pupil.remove":
        missing = _missing_licences(batch)
        will = (
            BL.select(fn.COUNT(fn.DISTINCT(BL.user_id)))
            .where(BL.id.in_(missing.select(BL.id)))
            .scalar()
            or 0
        )
    else:
        will = U.select(fn.COUNT(U.id)).where(_restorable_accounts(batch)).scalar() or 0
    return accounts, will


def _batch(batch_id: str) -> Batch:
    full = resolve(batch_id)
    batch = Batch.get_or_none(Batch.id == full)
    if batch is not None:
        return batch
    entry = A.select(A.action).where(A.batch == full).first()
    if entry is None:
        raise NotFound(f"There is no batch {full}.")
    if entry.action in REVERSE:
        raise InvalidInput(
            "This change was recorded before extgw-tui kept what undo needs; it cannot be undone."
        )
    raise InvalidInput(f"This change ({entry.action}) cannot be undone.")


def _refusal(batch: Batch, will_change: int, accounts: int) -> str:
    if batch.undoes:
        return "This batch is itself an undo; it cannot be undone. Make the change again instead."
    if batch.undone_by:
        undo = Batch.get_or_none(Batch.id == batch.undone_by)
        when = f" on {undo.at:%Y-%m-%d %H:%M} by {undo.admin}" if undo else ""
        return f"This batch was already undone{when}."
    if batch.action not in REVERSE:
        return f"This change ({batch.action}) cannot be undone."
    if not will_change:
        every = "it was" if accounts == 1 else f"all {accounts:,} were"
        return f"Nothing to undo: {every} changed since (or deleted, or purged)."
    return ""


def preview(batch_id: str) -> UndoPlan:
    """What undoing the batch would change now (counted in SQL), or why it cannot."""
    batch = _batch(batch_id)
    return _plan(batch)


def _plan(batch: Batch) -> UndoPlan:
    accounts, will = _count(batch) if batch.action in REVERSE else (0, 0)
    return UndoPlan(
        batch=batch.id,
        action=batch.action,
        admin=batch.admin,
        at=batch.at,
        accounts=accounts,
        will_change=will,
        refusal=_refusal(batch, will, accounts),
    )


def undo(batch_id: str) -> UndoResult:
    """Undo the batch in one transaction, as one new batch of audit entries; InvalidInput
    (with the reason) when it cannot be undone, and nothing changes then."""
    full = resolve(batch_id)
    with database.atomic():
        if not is_sqlite():  # PostgreSQL: a second Undo of the same batch waits for this one
            Batch.select().where(Batch.id == full).for_update().execute()
        batch = _batch(full)
        plan = _plan(batch)
        if plan.refusal:
            raise InvalidInput(plan.refusal)
        new = audit.new_batch()
        claimed = (
            Batch.update(undone_by=new)
            .where((Batch.id == batch.id) & (Batch.undone_by == ""))
            .execute()
        )
        if not claimed:
            raise InvalidInput("This batch was already undone.")
        changed = _apply(batch, new, plan)
    return UndoResult(plan=plan, changed=changed, batch=new)


def _apply(batch: Batch, new: str, plan: UndoPlan) -> int:
    detail = f"undo of {plan.describe()} (batch {batch.id})"
    action = REVERSE[batch.action]
    if batch.action == "pupil.remove":
        return _give_back_licences(batch, new, action, detail)
    query = U.select(U.id, U.email).where(_restorable_accounts(batch)).order_by(U.id)
    if not is_sqlite():
        query = query.for_update()
    targets = list(query.tuples())
    ids = [user_id for user_id, _ in targets]
    if batch.action == "account.delete":
        _restore_licences(batch, _restorable_accounts(batch))  # while they are still deleted
        for chosen in id_in(U.id, ids):
            U.update(deleted_at=None).where(chosen).execute()
    else:
        for chosen in id_in(U.id, ids):
            U.update(access_allowed=batch.action == "access.deny").where(chosen).execute()
    audit.record_many(action, targets, detail=detail, batch=new, undoes=batch.id)
    return len(ids)


def _restore_licences(batch: Batch, users: Expression | None) -> set[int]:
    """Put back the batch's missing licences; returns the accounts that got any."""
    rows = list(
        _missing_licences(batch, users)
        .select(BL.user_id, BL.pupil_id, BL.licence_type_id, BL.created_at)
        .tuples()
    )
    fields = [Licence.user, Licence.pupil, Licence.licence_type, Licence.created_at]
    for start in range(0, len(rows), 500):
        Licence.insert_many(rows[start : start + 500], fields=fields).execute()
    return {row[0] for row in rows}


def _give_back_licences(batch: Batch, new: str, action: str, detail: str) -> int:
    users = sorted(_restore_licences(batch, None))
    targets = list(U.select(U.id, U.email).where(U.id.in_(users)).order_by(U.id).tuples())
    audit.record_many(action, targets, detail=detail, batch=new, undoes=batch.id)
    return len(users)


def recent(limit: int = 20) -> list[UndoPlan]:
    """The newest undoable batches with what an undo would do now (for `extgw-tui undo`)."""
    head = (A.batch == Batch.id) & A.batch_tail.is_null()  # the batch's first entry
    rows = (
        Batch.select()
        .join(A, on=head)
        .where(Batch.action.in_(list(REVERSE)) & (Batch.undoes == ""))
        .order_by(A.id.desc())  # newest first, even within one second
        .limit(limit)
    )
    return [_plan(batch) for batch in rows]
