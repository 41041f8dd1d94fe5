"""Life tables by single year of age from deaths and exposure, in plain NumPy.

A life table here runs from age 0 to ``MAX_AGE`` (the last age open). Rates measured
from a register are noisy where deaths are few, so:

- ``graduate`` smooths one population's rates: infant mortality as measured, the
  rates of ages 1–4, 5–9, …, 35–39 pooled over their group, and from age 40 a
  Gompertz curve (log m = a + b·x) fitted to the deaths by Poisson maximum likelihood,
  which also carries the rates past the oldest ages with deaths;
- ``scaled`` applies a reference schedule at the level of a small population's own
  deaths (observed deaths ÷ the deaths the reference rates would give its exposure);
- ``brass_logit`` fits the level α of Brass's relational model Y(x) = α + Y_s(x) on a
  standard table (β = 1) to a population's deaths;
- ``model_rates`` is a model schedule (Gompertz–Makeham) for a population with hardly
  any deaths registered, where nothing can be measured.

The separation factor of age 0 follows Coale and Demeny as given by Preston,
Heuveline & Guillot (2001), Table 3.3; every other age uses one half.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_AGE = 110
AGES = np.arange(MAX_AGE + 1)
RADIX = 100_000.0
GOMPERTZ_FROM = 40
POOLED_GROUPS = ((1, 5), *((lo, lo + 5) for lo in range(5, GOMPERTZ_FROM, 5)))

# The model schedule: m(x) = A + B·exp(C·x), plus an infant rate at age 0. Levels chosen
# for life expectancies at birth of about 80 years (women) and 75 (men).
MODEL_PARAMETERS = {
    "F": {"infant": 0.005, "A": 0.0002, "B": 0.000019, "C": 0.0985},
    "M": {"infant": 0.006, "A": 0.0004, "B": 0.0000392, "C": 0.094},
}


@dataclass(frozen=True)
class LifeTable:
    """A single-year life table: ``m`` central death rates, ``l`` survivors at exact
    age x, ``L`` person-years lived at age x (the last one T of the open age)."""

    m: np.ndarray
    l: np.ndarray  # noqa: E741 - the life table's own name
    L: np.ndarray
    radix: float = RADIX

    @property
    def e0(self) -> float:
        return float(self.L.sum() / self.radix)

    def grouped_L(self, step: int, open_age: int) -> np.ndarray:
        """nLx for groups of ``step`` years from 0 to ``open_age``, then T(open_age)."""
        closed = self.L[:open_age].reshape(-1, step).sum(axis=1)
        return np.append(closed, self.L[open_age:].sum())


def infant_separation(m0: float, sex: str) -> float:
    """a0, the average fraction of the first year lived by infants who die in it
    (Coale–Demeny, as in Preston et al. 2001, Table 3.3)."""
    if sex == "M":
        return 0.330 if m0 >= 0.107 else 0.045 + 2.684 * m0
    return 0.350 if m0 >= 0.107 else 0.053 + 2.800 * m0


def life_table(m: np.ndarray, sex: str, radix: float = RADIX) -> LifeTable:
    """The life table of single-year rates ``m`` (ages 0..MAX_AGE, the last open)."""
    m = np.asarray(m, dtype=float)
    a = np.full(m.shape, 0.5)
    a[0] = infant_separation(float(m[0]), sex)
    q = np.clip(m / (1 + (1 - a) * m), 0.0, 1.0)
    q[-1] = 1.0
    l = radix * np.concatenate(([1.0], np.cumprod(1 - q[:-1])))  # noqa: E741
    d = l * q
    L = l - (1 - a) * d
    # The open age: its survivors live 1/m years on average.
    L[-1] = l[-1] / m[-1] if m[-1] > 0 else l[-1]
    return LifeTable(m=m, l=l, L=L, radix=radix)


def rates_from_l(l: np.ndarray, sex: str) -> np.ndarray:  # noqa: E741
    """Central death rates that give the survivors ``l`` (inverse of ``life_table``)."""
    q = 1 - l[1:] / l[:-1]
    a = np.full(q.shape, 0.5)
    m = q / (1 - (1 - a) * q)
    # Age 0 with its own separation factor: m0 = q0 / (1 - (1 - a0) q0), a0 depending on m0.
    for _ in range(20):
        a0 = infant_separation(float(m[0]), sex)
        m[0] = q[0] / (1 - (1 - a0) * q[0])
    # The open age keeps the rate of the age before it.
    return np.append(m, m[-1])


def _gompertz_fit(deaths: np.ndarray, exposure: np.ndarray, ages: np.ndarray):
    """(a, b) of log m = a + b·x maximising the Poisson likelihood of ``deaths`` given
    ``exposure``; None when the data cannot support a rising curve."""
    keep = exposure > 0
    d, e, x = deaths[keep], exposure[keep], ages[keep].astype(float)
    if d.sum() < 2 or len(x) < 3:
        return None
    centre = x.mean()
    x = x - centre
    # Start from a weighted least-squares line through log((d + ½) / e).
    slope, intercept = np.polyfit(x, np.log((d + 0.5) / e), 1, w=np.sqrt(d + 0.5))
    theta = np.array([intercept, slope])
    for _ in range(100):
        mu = np.exp(theta[0] + theta[1] * x) * e
        gradient = np.array([(d - mu).sum(), (x * (d - mu)).sum()])
        hessian = np.array([[mu.sum(), (x * mu).sum()], [(x * mu).sum(), (x * x * mu).sum()]])
        try:
            change = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            return None
        theta = theta + change
        if np.abs(change).max() < 1e-10:
            break
    if not np.all(np.isfinite(theta)) or theta[1] <= 0:
        return None
    return theta[0] - theta[1] * centre, theta[1]


def graduate(deaths: np.ndarray, exposure: np.ndarray) -> np.ndarray | None:
    """Smoothed single-year rates (ages 0..MAX_AGE) from deaths and person-years by
    single year of age; None when the adult deaths do not give a Gompertz curve."""
    deaths = np.asarray(deaths, dtype=float)
    exposure = np.asarray(exposure, dtype=float)
    m = np.zeros(MAX_AGE + 1)
    m[0] = deaths[0] / exposure[0] if exposure[0] > 0 else 0.0
    for lo, hi in POOLED_GROUPS:
        e = exposure[lo:hi].sum()
        m[lo:hi] = deaths[lo:hi].sum() / e if e > 0 else 0.0
    fit = _gompertz_fit(deaths[GOMPERTZ_FROM:], exposure[GOMPERTZ_FROM:], AGES[GOMPERTZ_FROM:])
    if fit is None:
        return None
    a, b = fit
    m[GOMPERTZ_FROM:] = np.exp(a + b * AGES[GOMPERTZ_FROM:])
    return m


def expected_deaths(m: np.ndarray, exposure: np.ndarray) -> float:
    return float((np.asarray(m) * np.asarray(exposure)).sum())


def scaled(reference: np.ndarray, deaths: float, exposure: np.ndarray) -> tuple[np.ndarray, float]:
    """The reference rates times the ratio of observed to expected deaths (and that ratio)."""
    expected = expected_deaths(reference, exposure)
    ratio = deaths / expected if expected > 0 else 1.0
    return reference * ratio, ratio


def brass_logit(standard: LifeTable, alpha: float, sex: str) -> np.ndarray:
    """Rates of the table whose survivors follow Y(x) = α + Y_s(x), where
    Y(x) = ½·ln((1 − l_x)/l_x) and l is scaled to start at 1 (Brass's relational model,
    with β = 1)."""
    share = standard.l / standard.radix
    y = np.empty_like(share)
    y[0] = -np.inf  # l_0 = 1 whatever α is
    y[1:] = 0.5 * np.log((1 - share[1:]) / share[1:]) + alpha
    l = 1 / (1 + np.exp(2 * y))  # noqa: E741
    return rates_from_l(l, sex)


def fit_brass_alpha(
    standard: LifeTable, deaths: float, exposure: np.ndarray, sex: str
) -> tuple[np.ndarray, float]:
    """Brass logit rates on ``standard`` with α chosen so that the expected deaths of
    ``exposure`` equal ``deaths`` (bisection: expected deaths rise with α)."""
    low, high = -3.0, 3.0
    for _ in range(60):
        alpha = (low + high) / 2
        if expected_deaths(brass_logit(standard, alpha, sex), exposure) < deaths:
            low = alpha
        else:
            high = alpha
    alpha = (low + high) / 2
    return brass_logit(standard, alpha, sex), alpha


def model_rates(sex: str) -> np.ndarray:
    """The model schedule of ``MODEL_PARAMETERS`` (Gompertz–Makeham) by single year."""
    p = MODEL_PARAMETERS[sex]
    m = p["A"] + p["B"] * np.exp(p["C"] * (AGES + 0.5))
    m[0] += p["infant"]
    return m
