"""Writing to the register: every change goes through these actions.

``record_events`` takes new events (from an import file, and later from the web
forms), checks each against everything the register already knows, and either
reports every contradiction and writes nothing, or writes the events and
rebuilds the derived spells of every person they touch, in one transaction.

``register_persons`` adds persons (and their households) and updates the
attributes of known ones.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction

from taizhang import clock
from taizhang.audit.actions import record as audit
from taizhang.lib import crypto
from taizhang.lib.periods import ymd
from taizhang.register import db
from taizhang.register.models import (
    BirthFact,
    Event,
    MethodSpell,
    Person,
    ResidenceSpell,
    UnionSpell,
)
from taizhang.register.timeline import (
    COUPLE_KINDS,
    Derived,
    EventFacts,
    PersonFacts,
    Problem,
    derive,
)

EVENT_TABLE = Event._meta.db_table
ANALYZE_AFTER = 10_000  # persons rebuilt at once; a bulk load changes the tables' statistics
PERSON_TABLE = Person._meta.db_table


@dataclass(slots=True)
class NewPerson:
    """A person to create. ``pk`` is reserved in advance (``reserve_person_ids``)."""

    pk: int
    name: str
    sex: str
    birth: dt.date
    id_number: str
    village: str = ""
    hukou_village: str = ""
    household: int | None = None
    phone: str = ""
    ethnicity: str = ""
    live_births_before: int = 0
    mother: int | None = None
    row: int | None = None
    id_index: str = ""  # the blind index, when the caller has already computed it
    born_in_register: bool = False  # created by a birth event

    def facts(self) -> PersonFacts:
        return PersonFacts(self.pk, self.sex, self.birth, self.village, self.live_births_before)


@dataclass
class Outcome:
    """What an action wrote (or, with problems, would have refused)."""

    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def reserve_person_ids(n: int) -> list[int]:
    return db.reserve_ids(PERSON_TABLE, n)


# ---------------------------------------------------------------------------
# Persons


def insert_persons(
    persons: list[NewPerson], *, user=None, batch=None, today: dt.date | None = None
) -> None:
    """Write new persons. With ``today``, also their derived state: new persons have no
    events yet, so they live in their village from birth."""
    now = db.adapt_datetime(clock.now())
    adapt_date = db.date_adapter()
    user_id = user.pk if user else None
    batch_id = batch.pk if batch else None
    from taizhang.lib.pinyin import initials

    db.insert_rows(
        PERSON_TABLE,
        [
            "id",
            "name",
            "name_initials",
            "sex",
            "birth_date",
            "id_cipher",
            "id_index",
            "phone_cipher",
            "phone_index",
            "ethnicity",
            "household_id",
            "village_id",
            "hukou_village",
            "live_births_before",
            "mother_id",
            "created_at",
            "created_by_id",
            "batch_id",
            "status",
            "current_village",
            "born_in_register",
        ],
        [
            (
                p.pk,
                p.name,
                initials(p.name),
                p.sex,
                adapt_date(p.birth),
                crypto.encrypt(p.id_number),
                crypto.blind_index(p.id_number),
                crypto.encrypt(p.phone) if p.phone else None,
                crypto.blind_index(p.phone, "phone") if p.phone else "",
                p.ethnicity,
                p.household,
                p.village,
                p.hukou_village or p.village,
                p.live_births_before,
                p.mother,
                now,
                user_id,
                batch_id,
                "resident",
                p.village,
                p.born_in_register,
            )
            for p in persons
        ],
    )
    if today is not None:
        facts = {p.pk: p.facts() for p in persons}
        _write_derived(
            {pk: derive(f, [], today=today) for pk, f in facts.items()}, facts, today, fresh=True
        )


# ---------------------------------------------------------------------------
# Events


def event_key(e: EventFacts) -> tuple:
    """What makes two event records the same event (for idempotent imports).

    A marriage or divorce is one event for the couple, whichever spouse's row brings it.
    """
    if e.kind in COUPLE_KINDS:
        if e.spouse is not None:
            pair = tuple(sorted((e.person, e.spouse)))
            return (e.kind, e.date, pair)
        return (e.kind, e.date, (e.person,), e.spouse_key)
    if e.kind == "birth":
        return (e.kind, e.date, e.person, e.child)
    return (
        e.kind,
        e.date,
        e.person,
        e.village,
        e.method,
        e.outcome,
        e.delivery_place,
        e.stage,
        e.lmp_date,
        e.reason,
        e.findings,
    )


_EVENT_COLUMNS = (
    "id",
    "person_id",
    "kind",
    "date",
    "spouse_id",
    "spouse_id_index",
    "child_id",
    "village",
    "destination",
    "method",
    "outcome",
    "delivery_place",
    "birth_weight_g",
    "lmp_date",
    "stage",
    "findings",
    "reason",
    "supersedes_id",
    "recorded_at",
)


def load_events(person_ids) -> list[EventFacts]:
    """The effective events of these persons: their own, and couple events naming them.

    An event is effective when no other event supersedes it (a correction names the event
    it replaces) and it is not a ``void`` (a retraction). Which events are superseded is
    asked of the whole table, not of the rows read here: a spouse's marriage may have
    been corrected or retracted by an event that names only the other spouse.
    """
    ids = list(person_ids)
    quote = db.connection.ops.quote_name
    cols = ", ".join(quote(c) for c in _EVENT_COLUMNS)
    rows = db.select_where_in(
        f"SELECT {cols} FROM {quote(EVENT_TABLE)} WHERE person_id IN ({{in}})", ids
    )
    rows += db.select_where_in(
        f"SELECT {cols} FROM {quote(EVENT_TABLE)} WHERE spouse_id IN ({{in}}) "
        "AND kind IN ('marriage', 'divorce')",
        ids,
    )
    superseded = superseded_among([r[0] for r in rows])
    children = _children_of([r[6] for r in rows if r[6] is not None])
    seen: set[int] = set()
    out = []
    for r in rows:
        if r[0] in seen or r[0] in superseded or r[2] == "void":
            continue
        seen.add(r[0])
        recorded = r[18]
        child_sex, child_birth = children.get(r[6], ("", None))
        out.append(
            EventFacts(
                kind=r[2],
                date=_as_date(r[3]),
                person=r[1],
                key=r[0],
                spouse=r[4],
                spouse_key=r[5] or "",
                child=r[6],
                child_sex=child_sex,
                child_birth=child_birth,
                village=r[7] or "",
                method=r[9] or "",
                outcome=r[10] or "",
                delivery_place=r[11] or "",
                lmp_date=_as_date(r[13]) if r[13] else None,
                stage=r[14] or "",
                findings=r[15] or "",
                reason=r[16] or "",
                recorded=local_date(recorded) if recorded else None,
            )
        )
    return out


def superseded_among(event_ids) -> set[int]:
    """Those of these events that another event supersedes (corrects or retracts)."""
    if not event_ids:
        return set()
    quote = db.connection.ops.quote_name
    rows = db.select_where_in(
        f"SELECT supersedes_id FROM {quote(EVENT_TABLE)} WHERE supersedes_id IN ({{in}})",
        list(set(event_ids)),
    )
    return {r[0] for r in rows}


def _children_of(child_ids) -> dict[int, tuple[str, dt.date]]:
    """{child: (sex, birth date)} of the children that births name."""
    if not child_ids:
        return {}
    quote = db.connection.ops.quote_name
    rows = db.select_where_in(
        f"SELECT id, sex, birth_date FROM {quote(PERSON_TABLE)} WHERE id IN ({{in}})",
        list(set(child_ids)),
    )
    return {r[0]: (r[1], _as_date(r[2])) for r in rows}


def load_person_facts(person_ids) -> dict[int, PersonFacts]:
    quote = db.connection.ops.quote_name
    rows = db.select_where_in(
        "SELECT id, sex, birth_date, village_id, live_births_before, status, current_village, "
        "merged_into_id, born_in_register, mother_id "
        f"FROM {quote(PERSON_TABLE)} WHERE id IN ({{in}})",
        list(person_ids),
    )
    return {
        r[0]: PersonFacts(
            r[0],
            r[1],
            _as_date(r[2]),
            r[3],
            r[4],
            stored_state=(r[5], r[6]),
            merged_into=r[7],
            born_in_register=bool(r[8]),
            mother=r[9],
        )
        for r in rows
    }


# ---------------------------------------------------------------------------
# Who a change touches: the one rule


def touched_by(person_ids) -> set[int]:
    """Everyone whose derived rows may change when events of these persons are recorded,
    corrected or retracted, whatever their kind:

    - the persons themselves;
    - their spouses past and present, on either side of every couple event ever recorded
      (corrected and retracted ones too: a corrected marriage's first spouse loses it),
      because a marriage or divorce is the couple's event and a death widows the survivor;
    - their mothers;
    - their children, the children's children and so on: a child lives with its mother at
      birth, so where the mother lived moves the child, and the child's own children.
    """
    ids = {pk for pk in person_ids if pk is not None}
    if not ids:
        return set()
    quote = db.connection.ops.quote_name
    event, person = quote(EVENT_TABLE), quote(PERSON_TABLE)
    out = set(ids)
    out |= _ids(
        f"SELECT spouse_id FROM {event} WHERE person_id IN ({{in}}) AND spouse_id IS NOT NULL", ids
    )
    out |= _ids(f"SELECT person_id FROM {event} WHERE spouse_id IN ({{in}})", ids)
    out |= _ids(
        f"SELECT mother_id FROM {person} WHERE id IN ({{in}}) AND mother_id IS NOT NULL", ids
    )
    frontier = set(ids)
    while frontier:
        children = _ids(f"SELECT id FROM {person} WHERE mother_id IN ({{in}})", frontier)
        children |= _ids(
            f"SELECT child_id FROM {event} WHERE person_id IN ({{in}}) AND child_id IS NOT NULL",
            frontier,
        )
        frontier = children - out
        out |= children
    return out


def _ids(sql: str, values) -> set[int]:
    return {r[0] for r in db.select_where_in(sql, list(values)) if r[0] is not None}


# ---------------------------------------------------------------------------
# Recording, correcting, rebuilding


def record_events(
    new_events: list[EventFacts],
    *,
    new_children: dict[int, NewPerson] | None = None,
    user=None,
    batch=None,
    today: dt.date | None = None,
    write: bool = True,
    progress=None,
) -> Outcome:
    """Check new events against the register and, if none contradicts it, write them.

    ``new_children`` are persons created by new ``birth`` events (keyed by reserved pk);
    their village is their mother's on the day of birth. Returns the counts written, or
    the problems found (then nothing is written). The caller holds the transaction.
    """
    today = today or clock.today()
    new_children = dict(new_children or {})
    outcome = Outcome()
    recorded_now = clock.now()

    # 1. Who is touched (``touched_by``), with the persons the new events name.
    named = {e.person for e in new_events} | {e.spouse for e in new_events if e.spouse}
    named |= {e.child for e in new_events if e.child is not None}
    existing_ids = touched_by(pk for pk in named if pk not in new_children)
    existing = load_events(existing_ids)
    facts = load_person_facts(existing_ids)
    facts.update({pk: child.facts() for pk, child in new_children.items()})
    for child in new_children.values():
        child.born_in_register = True
        facts[child.pk].village = ""  # where the mother lived that day (below)
        facts[child.pk].born_in_register = True

    # 2. Drop events the register already has (and a couple's second row).
    known = {event_key(e) for e in existing}
    fresh: list[EventFacts] = []
    for e in new_events:
        key = event_key(e)
        if key not in known:
            known.add(key)
            fresh.append(e)
    outcome.counts["events_unchanged"] = len(new_events) - len(fresh)
    # Recorded today: the day counts for timeliness (a birth recorded late is late).
    recorded_today = local_date(recorded_now)
    for e in fresh:
        e.recorded = e.recorded or recorded_today
        if e.kind == "birth" and e.child is not None and e.child_birth is None:
            e.child_birth = facts[e.child].birth if e.child in facts else None

    # 3. Everyone's timeline, children with their mothers.
    derived, moved = _derive_all(
        list(existing_ids | set(new_children)),
        facts,
        [*existing, *fresh],
        today,
        created=set(new_children),
        progress=progress,
    )
    for pk, village in moved.items():
        if pk in new_children:
            child = new_children.pop(pk)
            child.village = village
            child.hukou_village = child.hukou_village or village
            new_children[pk] = child

    for d in derived.values():
        outcome.problems.extend(d.problems)
    if outcome.problems or not write:
        outcome.counts["events"] = len(fresh)
        outcome.counts["persons_created"] = len(new_children)
        return outcome

    # 4. Write the events, the new children and everyone's rebuilt spells.
    if new_children:
        insert_persons(list(new_children.values()), user=user, batch=batch)
    # Ids in person order make the person index grow at its end, as the primary key does:
    # a million random inserts into a B-tree cost several times more.
    fresh.sort(key=lambda e: (e.person, e.date))
    ids = db.reserve_ids(EVENT_TABLE, len(fresh))
    for e, pk in zip(fresh, ids, strict=True):
        e.key = pk
    _insert_events(fresh, user=user, batch=batch, now=recorded_now)
    linked = [
        (e.person, e.child)
        for e in fresh
        if e.kind == "birth" and e.child is not None and e.child not in new_children
    ]
    if linked:
        quote = db.connection.ops.quote_name
        with db.connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {quote(PERSON_TABLE)} SET mother_id = %s WHERE id = %s", linked
            )
    _move_children({pk: v for pk, v in moved.items() if pk not in new_children}, facts)
    _write_derived(derived, facts, today)
    outcome.counts["events"] = len(fresh)
    outcome.counts["persons_created"] = len(new_children)
    outcome.counts["persons_rebuilt"] = len(derived)
    return outcome


def correct_event(
    event_id: int,
    *,
    replacement: EventFacts | None,
    user=None,
    reason: str = "",
    today: dt.date | None = None,
    batch=None,
    source: str = "",
) -> Outcome:
    """Supersede a recorded event: by ``replacement`` (the event as it should have been),
    or, with ``replacement=None``, retract it. The original stays in the record; the
    correction is a new event naming it. Everyone the original and the correction touch
    (``touched_by``) is rebuilt. Nothing is written if the corrected history contradicts
    itself (the problems are returned). The caller holds the transaction.
    """
    today = today or clock.today()
    original = Event.objects.get(pk=event_id)
    replaced_by = Event.objects.filter(supersedes_id=event_id).values_list("pk", flat=True)
    if replaced_by:
        raise ValueError(f"event {event_id} has already been replaced by event {replaced_by[0]}")
    if original.kind == "void":
        raise ValueError(f"event {event_id} is a retraction: it cannot itself be corrected")
    correction = replacement or EventFacts(
        kind="void",
        date=original.date,
        person=original.person_id,
        spouse=original.spouse_id,
        child=original.child_id,
    )
    correction.person = original.person_id
    if replacement is None:  # a retraction keeps its reason; a correction's is in the audit
        correction.reason = reason[:200]
    correction.extra = {**(correction.extra or {}), "supersedes": event_id}
    if correction.kind == "birth" and correction.child is not None:
        correction.child_birth = Person.objects.values_list("birth_date", flat=True).get(
            pk=correction.child
        )
    [correction.key] = db.reserve_ids(EVENT_TABLE, 1)
    outcome = Outcome(counts={"events": 1})
    try:
        with transaction.atomic():
            _insert_events([correction], user=user, batch=batch, now=clock.now())
            named = {original.person_id, original.spouse_id, original.child_id}
            named |= {correction.spouse, correction.child}
            derived = rebuild(touched_by(named), today=today, expand=False)
            outcome.problems = [p for d in derived.values() for p in d.problems]
            if outcome.problems:
                raise _Refused
    except _Refused:
        return outcome
    outcome.counts["persons_rebuilt"] = len(derived)
    outcome.counts["correction"] = correction.key
    audit(
        "event_correct",
        user=user,
        object_type="event",
        object_id=event_id,
        org_code=Person.objects.values_list("current_village", flat=True).get(
            pk=original.person_id
        ),
        source=source,
        correction=correction.key,
        retracted=replacement is None,
        reason=reason,
    )
    return outcome


class _Refused(Exception):
    pass


def rebuild(person_ids, *, today: dt.date | None = None, expand: bool = True) -> dict[int, Derived]:
    """Rebuild the derived rows of these persons from their events, and (``expand``) of
    everyone ``touched_by`` them. Returns what was derived, problems included: the
    caller decides whether a history with problems may stand."""
    today = today or clock.today()
    ids = touched_by(person_ids) if expand else set(person_ids)
    facts = load_person_facts(ids)
    ids = set(facts)
    derived, moved = _derive_all(list(ids), facts, load_events(ids), today)
    _move_children(moved, facts)
    _write_derived(derived, facts, today)
    return derived


def _derive_all(ids, facts, events, today, *, created=frozenset(), progress=None):
    """Derive these persons; a child lives with its mother at birth, so a child whose
    registered village is not where its mother lived that day is derived again from there
    (and its own children after it). Returns the derived rows and {child: village} for the
    children whose village changed."""
    timelines, spouses_of, deaths = _timelines(events, known_persons=facts)
    # Born here: from the mother's births below, or, for a mother not derived now, from
    # her birth facts as they stand.
    outside = [pk for pk in ids if facts[pk].mother is None or facts[pk].mother not in facts]
    if outside:
        quote = db.connection.ops.quote_name
        for (child,) in db.select_where_in(
            f"SELECT child_id FROM {quote(BirthFact._meta.db_table)} "
            "WHERE child_id IN ({in}) AND village <> ''",
            outside,
        ):
            facts[child].born_here = True
    derived: dict[int, Derived] = {}
    for i, pk in enumerate(ids):
        derived[pk] = _derive(pk, facts, timelines, spouses_of, deaths, today)
        if progress and i % 5000 == 0:
            progress(i, len(ids))
    moved: dict[int, str] = {}
    mothers = [pk for pk in ids if derived[pk].births]
    while mothers:
        again = []
        for mother in mothers:
            for b in derived[mother].births:
                child = facts.get(b.child)
                if child is None or b.child not in derived:
                    continue
                if child.born_here != bool(b.village):
                    child.born_here = bool(b.village)
                    derived[b.child] = _derive(b.child, facts, timelines, spouses_of, deaths, today)
                    if derived[b.child].births:
                        again.append(b.child)
                if not b.village:
                    if b.child in created or _lives_from_birth(derived[b.child], child):
                        derived[mother].problems.append(
                            Problem(
                                b.event,
                                "id_number" if b.event.row is not None else "date",
                                f"the mother did not live in the county on {b.event.date}; "
                                "the child's birth is registered where she lived",
                            )
                        )
                    continue
                if child.village != b.village:
                    child.village = moved[b.child] = b.village
                    derived[b.child] = _derive(b.child, facts, timelines, spouses_of, deaths, today)
                    if derived[b.child].births:
                        again.append(b.child)
        mothers = again
    _unregister_orphans(derived, facts, timelines, events)
    return derived, moved


def _unregister_orphans(derived, facts, timelines, events) -> None:
    """A person registered by a birth whose every birth event is retracted was never
    registered: no derived rows. With events of their own, the retraction is refused."""
    born = [pk for pk in derived if facts[pk].born_in_register]
    if not born:
        return
    standing = {e.child for e in events if e.kind == "birth" and e.child is not None}
    unknown = [pk for pk in born if pk not in standing]
    if unknown:
        quote = db.connection.ops.quote_name
        rows = db.select_where_in(
            f"SELECT id, child_id FROM {quote(EVENT_TABLE)} "
            "WHERE child_id IN ({in}) AND kind = 'birth'",
            unknown,
        )
        superseded = superseded_among([r[0] for r in rows])
        standing |= {r[1] for r in rows if r[0] not in superseded}
    for pk in born:
        if pk in standing:
            continue
        own = timelines.get(pk, [])
        if own:
            derived[pk].problems.append(
                Problem(
                    own[0],
                    "event",
                    "this person was registered by a birth that would be retracted, yet has "
                    "events of their own: correct the birth instead of retracting it",
                )
            )
            continue
        derived[pk] = Derived(retracted=True)


def _lives_from_birth(derived: Derived, person: PersonFacts) -> bool:
    """The person lives in the county from birth (not from a move in)."""
    birth = ymd(person.birth)
    return any(
        start == birth and how == ""
        for (_v, start, _e, _r), how in zip(
            derived.residence, derived.residence_starts, strict=True
        )
    )


def _move_children(moved: dict[int, str], facts: dict[int, PersonFacts]) -> None:
    """Write the village children were born in (their mother's that day); a place of
    household registration that was the old village follows it."""
    if not moved:
        return
    quote = db.connection.ops.quote_name
    table = quote(PERSON_TABLE)
    with db.connection.cursor() as cursor:
        for pk, village in moved.items():
            cursor.execute(
                f"UPDATE {table} SET hukou_village = %s WHERE id = %s AND hukou_village = village_id",
                [village, pk],
            )
            cursor.execute(f"UPDATE {table} SET village_id = %s WHERE id = %s", [village, pk])


def _timelines(events: list[EventFacts], *, known_persons):
    """Group events by person (a couple event goes to both spouses) and find the death
    dates of every registered spouse, so a spouse's death widows the survivor."""
    timelines: dict[int, list[EventFacts]] = defaultdict(list)
    spouses_of: dict[int, set[int]] = defaultdict(set)
    deaths: dict[int, dt.date] = {}
    for e in events:
        timelines[e.person].append(e)
        if e.spouse is not None and e.kind in COUPLE_KINDS:
            timelines[e.spouse].append(e.as_seen_by(e.spouse))
            if e.kind == "marriage":
                spouses_of[e.person].add(e.spouse)
                spouses_of[e.spouse].add(e.person)
        elif e.kind == "death":
            deaths[e.person] = e.date
    # Spouses whose own events were not loaded: their deaths come from the database.
    others = {s for ss in spouses_of.values() for s in ss if s not in known_persons}
    if others:
        deaths.update(_death_dates(others))
    return timelines, spouses_of, deaths


def _derive(pk, facts, timelines, spouses_of, deaths, today) -> Derived:
    if facts[pk].merged_into is not None:
        return Derived()  # a duplicate registration: its events are the kept person's
    spouse_deaths = {s: deaths[s] for s in spouses_of.get(pk, ()) if s in deaths}
    return derive(facts[pk], timelines.get(pk, []), spouse_deaths=spouse_deaths, today=today)


def _death_dates(person_ids) -> dict[int, dt.date]:
    quote = db.connection.ops.quote_name
    rows = db.select_where_in(
        f"SELECT person_id, date, id FROM {quote(EVENT_TABLE)} "
        "WHERE kind = 'death' AND person_id IN ({in}) "
        f"AND id NOT IN (SELECT supersedes_id FROM {quote(EVENT_TABLE)} "
        "WHERE supersedes_id IS NOT NULL)",
        list(person_ids),
    )
    return {r[0]: _as_date(r[1]) for r in rows}


def _insert_events(events: list[EventFacts], *, user, batch, now) -> None:
    user_id = user.pk if user else None
    batch_id = batch.pk if batch else None
    now_db = db.adapt_datetime(now)
    adapt_date = db.date_adapter()
    # A few thousand distinct recording times among a million events.
    recorded_at = functools.lru_cache(maxsize=65536)(db.adapt_datetime)
    rows = []
    for e in events:
        extra = e.extra or {}
        rows.append(
            (  # _EVENT_COLUMNS, then what is written but never read back for the timeline
                e.key,
                e.person,
                e.kind,
                adapt_date(e.date),
                e.spouse,
                e.spouse_key,
                e.child,
                e.village if e.kind != "move_out" else "",
                extra.get("destination", ""),
                e.method,
                e.outcome,
                e.delivery_place,
                extra.get("birth_weight_g"),
                adapt_date(e.lmp_date),
                e.stage,
                e.findings,
                e.reason,
                extra.get("supersedes"),
                recorded_at(extra["recorded_at"]) if extra.get("recorded_at") else now_db,
                extra.get("spouse_id_cipher"),
                user_id,
                batch_id,
            )
        )
    db.insert_rows(
        EVENT_TABLE, [*_EVENT_COLUMNS, "spouse_id_cipher", "recorded_by_id", "batch_id"], rows
    )


def _write_derived(
    derived: dict[int, Derived], facts: dict[int, PersonFacts], today, *, fresh: bool = False
) -> None:
    """Replace the derived rows of these persons (``fresh``: they have none yet), and the
    maintained figures with them (``taizhang.figures``)."""
    from taizhang.figures.store import maintaining

    with maintaining(list(derived), fresh=fresh):
        _replace_derived(derived, facts, today, fresh=fresh)


def _replace_derived(
    derived: dict[int, Derived], facts: dict[int, PersonFacts], today, *, fresh: bool
) -> None:
    pks = list(derived)
    if not fresh:
        for model in (ResidenceSpell, UnionSpell, MethodSpell):
            db.delete_where_in(model._meta.db_table, "person_id", pks)
        db.delete_where_in(BirthFact._meta.db_table, "mother_id", pks)

    residence, unions, methods, births = [], [], [], []
    status_rows = []
    today_ymd = ymd(today)
    for pk, d in derived.items():
        f = facts[pk]
        birth = ymd(f.birth)
        for (village, start, end, reason), how in zip(d.residence, d.residence_starts, strict=True):
            residence.append((pk, village, start, end, reason, how, f.sex, birth))
        for spouse, _key, start, end, reason, counts, at_start in d.unions:
            unions.append((pk, spouse, start, end, reason, counts, at_start))
        for method, start, end, reason in d.methods:
            methods.append((pk, method, start, end, reason))
        for b in d.births:
            births.append(
                (
                    b.event.key,
                    pk,
                    b.child,
                    b.date,
                    b.village,
                    b.sex,
                    b.order,
                    b.mother_age,
                    b.delivery_place,
                    b.recorded,
                )
            )
        status, village = d.status_on(today_ymd)
        # A person who moved out or died stays in the care of the village they left.
        if not village and d.residence:
            village = max(d.residence, key=lambda spell: spell[1])[0]
        state = (status, village or f.village)
        if f.merged_into is not None:  # stays where it was listed, as merged
            state = ("merged", f.stored_state[1] if f.stored_state else f.village)
        elif d.retracted:
            state = ("retracted", f.stored_state[1] if f.stored_state else f.village)
        if state != f.stored_state:  # most persons' state does not change
            status_rows.append((*state, pk))

    db.insert_rows(
        ResidenceSpell._meta.db_table,
        ["person_id", "village", "start", "end", "end_reason", "start_reason", "sex", "birth"],
        residence,
    )
    db.insert_rows(
        UnionSpell._meta.db_table,
        [
            "person_id",
            "spouse_id",
            "start",
            "end",
            "end_reason",
            "counts_marriage",
            "village_at_start",
        ],
        unions,
    )
    db.insert_rows(
        MethodSpell._meta.db_table,
        ["person_id", "method", "start", "end", "stop_reason"],
        methods,
    )
    db.insert_rows(
        BirthFact._meta.db_table,
        [
            "event_id",
            "mother_id",
            "child_id",
            "date",
            "village",
            "sex",
            "birth_order",
            "mother_age",
            "delivery_place",
            "recorded",
        ],
        births,
    )
    if not fresh:  # new persons were written with their state
        _update_status(status_rows)
    if len(pks) >= ANALYZE_AFTER:
        db.analyze(
            [PERSON_TABLE, EVENT_TABLE]
            + [m._meta.db_table for m in (ResidenceSpell, UnionSpell, MethodSpell, BirthFact)]
        )


def _update_status(rows: list[tuple[str, str, int]]) -> None:
    """Write (status, current_village, id) rows: one statement per chunk on PostgreSQL,
    where a hundred thousand single-row UPDATEs would each pay a round trip."""
    quote = db.connection.ops.quote_name
    table = quote(PERSON_TABLE)
    with db.connection.cursor() as cursor:
        if db.connection.vendor != "postgresql":
            cursor.executemany(
                f"UPDATE {table} SET status = %s, current_village = %s WHERE id = %s", rows
            )
            return
        for part in db.chunks(rows, 5000):
            values = ", ".join(["(%s, %s, %s::bigint)"] * len(part))
            cursor.execute(
                f"UPDATE {table} AS p SET status = v.status, current_village = v.village "
                f"FROM (VALUES {values}) AS v(status, village, id) WHERE p.id = v.id",
                [x for row in part for x in row],
            )


def _as_date(value) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _as_datetime(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


def local_date(value) -> dt.date:
    """The day in the register's time zone of a stored moment (stored in UTC)."""
    moment = _as_datetime(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(clock.zone()).date()


# ---------------------------------------------------------------------------
# The whole register rebuilt, and what it changed


def derived_snapshot(person_ids) -> dict[int, tuple]:
    """Each person's derived rows and cached state, as comparable tuples (no row ids)."""
    ids = list(person_ids)
    quote = db.connection.ops.quote_name
    out: dict[int, list] = {pk: [[], [], [], [], ()] for pk in ids}
    queries = [
        (ResidenceSpell, ["village", "start", "end", "end_reason", "start_reason"], "person_id"),
        (UnionSpell, ["spouse_id", "start", "end", "end_reason", "counts_marriage",
                      "village_at_start"], "person_id"),
        (MethodSpell, ["method", "start", "end", "stop_reason"], "person_id"),
        (BirthFact, ["event_id", "child_id", "date", "village", "sex", "birth_order",
                     "mother_age", "delivery_place", "recorded"], "mother_id"),
    ]  # fmt: skip
    for i, (model, columns, owner) in enumerate(queries):
        cols = ", ".join(quote(c) for c in [owner, *columns])
        for row in db.select_where_in(
            f"SELECT {cols} FROM {quote(model._meta.db_table)} WHERE {owner} IN ({{in}})", ids
        ):
            out[row[0]][i].append(tuple(bool(x) if isinstance(x, bool) else x for x in row[1:]))
    for row in db.select_where_in(
        f"SELECT id, status, current_village, village_id FROM {quote(PERSON_TABLE)} "
        "WHERE id IN ({in})",
        ids,
    ):
        out[row[0]][4] = tuple(row[1:])
    # Sorted by their text: a spouse outside the register is None beside numbers.
    return {pk: tuple(tuple(sorted(part, key=repr)) if i < 4 else part
                      for i, part in enumerate(rows))
            for pk, rows in out.items()}  # fmt: skip


def rebuild_all(*, today: dt.date | None = None, chunk: int = 5000, progress=None) -> dict:
    """Rebuild every person's derived rows from the events, in chunks, until a pass
    changes nothing (a child follows a mother rebuilt in a later chunk). Returns the
    persons rebuilt and those whose rows changed (on the first pass: what was out of
    step with the events). The caller holds the transaction."""
    today = today or clock.today()
    ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    changed_first: set[int] = set()
    for n in range(3):
        changed: set[int] = set()
        for start in range(0, len(ids), chunk):
            part = set(ids[start : start + chunk])
            # The children, wherever they fall: a child lives where its mother did.
            part |= _ids(
                f"SELECT id FROM {db.connection.ops.quote_name(PERSON_TABLE)} "
                "WHERE mother_id IN ({in})",
                part,
            )
            before = derived_snapshot(part)
            rebuild(part, today=today, expand=False)
            after = derived_snapshot(part)
            changed |= {pk for pk in part if before[pk] != after[pk]}
            if progress:
                progress(min(start + chunk, len(ids)), len(ids))
        if n == 0:
            changed_first = changed
        if not changed:
            break
    return {"persons": len(ids), "changed": len(changed_first), "changed_ids": changed_first}
