"""Splitting long id lists so every IN (...) stays within every backend's parameter limit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from peewee import Expression, Field, Value, fn

from extgw_tui.db import is_sqlite

CHUNK = 900


def chunked(ids: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def id_in(field: Field, ids: Sequence[int]) -> Iterator[Expression]:
    """Conditions "field is one of ids", one query each: on PostgreSQL a single
    `= ANY(array)` (the whole list is one parameter, parsed once), on SQLite IN lists of CHUNK."""
    if not is_sqlite():
        if ids:
            yield any_of(field, ids)
        return
    for part in chunked(ids):
        yield field.in_(part)


def any_of(field: Field, ids: Sequence[int]) -> Expression:
    """PostgreSQL only: `field = ANY(%s)` with the ids as one array parameter."""
    return field == fn.ANY(Value(list(ids), unpack=False))


def unique_ids(ids: Iterable[int]) -> list[int]:
    """Distinct ids in a stable order; refuses anything that is not an integer id."""
    out = sorted({int(i) for i in ids})
    return out
