"""Import of life events (docs/imports.md, "events").

Each row is checked on its own first (known person, real date not in the future,
the columns its event type needs), then all rows together against the register
by the timeline (``taizhang.register.timeline``): a birth to a man, a second
marriage of a married person, an event after death ... are row errors. A birth
creates the child as a person living with the mother, or links the person
already registered with that ID number. A marriage is one event for the couple:
each spouse's row for the same day records it once.

A user with an org unit writes within it (``taizhang.accounts.scope.write_area``): a
person living outside it answers exactly as an ID number not in the register does (a row
about them is refused as unknown, a spouse is kept by ID number alone and their record is
left untouched), and a birth cannot create a child whose ID number is already registered
outside it (``OUTSIDE_AREA``). docs/imports.md, "Writes across areas".

``event_from_values`` reads one event from a mapping of column keys to text (a web
form's fields) with the very parsers and messages of an import row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping

from taizhang.accounts.scope import within, write_area
from taizhang.imports import fields
from taizhang.imports.fields import FieldError
from taizhang.lib import crypto, idnumber
from taizhang.orgunits.models import OrgUnit
from taizhang.register import actions, db
from taizhang.register.models import DeliveryPlace, EventKind, LifeStage, Method, Outcome, Person
from taizhang.register.timeline import EventFacts

KINDS = tuple(k for k in EventKind.values if k != "void")
KIND_SET = frozenset(KINDS)
OUTCOMES = tuple(Outcome.values)
METHODS = tuple(Method.values)
STAGES = tuple(LifeStage.values)
DELIVERY_PLACES = tuple(DeliveryPlace.values)

# A birth naming a child already registered outside the writer's area: the child cannot be
# created again (the ID number is the register's key) nor taken from that area. The
# sentence says nothing of the person: no name, date, village or mother.
OUTSIDE_AREA = (
    "this ID number is already registered outside your area: ask the county to record this birth"
)


def run(ctx) -> dict[str, int]:
    table, errors, today = ctx.table, ctx.errors, ctx.today
    ix = table.index
    villages = set(OrgUnit.objects.villages().values_list("code", flat=True))

    def get(values, key):
        i = ix.get(key)
        return values[i] if i is not None else ""

    # Pass 1: the ID numbers in the file, so that one lookup finds every known person
    # and the children that birth rows of this file create.
    ids: dict[str, str] = {}  # raw -> normalized ('' when invalid)

    def norm(raw):
        if raw not in ids:
            try:
                ids[raw] = idnumber.normalize(raw, today=today)
            except idnumber.IDNumberError:
                ids[raw] = ""
        return ids[raw]

    i_id, i_event, i_date = ix["id_number"], ix["event"], ix["date"]
    i_recorded = ix.get("recorded_at")
    optional_ids = [ix[key] for key in ("spouse_id_number", "child_id_number") if key in ix]
    for _n, values in table.rows:
        norm(values[i_id])
        for i in optional_ids:
            if values[i]:
                norm(values[i])
    index = {idn: crypto.blind_index(idn) for idn in set(ids.values()) if idn}
    area = write_area(ctx.user)
    known, outside = _known_persons(index.values(), area)
    person_of = {idn: known[ix_][0] for idn, ix_ in index.items() if ix_ in known}
    sex_of = {known[ix_][0]: known[ix_][1] for ix_ in index.values() if ix_ in known}

    # Children created by this file's birth rows get reserved ids now.
    i_child = ix.get("child_id_number")
    new_child_ids = sorted(
        {
            norm(values[i_child])
            for _n, values in table.rows
            if values[i_event].strip().lower() == "birth"
            and norm(values[i_child])
            and norm(values[i_child]) not in person_of
            and index[norm(values[i_child])] not in outside
        }
        if i_child is not None
        else ()
    )
    child_pk = dict(zip(new_child_ids, actions.reserve_person_ids(len(new_child_ids)), strict=True))
    for idn, pk in child_pk.items():
        sex_of[pk] = idnumber.sex(idn)
    children: dict[int, actions.NewPerson] = {}

    # Pass 2: every row on its own. Dates repeat across a large file, so each distinct
    # text is parsed once.
    dates: dict[str, dt.date] = {}
    new_events: list[EventFacts] = []
    for n, values in table.rows:
        column = "id_number"
        try:
            raw = values[i_id]
            idn = ids.get(raw) or fields.id_number(raw, today)
            pk = person_of.get(idn) or child_pk.get(idn)
            if pk is None:
                raise FieldError(
                    f"no person with ID number {idnumber.mask(idn)} is in the register"
                )
            column = "event"
            kind = values[i_event]
            if kind not in KIND_SET:
                kind = fields.choice(kind, KINDS, what="event type")
            column = "date"
            text = values[i_date]
            date = dates.get(text)
            if date is None:
                date = dates[text] = fields.date(text, today)
            e = EventFacts(kind=kind, date=date, person=pk, row=n, extra={})
            _fill(e, kind, get, values, today, villages, person_of, sex_of)
            if kind in ("move_in", "move_within") and not within(area, e.village):
                # As the event form says: a move is recorded into the writer's own area.
                raise FieldError(f"village {e.village} is outside your area", column="village")
            if kind == "birth":
                column = "child_id_number"
                _birth(
                    e,
                    get(values, "child_id_number"),
                    get,
                    values,
                    today,
                    person_of,
                    child_pk,
                    known,
                    index,
                    children,
                    outside,
                )
            column = "recorded_at"
            if i_recorded is not None and values[i_recorded]:
                recorded = fields.date(values[i_recorded][:10], today, what="recording date")
                if recorded < date:
                    raise FieldError(
                        f"the event was recorded ({recorded}) before it happened ({date})"
                    )
                e.recorded = recorded
                e.extra["recorded_at"] = dt.datetime.combine(recorded, dt.time(12), dt.UTC)
        except FieldError as err:
            errors.add(n, err.column or column, str(err))
            continue
        new_events.append(e)
    if ctx.progress:
        ctx.progress("check", len(table.rows), len(table.rows))

    # Children born to the same mother twice in this file, or to two mothers.
    seen_child: dict[int, EventFacts] = {}
    for e in new_events:
        if e.kind == "birth":
            first = seen_child.setdefault(e.child, e)
            if first is not e and (first.person, first.date) != (e.person, e.date):
                errors.add(e.row, "child_id_number", f"the same child is born on row {first.row}")
    # With row errors already found, the timeline still checks the valid rows (so every
    # contradiction is reported at once) but nothing is written.

    _join_mothers_households(children)

    def progress(done, total):
        if ctx.progress:
            ctx.progress("check", done, total)

    outcome = actions.record_events(
        new_events,
        new_children=children,
        user=ctx.user,
        batch=ctx.batch,
        today=today,
        write=not errors,
        progress=progress,
    )
    if outcome.problems:
        first_row = {}
        for e in new_events:
            first_row.setdefault(e.person, e.row)
        for p in outcome.problems:
            row = p.event.row or (p.cause.row if p.cause else None) or first_row.get(p.event.person)
            errors.add(row or 0, p.column, p.message)
    if errors:
        return {}
    return {
        "events": outcome.counts["events"],
        "children_created": outcome.counts["persons_created"],
        "unchanged": outcome.counts["events_unchanged"],
    }


def event_from_values(
    values: Mapping[str, str], *, person: int, today: dt.date, area: str | None = None
) -> tuple[EventFacts, dict[int, actions.NewPerson]]:
    """One event of the registered person ``person``, read from ``values``, a mapping of the
    column keys of an events file (``event``, ``date``, ``spouse_id_number``, ...) to text.

    Every value is checked exactly as an import row's is, with the same messages: a wrong
    value raises ``FieldError`` whose ``column`` names the key. Returns the event and the
    persons it creates (the child of a birth not yet in the register, keyed by its reserved
    id), ready for ``taizhang.register.actions.record_events``, which checks the event
    against the register. Call it inside the transaction that records the event: the
    child's id is reserved here. ``area`` is the writer's (``scope.write_area``): a spouse
    or child registered outside it is not known here (see the module's docstring).
    """

    def get(_values, key):
        return (values.get(key) or "").strip()

    with _column("event"):
        kind = fields.choice(get(values, "event"), KINDS, what="event type")
    with _column("date"):
        date = fields.date(get(values, "date"), today)
    # The persons the event names (a spouse, a child) by their ID numbers, if valid: the
    # parsers below report the invalid ones under their own column.
    ids = {}
    for key in ("spouse_id_number", "child_id_number"):
        with contextlib.suppress(idnumber.IDNumberError):
            if get(values, key):
                ids[key] = idnumber.normalize(get(values, key), today=today)
    index = {idn: crypto.blind_index(idn) for idn in ids.values()}
    known, outside = _known_persons(index.values(), area)
    person_of = {idn: known[ix_][0] for idn, ix_ in index.items() if ix_ in known}
    sex_of = {row[0]: row[1] for row in known.values()}
    sex_of[person] = Person.objects.values_list("sex", flat=True).get(pk=person)
    child_pk: dict[str, int] = {}
    child_id = ids.get("child_id_number")
    if (
        kind == "birth"
        and child_id
        and child_id not in person_of
        and index[child_id] not in outside
    ):
        [child_pk[child_id]] = actions.reserve_person_ids(1)
        sex_of[child_pk[child_id]] = idnumber.sex(child_id)

    villages = set(OrgUnit.objects.villages().values_list("code", flat=True))
    e = EventFacts(kind=kind, date=date, person=person, row=1, extra={})
    _fill(e, kind, get, values, today, villages, person_of, sex_of)
    children: dict[int, actions.NewPerson] = {}
    if kind == "birth":
        with _column("child_id_number"):
            _birth(
                e,
                get(values, "child_id_number"),
                get,
                values,
                today,
                person_of,
                child_pk,
                known,
                index,
                children,
                outside,
            )
    _join_mothers_households(children)
    return e, children


def _known_persons(indexes, area: str | None = None) -> tuple[dict[str, tuple], set[str]]:
    """Registered persons inside ``area`` (None: anywhere) by blind index: (id, sex,
    birth_date, mother_id, household_id, hukou_village); and the blind indexes of those
    registered outside it, which the caller treats as unknown except that it never
    creates a person with one of them."""
    quote = db.connection.ops.quote_name
    known, outside = {}, set()
    for r in db.select_where_in(
        "SELECT id_index, id, sex, birth_date, mother_id, household_id, hukou_village, "
        f"current_village FROM {quote(Person._meta.db_table)} WHERE id_index IN ({{in}})",
        list(indexes),
    ):
        if within(area, r[7]):
            known[r[0]] = r[1:7]
        else:
            outside.add(r[0])
    return known, outside


def _join_mothers_households(children: dict[int, actions.NewPerson]) -> None:
    """New children belong to their mother's household and place of household registration."""
    mothers = {c.mother for c in children.values()}
    if not mothers:
        return
    household = dict(Person.objects.filter(pk__in=list(mothers)).values_list("pk", "household_id"))
    hukou = dict(Person.objects.filter(pk__in=list(mothers)).values_list("pk", "hukou_village"))
    for c in children.values():
        c.household = household.get(c.mother)
        c.hukou_village = hukou.get(c.mother, "")


@contextlib.contextmanager
def _column(name: str):
    """Name the column a FieldError raised inside belongs to."""
    try:
        yield
    except FieldError as err:
        err.column = err.column or name
        raise


def _fill(e: EventFacts, kind, get, values, today, villages, person_of, sex_of) -> None:
    """Read the columns the event type needs into ``e``."""
    if kind in ("marriage", "divorce"):
        with _column("spouse_id_number"):
            raw = get(values, "spouse_id_number")
            if not raw:
                if kind == "marriage":
                    raise FieldError("a marriage needs the spouse's ID number")
                return
            spouse = fields.id_number(raw, today)
            if spouse in person_of:
                e.spouse = person_of[spouse]
                if e.spouse == e.person:
                    raise FieldError("the spouse is the person themselves")
                if sex_of.get(e.spouse) == sex_of.get(e.person):
                    raise FieldError("the spouse has the same sex as the person")
            else:
                if idnumber.sex(spouse) == sex_of.get(e.person):
                    raise FieldError("the spouse's ID number is of the same sex as the person")
                e.spouse_key = crypto.blind_index(spouse)
                e.extra["spouse_id_cipher"] = crypto.encrypt(spouse)
    elif kind == "pregnancy":
        with _column("lmp_date"):
            e.lmp_date = fields.optional_date(
                get(values, "lmp_date"), today, what="last menstrual period"
            )
    elif kind == "outcome":
        with _column("outcome"):
            e.outcome = fields.choice(get(values, "outcome"), OUTCOMES, what="pregnancy outcome")
    elif kind in ("move_in", "move_within"):
        with _column("village"):
            e.village = fields.village(get(values, "village"), villages)
    elif kind == "move_out":
        e.extra["destination"] = get(values, "village")[:200]
    elif kind == "method_start":
        with _column("method"):
            e.method = fields.choice(get(values, "method"), METHODS, what="method")
    elif kind == "method_stop":
        with _column("method"):
            if get(values, "method"):
                e.method = fields.choice(get(values, "method"), METHODS, what="method")
        e.reason = get(values, "reason")[:200]
    elif kind in ("checkup", "screening", "followup"):
        findings = get(values, "findings")
        if findings:
            e.findings = ";".join(f.strip() for f in findings.split(";") if f.strip())
    elif kind == "education":
        with _column("stage"):
            e.stage = fields.choice(get(values, "stage"), STAGES, what="life stage")


def _birth(
    e, raw, get, values, today, person_of, child_pk, known, index, children, outside=frozenset()
) -> None:
    if not raw:
        raise FieldError("a birth needs the child's ID number")
    child_id = fields.id_number(raw, today)
    if idnumber.birth_date(child_id) != e.date:
        raise FieldError(
            f"the child's ID number gives birth date {idnumber.birth_date(child_id)}, not {e.date}"
        )
    child_sex_raw = get(values, "child_sex")
    with _column("child_sex"):
        if not child_sex_raw:
            raise FieldError("a birth needs the child's sex")
        child_sex = fields.sex(child_sex_raw)
        if child_sex != idnumber.sex(child_id):
            raise FieldError(
                f"{child_sex_raw} does not agree with the child's ID number "
                f"({fields.SEX_WORDS[idnumber.sex(child_id)]})"
            )
    with _column("delivery_place"):
        e.delivery_place = fields.choice(
            get(values, "delivery_place"), DELIVERY_PLACES, what="delivery place"
        )
    weight = get(values, "birth_weight_g")
    if weight:
        with _column("birth_weight_g"):
            e.extra["birth_weight_g"] = fields.integer(
                weight, low=300, high=7000, what="birth weight in grams"
            )
    e.child_sex = child_sex
    if child_id in person_of:
        pk = person_of[child_id]
        _pk, _sex, _birth, mother, _hh, _hukou = known[index[child_id]]
        if mother is not None and mother != e.person:
            raise FieldError("the child is registered with another mother")
        if pk == e.person:
            raise FieldError("a person cannot be their own child")
        e.child = pk
        return
    if index.get(child_id) in outside:
        raise FieldError(OUTSIDE_AREA)
    pk = child_pk[child_id]
    e.child = pk
    name = get(values, "child_name")
    if not name:
        raise FieldError("a child not yet in the register needs a name", column="child_name")
    children.setdefault(
        pk,
        actions.NewPerson(
            pk=pk,
            name=name[:50],
            sex=child_sex,
            birth=e.date,
            id_number=child_id,
            mother=e.person,
            row=e.row,
        ),
    )
