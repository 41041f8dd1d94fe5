"""Life tables from deaths and exposure (``taizhang.projection.lifetable``) and the choices
``register.derive`` makes when numbers are small."""

from __future__ import annotations

import numpy as np
import pytest

from taizhang.projection import lifetable
from taizhang.projection.register import CAP, Measures, derive

AGES = lifetable.AGES


def test_a_life_table_of_constant_rates():
    # m = 0.1 at every age. Age 0 (women): a0 = 0.053 + 2.8 × 0.1 = 0.333, q0 = 0.1 /
    # (1 + 0.667 × 0.1) = 0.093747; then a = ½: q = 0.1/1.05 = 0.095238.
    table = lifetable.life_table(np.full(AGES.shape, 0.1), "F", radix=100_000)
    assert table.l[1] == pytest.approx(100_000 * (1 - 0.1 / (1 + 0.667 * 0.1)))
    assert table.l[2] == pytest.approx(table.l[1] * (1 - 0.1 / 1.05))
    # L1 = l1 - ½ d1; the open age: l/m.
    assert table.L[1] == pytest.approx(table.l[1] - 0.5 * table.l[1] * 0.1 / 1.05)
    assert table.L[-1] == pytest.approx(table.l[-1] / 0.1)
    # L = l·q/m age by age (each age's deaths over its rate): person-years sum to e0·l0.
    assert table.e0 == pytest.approx(table.L.sum() / 100_000)


def test_men_have_the_male_infant_separation_factor():
    # a0 = 0.045 + 2.684 m0 below m0 = 0.107; 0.330 above (Preston et al. 2001, Table 3.3).
    assert lifetable.infant_separation(0.01, "M") == pytest.approx(0.07184)
    assert lifetable.infant_separation(0.2, "M") == 0.330
    assert lifetable.infant_separation(0.01, "F") == pytest.approx(0.081)


def test_grouped_person_years():
    table = lifetable.life_table(np.full(AGES.shape, 0.02), "M")
    grouped = table.grouped_L(5, 85)
    assert len(grouped) == 18
    assert grouped[1] == pytest.approx(table.L[5:10].sum())
    assert grouped[-1] == pytest.approx(table.L[85:].sum())


def test_graduation_recovers_a_gompertz_curve():
    # Deaths exactly e^(a + b·x) × exposure from age 40: the fit gives a and b back; below
    # 40 the rates are pooled by group (1-4, 5-9, ...).
    a, b = -9.5, 0.09
    exposure = np.full(AGES.shape, 1000.0)
    deaths = exposure * np.exp(a + b * AGES)
    deaths[:40] = 0
    deaths[0] = 5
    deaths[1:5] = [1, 1, 0, 0]
    rates = lifetable.graduate(deaths, exposure)
    np.testing.assert_allclose(rates[40:], np.exp(a + b * AGES[40:]), rtol=1e-8)
    assert rates[0] == pytest.approx(0.005)
    np.testing.assert_allclose(rates[1:5], 2 / 4000)
    assert rates[5:10].tolist() == [0] * 5


def test_a_reference_is_scaled_to_the_observed_deaths():
    reference = np.full(AGES.shape, 0.01)
    exposure = np.full(AGES.shape, 10.0)
    # Expected deaths: 111 ages × 10 × 0.01 = 11.1; observed 22.2: rates × 2.
    rates, ratio = lifetable.scaled(reference, 22.2, exposure)
    assert ratio == pytest.approx(2.0)
    np.testing.assert_allclose(rates, 0.02)


def test_brass_logit_with_alpha_zero_is_the_standard():
    standard = lifetable.life_table(lifetable.model_rates("F"), "F")
    same = lifetable.life_table(lifetable.brass_logit(standard, 0.0, "F"), "F")
    np.testing.assert_allclose(same.l[:100], standard.l[:100], rtol=1e-9)
    worse = lifetable.life_table(lifetable.brass_logit(standard, 0.3, "F"), "F")
    assert worse.e0 < standard.e0


def test_brass_alpha_is_fitted_to_the_deaths():
    # A stationary population of the standard with 100 births a year (exposure = L/1000)
    # has 100 deaths a year under the standard's rates; 60 observed deaths need a lower
    # mortality (α < 0), 150 a higher one.
    standard = lifetable.life_table(lifetable.model_rates("M"), "M")
    exposure = standard.L / 1000
    assert lifetable.expected_deaths(standard.m, exposure) == pytest.approx(100.0)
    for deaths in (60.0, 150.0):
        rates, alpha = lifetable.fit_brass_alpha(standard, deaths, exposure, "M")
        assert lifetable.expected_deaths(rates, exposure) == pytest.approx(deaths, rel=1e-6)
        assert (alpha > 0) == (deaths > 100)


# ---------------------------------------------------------------------------
# Small numbers (register.derive, on counts made up here)


def _measures(code: str, *, deaths: float, births: float) -> Measures:
    """Counts for one unit: 1000 person-years at every age and sex, ``deaths`` spread as a
    Gompertz curve over ages 40+ of each sex, ``births`` spread evenly over 20-29 (half
    boys), 100 residents at every age."""
    shape = (2, CAP + 1)
    exposure = np.full(shape, 1000.0)
    curve = np.exp(0.09 * AGES) * (AGES >= 40)
    dead = np.vstack([curve, curve]) * deaths / curve.sum()
    born = np.zeros(shape)
    born[:, 20:30] = births / 20
    return Measures(
        code=code,
        base_year=2025,
        population=np.full(shape, 100.0),
        exposure=exposure,
        deaths=dead,
        births=born,
        moves_in=np.zeros(shape),
        moves_out=np.zeros(shape),
    )


def test_a_county_with_many_deaths_and_births_has_its_own_rates():
    county = derive(_measures("410325", deaths=3000, births=1200), "县", None, open_age=85)
    assert county.basis["mortality_F"] == "own"
    assert county.basis["fertility"] == "own"
    assert county.basis["srb"] == "own"
    # 1200 births over 20-29: 120 at each age per 1000 woman-years: TFR = 10 × 0.12.
    assert county.tfr == pytest.approx(1.2)
    assert county.srb == pytest.approx(1.0)
    assert "3000 registered deaths" in county.assumptions[2]


def test_a_township_leans_on_its_county():
    county = derive(_measures("410325", deaths=3000, births=1200), "县", None, open_age=85)
    # 100 deaths of each sex: below 500, at least 20: the county's table at its level.
    # The township's deaths are 1/30 of the county's over the same exposure: rates × 1/30.
    town = derive(_measures("410325100", deaths=100, births=40), "镇", county, open_age=85)
    assert town.basis["mortality_F"] == "reference_scaled"
    np.testing.assert_allclose(town.tables["F"].m, county.tables["F"].m / 30, rtol=1e-9)
    # 40 births: the county's pattern at 40/1200 of its level; the ratio at birth too.
    assert town.basis["fertility"] == "reference_scaled"
    assert town.tfr == pytest.approx(1.2 / 30)
    assert town.basis["srb"] == "reference"
    few = derive(_measures("410325101", deaths=10, births=10), "乡", county, open_age=85)
    assert few.basis["mortality_M"] == "reference"
    np.testing.assert_allclose(few.tables["M"].m, county.tables["M"].m)
    assert few.basis["fertility"] == "reference"
    assert few.tfr == pytest.approx(1.2)


def test_a_county_with_few_deaths_falls_back_to_a_model():
    brass = derive(_measures("410325", deaths=100, births=30), "县", None, open_age=85)
    assert brass.basis["mortality_F"] == "model_brass"
    assert "Brass logit" in brass.assumptions[2]
    model = derive(_measures("410325", deaths=5, births=30), "县", None, open_age=85)
    assert model.basis["mortality_F"] == "model"
    np.testing.assert_allclose(model.tables["F"].m, lifetable.model_rates("F"))
    # 30 births: rates pooled in five-year groups (20-24 and 25-29 each 15 births over
    # 5000 woman-years), and the ratio at birth, 1.00, kept within 1.05-1.12.
    assert model.basis["fertility"] == "own_grouped"
    assert model.tables["asfr"][20] == pytest.approx(15 / 5000)
    assert model.basis["srb"] == "national_range"
    assert model.srb == pytest.approx(1.05)


def test_the_open_group_is_85_or_100():
    county = derive(_measures("410325", deaths=3000, births=1200), "县", None, open_age=100)
    assert list(county.inputs.ages) == list(range(101))
    # 100 residents at each age 100..110 make the open group.
    assert county.inputs.female.population[-1] == 1100
    assert county.inputs.female.L[-1] == pytest.approx(county.tables["F"].L[100:].sum())
