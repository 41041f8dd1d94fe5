"""The audit's under-registration estimate as a figure of the indicator engine.

``UNDER_REGISTRATION`` (漏册率) divides the women 15–49 the census carried forward says
are missing from the register by the registered plus the missing. The estimate is the
audit's own (``checks.census_comparison``, group ``women_15_49``), so the indicator and
the scorecard's under-registration table never disagree: for a township or a village,
its own census base (a township's, or else the sum of all its villages' of one year);
above a township, the sum of its townships' estimates, when every one of them has one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from taizhang import clock
from taizhang.lib.periods import Period
from taizhang.orgunits.models import LENGTH_BY_LEVEL_NAME, OrgUnit
from taizhang.quality import checks, config

GROUP = "women_15_49"
TOWNSHIP = LENGTH_BY_LEVEL_NAME["township"]


def census_year_for(day: dt.date) -> int:
    """The latest census year whose census day (1 July) is on or before ``day``: a base
    can only be carried forward, never back."""
    return day.year if day >= checks.census_day(day.year) else day.year - 1


def women_missing(org: str, units: list[str], period: Period) -> dict[str, float | None]:
    """{unit: women 15–49 estimated missing at the end of ``period``, or None where no
    census base covers the unit} for ``units`` (all of one level) inside ``org``.

    The number is the audit's ``missing`` (one decimal), and 0 where the register holds
    more women than the census carried forward expects: a surplus (people who left or died
    unrecorded, duplicates) is another error, which the audit's census check and its
    duplicates check show, and it does not make up for women missing elsewhere."""
    if not units:
        return {}
    length = len(units[0])
    if length >= TOWNSHIP:
        return _per_area(org, units, period)
    # Above a township: its townships' estimates added up.
    below = _townships(org)
    found = _per_area(org, below, period)
    out: dict[str, float | None] = {}
    for unit in units:
        mine = [found[t] for t in below if t.startswith(unit)]
        out[unit] = None if not mine or None in mine else round(sum(mine), 1)
    return out


def _townships(org: str) -> list[str]:
    codes = OrgUnit.objects.subtree(org).values_list("code", flat=True)
    return sorted(c for c in codes if len(c) == TOWNSHIP)


def _per_area(org: str, areas: list[str], period: Period) -> dict[str, float | None]:
    """The audit's estimate for each of ``areas`` (townships or villages, one level)."""
    if not areas:
        return {}
    unit = OrgUnit.objects.get(code=org)
    codes = OrgUnit.objects.subtree(org).values_list("code", flat=True)
    villages = sorted(c for c in codes if len(c) == LENGTH_BY_LEVEL_NAME["village"])
    if unit.is_village:
        villages = [unit.code]
    year = census_year_for(period.end)
    scope = checks.Scope(
        unit=unit,
        # The comparison reads the end of the period and the year of the latest census
        # base it may use (census_year_for), nothing else.
        period=Period(period.code, period.kind, dt.date(year, 1, 1), period.end),
        today=clock.today(),
        villages=villages,
        townships=[],
        areas=list(areas),
        names={},
    )
    limits = config.thresholds()["census_comparison"] | {"groups": [GROUP]}
    _findings, entries = checks.census_comparison(scope, limits)
    missing: dict[str, float | None] = defaultdict(lambda: None)
    for entry in entries:
        if entry["missing"] is not None:
            missing[entry["org"]] = max(0.0, entry["missing"])
    return {area: missing[area] for area in areas}
