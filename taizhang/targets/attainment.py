"""Attainment of targets and the league table of townships.

Figures always come from ``taizhang.indicators.engine.compute``; this module only
compares them with the targets in force and ranks the org units:

- a figure attains its target when it is at least the target (direction ``ge``) or at
  most the target (``le``); equal counts as attained; no figure (a zero denominator)
  attains nothing and is not ranked (``None``);
- an org unit's target for a year is its own, else the nearest org unit above it that
  has one (a township without its own target is held to the county's);
- ranks per indicator: 1 = best in the target's direction, ties share a rank and the
  next rank skips (1, 2, 2, 4); units without a figure have no rank and come last;
- the overall score of a unit is the number of targets it attained; the league table
  is sorted by it (highest first), ties in name order, with a shared overall rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from taizhang.orgunits.models import LEVEL_BY_LENGTH, OrgUnit
from taizhang.targets import rules
from taizhang.targets.models import Target


def attain(indicator_code: str, value: float | None, target, direction: str) -> bool | None:
    """Whether ``value`` attains ``target`` in ``direction`` (ge/le); None without a value
    or a target. ``indicator_code`` names the figure, for messages and future rules."""
    if value is None or target is None:
        return None
    if direction == rules.GE:
        return float(value) >= float(target)
    if direction == rules.LE:
        return float(value) <= float(target)
    raise ValueError(f"{indicator_code}: unknown direction {direction!r}")


def rank(values: Sequence[float | None], direction: str) -> list[int | None]:
    """Competition ranks of ``values`` (1 = best in ``direction``); None for no value."""
    present = [v for v in values if v is not None]
    better = (lambda a, b: a > b) if direction == rules.GE else (lambda a, b: a < b)
    return [None if v is None else 1 + sum(better(o, v) for o in present) for v in values]


def ancestors(code: str) -> list[str]:
    """The codes of ``code`` and the org units above it, nearest first."""
    return [code[:n] for n in sorted(LEVEL_BY_LENGTH, reverse=True) if n <= len(code)]


def targets_in_force(codes: Sequence[str], orgs: Sequence[str], year: int) -> dict:
    """``{(indicator, org): Target}``: for each org unit its own target of each indicator
    for ``year``, else the nearest one above it; indicators without one are left out."""
    above = {org: ancestors(org) for org in orgs}
    wanted = {a for chain in above.values() for a in chain}
    found = {
        (t.indicator, t.org_id): t
        for t in Target.objects.filter(
            active=True, year=year, indicator__in=list(codes), org_id__in=wanted
        )
    }
    result = {}
    for org, chain in above.items():
        for code in codes:
            nearest = next((found[code, a] for a in chain if (code, a) in found), None)
            if nearest is not None:
                result[code, org] = nearest
    return result


def annotate(results: list[dict], year: int, *, ranked: bool) -> list[dict]:
    """``compute`` results with, in each indicator entry, ``target``, ``direction`` and
    ``attained`` (and ``rank`` among the results when ``ranked``), and per org unit the
    ``score`` (targets attained). New dicts: the given ones are left as they are."""
    codes = list(dict.fromkeys(e["code"] for r in results for e in r["indicators"]))
    force = targets_in_force(codes, [r["org"] for r in results], year)
    out = []
    for r in results:
        entries = []
        for e in r["indicators"]:
            t = force.get((e["code"], r["org"]))
            target = None if t is None else float(t.value)
            direction = None if t is None else t.direction
            attained = None if t is None else attain(e["code"], e["value"], target, direction)
            entries.append({**e, "target": target, "direction": direction, "attained": attained})
        out.append(
            {**r, "indicators": entries, "score": sum(e["attained"] is True for e in entries)}
        )
    if ranked:
        for i, code in enumerate(codes):
            column = [r["indicators"][i] for r in out]
            direction = _ranking_direction(code, [e["direction"] for e in column])
            for e, n in zip(column, rank([e["value"] for e in column], direction), strict=True):
                e["rank"] = n
    return out


def _ranking_direction(code: str, directions: list[str | None]) -> str:
    """The direction the units' targets give (the first one found), else the default."""
    return next((d for d in directions if d), rules.default_direction(code))


@dataclass
class Cell:
    code: str
    value: float | None
    target: float | None
    direction: str | None
    attained: bool | None
    rank: int | None = None


@dataclass
class Row:
    org: str
    name: str
    cells: list[Cell]
    score: int
    targets: int  # how many targets the unit is held to
    rank: int | None = None


def league_table(
    org: str | OrgUnit, period_year: int | str, codes: Sequence[str], *, by: str | None = "township"
) -> list[Row]:
    """Every org unit of level ``by`` inside ``org`` (townships of a county) with, for
    each indicator of ``codes``, its figure for the year, target, attainment and rank;
    sorted by score (targets attained), ties by name. With ``by=None``: one row, the
    org unit itself, unranked. Raises ``UserError`` for an unknown org unit or code."""
    from taizhang.indicators.engine import compute

    code = org.code if isinstance(org, OrgUnit) else org
    the_year = rules.year(period_year)
    computed = compute(code, str(the_year), list(codes), by)
    results = annotate(computed if by else [computed], the_year, ranked=by is not None)
    names = dict(
        OrgUnit.objects.filter(code__in=[r["org"] for r in results]).values_list("code", "name")
    )
    rows = [
        Row(
            org=r["org"],
            name=names.get(r["org"], ""),
            cells=[
                Cell(
                    e["code"], e["value"], e["target"], e["direction"], e["attained"], e.get("rank")
                )
                for e in r["indicators"]
            ],
            score=r["score"],
            targets=sum(e["target"] is not None for e in r["indicators"]),
        )
        for r in results
    ]
    rows.sort(key=lambda row: (-row.score, row.name, row.org))
    if by is not None:
        for row, n in zip(rows, rank([row.score for row in rows], rules.GE), strict=True):
            row.rank = n
    return rows
