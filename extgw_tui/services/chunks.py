"""Splitting long id lists so every IN (...) stays within every backend's parameter limit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

CHUNK = 900


def chunked(ids: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def unique_ids(ids: Iterable[int]) -> list[int]:
    """Distinct ids in a stable order; refuses anything that is not an integer id."""
    out = sorted({int(i) for i in ids})
    return out
