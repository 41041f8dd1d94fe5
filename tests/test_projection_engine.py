"""The cohort-component engine (``taizhang.projection.engine``): a published worked example,
hand-checked single steps, and the Leslie matrix.

The published example is Preston, Heuveline & Guillot, *Demography: Measuring and Modeling
Population Processes* (Oxford: Blackwell, 2001), chapter 6, Box 6.1 (p. 125): Swedish
women in 1993 (population, 5Lx of the 1993 female life table with radix 100,000, 5Fx),
sex ratio at birth 1.05, no migration, projected to 1998 and 2003 in 5-year steps. The
inputs are ``tests/data/projection/sweden1993_females.json``; the projected figures below
are those of Box 6.1 (part 2), in whole persons as printed. Both were taken from
G. Rodríguez's machine-readable copy of the box (Princeton, Pop 502, data set
``sweden93.dat`` and computing log "Population Projections", which reproduces part 2 to the
person); see tests/data/projection/README.md.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from taizhang.projection import engine
from taizhang.projection.inputs import read_inputs

SWEDEN = Path(__file__).parent / "data" / "projection" / "sweden1993_females.json"

# Box 6.1 (part 2): women by age group 0–4 … 85+ in 1998 and 2003.
BOX_6_1_1998 = [
    293574, 293189, 248251, 239833, 261015, 284787, 313782, 280463, 285576,
    301731, 320974, 243039, 205109, 204944, 204793, 194419, 142324, 131768,
]  # fmt: skip
BOX_6_1_2003 = [
    280121, 293368, 293049, 248066, 239529, 260629, 284238, 312859, 279147,
    283344, 298043, 315045, 235861, 195388, 189260, 178141, 150666, 141960,
]  # fmt: skip


@pytest.fixture
def sweden() -> engine.Inputs:
    return read_inputs(SWEDEN)


def test_it_reproduces_preston_box_6_1(sweden):
    p = engine.project(sweden)
    assert list(p.years) == [1998, 2003]
    assert np.rint(p.female[0]).astype(int).tolist() == BOX_6_1_1998
    assert np.rint(p.female[1]).astype(int).tolist() == BOX_6_1_2003
    # Totals as printed: 4,449,570 and 4,478,712 women.
    assert round(p.female[0].sum()) == 4449570
    assert round(p.female[1].sum()) == 4478712


def test_the_leslie_matrix_projects_the_same_as_the_steps(sweden):
    by_steps = engine.project(sweden).female
    by_matrix = engine.project_with_leslie(sweden)
    np.testing.assert_allclose(by_matrix, by_steps, rtol=1e-12)


def test_the_leslie_matrix_equals_the_steps_on_a_single_year_population():
    # Ten single-year groups with fertility at ages 3-6 and an open group: one year at a
    # time, again without migration.
    ages = np.arange(10)
    L = np.array([0.99, 0.985, 0.98, 0.975, 0.97, 0.96, 0.95, 0.93, 0.9, 3.5])
    asfr = np.array([0, 0, 0, 0.1, 0.3, 0.25, 0.1, 0, 0, 0])
    population = np.array([50, 48, 47, 45, 44, 40, 38, 30, 20, 35], dtype=float)
    sex = engine.SexInputs(population=population, L=L, net_migration=np.zeros(10))
    inputs = engine.Inputs(
        base_year=2025, step=1, ages=ages, female=sex, male=sex, asfr=asfr,
        srb=1.08, radix=1.0, steps=12,
    )  # fmt: skip
    np.testing.assert_allclose(
        engine.project_with_leslie(inputs), engine.project(inputs).female, rtol=1e-12
    )


def test_the_stable_growth_of_box_6_1():
    # Dominant eigenvalue of the Box 6.1 matrix as computed from the same inputs by
    # G. Rodríguez, "Population Projections", Pop 502 computing logs (Princeton):
    # λ = 1.00111253, r = ln(λ)/5 = 0.000222383; stable share of 0-4 0.0619116748,
    # of 85+ 0.035580346.
    sweden = read_inputs(SWEDEN)
    matrix = engine.leslie_matrix(sweden.female.L, sweden.asfr, 1.05, 100000, 5)
    growth = engine.stable_growth(matrix, 5)
    assert growth.eigenvalue == pytest.approx(1.00111253, abs=5e-9)
    assert growth.rate == pytest.approx(0.000222383, abs=5e-10)
    assert growth.structure[0] == pytest.approx(0.0619116748, abs=5e-10)
    assert growth.structure[-1] == pytest.approx(0.035580346, abs=5e-10)
    assert growth.structure.sum() == pytest.approx(1.0)


def test_the_growth_rate_of_a_simple_matrix():
    # [[1, 1.5], [0.5, 0]]: λ² - λ - 0.75 = 0, so λ = (1 + √(1 + 3)) / 2 = 1.5;
    # r = ln(1.5)/5; the eigenvector (v0, v1) has v1 = 0.5·v0/λ = v0/3: shares 0.75, 0.25.
    growth = engine.stable_growth(np.array([[1.0, 1.5], [0.5, 0.0]]), 5)
    assert growth.eigenvalue == pytest.approx(1.5)
    assert growth.rate == pytest.approx(math.log(1.5) / 5)
    np.testing.assert_allclose(growth.structure, [0.75, 0.25])


def _three_groups(female, *, L=(4.0, 3.0, 2.0), asfr=(0, 0, 0), mig=(0, 0, 0), srb=1.05):
    """Three 5-year groups (0-4, 5-9, 10+), radix 1, one step."""
    sex = engine.SexInputs(
        population=np.array(female, dtype=float),
        L=np.array(L, dtype=float),
        net_migration=np.array(mig, dtype=float),
    )
    return engine.Inputs(
        base_year=2000, step=5, ages=np.array([0, 5, 10]), female=sex, male=sex,
        asfr=np.array(asfr, dtype=float), srb=srb, radix=1.0, steps=1,
    )  # fmt: skip


def test_a_closed_population_without_fertility_only_survives():
    # 5-9 = 100 × L5/L0 = 100 × 3/4 = 75; the open group 10+ = (50 + 20) × T10/T5 =
    # 70 × 2/(3 + 2) = 28; nobody is born; deaths = 170 - 103 = 67.
    p = engine.project(_three_groups([100, 50, 20]))
    np.testing.assert_allclose(p.female[0], [0, 75, 28])
    assert p.births[0] == 0
    assert p.deaths_female[0] == pytest.approx(67)


def test_the_open_group_survives_with_the_group_before_it():
    # Only the open group: 20 × T10/T5 = 20 × 2/5 = 8 (L of the open group is T10).
    p = engine.project(_three_groups([0, 0, 20], L=(4.0, 3.0, 2.0)))
    np.testing.assert_allclose(p.female[0], [0, 0, 8])
    # With T10 = 6: 20 × 6/(3 + 6) = 13.33…
    p = engine.project(_three_groups([0, 0, 20], L=(4.0, 3.0, 6.0)))
    assert p.female[0][2] == pytest.approx(20 * 6 / 9)


def test_half_the_migrants_arrive_at_the_start_and_half_at_the_end():
    # Net migrants 10, 20, -4. Half at the start: 105, 60, 18, survived: 5-9 = 105 × 0.75
    # = 78.75, 10+ = (60 + 18) × 0.4 = 31.2. The other half at the end: 0-4 = 5,
    # 5-9 = 78.75 + 10 = 88.75, 10+ = 31.2 - 2 = 29.2. Deaths: (105 + 60 + 18) - (78.75
    # + 31.2) = 73.05, the same as 170 + 26 - 122.95.
    p = engine.project(_three_groups([100, 50, 20], mig=(10, 20, -4)))
    np.testing.assert_allclose(p.female[0], [5, 88.75, 29.2])
    assert p.deaths_female[0] == pytest.approx(73.05)
    assert p.migrants_female[0] == pytest.approx(26)


def test_out_migrants_cannot_outnumber_the_people_there():
    # 30 net out-migrants of 5-9, where 10 live: at the start only 10 can leave (15
    # planned), the group is empty; at the end 15 leave the 75 survivors of 0-4: 60.
    # Deaths: (100 + 0 + 20) - (75 + 8) = 37; migrants as they moved: -10 - 15 = -25, so
    # 130 + 0 - 37 - 25 = 68 = 0 + 60 + 8.
    p = engine.project(_three_groups([100, 10, 20], mig=(0, -30, 0)))
    np.testing.assert_allclose(p.female[0], [0, 60, 8])
    assert p.deaths_female[0] == pytest.approx(37)
    assert p.migrants_female[0] == pytest.approx(-25)


def test_births_are_split_by_the_sex_ratio_at_birth():
    # 100 women of 5-9 at rate 0.1: at the end of the step none are 5-9 (the 0-4 had no
    # one), so births = 5 × 0.1 × (100 + 0)/2 = 25. With 1.25 boys per girl: girls 25/2.25
    # = 11.11, boys 13.89. The new 0-4: girls × L0/(5 × radix): women's L0 = 4.5 → ×0.9
    # = 10; men's L0 = 4 → ×0.8 = 11.11.
    inputs = _three_groups([0, 100, 0], L=(4.5, 4.0, 3.0), asfr=(0, 0.1, 0), srb=1.25)
    inputs = replace(inputs, male=replace(inputs.male, L=np.array([4.0, 3.5, 3.0])))
    p = engine.project(inputs)
    assert p.births[0] == pytest.approx(25)
    assert p.births_female[0] == pytest.approx(25 / 2.25)
    assert p.births_male[0] == pytest.approx(25 * 1.25 / 2.25)
    np.testing.assert_allclose(p.births_by_mother_age[0], [0, 25, 0])
    assert p.female[0][0] == pytest.approx(10)
    assert p.male[0][0] == pytest.approx(25 * 1.25 / 2.25 * 0.8)


def test_births_count_the_women_at_the_end_of_the_step_too():
    # 100 girls of 0-4 become 75 women of 5-9 by the end: births = 5 × 0.1 × (0 + 75)/2
    # = 18.75.
    p = engine.project(_three_groups([100, 0, 0], asfr=(0, 0.1, 0)))
    assert p.births[0] == pytest.approx(18.75)


def test_a_batch_projects_each_row_as_alone():
    a = _three_groups([100, 50, 20], asfr=(0, 0.2, 0), mig=(1, 2, 3))
    b = _three_groups([10, 80, 40], asfr=(0, 0.05, 0), mig=(0, -5, 0), srb=1.1)
    stacked = engine.Inputs(
        base_year=2000,
        step=5,
        ages=a.ages,
        female=engine.SexInputs(
            population=np.stack([a.female.population, b.female.population]),
            L=np.stack([a.female.L, b.female.L]),
            net_migration=np.stack([a.female.net_migration, b.female.net_migration]),
        ),
        male=engine.SexInputs(
            population=np.stack([a.male.population, b.male.population]),
            L=np.stack([a.male.L, b.male.L]),
            net_migration=np.stack([a.male.net_migration, b.male.net_migration]),
        ),
        asfr=np.stack([a.asfr, b.asfr]),
        srb=np.array([1.05, 1.1]),
        radix=1.0,
        steps=3,
    )
    together = engine.project(stacked)
    for i, alone in enumerate([replace(a, steps=3), replace(b, steps=3)]):
        one = engine.project(alone)
        np.testing.assert_allclose(together.female[i], one.female)
        np.testing.assert_allclose(together.male[i], one.male)
        np.testing.assert_allclose(together.births[i], one.births)


def test_fertility_is_scaled_to_a_target_total():
    # TFR = 5 × (0.1 + 0.3) = 2.0; scaled to 1.5 each rate × 0.75.
    asfr = np.array([0, 0.1, 0.3])
    assert engine.total_fertility(asfr, 5) == pytest.approx(2.0)
    np.testing.assert_allclose(engine.scaled_fertility(asfr, 5, target=1.5), [0, 0.075, 0.225])
    np.testing.assert_allclose(engine.scaled_fertility(asfr, 5, factor=0.8), [0, 0.08, 0.24])
