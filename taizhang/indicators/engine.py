"""Computes indicators for an org unit and a period, set-based, in the database.

``compute`` gathers the counts the requested indicators need (their
:class:`~taizhang.indicators.definitions.Tally` objects), merges the counts that
read the same table (or join) with the same grouping into one query of
conditional sums grouped by village, compiles each query with Ibis to the dialect
of Django's connection and runs it on that connection, so it sees the caller's
transaction. Python then only adds villages up into the requested org units and
evaluates the figures: a full demographic set takes a handful of queries however
many org units it reports on.

``records_behind`` lists the persons behind a figure from the very same
record-level expressions.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
from django.db import connection

from taizhang.errors import UserError
from taizhang.indicators.definitions import (
    ALL_INDICATORS,
    INDICATORS,
    INDICATORS_BY_CODE,
    Count,
    Estimate,
    Indicator,
    Records,
    Tally,
    ValueOf,
)
from taizhang.lib import periods
from taizhang.lib.periods import ymd
from taizhang.orgunits.models import (
    LENGTH_BY_LEVEL_NAME,
    LEVEL_BY_LENGTH,
    LEVEL_NAMES,
    OrgUnit,
    prefix_range,
)

if TYPE_CHECKING:
    from taizhang.lib.periods import Period

# Django's connection.vendor → the SQL dialect Ibis compiles to.
DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres"}

PARTS = ("numerator", "denominator")

# The most conditional sums one query counts (see ``_fetch_counts``).
SUMS_PER_QUERY = 40


def compute(
    org: str, period: str, codes: Sequence[str] | None = None, by: str | None = None
) -> dict | list[dict]:
    """The indicators ``codes`` (the demographic ones if None) of ``org`` over ``period``.

    Returns the "Numbers" JSON object of docs/formats.md, or with ``by`` (a level name:
    "township", "village") a list of such objects, one per org unit of that level
    inside ``org`` in code order, units without records included. Indicators come in
    the order of docs/indicators.md. Raises ``UserError`` for an unknown org unit, period,
    indicator code or level.
    """
    (result,) = compute_levels(org, period, codes, [by]).values()
    return result


def compute_levels(
    org: str, period: str, codes: Sequence[str] | None, levels: Sequence[str | None]
) -> dict[str | None, dict | list[dict]]:
    """``compute(org, period, codes, by=level)`` for each of ``levels`` (None: ``org``
    itself) from one set of queries: the counts are made per village once and added up
    into the units of each level."""
    computed = compute_many(org, [period], codes, levels)
    return {level: result for (_, level), result in computed.items()}


def compute_many(
    org: str,
    period_codes: Sequence[str],
    codes: Sequence[str] | None,
    levels: Sequence[str | None] = (None,),
) -> dict[tuple[str, str | None], dict | list[dict]]:
    """``compute(org, period, codes, by=level)`` for every period and level, keyed by
    (period code as given, level), from one set of queries.

    A count that two periods share (the population at the end of March is the END of
    202503, of 2025Q1 and the START of 2025Q2) is made once, and the counts of every
    period that read the same table with the same grouping are one scan of it.
    """
    the_periods = {code: parse_period(code) for code in period_codes}
    indicators = select_indicators(codes)
    unit = get_org_unit(org)
    unit_sets = {level: units_below(unit, level) if level else [unit.code] for level in levels}

    # Each count's expression is built once per period: building Ibis expressions costs
    # far more than adding up a few hundred villages.
    counts = list(
        dict.fromkeys(
            count
            for indicator in indicators
            for figure in (indicator.numerator, indicator.denominator)
            if figure is not None
            for count in figure.counts()
        )
    )
    # What the maintained figures hold is read from them; only the rest is counted.
    kept = _kept_counts(counts, the_periods, unit.code, unit_sets)
    tallies = {
        (code, count): count.tally(period)
        for code, period in the_periods.items()
        for count in counts
        if kept is None or (code, count) not in kept[levels[0]]
    }
    # Estimates are not counts: each is made for every unit of a level at once.
    estimates = list(
        dict.fromkeys(
            estimate
            for indicator in indicators
            for figure in (indicator.numerator, indicator.denominator)
            if figure is not None
            for estimate in figure.estimates()
        )
    )
    fetched = _fetch_counts(list(tallies.values()), unit.code)
    out: dict[tuple[str, str | None], dict | list[dict]] = {}
    for level, units in unit_sets.items():
        per_unit = _roll_up(fetched, units)
        for period_code, the_period in the_periods.items():
            per_count: dict[Any, dict[str, Any]] = {
                count: kept[level][period_code, count]
                if (period_code, count) not in tallies
                else per_unit[_tally_id(tallies[period_code, count])]
                for count in counts
            }
            for estimate in estimates:
                per_count[estimate] = estimate.estimator(unit.code, units, the_period)
            results = []
            for code in units:

                def value_of(count: Count | Estimate, code: str = code, per_count=per_count) -> Any:
                    if isinstance(count, Estimate):
                        return per_count[count].get(code)
                    return per_count[count].get(code, {} if count.by is not None else 0)

                results.append(
                    {
                        "org": code,
                        "period": the_period.code,
                        "indicators": [_evaluate(i, the_period, value_of) for i in indicators],
                    }
                )
            out[period_code, level] = results if level else results[0]
    return out


def records_behind(code: str, org: str, period: str, part: str = "numerator") -> list[int]:
    """The ids of the persons behind a figure of ``org`` over ``period``, sorted.

    ``part`` is "numerator" or "denominator". The person is the one each record is
    about: the child for a birth, the deceased for a death, the woman for MWRA and
    contraceptive use, the wife for a marriage (the husband when she is not in the
    register; for a petition indicator, the ids of the cases (``subject_of``). For a
    figure made of several counts (an average population, births
    minus deaths) the persons behind any of them are listed once; for an estimate, the
    records it is estimated from (UNDER_REGISTRATION: the women 15–49 registered at END).
    """
    the_period = parse_period(period)
    (indicator,) = select_indicators([code])
    unit = get_org_unit(org)
    if part not in PARTS:
        raise UserError(f"part must be numerator or denominator, not {part!r}.")
    figure = indicator.numerator if part == "numerator" else indicator.denominator
    if figure is None:
        raise UserError(f"indicator {indicator.code} has no denominator.")
    low, high = prefix_range(unit.code)
    selections = [_person_ids(records, low, high) for records in figure.records(the_period)]
    first, *others = selections
    everyone = first.union(*others, distinct=True) if others else first.distinct()
    return [int(row[0]) for row in fetch(everyone.order_by("person_id"))]


def subject_of(code: str) -> str:
    """What ``records_behind`` lists for an indicator: "person" ids or "case" ids."""
    (indicator,) = select_indicators([code])
    return indicator.numerator.records(parse_period("2000"))[0].subject


# ---------------------------------------------------------------------------
# Checking the request


def parse_period(code: str) -> Period:
    """The period of a DHIS2-style code, or a ``UserError`` saying what is wrong with it."""
    try:
        return periods.parse(code)
    except periods.PeriodError as e:
        raise UserError(str(e)) from None


def parse_periods(values: Iterable[str]) -> list[str]:
    """The period codes of several ``--period`` values (``2025:all`` stands for 19), in
    the order given, each once; a ``UserError`` for a value that is not a period."""
    codes: list[str] = []
    for value in values:
        try:
            codes.extend(periods.expand(value))
        except periods.PeriodError as e:
            raise UserError(str(e)) from None
    return list(dict.fromkeys(codes))


def select_indicators(codes: Iterable[str] | None) -> list[Indicator]:
    """The indicators named by ``codes`` (any case), in the order of docs/indicators.md;
    ``all`` names every one."""
    if codes is None:
        return list(INDICATORS)
    wanted = {code.strip().upper() for code in codes}
    if "ALL" in wanted:
        return list(ALL_INDICATORS)
    unknown = sorted(wanted - INDICATORS_BY_CODE.keys())
    if unknown:
        valid = ", ".join(INDICATORS_BY_CODE)
        names = ", ".join(unknown)
        noun = "indicator" if len(unknown) == 1 else "indicators"
        verb = "is" if len(unknown) == 1 else "are"
        raise UserError(f"{noun} {names} {verb} not known; the valid codes are: {valid}.")
    return [i for i in ALL_INDICATORS if i.code in wanted]


def get_org_unit(code: str) -> OrgUnit:
    """The org unit with this code, or a ``UserError``."""
    unit = OrgUnit.objects.filter(code=code.strip()).first()
    if unit is None:
        raise UserError(f"org unit {code} is not in the register.")
    return unit


def units_below(unit: OrgUnit, level: str) -> list[str]:
    """The codes of the org units of ``level`` inside ``unit``, in code order."""
    length = LENGTH_BY_LEVEL_NAME.get(level)
    if length is None:
        levels = ", ".join(LENGTH_BY_LEVEL_NAME)
        raise UserError(f"level {level!r} is not known; use one of: {levels}.", status=2)
    if length <= len(unit.code):
        raise UserError(
            f"org unit {unit.code} is a {LEVEL_NAMES[unit.level]}: it cannot be broken down "
            f"by {level}; choose a level below it.",
            status=2,
        )
    below = OrgUnit.objects.subtree(unit.code).filter(level=LEVEL_BY_LENGTH[length])
    return list(below.order_by("code").values_list("code", flat=True))


# ---------------------------------------------------------------------------
# Counting


def _kept_counts(
    counts: list[Count],
    the_periods: dict[str, Period],
    org: str,
    unit_sets: dict[str | None, list[str]],
) -> dict[str | None, dict[tuple[str, Count], dict[str, Any]]] | None:
    """The counts the maintained figures (``taizhang.figures``) hold, per level and
    (period code, count), as {unit code: count, or {key: count}}; None when they cannot
    answer for every level (the engine then counts everything from the register's tables)."""
    if _backend.get() is not None or _counting_only.get():
        return None
    from taizhang.figures import measures, store

    requests: dict[tuple[str, Count], store.Request] = {}
    for period_code, period in the_periods.items():
        first = measures.month_of(ymd(period.start))
        last = measures.month_of(ymd(period.end))
        for count in counts:
            if count.kept is None:
                continue
            span = {"period": (first, last), "end": (None, last), "before": (None, first - 1)}
            requests[period_code, count] = store.Request(
                count.kept.measure,
                *span[count.kept.at],
                count.kept.key,
                keyed=count.by is not None,
            )
    if not requests:
        return None
    low, high = prefix_range(org)
    out: dict[str | None, dict[tuple[str, Count], dict[str, Any]]] = {}
    for level, units in unit_sets.items():
        values = store.counts(len(units[0]) if units else len(org), low, high, requests)
        if values is None:
            return None
        out[level] = values
    return out


_counting_only: ContextVar[bool] = ContextVar("indicator_counting_only", default=False)


@contextlib.contextmanager
def counted_from_records():
    """Within the block every figure is counted from the register's tables, none read
    from the maintained figures: the reference the maintained ones are checked against."""
    token = _counting_only.set(True)
    try:
        yield
    finally:
        _counting_only.reset(token)


def _tally_id(tally: Tally) -> tuple:
    """Identity of a count: two figures built alike (e.g. BIRTHS in CBR and in GFR) share it."""
    return (_group_id(tally), frozenset(c.op() for c in tally.records.conditions))


def _group_id(tally: Tally) -> tuple:
    """Counts with the same source, village column and grouping go into one query."""
    records = tally.records
    return (
        records.base.op(),
        records.village,
        tally.by.op() if tally.by is not None else None,
    )


@dataclass
class _Fetched:
    """One query's rows: the tallies it counted (in column order), whether rows carry a
    ``by`` key, and the rows (village[, key], count, count, ...)."""

    ids: list[tuple]
    keyed: bool
    rows: list[tuple]


def _fetch_counts(tallies: list[Tally], org: str) -> list[_Fetched]:
    """Run every count in as few queries as possible, per village of ``org``'s subtree."""
    groups: dict[tuple, dict[tuple, Tally]] = defaultdict(dict)
    for tally in tallies:
        groups[_group_id(tally)].setdefault(_tally_id(tally), tally)

    low, high = prefix_range(org)
    fetched = []
    for members in groups.values():
        every_id = list(members)
        # A query of a few dozen sums: one of hundreds (every period's) is no faster on
        # SQLite and far slower to plan on DuckDB.
        for start in range(0, len(every_id), SUMS_PER_QUERY):
            ids = every_id[start : start + SUMS_PER_QUERY]
            first = members[ids[0]]
            query = _grouped_counts(
                first.records.base,
                first.records.village,
                first.by,
                [members[i].records.conditions for i in ids],
                low,
                high,
            )
            fetched.append(_Fetched(ids, first.by is not None, fetch(query)))
    return fetched


def _roll_up(fetched: list[_Fetched], units: list[str]) -> dict[tuple, dict[str, Any]]:
    """Add the villages' counts up into ``units`` (all of one code length).

    Returns {tally id: {unit code: count, or {key: count} for a tally with ``by``}}.
    """
    unit_length = len(units[0]) if units else 0
    wanted = set(units)
    per_unit: dict[tuple, dict[str, Any]] = {}
    for part in fetched:
        totals: dict[tuple, dict] = {i: {} for i in part.ids}
        for row in part.rows:
            unit = row[0][:unit_length]
            if unit not in wanted:
                continue
            counts = row[2:] if part.keyed else row[1:]
            for tally_id, n in zip(part.ids, counts, strict=True):
                n = int(n or 0)
                if not n:
                    continue
                if part.keyed:
                    key = int(row[1])
                    by_key = totals[tally_id].setdefault(unit, {})
                    by_key[key] = by_key.get(key, 0) + n
                else:
                    totals[tally_id][unit] = totals[tally_id].get(unit, 0) + n
        per_unit.update(totals)
    return per_unit


def _grouped_counts(
    base: ir.Table,
    village_column: str,
    by: ir.Value | None,
    members: list[tuple[ir.BooleanValue, ...]],
    low: str,
    high: str,
) -> ir.Table:
    """One query: per village (and per ``by``), how many rows of ``base`` meet each
    member's conditions.

    Only villages in [low, high) — the org unit's subtree — are read. Conditions
    every member shares filter the rows once; the rest become conditional sums.
    """
    shared_ops = set.intersection(*({c.op() for c in conditions} for conditions in members))
    shared = [c for c in members[0] if c.op() in shared_ops]
    own = [[c for c in conditions if c.op() not in shared_ops] for conditions in members]
    village = base[village_column]
    filters = [*shared, village >= low, village < high]
    if all(own):
        filters.append(ibis.or_(*(ibis.and_(*conditions) for conditions in own)))
    kept = base.filter(*filters)

    keys: dict[str, ir.Value] = {"village": village}
    if by is not None:
        keys["key"] = by
    sums = {
        f"n{i}": ibis.and_(*conditions).ifelse(1, 0).sum() if conditions else kept.count()
        for i, conditions in enumerate(own)
    }
    return kept.group_by(**keys).aggregate(**sums)


def _person_ids(records: Records, low: str, high: str) -> ir.Table:
    base = records.base
    village = base[records.village]
    kept = base.filter(*records.conditions, village >= low, village < high)
    return kept.select(person_id=kept[records.person])


def _evaluate(indicator: Indicator, period: Period, value_of: ValueOf) -> dict:
    numerator = indicator.numerator.evaluate(period, value_of)
    denominator = (
        indicator.denominator.evaluate(period, value_of)
        if indicator.denominator is not None
        else None
    )
    return indicator.result(numerator, denominator)


@dataclass(frozen=True)
class Backend:
    """Where the engine's queries run other than Django's connection: the Ibis/sqlglot
    ``dialect`` to compile to and ``execute`` to run the SQL and return its rows (e.g.
    DuckDB over an extract of the register, ``taizhang.indicators.backends``)."""

    dialect: str
    execute: Callable[[str], list[tuple]]


_backend: ContextVar[Backend | None] = ContextVar("indicator_backend", default=None)


@contextlib.contextmanager
def running_on(backend: Backend):
    """Within the block, compute (and ``records_behind``) on ``backend``: the same
    expressions, compiled to its dialect."""
    token = _backend.set(backend)
    try:
        yield
    finally:
        _backend.reset(token)


def dialect() -> str:
    """The Ibis/sqlglot dialect of the engine's database (Django's connection by default)."""
    backend = _backend.get()
    if backend is not None:
        return backend.dialect
    try:
        return DIALECTS[connection.vendor]
    except KeyError:
        raise UserError(
            f"indicators are computed on SQLite or PostgreSQL, not on {connection.vendor}"
        ) from None


def to_sql(expr: ir.Table) -> str:
    """The SQL of an expression in the dialect of the engine's database."""
    return str(ibis.to_sql(expr, dialect=dialect()))


def fetch(expr: ir.Table) -> list[tuple]:
    """The rows of an expression, run on the engine's database (Django's connection, so
    it sees the caller's transaction, unless ``running_on`` says otherwise)."""
    backend = _backend.get()
    if backend is not None:
        return backend.execute(to_sql(expr))
    with connection.cursor() as cursor:
        # No parameters: Ibis inlines the literals (dates as integers, codes checked
        # against the org-unit table), and without them neither driver rewrites '%'.
        cursor.execute(to_sql(expr))
        return cursor.fetchall()
