"""What each ledger lists for a month: set-based queries over every village of a request at
once (one village, or a township's), Python only to shape rows.

Who is listed comes from the measures of the indicator engine
(``taizhang.indicators.definitions``) and the service schedule
(``taizhang.indicators.schedule``), narrowed to the villages asked for — so a ledger lists
exactly the records behind the village's figure for the month (the check-ups due are
CHECKUP_RATE's denominator, the screenings due SCREENING_COVERAGE's, the follow-ups due
FOLLOWUP_RATE's, the people in a life stage EDUCATION_COVERAGE's) and due-ness is never
defined twice.

As of the month: the service lists hold the village's residents at the end of the month's
last day — people who moved in during the month are listed, people who moved out are not
(they are on the migrants ledger). Ages are completed years on the month's last day, as
the indicators' END stocks count them: a woman who turns 50 during the month has left the
15–49 lists for that month. A follow-up visit is listed in the village where the woman
lived on the day it falls due, as FOLLOWUP_RATE counts it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import ibis.expr.types as ir
from django.db.models import Exists, OuterRef, Q
from django.utils import translation

from taizhang.indicators import definitions as d
from taizhang.indicators import engine, schedule
from taizhang.ledgers.base import Request, Row
from taizhang.lib import crypto
from taizhang.lib.periods import from_ymd, ymd
from taizhang.register.models import (
    MALE_METHODS,
    BirthFact,
    Event,
    LifeStage,
    Method,
    MethodSpell,
    Person,
    UnionSpell,
)

POSTPARTUM_DAYS = 42  # the postpartum period in which counselling on methods is offered
GESTATION_DAYS = 280  # expected delivery = last menstrual period + 280 days
EPOCH = d.EPOCH
CHUNK = 5000  # ids per IN (...) list: SQLite allows a few tens of thousands of parameters


fetch = engine.fetch


def in_scope(records: d.Records, req: Request, **columns: str) -> ir.Table:
    """The records of a measure counted in the villages of ``req``: ``person_id``,
    ``village`` and ``columns`` (name → column of the measure's base)."""
    base = records.base
    village = base[records.village]
    kept = base.filter(*records.conditions, village >= req.low, village <= req.high)
    return kept.select(
        person_id=kept[records.person],
        village=kept[records.village],
        **{name: kept[c] for name, c in columns.items()},
    )


def placed(records: d.Records, req: Request) -> list[tuple[int, str]]:
    """(person, village) of a measure's records in the villages of ``req``, sorted."""
    return sorted({(int(p), v) for p, v in fetch(in_scope(records, req))})


def chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ids = sorted(set(ids))
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def fmt(day: dt.date | int | None) -> str:
    """A date as printed: 2026-11-05."""
    if day is None or day == "":
        return ""
    if isinstance(day, int):
        day = from_ymd(day)
    return day.isoformat()


def zh(label) -> str:
    """A lazily translated label in Chinese, as the ledgers print."""
    with translation.override("zh-hans"):
        return str(label)


METHOD_ZH = dict(Method.choices)
STAGE_ZH = dict(LifeStage.choices)
SEX_ZH = {"M": "男", "F": "女"}


# ---------------------------------------------------------------------------
# Persons as printed


@dataclass(frozen=True)
class PersonInfo:
    pk: int
    name: str
    sex: str
    birth: dt.date
    id_number: str
    phone: str
    household: str
    hukou_village: str

    def cells(self, day: dt.date) -> dict:
        """The columns every person row prints (age on ``day``)."""
        return {
            "name": self.name,
            "id_number": self.id_number,
            "age": (ymd(day) - ymd(self.birth)) // 10000,
            "household": self.household,
            "phone": self.phone,
        }


def people(ids) -> dict[int, PersonInfo]:
    """The listed persons, with the ID and phone numbers decrypted for the village's own
    list (the caller audits the printing)."""
    out = {}
    for part in chunks(ids):
        rows = Person.objects.filter(pk__in=part).values_list(
            "pk",
            "name",
            "sex",
            "birth_date",
            "id_cipher",
            "phone_cipher",
            "household__number",
            "hukou_village",
        )
        for pk, name, sex, birth, id_cipher, phone_cipher, household, hukou in rows:
            out[pk] = PersonInfo(
                pk,
                name,
                sex,
                birth,
                crypto.decrypt(id_cipher),
                crypto.decrypt(phone_cipher) if phone_cipher else "",
                household or "",
                hukou or "",
            )
    return out


def names(ids) -> dict[int, str]:
    out = {}
    for part in chunks(ids):
        out.update(Person.objects.filter(pk__in=part).values_list("pk", "name"))
    return out


def person_row(req: Request, village: str, task: str, info: PersonInfo, order: int, **cells) -> Row:
    return Row(
        village=village,
        task=task,
        subject="person",
        subject_id=info.pk,
        cells={**info.cells(req.month.end), **cells},
        person_id=info.pk,
        sort_key=(order, info.household, info.name, info.pk, task),
    )


def _in_force(events):
    """Events not retracted or superseded by a correction."""
    corrected = Event.objects.filter(supersedes__isnull=False).values("supersedes_id")
    return events.exclude(pk__in=corrected)


def service_dates(kind: str, ids, last: dt.date) -> dict[int, list[dt.date]]:
    """The dates of the service events ``kind`` of these persons up to ``last``, sorted."""
    out: dict[int, list[dt.date]] = defaultdict(list)
    for part in chunks(ids):
        rows = _in_force(Event.objects.filter(kind=kind, person_id__in=part, date__lte=last))
        for pk, day in rows.order_by("date").values_list("person_id", "date"):
            out[pk].append(day)
    return out


# ---------------------------------------------------------------------------
# Services on the schedule: check-ups and screening


def due(req: Request, code: str) -> list[tuple[int, str]]:
    """(person, village) of the people due the service ``code`` in the month."""
    return req.remember(("due", code), lambda: placed(d.due_for(code, req.month), req))


def _scheduled(req: Request, code: str) -> list[Row]:
    listed = due(req, code)
    infos = people(pk for pk, _ in listed)
    dates = service_dates(code, infos, req.month.end)
    rows = []
    for pk, village in listed:
        before = [x for x in dates.get(pk, []) if x < req.month.start]
        during = [x for x in dates.get(pk, []) if x >= req.month.start]
        rows.append(
            person_row(
                req,
                village,
                "DUE",
                infos[pk],
                0,
                last=fmt(before[-1]) if before else "",
                done=fmt(during[0]) if during else "",
            )
        )
    return rows


def checkup(req: Request) -> list[Row]:
    """Married women 15–49 due a check-up in the month (CHECKUP_RATE's denominator)."""
    return _scheduled(req, "checkup")


def screening(req: Request) -> list[Row]:
    """Women due gynaecological screening in the month (SCREENING_COVERAGE's denominator)."""
    return _scheduled(req, "screening")


# ---------------------------------------------------------------------------
# Follow-up visits (schedule.follow_ups)

# The task code of a follow-up's trigger.
FOLLOW_UP_TASKS = {"delivery": "PP", "iud": "IUD"}


@dataclass(frozen=True)
class VisitDue:
    visit: schedule.FollowUp
    person: int
    village: str  # where she lived on the day it falls due
    trigger: dt.date  # the delivery or the insertion
    due: dt.date
    first: dt.date  # the window in which a follow-up counts as done
    last: dt.date

    @property
    def task(self) -> str:
        """The visit and its trigger's date (YYMMDD, keeping row keys short enough for a
        small QR code): "IUD30-260130", "PP7-260324"."""
        prefix = FOLLOW_UP_TASKS.get(self.visit.after, self.visit.after.upper())
        return f"{prefix}{self.visit.due}-{self.trigger:%y%m%d}"


def _triggers(ids) -> dict[str, dict[int, set[int]]]:
    """Per trigger kind and person, the day numbers of the deliveries and IUD insertions."""
    out: dict[str, dict[int, set[int]]] = {"delivery": defaultdict(set), "iud": defaultdict(set)}
    for part in chunks(ids):
        for pk, day in BirthFact.objects.filter(mother_id__in=part).values_list(
            "mother_id", "date"
        ):
            out["delivery"][pk].add((from_ymd(day) - EPOCH).days)
        iud = MethodSpell.objects.filter(person_id__in=part, method="iud")
        for pk, day in iud.values_list("person_id", "start"):
            out["iud"][pk].add((from_ymd(day) - EPOCH).days)
    return out


def visits_due(req: Request) -> list[VisitDue]:
    """The follow-up visits falling due in the month in the villages (FOLLOWUP_RATE's
    denominator), from one query of the indicator engine's follow-up measure; each visit of
    the schedule is told by the trigger it falls due after."""
    return req.remember("visits", lambda: _visits_due(req))


def _visits_due(req: Request) -> list[VisitDue]:
    plan = schedule.follow_ups()
    first = (req.month.start - EPOCH).days
    last = (req.month.end - EPOCH).days
    owed = d._follow_ups(plan, first, last)
    here = owed.filter(owed.village >= req.low, owed.village <= req.high)
    found = fetch(here.select("person_id", "due", "village"))
    triggers = _triggers(int(r[0]) for r in found)
    # A woman may owe two visits the same day (after a delivery and after an insertion):
    # the rows of one (woman, day) are the visits whose trigger lies that far before it.
    per_day: dict[tuple[int, int, str], int] = defaultdict(int)
    for person, day, village in found:
        per_day[(int(person), int(day), village)] += 1
    out = []
    for (person, day, village), count in sorted(per_day.items()):
        matching = [f for f in plan if day - f.due in triggers[f.after].get(person, ())]
        for visit in matching[:count]:
            trigger = day - visit.due
            out.append(
                VisitDue(
                    visit,
                    person,
                    village,
                    EPOCH + dt.timedelta(days=trigger),
                    EPOCH + dt.timedelta(days=day),
                    EPOCH + dt.timedelta(days=trigger + visit.start),
                    EPOCH + dt.timedelta(days=trigger + visit.end),
                )
            )
    return out


VISIT_ZH = {
    ("delivery", 7): "产后访视（7天）",
    ("delivery", 42): "产后访视（42天）",
    ("iud", 30): "放环后1个月随访",
    ("iud", 91): "放环后3个月随访",
    ("iud", 182): "放环后6个月随访",
    ("iud", 365): "放环后12个月随访",
}
TRIGGER_ZH = {"delivery": "分娩", "iud": "放置宫内节育器"}


def visit_name(visit: schedule.FollowUp) -> str:
    return VISIT_ZH.get((visit.after, visit.due), visit.name)


def _visit_rows(req: Request, visits: list[VisitDue], order: int = 0) -> list[Row]:
    infos = people(v.person for v in visits)
    done_on = service_dates("followup", infos, req.month.end)
    rows = []
    for v in visits:
        done = [x for x in done_on.get(v.person, []) if v.first <= x <= v.last]
        rows.append(
            person_row(
                req,
                v.village,
                v.task,
                infos[v.person],
                order,
                visit=visit_name(v.visit),
                trigger=f"{TRIGGER_ZH.get(v.visit.after, v.visit.after)} {fmt(v.trigger)}",
                due=fmt(v.due),
                window=f"{fmt(v.first)} 至 {fmt(v.last)}",
                done=fmt(done[0]) if done else "",
            )
        )
    return rows


def followup(req: Request) -> list[Row]:
    """Follow-up visits due in the month: postpartum and IUD checks."""
    return _visit_rows(req, visits_due(req))


# ---------------------------------------------------------------------------
# 1 Contraception


def current_methods(ids, day: int) -> dict[int, list[tuple[str, int, str]]]:
    """Per woman, the methods the couple uses at the end of ``day``: (method, start, whose)
    — her own, and her husband's condom or male sterilisation (a couple counts once, under
    the wife, as CPR counts)."""
    out: dict[int, list[tuple[str, int, str]]] = defaultdict(list)
    for part in chunks(ids):
        spans = MethodSpell.objects.filter(person_id__in=part, start__lte=day, end__gt=day)
        for pk, method, start in spans.values_list("person_id", "method", "start"):
            out[pk].append((method, start, "own"))
        wives_of = dict(
            UnionSpell.objects.filter(
                person_id__in=part, start__lte=day, end__gt=day, spouse__isnull=False
            ).values_list("spouse_id", "person_id")
        )
        husbands = MethodSpell.objects.filter(
            person_id__in=list(wives_of), start__lte=day, end__gt=day, method__in=MALE_METHODS
        )
        for pk, method, start in husbands.values_list("person_id", "method", "start"):
            out[wives_of[pk]].append((method, start, "husband"))
    order = {m: i for i, m in enumerate(d.METHOD_ORDER)}
    for methods in out.values():
        methods.sort(key=lambda m: order.get(m[0], len(order)))
    return out


def husbands(ids, day: int) -> dict[int, str]:
    """The registered husband's name of each woman married at the end of ``day``."""
    spouse_of = {}
    for part in chunks(ids):
        spouse_of.update(
            UnionSpell.objects.filter(
                person_id__in=part, start__lte=day, end__gt=day, spouse__isnull=False
            ).values_list("person_id", "spouse_id")
        )
    named = names(spouse_of.values())
    return {wife: named.get(husband, "") for wife, husband in spouse_of.items()}


def _methods_text(methods: list[tuple[str, int, str]]) -> str:
    parts = []
    for method, start, whose in methods:
        text = f"{METHOD_ZH.get(method, method)}（{fmt(start)}起）"
        parts.append(f"丈夫{text}" if whose == "husband" else text)
    return "；".join(parts) or "未采取措施"


def postpartum_mothers(req: Request) -> list[tuple[int, str, int]]:
    """(mother, village, delivery ymd) for the resident women at the month's end whose 42
    postpartum days overlap the month (twins are one delivery)."""
    b = d.birth_facts
    first = ymd(req.month.start - dt.timedelta(days=POSTPARTUM_DAYS))
    last = ymd(req.month.end)
    here = in_scope(d.residents_on(req.month.end), req)
    here = here.select(resident=here.person_id, at=here.village)
    births = b.filter(b.date.between(first, last))
    joined = births.join(here, births.mother_id == here.resident)
    query = joined.group_by(mother=joined.mother_id, at=joined.at, day=joined.date).aggregate()
    return sorted((int(m), v, int(day)) for m, v, day in fetch(query))


def contraception(req: Request) -> list[Row]:
    """Married women 15–49 at the month's end with the couple's current method; IUD checks
    due in the month; postpartum counselling offers."""
    end = ymd(req.month.end)
    women = placed(d.mwra_on(req.month.end), req)
    iud_checks = [v for v in visits_due(req) if v.visit.after == "iud"]
    postpartum = postpartum_mothers(req)
    everyone = {pk for pk, _ in women} | {v.person for v in iud_checks}
    everyone |= {m for m, _, _ in postpartum}
    infos = people(everyone)
    methods = current_methods(everyone, end)
    husband = husbands(everyone, end)

    def about(pk: int) -> dict:
        return {"husband": husband.get(pk, ""), "method": _methods_text(methods.get(pk, []))}

    rows = [person_row(req, v, "MWRA", infos[pk], 0, **about(pk), detail="") for pk, v in women]
    for row in _visit_rows(req, iud_checks, order=1):
        cells = row.cells
        row.cells.update(
            about(row.subject_id),
            detail=f"{cells['visit']}：应随访 {cells['due']}（{cells['window']}）",
        )
        rows.append(row)
    for mother, village, day in postpartum:
        until = from_ymd(day) + dt.timedelta(days=POSTPARTUM_DAYS)
        rows.append(
            person_row(
                req,
                village,
                f"PPC-{from_ymd(day):%y%m%d}",
                infos[mother],
                2,
                **about(mother),
                detail=f"{fmt(day)} 分娩，产后 {fmt(until)} 前提供避孕咨询",
            )
        )
    return rows


# ---------------------------------------------------------------------------
# 3 Pregnancies and births


def _next_month_end(day: dt.date) -> dt.date:
    after = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)  # first of next month
    following = (after.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def in_stage(req: Request, stage: str) -> list[tuple[int, str]]:
    """(person, village) of the residents in a life stage at the month's end."""
    return req.remember(("stage", stage), lambda: placed(d.in_stage_on(stage, req.month.end), req))


def births(req: Request) -> list[Row]:
    """Registered pregnancies still open at the month's end whose expected delivery (LMP +
    280 days) falls in this month or the next (those registered without an LMP have no
    expected date and are listed while open, so that it is asked for); live births of the
    month (counted where the mother lived that day) with their registration in the
    register."""
    from taizhang.register.timeline import PREGNANCY_MAX_DAYS

    pregnant = dict(in_stage(req, "pregnancy"))
    since = req.month.end - dt.timedelta(days=PREGNANCY_MAX_DAYS - 1)
    latest: dict[int, tuple[dt.date, dt.date | None]] = {}
    for part in chunks(pregnant):
        registrations = _in_force(
            Event.objects.filter(
                kind="pregnancy", person_id__in=part, date__range=(since, req.month.end)
            )
        )
        for pk, day, lmp in registrations.order_by("date").values_list(
            "person_id", "date", "lmp_date"
        ):
            latest[pk] = (day, lmp)
    last_day = _next_month_end(req.month.end)
    expecting = []
    for pk, (day, lmp) in sorted(latest.items()):
        expected = lmp + dt.timedelta(days=GESTATION_DAYS) if lmp else None
        if expected is None or req.month.start <= expected <= last_day:
            expecting.append((pk, day, lmp, expected))

    born = fetch(
        in_scope(
            d.births_in(req.month),
            req,
            mother="mother_id",
            day="date",
            sex="sex",
            place="delivery_place",
            recorded="recorded",
        )
    )
    infos = people([pk for pk, *_ in expecting] + [int(r[2]) for r in born])
    child_names = names(int(r[0]) for r in born)
    rows = []
    for pk, day, lmp, expected in expecting:
        rows.append(
            person_row(
                req,
                pregnant[pk],
                "PREG",
                infos[pk],
                0,
                registered=fmt(day),
                lmp=fmt(lmp),
                due=fmt(expected) if expected else "不详（请补登末次月经）",
                child="",
                registration="",
            )
        )
    for child, village, mother, day, sex, place, recorded in born:
        late = (from_ymd(int(recorded)) - from_ymd(int(day))).days
        timely = "及时" if late <= d.REGISTRATION_DAYS else "未及时"
        row = person_row(
            req,
            village,
            "BIRTH",
            infos[int(mother)],
            1,
            registered="",
            lmp="",
            due="",
            child=(
                f"{child_names.get(int(child), '')}（{SEX_ZH.get(sex, '')}）{fmt(int(day))} "
                f"{'住院分娩' if place == 'facility' else '在家分娩'}"
            ),
            registration=f"{fmt(int(recorded))} 登记（{timely}）",
        )
        row.subject_id = int(child)  # the birth row is the child's
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# 4 Migrants


def migrants(req: Request) -> list[Row]:
    """Moves into and out of the village in the month (from or to outside the county, or
    within it: MOVES_IN_VILLAGE / MOVES_OUT_VILLAGE), and residents at the month's end
    whose household registration (户籍地) is elsewhere, with the services due to them here."""
    from taizhang.orgunits.models import OrgUnit

    arrivals = fetch(in_scope(d.moves_in(req.month, 12), req, day="start", other="from_village"))
    departures = fetch(
        in_scope(d.moves_out(req.month, 12), req, day="end", other="to_village", why="end_reason")
    )
    residents = placed(d.residents_on(req.month.end), req)
    arrived = {(int(r[0]), r[1]) for r in arrivals}
    living = dict(residents)
    temporary = []
    for part in chunks(living):
        found = Person.objects.filter(pk__in=part).values_list("pk", "hukou_village")
        temporary += [
            (pk, living[pk])
            for pk, hukou in found
            if hukou != living[pk] and (pk, living[pk]) not in arrived
        ]
    infos = people([int(r[0]) for r in arrivals + departures] + [pk for pk, _ in temporary])
    destinations = {}
    for part in chunks(int(r[0]) for r in departures):
        destinations.update(
            _in_force(
                Event.objects.filter(
                    kind="move_out",
                    person_id__in=part,
                    date__range=(req.month.start, req.month.end),
                )
            ).values_list("person_id", "destination")
        )
    places = dict(OrgUnit.objects.values_list("code", "name"))
    services = services_due_here(req, arrived | set(temporary))

    def place(code: str | None) -> str:
        if not code:
            return ""
        return f"{places[code]}（{code}）" if code in places else code

    def cells(pk: int, moved: str, other: str) -> dict:
        info = infos[pk]
        return {
            "sex": SEX_ZH.get(info.sex, ""),
            "hukou": place(info.hukou_village),
            "moved": moved,
            "other": other,
        }

    rows = []
    for pk, village, day, other in arrivals:
        pk = int(pk)
        task = "IN" if other is None else "WITHIN-IN"
        came = "县外" if other is None else place(other)
        rows.append(
            person_row(
                req,
                village,
                task,
                infos[pk],
                0,
                **cells(pk, fmt(int(day)), came),
                services=services.get((pk, village), ""),
            )
        )
    for pk, village, day, other, why in departures:
        pk = int(pk)
        task = "OUT" if why == "move_out" else "WITHIN-OUT"
        went = (destinations.get(pk) or "县外") if why == "move_out" else place(other)
        rows.append(
            person_row(
                req, village, task, infos[pk], 1, **cells(pk, fmt(int(day)), went), services=""
            )
        )
    for pk, village in sorted(temporary):
        rows.append(
            person_row(
                req,
                village,
                "TEMP",
                infos[pk],
                2,
                **cells(pk, "", ""),
                services=services.get((pk, village), ""),
            )
        )
    return rows


def services_due_here(req: Request, placed_ids: set[tuple[int, str]]) -> dict[tuple, str]:
    """The services due in the month where they live, for each (person, village) of
    ``placed_ids``: the same lists the check-up, screening and follow-up ledgers hold."""
    found: dict[tuple[int, str], list[str]] = defaultdict(list)
    for code, label in (("checkup", "康检"), ("screening", "妇女病普查")):
        for key in set(due(req, code)) & placed_ids:
            found[key].append(label)
    for v in visits_due(req):
        if (v.person, v.village) in placed_ids:
            found[(v.person, v.village)].append(visit_name(v.visit))
    return {key: "、".join(labels) for key, labels in found.items()}


# ---------------------------------------------------------------------------
# 5 Family development (三结合)


# Printed in Chinese whatever the language of the session.
SUPPORT_ZH = {"training": "技能培训", "credit": "小额信贷", "aid": "帮扶救助"}
SUPPORT_RESULT_ZH = {"ongoing": "进行中", "completed": "已完成", "ended": "已终止"}


def family(req: Request) -> list[Row]:
    """Households in voluntary family-development support during the month: started by its
    last day and not finished before its first."""
    from taizhang.ledgers.models import FamilySupport

    supports = (
        FamilySupport.objects.filter(
            household__village_id__gte=req.low,
            household__village_id__lte=req.high,
            start__lte=req.month.end,
        )
        .exclude(result_on__lt=req.month.start)
        .select_related("household", "person")
    )
    rows = []
    for s in supports:
        status = SUPPORT_RESULT_ZH[s.result]
        if s.result_on:
            status += f"（{fmt(s.result_on)}）"
        rows.append(
            Row(
                village=s.household.village_id,
                task=f"{s.kind.upper()}-{s.pk}",
                subject="household",
                subject_id=s.household_id,
                cells={
                    "household": s.household.number,
                    "name": s.person.name if s.person else "",
                    "support": SUPPORT_ZH[s.kind],
                    "description": s.description,
                    "applied": fmt(s.applied_on),
                    "start": fmt(s.start),
                    "status": status,
                },
                sort_key=(0, s.household.number, s.start, s.pk),
            )
        )
    return rows


# ---------------------------------------------------------------------------
# 6 Report forms

# The items of the monthly report form (the ``reports`` import kind) and the indicator
# whose numerator the register holds for them in a village.
REPORT_ITEMS: dict[str, tuple[str, str, str]] = {
    "births": ("BIRTHS", "出生人数", "Live births"),
    "deaths": ("DEATHS", "死亡人数", "Deaths"),
    "marriages": ("MARRIAGE_RATE", "结婚对数", "Marriages"),
    "moves_in": ("MOVES_IN_VILLAGE", "迁入人数", "Moves in"),
    "moves_out": ("MOVES_OUT_VILLAGE", "迁出人数", "Moves out"),
    "method_starts": ("METHOD_STARTS", "新开始避孕措施人数", "Methods started"),
}


def reports(req: Request) -> list[Row]:
    """The month's report-form items with the count the register holds for each village,
    from the indicator engine (the numerator of each item's indicator)."""
    from taizhang.orgunits.models import OrgUnit

    codes = [code for code, _, _ in REPORT_ITEMS.values()]
    villages = list(
        OrgUnit.objects.villages()
        .filter(code__gte=req.low, code__lte=req.high)
        .values_list("code", flat=True)
    )
    if not villages:
        return []
    common = _common_parent(villages)
    if len(villages) == 1:
        results = [engine.compute(villages[0], req.month.code, codes)]
    else:
        results = engine.compute(common, req.month.code, codes, by="village")
    rows = []
    for result in results:
        if not req.low <= result["org"] <= req.high:
            continue
        numerators = {i["code"]: i["numerator"] for i in result["indicators"]}
        for n, (item, (code, name_zh, _en)) in enumerate(REPORT_ITEMS.items()):
            rows.append(
                Row(
                    village=result["org"],
                    task=item.upper().replace("_", "-"),
                    subject="orgunit",
                    subject_id=int(result["org"]),
                    cells={"item": name_zh, "code": item, "recorded": numerators[code]},
                    sort_key=(n,),
                )
            )
    return rows


def _common_parent(codes: list[str]) -> str:
    """The code of the smallest org unit holding every one of ``codes``."""
    first, last = min(codes), max(codes)
    for length in (9, 6, 4, 2):
        if first[:length] == last[:length]:
            return first[:length]
    return first[:2]


# ---------------------------------------------------------------------------
# 7 Life-stage education (五期教育)


def education(req: Request) -> list[Row]:
    """Residents in each life stage at the month's end (EDUCATION_COVERAGE's denominator)
    and whether they attended a session for it in the month."""
    stages = {stage: in_stage(req, stage) for stage in d.STAGES}
    everyone = {pk for listed in stages.values() for pk, _ in listed}
    infos = people(everyone)
    sessions: dict[tuple[int, str], dt.date] = {}
    for part in chunks(everyone):
        attended = _in_force(
            Event.objects.filter(
                kind="education",
                person_id__in=part,
                date__range=(req.month.start, req.month.end),
            )
        )
        for pk, stage, day in attended.order_by("date").values_list("person_id", "stage", "date"):
            sessions.setdefault((pk, stage), day)
    rows = []
    for n, (stage, listed) in enumerate(stages.items()):
        for pk, village in listed:
            row = person_row(
                req,
                village,
                stage.upper(),
                infos[pk],
                n,
                life_stage=STAGE_ZH[stage],
                attended=fmt(sessions.get((pk, stage))),
            )
            row.prefill["stage"] = stage
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# + Benefits


def benefits(req: Request) -> list[Row]:
    """Beneficiaries: enrolments of the villages in force during the month (enrolled, or
    ended in it), with the payment falling due in the month and its status."""
    from taizhang.benefits.models import Enrolment, Payment, yuan
    from taizhang.benefits.schemes import schemes

    month = req.month_number
    due_now = {
        p.enrolment_id: p
        for p in Payment.objects.filter(
            village__gte=req.low,
            village__lte=req.high,
            due_date__range=(req.month.start, req.month.end),
        )
    }
    in_force = Q(
        village__gte=req.low,
        village__lte=req.high,
        state__in=("enrolled", "ended"),
        start_month__lte=month,
    ) & (Q(end_month__isnull=True) | Q(end_month__gte=month))
    enrolments = list(
        Enrolment.objects.filter(Q(pk__in=list(due_now)) | in_force)
        .select_related("payee")
        .order_by("pk")
    )
    infos = people(e.person_id for e in enrolments)
    known = schemes()
    status = {"due": "待发放", "paid": "已发放", "returned": "退回", "failed": "发放失败"}
    rows = []
    for e in enrolments:
        p = due_now.get(e.pk)
        scheme = known.get(e.scheme)
        shown = "本月无应发"
        if p is not None:
            shown = status.get(p.status, p.status)
            if p.paid_date:
                shown += f" {fmt(p.paid_date)}"
        cells = {
            **infos[e.person_id].cells(req.month.end),
            "scheme": (scheme.short_name or scheme.name) if scheme else e.scheme,
            "payee": e.payee.name if e.payee_id else "",
            "period": p.period if p else "",
            "amount": yuan(p.amount_fen) if p else "",
            "due": fmt(p.due_date) if p else "",
            "status": shown,
        }
        rows.append(
            Row(
                village=p.village if p is not None else e.village,
                task=f"PAY-{p.period}" if p else "VERIFY",
                subject="enrolment",
                subject_id=e.pk,
                cells=cells,
                person_id=e.person_id,
                sort_key=(0 if p else 1, cells["household"], cells["name"], e.pk),
            )
        )
    return rows


# ---------------------------------------------------------------------------
# + Cases (信访)


def cases(req: Request) -> list[Row]:
    """Petitions concerning the villages open at the month's end (received by then, neither
    closed nor declined by then), with their deadlines; a return visit is due once the
    reply was given and no return visit recorded. Petitioners are not printed."""
    from taizhang.cases.models import Case, CaseAction, Category, State

    end = req.month.end
    visited = CaseAction.objects.filter(case=OuterRef("pk"), action="return_visit", on__lte=end)
    open_cases = (
        Case.objects.filter(org_id__gte=req.low, org_id__lte=req.high, received_on__lte=end)
        .exclude(closed_on__lte=end)
        .exclude(state=State.DECLINED, acknowledged_on__lte=end)
        .annotate(visited=Exists(visited))
        .order_by("conclude_due", "number")
    )
    categories = dict(Category.choices)
    states = dict(State.choices)
    rows = []
    for c in open_cases:
        replied = c.replied_on is not None and c.replied_on <= end
        return_due = replied and not c.visited
        overdue = c.conclude_due < end
        subject = c.subject if len(c.subject) <= 60 else c.subject[:59] + "…"
        rows.append(
            Row(
                village=c.org_id,
                task="RETURN" if return_due else "OPEN",
                subject="case",
                subject_id=c.pk,
                cells={
                    "number": c.number,
                    "received": fmt(c.received_on),
                    "category": zh(categories.get(c.category, c.category)),
                    "subject": subject,
                    "state": zh(states.get(c.state, c.state)),
                    "ack_due": fmt(c.ack_due),
                    "conclude_due": fmt(c.conclude_due) + ("（已逾期）" if overdue else ""),
                    "return_visit": "应回访" if return_due else "",
                },
                sort_key=(0 if return_due else 1, c.conclude_due, c.number),
            )
        )
    return rows
