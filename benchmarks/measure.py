"""The measurements that run in the runner's own process, on the database bound there.

Each returns plain numbers (seconds, counts) for run.py to judge and write to JSON.
"""

from __future__ import annotations

import importlib.util
import random
import time
from datetime import date

from common import median, p95, repeat, timed

#: Users changed by the bulk access benchmark.
BULK_USERS = 10_000


def search_terms(count: int, seed: int = 8) -> list[str]:
    """`count` varied terms, as administrators type them: surname prefixes of 1-6 letters, full
    names in either order, IDs, names typed with an apostrophe or hyphen, fragments of email
    addresses (local parts and domains), and terms that match nobody. No term twice: the app
    does not search again for the term already shown, and the probe would wait for it."""
    from extgw_tui.models import ExternalUser as U

    rng = random.Random(seed)
    # every 97th id; not `U.id % 97`: peewee's `%` is LIKE, and psycopg2 reads % as a parameter
    every_97th = U.id - (U.id / 97) * 97 == 0
    rows = list(
        U.select(U.id, U.forename, U.surname, U.surname_key, U.email_key)
        .where(every_97th)
        .order_by(U.id)  # else PostgreSQL's synchronized scans pick other rows each run
        .limit(400)
        .tuples()
    )
    rng.shuffle(rows)
    shares = {"surname": 0.35, "full": 0.1, "id": 0.05, "typed": 0.05, "email": 0.25}
    counts = {kind: round(count * share) for kind, share in shares.items()}
    n_none = count - sum(counts.values())
    picks = iter(rows)
    terms: list[str] = []
    for i in range(counts["surname"]):
        terms.append(next(picks)[3][: 1 + i % 6])
    for i in range(counts["full"]):
        _, forename, surname, _, _ = next(picks)
        terms.append(f"{forename} {surname}" if i % 2 else f"{surname} {forename[:3]}")
    for i in range(counts["id"]):
        user_id = next(picks)[0]
        terms.append(f"#{user_id}" if i % 2 else str(user_id))
    for i in range(counts["typed"]):
        surname = next(picks)[2]
        terms.append(f"{surname[0]}'{surname[1:4]}" if i % 2 else f"{surname[:3]}-")
    for i in range(counts["email"]):
        local, _, domain = next(picks)[4].partition("@")
        if i % 3 == 2:
            terms.append(domain.split(".")[0])
        else:
            start = rng.randrange(max(len(local) - 4, 1))
            terms.append(local[start : start + 4 + i % 3])
    letters = "qxzjvk"
    for i in range(n_none):
        terms.append("".join(rng.choice(letters) for _ in range(3 + i % 4)) + "@nowhere")
    rng.shuffle(terms)
    return list(dict.fromkeys(terms))


#: The rows PagedTable fetches for a new search at 80x24: three terminal heights (window_rows).
WINDOW_AT_80x24 = 3 * 24


def search_query(terms: list[str]) -> dict:
    """The query alone, as the table issues it for a new search (Pager's Request.run from the
    top): the first window, and the COUNT only when the window came back full and the search
    did not count the result on the way (Window.total)."""
    from extgw_tui.services import users

    def one(term: str) -> None:
        rows = users.search_users(term, offset=0, limit=WINDOW_AT_80x24)
        if len(rows) == WINDOW_AT_80x24 and rows.total is None:
            users.count_users(term)

    for term in terms[:5]:  # warm the page cache, as an app that has been open a while
        one(term)
    seconds = [timed(lambda term=term: one(term)) for term in terms]
    slowest = sorted(zip(seconds, terms, strict=True), reverse=True)[:5]
    return {
        "median": median(seconds),
        "p95": p95(seconds),
        "max": max(seconds),
        "slowest": [[term, round(s * 1000, 1)] for s, term in slowest],
    }


def fragment_terms(count: int = 6) -> list[str]:
    """The middle of the commonest surnames ("ones", "mith"), as typed to find an address: its
    matches besides any surname part cluster where those surnames sit in the surname order,
    which the 50 varied terms do not show (reported, not a target)."""
    from peewee import fn

    from extgw_tui.models import ExternalUser as U

    commonest = (
        U.select(U.surname_key)
        .where(fn.LENGTH(U.surname_key) >= 5)
        .group_by(U.surname_key)
        .order_by(fn.COUNT(U.id).desc(), U.surname_key)
        .limit(count)
    )
    return [row[0][1:5] for row in commonest.tuples()]


def fragment_queries(runs: int) -> dict:
    """Each surname fragment's query as the table runs it (search_query), median of `runs`."""
    return {
        term: median([search_query([term])["median"] for _ in range(runs)])
        for term in fragment_terms()
    }


def bulk_access(runs: int) -> dict:
    """Deny 10,000 allowed users in one transaction, then allow them again, `runs` times."""
    from extgw_tui.models import ExternalUser as U
    from extgw_tui.services import access

    allowed = [r[0] for r in U.select(U.id).where(U.access_allowed).order_by(U.id).tuples()]
    size = min(BULK_USERS, len(allowed) // 2)
    step = len(allowed) / size
    ids = [allowed[int(i * step)] for i in range(size)]
    deny, allow = [], []
    for _ in range(runs):
        deny.append(timed(lambda: _expect(access.set_access(ids, False), size)))
        allow.append(timed(lambda: _expect(access.set_access(ids, True), size)))
    return {
        "users": size,
        "deny": median(deny),
        "allow": median(allow),
        "deny_runs": deny,
        "allow_runs": allow,
    }


def _expect(result, changed: int) -> None:
    if result.changed != changed:
        raise RuntimeError(f"bulk access changed {result.changed} accounts, not {changed}")


#: One term of each kind the filter language has (services/filters.py), and two combined.
FILTER_TERMS = [
    'licence:"Parent/Guardian"',
    "licence:none",
    "licence:any",
    "pupils:0",
    "pupils:>1",
    "login:never",
    "login:>12m",
    "created:<2023-05",
    "adr:no",
    "access:denied",
    "-access:denied",
    "year:7",
    "form:7A",
    "email:bouncing",
    "email:hotmail",
    "id:1,2",
    "smith licence:any",
]


def filter_queries(runs: int) -> dict:
    """Each filter as the table runs it: the first window (what is shown first), then the
    count when the window did not count it; the median of `runs` per term."""
    from extgw_tui.services import users

    pages: dict[str, float] = {}
    totals: dict[str, float] = {}
    for term in FILTER_TERMS:
        page, total = [], []
        for _ in range(runs):
            started = time.perf_counter()
            rows = users.search_users(term, offset=0, limit=WINDOW_AT_80x24)
            page.append(time.perf_counter() - started)
            if len(rows) == WINDOW_AT_80x24 and rows.total is None:
                users.count_users(term)
            total.append(time.perf_counter() - started)
        pages[term], totals[term] = median(page), median(total)
    return {"page": pages, "with_count": totals}


def review(runs: int) -> dict:
    """What the review screen loads: the candidates' count and the first window of 200."""
    from extgw_tui.services import review as rv

    today = date.today()
    found: list[int] = []

    def load() -> None:
        found.append(rv.count_candidates(today=today))
        rv.candidates(today=today, limit=200)

    seconds = repeat(load, runs)
    return {"median": median(seconds), "candidates": found[-1], "runs": seconds}


def statistics_available() -> bool:
    return importlib.util.find_spec("extgw_tui.services.statistics") is not None


def login_summary_filled() -> dict:
    """Fill the login summary tables if logins exist without them (a database generated
    before the generator kept them), timing the rebuild; the charts read only those tables."""
    from extgw_tui.models import LoginDay, LoginEvent
    from extgw_tui.services.login_summary import rebuild_login_summary

    if LoginDay.select().exists() or not LoginEvent.select().exists():
        return {"rebuilt": False}
    return {"rebuilt": True, "seconds": timed(rebuild_login_summary)}


def login_statistics(runs: int) -> dict:
    """Each chart of the statistics screen: every group (all users, each licence type) in
    every period mode, as one group_statistics call (series + account figures); and the
    edit modal's summary of the user with the most logins."""
    from peewee import fn

    from extgw_tui.models import LoginEvent as E
    from extgw_tui.services import periods
    from extgw_tui.services import statistics as st

    today = date.today()
    charts = {}
    for group in st.groups():
        for mode in periods.MODES:
            seconds = repeat(lambda g=group, m=mode: st.group_statistics(g, m, today), runs)
            charts[f"{group.name}, {mode}"] = median(seconds)
    busiest = (
        E.select(E.user)
        .where(E.user.is_null(False))
        .group_by(E.user)
        .order_by(fn.COUNT(E.id).desc())
        .limit(1)
        .scalar()
    )
    user = repeat(lambda: st.user_login_summary(busiest, today), runs) if busiest else [0.0]
    return {"charts": charts, "user_summary": median(user), "user_id": busiest}
