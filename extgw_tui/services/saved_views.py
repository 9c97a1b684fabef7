"""Saved views: a search (names and filters) an administrator named, to recall by name.

Stored per administrator (audit.current_admin()); saving a name again replaces its search.
"""

from __future__ import annotations

from extgw_tui.errors import InvalidInput
from extgw_tui.models import SavedView, database, now
from extgw_tui.services import audit, filters

MAX_NAME = 60


def list_views() -> list[tuple[str, str]]:
    """(name, search) of the acting administrator's views, by name."""
    query = (
        SavedView.select(SavedView.name, SavedView.search)
        .where(SavedView.admin == audit.current_admin())
        .order_by(SavedView.name)
    )
    return list(query.tuples())


def save_view(name: str, search: str) -> None:
    """Name the search (replacing a view of that name); the search must be understood."""
    name = " ".join(filters.cleaned(name).split())
    if not name:
        raise InvalidInput("Give the view a name.")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"A view's name has at most {MAX_NAME} characters.")
    if not filters.cleaned(search):
        raise InvalidInput("There is no search to save: type one in the search box first.")
    filters.search_condition(search)  # refuses what cannot be searched
    admin = audit.current_admin()
    with database.atomic():
        updated = (
            SavedView.update(search=search, saved_at=now())
            .where((SavedView.admin == admin) & (SavedView.name == name))
            .execute()
        )
        if not updated:
            SavedView.create(admin=admin, name=name, search=search)


def delete_view(name: str) -> None:
    SavedView.delete().where(
        (SavedView.admin == audit.current_admin()) & (SavedView.name == name)
    ).execute()
