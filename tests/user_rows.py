"""Bulk-made external users for the app and table tests (surname_key/email_key filled in)."""

from __future__ import annotations

from datetime import datetime, timedelta

from extgw_tui.models import ExternalUser, text_key

SURNAMES = ["Adams", "Brown", "Clarke", "Davies", "Evans", "Foster", "Green", "Hughes"]


def make_users(count: int, *, start: int = 0) -> list[int]:
    """Insert `count` users named Surname-NNNNN (sorted by number within a surname); their ids."""
    base = datetime(2024, 1, 1, 9, 0, 0)
    rows = []
    for n in range(start, start + count):
        surname = f"{SURNAMES[n % len(SURNAMES)]}{n:05d}"
        email = f"user{n:05d}@example.org"
        rows.append(
            {
                "title": "Mx" if n % 3 else "Dr",
                "forename": f"F{n:05d}",
                "surname": surname,
                "surname_key": text_key(surname),
                "email": email,
                "email_key": text_key(email),
                "password_hash": "not-a-hash",
                "created_at": base + timedelta(minutes=n),
                "adr": n % 2 == 0,
                "access_allowed": True,
            }
        )
    for chunk in range(0, len(rows), 500):
        ExternalUser.insert_many(rows[chunk : chunk + 500]).execute()
    first = ExternalUser.select(ExternalUser.id).order_by(ExternalUser.id.desc()).limit(count)
    return sorted(row.id for row in first)
