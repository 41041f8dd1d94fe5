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

    A correction supersedes the event it names; a ``void`` correction retracts it.
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
    seen: set[int] = set()
    superseded = {r[17] for r in rows if r[17] is not None}
    child_sex = _child_sexes([r[6] for r in rows if r[6] is not None])
    out = []
    for r in rows:
        if r[0] in seen or r[0] in superseded or r[2] == "void":
            continue
        seen.add(r[0])
        recorded = r[18]
        out.append(
            EventFacts(
                kind=r[2],
                date=_as_date(r[3]),
                person=r[1],
                key=r[0],
                spouse=r[4],
                spouse_key=r[5] or "",
                child=r[6],
                child_sex=child_sex.get(r[6], ""),
                village=r[7] or "",
                method=r[9] or "",
                outcome=r[10] or "",
                delivery_place=r[11] or "",
                lmp_date=_as_date(r[13]) if r[13] else None,
                stage=r[14] or "",
                findings=r[15] or "",
                reason=r[16] or "",
                recorded=_as_datetime(recorded).date() if recorded else None,
            )
        )
    return out


def _child_sexes(child_ids) -> dict[int, str]:
    if not child_ids:
        return {}
    quote = db.connection.ops.quote_name
    rows = db.select_where_in(
        f"SELECT id, sex FROM {quote(PERSON_TABLE)} WHERE id IN ({{in}})", child_ids
    )
    return dict(rows)


def load_person_facts(person_ids) -> dict[int, PersonFacts]:
    quote = db.connection.ops.quote_name
    rows = db.select_where_in(
        "SELECT id, sex, birth_date, village_id, live_births_before, status, current_village "
        f"FROM {quote(PERSON_TABLE)} WHERE id IN ({{in}})",
        list(person_ids),
    )
    return {
        r[0]: PersonFacts(r[0], r[1], _as_date(r[2]), r[3], r[4], stored_state=(r[5], r[6]))
        for r in rows
    }


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

    # 1. Who is touched: the persons of the new events, their spouses, and the
    #    surviving spouses of anyone whose death is new.
    affected = {e.person for e in new_events} | {e.spouse for e in new_events if e.spouse}
    dying = [e.person for e in new_events if e.kind == "death"]
    if dying:
        quote = db.connection.ops.quote_name
        affected |= {
            r[0]
            for r in db.select_where_in(
                f"SELECT spouse_id FROM {quote(UnionSpell._meta.db_table)} "
                "WHERE person_id IN ({in}) AND spouse_id IS NOT NULL",
                dying,
            )
        }
    existing_ids = [p for p in affected if p not in new_children]
    existing = load_events(existing_ids)
    facts = load_person_facts(existing_ids)
    facts.update({pk: child.facts() for pk, child in new_children.items()})

    # 2. Drop events the register already has (and a couple's second row).
    known = {event_key(e) for e in existing}
    fresh: list[EventFacts] = []
    for e in new_events:
        key = event_key(e)
        if key not in known:
            known.add(key)
            fresh.append(e)
    outcome.counts["events_unchanged"] = len(new_events) - len(fresh)

    # 3. Each affected person's timeline: own events plus couple events naming them.
    timelines, spouses_of, deaths = _timelines([*existing, *fresh], known_persons=facts)

    derived: dict[int, Derived] = {}
    adults = [pk for pk in affected if pk not in new_children]
    for i, pk in enumerate(adults):
        derived[pk] = _derive(pk, facts, timelines, spouses_of, deaths, today)
        if progress and i % 5000 == 0:
            progress(i, len(adults) + len(new_children))

    # 4. New children live with their mother from birth; then their own events.
    for mother in {c.mother for c in new_children.values()}:
        if mother not in derived:
            continue
        for b in derived[mother].births:
            child = new_children.get(b.child)
            if child is None:
                continue
            if not b.village:
                outcome.problems.append(
                    Problem(
                        b.event,
                        "id_number",
                        f"the mother did not live in the county on {b.event.date}; "
                        "the child's birth is registered where she lived",
                    )
                )
            child.village = b.village
            child.hukou_village = child.hukou_village or b.village
            facts[child.pk].village = b.village
    for pk in new_children:
        derived[pk] = _derive(pk, facts, timelines, spouses_of, deaths, today)

    for d in derived.values():
        outcome.problems.extend(d.problems)
    if outcome.problems or not write:
        outcome.counts["events"] = len(fresh)
        outcome.counts["persons_created"] = len(new_children)
        return outcome

    # 5. Write the events, the new children and everyone's rebuilt spells.
    recorded_now = clock.now()
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
) -> Outcome:
    """Supersede a recorded event: by ``replacement`` (the event as it should have been),
    or, with ``replacement=None``, retract it. The original stays in the record; the
    correction is a new event naming it. Nothing is written if the corrected history
    contradicts itself (the problems are returned). The caller holds the transaction.
    """
    today = today or clock.today()
    original = Event.objects.get(pk=event_id)
    if Event.objects.filter(supersedes_id=event_id).exists():
        raise ValueError(f"event {event_id} has already been corrected")
    correction = replacement or EventFacts(
        kind="void", date=original.date, person=original.person_id, spouse=original.spouse_id
    )
    correction.person = original.person_id
    correction.reason = correction.reason or reason
    correction.extra = {**(correction.extra or {}), "supersedes": event_id}
    affected = {original.person_id, original.spouse_id, correction.spouse} - {None}
    [correction.key] = db.reserve_ids(EVENT_TABLE, 1)
    outcome = Outcome(counts={"events": 1})
    try:
        with transaction.atomic():
            _insert_events([correction], user=user, batch=None, now=clock.now())
            derived = rebuild(affected, today=today)
            outcome.problems = [p for d in derived.values() for p in d.problems]
            if outcome.problems:
                raise _Refused
    except _Refused:
        return outcome
    audit(
        "event_correct",
        user=user,
        object_type="event",
        object_id=event_id,
        org_code="",
        source="",
        correction=correction.key,
        retracted=replacement is None,
        reason=reason,
    )
    return outcome


class _Refused(Exception):
    pass


def rebuild(person_ids, *, today: dt.date | None = None) -> dict[int, Derived]:
    """Rebuild the derived spells of these persons from their events (after a correction)."""
    today = today or clock.today()
    ids = list(person_ids)
    facts = load_person_facts(ids)
    timelines, spouses_of, deaths = _timelines(load_events(ids), known_persons=facts)
    derived = {pk: _derive(pk, facts, timelines, spouses_of, deaths, today) for pk in ids}
    _write_derived(derived, facts, today)
    return derived


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
    """Replace the derived rows of these persons (``fresh``: they have none yet)."""
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
        for village, start, end, reason in d.residence:
            residence.append((pk, village, start, end, reason, f.sex, birth))
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
        if state != f.stored_state:  # most persons' state does not change
            status_rows.append((*state, pk))

    db.insert_rows(
        ResidenceSpell._meta.db_table,
        ["person_id", "village", "start", "end", "end_reason", "sex", "birth"],
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
