"""The cohort-component projection of a population by sex and age, in plain NumPy.

The method is the one of Preston, Heuveline & Guillot, *Demography: Measuring and
Modeling Population Processes* (Blackwell, 2001), chapter 6, for steps of ``n`` = 1 or
5 years and age groups of the same width, the last one open:

- half of a step's net migrants join at its start and are survived with the
  residents, the other half join at its end;
- a group survives into the next by the survival ratio nL(x+n)/nLx; the last two
  groups (A−n and the open group A+) together survive into A+ by T_A/T_(A−n);
- births in the step = n × Σ asfr_x × (women_x at the start, with half the
  migrants, + women_x at the end) / 2, split into girls and boys by the sex ratio
  at birth (boys per girl);
- the new first group of each sex = its births × L_0/(n × radix) + half its migrants.

Out-migrants cannot outnumber the people there to leave: a group that net migration
would take below zero is set to zero, and the migrants of the step are those who could
move, so that every step balances: end = start + births − deaths + migrants.

Every array may carry leading batch dimensions (org units, scenarios): the ages are the
last axis and all of them are projected at once, step by step.

The Leslie matrix of the same projection (female-dominant, without migration) gives
the intrinsic growth rate r = ln(λ)/n from its dominant eigenvalue λ and the stable
age structure from its eigenvector.

Nothing here reads a database: inputs are arrays, outputs are arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

STEPS = (1, 5)


@dataclass(frozen=True)
class SexInputs:
    """One sex: the base population, the life table's person-years and net migration.

    ``L`` is nLx per age group of the life table with radix ``Inputs.radix``; for the
    open group it is T (all person-years lived above its lower age). ``net_migration``
    is the number of net migrants (in minus out) of each group in one step.
    """

    population: np.ndarray
    L: np.ndarray
    net_migration: np.ndarray


@dataclass(frozen=True)
class Inputs:
    """Everything the projection needs. ``ages`` are the lower ages of the groups
    (0, n, 2n, …); ``asfr`` is births per woman per year in each group; ``srb`` is boys
    per girl at birth."""

    base_year: int
    step: int
    ages: np.ndarray
    female: SexInputs
    male: SexInputs
    asfr: np.ndarray
    srb: np.ndarray | float
    radix: float
    steps: int

    def with_asfr(self, asfr: np.ndarray) -> Inputs:
        return replace(self, asfr=asfr)

    def without_migration(self) -> Inputs:
        """The same inputs with no migrants."""
        return replace(
            self,
            female=replace(self.female, net_migration=np.zeros_like(self.female.net_migration)),
            male=replace(self.male, net_migration=np.zeros_like(self.male.net_migration)),
        )


@dataclass(frozen=True)
class Projection:
    """The projected population at the end of each step and what happened in it.

    Shapes: ``years`` (S,); ``female``/``male`` (..., S, A); births, deaths and net
    migrants (..., S); ``births_by_mother_age`` (..., S, A) — births in the step to
    women of each group.
    """

    years: np.ndarray
    ages: np.ndarray
    female: np.ndarray
    male: np.ndarray
    births_female: np.ndarray
    births_male: np.ndarray
    births_by_mother_age: np.ndarray
    deaths_female: np.ndarray
    deaths_male: np.ndarray
    migrants_female: np.ndarray
    migrants_male: np.ndarray

    @property
    def births(self) -> np.ndarray:
        return self.births_female + self.births_male

    @property
    def deaths(self) -> np.ndarray:
        return self.deaths_female + self.deaths_male

    @property
    def migrants(self) -> np.ndarray:
        return self.migrants_female + self.migrants_male

    @property
    def total(self) -> np.ndarray:
        return self.female.sum(axis=-1) + self.male.sum(axis=-1)


def survival_ratios(L: np.ndarray) -> np.ndarray:
    """Per age group, the share that survives into the next group over one step.

    ``s[i] = L[i+1] / L[i]`` for the closed groups; the last closed group and the open
    group both survive into the open group by ``T_A / T_(A-n) = L[-1] / (L[-2] + L[-1])``.
    """
    L = np.asarray(L, dtype=float)
    s = np.empty_like(L)
    s[..., :-2] = L[..., 1:-1] / L[..., :-2]
    open_ratio = L[..., -1] / (L[..., -2] + L[..., -1])
    s[..., -2] = open_ratio
    s[..., -1] = open_ratio
    return s


def _survive(people: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``people`` (with ``s`` from ``survival_ratios``) one step later, the first group
    empty: group i moves to i+1, the last two groups into the open one."""
    out = np.zeros_like(people)
    out[..., 1:] = people[..., :-1] * s[..., :-1]
    out[..., -1] += people[..., -1] * s[..., -1]
    return out


def project(inputs: Inputs) -> Projection:
    """Project ``inputs`` over ``inputs.steps`` steps (see the module docstring)."""
    n = inputs.step
    female, male = inputs.female, inputs.male
    s_f, s_m = survival_ratios(female.L), survival_ratios(male.L)
    # Births of one step surviving to its end in the first group: L_0 / (n × radix).
    first_f = female.L[..., 0] / (n * inputs.radix)
    first_m = male.L[..., 0] / (n * inputs.radix)
    srb = np.asarray(inputs.srb, dtype=float)
    girls_share = 1.0 / (1.0 + srb)
    asfr = np.asarray(inputs.asfr, dtype=float)
    mig_f = np.asarray(female.net_migration, dtype=float)
    mig_m = np.asarray(male.net_migration, dtype=float)

    shape = np.broadcast_shapes(
        np.shape(female.population),
        np.shape(male.population),
        np.shape(female.L),
        np.shape(male.L),
        np.shape(mig_f),
        np.shape(mig_m),
        np.shape(asfr),
        np.shape(srb) + (1,),
    )
    pop_f = np.broadcast_to(np.asarray(female.population, dtype=float), shape).copy()
    pop_m = np.broadcast_to(np.asarray(male.population, dtype=float), shape).copy()
    batch, ages = shape[:-1], shape[-1]
    steps = inputs.steps
    out_f = np.empty(batch + (steps, ages))
    out_m = np.empty(batch + (steps, ages))
    by_age = np.empty(batch + (steps, ages))
    births_f = np.empty(batch + (steps,))
    births_m = np.empty(batch + (steps,))
    deaths_f = np.empty(batch + (steps,))
    deaths_m = np.empty(batch + (steps,))
    migrants_f = np.empty(batch + (steps,))
    migrants_m = np.empty(batch + (steps,))

    for k in range(steps):
        # Out-migrants cannot outnumber the people there to leave: a group is never below 0.
        start_f = np.maximum(pop_f + mig_f / 2, 0.0)
        start_m = np.maximum(pop_m + mig_m / 2, 0.0)
        survived_f = _survive(start_f, s_f)
        survived_m = _survive(start_m, s_m)
        end_f = survived_f.copy()
        end_m = survived_m.copy()
        end_f[..., 1:] = np.maximum(end_f[..., 1:] + mig_f[..., 1:] / 2, 0.0)
        end_m[..., 1:] = np.maximum(end_m[..., 1:] + mig_m[..., 1:] / 2, 0.0)
        # The first group at the end is not yet known; no rate applies to it (asfr[0] = 0).
        born = n * asfr * (start_f + end_f) / 2
        total_births = born.sum(axis=-1)
        girls = total_births * girls_share
        boys = total_births - girls
        end_f[..., 0] = np.maximum(girls * first_f + mig_f[..., 0] / 2, 0.0)
        end_m[..., 0] = np.maximum(boys * first_m + mig_m[..., 0] / 2, 0.0)
        # Deaths: those who do not survive the step, among the people at its start (with
        # the first half of the migrants) and among its births.
        deaths_f[..., k] = start_f.sum(-1) - survived_f.sum(-1) + girls * (1 - first_f)
        deaths_m[..., k] = start_m.sum(-1) - survived_m.sum(-1) + boys * (1 - first_m)
        # Net migrants as they could move (the balance of the step).
        migrants_f[..., k] = end_f.sum(-1) - pop_f.sum(-1) - girls + deaths_f[..., k]
        migrants_m[..., k] = end_m.sum(-1) - pop_m.sum(-1) - boys + deaths_m[..., k]
        pop_f, pop_m = end_f, end_m
        out_f[..., k, :] = pop_f
        out_m[..., k, :] = pop_m
        by_age[..., k, :] = born
        births_f[..., k] = girls
        births_m[..., k] = boys

    years = inputs.base_year + n * np.arange(1, steps + 1)
    return Projection(
        years=years,
        ages=np.asarray(inputs.ages),
        female=out_f,
        male=out_m,
        births_female=births_f,
        births_male=births_m,
        births_by_mother_age=by_age,
        deaths_female=deaths_f,
        deaths_male=deaths_m,
        migrants_female=migrants_f,
        migrants_male=migrants_m,
    )


# ---------------------------------------------------------------------------
# The Leslie matrix


def leslie_matrix(
    L: np.ndarray, asfr: np.ndarray, srb: float, radix: float, step: int
) -> np.ndarray:
    """The female-dominant Leslie matrix of the projection without migration.

    Below the diagonal the survival ratios (the last row holds T_A/T_(A−n) twice);
    the first row the daughters born in a step per woman of each group who survive to
    its end: L_0/(n·radix) × n × (asfr_i + Σ_j asfr_j · M[j, i]) / 2 / (1 + srb) — a
    woman of group i bears at the rate of group i at the start of the step and at the
    rate of the group she has survived into at its end.
    """
    L = np.asarray(L, dtype=float)
    asfr = np.asarray(asfr, dtype=float)
    size = L.shape[-1]
    s = survival_ratios(L)
    matrix = np.zeros((size, size))
    rows = np.arange(1, size)
    matrix[rows, rows - 1] = s[:-1]
    matrix[-1, -1] = s[-1]
    daughters = L[0] / (step * radix) * step / (1.0 + srb)
    matrix[0, :] += daughters * (asfr + asfr @ matrix) / 2
    return matrix


@dataclass(frozen=True)
class StableGrowth:
    """What a projection matrix implies in the long run."""

    eigenvalue: float  # λ: growth factor per step
    rate: float  # r = ln(λ) / n, per year
    structure: np.ndarray  # the stable age structure, shares summing to 1


def stable_growth(matrix: np.ndarray, step: int) -> StableGrowth:
    """The dominant eigenvalue λ of ``matrix``, r = ln(λ)/``step`` and the stable
    structure (the dominant eigenvector, scaled to sum to 1)."""
    values, vectors = np.linalg.eig(np.asarray(matrix, dtype=float))
    i = int(np.argmax(np.abs(values)))
    eigenvalue = float(values[i].real)
    vector = np.abs(vectors[:, i].real)
    return StableGrowth(
        eigenvalue=eigenvalue,
        rate=float(np.log(eigenvalue) / step),
        structure=vector / vector.sum(),
    )


def project_with_leslie(inputs: Inputs) -> np.ndarray:
    """The female population at the end of each step by repeated multiplication with the
    Leslie matrix (no migration; one set of inputs, no batch dimensions): (S, A)."""
    matrix = leslie_matrix(
        inputs.female.L, inputs.asfr, float(inputs.srb), inputs.radix, inputs.step
    )
    population = np.asarray(inputs.female.population, dtype=float)
    out = []
    for _ in range(inputs.steps):
        population = matrix @ population
        out.append(population)
    return np.array(out)


# ---------------------------------------------------------------------------
# Fertility


def total_fertility(asfr: np.ndarray, step: int) -> np.ndarray:
    """TFR = n × Σ asfr over the groups (children per woman)."""
    return step * np.asarray(asfr, dtype=float).sum(axis=-1)


def scaled_fertility(
    asfr: np.ndarray, step: int, *, factor: float | None = None, target: float | None = None
) -> np.ndarray:
    """The age pattern of ``asfr`` at another level: times ``factor``, or scaled so that
    the total fertility is ``target`` (a schedule with no births stays at zero)."""
    asfr = np.asarray(asfr, dtype=float)
    if target is not None:
        tfr = total_fertility(asfr, step)
        ratio = np.divide(target, tfr, out=np.zeros_like(tfr), where=tfr > 0)
        return asfr * np.expand_dims(ratio, -1)
    return asfr * (1.0 if factor is None else factor)
