"""Demo data: a realistic, deterministic school's External Gateway, written with bulk inserts.

The same (size, today, seed) always gives the same rows, so tests can pin them. Every case the
screens deal with is present: families of siblings, parents holding Parent/Guardian licences
for one to three pupils, older pupils with their own Pupil licence, shared and unusual surnames,
denied accounts, accounts from before May 2023 without ADR, review candidates (no pupils, no
login for over 12 months), accounts just short of that, new accounts with no pupils yet, and two
years of logins that follow the school year (busy after report releases, quiet in holidays),
including those of accounts deleted since: their logins and summary rows remain, nameless.
Pupils have the parental contacts the MIS holds (one or two, most with an email address and
parental responsibility; the family's account holders among them), and some have left the roll:
whole families that moved away (some of whose parents still hold accounts, mostly idle since)
and single pupils.

Bulk inserts bypass Model.save(), so the normalised keys are set here (name_key, text_key). Every
account shares one password hash (hashing 100,000 passwords would take hours): DEMO_PASSWORD.
"""

from __future__ import annotations

import math
import random
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

from peewee import Field, Model, fn

from extgw_tui.db import is_sqlite, licence_mask_triggers_paused
from extgw_tui.errors import ExtgwError
from extgw_tui.models import (
    PARENT_GUARDIAN,
    PUPIL,
    Contact,
    ExternalUser,
    Licence,
    LicenceType,
    LoginEvent,
    LoginUserPeriod,
    Pupil,
    database,
    licence_bit,
    name_key,
    text_key,
)
from extgw_tui.services import audit
from extgw_tui.services import demo_names as names
from extgw_tui.services.login_summary import rebuild_login_summary
from extgw_tui.services.passwords import hash_password
from extgw_tui.services.periods import KIND, period_start

DEMO_PASSWORD = "demo-password-1"
DEFAULT_SEED = 20230501
#: ADR became true by default for accounts created from this day (version 4, May 2023).
ADR_DEFAULT_FROM = date(2023, 5, 1)
#: How far back the login history goes.
HISTORY_DAYS = 730
#: Login events generated and inserted at a time (memory stays flat at any size).
EVENT_CHUNK = 50_000

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Size:
    users: int
    pupils: int
    logins: int


SIZES = {
    "small": Size(users=1_500, pupils=1_800, logins=40_000),
    "large": Size(users=100_000, pupils=120_000, logins=2_000_000),
    "huge": Size(users=1_000_000, pupils=1_200_000, logins=20_000_000),
}
#: Sizes made only in PostgreSQL, streamed with COPY (services/demo_copy.py).
SERVER_ONLY = frozenset({"huge"})
SERVER_ONLY_REFUSAL = (
    "The huge demo (1,000,000 users) is made only in PostgreSQL: "
    "extgw-tui demo --db postgresql://... --size huge."
)

#: Shares of all accounts for the kinds without pupils (the rest are parents and pupils).
PUPIL_ACCOUNTS = 0.10
CANDIDATES = 0.03  # no pupils, no login for over 12 months: the review lists them
NEAR_CANDIDATES = 0.01  # no pupils, last login a few weeks short of 12 months
NEW_ACCOUNTS = 0.015  # created in the last weeks, no pupils registered yet
FORMER_PARENTS = 0.005  # no pupils any more, but logged in recently
DENIED = 0.015
#: Pupils who left the roll on their own (a move, a transfer), and whole families that left:
#: a share of the families, but never fewer than LEFT_FAMILIES_MIN, so the small demo has some.
LEFT_ALONE = 0.003
LEFT_FAMILIES = 0.006
LEFT_FAMILIES_MIN = 25
#: Parents of a family that left whose account is still there (the rest were deleted).
LEFT_KEEP_ACCOUNT = 0.6
#: Families whose MIS record has a second contact; contacts without an email address.
SECOND_CONTACT = 0.75
NO_EMAIL = 0.25
STREETS = (
    "Acacia Avenue",
    "Church Lane",
    "Mill Road",
    "Station Road",
    "The Crescent",
    "Victoria Street",
    "Orchard Close",
    "Park View",
    "Queen's Drive",
    "Ffordd y Parc",
)
TOWNS = (("Northbridge", "NB"), ("Eastwick", "EW"), ("Southam Vale", "SV"))
FEMALE_TITLES = ("Mrs", "Ms", "Miss")
#: Accounts deleted before today, as a share of the live ones: only their logins remain.
DELETED = 0.02

#: (month, day) of report releases: the portal is busy for a couple of weeks after each.
REPORT_RELEASES = ((11, 18), (2, 3), (3, 24), (7, 14))
HOUR_WEIGHTS = (1, 0.5, 0.3, 0.2, 0.2, 0.3, 1, 3, 5, 4, 3, 3, 4, 4, 3, 3, 4, 5, 7, 9, 10, 8, 5, 2)
DEMO_ADMINS = ("j.bloggs", "office.manager", "s.patel")
DENY_REASONS = (
    "Court order: no contact",
    "Duplicate account",
    "Requested by the safeguarding lead",
    "Parent asked for the account to be suspended",
)


def _columns(model: type[Model], names: str) -> tuple[Field, ...]:
    return tuple(getattr(model, name) for name in names.split())


#: The columns of the generator's rows, per table, in their order.
PUPIL_FIELDS = _columns(
    Pupil,
    "id forename forename_key surname surname_key year_group form admission_number upn on_roll "
    "left_on",
)
CONTACT_FIELDS = _columns(
    Contact,
    "pupil priority title forename surname relationship email email_key "
    "parental_responsibility address",
)
USER_FIELDS = _columns(
    ExternalUser,
    "id title forename forename_key surname surname_key email email_key password_hash "
    "created_at adr access_allowed licence_mask",
)
LICENCE_FIELDS = _columns(Licence, "user pupil licence_type created_at")
LOGIN_FIELDS = _columns(LoginEvent, "at user licence_mask")
PERIOD_FIELDS = _columns(LoginUserPeriod, "kind start user_id licence_mask")


@dataclass(frozen=True)
class DemoSummary:
    size: str
    users: int
    pupils: int
    licences: int
    logins: int
    denied: int
    contacts: int = 0
    leavers: int = 0
    password: str = DEMO_PASSWORD

    def text(self) -> str:
        return (
            f"Demo data ({self.size}): {self.users:,} users ({self.denied:,} denied), "
            f"{self.pupils:,} pupils ({self.leavers:,} left the roll), {self.contacts:,} "
            f"contacts, {self.licences:,} licences, {self.logins:,} logins. "
            f"Every demo account's portal password is {self.password!r}."
        )


@dataclass
class _Account:
    """One account being planned: its row, the pupils it holds and its login window."""

    id: int
    kind: str
    title: str
    forename: str
    surname: str
    email: str
    created: date
    pupils: list[int] = field(default_factory=list)
    denied_on: date | None = None
    #: Day indexes (into the history) of the first and last possible login; None: no logins.
    window: tuple[int, int] | None = None
    #: A login that must happen on this day (how "just under 12 months" is made sure of).
    last_login_day: int | None = None
    #: The day (index) the account's family left the roll; their logins mostly stop soon after.
    left_day: int | None = None


def school_year_start(day: date) -> int:
    """The calendar year in which the school year containing `day` began (September)."""
    return day.year if day.month >= 9 else day.year - 1


def day_weight(day: date) -> float:
    """How busy the portal is on a day: quiet in holidays and at weekends, busy after reports."""
    md = (day.month, day.day)
    if (7, 23) <= md <= (9, 3):
        weight = 0.12
    elif md >= (12, 20) or md <= (1, 4):
        weight = 0.18
    elif (4, 1) <= md <= (4, 14):
        weight = 0.25
    elif (10, 26) <= md <= (11, 1) or (2, 15) <= md <= (2, 21) or (5, 26) <= md <= (5, 31):
        weight = 0.4
    else:
        weight = 1.0
    if day.weekday() >= 5:
        weight *= 0.6
    for month, dom in REPORT_RELEASES:
        since = (day - date(day.year, month, dom)).days
        if 0 <= since < 21:
            weight += 5.0 * math.exp(-since / 4)
    return weight


def upn(pupil_id: int, entry_year: int) -> str:
    """A well-formed Unique Pupil Number: check letter, LA, establishment, year, serial."""
    school = 4000 + pupil_id // 1000
    digits = f"{names.LA_CODE:03d}{school:04d}{entry_year % 100:02d}{pupil_id % 1000:03d}"
    total = sum(int(d) * weight for d, weight in zip(digits, range(2, 14), strict=True))
    return "ABCDEFGHJKLMNPQRTUVWXYZ"[total % 23] + digits


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch == "'"))


@dataclass(frozen=True)
class _Deleted:
    """An account deleted before today: an id no live account has, and its login window."""

    id: int
    licence_mask: int
    window: tuple[int, int]


class _Generator:
    def __init__(self, size: Size, today: date, seed: int, progress: Progress | None) -> None:
        self.size = size
        self.today = today
        self.rng = random.Random(seed)
        self.progress = progress or (lambda stage, fraction: None)
        self.start = today - timedelta(days=HISTORY_DAYS)
        self.days = [self.start + timedelta(days=i) for i in range(HISTORY_DAYS)]
        self.cum = list(accumulate(day_weight(d) for d in self.days))
        self.hour_cum = list(accumulate(HOUR_WEIGHTS))
        #: Each history day's 'YYYY-MM-DD ' and each hour's 3,600 'HH:MM:SS', for the logins.
        self.day_texts = [f"{day.isoformat()} " for day in self.days]
        self.clock = [
            [f"{hour:02d}:{rest // 60:02d}:{rest % 60:02d}" for rest in range(3600)]
            for hour in range(24)
        ]
        self.surname_cum = list(accumulate(1 / (rank + 8) for rank in range(len(names.SURNAMES))))
        self.emails: set[str] = set()
        self.pupils: list[tuple] = []
        self.families: list[list[int]] = []
        #: Per family: the day it left the roll, or None (still there, or only one child left).
        self.family_left: list[date | None] = []
        self.contacts: list[tuple] = []
        self.pupil_years: list[int] = []
        self.pupil_girls: list[bool] = []
        self.accounts: list[_Account] = []
        self.cutoff = self._months_ago(12)

    # -- small helpers -------------------------------------------------------------------------

    def _months_ago(self, months: int) -> date:
        year, month = divmod(self.today.year * 12 + self.today.month - 1 - months, 12)
        return date(year, month + 1, min(self.today.day, 28))

    def _day_index(self, day: date) -> int:
        return (day - self.start).days

    def _surname(self) -> str:
        pick = self.rng.random() * self.surname_cum[-1]
        return names.SURNAMES[bisect_left(self.surname_cum, pick)]

    def _weighted(self, options: Sequence[tuple[str, int]]) -> str:
        return self.rng.choices([o for o, _ in options], [w for _, w in options])[0]

    def _stamp(self, day: date) -> str:
        """A time on `day`, at the hours people use the portal."""
        hour = bisect_left(self.hour_cum, self.rng.random() * self.hour_cum[-1])
        rest = self.rng.randrange(3600)
        return f"{day.isoformat()} {hour:02d}:{rest // 60:02d}:{rest % 60:02d}"

    def _email(self, forename: str, surname: str, domain: str | None = None) -> str:
        rng = self.rng
        first, last = _ascii(forename) or "parent", _ascii(surname.replace(" ", "")) or "home"
        if domain is None:
            domain = self._weighted(names.EMAIL_DOMAINS)
            style = rng.randrange(6)
            local = (
                f"{first}.{last}",
                f"{first[0]}{last}",
                f"{first}{last}{rng.randrange(1, 99)}",
                f"{last}.{first}",
                f"{first}_{last}{rng.randrange(60, 99)}",
                f"{first}{rng.randrange(1, 999)}",
            )[style]
            case = rng.random()
            local = local.lower() if case < 0.82 else local if case < 0.97 else local.upper()
        else:
            local = f"{first[0]}{last}".lower()
        candidate, n = f"{local}@{domain}", 1
        while text_key(candidate) in self.emails:
            n += 1
            candidate = f"{local}{n}@{domain}"
        self.emails.add(text_key(candidate))
        return candidate

    def _adult(self, surname: str, female: bool) -> tuple[str, str, str]:
        forename = self.rng.choice(names.WOMEN if female else names.MEN)
        title = self._weighted(names.WOMEN_TITLES if female else names.MEN_TITLES)
        return title, forename, surname

    def _add_account(
        self, kind: str, person: tuple[str, str, str], created: date, email: str | None = None
    ) -> _Account:
        title, forename, surname = person
        account = _Account(
            id=len(self.accounts) + 1,
            kind=kind,
            title=title,
            forename=forename,
            surname=surname,
            email=email or self._email(forename, surname),
            # by yesterday: a time of day on today could still be ahead of the clock
            created=min(created, self.today - timedelta(days=1)),
        )
        self.accounts.append(account)
        return account

    # -- people --------------------------------------------------------------------------------

    def plan_pupils(self) -> list[list[int]]:
        """Families of siblings sharing a surname, until the pupil count is reached."""
        rng, families = self.rng, []
        this_year = school_year_start(self.today)
        forms_per_year = max(6, math.ceil(self.size.pupils / 7 / 30))
        while len(self.pupils) < self.size.pupils:
            surname = self._surname()
            children = rng.choices((1, 2, 3), (0.15, 0.4, 0.45))[0]
            years = rng.sample(range(7, 14), children)
            if children > 1 and rng.random() < 0.08:
                years[1] = years[0]  # twins
            if rng.random() < 0.1:
                surname = f"{surname}-{self._surname()}"  # double-barrelled, for all siblings
            family = []
            for year in years[: self.size.pupils - len(self.pupils)]:
                pupil_id = len(self.pupils) + 1
                entry = this_year - (year - 7)
                form_no = rng.randrange(forms_per_year)
                form = f"{year}{chr(65 + form_no % 26)}{form_no // 26 or ''}"
                own = surname if rng.random() < 0.97 else self._surname()  # a half-sibling
                girl = rng.random() < 0.5
                forename = rng.choice(names.GIRLS if girl else names.BOYS)
                left = self._leaving_day() if rng.random() < LEFT_ALONE else None
                self.pupils.append(
                    (
                        pupil_id,
                        forename,
                        name_key(forename),
                        own,
                        name_key(own),
                        year,
                        form,
                        f"{entry % 100:02d}{pupil_id:06d}",
                        upn(pupil_id, entry),
                        left is None,
                        left,
                    )
                )
                self.pupil_years.append(year)
                self.pupil_girls.append(girl)
                family.append(pupil_id)
            families.append(family)
        self._families_leave(families)
        return families

    def _leaving_day(self) -> date:
        """When a pupil left: often at the end of a summer term, else any day in two years."""
        rng = self.rng
        if rng.random() < 0.5:
            year = self.today.year - rng.randint(
                0 if self.today >= date(self.today.year, 7, 22) else 1, 2
            )
            return date(year, 7, 21)
        return self.today - timedelta(days=rng.randint(1, 700))

    def _families_leave(self, families: list[list[int]]) -> None:
        """Whole families leave the roll together, on one day."""
        self.families = families
        self.family_left = [None] * len(families)
        count = min(len(families), max(LEFT_FAMILIES_MIN, round(len(families) * LEFT_FAMILIES)))
        for index in self.rng.sample(range(len(families)), count):
            day = self._leaving_day()
            self.family_left[index] = day
            for pupil_id in families[index]:
                row = self.pupils[pupil_id - 1]
                self.pupils[pupil_id - 1] = (*row[:9], False, day)

    def plan_parents(self, families: list[list[int]], budget: int) -> None:
        rng = self.rng
        this_year = school_year_start(self.today)
        share_two = min(1.0, max(0.0, budget / max(len(families), 1) / 0.94 - 1))
        plan = []
        for _ in families:
            draw = rng.random()
            plan.append(0 if draw < 0.06 else 2 if rng.random() < share_two else 1)
        for index, left in enumerate(self.family_left):
            if left is not None and rng.random() > LEFT_KEEP_ACCOUNT:
                plan[index] = 0  # the account was deleted when the family left
        extra = budget - sum(plan)
        for i in range(len(plan)):  # top up (or trim) deterministically to the exact budget
            if extra == 0:
                break
            if extra > 0 and plan[i] == 1:
                plan[i], extra = 2, extra - 1
            elif extra < 0 and plan[i] > 0:
                plan[i], extra = plan[i] - 1, extra + 1
        for index, (family, parents) in enumerate(zip(families, plan, strict=True)):
            eldest = max(self.pupil_years[p - 1] for p in family)
            joined = date(this_year - (eldest - 7), 9, 1)
            surname = self.pupils[family[0] - 1][3].split("-")[0]
            left = self.family_left[index]
            for n in range(parents):
                female = rng.random() < (0.7 if n == 0 else 0.2)
                other = n == 1 and rng.random() < 0.25
                person = self._adult(self._surname() if other else surname, female)
                created = joined + timedelta(days=int(rng.expovariate(1 / 45)))
                if left is not None:
                    created = min(created, left - timedelta(days=1))
                account = self._add_account("parent", person, created)
                account.pupils.extend(family)
                account.left_day = None if left is None else self._day_index(left)

    def plan_contacts(self) -> None:
        """Each family's contacts in the MIS (iter_contacts), held for the inserts."""
        self.contacts.extend(self.iter_contacts())

    def iter_contacts(self) -> Iterator[tuple]:
        """Each family's contacts in the MIS, the same for every child: its account holders
        first (same name and email), then people without an account, to one or two."""
        rng = self.rng
        holders: dict[int, list[_Account]] = {}
        for account in self.accounts:
            if account.kind == "parent" and account.pupils:
                holders.setdefault(account.pupils[0], []).append(account)
        for family in self.families:
            surname = self.pupils[family[0] - 1][3].split("-")[0]
            wanted = 2 if rng.random() < SECOND_CONTACT else 1
            people = [(a.title, a.forename, a.surname, a.email) for a in holders.get(family[0], [])]
            while len(people) < wanted:
                female = rng.random() < (0.7 if not people else 0.25)
                other = bool(people) and rng.random() < 0.3
                title, forename, last = self._adult(self._surname() if other else surname, female)
                email = None if rng.random() < NO_EMAIL else self._email(forename, last)
                people.append((title, forename, last, email))
            town, code = rng.choice(TOWNS)
            address = (
                f"{rng.randint(1, 180)} {rng.choice(STREETS)}, {town} "
                f"{code}{rng.randint(1, 19)} {rng.randint(1, 9)}{chr(65 + rng.randrange(26))}"
                f"{chr(65 + rng.randrange(26))}"
            )
            for priority, (title, forename, last, email) in enumerate(people, start=1):
                relationship, responsible = self._relationship(title, last != surname, priority)
                for pupil_id in family:
                    yield (
                        pupil_id,
                        priority,
                        title,
                        forename,
                        last,
                        relationship,
                        email,
                        text_key(email) if email else None,
                        responsible,
                        address,
                    )

    def _relationship(self, title: str, other_surname: bool, priority: int) -> tuple[str, bool]:
        """The relationship to the pupil and whether the contact has parental responsibility."""
        rng = self.rng
        female = title in FEMALE_TITLES
        if other_surname and priority > 1 and rng.random() < 0.5:
            relative = rng.choice(("Step-parent", "Grandparent", "Aunt" if female else "Uncle"))
            return relative, rng.random() < 0.2
        if rng.random() < 0.04:
            return "Carer", True
        parent = "Mother" if female else "Father" if title == "Mr" else "Parent"  # Dr, Mx
        return parent, rng.random() < 0.97

    def plan_pupil_accounts(self, budget: int) -> None:
        this_year = school_year_start(self.today)
        older = [p for p in self.pupils if p[5] >= 10 and p[9]]
        for row in self.rng.sample(older, min(budget, len(older))):
            pupil_id, forename, surname, year = row[0], row[1], row[3], row[5]
            girl = self.pupil_girls[pupil_id - 1]
            title = self.rng.choice(("", "", "Miss" if girl else "Mr", "Miss" if girl else "Mr"))
            domain = names.PUPIL_DOMAIN
            email = self._email(forename, f"{surname}{this_year - (year - 7)}", domain)
            joined = date(this_year - (year - 10), 9, 1)
            created = joined + timedelta(days=int(self.rng.expovariate(1 / 60)))
            self._add_account("pupil", (title, forename, surname), created, email).pupils.append(
                pupil_id
            )

    def plan_without_pupils(self, kind: str, count: int) -> None:
        rng = self.rng
        for _ in range(count):
            person = self._adult(self._surname(), rng.random() < 0.6)
            if kind == "candidate":
                created = self.cutoff - timedelta(days=rng.randint(30, 1800))
            elif kind == "near":
                created = self.cutoff - timedelta(days=rng.randint(30, 1200))
            elif kind == "new":
                created = self.today - timedelta(days=rng.randint(0, 45))
            else:
                created = self.cutoff - timedelta(days=rng.randint(30, 900))
            self._add_account(kind, person, created)

    def shuffle_and_deny(self) -> list[tuple]:
        """Spread the kinds over the id range (as real sign-ups are), then deny a few."""
        rng = self.rng
        rng.shuffle(self.accounts)
        for new_id, account in enumerate(self.accounts, start=1):
            account.id = new_id
        audits = []
        for account in rng.sample(self.accounts, round(len(self.accounts) * DENIED)):
            account.denied_on = self.today - timedelta(days=rng.randint(1, 330))
            if account.denied_on <= account.created:
                account.denied_on = None
                continue
            audits.append(
                (
                    self._stamp(account.denied_on),
                    rng.choice(DEMO_ADMINS),
                    "access.deny",
                    account.id,
                    account.email,
                    "ok",
                    rng.choice(DENY_REASONS),
                    "",
                )
            )
        return audits

    def account_rows(self, password_hash: str, parent_type: int, pupil_type: int):
        """Rows for users and licences, and each account's licence bit set (for its logins)."""
        user_rows, licence_rows, masks = [], [], {}
        for a in self.accounts:
            user, licences, masks[a.id] = self.account_row(
                a, password_hash, parent_type, pupil_type
            )
            user_rows.append(user)
            licence_rows.extend(licences)
        return user_rows, licence_rows, masks

    def account_row(
        self, a: _Account, password_hash: str, parent_type: int, pupil_type: int
    ) -> tuple[tuple, list[tuple], int]:
        """One account's user row (USER_FIELDS), its licence rows (LICENCE_FIELDS) and mask."""
        created = self._stamp(a.created)
        adr = a.created >= ADR_DEFAULT_FROM or self.rng.random() < 0.3
        user = (
            a.id,
            a.title,
            a.forename,
            name_key(a.forename),
            a.surname,
            name_key(a.surname),
            a.email,
            text_key(a.email),
            password_hash,
            created,
            adr,
            a.denied_on is None,
        )
        type_id = pupil_type if a.kind == "pupil" else parent_type
        mask = licence_bit(type_id) if a.pupils else 0
        licences = [(a.id, pupil_id, type_id, created) for pupil_id in a.pupils]
        return (*user, mask), licences, mask

    # -- logins --------------------------------------------------------------------------------

    def plan_windows(self) -> None:
        """Each account's possible login days, and when its last login must fall."""
        rng, last = self.rng, HISTORY_DAYS - 1
        cutoff = self._day_index(self.cutoff)
        for account in self.accounts:
            lo = max(self._day_index(account.created) + 1, 0)
            hi = last
            if account.denied_on is not None:
                hi = self._day_index(account.denied_on) - 1
            if account.kind == "candidate":
                hi = min(hi, cutoff - rng.randint(1, 240))
                if rng.random() < 0.3:
                    continue  # never logged in
            elif account.kind == "near":
                account.last_login_day = cutoff + rng.randint(1, 28)
                hi = min(hi, account.last_login_day)
            elif account.kind == "parent" and rng.random() < 0.07:
                continue  # registered, never came back
            if account.left_day is not None and rng.random() < 0.85:
                hi = min(hi, account.left_day + rng.randint(0, 40))  # no reason to log in now
            if lo <= hi:
                account.window = (lo, hi)

    def _busy(self, window: tuple[int, int]) -> float:
        """How busy the portal was over a window of day indexes (their weights summed)."""
        lo, hi = window
        return self.cum[hi] - (self.cum[lo - 1] if lo else 0.0)

    def _logins_between(self, lo: int, hi: int, count: int) -> list[tuple[int, str]]:
        """`count` logins on days lo..hi (each day as likely as its weight), as (day index,
        time text): _stamp's draws, inlined with its texts made once (the huge demo makes
        20,000,000)."""
        random, bits, cum, hour_cum = self.rng.random, self.rng.getrandbits, self.cum, self.hour_cum
        low = cum[lo - 1] if lo else 0.0
        span, hours = cum[hi] - low, hour_cum[-1]
        days, clock = self.day_texts, self.clock
        logins = []
        for _ in range(count):
            day = min(bisect_left(cum, low + random() * span), hi)
            hour = bisect_left(hour_cum, random() * hours)
            rest = bits(12)  # randrange(3600), as the random module draws it
            while rest >= 3600:
                rest = bits(12)
            logins.append((day, days[day] + clock[hour][rest]))
        return logins

    def _login_time(self, day: int) -> str:
        return self._stamp(self.days[day])

    def login_counts(self) -> list[int]:
        """Logins per account: heavy-tailed activity scaled so the total is about the target."""
        rng, total = self.rng, self.cum[-1]
        expected = []
        for account in self.accounts:
            if account.window is None:
                expected.append(0.0)
                continue
            expected.append(rng.expovariate(1.0) * self._busy(account.window) / total)
        scale = self.size.logins * 0.98 / (sum(expected) or 1.0)
        counts = []
        for account, value in zip(self.accounts, expected, strict=True):
            x = value * scale
            count = int(x) + (rng.random() < x - int(x))
            counts.append(max(count, 1) if account.last_login_day is not None else count)
        return counts

    def plan_deleted(self, masks: Sequence[int]) -> list[_Deleted]:
        """Accounts deleted since, with ids after the live ones (ids are never handed out
        twice, so theirs stay unused), each holding one of `masks` until its deletion."""
        rng, last = self.rng, HISTORY_DAYS - 1
        deleted = []
        for n in range(round(len(self.accounts) * DELETED)):
            lo = rng.randint(0, last)
            hi = min(last, lo + int(rng.expovariate(1 / 200)))
            mask = masks[1] if rng.random() < PUPIL_ACCOUNTS else masks[0]
            deleted.append(_Deleted(len(self.accounts) + n + 1, mask, (lo, hi)))
        return deleted

    def _deleted_counts(self, deleted: list[_Deleted], total: int) -> list[int]:
        """`total` logins shared among the deleted accounts, heavy-tailed like the live ones'."""
        weights = [self.rng.expovariate(1.0) * self._busy(a.window) for a in deleted]
        scale = total / (sum(weights) or 1.0)
        counts = [int(w * scale) for w in weights]
        for i in range(total - sum(counts)):  # the rounding's remainder, one each
            counts[i % len(counts)] += 1
        return counts

    def login_rows(
        self,
        masks: dict[int, int],
        deleted: list[_Deleted],
        periods: set[tuple],
        on_account: Callable[[int, int, list[int]], None] | None = None,
    ):
        """Yield chunks of (at, user_id, licence_mask) rows: never the whole history at once.

        The deleted accounts' logins have no user; the periods they logged in during are
        added to `periods` as LoginUserPeriod rows, as the summary kept them when they did.
        `on_account(user_id, mask, day indexes)` hears each account's logins (a deleted one's
        under its former id), for summaries kept as the rows are made.
        """
        counts = self.login_counts()
        orphan = max(self.size.logins - sum(counts), 0) if deleted else 0
        chunk: list[tuple] = []
        for account, count in zip(self.accounts, counts, strict=True):
            if not count:
                continue
            lo, hi = account.window  # type: ignore[misc]
            mask = masks[account.id]
            days = []
            if account.last_login_day is not None:
                chunk.append((self._login_time(account.last_login_day), account.id, mask))
                days.append(account.last_login_day)
                count -= 1
            user, logins = account.id, self._logins_between(lo, hi, count)
            chunk.extend((at, user, mask) for _, at in logins)
            if on_account is not None:
                on_account(user, mask, days + [day for day, _ in logins])
            if len(chunk) >= EVENT_CHUNK:
                yield chunk
                chunk = []
        for account, count in zip(deleted, self._deleted_counts(deleted, orphan), strict=True):
            lo, hi = account.window
            logins = self._logins_between(lo, hi, count)
            if on_account is not None and logins:
                on_account(account.id, account.licence_mask, [day for day, _ in logins])
            for day, at in logins:
                chunk.append((at, None, account.licence_mask))
                for kind in KIND.values():
                    start = period_start(kind, self.days[day]).isoformat()
                    periods.add((kind, start, account.id, account.licence_mask))
            if len(chunk) >= EVENT_CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def _insert(fields: Sequence[Field], rows: Sequence[tuple]) -> None:
    """Bulk insert: the raw cursor's executemany on SQLite; multi-row INSERTs on PostgreSQL.

    PostgreSQL's are built by psycopg2's execute_values: peewee's insert_many spends most of
    its time building the SQL (the large demo took 117 s with it, 49 s without).
    """
    model = fields[0].model
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES '
    if is_sqlite():
        database.connection().executemany(sql + f"({', '.join('?' * len(fields))})", rows)
        return
    try:
        from psycopg2.extras import execute_values
    except ImportError:  # another PostgreSQL driver
        step = max(1, 30_000 // len(fields))
        for start in range(0, len(rows), step):
            model.insert_many(rows[start : start + step], fields=list(fields)).execute()
        return
    execute_values(database.cursor(), sql + "%s", rows, page_size=5_000)


@contextmanager
def _indexes_deferred(model: type[Model]):
    """Drop the table's secondary indexes while it is filled, then build each once.

    Building an index over sorted rows is several times faster than keeping it up to date
    across millions of inserts in random order. DDL is transactional on both backends, so a
    failure part-way leaves the indexes as they were.
    """
    table = model._meta.table_name
    indexes = [i for i in database.get_indexes(table) if i.sql and not i.unique]
    for index in indexes:
        database.execute_sql(f'DROP INDEX "{index.name}"')
    yield
    for index in indexes:
        database.execute_sql(index.sql)


def _reserve_ids(highest: dict[type[Model], int]) -> None:
    """Move each table's id counter to its highest id, so a new row never gets a used one.

    PostgreSQL sequences do not see explicit ids; SQLite's AUTOINCREMENT counter does, but not
    the ids of the deleted accounts, which were never inserted.
    """
    for model, top in highest.items():
        table = model._meta.table_name
        if is_sqlite():
            database.execute_sql(
                "UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?", (top, table)
            )
        else:
            database.execute_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", (max(top, 1),)
            )


def plan(
    spec: Size, today: date, seed: int, progress: Progress | None
) -> tuple[_Generator, list[tuple]]:
    """Plan the pupils, families and accounts (and their login windows) of a demo of `spec`;
    with the audit rows of the denials. Contacts and rows come next, in generate's order."""
    gen = _Generator(spec, today, seed, progress)
    gen.progress("people", 0.0)
    families = gen.plan_pupils()
    shares = (CANDIDATES, NEAR_CANDIDATES, NEW_ACCOUNTS, FORMER_PARENTS)
    without = [round(spec.users * share) for share in shares]
    own = round(spec.users * PUPIL_ACCOUNTS)
    gen.plan_parents(families, spec.users - own - sum(without))
    gen.plan_pupil_accounts(own)
    for kind, count in zip(("candidate", "near", "new", "former"), without, strict=True):
        gen.plan_without_pupils(kind, count)
    audits = gen.shuffle_and_deny()
    gen.plan_windows()
    return gen, audits


def generate(
    size: str,
    *,
    today: date,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> DemoSummary:
    """Fill the bound, empty database with demo data of `size` ("small" or "large"; "huge" is
    demo_copy.generate_copy's)."""
    if size not in SIZES:
        raise ExtgwError(f"Unknown demo size {size!r}; choose one of: {', '.join(SIZES)}.")
    if size in SERVER_ONLY:
        raise ExtgwError(SERVER_ONLY_REFUSAL)
    if ExternalUser.select().exists() or Pupil.select().exists():
        raise ExtgwError("Demo data can only be generated into an empty database.")
    spec = SIZES[size]
    gen, audits = plan(spec, today, seed, progress)
    report = gen.progress
    gen.plan_contacts()

    type_ids = dict(LicenceType.select(LicenceType.name, LicenceType.id).tuples())
    parent_type, pupil_type = type_ids[PARENT_GUARDIAN], type_ids[PUPIL]
    password_hash = hash_password(DEMO_PASSWORD)
    report("people", 0.05)

    U, E = ExternalUser, LoginEvent
    with database.atomic():
        _insert(PUPIL_FIELDS, gen.pupils)
        with _indexes_deferred(Contact):  # three indexes, each built once over 200,000 rows
            _insert(CONTACT_FIELDS, gen.contacts)
        user_rows, licence_rows, masks = gen.account_rows(password_hash, parent_type, pupil_type)
        _insert(USER_FIELDS, user_rows)
        with licence_mask_triggers_paused(database.obj):  # each user row holds its mask
            _insert(LICENCE_FIELDS, licence_rows)
        _insert(audit.ENTRY_FIELDS, sorted(audits))
        report("logins", 0.1)
        done = 0
        deleted = gen.plan_deleted([licence_bit(parent_type), licence_bit(pupil_type)])
        deleted_periods: set[tuple] = set()
        with _indexes_deferred(E):
            for chunk in gen.login_rows(masks, deleted, deleted_periods):
                _insert(LOGIN_FIELDS, chunk)
                done += len(chunk)
                report("logins", 0.1 + 0.75 * done / spec.logins)
            report("indexing", 0.85)
        report("summaries", 0.9)
        # a rebuild keeps the deleted accounts' rows and counts them
        _insert(PERIOD_FIELDS, sorted(deleted_periods))
        rebuild_login_summary()  # the statistics read these, not the raw events
        report("finishing", 0.97)
        latest = E.select(fn.MAX(E.at)).where(E.user == U.id)
        U.update(last_login_at=latest).execute()
        _reserve_ids({U: len(user_rows) + len(deleted), Pupil: len(gen.pupils)})
    report("finishing", 1.0)
    return DemoSummary(
        size=size,
        users=len(user_rows),
        pupils=len(gen.pupils),
        licences=len(licence_rows),
        logins=done,
        denied=sum(1 for a in gen.accounts if a.denied_on is not None),
        contacts=len(gen.contacts),
        leavers=sum(1 for row in gen.pupils if not row[9]),
    )
