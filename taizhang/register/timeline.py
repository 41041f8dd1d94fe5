"""A person's life from their events: the one place the timeline rules live.

``derive`` folds a person's effective events in date order, checks that each
one is possible given everything before it (a birth to a man, a second
marriage of a married person, an event after death ...), and returns the
derived *spells* the indicators count:

- residence ``[start, end)`` in a village: from birth (or from the first
  ``move_in``) until a move out, a move within the county, or death;
- marital unions ``[start, end)``: from the wedding until divorce, widowhood
  (a widowhood event, or the registered spouse's death) or death;
- method use ``[start, stop + 1)``: a woman who stops on day D still counts
  as using on D (docs/indicators.md);
- live births with their order, the mother's age and village that day.

Events dated on day D take effect on D; within a day they apply in
``KIND_ORDER`` (a birth before the mother's death, a move in before anything
else). ``state_on`` reads the same spells back for one date, so the person
page, the ledgers and the indicators can never disagree.

Dates in spells are ``YYYYMMDD`` integers (see ``taizhang.register.models``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from taizhang import clock
from taizhang.lib.periods import ymd
from taizhang.register.models import (
    FEMALE_ONLY_METHODS,
    MALE_METHODS,
    OPEN_END,
    PersonStatus,
)

# Order of application within one day.
KIND_ORDER = {
    kind: i
    for i, kind in enumerate(
        [
            "move_in",
            "move_within",
            "marriage",
            "divorce",
            "widowhood",
            "spouse_death",  # derived from the registered spouse's death event
            "pregnancy",
            "outcome",
            "birth",
            "method_stop",
            "method_start",
            "checkup",
            "screening",
            "followup",
            "education",
            "move_out",
            "death",
        ]
    )
}
MOVE_KINDS = frozenset({"move_in", "move_out", "move_within"})
COUPLE_KINDS = frozenset({"marriage", "divorce"})
MIN_MOTHER_AGE = 10

# Life stages (五期) for the person page and the education ledger: the windows used.
NEWLYWED_MONTHS = 12
LACTATION_MONTHS = 12
CHILDREARING_YEARS = 7  # a child under 7 at home
MENOPAUSE_AGES = (45, 55)
PREGNANCY_MAX_DAYS = 300  # a registered pregnancy with no recorded end is closed after this


@dataclass(slots=True)
class PersonFacts:
    pk: int
    sex: str
    birth: dt.date
    village: str  # where the register starts following the person
    live_births_before: int = 0
    stored_state: tuple[str, str] | None = None  # (status, current_village) as last written
    merged_into: int | None = None  # a duplicate registration: no life of its own
    born_in_register: bool = False  # registered by a birth event (its child)
    born_here: bool = False  # a live birth the register counts: lives here from birth
    mother: int | None = None


@dataclass(slots=True)
class EventFacts:
    """An event as the timeline sees it, from the point of view of ``person``.

    ``row`` is the import row (or form) that brings a new event; existing events have
    ``row=None`` and their database ``key``.
    """

    kind: str
    date: dt.date
    person: int
    key: int | None = None
    row: int | None = None
    spouse: int | None = None  # registered spouse
    spouse_key: str = ""  # blind index of a spouse outside the register
    child: int | None = None
    child_sex: str = ""
    child_birth: dt.date | None = None  # the child's birth date as registered
    village: str = ""
    method: str = ""
    delivery_place: str = ""
    stage: str = ""
    lmp_date: dt.date | None = None
    outcome: str = ""
    reason: str = ""
    findings: str = ""
    recorded: dt.date | None = None
    extra: dict | None = None  # what is stored but not folded (destination, weight, ...)

    def as_seen_by(self, person: int) -> EventFacts:
        """A couple event seen from the other spouse's side."""
        if person == self.person:
            return self
        return replace(self, person=person, spouse=self.person)


@dataclass(slots=True)
class Problem:
    """An event that contradicts the register: which event, which field, why."""

    event: EventFacts
    column: str
    message: str
    cause: EventFacts | None = None  # the new event that made an existing one impossible


@dataclass(slots=True)
class Birth:
    event: EventFacts
    child: int
    date: int
    village: str
    sex: str
    order: int
    mother_age: int
    delivery_place: str
    recorded: int


@dataclass
class Derived:
    residence: list[tuple[str, int, int, str]] = field(default_factory=list)
    # How each residence spell began ("", "move_in", "move_within"), in the same order.
    residence_starts: list[str] = field(default_factory=list)
    unions: list[tuple[int | None, str, int, int, str, bool, str]] = field(default_factory=list)
    methods: list[tuple[str, int, int, str]] = field(default_factory=list)
    births: list[Birth] = field(default_factory=list)
    pregnancies: list[tuple[int, int, int]] = field(default_factory=list)  # start, end, lmp
    death: int | None = None
    problems: list[Problem] = field(default_factory=list)
    retracted: bool = False  # registered by a birth that is retracted: no life here

    def status_on(self, day: int) -> tuple[str, str]:
        """(status, village) at the end of ``day``."""
        village = village_on(self.residence, day)
        if village:
            return PersonStatus.RESIDENT, village
        if self.death is not None and self.death <= day:
            return PersonStatus.DECEASED, ""
        return PersonStatus.MOVED_OUT, ""


def age_on(birth: int, day: int) -> int:
    """Completed years between two ymd dates."""
    return (day - birth) // 10000


def village_on(residence, day: int) -> str:
    for village, start, end, _ in residence:
        if start <= day < end:
            return village
    return ""


def sort_key(e: EventFacts):
    return (e.date, KIND_ORDER[e.kind], e.key if e.key is not None else 1 << 62, e.row or 0)


def derive(
    person: PersonFacts,
    events: list[EventFacts],
    *,
    spouse_deaths: dict[int, dt.date] | None = None,
    today: dt.date | None = None,
) -> Derived:
    """Fold one person's effective events (their own and the couple events they share).

    ``spouse_deaths`` gives the death dates of registered spouses, so a death widows the
    survivor without an event of their own.
    """
    today = today or clock.today()
    out = Derived()
    timeline = list(events)
    for spouse, day in (spouse_deaths or {}).items():
        timeline.append(EventFacts(kind="spouse_death", date=day, person=person.pk, spouse=spouse))
    timeline.sort(key=sort_key)

    birth = ymd(person.birth)
    first_move = next((e for e in timeline if e.kind in MOVE_KINDS), None)
    # A person whose first move is a move in lived outside the county before it, unless
    # the register counts their birth here: then a move in contradicts their life here.
    moved_in_first = first_move is not None and first_move.kind == "move_in"
    village = "" if moved_in_first and not person.born_here else person.village
    res_start = birth
    res_how = ""  # how the open spell began
    union = None  # (spouse, spouse_key, start, wife_counts, village_at_start)
    methods: dict[str, int] = {}
    pregnancy = None  # (start, lmp)
    parity = person.live_births_before
    dead: EventFacts | None = None

    def problem(e: EventFacts, column: str, message: str, cause: EventFacts | None = None):
        out.problems.append(Problem(e, column, message, cause))

    def close_residence(day: int, reason: str):
        nonlocal village
        out.residence.append((village, res_start, day, reason))
        out.residence_starts.append(res_how)
        village = ""

    def close_union(day: int, reason: str):
        nonlocal union
        spouse, spouse_key, start, counts, at_start = union
        out.unions.append((spouse, spouse_key, start, day, reason, counts, at_start))
        union = None

    for e in timeline:
        day = ymd(e.date)
        if e.kind == "spouse_death":
            if union is not None and union[0] == e.spouse and dead is None:
                close_union(day, "widowhood")
            continue
        if e.date > today:
            problem(e, "date", f"{e.date} is in the future")
            continue
        if day < birth:
            what = "death" if e.kind == "death" else f"{e.kind} event"
            problem(e, "date", f"{what} on {e.date} is before the person's birth on {person.birth}")
            continue
        if dead is not None:
            problem(
                e,
                "date",
                f"the person died on {dead.date}; no {e.kind} event can follow",
                cause=dead if e.row is None else None,
            )
            continue
        kind = e.kind
        if kind == "move_in":
            if village:
                problem(
                    e, "village", f"the person already lives in village {village} (use move_within)"
                )
                continue
            village, res_start, res_how = e.village, day, "move_in"
        elif kind == "move_within":
            if not village:
                problem(e, "village", "the person does not live in the county (use move_in)")
                continue
            if e.village == village:
                problem(e, "village", f"the person already lives in village {village}")
                continue
            close_residence(day, "move_within")
            village, res_start, res_how = e.village, day, "move_within"
        elif kind == "move_out":
            if not village:
                problem(e, "event", "the person does not live in the county, so cannot move out")
                continue
            close_residence(day, "move_out")
        elif kind == "marriage":
            if union is not None:
                since = union[2]
                problem(
                    e,
                    "event",
                    f"the person is already married (since {_fmt(since)}); record a divorce or widowhood first",
                )
                continue
            counts = person.sex == "F" or (e.spouse is None)
            union = (e.spouse, e.spouse_key, day, counts, village)
        elif kind == "divorce":
            if union is None:
                # The other spouse's divorce row for the same day is the same divorce.
                if out.unions and out.unions[-1][3] == day and out.unions[-1][4] == "divorce":
                    continue
                problem(e, "event", "the person is not married, so cannot divorce")
                continue
            if (e.spouse is not None and e.spouse != union[0]) or (
                e.spouse_key and e.spouse_key != union[1] and e.spouse is None
            ):
                problem(e, "spouse_id_number", "this is not the person's current spouse")
                continue
            close_union(day, "divorce")
        elif kind == "widowhood":
            if union is None:
                problem(e, "event", "the person is not married, so cannot be widowed")
                continue
            if union[0] is not None:
                problem(
                    e,
                    "event",
                    "the spouse is in the register: record the spouse's death instead",
                )
                continue
            close_union(day, "widowhood")
        elif kind in ("pregnancy", "outcome", "birth") and person.sex != "F":
            problem(e, "event", f"a {kind} cannot be recorded for a man")
            continue
        elif kind == "pregnancy":
            if pregnancy is not None and _days(pregnancy[0], day) < PREGNANCY_MAX_DAYS:
                problem(e, "event", f"a pregnancy is already registered on {_fmt(pregnancy[0])}")
                continue
            _close_pregnancy(out, pregnancy, day)
            lmp = ymd(e.lmp_date) if e.lmp_date else 0
            if e.lmp_date and e.lmp_date > e.date:
                problem(e, "lmp_date", "the last menstrual period is after the registration date")
                continue
            pregnancy = (day, lmp)
        elif kind == "outcome":
            _close_pregnancy(out, pregnancy, day)
            pregnancy = None
        elif kind == "birth":
            if e.child_birth is not None and e.child_birth != e.date:
                problem(
                    e,
                    "date",
                    f"the child was born on {e.child_birth} (as registered), not on {e.date}",
                )
                continue
            age = age_on(birth, day)
            if age < MIN_MOTHER_AGE:
                problem(
                    e,
                    "event",
                    f"the mother was {age} years old on {e.date} (under {MIN_MOTHER_AGE})",
                )
                continue
            _close_pregnancy(out, pregnancy, day)
            pregnancy = None
            parity += 1
            out.births.append(
                Birth(
                    event=e,
                    child=e.child,
                    date=day,
                    village=village,
                    sex=e.child_sex,
                    order=parity,
                    mother_age=age,
                    delivery_place=e.delivery_place,
                    recorded=ymd(e.recorded or e.date),
                )
            )
        elif kind == "method_start":
            if e.method in methods:
                problem(
                    e, "method", f"the person has used {e.method} since {_fmt(methods[e.method])}"
                )
                continue
            if person.sex == "M" and e.method in FEMALE_ONLY_METHODS:
                problem(e, "method", f"{e.method} is a method for women")
                continue
            if person.sex == "F" and e.method == "male_sterilization":
                problem(e, "method", "male_sterilization is a method for men")
                continue
            methods[e.method] = day
        elif kind == "method_stop":
            if not methods:
                problem(e, "event", "the person is not using a method, so cannot stop one")
                continue
            method = e.method
            if not method:
                if len(methods) > 1:
                    problem(
                        e,
                        "method",
                        f"the person uses {', '.join(sorted(methods))}: say which one stopped",
                    )
                    continue
                method = next(iter(methods))
            elif method not in methods:
                problem(e, "method", f"the person is not using {method}")
                continue
            out.methods.append((method, methods.pop(method), _next_day(e.date), e.reason))
        elif kind == "death":
            dead = e
            out.death = day
            if union is not None:
                close_union(day, "death")
            if village:
                close_residence(day, "death")
            _close_pregnancy(out, pregnancy, day)
            pregnancy = None
            for method, start in methods.items():
                out.methods.append((method, start, _next_day(e.date), "death"))
            methods = {}
        # checkup, screening, followup, education: services, nothing to derive here.

    if village:
        out.residence.append((village, res_start, OPEN_END, ""))
        out.residence_starts.append(res_how)
    if union is not None:
        close_union(OPEN_END, "")
    for method, start in methods.items():
        out.methods.append((method, start, OPEN_END, ""))
    _close_pregnancy(out, pregnancy, None)
    return out


def _close_pregnancy(out: Derived, pregnancy, day: int | None) -> None:
    if pregnancy is None:
        return
    start, lmp = pregnancy
    end = day if day is not None else OPEN_END
    out.pregnancies.append((start, end, lmp))


def _next_day(d: dt.date) -> int:
    return ymd(d + dt.timedelta(days=1))


def _fmt(day: int) -> str:
    return f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"


def _days(a: int, b: int) -> int:
    return (_date(b) - _date(a)).days


def _date(day: int) -> dt.date:
    return dt.date(day // 10000, day // 100 % 100, day % 100)


# ---------------------------------------------------------------------------
# The state on one date, read back from the spells.


@dataclass
class State:
    """What the register says of a person at the end of a day."""

    day: dt.date
    age: int
    alive: bool
    status: str
    village: str
    married: bool
    spouse: int | None
    spouse_key: str
    widowed: bool
    methods: list[str]
    spouse_methods: list[str]
    parity: int
    pregnant: bool
    life_stages: list[str]


def state_on(
    person: PersonFacts,
    derived: Derived,
    day: dt.date,
    *,
    spouse_derived: Derived | None = None,
) -> State:
    """The person's state at the end of ``day``, exactly as the indicators count it."""
    d = ymd(day)
    birth = ymd(person.birth)
    status, village = derived.status_on(d)
    union = next((u for u in derived.unions if u[2] <= d < u[3]), None)
    last_union = max((u for u in derived.unions if u[2] <= d), key=lambda u: u[2], default=None)
    methods = sorted(m for m, start, end, _ in derived.methods if start <= d < end)
    spouse_methods: list[str] = []
    if union is not None and spouse_derived is not None:
        spouse_methods = sorted(
            m
            for m, start, end, _ in spouse_derived.methods
            if start <= d < end and m in MALE_METHODS
        )
    parity = person.live_births_before + sum(1 for b in derived.births if b.date <= d)
    pregnant = any(
        start <= d < end and _days(start, d) < PREGNANCY_MAX_DAYS
        for start, end, _ in derived.pregnancies
    )
    age = age_on(birth, d)
    alive = derived.death is None or derived.death > d
    return State(
        day=day,
        age=age,
        alive=alive,
        status=status,
        village=village,
        married=union is not None,
        spouse=union[0] if union else None,
        spouse_key=union[1] if union else "",
        widowed=union is None and last_union is not None and last_union[4] == "widowhood",
        methods=methods,
        spouse_methods=spouse_methods,
        parity=parity,
        pregnant=pregnant,
        life_stages=_life_stages(person, derived, d, age, union, pregnant) if alive else [],
    )


def _life_stages(person, derived, d, age, union, pregnant) -> list[str]:
    stages = []
    if union is not None and _days(union[2], d) < NEWLYWED_MONTHS * 30.4375 and not pregnant:
        stages.append("newlywed")
    if pregnant:
        stages.append("pregnancy")
    births = [b.date for b in derived.births if b.date <= d]
    if births and _days(max(births), d) < LACTATION_MONTHS * 30.4375:
        stages.append("lactation")
    if any(age_on(b, d) < CHILDREARING_YEARS for b in births):
        stages.append("childrearing")
    if person.sex == "F" and MENOPAUSE_AGES[0] <= age <= MENOPAUSE_AGES[1]:
        stages.append("menopause")
    return stages
