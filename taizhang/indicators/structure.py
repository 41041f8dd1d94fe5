"""The structure of the population: how many residents of each sex and age group.

The population pyramid of an org unit at the end of a period counts the very
records behind ``POP_END`` (``definitions.population_at_end``), grouped by sex
and by age on the period's last day, in one query compiled by Ibis to the
dialect of Django's connection. Its total is therefore always the ``POP_END``
of the same org unit and period.
"""

from __future__ import annotations

from typing import TypedDict

import ibis

from taizhang.indicators.definitions import age_on, population_at_end
from taizhang.indicators.engine import fetch, get_org_unit, parse_period
from taizhang.orgunits.models import prefix_range

# Five-year groups 0–4 … 80–84, then one open group, as in the census tables.
GROUP_WIDTH = 5
OPEN_AGE = 85


class AgeGroup(TypedDict):
    """One bar of the pyramid: ages ``low``..``high`` (``high`` None for the open group)."""

    label: str
    low: int
    high: int | None
    male: int
    female: int


class Pyramid(TypedDict):
    """Residents at the end of ``period`` by sex and age group, youngest group first."""

    org: str
    period: str
    date: str
    groups: list[AgeGroup]
    male: int
    female: int
    total: int


def age_groups(width: int = GROUP_WIDTH, open_age: int = OPEN_AGE) -> list[tuple[int, int | None]]:
    """The (low, high) bounds of the groups: (0, 4), (5, 9), …, (open_age, None)."""
    bounds: list[tuple[int, int | None]] = [
        (low, low + width - 1) for low in range(0, open_age, width)
    ]
    bounds.append((open_age, None))
    return bounds


def population_pyramid(
    org: str, period: str, *, width: int = GROUP_WIDTH, open_age: int = OPEN_AGE
) -> Pyramid:
    """The residents of ``org`` at the end of ``period`` by sex and age group.

    Age is in completed years on the period's last day; groups are ``width`` years
    wide, the last one open from ``open_age``. Every group is listed, empty ones
    included. Raises ``UserError`` for an unknown org unit or a bad period code.
    """
    if width < 1 or open_age < width or open_age % width:
        raise ValueError("open_age must be a positive multiple of width")
    the_period = parse_period(period)
    unit = get_org_unit(org)
    low, high = prefix_range(unit.code)

    records = population_at_end(the_period)
    spells = records.base
    village = spells[records.village]
    kept = spells.filter(*records.conditions, village >= low, village < high)
    age = age_on(kept.birth, the_period.end)
    group = ibis.least(age // width * width, open_age)
    query = kept.group_by(sex=kept.sex, age_group=group).aggregate(n=kept.count())

    rows = fetch(query)

    counts: dict[tuple[str, int], int] = {}
    for sex, age_group, n in rows:
        counts[(sex, int(age_group))] = counts.get((sex, int(age_group)), 0) + int(n)
    groups: list[AgeGroup] = [
        AgeGroup(
            label=f"{lo}–{hi}" if hi is not None else f"{lo}+",
            low=lo,
            high=hi,
            male=counts.get(("M", lo), 0),
            female=counts.get(("F", lo), 0),
        )
        for lo, hi in age_groups(width, open_age)
    ]
    male = sum(g["male"] for g in groups)
    female = sum(g["female"] for g in groups)
    return Pyramid(
        org=unit.code,
        period=the_period.code,
        date=the_period.end.isoformat(),
        groups=groups,
        male=male,
        female=female,
        total=sum(n for n in counts.values()),
    )
