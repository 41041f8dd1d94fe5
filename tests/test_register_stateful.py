"""The register's derived state is a pure function of its events.

A small county (one county, two townships, three villages, a dozen persons born long
before 2025) takes random sequences of what the register is asked to do through its
one write path (``actions.record_events``) and its corrections (``actions.correct_event``):
marriages (of two registered persons, or with a spouse outside the register), divorces,
deaths, moves in, out and within the county, births (twins too), newcomers born
elsewhere who move in (on their birth day too), method starts and stops, check-ups;
and corrections of any of these: retracting, redating (onto and across birth days),
another spouse, another village, another method, and corrections of corrections.

After every step:

1. the derived rows (residence, union and method spells, birth facts, each person's
   status, current village and the village the register starts them in) are what
   rebuilding every person from scratch gives: all together, where a child born in the
   register starts life in the village its mother lived in that day; and each person
   rebuilt alone, one after another;
2. every population balance of 2025 holds, for the county, each township and each
   village, each month and the year: START + births - deaths + moves in - moves out =
   END. The figures are counted from the derived tables by the rules of the indicator
   definitions (``population_figures``): the engine compiles its queries anew for each
   call, half a second, too slow for every step; once in every example of ten steps or
   more they are compared with the engine's own (``compute_many``). And every birth
   lies on the child's birth day, in a village of the register;
3. a check-up recorded today changes no population figure of 2025;
4. the maintained figures (``taizhang.figures``), kept up to date by each write, are
   what making them again from the derived rows gives; and, at the step the engine is
   asked, every demographic figure read from them is the one counted from the records;

and an operation the register refuses changes nothing: the events and every derived
row are as they were.

Each example runs inside a savepoint that is rolled back at its end, so the examples
share nothing, on SQLite as on PostgreSQL. The register's day is 2026-12-03 throughout
(``fixed_clock``); nothing depends on the real date.
"""

from __future__ import annotations

import datetime as dt
import inspect
import os
from collections import defaultdict

import pytest
from django.db import transaction
from django.db.models import Q
from helpers import kept_indicator_codes
from hypothesis import HealthCheck, Phase, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from taizhang.figures import store
from taizhang.indicators import engine
from taizhang.lib import crypto, idnumber, periods
from taizhang.lib.periods import ymd
from taizhang.orgunits.models import OrgUnit
from taizhang.register import actions
from taizhang.register.actions import NewPerson
from taizhang.register.models import (
    BirthFact,
    Event,
    MethodSpell,
    Person,
    ResidenceSpell,
    UnionSpell,
)
from taizhang.register.timeline import EventFacts

TODAY = dt.date(2026, 12, 3)
YEAR = 2025
FIRST, LAST = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)

COUNTY = "410325"
T1, T2 = "410325100", "410325101"
V1, V2, V3 = "410325100201", "410325100202", "410325101201"
VILLAGES = (V1, V2, V3)

# Sex, birth date, village: six women and six men, all born long before 2025.
PEOPLE = (
    ("F", dt.date(1990, 5, 20), V1),
    ("M", dt.date(1988, 1, 2), V1),
    ("F", dt.date(1996, 3, 1), V1),
    ("M", dt.date(1960, 7, 7), V2),
    ("F", dt.date(1993, 9, 9), V2),
    ("M", dt.date(1994, 12, 31), V2),
    ("F", dt.date(2000, 2, 29), V2),
    ("M", dt.date(1985, 6, 15), V3),
    ("F", dt.date(1987, 11, 30), V3),
    ("M", dt.date(1999, 1, 1), V3),
    ("F", dt.date(1970, 4, 4), V3),
    ("M", dt.date(2001, 8, 8), V1),
)
# Spouses outside the register, known by the blind index of their ID number alone.
OUTSIDERS = tuple(
    crypto.blind_index(idnumber.make("410221", dt.date(1990, 1, 1) + dt.timedelta(days=i), i))
    for i in range(3)
)
METHODS = ("iud", "implant", "pill", "condom", "male_sterilization", "female_sterilization")

PERIODS = tuple(f"{YEAR}{m:02d}" for m in range(1, 13)) + (str(YEAR),)
LEVEL_SUFFIX = {6: "COUNTY", 9: "TOWNSHIP", 12: "VILLAGE"}
CODES = ("POP_START", "POP_END", "BIRTHS", "DEATHS") + tuple(
    f"MOVES_{way}_{level}" for level in LEVEL_SUFFIX.values() for way in ("IN", "OUT")
)

# Days of 2025, mostly from a few dozen: the first, the 15th and the last of each month,
# so that births, moves and deaths fall on the same day and on the days START and END
# meet; any other day of 2025; a day on either side of it and one in the future, which
# the register refuses. Drawn without looking at the register, an example shrinks well.
FEW_DAYS = sorted(
    {dt.date(YEAR, m, d) for m in range(1, 13) for d in (1, 15)}
    | {dt.date(YEAR, m, 1) - dt.timedelta(days=1) for m in range(2, 13)}
    | {LAST}
)
ANY_DAY = st.one_of(
    st.sampled_from(FEW_DAYS),
    st.dates(FIRST, LAST),
    st.sampled_from([dt.date(2024, 12, 31), dt.date(2026, 1, 1), TODAY + dt.timedelta(days=1)]),
)

ENGINE_AT = 10  # the check (after the ninth step) that compares the figures with the engine's

STATEFUL = settings(
    max_examples=int(os.environ.get("TAIZHANG_STATEFUL_EXAMPLES", "20")),
    stateful_step_count=15,
    deadline=None,
    # The explanation phase runs the failing example's variations again: minutes here.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# ---------------------------------------------------------------------------
# Reading the register back


def _columns(model, *, skip=("id",)) -> list[str]:
    return [
        f.attname
        for f in model._meta.concrete_fields
        if f.attname not in skip and f.get_internal_type() != "BinaryField"
    ]


def _sorted(rows) -> list[tuple]:
    return sorted(rows, key=repr)


def derived_rows() -> dict[str, list[tuple]]:
    """Every derived row, without surrogate ids, in a stable order."""
    out = {
        model.__name__: _sorted(model.objects.values_list(*_columns(model)))
        for model in (ResidenceSpell, UnionSpell, MethodSpell, BirthFact)
    }
    out["Person"] = _sorted(
        Person.objects.values_list("pk", "status", "current_village", "village_id")
    )
    return out


def event_rows() -> list[tuple]:
    return _sorted(Event.objects.values_list(*_columns(Event, skip=())))


def register_rows() -> dict[str, list[tuple]]:
    return {**derived_rows(), "Event": event_rows()}


def differences(actual: dict, expected: dict) -> str:
    """The rows only one side has, table by table."""
    lines = []
    for table in expected:
        a, e = set(actual[table]), set(expected[table])
        for row in sorted(a - e, key=repr):
            lines.append(f"  {table} has      {row}")
        for row in sorted(e - a, key=repr):
            lines.append(f"  {table} should have {row}")
    return "\n".join(lines)


def rebuilt_from_scratch() -> dict[str, list[tuple]]:
    """The derived rows a rebuild of everyone from their events gives, the register
    left as it was: a child born in the register starts life where its mother lived
    on the day of the birth."""
    ids = list(Person.objects.values_list("pk", flat=True))
    with transaction.atomic():
        actions.rebuild(ids, today=TODAY)
        for child, village in BirthFact.objects.values_list("child_id", "village"):
            if village:
                Person.objects.filter(pk=child).update(village_id=village)
        actions.rebuild(ids, today=TODAY)
        rows = derived_rows()
        transaction.set_rollback(True)
    return rows


def rebuilt_one_by_one() -> dict[str, list[tuple]]:
    """The derived rows after rebuilding alone, one after another, each person another's
    life depends on or who depends on another's: the spouses of registered spouses,
    mothers and their children (without the persons a change to them touches, where
    ``rebuild`` can be told so). Anyone else's rows come from their own events only."""
    linked = set()
    for row in Event.objects.filter(Q(spouse__isnull=False) | Q(child__isnull=False)).values_list(
        "person_id", "spouse_id", "child_id"
    ):
        linked |= set(row)
    linked.discard(None)
    alone = {"expand": False} if "expand" in inspect.signature(actions.rebuild).parameters else {}
    with transaction.atomic():
        for pk in sorted(linked):
            actions.rebuild([pk], today=TODAY, **alone)
        rows = derived_rows()
        transaction.set_rollback(True)
    return rows


def engine_figures(codes=PERIODS) -> dict[tuple[str, str], dict[str, int]]:
    """{(period, org unit): {code: value}} for these periods and every org unit, from the
    indicator engine."""
    computed = engine.compute_many(COUNTY, codes, CODES, [None, "township", "village"])
    out = {}
    for result in computed.values():
        for obj in result if isinstance(result, list) else [result]:
            out[obj["period"], obj["org"]] = {i["code"]: i["value"] for i in obj["indicators"]}
    return out


def population_figures() -> dict[tuple[str, str], dict[str, int]]:
    """The figures of ``engine_figures`` counted in Python from the derived tables, by the
    rules of ``taizhang.indicators.definitions``: START is residence at the end of the day
    before the period, END at the end of its last day (``start <= D < end``); births are
    birth facts dated in the period where the mother lived; deaths are spells ending in
    it by death; a move in is a spell beginning in it other than with a birth the register
    counts (a move in, even on the birth day, or a person entered without a registered
    birth) from outside the unit (the village of the person's spell that ended that day by a move
    within, or none); a move out a spell ending in it by a move out, or by a move within
    to a village outside the unit."""
    if any(f.name == "start_reason" for f in ResidenceSpell._meta.fields):
        spells = list(
            ResidenceSpell.objects.values_list(
                "person_id", "village", "start", "end", "end_reason", "start_reason"
            )
        )
    else:  # spells that do not say how they began: one beginning after birth is a move
        spells = [
            (*row, "" if row[2] == birth else "move_in")
            for *row, birth in ResidenceSpell.objects.values_list(
                "person_id", "village", "start", "end", "end_reason", "birth"
            )
        ]
    births = list(BirthFact.objects.values_list("date", "village"))
    # A spell beginning with a birth the register counts (the child of a birth fact, that
    # day) is the birth; any other spell beginning in a period is an arrival.
    born = set(BirthFact.objects.values_list("child_id", "date"))
    ended = defaultdict(list)  # (person, day) -> villages left that day by a move within
    began = defaultdict(list)  # (person, day) -> villages whose spell began that day
    for person, village, start, end, reason, _how in spells:
        if reason == "move_within":
            ended[person, end].append(village)
        began[person, start].append(village)
    units = [COUNTY, T1, T2, *VILLAGES]
    out = {}
    for code in PERIODS:
        period = periods.parse(code)
        first, last = ymd(period.start), ymd(period.end)
        before = ymd(period.start - dt.timedelta(days=1))
        for unit in units:
            n = len(unit)
            here = [s for s in spells if s[1].startswith(unit)]
            moves_in = sum(
                1
                for person, village, start, _end, _reason, how in here
                if first <= start <= last and not (how == "" and (person, start) in born)
                for came in ended.get((person, start)) or [None]
                if came is None or came[:n] != village[:n]
            )
            moves_out = sum(
                1
                for person, village, _start, end, reason, _how in here
                if first <= end <= last and reason in ("move_out", "move_within")
                for went in began.get((person, end)) or [None]
                if reason == "move_out" or went is None or went[:n] != village[:n]
            )
            level = LEVEL_SUFFIX[n]
            out[code, unit] = {
                "POP_START": sum(1 for s in here if s[2] <= before < s[3]),
                "POP_END": sum(1 for s in here if s[2] <= last < s[3]),
                "BIRTHS": sum(1 for d, v in births if first <= d <= last and v.startswith(unit)),
                "DEATHS": sum(1 for s in here if s[4] == "death" and first <= s[3] <= last),
                f"MOVES_IN_{level}": moves_in,
                f"MOVES_OUT_{level}": moves_out,
            }
    return out


def facts_of(event: Event) -> EventFacts:
    """A recorded event as the facts a correction starts from."""
    child_sex = Person.objects.get(pk=event.child_id).sex if event.child_id else ""
    return EventFacts(
        kind=event.kind,
        date=event.date,
        person=event.person_id,
        spouse=event.spouse_id,
        spouse_key=event.spouse_id_index,
        child=event.child_id,
        child_sex=child_sex,
        village=event.village,
        method=event.method,
        delivery_place=event.delivery_place,
        reason=event.reason,
        findings=event.findings,
        extra={"destination": event.destination} if event.destination else {},
    )


def describe(e: EventFacts | None) -> str:
    if e is None:
        return "retracted"
    parts = [e.kind, str(e.date), f"person {e.person}"]
    for name in ("spouse", "child", "village", "method"):
        value = getattr(e, name)
        if value:
            parts.append(f"{name} {value}")
    if e.spouse_key:
        parts.append(f"outside spouse {OUTSIDERS.index(e.spouse_key)}")
    return " ".join(parts)


# ---------------------------------------------------------------------------
# The machine


class Register(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._example = transaction.atomic()
        self._example.__enter__()
        self.sequence = 0  # ID-number sequence for persons created here
        self.figures: dict | None = None  # the population figures after the last step
        self.checks = 0  # steps checked so far
        self._county()

    def teardown(self):
        transaction.set_rollback(True)
        self._example.__exit__(None, None, None)

    def _county(self):
        OrgUnit.objects.create(code=COUNTY, name="嵩县", level=3)
        OrgUnit.objects.create(code=T1, name="城关镇", parent_id=COUNTY, level=4)
        OrgUnit.objects.create(code=T2, name="田湖镇", parent_id=COUNTY, level=4)
        OrgUnit.objects.create(code=V1, name="东街村", parent_id=T1, level=5)
        OrgUnit.objects.create(code=V2, name="西街村", parent_id=T1, level=5)
        OrgUnit.objects.create(code=V3, name="田湖村", parent_id=T2, level=5)
        pks = actions.reserve_person_ids(len(PEOPLE))
        actions.insert_persons(
            [
                NewPerson(
                    pk=pk,
                    name=f"居民{i}",
                    sex=sex,
                    birth=birth,
                    id_number=self._id_number(birth, sex),
                    village=village,
                )
                for i, (pk, (sex, birth, village)) in enumerate(zip(pks, PEOPLE, strict=True))
            ],
            today=TODAY,
        )

    def _id_number(self, birth: dt.date, sex: str) -> str:
        self.sequence += 1
        return idnumber.make(COUNTY, birth, 2 * self.sequence + (1 if sex == "M" else 0))

    # -- drawing from what the register holds

    def _persons(self, sex: str | None = None) -> list[int]:
        persons = Person.objects.order_by("pk")
        if sex:
            persons = persons.filter(sex=sex)
        return list(persons.values_list("pk", flat=True))

    def _person(self, data, sex: str | None = None) -> int:
        """Anyone, or often someone who came into the register during the example (a
        child born here, a newcomer): their lives begin where the rules meet."""
        persons = self._persons(sex)
        first = Person.objects.order_by("pk").values_list("pk", flat=True)[len(PEOPLE) - 1]
        newer = [pk for pk in persons if pk > first]
        choice = st.sampled_from(persons)
        if newer:
            choice = st.one_of(choice, st.sampled_from(newer))
        return data.draw(choice, label="person")

    def _day(self, data, label="date") -> dt.date:
        return data.draw(ANY_DAY, label=label)

    # -- the write path

    def _record(self, events: list[EventFacts], children=None) -> None:
        what = "; ".join(describe(e) for e in events)
        before = register_rows()
        with transaction.atomic():
            outcome = actions.record_events(events, new_children=children or {}, today=TODAY)
        self._after(what, outcome, before)

    def _after(self, what: str, outcome, before) -> None:
        if outcome.problems:
            note(f"refused: {what}: {'; '.join(p.message for p in outcome.problems)}")
            after = register_rows()
            assert after == before, f"a refused {what} changed the register:\n" + differences(
                after, before
            )
        else:
            note(f"recorded: {what}")

    @rule(data=st.data())
    def marriage(self, data):
        person = self._person(data)
        sex = Person.objects.get(pk=person).sex
        if data.draw(st.booleans(), label="spouse outside the register"):
            spouse, key = None, data.draw(st.sampled_from(OUTSIDERS), label="outside spouse")
        else:
            spouse, key = self._person(data, "M" if sex == "F" else "F"), ""
        day = self._day(data)
        self._record([EventFacts("marriage", day, person, row=1, spouse=spouse, spouse_key=key)])

    @rule(data=st.data())
    def divorce(self, data):
        person = self._person(data)
        spouses = sorted(
            set(
                UnionSpell.objects.filter(person_id=person, spouse__isnull=False).values_list(
                    "spouse_id", flat=True
                )
            )
        )
        choice = data.draw(
            st.sampled_from(["registered", "outside"] + (["spouse"] if spouses else [])),
            label="divorce from",
        )
        spouse, key = None, ""
        if choice == "spouse":
            spouse = data.draw(st.sampled_from(spouses), label="spouse")
        elif choice == "registered":
            spouse = self._person(data)
        else:
            key = data.draw(st.sampled_from(OUTSIDERS), label="outside spouse")
        day = self._day(data)
        self._record([EventFacts("divorce", day, person, row=1, spouse=spouse, spouse_key=key)])

    @rule(data=st.data())
    def death(self, data):
        married = list(UnionSpell.objects.order_by("person_id").values_list("person_id", flat=True))
        if married and data.draw(st.booleans(), label="a married person"):
            person = data.draw(st.sampled_from(married), label="person")
        else:
            person = self._person(data)
        self._record([EventFacts("death", self._day(data), person, row=1)])

    @rule(data=st.data())
    def move(self, data):
        kind = data.draw(st.sampled_from(["move_in", "move_out", "move_within"]), label="kind")
        person = self._person(data)
        village = "" if kind == "move_out" else data.draw(st.sampled_from(VILLAGES))
        day = self._day(data)
        extra = {"destination": "410221"} if kind == "move_out" else {}
        self._record([EventFacts(kind, day, person, row=1, village=village, extra=extra)])

    @rule(data=st.data())
    def birth(self, data):
        mother = self._person(data, "F")
        day = self._day(data)
        n = data.draw(st.sampled_from([1, 1, 2]), label="children")
        children, events = {}, []
        for i, pk in enumerate(actions.reserve_person_ids(n)):
            sex = data.draw(st.sampled_from("FM"), label="child's sex")
            children[pk] = NewPerson(
                pk=pk,
                name=f"孩子{pk}",
                sex=sex,
                birth=day,
                id_number=self._id_number(day, sex),
                mother=mother,
            )
            place = data.draw(st.sampled_from(["facility", "home"]), label="delivery place")
            events.append(
                EventFacts(
                    "birth", day, mother, row=i + 1, child=pk, child_sex=sex, delivery_place=place
                )
            )
        self._record(events, children)

    @rule(data=st.data())
    def newcomer(self, data):
        """Someone born outside the register moves in: born long ago, or in 2025 and
        moving in on the birth day or later."""
        if data.draw(st.booleans(), label="born in 2025"):
            born = self._day(data, "born")
        else:
            born = dt.date(1992, 4, 18)
        same_day = data.draw(st.booleans(), label="moves in on the birth day")
        moved = born if same_day else self._day(data, "moves in")
        village = data.draw(st.sampled_from(VILLAGES), label="village")
        sex = data.draw(st.sampled_from("FM"), label="sex")
        what = f"newcomer born {born} moves in to {village} on {moved}"
        before = register_rows()
        with transaction.atomic():
            [pk] = actions.reserve_person_ids(1)
            actions.insert_persons(
                [
                    NewPerson(
                        pk=pk,
                        name=f"新人{pk}",
                        sex=sex,
                        birth=born,
                        id_number=self._id_number(born, sex),
                        village=village,
                    )
                ]
            )
            outcome = actions.record_events(
                [EventFacts("move_in", moved, pk, row=1, village=village)], today=TODAY
            )
            if outcome.problems:  # the caller writes the person only with the move
                transaction.set_rollback(True)
        self._after(f"{what} (person {pk})", outcome, before)

    @rule(data=st.data())
    def method(self, data):
        kind = data.draw(st.sampled_from(["method_start", "method_stop"]), label="kind")
        person = self._person(data)
        method = data.draw(st.sampled_from(METHODS + ("",)), label="method")
        if kind == "method_start" and not method:
            method = "pill"
        self._record([EventFacts(kind, self._day(data), person, row=1, method=method)])

    @rule(data=st.data())
    def checkup(self, data):
        self._record([EventFacts("checkup", self._day(data), self._person(data), row=1)])

    # -- corrections

    def _correctable(self, only_corrections: bool = False) -> list[int]:
        superseded = Event.objects.filter(supersedes__isnull=False).values_list(
            "supersedes_id", flat=True
        )
        events = Event.objects.exclude(kind="void").exclude(pk__in=list(superseded))
        if only_corrections:
            events = events.filter(supersedes__isnull=False)
        return list(events.order_by("pk").values_list("pk", flat=True))

    def _correct(self, data, event_id: int) -> None:
        event = Event.objects.get(pk=event_id)
        facts = facts_of(event)
        changes = ["retract", "redate"]
        if event.kind in ("marriage", "divorce"):
            changes.append("spouse")
        if event.kind in ("move_in", "move_within"):
            changes.append("village")
        if event.kind in ("method_start", "method_stop"):
            changes.append("method")
        if event.kind != "death":
            changes.append("death")
        change = data.draw(st.sampled_from(changes), label="correction")
        replacement: EventFacts | None = facts
        if change == "retract":
            replacement = None
        elif change == "redate":
            facts.date = self._day(data, "corrected date")
        elif change == "spouse":
            if data.draw(st.booleans(), label="spouse outside the register"):
                facts.spouse = None
                facts.spouse_key = data.draw(st.sampled_from(OUTSIDERS), label="outside spouse")
            else:
                sex = Person.objects.get(pk=event.person_id).sex
                facts.spouse = self._person(data, "M" if sex == "F" else "F")
                facts.spouse_key = ""
        elif change == "village":
            facts.village = data.draw(st.sampled_from(VILLAGES), label="corrected village")
        elif change == "method":
            facts.method = data.draw(st.sampled_from(METHODS), label="corrected method")
        else:  # the event was in truth the person's death that day
            facts = EventFacts("death", event.date, event.person_id)
            replacement = facts
        what = f"correction of event {event_id} ({describe(facts_of(event))}) to " + describe(
            replacement
        )
        before = register_rows()
        with transaction.atomic():
            outcome = actions.correct_event(
                event_id, replacement=replacement, reason="test", today=TODAY
            )
        self._after(what, outcome, before)

    @rule(data=st.data())
    def correct(self, data):
        events = self._correctable()
        if events:
            self._correct(data, data.draw(st.sampled_from(events), label="event"))

    @rule(data=st.data())
    def correct_a_correction(self, data):
        events = self._correctable(only_corrections=True)
        if events:
            self._correct(data, data.draw(st.sampled_from(events), label="event"))

    @rule(data=st.data())
    def correct_a_life_event(self, data):
        """The corrections that reach into another person's life: a mother's move redated
        across her child's birth, a birth redated, a marriage given another spouse, a
        married person's death retracted."""
        kinds = ("birth", "move_in", "move_within", "move_out", "death", "marriage", "divorce")
        events = list(
            Event.objects.filter(pk__in=self._correctable(), kind__in=kinds)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if events:
            self._correct(data, data.draw(st.sampled_from(events), label="event"))

    # -- invariant 3: an unrelated event today leaves the past alone

    @rule(data=st.data())
    def checkup_today(self, data):
        residents = list(
            Person.objects.filter(status="resident").order_by("pk").values_list("pk", flat=True)
        )
        if not residents:
            return
        person = data.draw(st.sampled_from(residents), label="person")
        before = self.figures if self.figures is not None else population_figures()
        self._record([EventFacts("checkup", TODAY, person, row=1)])
        after = population_figures()
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        assert not changed, f"a check-up today changed figures of {YEAR}: {changed}"
        self.figures = after

    # -- invariants 1 and 2

    @invariant()
    def derived_rows_are_a_rebuild_of_everyone(self):
        actual = derived_rows()
        expected = rebuilt_from_scratch()
        assert actual == expected, (
            "the derived rows differ from a rebuild of everyone:\n" + differences(actual, expected)
        )

    @invariant()
    def derived_rows_are_a_rebuild_of_each_alone(self):
        actual = derived_rows()
        expected = rebuilt_one_by_one()
        assert actual == expected, (
            "the derived rows differ from rebuilding each person alone:\n"
            + differences(actual, expected)
        )

    @invariant()
    def every_birth_is_on_the_childs_birth_day_in_a_village(self):
        born = dict(Person.objects.values_list("pk", "birth_date"))
        for event_id, child, day, village in BirthFact.objects.values_list(
            "event_id", "child_id", "date", "village"
        ):
            assert day == int(born[child].strftime("%Y%m%d")), (
                f"birth event {event_id} is dated {day}, its child {child} was born "
                f"on {born[child]}"
            )
            assert village, f"birth event {event_id} ({day}) lies in no village of the register"

    @invariant()
    def population_figures_are_the_engines(self):
        """Once an example has had ``ENGINE_AT`` steps: the year and its two busiest
        months (the engine compiles its queries anew for each call, so a few periods)."""
        self.checks += 1
        if self.checks != ENGINE_AT:
            return
        mine = population_figures()
        busy = sorted(
            PERIODS[:-1],
            key=lambda p: (
                -sum(v for (code, _org), f in mine.items() if code == p for v in f.values())
            ),
        )
        theirs = engine_figures((str(YEAR), *busy[:2]))
        wrong = {
            key: (counted, {code: theirs[key][code] for code in counted})
            for key, counted in mine.items()
            if key in theirs and counted != {code: theirs[key][code] for code in counted}
        }
        assert not wrong, f"counted here, and by the engine: {wrong}"

    @invariant()
    def maintained_figures_are_made_again_alike(self):
        within = store.shape()
        assert within is not None, "the figures of a register begun empty are kept"
        stored, remade = store.stored(within), store.recompute(within)
        assert stored == remade, "maintained figures differ from a rebuild:\n" + "\n".join(
            d.describe() for d in store.compare(stored, remade)
        )
        if self.checks == ENGINE_AT:
            periods = (str(YEAR), f"{YEAR}06", f"{YEAR}Q4", f"{YEAR - 1}12")
            levels = [None, "township", "village"]
            codes = kept_indicator_codes()
            kept = engine.compute_many(COUNTY, periods, codes, levels)
            with engine.counted_from_records():
                counted = engine.compute_many(COUNTY, periods, codes, levels)
            assert kept == counted

    @invariant()
    def population_balances(self):
        figures = population_figures()
        self.figures = figures
        wrong = []
        for (period, org), f in sorted(figures.items()):
            level = LEVEL_SUFFIX[len(org)]
            flows = f["BIRTHS"] - f["DEATHS"] + f[f"MOVES_IN_{level}"] - f[f"MOVES_OUT_{level}"]
            if f["POP_START"] + flows != f["POP_END"]:
                wrong.append(
                    f"  {period} {org}: START {f['POP_START']} + births {f['BIRTHS']}"
                    f" - deaths {f['DEATHS']} + in {f[f'MOVES_IN_{level}']}"
                    f" - out {f[f'MOVES_OUT_{level}']} != END {f['POP_END']}"
                )
        assert not wrong, "population balances fail:\n" + "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.usefixtures("fixed_clock")
def test_the_derived_state_is_a_function_of_the_events():
    run_state_machine_as_test(Register, settings=STATEFUL)
