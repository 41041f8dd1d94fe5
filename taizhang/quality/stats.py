"""The statistics of the audit's checks, on plain numbers: no database, no Django.

Counts of events in a village and a month are small (0-3 births), so the checks use
count distributions, not means and standard deviations:

- ``outlier``: how surprising a month's count is against the unit's own history, left
  out of it. The monthly rate is unknown; with a Gamma prior (the parent unit's rate,
  worth ``prior_months`` months) and the history's counts, the next month's count has a
  negative-binomial predictive distribution, whose tails give the chance of a count at
  least (or at most) as far out. With no prior it is a plain Poisson test at the
  history's mean. A history of identical counts (a median absolute deviation of 0) does
  not hide anything: the tails are still those of a Poisson.
- ``consistency``: a year against the mean of the years before it (±33%), and whether
  the change is larger than chance (a conditional binomial test of equal rates).
- ``proportion_interval`` (Wilson), ``count_interval`` (Poisson) and ``outside_band``:
  a figure whose whole interval lies outside the expected band.
- ``srb_interval``: the sex ratio at birth's interval, from the boys' share.
- ``missing_interval``: the interval of an under-registration estimate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

PASS, WARN, FAIL = "pass", "warn", "fail"
SEVERITY = {PASS: 0, WARN: 1, FAIL: 2}
# Above this many trials a binomial tail is taken from the normal approximation.
EXACT_BINOMIAL_LIMIT = 5000


def worst(statuses) -> str:
    """The most severe of ``statuses`` (``pass`` when there are none)."""
    return max(statuses, key=SEVERITY.__getitem__, default=PASS)


def z_for(confidence: float) -> float:
    """The two-sided normal quantile of a confidence level (0.95 → 1.96)."""
    return NormalDist().inv_cdf((1 + confidence) / 2)


# ---------------------------------------------------------------------------
# Count distributions


def poisson_pmf(k: int, lam: float) -> float:
    if lam == 0:
        return 1.0 if k == 0 else 0.0
    return math.exp(k * math.log(lam) - lam - math.lgamma(k + 1))


def poisson_cdf(k: int, lam: float) -> float:
    """P(X <= k) for X ~ Poisson(lam)."""
    if k < 0:
        return 0.0
    return min(1.0, sum(poisson_pmf(i, lam) for i in range(k + 1)))


def poisson_sf(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam)."""
    return max(0.0, 1.0 - poisson_cdf(k - 1, lam))


def nbinom_pmf(k: int, shape: float, rate: float) -> float:
    """The Gamma(shape, rate)-Poisson mixture: P(X = k) when X ~ Poisson(λ), λ ~ Gamma."""
    q = rate / (rate + 1)
    return math.exp(
        math.lgamma(k + shape)
        - math.lgamma(shape)
        - math.lgamma(k + 1)
        + shape * math.log(q)
        + k * math.log1p(-q)
    )


def nbinom_cdf(k: int, shape: float, rate: float) -> float:
    if k < 0:
        return 0.0
    return min(1.0, sum(nbinom_pmf(i, shape, rate) for i in range(k + 1)))


def nbinom_sf(k: int, shape: float, rate: float) -> float:
    return max(0.0, 1.0 - nbinom_cdf(k - 1, shape, rate))


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p); the normal approximation above
    ``EXACT_BINOMIAL_LIMIT`` trials."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if n > EXACT_BINOMIAL_LIMIT:
        sd = math.sqrt(n * p * (1 - p))
        return NormalDist().cdf((k + 0.5 - n * p) / sd) if sd else float(k >= n * p)
    log_p, log_q = math.log(p), math.log1p(-p)
    total = 0.0
    for i in range(k + 1):
        total += math.exp(
            math.lgamma(n + 1)
            - math.lgamma(i + 1)
            - math.lgamma(n - i + 1)
            + i * log_p
            + (n - i) * log_q
        )
    return min(1.0, total)


# ---------------------------------------------------------------------------
# Outliers


@dataclass(frozen=True)
class Outlier:
    """A count against its expectation: the expected count and the one-sided chances of
    a count at least as high (``p_high``) and at most as low (``p_low``)."""

    count: int
    expected: float
    p_high: float
    p_low: float

    @property
    def p(self) -> float:
        return min(self.p_high, self.p_low)

    @property
    def direction(self) -> str:
        return "high" if self.p_high <= self.p_low else "low"


def outlier(
    count: int, history: Sequence[int], *, prior_mean: float = 0.0, prior_months: float = 0.0
) -> Outlier:
    """How far out ``count`` is against ``history`` (the other months, this one left out).

    Without a prior (``prior_months`` 0): a Poisson test at the history's mean. With one:
    the monthly rate has a Gamma prior of mean ``prior_mean`` worth ``prior_months``
    months; after the history (sum S over n months) it is Gamma(a + S, b + n) and the
    month's count is negative binomial. The shape is at least 0.5 (a Jeffreys prior), so
    a unit and a parent with no events ever still give a proper distribution.
    """
    n, total = len(history), sum(history)
    if prior_months <= 0:
        if n == 0:
            raise ValueError("an outlier test needs a history or a prior")
        lam = total / n
        return Outlier(count, lam, poisson_sf(count, lam), poisson_cdf(count, lam))
    shape = max(prior_mean * prior_months + total, 0.5)
    rate = prior_months + n
    return Outlier(
        count,
        shape / rate,
        nbinom_sf(count, shape, rate),
        nbinom_cdf(count, shape, rate),
    )


def outlier_status(result: Outlier, warn_p: float, fail_p: float) -> str:
    if result.p < fail_p:
        return FAIL
    if result.p < warn_p:
        return WARN
    return PASS


# ---------------------------------------------------------------------------
# Consistency over time


@dataclass(frozen=True)
class Consistency:
    current: int
    mean: float
    ratio: float | None  # current / mean; None when the mean is 0
    p: float  # two-sided chance of a change this large if the rate were the same
    status: str


def consistency(
    current: int,
    previous: Sequence[int],
    *,
    expected_ratio: float = 1.0,
    tolerance: float,
    fail_tolerance: float,
    min_mean: float,
    significance: float,
) -> Consistency:
    """This year's count against the mean of ``previous`` years.

    ``ratio`` = current / mean is compared with ``expected_ratio`` (1, or the trend of the
    larger unit this one belongs to): beyond ±``tolerance`` of it is a warning, beyond
    ±``fail_tolerance`` a failure — but only when the mean is at least ``min_mean`` and
    the change is larger than chance: given the total of all the years, this year's
    count is Binomial(total, r / (r + k)) at the expected ratio r over k previous years,
    and ``p`` (two-sided) must be below ``significance``. A village going from 3 births
    to 5 is +67% and means nothing.
    """
    k = len(previous)
    mean = sum(previous) / k
    ratio = current / mean if mean else None
    n = current + sum(previous)
    share = expected_ratio / (expected_ratio + k)
    p = (
        min(1.0, 2 * min(binomial_cdf(current, n, share), 1 - binomial_cdf(current - 1, n, share)))
        if n
        else 1.0
    )
    status = PASS
    if ratio is not None and mean >= min_mean and p < significance:
        change = abs(ratio / expected_ratio - 1)
        if change > fail_tolerance:
            status = FAIL
        elif change > tolerance:
            status = WARN
    return Consistency(current, mean, ratio, p, status)


# ---------------------------------------------------------------------------
# Intervals and bands


def proportion_interval(successes: int, trials: int, confidence: float) -> tuple[float, float]:
    """The Wilson score interval of a proportion; (0, 1) with no trials."""
    if trials == 0:
        return (0.0, 1.0)
    z = z_for(confidence)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = (
        z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    )
    return (max(0.0, centre - half), min(1.0, centre + half))


def count_interval(count: int, confidence: float) -> tuple[float, float]:
    """An interval of a Poisson mean seen as ``count``: (√count ∓ z/2)², the square-root
    transform's interval."""
    z = z_for(confidence)
    low = max(0.0, math.sqrt(count) - z / 2) ** 2 if count else 0.0
    return (low, (math.sqrt(count) + z / 2) ** 2)


def ratio_interval(numerator: int, denominator: float, confidence: float) -> tuple[float, float]:
    """A rate's interval from the Poisson interval of its numerator (the denominator taken
    as known): events per person, per pregnancy, ..."""
    if not denominator:
        return (0.0, math.inf)
    low, high = count_interval(numerator, confidence)
    return (low / denominator, high / denominator)


def srb_interval(boys: int, girls: int, confidence: float) -> tuple[float, float]:
    """The sex ratio at birth's interval (boys per 100 girls), from the Wilson interval of
    the boys' share p: 100 p / (1 - p)."""
    low, high = proportion_interval(boys, boys + girls, confidence)
    as_ratio = lambda p: math.inf if p >= 1 else 100 * p / (1 - p)  # noqa: E731
    return (as_ratio(low), as_ratio(high))


def outside_band(interval: tuple[float, float], band: Sequence[float]) -> bool:
    """Whether the whole interval lies outside [low, high]: chance cannot put the figure
    in its band."""
    return interval[1] < band[0] or interval[0] > band[1]


# ---------------------------------------------------------------------------
# Under-registration


@dataclass(frozen=True)
class Missing:
    missing: float
    interval: tuple[float, float]
    sd: float


def missing_interval(
    missing: float,
    base: float,
    *,
    census_rse: float,
    allocation_variance: float,
    turnover: float,
    confidence: float,
) -> Missing:
    """The interval of ``missing`` = expected − registered, expected being a census
    ``base`` carried forward with the register's flows.

    Its variance adds three parts: the census's own error, (census_rse × base)²; the
    split of the single-year cohorts at the group's age limits between in and out of the
    group (``allocation_variance``, binomial); and what happened unseen to the people
    missing from the register — those of them who died or left, or the unregistered who
    came — taken as Poisson with the register's own ``turnover`` (flows per person of
    the base): |missing| × turnover.
    """
    variance = (census_rse * base) ** 2 + allocation_variance + abs(missing) * turnover
    sd = math.sqrt(variance)
    z = z_for(confidence)
    return Missing(missing, (missing - z * sd, missing + z * sd), sd)
