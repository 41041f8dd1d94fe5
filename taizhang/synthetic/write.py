"""Writing a simulated county into the register, through the register's own write path.

The org units go in with ``OrgUnit.objects.bulk_create``; households with the
register's bulk helpers (as the persons import does); persons with
``actions.insert_persons``; and every event, as ``EventFacts`` exactly like the
events import builds them, through ``actions.record_events`` — children born in
the simulation are its ``new_children``, with ids reserved in advance. So the
derived spells are the timeline's own, and a life the timeline refuses is
reported (a generator bug), never written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction

from taizhang import clock, config
from taizhang.audit.actions import record as audit
from taizhang.errors import UserError
from taizhang.figures import store as figures
from taizhang.lib import crypto
from taizhang.orgunits.models import OrgUnit
from taizhang.register import actions, db
from taizhang.register.models import Household, Person
from taizhang.register.timeline import EventFacts
from taizhang.synthetic import names, quality, services
from taizhang.synthetic.simulate import (
    BORN,
    DELIVERY_PLACES,
    KINDS,
    LAST_END,
    METHODS,
    OUTCOMES,
    STAGES,
    START,
    County,
    simulate,
)

Progress = Callable[[str, int, int], None]
RECORDING_HOUR_UTC = 2  # 10:00 in Beijing


class GeneratorError(Exception):
    """The register refused a generated life: a bug in the generator, not bad input."""


@dataclass
class Written:
    """What ``write_county`` wrote, and how long each part took (seconds)."""

    org_units: int = 0
    households: int = 0
    persons: int = 0
    children: int = 0
    events: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class Generated:
    """A county generated and written: what was written, and the time each part took."""

    persons: int
    seed: int
    county: County
    written: Written
    seconds: dict[str, float] = field(default_factory=dict)
    services: dict[str, int] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def generate(persons: int, seed: int, *, user=None, progress: Progress | None = None) -> Generated:
    """Simulate a county of ``persons`` people with ``seed`` and write it into the (empty)
    register, auditing the change. Same ``persons``, ``seed`` and day, same county.

    One transaction: the register, its petitions, benefits, report forms and census, and
    the ``generate`` audit entry are written together or not at all, so a generation that
    fails or is stopped half-way leaves the register as empty as it found it."""
    refuse_unless_empty()
    began = time.perf_counter()
    end = data_end()
    with collector_paused():
        county = simulate(
            persons,
            seed,
            end=end,
            progress=(lambda done, total: progress("simulate", done, total)) if progress else None,
        )
    simulated = time.perf_counter() - began
    with transaction.atomic():
        # The maintained figures are made once, at the end, rather than on every write.
        with figures.suspended():
            written = write_county(county, user=user, progress=progress)
        began = time.perf_counter()
        figures.rebuild()
        written.seconds["figures"] = time.perf_counter() - began
        began = time.perf_counter()
        if progress:
            progress("services", 0, 1)
        made = services.write_services(seed, county.end, user=user)
        made |= quality.write_quality(seed, county.end, user=user)
        if progress:
            progress("services", 1, 1)
        written.seconds["petitions and benefits"] = time.perf_counter() - began
        audit(
            "generate",
            user=user,
            object_type="org_unit",
            object_id=county.geography.county[0],
            org_code=county.geography.county[0],
            source="cli",
            persons=persons,
            seed=seed,
            end=county.end.isoformat(),
            persons_written=written.persons,
            events_written=written.events,
        )
    return Generated(
        persons=persons,
        seed=seed,
        county=county,
        written=written,
        seconds={"simulate": simulated, **written.seconds},
        services=made,
    )


def refuse_unless_empty() -> None:
    """``UserError`` when the register holds persons, saying how to start afresh."""
    held = Person.objects.count()
    if held:
        raise UserError(
            f"the register ({config.database_label()}) already holds {held:,} persons: a "
            "synthetic county is generated into an empty register — "
            f"{config.how_to_start_afresh()}"
        )


def data_end(today: dt.date | None = None) -> dt.date:
    """The last day a county generated today is simulated to: yesterday, so that every
    event, and the moment it was recorded, lies before now at any time of day."""
    today = today or clock.today()
    end = today - dt.timedelta(days=1)
    if end <= START:
        raise UserError(
            f"the synthetic county begins on {START}: it cannot be generated on {today} "
            "(check the computer's date)"
        )
    return min(end, LAST_END)


def write_county(county: County, *, user=None, progress: Progress | None = None) -> Written:
    """Write ``county`` into an empty register in one transaction.

    Raises ``UserError`` if the register already holds persons, and
    ``GeneratorError`` if the register refuses an event (nothing is written then).
    """
    written = Written()
    today = clock.today()
    if county.end >= today:
        raise UserError(f"the county is simulated to {county.end}, which is not before today")
    with transaction.atomic(), collector_paused():
        refuse_unless_empty()
        began = time.perf_counter()
        written.org_units = write_org_units(county.geography)
        household_pks = _write_households(county)
        written.households = len(household_pks)
        written.seconds["org units and households"] = time.perf_counter() - began

        began = time.perf_counter()
        pks = np.array(actions.reserve_person_ids(county.persons), dtype=np.int64)
        persons = _new_persons(county, pks, household_pks)
        born = county.origin == BORN
        involved = np.zeros(county.persons, bool)
        involved[county.person] = True
        couple = np.isin(county.kind, [KINDS.index("marriage"), KINDS.index("divorce")])
        spouses = county.a[couple]
        involved[spouses[spouses >= 0]] = True
        # Persons without events get their derived state now; the others from their events.
        quiet = [persons[i] for i in np.flatnonzero(~born & ~involved)]
        busy = [persons[i] for i in np.flatnonzero(~born & involved)]
        if progress:
            progress("persons", 0, len(quiet) + len(busy))
        actions.insert_persons(quiet, user=user, today=today)
        actions.insert_persons(busy, user=user)
        if progress:
            progress("persons", len(quiet) + len(busy), len(quiet) + len(busy))
        written.persons = len(quiet) + len(busy)
        children = {persons[i].pk: persons[i] for i in np.flatnonzero(born)}
        written.children = len(children)
        written.seconds["persons"] = time.perf_counter() - began

        began = time.perf_counter()
        events = build_events(county, pks)
        written.seconds["events built"] = time.perf_counter() - began

        began = time.perf_counter()

        def report(done: int, total: int) -> None:
            if progress:
                progress("events", done, total)

        outcome = actions.record_events(
            events, new_children=children, user=user, today=today, progress=report
        )
        if outcome.problems:
            shown = "; ".join(
                f"person {p.event.person}, {p.event.kind} on {p.event.date}: {p.column}: {p.message}"
                for p in outcome.problems[:10]
            )
            raise GeneratorError(
                f"the register refused {len(outcome.problems)} generated events: {shown}"
            )
        if progress:
            progress("events", len(events), len(events))
        written.events = outcome.counts["events"]
        written.seconds["events"] = time.perf_counter() - began
    return written


def write_org_units(geography: names.Geography) -> int:
    """Create the county, its townships and villages (those not there yet); returns how many."""
    existing = set(OrgUnit.objects.values_list("code", flat=True))
    new = [
        OrgUnit(code=code, name=name, parent_id=parent, level=level)
        for code, name, parent, level in geography.org_units()
        if code not in existing
    ]
    OrgUnit.objects.bulk_create(new, batch_size=1000)
    return len(new)


def _write_households(county: County) -> np.ndarray:
    """One household row per simulated household: number = village code + sequence."""
    villages = county.geography.villages
    hv = county.household_village
    pks = np.array(db.reserve_ids(Household._meta.db_table, len(hv)), dtype=np.int64)
    # Number households within each village in the order they were formed.
    order = np.argsort(hv, kind="stable")
    first = np.r_[True, hv[order][1:] != hv[order][:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(hv)), 0))
    seq = np.empty(len(hv), np.int64)
    seq[order] = np.arange(len(hv)) - start + 1
    rows = [
        (int(pk), f"{villages[v].code}{s:04d}", villages[v].code, f"{villages[v].name}{s}号")
        for pk, v, s in zip(pks.tolist(), hv.tolist(), seq.tolist(), strict=True)
    ]
    db.insert_rows(Household._meta.db_table, ["id", "number", "village_id", "address"], rows)
    return pks


def _new_persons(
    county: County, pks: np.ndarray, household_pks: np.ndarray
) -> list[actions.NewPerson]:
    villages = [v.code for v in county.geography.villages]
    births = [
        dt.date.fromordinal(int(d)) for d in range(county.birth.min(), county.birth.max() + 1)
    ]
    low = int(county.birth.min())
    sexes = ["F", "M"]
    out = []
    for i, (pk, sex, birth, village, household, hukou, lbb, mother, phone, eth) in enumerate(
        zip(
            pks.tolist(),
            county.sex.tolist(),
            county.birth.tolist(),
            county.village.tolist(),
            county.household.tolist(),
            county.hukou.tolist(),
            county.lbb.tolist(),
            county.mother.tolist(),
            county.phone.tolist(),
            county.ethnicity.tolist(),
            strict=True,
        )
    ):
        out.append(
            actions.NewPerson(
                pk=pk,
                name=county.given[i],
                sex=sexes[sex],
                birth=births[birth - low],
                id_number=county.id_numbers[i],
                village=villages[village],
                hukou_village=str(hukou),
                household=int(household_pks[household]) if household >= 0 else None,
                phone=str(phone) if phone else "",
                ethnicity=names.ETHNICITIES[eth],
                live_births_before=lbb,
                mother=int(pks[mother]) if mother >= 0 else None,
            )
        )
    return out


def build_events(county: County, pks: np.ndarray) -> list[EventFacts]:
    """The county's events as ``EventFacts``, as the events import would build them.

    ``row`` is the event's position in ``county`` (from 1), so a refused event can be
    traced back to the simulation.
    """
    villages = [v.code for v in county.geography.villages]
    low = int(county.day.min()) - 400  # a pregnancy's LMP comes before its registration
    days = [dt.date.fromordinal(d) for d in range(low, int(county.recorded.max()) + 1)]
    stamps = [dt.datetime.combine(d, dt.time(RECORDING_HOUR_UTC), dt.UTC) for d in days]
    pk = pks.tolist()
    sexes = ["F", "M"]
    outside_keys: dict[int, tuple[str, bytes]] = {}

    def outside(index: int) -> tuple[str, bytes]:
        found = outside_keys.get(index)
        if found is None:
            number = county.outside_id_numbers[index]
            found = outside_keys[index] = (crypto.blind_index(number), crypto.encrypt(number))
        return found

    findings = {
        "checkup": [""] + names.CHECKUP_FINDINGS,
        "screening": [""] + names.SCREENING_FINDINGS,
        "followup": [""] + names.FOLLOWUP_FINDINGS,
    }
    events: list[EventFacts] = []
    for kind_i, kind in enumerate(KINDS):
        rows = np.flatnonzero(county.kind == kind_i)
        if not len(rows):
            continue
        columns = zip(
            (rows + 1).tolist(),
            county.person[rows].tolist(),
            (county.day[rows] - low).tolist(),
            county.a[rows].tolist(),
            county.b[rows].tolist(),
            county.c[rows].tolist(),
            (county.recorded[rows] - low).tolist(),
            strict=True,
        )
        if kind in findings:
            found = findings[kind]
            events += [
                EventFacts(
                    kind,
                    days[d],
                    pk[p],
                    row=n,
                    findings=found[b + 1],
                    recorded=days[r],
                    extra={"recorded_at": stamps[r]},
                )
                for n, p, d, _a, b, _c, r in columns
            ]
            continue
        for n, p, d, a, b, c, r in columns:
            extra = {"recorded_at": stamps[r]}
            e = EventFacts(kind, days[d], pk[p], row=n, recorded=days[r], extra=extra)
            if kind == "education":
                e.stage = STAGES[a]
            elif kind in ("marriage", "divorce"):
                if a >= 0:
                    e.spouse = pk[a]
                elif b >= 0:
                    e.spouse_key, extra["spouse_id_cipher"] = outside(b)
            elif kind == "method_start":
                e.method = METHODS[a]
            elif kind == "method_stop":
                e.method = METHODS[a]
                e.reason = names.STOP_REASONS[b]
            elif kind == "birth":
                e.child = pk[a]
                e.child_sex = sexes[county.sex[a]]
                e.delivery_place = DELIVERY_PLACES[c]
                extra["birth_weight_g"] = b
            elif kind == "pregnancy":
                e.lmp_date = days[b - low]
            elif kind == "outcome":
                e.outcome = OUTCOMES[a]
            elif kind in ("move_in", "move_within"):
                e.village = villages[a]
            elif kind == "move_out":
                extra["destination"] = names.DESTINATIONS[a]
            events.append(e)
    return events


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cycle collector: writing a county allocates millions of small acyclic
    objects, which it would rescan over and over and find nothing to free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
