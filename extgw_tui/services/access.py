"""Allowing and denying portal access for many users at once, atomically and undoably."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from peewee import fn

from extgw_tui.db import is_sqlite
from extgw_tui.models import ExternalUser, database, live_user
from extgw_tui.services import audit
from extgw_tui.services.chunks import any_of, id_in, unique_ids
from extgw_tui.text import plural

U = ExternalUser


@dataclass(frozen=True)
class AccessResult:
    allowed: bool
    changed: int
    unchanged: int
    missing: list[int] = field(default_factory=list)
    #: The batch of the change, for the activity log's Undo; empty when nothing changed.
    batch: str = ""

    def summary(self) -> str:
        verb = "Allowed" if self.allowed else "Denied"
        parts = [f"{verb} {plural(self.changed, 'account')}"]
        if self.unchanged:
            parts.append(f"{self.unchanged:,} already {'allowed' if self.allowed else 'denied'}")
        if self.missing:
            parts.append(f"{len(self.missing):,} no longer exist")
        return "; ".join(parts) + "."


@dataclass(frozen=True)
class AccessPreview:
    """What set_access would do now: how many of the chosen accounts would actually change."""

    allowed: bool
    chosen: int
    already: int
    missing: int

    @property
    def will_change(self) -> int:
        return self.chosen - self.already - self.missing

    def question(self) -> str:
        """ "Deny 2 accounts? 1 is already denied: 1 will change." """
        verb = "Allow" if self.allowed else "Deny"
        state = "allowed" if self.allowed else "denied"
        text = f"{verb} {plural(self.chosen, 'account')}?"
        notes = []
        if self.already:
            notes.append(f"{self.already:,} {'is' if self.already == 1 else 'are'} already {state}")
        if self.missing:
            notes.append(f"{self.missing:,} no longer exist{'s' if self.missing == 1 else ''}")
        if notes:
            text += " " + ", ".join(notes) + f": {self.will_change:,} will change."
        return text


def preview(user_ids: Iterable[int], allowed: bool) -> AccessPreview:
    """Count, in SQL, how many of the accounts already have that access or no longer exist."""
    ids = unique_ids(user_ids)
    live = already = 0
    for chosen in id_in(U.id, ids):
        row = (
            U.select(fn.COUNT(U.id), fn.COUNT(U.id).filter(U.access_allowed == allowed))
            .where(chosen & live_user())
            .tuples()
            .first()
        )
        live += row[0] or 0
        already += row[1] or 0
    return AccessPreview(allowed=allowed, chosen=len(ids), already=already, missing=len(ids) - live)


def set_access(user_ids: Iterable[int], allowed: bool, *, reason: str = "") -> AccessResult:
    """Set access for every id in one transaction, with an audit entry per changed account.

    The changed accounts (and only those) are one batch, which the activity log can undo.
    Ids that no longer exist (deleted by another admin meanwhile) are reported, not an error.
    """
    ids = unique_ids(user_ids)
    action = "access.allow" if allowed else "access.deny"
    batch = ""
    with database.atomic():
        change = _change_sqlite if is_sqlite() else _change_postgresql
        found, to_change = change(ids, allowed)
        if to_change:
            batch = audit.new_batch()
            audit.record_many(action, to_change, detail=reason, batch=batch, undoable=True)
    missing = [i for i in ids if i not in found]
    return AccessResult(
        allowed=allowed,
        changed=len(to_change),
        unchanged=len(found) - len(to_change),
        missing=missing,
        batch=batch,
    )


def _change_sqlite(ids: list[int], allowed: bool) -> tuple[set[int], list[tuple[int, str]]]:
    """(live accounts among ids, the (id, email) changed in id order), in IN lists of CHUNK:
    SQLite's transaction already holds the only write lock."""
    to_change: list[tuple[int, str]] = []
    found: set[int] = set()
    for chosen in id_in(U.id, ids):
        query = U.select(U.id, U.email, U.access_allowed).where(chosen & live_user())
        for user_id, email, current in query.tuples():
            found.add(user_id)
            if bool(current) != allowed:
                to_change.append((user_id, email))
    for chosen in id_in(U.id, [user_id for user_id, _ in to_change]):
        U.update(access_allowed=allowed).where(chosen).execute()
    return found, to_change


def _change_postgresql(ids: list[int], allowed: bool) -> tuple[set[int], list[tuple[int, str]]]:
    """The same in two statements, each sending its ids once as an array: lock the live
    accounts among them in id order (so a concurrent change of the same accounts waits
    instead of deadlocking, and is not counted twice), then update those that differ.

    Two statements rather than one CTE: the UPDATE then reads its rows in table order through
    the id array (a CTE's UPDATE walks a hash join, in random order); same speed within noise.
    """
    if not ids:
        return set(), []
    locked = (
        U.select(U.id, U.access_allowed)
        .where(any_of(U.id, ids) & live_user())
        .order_by(U.id)
        .for_update()
        .tuples()
    )
    found: set[int] = set()
    change: list[int] = []
    for user_id, current in locked:
        found.add(user_id)
        if current != allowed:
            change.append(user_id)
    if not change:
        return found, []
    update = U.update(access_allowed=allowed).where(any_of(U.id, change)).returning(U.id, U.email)
    return found, sorted(update.tuples().execute())
