"""Which pupils a user can see, under which licence types, and removing a pupil from an account."""

from __future__ import annotations

from dataclasses import dataclass

from extgw_tui.errors import InvalidInput, NotFound
from extgw_tui.models import (
    MAX_LICENCE_TYPE_ID,
    ExternalUser,
    Licence,
    LicenceType,
    Pupil,
    database,
    live_user,
)
from extgw_tui.services import audit
from extgw_tui.services.accounts import keep_for_undo


@dataclass(frozen=True)
class LinkedPupil:
    pupil_id: int
    forename: str
    surname: str
    year_group: int | None
    form: str
    licence_types: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.forename} {self.surname}"

    @property
    def year_label(self) -> str:
        return f"Year {self.year_group}" if self.year_group is not None else ""


def licence_types() -> list[tuple[int, str]]:
    """(id, name) of every licence type, defaults first, then by name."""
    rows = LicenceType.select(LicenceType.id, LicenceType.name).order_by(LicenceType.id).tuples()
    return list(rows)


def licence_type_id(name: str) -> int:
    """The id of the licence type called `name` (case-insensitive), or InvalidInput."""
    for type_id, type_name in licence_types():
        if type_name.casefold() == name.strip().casefold():
            return type_id
    known = ", ".join(n for _, n in licence_types())
    raise InvalidInput(f"There is no licence type called {name!r}; known types: {known}.")


def add_licence_type(name: str) -> int:
    name = name.strip()
    if not name:
        raise InvalidInput("A licence type needs a name.")
    with database.atomic():
        if LicenceType.select().where(LicenceType.name == name).exists():
            raise InvalidInput(f"The licence type {name!r} already exists.")
        created = LicenceType.create(name=name)
        if created.id > MAX_LICENCE_TYPE_ID:
            raise InvalidInput(f"At most {MAX_LICENCE_TYPE_ID} licence types are supported.")
        audit.record("licence_type.add", target=name)
    return created.id


def user_licence_mask(user_id: int) -> int:
    """The bit set of licence types the user holds now (recorded with each login)."""
    U = ExternalUser
    return U.select(U.licence_mask).where(U.id == user_id).scalar() or 0


def user_pupils(user_id: int) -> list[LinkedPupil]:
    """The pupils this user has access to, each with the licence types held for them."""
    rows = (
        Licence.select(
            Pupil.id, Pupil.forename, Pupil.surname, Pupil.year_group, Pupil.form, LicenceType.name
        )
        .join(Pupil)
        .switch(Licence)
        .join(LicenceType)
        .where(Licence.user == user_id)
        .order_by(Pupil.surname_key, Pupil.forename, Pupil.id, LicenceType.id)
        .tuples()
    )
    by_pupil: dict[int, LinkedPupil] = {}
    for pupil_id, forename, surname, year, form, type_name in rows:
        known = by_pupil.get(pupil_id)
        types = (known.licence_types if known else ()) + (type_name,)
        by_pupil[pupil_id] = LinkedPupil(pupil_id, forename, surname, year, form or "", types)
    return list(by_pupil.values())


def remove_pupil(user_id: int, pupil_id: int, *, reason: str = "") -> int:
    """Remove every licence the user holds for the pupil, in one transaction; returns how many.

    The removed licences are kept under the change's batch, so the activity log can undo it.
    """
    with database.atomic():
        user = ExternalUser.get_or_none((ExternalUser.id == user_id) & live_user())
        if user is None:
            raise NotFound(
                f"User {user_id} no longer exists; another administrator may have deleted it."
            )
        pupil = Pupil.get_or_none(Pupil.id == pupil_id)
        batch = audit.new_batch()
        held = (Licence.user == user_id) & (Licence.pupil == pupil_id)
        keep_for_undo(batch, held)
        removed = Licence.delete().where(held).execute()
        if not removed:
            raise NotFound(
                f"{user.email} no longer has access to that pupil; the list was out of date."
            )
        name = pupil.full_name if pupil else f"pupil {pupil_id}"
        form = f" ({pupil.form})" if pupil and pupil.form else ""
        audit.record(
            "pupil.remove",
            user_id=user_id,
            target=user.email,
            detail=f"{name}{form}; {removed} licence(s)" + (f"; {reason}" if reason else ""),
            batch=batch,
            undoable=True,
        )
    return removed
