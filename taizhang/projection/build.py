"""Projections as the command and the web page show them: scenarios side by side.

A scenario changes the measured inputs in one way: fertility at another level (the
measured rates times a factor, or scaled to a target total fertility) or no migration.
The default set is ``medium`` (everything as measured), ``low`` and ``high`` (measured
fertility × 0.8 and × 1.2) and ``zero-migration``. Every scenario of every org unit is
projected in one call of the engine.

Per year the result has the population at the end of the year (``total``), the births,
deaths and net migrants in the year (``total`` = last year's + births − deaths +
``net_migration``), women 15–49 and women 20–29 at the end of the year, and
``women_20_29_share``: women 20–29 as a percentage of women 15–49.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from django.utils.translation import gettext as _

from taizhang.errors import UserError
from taizhang.projection import engine
from taizhang.projection.register import UnitInputs, register_inputs

MAX_YEARS = 100
DECIMALS = 1


@dataclass(frozen=True)
class Scenario:
    """How a scenario departs from the measured inputs."""

    name: str
    fertility_factor: float | None = None
    target_tfr: float | None = None
    migration: bool = True

    def describe(self) -> str:
        if self.target_tfr is not None:
            fertility = _(
                "fertility at a total of %(tfr)s children per woman (age pattern as measured)"
            ) % {"tfr": f"{self.target_tfr:g}"}
        elif self.fertility_factor not in (None, 1.0):
            fertility = _("fertility × %(factor)s of the measured rates") % {
                "factor": f"{self.fertility_factor:g}"
            }
        else:
            fertility = _("fertility as measured")
        migration = _("migration as measured") if self.migration else _("no migration")
        return _(
            "Scenario %(name)s: %(fertility)s; mortality and the sex ratio at birth as above; "
            "%(migration)s."
        ) % {
            "name": self.name,
            "fertility": fertility,
            "migration": migration,
        }


SCENARIO_NAMES = ("medium", "low", "high", "zero-migration")


def scenarios(
    names: list[str] | None = None,
    *,
    low: float = 0.8,
    high: float = 1.2,
    low_tfr: float | None = None,
    high_tfr: float | None = None,
) -> list[Scenario]:
    """The scenarios called ``names`` (all four with "all"; ``medium`` if none), in the
    order given."""
    for value, option in ((low, "low"), (high, "high")):
        if not 0 <= value <= 10:
            raise UserError(
                _("the %(option)s fertility factor must lie between 0 and 10, not %(value)s.")
                % {"option": option, "value": value}
            )
    for value, option in ((low_tfr, "low"), (high_tfr, "high")):
        if value is not None and not 0 <= value <= 10:
            raise UserError(
                _("the %(option)s scenario's TFR must lie between 0 and 10, not %(value)s.")
                % {"option": option, "value": value}
            )
    known = {
        "medium": Scenario("medium"),
        "low": Scenario(
            "low", fertility_factor=None if low_tfr is not None else low, target_tfr=low_tfr
        ),
        "high": Scenario(
            "high", fertility_factor=None if high_tfr is not None else high, target_tfr=high_tfr
        ),
        "zero-migration": Scenario("zero-migration", migration=False),
    }
    chosen: list[str] = []
    for name in names or ["medium"]:
        name = name.strip().lower()
        wanted = SCENARIO_NAMES if name == "all" else [name]
        for one in wanted:
            if one not in known:
                raise UserError(
                    _("scenario %(name)s is not known; use %(names)s or all.")
                    % {"name": name, "names": ", ".join(SCENARIO_NAMES)}
                )
            if one not in chosen:
                chosen.append(one)
    return [known[name] for name in chosen]


def scenario_inputs(unit: UnitInputs, scenario: Scenario, years: int) -> engine.Inputs:
    inputs = unit.inputs
    asfr = engine.scaled_fertility(
        inputs.asfr, inputs.step, factor=scenario.fertility_factor, target=scenario.target_tfr
    )
    inputs = replace(inputs.with_asfr(asfr), steps=years)
    return inputs if scenario.migration else inputs.without_migration()


def stack(units: list[UnitInputs], chosen: list[Scenario], years: int) -> engine.Inputs:
    """One set of inputs with a leading axis of (unit, scenario) pairs, in that order."""
    parts = [scenario_inputs(u, s, years) for u in units for s in chosen]
    first = parts[0]

    def along(get) -> np.ndarray:
        return np.stack([np.asarray(get(p), dtype=float) for p in parts])

    return engine.Inputs(
        base_year=first.base_year,
        step=first.step,
        ages=first.ages,
        female=engine.SexInputs(
            population=along(lambda p: p.female.population),
            L=along(lambda p: p.female.L),
            net_migration=along(lambda p: p.female.net_migration),
        ),
        male=engine.SexInputs(
            population=along(lambda p: p.male.population),
            L=along(lambda p: p.male.L),
            net_migration=along(lambda p: p.male.net_migration),
        ),
        asfr=along(lambda p: p.asfr),
        srb=along(lambda p: p.srb),
        radix=first.radix,
        steps=years,
    )


def _women(population: np.ndarray, ages: np.ndarray, low: int, high: int) -> np.ndarray:
    """Women aged low..high (single-year groups) in each row of ``population``."""
    keep = (ages >= low) & (ages <= high)
    return population[..., keep].sum(axis=-1)


def _round(values: np.ndarray) -> list[float]:
    return [round(float(v), DECIMALS) for v in values]


def _year_rows(
    years: np.ndarray,
    ages: np.ndarray,
    female: np.ndarray,
    male: np.ndarray,
    flows: engine.Projection | None,
    by_age: bool,
) -> list[dict]:
    """One dict per year; ``female``/``male`` (Y, A); the births, deaths and net migrants
    of each year from ``flows`` (None for the base year)."""
    total = female.sum(axis=-1) + male.sum(axis=-1)
    w15 = _women(female, ages, 15, 49)
    w20 = _women(female, ages, 20, 29)
    share = np.divide(100 * w20, w15, out=np.zeros_like(w20), where=w15 > 0)
    rows = []
    for k, year in enumerate(years):
        row: dict = {"year": int(year), "total": round(float(total[k]), DECIMALS)}
        if flows is not None:
            row["births"] = round(float(flows.births[k]), DECIMALS)
            row["deaths"] = round(float(flows.deaths[k]), DECIMALS)
            row["net_migration"] = round(float(flows.migrants[k]), DECIMALS)
        row |= {
            "women_15_49": round(float(w15[k]), DECIMALS),
            "women_20_29": round(float(w20[k]), DECIMALS),
            "women_20_29_share": round(float(share[k]), 2),
        }
        if by_age:
            row["female"] = _round(female[k])
            row["male"] = _round(male[k])
        rows.append(row)
    return rows


def project_units(
    units: list[UnitInputs], chosen: list[Scenario], years: int
) -> dict[tuple[str, str], engine.Projection]:
    """Every scenario of every unit projected ``years`` years, in one call of the engine."""
    if not 1 <= years <= MAX_YEARS:
        raise UserError(
            _("years must lie between 1 and %(max)s, not %(years)s.")
            % {"max": MAX_YEARS, "years": years}
        )
    result = engine.project(stack(units, chosen, years))
    out = {}
    i = 0
    for unit in units:
        for scenario in chosen:
            out[(unit.code, scenario.name)] = engine.Projection(
                years=result.years,
                ages=result.ages,
                female=result.female[i],
                male=result.male[i],
                births_female=result.births_female[i],
                births_male=result.births_male[i],
                births_by_mother_age=result.births_by_mother_age[i],
                deaths_female=result.deaths_female[i],
                deaths_male=result.deaths_male[i],
                migrants_female=result.migrants_female[i],
                migrants_male=result.migrants_male[i],
            )
            i += 1
    return out


def _intrinsic_rate(inputs: engine.Inputs) -> float:
    matrix = engine.leslie_matrix(
        inputs.female.L, inputs.asfr, float(inputs.srb), inputs.radix, inputs.step
    )
    return engine.stable_growth(matrix, inputs.step).rate


def unit_report(
    unit: UnitInputs,
    chosen: list[Scenario],
    projections: dict[tuple[str, str], engine.Projection],
    *,
    by_age: bool = False,
) -> dict:
    """The JSON of one org unit: its base, its assumptions and each scenario's years."""
    inputs = unit.inputs
    ages = inputs.ages
    (base,) = _year_rows(
        np.array([inputs.base_year]),
        ages,
        inputs.female.population[None, :],
        inputs.male.population[None, :],
        None,
        by_age,
    )
    out_scenarios = []
    for scenario in chosen:
        p = projections[(unit.code, scenario.name)]
        out_scenarios.append(
            {
                "name": scenario.name,
                "tfr": round(
                    float(engine.total_fertility(scenario_inputs(unit, scenario, 1).asfr, 1)), 3
                ),
                "migration": scenario.migration,
                "years": _year_rows(p.years, ages, p.female, p.male, p, by_age),
            }
        )
    report = {
        "org": unit.code,
        "org_name": unit.name,
        "base_year": inputs.base_year,
        "step": inputs.step,
        "open_age": int(ages[-1]),
        "measured": {
            "tfr": round(unit.tfr, 3),
            "srb": round(unit.srb * 100, 1),
            "e0_female": round(unit.e0["F"], 2),
            "e0_male": round(unit.e0["M"], 2),
            "net_migration_per_year": round(unit.net_migration, 1),
            # The Leslie matrix of the measured rates (women, no migration): the growth
            # rate per year a population would settle at if they held for ever.
            "intrinsic_growth_rate": round(_intrinsic_rate(inputs), 5),
        },
        "basis": unit.basis,
        "assumptions": unit.assumptions + [s.describe() for s in chosen],
        "base": base,
        "years": out_scenarios[0]["years"],
        "scenarios": out_scenarios,
    }
    if by_age:
        report["ages"] = [int(a) for a in ages]
    return report


def build_projection(
    org: str,
    base_year: int,
    years: int,
    chosen: list[Scenario],
    *,
    open_age: int = 85,
    by_age: bool = False,
) -> dict:
    """The projection of ``org`` from the register (the ``taizhang project`` JSON): the
    first scenario's years at the top, every scenario under ``scenarios``."""
    org = org.strip()
    unit = register_inputs([org], base_year, open_age=open_age)[org]
    projections = project_units([unit], chosen, years)
    return unit_report(unit, chosen, projections, by_age=by_age)
