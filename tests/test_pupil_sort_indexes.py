"""The Pupils screen's sorts and its form search are index-served on both backends: a page deep
in a large roll walks an index instead of sorting the table, and `7a` (a form) keeps the name
branches of the search on their indexes (an unindexed LOWER(form) made the whole OR a scan)."""

from __future__ import annotations

import random
from pathlib import Path

from schema_files import schema_2_copy

from extgw_tui.db import PUPIL_SORT_INDEXES, is_sqlite, open_database
from extgw_tui.models import Pupil, database
from extgw_tui.services import pupils


def fill(count: int) -> None:
    rng = random.Random(3)
    rows = [
        {
            "forename": f"F{n % 97}",
            "surname": f"S{rng.randrange(5000):04d}",
            "surname_key": "",
            "year_group": None if n % 50 == 0 else 7 + n % 7,
            "form": f"{7 + n % 7}{'ABCD'[n % 4]}",
            "admission_number": f"{n:06d}",
            "on_roll": n % 20 != 0,
        }
        for n in range(count)
    ]
    for row in rows:
        row["surname_key"] = row["surname"].lower()
        row["forename_key"] = row["forename"].lower()
    with database.atomic():
        for start in range(0, count, 500):
            Pupil.insert_many(rows[start : start + 500]).execute()
    database.execute_sql("ANALYZE")


def plan(sql: str, params: list) -> str:
    if is_sqlite():
        return " ".join(
            str(row[3]) for row in database.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params)
        )
    return " ".join(row[0] for row in database.execute_sql(f"EXPLAIN {sql}", params))


def page_query(sort: str, roll: str, term: str | None = None):
    order = [pupils._ordered(f, False) for f in pupils.SORTS[sort]]
    where = pupils._where(term, roll)
    query = Pupil.select(*pupils.ROW_FIELDS)
    if where is not None:
        query = query.where(where)
    return query.order_by(*order).offset(2000).limit(72).sql()


def test_every_sort_index_exists_on_both_backends(db) -> None:
    names = {index.name for index in database.get_indexes("pupil")}
    assert set(PUPIL_SORT_INDEXES) <= names


def test_a_file_from_the_last_release_gains_them_when_opened(tmp_path: Path) -> None:
    handle = open_database(schema_2_copy(tmp_path))
    try:
        assert set(PUPIL_SORT_INDEXES) <= {index.name for index in database.get_indexes("pupil")}
    finally:
        handle.close()


def test_deep_pages_of_each_sort_walk_an_index_on_sqlite(db) -> None:
    fill(6000)
    if not is_sqlite():
        # PostgreSQL's planner weighs a 6,000-row table differently; what it must get right is
        # the order: NULLS FIRST in the index, as the screen shows it (checked below)
        return
    for sort, index in (("name", "pupil_name_order"), ("year", "pupil_year_order"),
                        ("form", "pupil_form_order")):  # fmt: skip
        for roll in (pupils.ON_ROLL, pupils.ALL, pupils.LEFT):
            shown = plan(*page_query(sort, roll))
            assert index in shown and "TEMP B-TREE" not in shown, (sort, roll, shown)


def test_a_form_term_keeps_the_search_on_indexes(db) -> None:
    fill(6000)
    shown = plan(*page_query("name", pupils.ON_ROLL, "7A"))
    if is_sqlite():
        assert "MULTI-INDEX OR" in shown and "pupil_form_folded" in shown, shown
    else:
        assert "Seq Scan" not in shown, shown
    assert pupils.count_pupils("7A") == sum(
        1 for p in Pupil.select() if p.form == "7A" and p.on_roll
    )


def test_sorted_pages_match_the_order_python_gives(db) -> None:
    fill(1200)
    everyone = list(Pupil.select())
    on_roll = [p for p in everyone if p.on_roll]
    by_year = sorted(
        on_roll,
        key=lambda p: (p.year_group is not None, p.year_group or 0, p.form, p.surname_key,
                       p.forename_key, p.id),
    )  # fmt: skip
    shown = pupils.search_pupils(sort="year", offset=100, limit=50)
    assert [r.id for r in shown] == [p.id for p in by_year[100:150]]
    backwards = pupils.search_pupils(sort="year", descending=True, offset=0, limit=50)
    assert [r.id for r in backwards] == [p.id for p in reversed(by_year)][:50]
