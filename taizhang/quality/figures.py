"""The figures the audit reads, fetched set-based: one grouped query per kind of count.

Recorded figures come from the indicator engine's own measures
(``taizhang.indicators.definitions``: ``births_in``, ``deaths_in``, ``marriages_in``,
``moves_in``, ``moves_out``, ``method_starts_in``, ``residents_on``), only grouped by
village *and month* over several years at once instead of one period at a time, so
the audit and the indicators never count an event two ways: a month's recorded births
here are the ``BIRTHS`` of that village and month. Each query is compiled by Ibis to
the dialect of Django's connection and run on it (``engine.fetch``).

Reported figures and census bases are read from ``taizhang.quality.models``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
from django.utils.translation import gettext as _

from taizhang.indicators import definitions as d
from taizhang.indicators.engine import fetch
from taizhang.indicators.tables import events, residence_spells
from taizhang.lib.periods import Period, shift_years, ymd
from taizhang.orgunits.models import prefix_range
from taizhang.quality.models import OPEN_AGE, CensusPopulation, ReportedFigure

VILLAGE, TOWNSHIP = 12, 9


def span(first: dt.date, last: dt.date) -> Period:
    """A period of any length (the measures read only its first and last days)."""
    return Period(f"{ymd(first)}-{ymd(last)}", "span", first, last)


def month_code(ymd_value: int) -> str:
    return str(ymd_value // 100)


# ---------------------------------------------------------------------------
# Recorded monthly counts


@dataclass(frozen=True)
class ItemMeasure:
    """How the register counts a report item: the measure (with the org-unit level a move
    crosses, as a code length) and the column that dates each record."""

    records: Callable[[Period, int], d.Records]
    dated: Callable[[ir.Table], ir.IntegerValue]
    by_level: bool = False  # moves: a village's count differs from its township's share


ITEM_MEASURES: dict[str, ItemMeasure] = {
    "births": ItemMeasure(lambda p, n: d.births_in(p), lambda t: t.date),
    "deaths": ItemMeasure(lambda p, n: d.deaths_in(p), lambda t: t.end),
    "marriages": ItemMeasure(lambda p, n: d.marriages_in(p), lambda t: t.start),
    "moves_in": ItemMeasure(lambda p, n: d.moves_in(p, n), lambda t: t.start, by_level=True),
    "moves_out": ItemMeasure(lambda p, n: d.moves_out(p, n), lambda t: t.end, by_level=True),
    "method_starts": ItemMeasure(lambda p, n: d.method_starts_in(p), lambda t: t.start),
}
# The indicator each item is in the engine (for a month of one org unit), so that a
# figure can link to the records behind it.
ITEM_INDICATORS: dict[str, tuple[str, str]] = {
    "births": ("BIRTHS", "numerator"),
    "deaths": ("DEATHS", "numerator"),
    "marriages": ("MARRIAGE_RATE", "numerator"),
    "moves_in": ("MOVES_IN_{level}", "numerator"),
    "moves_out": ("MOVES_OUT_{level}", "numerator"),
    "method_starts": ("METHOD_STARTS", "numerator"),
}


def _grouped(records: d.Records, low: str, high: str, **keys) -> ir.Table:
    """Records in the village range [low, high), counted per village and ``keys``
    (functions of the base table)."""
    base = records.base
    village = base[records.village]
    kept = base.filter(*records.conditions, village >= low, village < high)
    groups = {"village": kept[records.village], **{k: f(kept) for k, f in keys.items()}}
    return kept.group_by(**groups).aggregate(n=kept.count())


def recorded_monthly(
    org: str, first: dt.date, last: dt.date, items: Iterable[str], length: int = VILLAGE
) -> dict[str, dict[tuple[str, str], int]]:
    """{item: {(village, YYYYMM): count}} of the register from ``first`` to ``last`` in
    ``org``'s subtree. Moves are counted across the border of the org unit of ``length``
    digits holding the village (12: the village's own border; 9: its township's)."""
    low, high = prefix_range(org)
    period = span(first, last)
    out: dict[str, dict[tuple[str, str], int]] = {}
    for item in items:
        measure = ITEM_MEASURES[item]
        records = measure.records(period, length)
        query = _grouped(records, low, high, month=lambda t, m=measure: m.dated(t) // 100)
        out[item] = {(village, str(month)): int(n) for village, month, n in fetch(query)}
    return out


def recorded_by_level(
    org: str, first: dt.date, last: dt.date, lengths: Iterable[int]
) -> dict[int, dict[tuple[str, str, str], int]]:
    """{length: {(org unit, YYYYMM, item): count}} for the org units of each code
    ``length`` in ``org``'s subtree: the villages' counts added up, moves counted across
    the border of the unit of that length (a move between two villages of a township
    moves in and out of each village, not of the township)."""
    plain = [i for i, m in ITEM_MEASURES.items() if not m.by_level]
    moves = [i for i, m in ITEM_MEASURES.items() if m.by_level]
    counts = recorded_monthly(org, first, last, plain)
    out = {}
    for length in sorted(set(lengths), reverse=True):
        rolled: dict[tuple[str, str, str], int] = defaultdict(int)
        per_length = counts | recorded_monthly(org, first, last, moves, length)
        for item, rows in per_length.items():
            for (village, month), n in rows.items():
                rolled[(village[:length], month, item)] += n
        out[length] = dict(rolled)
    return out


def pregnancies_monthly(org: str, first: dt.date, last: dt.date) -> dict[tuple[str, str], int]:
    """{(village, YYYYMM): pregnancies registered}, counted where the woman lived on the
    day of the registration; retracted or superseded registrations do not count."""
    low, high = prefix_range(org)
    e, r = events, residence_spells
    corrected = e.filter(e.supersedes_id.notnull()).supersedes_id
    kept = e.filter(e.kind == "pregnancy", e.id.notin(corrected), e.date.between(first, last))
    day = kept.date.year() * 10000 + kept.date.month() * 100 + kept.date.day()
    kept = kept.select(woman=kept.person_id, day=day)
    joined = kept.join(r, (kept.woman == r.person_id) & (r.start <= kept.day) & (r.end > kept.day))
    joined = joined.filter(joined.village >= low, joined.village < high)
    query = joined.group_by(village=joined.village, month=joined.day // 100).aggregate(
        n=joined.count()
    )
    return {(village, str(month)): int(n) for village, month, n in fetch(query)}


def children_aged_0(org: str, day: dt.date) -> dict[str, int]:
    """{village: residents at the end of ``day`` aged 0 that day}."""
    low, high = prefix_range(org)
    records = d.residents_on(day).filter(residence_spells.birth > ymd(shift_years(day, -1)))
    return {village: int(n) for village, n in fetch(_grouped(records, low, high))}


def births_by_order_and_sex(org: str, period: Period) -> dict[tuple[str, int, str], int]:
    """{(village, order 1/2/3 for 3+, sex): live births in ``period``} (BIRTHS' records)."""
    low, high = prefix_range(org)
    records = d.births_in(period)
    query = _grouped(
        records,
        low,
        high,
        order=lambda t: ibis.least(t.birth_order, 3),
        sex=lambda t: t.sex,
    )
    return {(v, int(order), sex): int(n) for v, order, sex, n in fetch(query)}


# ---------------------------------------------------------------------------
# Cohorts: the register's side of the census comparison


@dataclass(frozen=True)
class Group:
    """People of ``sex`` (None: both) aged ``low``..``high`` (None: no upper limit) on the
    day the comparison is made."""

    name: str
    sex: str | None
    low: int
    high: int | None

    def birth_range(self, day: dt.date) -> tuple[int, int]:
        """The ymd range of birth dates of the group's members on ``day`` (as
        ``age_on`` counts age: (ymd(day) - birth) // 10000)."""
        top = ymd(day) - self.low * 10000
        bottom = ymd(day) - (self.high * 10000 + 9999) if self.high is not None else 0
        return bottom, top

    def members(self, table: ir.Table, day: dt.date) -> ir.BooleanValue:
        bottom, top = self.birth_range(day)
        condition = table.birth.between(bottom, top)
        if self.sex is not None:
            condition &= table.sex == self.sex
        return condition


GROUP_SEXES = {"women": "F", "men": "M", "persons": None}


def parse_group(name: str) -> Group:
    """``women_15_49``, ``men_0_4``, ``persons_65_84``, ``women_15`` (15 and over) or
    ``population`` (everyone)."""
    if name == "population":
        return Group(name, None, 0, None)
    parts = name.split("_")
    try:
        sex = GROUP_SEXES[parts[0]]
        low = int(parts[1])
        high = int(parts[2]) if len(parts) > 2 else None
        if len(parts) > 3 or low < 0 or (high is not None and high < low):
            raise ValueError
    except (KeyError, IndexError, ValueError):
        raise ValueError(
            _("%(name)r is not a group: write population, or women|men|persons_LOW_HIGH")
            % {"name": name}
        ) from None
    return Group(name, sex, low, high)


@dataclass
class CohortFigures:
    """The register's side of one group in one org unit (see ``cohort_figures``)."""

    at_census: dict[tuple[str, int], int]  # (sex, age at the census) -> residents then
    in_group: dict[tuple[str, int], int]  # the same, born within the group's range
    births: int = 0
    deaths: int = 0
    moves_in: int = 0
    moves_out: int = 0
    registered: int = 0


def cohort_figures(
    org: str, unit_length: int, census_day: dt.date, end: dt.date, groups: list[Group]
) -> dict[tuple[str, str], CohortFigures]:
    """{(unit, group name): CohortFigures} for the org units of ``unit_length`` digits in
    ``org``'s subtree: the residents on the census day (the end of the day before it; age
    on it), by sex and single age (85+ together), and those of them born within the
    group's range on ``end``; the group's births, deaths and moves across the unit's
    border from the census day to ``end``; its residents at the end of ``end``.

    Six queries whatever the number of groups: each group is a conditional sum.
    """
    low, high = prefix_range(org)
    r = residence_spells
    unit_of = lambda t, column="village": t[column].substr(0, unit_length)  # noqa: E731
    figures: dict[tuple[str, str], CohortFigures] = {}

    def figure(unit: str, group: Group) -> CohortFigures:
        return figures.setdefault((unit, group.name), CohortFigures({}, {}))

    def sums(table: ir.Table, day: dt.date) -> dict[str, ir.Value]:
        return {f"g{i}": g.members(table, day).ifelse(1, 0).sum() for i, g in enumerate(groups)}

    # The census stock: by unit, sex and age, with each group's members among them.
    before = census_day - dt.timedelta(days=1)
    stock = d.residents_on(before)
    kept = r.filter(*stock.conditions, r.village >= low, r.village < high)
    age = ibis.least((ymd(census_day) - kept.birth) // 10000, OPEN_AGE)
    query = kept.group_by(unit=unit_of(kept), sex=kept.sex, age=age).aggregate(
        n=kept.count(), **sums(kept, end)
    )
    for unit, sex, age_, n, *members in fetch(query):
        for group, m in zip(groups, members, strict=True):
            if group.sex is not None and group.sex != sex:
                continue
            f = figure(unit, group)
            f.at_census[(sex, int(age_))] = int(n)
            f.in_group[(sex, int(age_))] = int(m or 0)

    period = span(census_day, end)
    flows = {
        # A spell that began with a birth the register counts; any other arrival (a move
        # in, even on the birth day) is among the moves in.
        "births": d.Records(
            d.arrivals(),
            (d.arrivals().born_here, d.arrivals().start.between(ymd(census_day), ymd(end))),
        ),
        "deaths": d.deaths_in(period),
        "moves_in": d.moves_in(period, unit_length),
        "moves_out": d.moves_out(period, unit_length),
        "registered": d.residents_on(end),
    }
    for name, records in flows.items():
        base = records.base
        kept = base.filter(*records.conditions, base.village >= low, base.village < high)
        query = kept.group_by(unit=unit_of(kept)).aggregate(**sums(kept, end))
        for unit, *counts in fetch(query):
            for group, n in zip(groups, counts, strict=True):
                setattr(figure(unit, group), name, int(n or 0))
    return figures


# ---------------------------------------------------------------------------
# Reported figures and census bases


@dataclass(frozen=True)
class Reported:
    """The figure in force of one org unit, month and item."""

    value: int
    version: int
    first_submitted: dt.datetime | None  # when its first version was submitted


def reported(org: str, first_month: str, last_month: str) -> dict[tuple[str, str, str], Reported]:
    """{(org unit, YYYYMM, item): Reported} for the org units of ``org``'s subtree."""
    low, high = prefix_range(org)
    rows = (
        ReportedFigure.objects.filter(
            org_id__gte=low, org_id__lt=high, period__gte=first_month, period__lte=last_month
        )
        .order_by("version")
        .values_list("org_id", "period", "item", "value", "version", "submitted_at")
    )
    first: dict[tuple[str, str, str], dt.datetime | None] = {}
    out: dict[tuple[str, str, str], Reported] = {}
    for org_code, month, item, value, version, submitted in rows.iterator(chunk_size=20000):
        key = (org_code, month, item)
        if key not in first:
            first[key] = submitted
        out[key] = Reported(value, version, first[key])
    return out


def census_bases(org: str, last_year: int) -> dict[str, dict[int, dict[tuple[str, int], int]]]:
    """{org unit: {census year: {(sex, age): population}}} in ``org``'s subtree for the
    census years up to ``last_year`` (and the units above ``org``: a township's base serves
    its villages' audit only as the township's)."""
    low, high = prefix_range(org)
    rows = CensusPopulation.objects.filter(
        org_id__gte=low, org_id__lt=high, year__lte=last_year
    ).values_list("org_id", "year", "sex", "age", "population")
    out: dict[str, dict[int, dict[tuple[str, int], int]]] = defaultdict(lambda: defaultdict(dict))
    for unit, year, sex, age, population in rows.iterator(chunk_size=20000):
        out[unit][year][(sex, age)] = population
    return {unit: dict(years) for unit, years in out.items()}
