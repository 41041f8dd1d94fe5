"""What a synthetic county reported and what its census counted, so that the data-quality
audit (``taizhang.quality``) has something to compare the register with.

Written after the register through ``taizhang.quality.actions``; deterministic for the
same register and seed.

- **Report forms** of every village and township for every month from January 2022 to
  the last month that has ended: mostly the register's own figures (the indicator
  engine's counts), submitted on the first to fifth day of the next month (a form whose
  day has not come yet is not sent yet) — but a few
  villages miss some months of the last year, a few are late, a few villages report one
  item wrong by one or two in a month, and one township reports 10% more births than it
  recorded in the last full year.
- **A census base** of every township for 2021 (counted at the middle of the year) by sex
  and single year of age: the register's residents then, with a little census error, and
  in two townships about 4% more women aged 20–44 than the register holds (women who were
  never entered), so the under-registration estimate has something to find.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.utils import timezone

from taizhang import clock
from taizhang.orgunits.models import OrgUnit
from taizhang.quality import actions, figures
from taizhang.quality.models import ITEMS, OPEN_AGE

REPORTS_FROM = dt.date(2022, 1, 1)
CENSUS_YEAR = 2021
MISSING_VILLAGES = 4  # villages that miss some months of the last full year
LATE_VILLAGES = 6  # villages that send the last full year's forms late
WRONG_VILLAGES = 8  # villages with one item wrong in one month
UNDERCOUNTED_TOWNSHIPS = 2  # townships whose census holds women the register lacks
UNDERCOUNT = 0.04
CENSUS_ERROR = 0.005  # relative error of each census cell


def _months(first: dt.date, today: dt.date) -> list[dt.date]:
    out, day = [], first
    while actions.next_month(day) <= today:
        out.append(day)
        day = actions.next_month(day)
    return out


def _submitted(month: dt.date, day: int, rng: np.random.Generator) -> dt.datetime:
    following = actions.next_month(month)
    moment = dt.datetime.combine(
        following.replace(day=day), dt.time(int(rng.integers(8, 18)), int(rng.integers(0, 60)))
    )
    return timezone.make_aware(moment)


def write_reports(seed: int, today: dt.date, *, user=None) -> int:
    """The report forms of every village and township; returns how many values."""
    rng = np.random.default_rng([seed, 7301])
    county = OrgUnit.objects.filter(level=3).order_by("code").first()
    if county is None:
        return 0
    months = _months(REPORTS_FROM, today)
    if not months:
        return 0
    first, last = months[0], actions.next_month(months[-1]) - dt.timedelta(days=1)
    units = list(
        OrgUnit.objects.subtree(county.code)
        .filter(level__in=actions.REPORTING_LEVELS)
        .order_by("code")
        .values_list("code", "name")
    )
    villages = [code for code, _ in units if len(code) == 12]
    townships = [code for code, _ in units if len(code) == 9]
    by_level = figures.recorded_by_level(county.code, first, last, (12, 9))
    recorded = by_level[12] | by_level[9]

    last_year = today.year - 1
    audit_year = [m for m in months if m.year == last_year] or months[-12:]

    def pick(n: int) -> list[str]:
        """``n`` villages, in code order: what is drawn for each follows that order, never
        a set's."""
        return sorted(
            str(v) for v in rng.choice(villages, size=min(n, len(villages)), replace=False)
        )

    # Villages that miss three months of the last full year, send it late, or report
    # one item of one of its months wrong.
    missing = {
        v: set(rng.choice(audit_year, size=3, replace=False)) for v in pick(MISSING_VILLAGES)
    }
    late = set(pick(LATE_VILLAGES))
    wrong = {
        v: (str(rng.choice(ITEMS)), rng.choice(audit_year), int(rng.choice([-2, -1, 1, 2])))
        for v in pick(WRONG_VILLAGES)
    }
    inflated = str(rng.choice(townships)) if townships else ""
    names = dict(units)
    # Forms are sent by the end of ``today`` (the register's last day), never after now.
    sent_by = min(
        clock.now(),
        timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time())),
    )
    reports = []
    for unit, _name in units:
        signer = f"{names[unit]}{'卫生室' if len(unit) == 12 else '服务所'}"
        for month in months:
            code = f"{month.year}{month.month:02d}"
            if month in missing.get(unit, ()):
                continue
            is_late = unit in late and month.year == last_year
            day = int(rng.integers(8, 21)) if is_late else int(rng.integers(1, 6))
            moment = _submitted(month, day, rng)
            if moment >= sent_by:
                continue  # not sent yet: the form of last month is due in the days to come
            for item in ITEMS:
                value = recorded.get((unit, code, item), 0)
                if unit in wrong and wrong[unit][:2] == (item, month):
                    value = max(0, value + wrong[unit][2])
                if unit == inflated and item == "births" and month.year == last_year:
                    value = round(value * 1.1 + 0.4)
                reports.append(actions.Report(unit, code, item, value, moment, signer))
    counts = actions.record_reports(reports, user=user, source="synthetic", today=today)
    return counts["reports"]


def write_census(seed: int, today: dt.date, *, user=None) -> int:
    """A census base of every township for CENSUS_YEAR; returns how many cells."""
    rng = np.random.default_rng([seed, 7302])
    county = OrgUnit.objects.filter(level=3).order_by("code").first()
    census_day = dt.date(CENSUS_YEAR, 7, 1)
    if county is None or census_day > today:
        return 0
    population = figures.parse_group("population")
    cohorts = figures.cohort_figures(county.code, 9, census_day, census_day, [population])
    townships = sorted(unit for unit, _group in cohorts)
    if not townships:
        return 0
    undercounted = set(
        rng.choice(townships, size=min(UNDERCOUNTED_TOWNSHIPS, len(townships)), replace=False)
    )
    cells = []
    for township in townships:
        held = cohorts[(township, population.name)].at_census
        for sex in ("F", "M"):
            for age in range(OPEN_AGE + 1):
                n = held.get((sex, age), 0)
                counted = n * (1 + rng.normal(0, CENSUS_ERROR))
                if township in undercounted and sex == "F" and 20 <= age <= 44:
                    counted += n * UNDERCOUNT
                cells.append(
                    actions.CensusCell(township, CENSUS_YEAR, sex, age, max(0, round(counted)))
                )
    counts = actions.record_census(cells, user=user, source="synthetic", today=today)
    return counts["census_cells"]


def write_quality(seed: int, today: dt.date, *, user=None) -> dict[str, int]:
    """Report forms and a census base; returns how many of each were written."""
    return {
        "reported_figures": write_reports(seed, today, user=user),
        "census_cells": write_census(seed, today, user=user),
    }
