"""The statistics of the audit's checks on tiny series worked out by hand (no database)."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from taizhang.quality import stats
from taizhang.quality.checks import _cohort_weight
from taizhang.quality.figures import Group, parse_group

# ---------------------------------------------------------------------------
# Outliers: Poisson leave-one-out, and a median absolute deviation of 0


def test_it_finds_seven_against_a_history_of_ones_that_has_no_spread():
    # Eleven months of 1 and a January of 7. The other months have median 1 and a median
    # absolute deviation of 0: a robust z-score would divide by 0 and say nothing.
    # Leave-one-out Poisson at their mean λ = 1:
    #   P(X >= 7) = 1 - e^-1 (1 + 1 + 1/2 + 1/6 + 1/24 + 1/120 + 1/720)
    #             = 1 - 0.3678794 × 2.7180556 = 8.324e-5
    series = [7] + [1] * 11
    history = series[1:]
    assert sorted(abs(x - 1) for x in history)[5] == 0  # the MAD is 0
    result = stats.outlier(series[0], history)
    assert result.expected == 1.0
    assert result.p_high == pytest.approx(8.324e-5, rel=1e-3)
    assert result.direction == "high"
    assert stats.outlier_status(result, warn_p=0.001, fail_p=0.0001) == "fail"


def test_it_leaves_the_month_out_of_its_own_history():
    # Left in, the 7 raises the mean to 18 / 12 = 1.5 and hides itself:
    #   P(X >= 7 | 1.5) = 1 - e^-1.5 (1 + 1.5 + 1.125 + 0.5625 + 0.2109 + 0.0633 + 0.0158)
    #                   = 1 - 0.22313 × 4.4775 = 9.1e-4: only a warning.
    kept_in = stats.outlier(7, [7] + [1] * 11)
    assert kept_in.p_high == pytest.approx(9.1e-4, rel=0.02)
    assert stats.outlier_status(kept_in, warn_p=0.001, fail_p=0.0001) == "warn"


def test_it_does_not_flag_an_ordinary_month():
    # P(X >= 1 | 1) = 1 - e^-1 = 0.632.
    result = stats.outlier(1, [1] * 11)
    assert result.p_high == pytest.approx(1 - math.exp(-1))
    assert stats.outlier_status(result, warn_p=0.001, fail_p=0.0001) == "pass"


def test_it_finds_a_month_too_low():
    # 0 against eleven months of 10: P(X <= 0 | 10) = e^-10 = 4.54e-5.
    result = stats.outlier(0, [10] * 11)
    assert result.p_low == pytest.approx(math.exp(-10))
    assert result.direction == "low"


def test_it_learns_the_rate_from_a_prior_when_the_history_is_empty_of_events():
    # Prior: mean 0.5 a month worth 2 months, so Gamma(shape 1, rate 2); after a history
    # of [0, 0] it is Gamma(1, 4) and the month's count is geometric:
    #   P(X = k) = (4/5) (1/5)^k, so P(X >= 2) = (1/5)^2 = 0.04; expected 1/4.
    result = stats.outlier(2, [0, 0], prior_mean=0.5, prior_months=2)
    assert result.expected == 0.25
    assert result.p_high == pytest.approx(0.04)


def test_it_keeps_a_proper_distribution_when_nothing_ever_happened():
    # No events in the unit nor around it: the shape stays 0.5 (a Jeffreys prior) over
    # 12 + 24 months, so one event is not "impossible".
    result = stats.outlier(1, [0] * 24, prior_mean=0.0, prior_months=12)
    assert result.expected == pytest.approx(0.5 / 36)
    assert 0 < result.p_high < 0.05


# ---------------------------------------------------------------------------
# Consistency over time: ±33% of the mean of the three years before


RULE = {"tolerance": 0.33, "fail_tolerance": 0.5, "min_mean": 10, "significance": 0.05}


def test_it_warns_beyond_a_third_and_fails_beyond_a_half():
    # 140 against a mean of 100: +40%; given 440 events in four years, this year's share
    # under equal rates is Binomial(440, 1/4): mean 110, sd 9.08, so 140 is 3.2 sd out.
    warned = stats.consistency(140, [100, 100, 100], **RULE)
    assert warned.ratio == 1.4 and warned.p < 0.01 and warned.status == "warn"
    assert stats.consistency(130, [100, 100, 100], **RULE).status == "pass"  # +30%
    assert stats.consistency(160, [100, 100, 100], **RULE).status == "fail"  # +60%
    assert stats.consistency(60, [100, 100, 100], **RULE).status == "warn"  # -40%


def test_it_does_not_read_a_break_into_small_numbers():
    # 5 births against 3, 3, 3 is +67%. The mean is under 10; and even without that floor,
    # Binomial(14, 1/4) gives P(X >= 5) = 1 - (0.0178 + 0.0832 + 0.1802 + 0.2403 + 0.2203)
    # = 0.258, p = 0.52: chance.
    assert stats.consistency(5, [3, 3, 3], **RULE).status == "pass"
    result = stats.consistency(5, [3, 3, 3], **RULE | {"min_mean": 0})
    assert result.p == pytest.approx(0.516, abs=0.002)
    assert result.status == "pass"


def test_it_compares_a_unit_with_the_trend_of_the_whole():
    # The county grew by a fifth: a township at +40% is +17% against that.
    assert stats.consistency(140, [100, 100, 100], expected_ratio=1.2, **RULE).status == "pass"


# ---------------------------------------------------------------------------
# Bands: the sex ratio at birth outside 103-107


def test_it_puts_a_large_sex_ratio_outside_the_band():
    # 1,300 boys and 1,000 girls: p = 0.565217, n = 2,300, z = 1.959964. Wilson:
    #   centre = (p + z²/2n) / (1 + z²/n) = 0.566053 / 1.001670 = 0.565109
    #   half   = z √(p(1-p)/n + z²/4n²) / (1 + z²/n) = 1.96 × 0.0103454 / 1.001670 = 0.020243
    # so p in [0.544866, 0.585352] and SRB = 100 p / (1 - p) in [119.72, 141.17].
    low, high = stats.srb_interval(1300, 1000, 0.95)
    assert (round(low, 2), round(high, 2)) == (119.72, 141.17)
    assert stats.outside_band((low, high), [103, 107])


def test_it_does_not_judge_a_sex_ratio_from_a_handful_of_births():
    # 13 boys and 10 girls (SRB 130): the interval is about 58-290 and holds the band.
    low, high = stats.srb_interval(13, 10, 0.95)
    assert low < 103 and high > 107
    assert not stats.outside_band((low, high), [103, 107])


def test_it_keeps_a_ratio_inside_the_band():
    assert not stats.outside_band(stats.srb_interval(10500, 10000, 0.95), [103, 107])


# ---------------------------------------------------------------------------
# Under-registration


def test_it_adds_the_parts_of_the_variance_of_a_missing_count():
    # census error (0.01 × 1,180)² = 139.24; allocation 20; unseen flows 175 × 0.1 = 17.5:
    # variance 176.74, sd 13.294, 95% interval 175 ± 1.96 × 13.294 = 175 ± 26.06.
    result = stats.missing_interval(
        175.0, 1180.0, census_rse=0.01, allocation_variance=20.0, turnover=0.1, confidence=0.95
    )
    assert result.sd == pytest.approx(13.294, abs=1e-3)
    assert result.interval == pytest.approx((148.94, 201.06), abs=0.01)


def test_it_splits_the_census_cohorts_at_the_group_age_limits():
    # Women 15-49 on 2025-12-31 were born 1976-01-01 .. 2010-12-31. On the census day
    # 2021-07-01 those aged 10 were born 2010-07-02 .. 2011-07-01 (365 days), of whom
    # 2010-07-02 .. 2010-12-31 (183 days) are in the group; aged 45: born 1975-07-02 ..
    # 1976-07-01 (366 days), 1976-01-01 .. 1976-07-01 (183 days) in it.
    census, end = dt.date(2021, 7, 1), dt.date(2025, 12, 31)
    women = Group("women_15_49", "F", 15, 49)
    assert _cohort_weight(10, census, women, end) == pytest.approx(183 / 365)
    assert _cohort_weight(11, census, women, end) == 1.0
    assert _cohort_weight(44, census, women, end) == 1.0
    assert _cohort_weight(45, census, women, end) == pytest.approx(183 / 366)
    assert _cohort_weight(46, census, women, end) == 0.0
    assert _cohort_weight(9, census, women, end) == 0.0
    assert _cohort_weight(85, census, women, end) == 0.0  # 85+
    everyone = parse_group("population")
    assert _cohort_weight(85, census, everyone, end) == 1.0


def test_it_reads_group_names():
    assert parse_group("women_15_49") == Group("women_15_49", "F", 15, 49)
    assert parse_group("men_65") == Group("men_65", "M", 65, None)
    assert parse_group("persons_0_4") == Group("persons_0_4", None, 0, 4)
    for bad in ("girls_1_2", "women_49_15", "women", "women_x_9"):
        with pytest.raises(ValueError, match="is not a group"):
            parse_group(bad)


def test_it_takes_a_large_binomial_tail_from_the_normal_curve():
    # n = 10,000 > 5,000: P(X <= 5,000 | p = 1/2) = Φ((5000.5 - 5000) / 50) = Φ(0.01).
    assert stats.binomial_cdf(5000, 10_000, 0.5) == pytest.approx(0.50399, abs=1e-5)
    # Exact below the limit: P(X <= 1 | n = 3, p = 1/2) = 4/8.
    assert stats.binomial_cdf(1, 3, 0.5) == pytest.approx(0.5)
