"""The demographic indicators of docs/indicators.md, each declared once.

Two layers, in the manner of DHIS2:

- **Measures** are named record-level expressions: ``births_in(period)``,
  ``residents_on(day)``, ``mwra_on(day)`` ... each returns :class:`Records`, the
  rows of one register table (or join) that satisfy a condition, each naming the
  person behind it and the village it is counted in. Every figure and every
  drill-down is built from these, so a count and the list of persons behind it
  can never disagree.
- **Indicators** declare a code, names, a numerator and a denominator
  (:class:`Figure`: a count of a measure, a mean or difference of counts, or the
  total fertility rate), a factor and a unit.

The engine (``taizhang.indicators.engine``) turns the counts the figures need into
a few grouped SQL queries and evaluates the figures per org unit. Nothing here
touches a database.

Register conventions (``taizhang.register.models``): dates are ``YYYYMMDD``
integers, spells are half-open ``[start, end)``, so "resident at the end of day D"
is ``start <= D < end``. START stocks use residence at the end of the day before
the period and age on its first day; END stocks use residence and age on its last
day.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from taizhang import clock
from taizhang.indicators import schedule
from taizhang.indicators.tables import (
    attendances,
    birth_facts,
    cases,
    events,
    method_spells,
    payments,
    persons,
    residence_spells,
    union_spells,
)
from taizhang.lib.periods import shift_years, ymd
from taizhang.register.models import MALE_METHODS, MODERN_METHODS

if TYPE_CHECKING:
    from taizhang.lib.periods import Period

Number = int | float

# ---------------------------------------------------------------------------
# Records and measures


@dataclass(frozen=True, eq=False)
class Records:
    """The rows of ``base`` that meet every one of ``conditions``: one record per
    counted event or person.

    ``person`` names the column holding the person behind each record (the child
    for a birth, the deceased for a death, the woman for MWRA) and ``village`` the
    column of the village it is counted in; an org unit counts the records whose
    village code starts with its own code. Conditions are kept apart (not folded
    into one expression) so the engine can see which ones several measures share.
    """

    base: ir.Table
    conditions: tuple[ir.BooleanValue, ...]
    person: str = "person_id"
    village: str = "village"
    subject: str = "person"  # what ``person`` identifies: a "person", or a "case"

    @property
    def where(self) -> ir.BooleanValue:
        """All the conditions together."""
        return functools.reduce(operator.and_, self.conditions)

    def filter(self, *conditions: ir.BooleanValue) -> Records:
        """The same records narrowed by further conditions on ``base``."""
        return replace(self, conditions=self.conditions + conditions)

    def to_expr(self) -> ir.Table:
        """The records as a table of ``person_id`` and ``village``."""
        kept = self.base.filter(*self.conditions)
        return kept.select(person_id=kept[self.person], village=kept[self.village])


def _dated_in(column: ir.DateValue, period: Period) -> ir.BooleanValue:
    return column.between(period.start, period.end)


def age_on(birth: ir.IntegerValue, day: dt.date) -> ir.IntegerValue:
    """Age in completed years on ``day`` of someone born on ``birth`` (a ymd column)."""
    return (ymd(day) - birth) // 10000


def _covers(spells: ir.Table, day: int) -> ir.BooleanValue:
    """The spell holds at the end of ``day``: events dated D take effect on D, so a spell
    starting on D counts and one ending on D does not."""
    return (spells.start <= day) & (spells.end > day)


def _woman_15_49(spells: ir.Table, age_day: dt.date) -> ir.BooleanValue:
    # 15 <= (D - birth) // 10000 <= 49  <=>  D - 499999 <= birth <= D - 150000: the same
    # condition as age_on(...).between(15, 49), as a plain integer range.
    day = ymd(age_day)
    return (spells.sex == "F") & spells.birth.between(day - 499999, day - 150000)


def _in_period(column: ir.IntegerValue, period: Period) -> ir.BooleanValue:
    return column.between(ymd(period.start), ymd(period.end))


def residents_on(day: dt.date) -> Records:
    """Persons resident at the end of ``day``, counted in their village."""
    r = residence_spells
    return Records(r, (_covers(r, ymd(day)),))


def women_15_49_on(day: dt.date, age_day: dt.date | None = None) -> Records:
    """Women resident at the end of ``day`` and aged 15–49 on ``age_day`` (default ``day``)."""
    r = residence_spells
    return residents_on(day).filter(_woman_15_49(r, age_day or day))


def deaths_in(period: Period) -> Records:
    """Deaths in the period, counted where the deceased lived (their spell ends on the day)."""
    r = residence_spells
    return Records(r, (r.end_reason == "death", _in_period(r.end, period)))


def births_in(period: Period) -> Records:
    """Live births in the period (one per child), counted where the mother lived that day."""
    b = birth_facts
    return Records(b, (_in_period(b.date, period),), person="child_id")


def male_births_in(period: Period) -> Records:
    return births_in(period).filter(birth_facts.sex == "M")


def female_births_in(period: Period) -> Records:
    return births_in(period).filter(birth_facts.sex == "F")


def births_of_order(period: Period, low: int, high: int | None = None) -> Records:
    """Live births in the period whose birth order lies in [low, high] (no upper bound if None)."""
    order = birth_facts.birth_order
    return births_in(period).filter(order >= low if high is None else order.between(low, high))


def facility_births_in(period: Period) -> Records:
    return births_in(period).filter(birth_facts.delivery_place == "facility")


def births_to_women_15_49_in(period: Period) -> Records:
    """Live births in the period to mothers aged 15–49 at the birth (the births TFR sums)."""
    return births_in(period).filter(birth_facts.mother_age.between(15, 49))


def marriages_in(period: Period) -> Records:
    """Marriages in the period: a couple once, under the wife (the husband if she is not
    registered), counted where that spouse lived on the wedding day."""
    u = union_spells
    return Records(u, (u.counts_marriage, _in_period(u.start, period)), village="village_at_start")


def _married_on(person_id: ir.IntegerValue, day: int) -> ir.BooleanValue:
    u = union_spells
    return person_id.isin(u.filter(_covers(u, day)).person_id)


def _using_method_on(person_id: ir.IntegerValue, day: int, modern: bool) -> ir.BooleanValue:
    """The woman's own method spell contains ``day``, or her husband's condom or male
    sterilisation does (a couple counts once, under the wife)."""
    m, u = method_spells, union_spells
    own = m.filter(_covers(m, day))
    if modern:
        own = own.filter(own.method.isin(sorted(MODERN_METHODS)))
    husbands_using = m.filter(_covers(m, day), m.method.isin(sorted(MALE_METHODS)))
    wives_of_users = u.filter(_covers(u, day), u.spouse_id.isin(husbands_using.person_id))
    return person_id.isin(own.person_id) | person_id.isin(wives_of_users.person_id)


@functools.lru_cache(maxsize=32)
def _women_with_parity(day: int) -> ir.Table:
    """Residence spells with each person's parity on ``day``: live births declared at
    registration plus her live births dated on or before ``day``."""
    r, b, p = residence_spells, birth_facts, persons
    so_far = b.filter(b.date <= day)
    born = so_far.group_by(mother_id=so_far.mother_id).aggregate(born=so_far.count())
    declared = p.select(declared_id=p.id, live_births_before=p.live_births_before)
    joined = r.join(declared, r.person_id == declared.declared_id).left_join(
        born, r.person_id == born.mother_id
    )
    return joined.select(
        *residence_spells.columns,
        parity=joined.live_births_before + joined.born.fill_null(0),
    )


def _mwra(spells: ir.Table, day: dt.date) -> Records:
    d = ymd(day)
    return Records(
        spells, (_covers(spells, d), _woman_15_49(spells, day), _married_on(spells.person_id, d))
    )


def mwra_on(day: dt.date) -> Records:
    """Married women of reproductive age: resident, aged 15–49 and married at the end of ``day``."""
    return _mwra(residence_spells, day)


def using_method_on(day: dt.date, *, modern: bool = False) -> Records:
    """MWRA on ``day`` using a method that day (a modern one if ``modern``)."""
    person = residence_spells.person_id
    return mwra_on(day).filter(_using_method_on(person, ymd(day), modern))


def mwra_of_parity_on(day: dt.date, low: int, high: int | None = None) -> Records:
    """MWRA on ``day`` whose parity that day lies in [low, high] (no upper bound if None)."""
    w = _women_with_parity(ymd(day))
    parity = w.parity
    return _mwra(w, day).filter(parity >= low if high is None else parity.between(low, high))


# Services owed to people: benefit payments and petitions.


def payments_due_in(period: Period) -> Records:
    """Benefit payments falling due in the period, counted where the beneficiary lived
    when each fell due; the person behind each is the beneficiary."""
    return Records(payments, (_dated_in(payments.due_date, period),))


def payments_paid_on_time_in(period: Period) -> Records:
    """Payments due in the period that were paid on or before their due date."""
    p = payments
    return payments_due_in(period).filter(p.status == "paid", p.paid_date <= p.due_date)


def cases_due_to_close_in(period: Period) -> Records:
    """Petitions whose conclusion deadline falls in the period, counted in the org unit
    they concern; a declined petition never entered the handling that has a deadline."""
    c = cases
    return Records(
        c,
        (_dated_in(c.conclude_due, period), c.state != "declined"),
        person="id",
        village="org_id",
        subject="case",
    )


def cases_closed_on_time_in(period: Period) -> Records:
    c = cases
    return cases_due_to_close_in(period).filter(c.closed_on <= c.conclude_due)


# Services on the schedule (``taizhang.indicators.schedule``).


def day_number(ymd_value: ir.IntegerValue) -> ir.IntegerValue:
    """Days since 1970-01-01 of a ``YYYYMMDD`` integer, in integer arithmetic only (the
    civil-from-days algorithm), so that every SQL engine computes the same number."""
    y = ymd_value // 10000
    m = (ymd_value // 100) % 100
    d = ymd_value % 100
    y = y - (m <= 2).ifelse(1, 0)
    era = y // 400
    year_of_era = y - era * 400
    day_of_year = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


REGISTRATION_DAYS = 30


def births_registered_in_time_in(period: Period) -> Records:
    """Live births in the period recorded within 30 days of the birth."""
    b = birth_facts
    late = day_number(b.recorded) - day_number(b.date)
    return births_in(period).filter(late <= REGISTRATION_DAYS)


def _services(*kinds: str) -> ir.Table:
    """The events of these kinds in force: not retracted, not superseded."""
    e = events
    corrected = e.filter(e.supersedes_id.notnull()).supersedes_id
    return e.filter(e.kind.isin(kinds), e.id.notin(corrected))


def _had(kind: str, person_id: ir.IntegerValue, first: dt.date, last: dt.date) -> ir.BooleanValue:
    served = _services(kind)
    return person_id.isin(served.filter(served.date.between(first, last)).person_id)


def _women_aged_on(day: dt.date, low: int, high: int) -> Records:
    r, d = residence_spells, ymd(day)
    return residents_on(day).filter(
        r.sex == "F", r.birth.between(d - (high * 10000 + 9999), d - low * 10000)
    )


def due_for(code: str, period: Period) -> Records:
    """The people of the service's group at the end of the period who are due it in the
    period (see ``schedule``): not served between ``interval`` before its end and its start."""
    service = schedule.service(code)
    if service.group == "mwra":
        records = mwra_on(period.end)
    else:
        records = _women_aged_on(period.end, service.min_age, service.max_age)
    first = service.window_start(period.end)
    if first < period.start:
        person = records.base.person_id
        records = records.filter(~_had(code, person, first, period.day_before_start))
    return records


def served_in(code: str, period: Period) -> Records:
    """Those due the service in the period who had it in the period."""
    records = due_for(code, period)
    return records.filter(_had(code, records.base.person_id, period.start, period.end))


def _ymd_of(date: ir.DateValue) -> ir.IntegerValue:
    return date.year() * 10000 + date.month() * 100 + date.day()


@functools.lru_cache(maxsize=32)
def _follow_ups(plan: tuple[schedule.FollowUp, ...], first: int, last: int) -> ir.Table:
    """The follow-up visits owed (``plan``) falling due from day ``first`` to ``last`` (day
    numbers): the woman, the day it falls due, whether a follow-up was recorded in its
    window, and the village she lived in that day (no row if she did not live in the
    county then). Visits are narrowed to the period before anything is joined."""
    b, m, r = birth_facts, method_spells, residence_spells
    triggers = {
        "delivery": b.group_by(person_id=b.mother_id, day=day_number(b.date)).aggregate(),
        "iud": m.filter(m.method == "iud").select(m.person_id, day=day_number(m.start)),
    }
    visits = ibis.union(
        *(
            triggers[f.after]
            .filter(triggers[f.after].day.between(first - f.due, last - f.due))
            .select(
                "person_id",
                "day",
                visit=ibis.literal(f.name),
                due=triggers[f.after].day + f.due,
                first=triggers[f.after].day + f.start,
                last=triggers[f.after].day + f.end,
            )
            for f in plan
        ),
        distinct=False,
    )
    done = _services("followup")
    done = done.select(done_person=done.person_id, done_day=day_number(_ymd_of(done.date)))
    seen = visits.left_join(
        done,
        (visits.person_id == done.done_person)
        & (done.done_day >= visits.first)
        & (done.done_day <= visits.last),
    )
    owed = seen.group_by("person_id", "day", "visit", "due").aggregate(
        done=seen.done_day.notnull().any()
    )
    where = owed.join(
        r,
        (owed.person_id == r.person_id)
        & (day_number(r.start) <= owed.due)
        & (day_number(r.end) > owed.due),
    )
    return where.select(owed.person_id, owed.due, owed.done, r.village)


def _follow_ups_of(period: Period) -> ir.Table:
    first, last = (period.start - EPOCH).days, (period.end - EPOCH).days
    return _follow_ups(schedule.follow_ups(), first, last)


def follow_ups_due_in(period: Period) -> Records:
    """Follow-up visits falling due in the period, counted where the woman lived that day."""
    f = _follow_ups_of(period)
    return Records(f, (f.due.notnull(),))


def follow_ups_done_in(period: Period) -> Records:
    return follow_ups_due_in(period).filter(_follow_ups_of(period).done)


EPOCH = dt.date(1970, 1, 1)


# Life stages (五期) at the end of a period, as ``register.timeline`` tells them for one
# person: newly-wed (married less than a year, not pregnant), pregnant (a pregnancy
# registered less than 300 days ago not ended by a birth, another outcome or death),
# lactation (a live birth less than a year ago), child-rearing (a child under 7),
# menopause (women 45-55).
STAGES = ("newlywed", "pregnancy", "lactation", "childrearing", "menopause")


def _pregnant_on(day: dt.date) -> ir.Table:
    """The ids (``person_id``) of the women pregnant at the end of ``day``."""
    from taizhang.register.timeline import PREGNANCY_MAX_DAYS

    first = day - dt.timedelta(days=PREGNANCY_MAX_DAYS - 1)
    registered = _services("pregnancy")
    registered = registered.filter(registered.date.between(first, day))
    latest = registered.group_by("person_id").aggregate(registered=registered.date.max())
    ending = _services("birth", "outcome", "death")
    ending = ending.filter(ending.date <= day)
    ended = ending.group_by(ended_id=ending.person_id).aggregate(ended=ending.date.max())
    joined = latest.left_join(ended, latest.person_id == ended.ended_id)
    still = joined.filter(joined.ended.isnull() | (joined.registered > joined.ended))
    return still.select("person_id")


def in_stage_on(stage: str, day: dt.date) -> Records:
    """Residents at the end of ``day`` in the life stage ``stage``."""
    r, u, b, d = residence_spells, union_spells, birth_facts, ymd(day)
    year_ago = ymd(day - dt.timedelta(days=365))
    records = residents_on(day)
    if stage == "menopause":
        return records.filter(r.sex == "F", r.birth.between(d - 559999, d - 450000))
    if stage == "newlywed":
        wed = u.filter(_covers(u, d), u.start >= year_ago)
        pregnant = _pregnant_on(day).person_id
        return records.filter(r.person_id.isin(wed.person_id), r.person_id.notin(pregnant))
    if stage == "pregnancy":
        return records.filter(r.person_id.isin(_pregnant_on(day).person_id))
    if stage == "lactation":
        mothers = b.filter(b.date.between(year_ago, d)).mother_id
    elif stage == "childrearing":
        mothers = b.filter(b.date <= d, b.date > d - 70000).mother_id
    else:
        raise ValueError(f"unknown life stage {stage}")
    return records.filter(r.person_id.isin(mothers))


def educated_in(stage: str, period: Period) -> Records:
    """Those in ``stage`` at the end of the period who attended a session for it in it."""
    sessions = _services("education")
    sessions = sessions.filter(
        sessions.stage == stage, sessions.date.between(period.start, period.end)
    )
    return in_stage_on(stage, period.end).filter(
        residence_spells.person_id.isin(sessions.person_id)
    )


def screened_in(period: Period) -> Records:
    """Women living in the org unit at the end of the period who were screened in it."""
    r = residence_spells
    records = residents_on(period.end).filter(r.sex == "F")
    return records.filter(_had("screening", r.person_id, period.start, period.end))


def screened_with_findings_in(period: Period) -> Records:
    r, served = residence_spells, _services("screening")
    found = served.filter(served.date.between(period.start, period.end), served.findings != "")
    return screened_in(period).filter(r.person_id.isin(found.person_id))


# Register quality: MWRA the services have not reached (漏管), and entries that had to be
# corrected (差错). The third, women missing from the register (漏册), is an estimate:
# ``women_missing_at_end`` below.

# A service contact: an event of one of these kinds, in force (not retracted, not
# superseded), or a check-in at a session (``taizhang.ledgers``).
CONTACT_KINDS = ("checkup", "screening", "followup", "education", "method_start", "method_stop")
METHOD_KINDS = ("method_start", "method_stop")


def contact_window(period: Period) -> tuple[dt.date, dt.date]:
    """The 12 months ending with the period: from the day after the same day a year
    before its last day, to its last day (2025 → 2025-01-01..2025-12-31)."""
    return shift_years(period.end, -1) + dt.timedelta(days=1), period.end


def unserved_mwra_at_end(period: Period) -> Records:
    """MWRA at the end of the period with no service contact in the 12 months ending with
    it: no check-up, screening, follow-up, education session, method start or stop of
    hers; no method start or stop of her husband that day (a couple's method counts
    under the wife, as in CPR); no check-in at a session whose event still stands."""
    first, last = contact_window(period)
    served = _services(*CONTACT_KINDS)
    served = served.filter(served.date.between(first, last))
    u, a, e = union_spells, attendances, events
    husbands = served.filter(served.kind.isin(METHOD_KINDS)).person_id
    wives = u.filter(_covers(u, ymd(last)), u.spouse_id.isin(husbands)).person_id
    superseded = e.filter(e.supersedes_id.notnull()).supersedes_id
    standing = a.event_id.isnull() | a.event_id.notin(superseded)
    attended = a.filter(a.date.between(first, last), standing).person_id
    person = residence_spells.person_id
    return mwra_on(last).filter(
        person.notin(served.person_id), person.notin(wives), person.notin(attended)
    )


MINUTES_PER_DAY = 24 * 60


@functools.lru_cache(maxsize=64)
def _utc_offsets(
    zone: str, first: dt.date, last: dt.date
) -> tuple[int, tuple[tuple[int, int], ...]]:
    """The UTC offset of ``zone`` in minutes from the day before ``first`` to the day after
    ``last``: the offset at the start, and each change as (the minute since the epoch, in
    UTC, from which it holds, the new offset). Asia/Shanghai: (480, ())."""
    tz = ZoneInfo(zone)

    def offset(minute: int) -> int:
        moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=minute)
        return int(moment.astimezone(tz).utcoffset().total_seconds() // 60)

    minute = ((first - EPOCH).days - 1) * MINUTES_PER_DAY
    end = ((last - EPOCH).days + 2) * MINUTES_PER_DAY
    current = initial = offset(minute)
    changes = []
    while minute < end:
        step = min(minute + MINUTES_PER_DAY, end)
        if offset(step) == current:
            minute = step
            continue
        low, high = minute, step  # the change lies in (low, high]: find its first minute
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if offset(middle) == current else (low, middle)
        current = offset(high)
        changes.append((high, current))
        minute = high
    return initial, tuple(changes)


def _days_from_civil(y: ir.IntegerValue, m: ir.IntegerValue, d: ir.IntegerValue) -> ir.IntegerValue:
    """Days since 1970-01-01 of a year, month and day (``day_number``'s arithmetic)."""
    y = y - (m <= 2).ifelse(1, 0)
    era = y // 400
    year_of_era = y - era * 400
    day_of_year = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _recorded_days(first: int, last: int, offsets: tuple[int, tuple]) -> ir.Table:
    """The events with ``day``, the day number of ``recorded_at`` (stored in UTC) in the
    register's time zone, recorded from day ``first`` to ``last``: integer arithmetic
    (SQLite has no time zones), one step per query level so that no step repeats the
    one before it in the SQL."""
    e = events
    moment = e.recorded_at
    parts = e.select(
        "id",
        "person_id",
        "supersedes_id",
        y=moment.year().cast("int64"),
        m=moment.month().cast("int64"),
        d=moment.day().cast("int64"),
        minute=moment.hour().cast("int64") * 60 + moment.minute().cast("int64"),
    )
    years = (EPOCH + dt.timedelta(days=first)).year - 1, (EPOCH + dt.timedelta(days=last)).year + 1
    parts = parts.filter(parts.y.between(*years))
    minutes = parts.select(
        "id",
        "person_id",
        "supersedes_id",
        utc=_days_from_civil(parts.y, parts.m, parts.d) * MINUTES_PER_DAY + parts.minute,
    )
    minutes = minutes.filter(minutes.utc.notnull())
    initial, changes = offsets
    offset: ir.IntegerValue = ibis.literal(initial, type="int64")
    for since, value in changes:
        offset = (minutes.utc >= since).ifelse(value, offset)
    days = minutes.select(
        "id", "person_id", "supersedes_id", day=(minutes.utc + offset) // MINUTES_PER_DAY
    )
    return days.filter(days.day.between(first, last))


@functools.lru_cache(maxsize=32)
def _entries(first: int, last: int, offsets: tuple[int, tuple]) -> ir.Table:
    """The events recorded from day ``first`` to ``last`` (day numbers, by ``recorded_at``
    in the register's time zone): ``correction`` (it supersedes another), ``corrected``
    (another supersedes it), and the village of its person that day: the residence
    spell holding the day, or else the last one begun before it (a person who moved out
    or died stays with the village they lived in last), or else their first one."""
    e, r = events, residence_spells
    superseded = e.filter(e.supersedes_id.notnull()).supersedes_id
    days = _recorded_days(first, last, offsets)
    recorded = days.select(
        event_id=days.id,
        person=days.person_id,
        day=days.day,
        correction=days.supersedes_id.notnull(),
        corrected=days.id.isin(superseded),
    )
    spells = r.select(spell_person=r.person_id, village=r.village, start_day=day_number(r.start))
    joined = recorded.join(spells, recorded.person == spells.spell_person)
    begun = joined.start_day <= joined.day
    latest_begun_else_first = [
        ibis.desc(begun.ifelse(1, 0)),
        ibis.desc(begun.ifelse(joined.start_day, -joined.start_day)),
    ]
    ranked = joined.mutate(
        n=ibis.row_number().over(group_by=joined.event_id, order_by=latest_begun_else_first)
    )
    chosen = ranked.filter(ranked.n == 0)
    return chosen.select("event_id", "person", "correction", "corrected", "village")


def _entries_of(period: Period) -> ir.Table:
    offsets = _utc_offsets(clock.zone_name(), period.start, period.end)
    return _entries((period.start - EPOCH).days, (period.end - EPOCH).days, offsets)


def entries_recorded_in(period: Period) -> Records:
    """Events first entered in the period, one per event (a correction re-records an event
    and is not one), counted where the person lived the day it was entered."""
    t = _entries_of(period)
    return Records(t, (~t.correction,), person="person")


def entries_corrected_in(period: Period) -> Records:
    """Those of the events first entered in the period that were later corrected or
    retracted (as the register stands: a later correction can still add one). A chain of
    corrections counts its first event once."""
    return entries_recorded_in(period).filter(_entries_of(period).corrected)


# Stocks of a period: START is the end of the day before its first day (age on the
# first day), END the end of its last day.


def population_at_start(period: Period) -> Records:
    return residents_on(period.day_before_start)


def population_at_end(period: Period) -> Records:
    return residents_on(period.end)


def women_15_49_at_start(period: Period) -> Records:
    return women_15_49_on(period.day_before_start, age_day=period.start)


def women_15_49_at_end(period: Period) -> Records:
    return women_15_49_on(period.end)


def mwra_at_end(period: Period) -> Records:
    return mwra_on(period.end)


# ---------------------------------------------------------------------------
# Figures: what a numerator or denominator is made of

Measure = Callable[["Period"], Records]


@dataclass(frozen=True, eq=False)
class Tally:
    """A count the engine must make: the number of ``records`` per village, and per
    value of ``by`` when given."""

    records: Records
    by: ir.Value | None = None


class Figure(ABC):
    """A numerator or denominator: a number made of counts of records."""

    @abstractmethod
    def counts(self) -> list[Count]:
        """The counts this figure is made of."""

    @abstractmethod
    def evaluate(self, period: Period, value_of: ValueOf) -> Number:
        """The figure, given the value of each of its counts (for one org unit)."""

    @abstractmethod
    def records(self, period: Period) -> list[Records]:
        """The records behind the figure (for a drill-down)."""

    def estimates(self) -> list[Estimate]:
        """The estimates this figure is made of (none: it is counted)."""
        return []


@dataclass(frozen=True)
class Kept:
    """Where the maintained figures (``taizhang.figures``) keep a count: their ``measure``
    summed over the period's months (``at`` "period": a flow), or at the end of the
    period's last month ("end") or of the month before it ("before"): a stock; only its
    ``key`` if given. The count's records stay the reference the cells are tested
    against."""

    measure: str
    at: str = "period"
    key: int | None = None


@dataclass(frozen=True, eq=False)
class Count(Figure):
    """The number of records of a measure (per value of ``by``, if given); ``kept`` says
    where the maintained figures hold the same number, if they do."""

    measure: Measure
    by: Callable[[Period], ir.Value] | None = None
    kept: Kept | None = None

    def tally(self, period: Period) -> Tally:
        """What the engine counts for this figure over ``period``."""
        return Tally(self.measure(period), self.by(period) if self.by else None)

    def counts(self) -> list[Count]:
        return [self]

    def evaluate(self, period: Period, value_of: ValueOf) -> Number:
        return value_of(self)

    def records(self, period: Period) -> list[Records]:
        return [self.measure(period)]


# The value of a count for one org unit: an int, or {key: int} for a count with ``by``;
# of an estimate (``Estimate``), a number or None.
ValueOf = Callable[["Count | Estimate"], Any]


@dataclass(frozen=True)
class Mean(Figure):
    """The average of two figures, e.g. the START and END populations."""

    first: Figure
    second: Figure

    def counts(self) -> list[Count]:
        return self.first.counts() + self.second.counts()

    def estimates(self) -> list[Estimate]:
        return self.first.estimates() + self.second.estimates()

    def evaluate(self, period: Period, value_of: ValueOf) -> Number:
        return (self.first.evaluate(period, value_of) + self.second.evaluate(period, value_of)) / 2

    def records(self, period: Period) -> list[Records]:
        return self.first.records(period) + self.second.records(period)


@dataclass(frozen=True)
class Difference(Figure):
    """One figure minus another, e.g. births minus deaths."""

    first: Figure
    second: Figure

    def counts(self) -> list[Count]:
        return self.first.counts() + self.second.counts()

    def estimates(self) -> list[Estimate]:
        return self.first.estimates() + self.second.estimates()

    def evaluate(self, period: Period, value_of: ValueOf) -> Number:
        return self.first.evaluate(period, value_of) - self.second.evaluate(period, value_of)

    def records(self, period: Period) -> list[Records]:
        return self.first.records(period) + self.second.records(period)


@dataclass(frozen=True)
class Total(Figure):
    """The sum of several figures, e.g. the people in each life stage."""

    parts: tuple[Figure, ...]

    def counts(self) -> list[Count]:
        return [c for part in self.parts for c in part.counts()]

    def estimates(self) -> list[Estimate]:
        return [e for part in self.parts for e in part.estimates()]

    def evaluate(self, period: Period, value_of: ValueOf) -> Number | None:
        values = [part.evaluate(period, value_of) for part in self.parts]
        # A part without a value (an estimate that cannot be made) leaves none.
        return None if None in values else sum(values)

    def records(self, period: Period) -> list[Records]:
        return [r for part in self.parts for r in part.records(period)]


# Estimates a figure is made of, per org unit: {unit code: number, or None where no
# estimate can be made}, for the org units ``units`` (all of one level) inside ``org``.
Estimator = Callable[[str, list[str], "Period"], dict[str, "Number | None"]]


@dataclass(frozen=True)
class Estimate(Figure):
    """A number the register cannot count but the org unit's figures estimate (the women
    missing from it, by the census carried forward). The engine asks ``estimator`` once
    per period and level; the records behind the estimate are those of ``behind``, the
    records it is estimated from."""

    estimator: Estimator
    behind: Measure

    def counts(self) -> list[Count]:
        return []

    def estimates(self) -> list[Estimate]:
        return [self]

    def evaluate(self, period: Period, value_of: ValueOf) -> Number | None:
        return value_of(self)

    def records(self, period: Period) -> list[Records]:
        return [self.behind(period)]


def days_in_year(year: int) -> int:
    return (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days


@dataclass(frozen=True)
class TotalFertility(Figure):
    """Σ over ages x of ASFR_x = births to mothers aged x ÷ the mean of the women aged x at
    START and at END (an age with no women contributes 0); for a period shorter than a
    year, scaled by the days of its calendar year over its days."""

    births: Count  # by the mother's age at the birth
    women_at_start: Count  # by age on the first day
    women_at_end: Count  # by age on the last day
    ages: range = range(15, 50)

    def counts(self) -> list[Count]:
        return [self.births, self.women_at_start, self.women_at_end]

    def evaluate(self, period: Period, value_of: ValueOf) -> Number:
        births: Mapping[int, int] = value_of(self.births)
        at_start: Mapping[int, int] = value_of(self.women_at_start)
        at_end: Mapping[int, int] = value_of(self.women_at_end)
        total = 0.0
        for age in self.ages:
            women = (at_start.get(age, 0) + at_end.get(age, 0)) / 2
            if women:
                total += births.get(age, 0) / women
        year_days = days_in_year(period.year)
        return total if period.days == year_days else total * year_days / period.days

    def records(self, period: Period) -> list[Records]:
        return self.births.records(period)


# ---------------------------------------------------------------------------
# Indicators

PERSONS = "persons"
PER_MILLE = "per_mille"
PER_100 = "per_100"
PERCENT = "percent"
CHILDREN_PER_WOMAN = "children_per_woman"


@dataclass(frozen=True)
class Indicator:
    """One indicator: value = numerator ÷ denominator × factor, or the numerator itself
    when there is no denominator."""

    code: str
    name_zh: str
    name_en: str
    numerator: Figure
    denominator: Figure | None
    factor: int
    unit: str
    schedule: str = ""  # the service whose schedule decides who is due, if any

    def result(self, numerator: Number | None, denominator: Number | None) -> dict:
        """The indicator's entry in the "Numbers" JSON (docs/formats.md). A numerator
        or denominator that could not be estimated (None) gives no value."""
        if numerator is None:
            value = None
        elif self.denominator is None:
            value = round(numerator, 2) if isinstance(numerator, float) else numerator
        elif denominator is None or denominator == 0:
            value = None
        else:
            value = round(numerator / denominator * self.factor, 2)
        entry = {
            "code": self.code,
            "value": value,
            "numerator": numerator,
            "denominator": denominator,
            "unit": self.unit,
        }
        if self.schedule == "followup":
            entry["schedule"] = "; ".join(f.describe() for f in schedule.follow_ups())
        elif self.schedule:
            entry["schedule"] = schedule.service(self.schedule).describe()
        return entry


POP_START = Count(population_at_start, kept=Kept("pop", "before"))
POP_END = Count(population_at_end, kept=Kept("pop", "end"))
POP_AVG = Mean(POP_START, POP_END)
BIRTHS = Count(births_in, kept=Kept("births"))
DEATHS = Count(deaths_in, kept=Kept("deaths"))
MWRA_END = Count(mwra_at_end, kept=Kept("mwra", "end"))
WOMEN_15_49_START = Count(women_15_49_at_start, kept=Kept("w1549_next", "before"))
WOMEN_15_49_END = Count(women_15_49_at_end, kept=Kept("w1549", "end"))


def _parity_at_end(low: int, high: int | None = None) -> Count:
    return Count(
        lambda period: mwra_of_parity_on(period.end, low, high), kept=Kept("parity", "end", low)
    )


def _births_of_order(low: int, high: int | None, kept: str) -> Count:
    return Count(lambda period: births_of_order(period, low, high), kept=Kept(kept))


INDICATORS: tuple[Indicator, ...] = (
    Indicator("POP_START", "期初人口", "Population at start", POP_START, None, 1, PERSONS),
    Indicator("POP_END", "期末人口", "Population at end", POP_END, None, 1, PERSONS),
    Indicator("POP_AVG", "平均人口", "Average population", POP_AVG, None, 1, PERSONS),
    Indicator("BIRTHS", "出生人数", "Live births", BIRTHS, None, 1, PERSONS),
    Indicator("DEATHS", "死亡人数", "Deaths", DEATHS, None, 1, PERSONS),
    Indicator("CBR", "人口出生率", "Crude birth rate", BIRTHS, POP_AVG, 1000, PER_MILLE),
    Indicator("CDR", "人口死亡率", "Crude death rate", DEATHS, POP_AVG, 1000, PER_MILLE),
    Indicator(
        "RNI",
        "自然增长率",
        "Rate of natural increase",
        Difference(BIRTHS, DEATHS),
        POP_AVG,
        1000,
        PER_MILLE,
    ),
    Indicator(
        "SRB",
        "出生人口性别比",
        "Sex ratio at birth",
        Count(male_births_in, kept=Kept("births_m")),
        Count(female_births_in, kept=Kept("births_f")),
        100,
        PER_100,
    ),
    Indicator(
        "BIRTH_ORDER_1",
        "一孩率",
        "Share of first births",
        _births_of_order(1, 1, "births_o1"),
        BIRTHS,
        100,
        PERCENT,
    ),
    Indicator(
        "BIRTH_ORDER_2",
        "二孩率",
        "Share of second births",
        _births_of_order(2, 2, "births_o2"),
        BIRTHS,
        100,
        PERCENT,
    ),
    Indicator(
        "BIRTH_ORDER_3P",
        "多孩率",
        "Share of third and higher births",
        _births_of_order(3, None, "births_o3p"),
        BIRTHS,
        100,
        PERCENT,
    ),
    Indicator(
        "GFR",
        "一般生育率",
        "General fertility rate",
        BIRTHS,
        Mean(WOMEN_15_49_START, WOMEN_15_49_END),
        1000,
        PER_MILLE,
    ),
    Indicator(
        "TFR",
        "总和生育率",
        "Total fertility rate",
        TotalFertility(
            births=Count(
                births_to_women_15_49_in,
                by=lambda period: birth_facts.mother_age,
                kept=Kept("births_age"),
            ),
            women_at_start=Count(
                women_15_49_at_start,
                by=lambda period: age_on(residence_spells.birth, period.start),
                kept=Kept("w1549_next", "before"),
            ),
            women_at_end=Count(
                women_15_49_at_end,
                by=lambda period: age_on(residence_spells.birth, period.end),
                kept=Kept("w1549", "end"),
            ),
        ),
        None,
        1,
        CHILDREN_PER_WOMAN,
    ),
    Indicator(
        "FACILITY_DELIVERY",
        "住院分娩率",
        "Facility delivery rate",
        Count(facility_births_in, kept=Kept("births_facility")),
        BIRTHS,
        100,
        PERCENT,
    ),
    Indicator(
        "MARRIAGE_RATE",
        "结婚率",
        "Crude marriage rate",
        Count(marriages_in, kept=Kept("marriages")),
        POP_AVG,
        1000,
        PER_MILLE,
    ),
    Indicator(
        "MWRA",
        "已婚育龄妇女数",
        "Married women of reproductive age",
        MWRA_END,
        None,
        1,
        PERSONS,
    ),
    Indicator(
        "MWRA_SHARE",
        "已婚育龄妇女占总人口比例",
        "Married women 15–49 as a share of the population",
        MWRA_END,
        POP_END,
        100,
        PERCENT,
    ),
    Indicator(
        "CPR",
        "综合节育率",
        "Contraceptive prevalence rate",
        Count(lambda period: using_method_on(period.end), kept=Kept("users", "end")),
        MWRA_END,
        100,
        PERCENT,
    ),
    Indicator(
        "MCPR",
        "现代方法避孕率",
        "Modern contraceptive prevalence rate",
        Count(
            lambda period: using_method_on(period.end, modern=True),
            kept=Kept("users_modern", "end"),
        ),
        MWRA_END,
        100,
        PERCENT,
    ),
    Indicator(
        "PARITY_0",
        "无孩妇女比例",
        "Share of MWRA with no live birth",
        _parity_at_end(0, 0),
        MWRA_END,
        100,
        PERCENT,
    ),
    Indicator(
        "PARITY_1",
        "一孩妇女比例",
        "Share of MWRA with one live birth",
        _parity_at_end(1, 1),
        MWRA_END,
        100,
        PERCENT,
    ),
    Indicator(
        "PARITY_2P",
        "二孩及以上妇女比例",
        "Share of MWRA with two or more live births",
        _parity_at_end(2),
        MWRA_END,
        100,
        PERCENT,
    ),
)


def _on_schedule(code: str, name_zh: str, name_en: str, service: str) -> Indicator:
    """The share of the people due ``service`` in a period (its schedule) who had it."""
    return Indicator(
        code,
        name_zh,
        name_en,
        Count(functools.partial(served_in, service)),
        Count(functools.partial(due_for, service)),
        100,
        PERCENT,
        schedule=service,
    )


# Service indicators (demographic ones above are the default set).
SERVICE_INDICATORS: tuple[Indicator, ...] = (
    _on_schedule("CHECKUP_RATE", "康检率", "Check-up rate", "checkup"),
    _on_schedule(
        "SCREENING_COVERAGE", "妇女病普查率", "Gynaecological screening coverage", "screening"
    ),
    Indicator(
        "FOLLOWUP_RATE",
        "随访率",
        "Follow-ups done within their window",
        Count(follow_ups_done_in),
        Count(follow_ups_due_in),
        100,
        PERCENT,
        schedule="followup",
    ),
    Indicator(
        "EDUCATION_COVERAGE",
        "五期教育覆盖率",
        "Life-stage education coverage",
        Total(
            tuple(
                Count(functools.partial(lambda stage, period: educated_in(stage, period), s))
                for s in STAGES
            )
        ),
        Total(
            tuple(
                Count(functools.partial(lambda stage, period: in_stage_on(stage, period.end), s))
                for s in STAGES
            )
        ),
        100,
        PERCENT,
    ),
    Indicator(
        "SCREENING_PREVALENCE",
        "妇女病患病率",
        "Share of screened women with a finding",
        Count(screened_with_findings_in),
        Count(screened_in),
        100,
        PERCENT,
    ),
    Indicator(
        "BIRTH_REG_TIMELY",
        "出生登记及时率",
        "Births registered within 30 days",
        Count(births_registered_in_time_in, kept=Kept("births_timely")),
        BIRTHS,
        100,
        PERCENT,
    ),
    Indicator(
        "BENEFIT_PAID_RATE",
        "奖励扶助兑现率",
        "Benefit payments made on time",
        Count(payments_paid_on_time_in),
        Count(payments_due_in),
        100,
        PERCENT,
    ),
    Indicator(
        "CASE_CLOSURE_RATE",
        "信访按期结案率",
        "Petitions concluded on time",
        Count(cases_closed_on_time_in),
        Count(cases_due_to_close_in),
        100,
        PERCENT,
    ),
)


def _women_missing(org: str, units: list[str], period: Period) -> dict[str, Number | None]:
    """The women 15–49 missing from the register at the end of the period, as the data-
    quality audit estimates them (``taizhang.quality.estimates``)."""
    from taizhang.quality.estimates import women_missing

    return women_missing(org, units, period)


# The estimate's records are the registered women it is made from.
WOMEN_MISSING = Estimate(_women_missing, women_15_49_at_end)

# Register quality: the seed's three error rates (漏册率, 漏管率, 差错率); lower is better.
REGISTER_QUALITY_INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "UNDER_REGISTRATION",
        "漏册率",
        "Women 15–49 missing from the register (estimated)",
        WOMEN_MISSING,
        Total((WOMEN_15_49_END, WOMEN_MISSING)),
        100,
        PERCENT,
    ),
    Indicator(
        "UNSERVED_RATE",
        "漏管率",
        "MWRA without a service contact in 12 months",
        Count(unserved_mwra_at_end),
        MWRA_END,
        100,
        PERCENT,
    ),
    Indicator(
        "ENTRY_ERROR_RATE",
        "差错率",
        "Entries later corrected or retracted",
        Count(entries_corrected_in),
        Count(entries_recorded_in),
        100,
        PERCENT,
    ),
)

# ---------------------------------------------------------------------------
# Breakdowns for the report forms (``taizhang.reports``): moves in and out, method starts,
# stops and users by method. Each breakdown's parts add up to a figure above (or to a
# total declared here): users by method to CPR's numerator, starts by method to
# METHOD_STARTS, stops by reason to METHOD_STOPS, home and facility births to BIRTHS.


def home_births_in(period: Period) -> Records:
    """Live births in the period not in a facility (at home, or the place not stated)."""
    return births_in(period).filter(birth_facts.delivery_place != "facility")


# Moves. A residence spell that starts in the period and not with a birth the register
# counts (``BIRTHS``: the child of a birth fact, on that day) is an arrival: a move in,
# even on the person's birth day, or a person entered in the register who was born in
# the period without a registered birth. It came from the village of the person's spell
# that ended that same day with ``move_within``, or from outside the register's area
# when there is none (a ``move_in``). An arrival is a move *into* an org unit when it came from outside that
# unit: a move between two villages of one township moves in and out of each village,
# not of the township. Moves out mirror it: a spell ending in the period with
# ``move_out`` (to outside the area), or with ``move_within`` to a village outside the
# unit. An org unit's level decides which indicator applies: MOVES_IN_TOWNSHIP counts,
# in each village, the arrivals from outside its township.


@functools.cache
def arrivals() -> ir.Table:
    """Residence spells with ``from_village``: where a move within the area came from
    (null when the spell did not begin with one); and ``born_here``: the spell began with
    a live birth the register counts (the person is the child of a birth fact that day)."""
    r = residence_spells
    left = r.filter(r.end_reason == "move_within")
    left = left.select(from_person=left.person_id, from_day=left.end, from_village=left.village)
    joined = r.left_join(left, (r.person_id == left.from_person) & (r.start == left.from_day))
    spells = joined.select(*residence_spells.columns, from_village=joined.from_village)
    b = birth_facts.select(born_child=birth_facts.child_id, born_day=birth_facts.date)
    withbirth = spells.left_join(
        b, (spells.person_id == b.born_child) & (spells.start == b.born_day)
    )
    return withbirth.select(
        *spells.columns, born_here=withbirth.born_child.notnull() & (spells.start_reason == "")
    )


@functools.cache
def _departures() -> ir.Table:
    """Residence spells with ``to_village``: the village of the spell that began the day
    this one ended (null when none did)."""
    r = residence_spells
    came = r.select(to_person=r.person_id, to_day=r.start, to_village=r.village)
    joined = r.left_join(came, (r.person_id == came.to_person) & (r.end == came.to_day))
    return joined.select(*residence_spells.columns, to_village=joined.to_village)


def _outside_unit(village: ir.StringValue, other: ir.StringValue, length: int) -> ir.BooleanValue:
    """``other`` (null: outside the area) is not in the org unit of ``length`` digits
    that holds ``village``."""
    return other.isnull() | (other.substr(0, length) != village.substr(0, length))


def moves_in(period: Period, length: int) -> Records:
    """Persons who moved in the period into the org unit of ``length`` digits holding
    their new village, from outside it; counted in the new village."""
    a = arrivals()
    return Records(
        a,
        (
            _in_period(a.start, period),
            ~a.born_here,
            _outside_unit(a.village, a.from_village, length),
        ),
    )


def moves_out(period: Period, length: int) -> Records:
    """Persons who moved in the period out of the org unit of ``length`` digits holding
    the village they left, to outside it; counted in the village left."""
    d = _departures()
    return Records(
        d,
        (
            _in_period(d.end, period),
            d.end_reason.isin(("move_out", "move_within")),
            (d.end_reason == "move_out") | _outside_unit(d.village, d.to_village, length),
        ),
    )


# Method starts and stops, counted where the user (a woman, or a man for a condom or
# male sterilisation) lived at the end of the day the method started / stopped. A
# spell's ``end`` is the day after the stop day D, so "resident at the end of D" is
# ``start <= D < end`` = ``start < spell end <= end``. Spells closed by the user's death
# are not stops.


@functools.cache
def _method_starts() -> ir.Table:
    m, r = method_spells, residence_spells
    joined = m.join(r, (m.person_id == r.person_id) & (r.start <= m.start) & (r.end > m.start))
    return joined.select(
        id=m.id, person_id=m.person_id, method=m.method, start=m.start, village=r.village
    )


@functools.cache
def _method_stops() -> ir.Table:
    m, r = method_spells, residence_spells
    joined = m.join(r, (m.person_id == r.person_id) & (r.start < m.end) & (r.end >= m.end))
    return joined.select(
        id=m.id,
        person_id=m.person_id,
        method=m.method,
        end=m.end,
        stop_reason=m.stop_reason,
        village=r.village,
    )


def method_starts_in(period: Period, method: str | None = None) -> Records:
    """Method spells started in the period (of ``method`` if given)."""
    s = _method_starts()
    records = Records(s, (_in_period(s.start, period),))
    return records if method is None else records.filter(s.method == method)


# Stop reasons as recorded (``method_stop`` reason, free text); any other text, or none,
# is "other".
STOP_REASONS: dict[str, str] = {
    "planning": "计划怀孕",
    "switch": "更换方法",
    "side_effects": "副作用",
    "own_wish": "本人要求",
    "failure": "避孕失败",
    "menopause": "绝经",
}


def method_stops_in(period: Period, reason: str | None = None) -> Records:
    """Methods stopped in the period (for ``reason``, a key of STOP_REASONS or "other",
    if given)."""
    s = _method_stops()
    after_first = ymd(period.start + dt.timedelta(days=1))
    after_last = ymd(period.end + dt.timedelta(days=1))
    records = Records(s, (s.end.between(after_first, after_last), s.stop_reason != "death"))
    if reason is None:
        return records
    if reason == "other":
        return records.filter(s.stop_reason.notin(list(STOP_REASONS.values())))
    return records.filter(s.stop_reason == STOP_REASONS[reason])


# Users by method: a couple using several methods on a day counts once (as in CPR), under
# the first of these — the most effective.
METHOD_ORDER = (
    "female_sterilization",
    "male_sterilization",
    "implant",
    "iud",
    "injectable",
    "pill",
    "condom",
    "other",
)


@functools.lru_cache(maxsize=32)
def _women_with_main_method(day: int) -> ir.Table:
    """``_women_with_parity`` with ``method_rank``: the place in METHOD_ORDER of the
    first method the woman (or her husband, for a male method) uses on ``day``; null
    when none."""
    m, u = method_spells, union_spells
    own = m.filter(_covers(m, day))
    own = own.select(user_id=own.person_id.cast("int64"), method=own.method.cast("string"))
    husbands = m.filter(_covers(m, day), m.method.isin(sorted(MALE_METHODS)))
    husbands = husbands.select(husband_id=husbands.person_id, method=husbands.method)
    couples = u.filter(_covers(u, day))
    couples = couples.join(husbands, couples.spouse_id == husbands.husband_id)
    shared = couples.select(
        user_id=couples.person_id.cast("int64"), method=couples.method.cast("string")
    )
    used = own.union(shared)
    rank = used.method.cases(
        *((name, i) for i, name in enumerate(METHOD_ORDER)), else_=METHOD_ORDER.index("other")
    )
    main = used.group_by("user_id").aggregate(method_rank=rank.min())
    w = _women_with_parity(day)
    joined = w.left_join(main, w.person_id == main.user_id)
    return joined.select(*w.columns, method_rank=joined.method_rank)


def users_of_method_on(day: dt.date, method: str) -> Records:
    """MWRA on ``day`` whose couple's first method (METHOD_ORDER) that day is ``method``."""
    d = ymd(day)
    w = _women_with_main_method(d)
    return Records(
        w,
        (
            _covers(w, d),
            _woman_15_49(w, day),
            _married_on(w.person_id, d),
            w.method_rank == METHOD_ORDER.index(method),
        ),
    )


METHOD_NAMES: dict[str, tuple[str, str]] = {
    "female_sterilization": ("女性绝育", "female sterilisation"),
    "male_sterilization": ("男性绝育", "male sterilisation"),
    "implant": ("皮下埋植", "implant"),
    "iud": ("宫内节育器", "IUD"),
    "injectable": ("避孕针", "injectable"),
    "pill": ("口服避孕药", "pill"),
    "condom": ("避孕套", "condom"),
    "other": ("其他方法", "other method"),
}
STOP_REASON_NAMES_EN: dict[str, str] = {
    "planning": "planning a pregnancy",
    "switch": "switching method",
    "side_effects": "side effects",
    "own_wish": "own wish",
    "failure": "method failure",
    "menopause": "menopause",
    "other": "other or not stated",
}
# The org-unit levels a move can cross, by name and code length (taizhang.orgunits).
MOVE_LEVELS: dict[str, tuple[int, str]] = {
    "province": (2, "省"),
    "city": (4, "市"),
    "county": (6, "县"),
    "township": (9, "乡"),
    "village": (12, "村"),
}


def _moves_indicators() -> tuple[Indicator, ...]:
    out = []
    for level, (length, zh) in MOVE_LEVELS.items():
        into = Count(
            functools.partial(lambda n, period: moves_in(period, n), length),
            kept=Kept("moves_in", key=length),
        )
        away = Count(
            functools.partial(lambda n, period: moves_out(period, n), length),
            kept=Kept("moves_out", key=length),
        )
        code = level.upper()
        out.append(
            Indicator(
                f"MOVES_IN_{code}",
                f"迁入人数（{zh}外迁入）",
                f"Moves into the {level} from outside it",
                into,
                None,
                1,
                PERSONS,
            )
        )
        out.append(
            Indicator(
                f"MOVES_OUT_{code}",
                f"迁出人数（迁往{zh}外）",
                f"Moves out of the {level} to outside it",
                away,
                None,
                1,
                PERSONS,
            )
        )
    return tuple(out)


def _method_indicators() -> tuple[Indicator, ...]:
    out = []
    for method, (zh, en) in METHOD_NAMES.items():
        rank = METHOD_ORDER.index(method)
        users = Count(
            functools.partial(lambda m, period: users_of_method_on(period.end, m), method),
            kept=Kept("users_main", "end", rank),
        )
        starts = Count(
            functools.partial(lambda m, period: method_starts_in(period, m), method),
            kept=Kept("method_starts", key=rank),
        )
        code = method.upper()
        out.append(
            Indicator(
                f"USERS_{code}",
                f"{zh}使用者占已婚育龄妇女比例",
                f"Share of MWRA whose main method is {en}",
                users,
                MWRA_END,
                100,
                PERCENT,
            )
        )
        out.append(
            Indicator(
                f"METHOD_STARTS_{code}",
                f"{zh}新开始人数",
                f"Starts of {en}",
                starts,
                None,
                1,
                PERSONS,
            )
        )
    return tuple(out)


def _stop_indicators() -> tuple[Indicator, ...]:
    out = []
    for reason, en in STOP_REASON_NAMES_EN.items():
        stops = Count(
            functools.partial(lambda r, period: method_stops_in(period, r), reason),
            kept=Kept("method_stops", key=list(STOP_REASON_NAMES_EN).index(reason)),
        )
        zh = STOP_REASONS.get(reason, "其他或未说明")
        out.append(
            Indicator(
                f"METHOD_STOPS_{reason.upper()}",
                f"停用人数（{zh}）",
                f"Methods stopped: {en}",
                stops,
                None,
                1,
                PERSONS,
            )
        )
    return tuple(out)


REPORT_INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "HOME_BIRTHS",
        "非住院分娩数",
        "Live births outside a facility",
        Count(home_births_in, kept=Kept("births_home")),
        None,
        1,
        PERSONS,
    ),
    *_moves_indicators(),
    Indicator(
        "METHOD_STARTS",
        "新开始避孕措施人数",
        "Methods started",
        Count(method_starts_in, kept=Kept("method_starts")),
        None,
        1,
        PERSONS,
    ),
    Indicator(
        "METHOD_STOPS",
        "停用避孕措施人数",
        "Methods stopped",
        Count(method_stops_in, kept=Kept("method_stops")),
        None,
        1,
        PERSONS,
    ),
    *_method_indicators(),
    *_stop_indicators(),
)

ALL_INDICATORS: tuple[Indicator, ...] = (
    INDICATORS + SERVICE_INDICATORS + REGISTER_QUALITY_INDICATORS + REPORT_INDICATORS
)
INDICATORS_BY_CODE: dict[str, Indicator] = {i.code: i for i in ALL_INDICATORS}
