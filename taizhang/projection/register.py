"""What the register says about an org unit's population: the projection's inputs.

Everything is counted set-based, by village, in a handful of queries compiled by Ibis
(over the tables of ``taizhang.indicators.tables``) to the dialect of Django's
connection, then added up into the org units asked for. For a base year Y:

- **base population** by sex and single year of age: residents at the end of
  31 December Y, age in completed years that day;
- **exposure**: person-years lived by sex and single year of age over the three years
  Y−2..Y (each residence spell cut at the window's ends and at the person's
  birthdays; days ÷ 365.25);
- **deaths** in those years by sex and age at death;
- **births** in those years by the mother's age at the birth and the child's sex,
  counted where the mother lived;
- **moves** in and out of the org unit in those years by sex and age at the move
  (``moves_in``/``moves_out`` of the indicator definitions: a move between two
  villages of one township is not a move of the township).

``derive`` turns them into the engine's inputs with every choice it made stated in
words (``assumptions``) and as codes (``basis``). Its rules for small numbers:

- mortality: a unit with at least ``OWN_TABLE_DEATHS`` deaths of a sex has its own
  graduated life table; a smaller unit has its county's table, at its own level
  (observed ÷ expected deaths) when it has at least ``SCALE_DEATHS`` deaths, else
  unchanged; a county with too few deaths has a model table (Brass logit, its level
  fitted to the deaths when there are at least ``SCALE_DEATHS``);
- fertility: single-year rates with at least ``OWN_SCHEDULE_BIRTHS`` births; below
  that a unit has its county's age pattern at its own level (observed ÷ expected
  births, with at least ``SCALE_BIRTHS`` births; else unchanged), and a county its own
  rates pooled in five-year age groups;
- sex ratio at birth: measured with at least ``OWN_SRB_BIRTHS`` births; else the
  county's; a county with too few births takes its ratio bounded to the national range
  1.05–1.12;
- net migration: the yearly average of moves in minus moves out, by sex and age.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import numpy as np
from django.utils.translation import gettext as _

from taizhang import clock
from taizhang.errors import UserError
from taizhang.indicators.definitions import moves_in, moves_out
from taizhang.indicators.engine import fetch
from taizhang.indicators.tables import birth_facts, residence_spells
from taizhang.lib.periods import Period, ymd
from taizhang.orgunits.models import OrgUnit, prefix_range
from taizhang.projection import lifetable
from taizhang.projection.engine import Inputs, SexInputs

CAP = lifetable.MAX_AGE  # ages above are counted at CAP
WINDOW_YEARS = 3
DAYS_PER_YEAR = 365.25
SEXES = ("F", "M")
OPEN_AGES = (85, 100)
RADIX = lifetable.RADIX

OWN_TABLE_DEATHS = 500
SCALE_DEATHS = 20
OWN_SCHEDULE_BIRTHS = 500
SCALE_BIRTHS = 20
OWN_SRB_BIRTHS = 1000
SRB_RANGE = (1.05, 1.12)
COUNTY_LENGTH = 6
MIN_BASE_YEAR = 1950


@dataclass
class Measures:
    """The register's counts for one org unit; arrays are (sex F/M, age 0..CAP), births
    (child's sex, mother's age)."""

    code: str
    base_year: int
    population: np.ndarray
    exposure: np.ndarray
    deaths: np.ndarray
    births: np.ndarray
    moves_in: np.ndarray
    moves_out: np.ndarray

    @property
    def first_year(self) -> int:
        return self.base_year - WINDOW_YEARS + 1

    def asfr(self) -> np.ndarray:
        """Births per woman-year by single year of the mother's age (0 without women)."""
        women = self.exposure[0]
        born = self.births.sum(axis=0)
        return np.divide(born, women, out=np.zeros_like(born), where=women > 0)


@dataclass
class UnitInputs:
    """The engine's inputs for one org unit and how they were arrived at."""

    code: str
    name: str
    inputs: Inputs
    measures: Measures
    assumptions: list[str] = field(default_factory=list)
    basis: dict = field(default_factory=dict)
    tfr: float = 0.0
    e0: dict = field(default_factory=dict)
    srb: float = 0.0
    net_migration: float = 0.0
    tables: dict = field(default_factory=dict)  # sex -> LifeTable


def reference_of(code: str) -> str:
    """The org unit whose rates stand in for a smaller unit's: its county (or itself)."""
    return code[:COUNTY_LENGTH] if len(code) > COUNTY_LENGTH else code


def check_base_year(base_year: int, today: dt.date | None = None) -> None:
    today = today or clock.today()
    if base_year >= today.year:
        raise UserError(
            _(
                "base year %(year)s has not ended yet (today is %(today)s): the base "
                "population is counted at the end of a complete year; choose %(last)s or "
                "earlier."
            )
            % {"year": base_year, "today": today.isoformat(), "last": today.year - 1}
        )
    if base_year < MIN_BASE_YEAR:
        raise UserError(_("base year %(year)s is not a plausible year.") % {"year": base_year})


# ---------------------------------------------------------------------------
# Counting


def _age(later: ir.IntegerValue, birth: ir.IntegerValue) -> ir.IntegerValue:
    """Completed years on ``later`` (ymd) of someone born on ``birth``, at most CAP."""
    return ibis.least((later - birth) // 10000, CAP)


def _window(base_year: int) -> Period:
    first = dt.date(base_year - WINDOW_YEARS + 1, 1, 1)
    last = dt.date(base_year, 12, 31)
    return Period(code=f"{first.year}-{last.year}", kind="years", start=first, end=last)


def _leap(year: ir.IntegerValue) -> ir.IntegerValue:
    """1 for a leap year of 1901–2099 (every fourth), else 0."""
    return (year % 4 == 0).ifelse(1, 0)


def _days_before(year: ir.IntegerValue) -> ir.IntegerValue:
    """Days from a fixed origin to 1 January of ``year`` (1901–2099)."""
    return 365 * year + (year - 1) // 4


def _days_into_year(month: ir.IntegerValue, day: ir.IntegerValue) -> ir.IntegerValue:
    """Days from 1 January to (month, day) of a common year, plus one; a leap year adds
    ``_leap`` from March on."""
    return (367 * month - 362) // 12 - (month > 2).ifelse(2, 0) + day


def _day_count(day: ir.IntegerValue) -> ir.IntegerValue:
    """Days since a fixed origin of a ``YYYYMMDD`` integer of the years 1901–2099, in a
    few integer operations (only differences are used). A 29 February of a common year
    (a birthday) counts as 1 March, as ``age_on`` has it."""
    year, month = day // 10000, day // 100 % 100
    leap_day = (month > 2).ifelse(_leap(year), 0)
    return _days_before(year) + _days_into_year(month, day % 100) + leap_day


def _population_query(low: str, high: str, day: int) -> ir.Table:
    r = residence_spells
    kept = r.filter(r.village >= low, r.village < high, r.start <= day, r.end > day)
    return kept.group_by(village=kept.village, sex=kept.sex, age=_age(day, kept.birth)).aggregate(
        n=kept.count()
    )


def _exposure_query(low: str, high: str, window: Period) -> ir.Table:
    """Days lived by village, sex and age in the window, as one row per village, sex and
    ``age`` (the age on the spell's first day in the window) with the days lived at that
    age and at each of the next WINDOW_YEARS ages (``n0``, ``n1``, …): each residence
    spell cut at the window's ends and at the person's birthdays."""
    r = residence_spells
    first, after = ymd(window.start), ymd(window.end + dt.timedelta(days=1))
    spells = r.filter(r.village >= low, r.village < high, r.start < after, r.end > first)
    s0 = ibis.greatest(spells.start, first)
    # Never negative (a spell starts at birth at the earliest), so integer division
    # truncates and floors alike on every engine.
    age = (s0 - spells.birth) // 10000
    month = spells.birth // 100 % 100
    # ``distinct`` (a no-op: ``id`` is unique) makes the database compute these once per
    # spell, rather than again inside every expression that uses them.
    per_spell = spells.select(
        id=spells.id,
        village=spells.village,
        sex=spells.sex,
        age=age,
        d0=_day_count(s0),
        d1=_day_count(ibis.least(spells.end, after)),
        year=spells.birth // 10000 + age,  # the year of the birthday that began ``age``
        into=_days_into_year(month, spells.birth % 100),
        late=(month > 2).ifelse(1, 0),  # born after February: leap days count
    ).distinct()
    p = per_spell

    def birthday(k: int) -> ir.IntegerValue:
        """The day count of the birthday that ends the age ``age + k - 1``."""
        year = p.year + k
        return _days_before(year) + p.into + p.late * _leap(year)

    ends = [birthday(k) for k in range(1, WINDOW_YEARS + 2)]
    lived = {"n0": ibis.least(p.d1, ends[0]) - p.d0}
    for k in range(1, WINDOW_YEARS + 1):
        lived[f"n{k}"] = ibis.greatest(ibis.least(p.d1, ends[k]) - ends[k - 1], 0)
    return p.group_by("village", "sex", "age").aggregate(
        **{name: value.sum() for name, value in lived.items()}
    )


def _deaths_query(low: str, high: str, window: Period) -> ir.Table:
    r = residence_spells
    kept = r.filter(
        r.village >= low,
        r.village < high,
        r.end_reason == "death",
        r.end.between(ymd(window.start), ymd(window.end)),
    )
    return kept.group_by(
        village=kept.village, sex=kept.sex, age=_age(kept.end, kept.birth)
    ).aggregate(n=kept.count())


def _births_query(low: str, high: str, window: Period) -> ir.Table:
    b = birth_facts
    kept = b.filter(
        b.village >= low, b.village < high, b.date.between(ymd(window.start), ymd(window.end))
    )
    return kept.group_by(
        village=kept.village, sex=kept.sex, age=ibis.least(kept.mother_age, CAP)
    ).aggregate(n=kept.count())


def _moves_query(low: str, high: str, window: Period, length: int, into: bool) -> ir.Table:
    records = moves_in(window, length) if into else moves_out(window, length)
    base = records.base
    kept = base.filter(*records.conditions, base.village >= low, base.village < high)
    day = kept.start if into else kept.end
    return kept.group_by(village=kept.village, sex=kept.sex, age=_age(day, kept.birth)).aggregate(
        n=kept.count()
    )


def _add_up(rows: list[tuple], units: dict[str, int], lengths: set[int], out: np.ndarray) -> None:
    """Add rows (village, sex, age, n) into ``out`` (unit, sex, age) for every wanted
    unit holding the village."""
    for village, sex, age, n in rows:
        if not village or sex not in SEXES:
            continue
        for length in lengths:
            i = units.get(village[:length])
            if i is not None:
                out[i, SEXES.index(sex), int(age)] += float(n)


def measure(codes: list[str], base_year: int) -> dict[str, Measures]:
    """The register's counts for each org unit of ``codes`` (see the module docstring)."""
    if not codes:
        return {}
    common = codes[0]
    for code in codes[1:]:
        while not code.startswith(common):
            common = common[:-1]
    if not common:
        raise UserError(_("the org units to project must lie in one tree."))
    low, high = prefix_range(common)
    units = {code: i for i, code in enumerate(codes)}
    lengths = {len(code) for code in codes}
    window = _window(base_year)
    shape = (len(codes), 2, CAP + 1)

    population = np.zeros(shape)
    _add_up(
        fetch(_population_query(low, high, ymd(dt.date(base_year, 12, 31)))),
        units,
        lengths,
        population,
    )
    exposure = np.zeros(shape)
    lived = [
        (village, sex, min(int(age) + k, CAP), days)
        for village, sex, age, *by_age in fetch(_exposure_query(low, high, window))
        for k, days in enumerate(by_age)
        if days
    ]
    _add_up(lived, units, lengths, exposure)
    exposure /= DAYS_PER_YEAR
    deaths = np.zeros(shape)
    _add_up(fetch(_deaths_query(low, high, window)), units, lengths, deaths)
    births = np.zeros(shape)
    _add_up(fetch(_births_query(low, high, window)), units, lengths, births)
    arrived = np.zeros(shape)
    left = np.zeros(shape)
    for length in lengths:
        # A move counts for the units of one level: those its code length names.
        same = {code: i for code, i in units.items() if len(code) == length}
        _add_up(fetch(_moves_query(low, high, window, length, True)), same, {length}, arrived)
        _add_up(fetch(_moves_query(low, high, window, length, False)), same, {length}, left)

    return {
        code: Measures(
            code=code,
            base_year=base_year,
            population=population[i],
            exposure=exposure[i],
            deaths=deaths[i],
            births=births[i],
            moves_in=arrived[i],
            moves_out=left[i],
        )
        for code, i in units.items()
    }


# ---------------------------------------------------------------------------
# From counts to inputs


def _group(values: np.ndarray, open_age: int) -> np.ndarray:
    """Single years 0..CAP into 0..open_age−1 and the open group open_age+."""
    return np.concatenate(
        [values[..., :open_age], values[..., open_age:].sum(axis=-1, keepdims=True)], axis=-1
    )


def _years(m: Measures) -> str:
    return f"{m.first_year}–{m.base_year}"


def _sex_name(sex: str) -> str:
    return _("women") if sex == "F" else _("men")


def _mortality(m: Measures, sex: str, reference: UnitInputs | None) -> tuple[np.ndarray, str, str]:
    """(single-year rates, basis code, the assumption in words) for one sex."""
    i = SEXES.index(sex)
    deaths, exposure = m.deaths[i], m.exposure[i]
    total = float(deaths.sum())
    facts = {"sex": _sex_name(sex), "n": int(total), "years": _years(m), "code": m.code}
    if total >= OWN_TABLE_DEATHS:
        rates = lifetable.graduate(deaths, exposure)
        if rates is not None:
            return (
                rates,
                "own",
                _(
                    "Mortality of %(sex)s: a life table of %(code)s's own %(n)s registered "
                    "deaths in %(years)s, graduated (age 0 as measured; ages 1–39 pooled in "
                    "age groups; from 40 a Gompertz curve fitted by maximum likelihood)."
                )
                % facts,
            )
    if reference is not None:
        standard = reference.tables[sex].m
        if total >= SCALE_DEATHS:
            rates, ratio = lifetable.scaled(standard, total, exposure)
            facts |= {"ref": reference.code, "ratio": f"{ratio:.2f}", "min": OWN_TABLE_DEATHS}
            return (
                rates,
                "reference_scaled",
                _(
                    "Mortality of %(sex)s: %(n)s registered deaths in %(years)s are too few "
                    "for a life table of their own (fewer than %(min)s); the life table of "
                    "%(ref)s is used at %(code)s's level: its rates × %(ratio)s (observed ÷ "
                    "expected deaths)."
                )
                % facts,
            )
        facts |= {"ref": reference.code, "min": SCALE_DEATHS}
        return (
            standard,
            "reference",
            _(
                "Mortality of %(sex)s: only %(n)s registered deaths in %(years)s (fewer than "
                "%(min)s) cannot measure %(code)s's level; the life table of %(ref)s is used "
                "unchanged."
            )
            % facts,
        )
    model = lifetable.life_table(lifetable.model_rates(sex), sex)
    facts |= {"e0": f"{model.e0:.1f}", "min": OWN_TABLE_DEATHS}
    if total >= SCALE_DEATHS:
        rates, alpha = lifetable.fit_brass_alpha(model, total, exposure, sex)
        facts["alpha"] = f"{alpha:.3f}"
        return (
            rates,
            "model_brass",
            _(
                "Mortality of %(sex)s: %(n)s registered deaths in %(years)s are too few for a "
                "life table of their own (fewer than %(min)s); a Brass logit model on the "
                "model life table (Gompertz–Makeham, e0 %(e0)s years) is used, its level α = "
                "%(alpha)s fitted to the registered deaths."
            )
            % facts,
        )
    facts["min_scale"] = SCALE_DEATHS
    return (
        model.m,
        "model",
        _(
            "Mortality of %(sex)s: only %(n)s registered deaths in %(years)s (fewer than "
            "%(min_scale)s) cannot measure mortality; the model life table (Gompertz–Makeham, "
            "e0 %(e0)s years) is used as it is — not a figure of this county."
        )
        % facts,
    )


def _fertility(m: Measures, reference: UnitInputs | None) -> tuple[np.ndarray, str, str]:
    """(single-year ASFR 0..CAP, basis code, the assumption in words)."""
    born = m.births.sum(axis=0)
    total = float(born.sum())
    women = m.exposure[0]
    facts = {"n": int(total), "years": _years(m), "code": m.code}
    if total >= OWN_SCHEDULE_BIRTHS:
        return (
            m.asfr(),
            "own",
            _(
                "Fertility: %(code)s's own rates by single year of the mother's age, %(n)s "
                "registered births in %(years)s ÷ the woman-years lived at each age."
            )
            % facts,
        )
    if reference is not None:
        pattern = reference.tables["asfr"]
        expected = float((pattern * women).sum())
        facts |= {"ref": reference.code, "min": OWN_SCHEDULE_BIRTHS}
        if total >= SCALE_BIRTHS and expected > 0:
            ratio = total / expected
            facts["ratio"] = f"{ratio:.2f}"
            return (
                pattern * ratio,
                "reference_scaled",
                _(
                    "Fertility: %(n)s registered births in %(years)s are too few for rates "
                    "by single year of age (fewer than %(min)s); the age pattern of %(ref)s is "
                    "used at %(code)s's level: its rates × %(ratio)s (observed ÷ expected "
                    "births)."
                )
                % facts,
            )
        facts["min"] = SCALE_BIRTHS
        return (
            pattern.copy(),
            "reference",
            _(
                "Fertility: only %(n)s registered births in %(years)s (fewer than %(min)s) "
                "cannot measure %(code)s's level; the rates of %(ref)s are used unchanged."
            )
            % facts,
        )
    # A county with few births: its own rates, pooled over five-year age groups.
    rates = np.zeros(CAP + 1)
    for low in range(0, CAP + 1, 5):
        years = slice(low, low + 5)
        exposure = women[years].sum()
        if exposure > 0:
            rates[years] = born[years].sum() / exposure
    facts["min"] = OWN_SCHEDULE_BIRTHS
    return (
        rates,
        "own_grouped",
        _(
            "Fertility: %(n)s registered births in %(years)s are too few for rates by single "
            "year of age (fewer than %(min)s); %(code)s's own rates in five-year age groups "
            "are used for each year of the group."
        )
        % facts,
    )


def _sex_ratio(m: Measures, reference: UnitInputs | None) -> tuple[float, str, str]:
    girls, boys = (float(x) for x in m.births.sum(axis=1))
    total = girls + boys
    facts = {"n": int(total), "years": _years(m), "code": m.code, "min": OWN_SRB_BIRTHS}
    if total >= OWN_SRB_BIRTHS and girls > 0:
        srb = boys / girls
        facts |= {"srb": f"{100 * srb:.1f}", "boys": int(boys), "girls": int(girls)}
        return (
            srb,
            "own",
            _(
                "Sex ratio at birth %(srb)s boys per 100 girls: %(code)s's %(boys)s boys and "
                "%(girls)s girls registered in %(years)s."
            )
            % facts,
        )
    if reference is not None:
        facts |= {"ref": reference.code, "srb": f"{100 * reference.srb:.1f}"}
        return (
            reference.srb,
            "reference",
            _(
                "Sex ratio at birth %(srb)s boys per 100 girls, that of %(ref)s: %(n)s "
                "registered births in %(years)s are too few to measure %(code)s's own (fewer "
                "than %(min)s)."
            )
            % facts,
        )
    low, high = SRB_RANGE
    observed = boys / girls if girls > 0 else (high if boys > 0 else (low + high) / 2)
    srb = min(max(observed, low), high)
    facts |= {"srb": f"{100 * srb:.1f}", "low": f"{100 * low:.0f}", "high": f"{100 * high:.0f}"}
    return (
        srb,
        "national_range",
        _(
            "Sex ratio at birth %(srb)s boys per 100 girls: %(n)s registered births in "
            "%(years)s are too few to measure it (fewer than %(min)s); the ratio they show is "
            "kept within the national range %(low)s–%(high)s."
        )
        % facts,
    )


def derive(m: Measures, name: str, reference: UnitInputs | None, *, open_age: int) -> UnitInputs:
    """The engine's inputs for one org unit from its counts (single-year steps, ages 0
    to ``open_age``+), with ``reference`` (its county's) standing in where its own
    numbers are too few; None for the county itself."""
    if open_age not in OPEN_AGES:
        raise UserError(
            _("the open age group starts at 85 or 100, not %(age)s.") % {"age": open_age}
        )
    assumptions = [
        _(
            "Base population: the residents of %(code)s at the end of 31 December %(year)s by "
            "sex and single year of age (completed years), the last group %(open)s and over."
        )
        % {"code": m.code, "year": m.base_year, "open": open_age},
        _(
            "Rates are measured over the %(k)s years %(years)s: events ÷ person-years lived "
            "in them (residence spells cut at each birthday)."
        )
        % {"k": WINDOW_YEARS, "years": _years(m)},
    ]
    basis: dict = {"open_age": open_age, "window": [m.first_year, m.base_year]}

    tables = {}
    L = {}
    for sex in SEXES:
        rates, code, text = _mortality(m, sex, reference)
        table = lifetable.life_table(rates, sex, RADIX)
        tables[sex] = table
        L[sex] = table.grouped_L(1, open_age)
        basis[f"mortality_{sex}"] = code
        assumptions.append(text + " " + _("e0 = %(e0)s years.") % {"e0": f"{table.e0:.1f}"})

    asfr_full, code, text = _fertility(m, reference)
    tables["asfr"] = asfr_full
    basis["fertility"] = code
    tfr = float(asfr_full.sum())
    assumptions.append(text + " " + _("TFR = %(tfr)s.") % {"tfr": f"{tfr:.2f}"})

    srb, code, text = _sex_ratio(m, reference)
    basis["srb"] = code
    assumptions.append(text)

    net = (m.moves_in - m.moves_out) / WINDOW_YEARS
    assumptions.append(
        _(
            "Net migration: the yearly average of moves into %(code)s (%(into)s) minus moves "
            "out of it (%(away)s) in %(years)s, by sex and age at the move: %(net)s a year; "
            "half of a year's migrants are taken to arrive at its start, half at its end."
        )
        % {
            "code": m.code,
            "into": int(m.moves_in.sum()),
            "away": int(m.moves_out.sum()),
            "years": _years(m),
            "net": f"{net.sum():+.1f}",
        }
    )
    basis["migration"] = "own"

    # Births to mothers of the open group and above are counted at the open group's rate.
    asfr = _group(asfr_full, open_age)
    asfr[-1] = asfr_full[open_age]
    inputs = Inputs(
        base_year=m.base_year,
        step=1,
        ages=np.arange(open_age + 1),
        female=SexInputs(
            population=_group(m.population[0], open_age),
            L=L["F"],
            net_migration=_group(net[0], open_age),
        ),
        male=SexInputs(
            population=_group(m.population[1], open_age),
            L=L["M"],
            net_migration=_group(net[1], open_age),
        ),
        asfr=asfr,
        srb=srb,
        radix=RADIX,
        steps=1,
    )
    return UnitInputs(
        code=m.code,
        name=name,
        inputs=inputs,
        measures=m,
        assumptions=assumptions,
        basis=basis,
        tfr=tfr,
        e0={sex: tables[sex].e0 for sex in SEXES},
        srb=srb,
        net_migration=float(net.sum()),
        tables=tables,
    )


def register_inputs(
    codes: list[str], base_year: int, *, open_age: int = 85
) -> dict[str, UnitInputs]:
    """The inputs of each org unit of ``codes`` (in that order), measured from the
    register; the counties the smaller units lean on are measured with them."""
    check_base_year(base_year)
    names = dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "name"))
    unknown = [code for code in codes if code not in names]
    if unknown:
        raise UserError(_("org unit %(code)s is not in the register.") % {"code": unknown[0]})
    references = [reference_of(code) for code in codes]
    names |= dict(OrgUnit.objects.filter(code__in=references).values_list("code", "name"))
    # A smaller unit whose county is not in the register leans on nothing.
    wanted = list(dict.fromkeys([r for r in references if r in names] + list(codes)))
    measured = measure(wanted, base_year)
    for code in codes:
        if measured[code].population.sum() == 0:
            raise UserError(
                _("org unit %(code)s had no residents at the end of %(year)s: nothing to project.")
                % {"code": code, "year": base_year}
            )
    derived: dict[str, UnitInputs] = {}
    for code in wanted:
        reference = reference_of(code)
        leaning = derived.get(reference) if reference != code else None
        if reference != code and reference in measured and leaning is None:
            leaning = derive(measured[reference], names[reference], None, open_age=open_age)
            derived[reference] = leaning
        if code not in derived:
            derived[code] = derive(measured[code], names[code], leaning, open_age=open_age)
    return {code: derived[code] for code in codes}
