"""Import of targets (columns: ``targets`` in ``taizhang.imports.columns``).

Each row puts one target in force: ``indicator`` (a code of docs/indicators.md), ``org`` (an
org unit of the register), ``year``, ``target`` (a number, at most 2 decimals) and
``direction`` (≥/≤, ge/le, >=/<=; empty: the indicator's default). A target already in
force with the same value and direction is "unchanged"; another value or direction
changes it (journaled). The same indicator, org unit and year twice in a file is an
error unless both rows say the same.
"""

from __future__ import annotations

from taizhang.errors import UserError
from taizhang.orgunits.models import OrgUnit
from taizhang.targets import actions, rules


def _parse(get, orgs: set[str]) -> tuple[str, str, int, object, str]:
    """One row's (indicator, org, year, value, direction), or (column, message) raised as
    ``_Problem``."""
    column = "indicator"
    try:
        code = rules.indicator_code(get("indicator"))
        column = "org"
        org = get("org").strip()
        if org not in orgs:
            raise UserError(f"org unit {org or '(empty)'} is not in the register")
        column = "year"
        year = rules.year(get("year"))
        column = "target"
        value = rules.value(get("target"))
        column = "direction"
        direction = rules.direction(get("direction"), code)
    except UserError as e:
        raise _Problem(column, str(e)) from None
    return code, org, year, value, direction


class _Problem(Exception):
    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column


def run(ctx) -> dict[str, int]:
    table, errors = ctx.table, ctx.errors
    orgs = set(OrgUnit.objects.values_list("code", flat=True))
    parsed: dict[tuple[str, str, int], tuple[int, tuple]] = {}
    for n, values in table.rows:
        try:
            code, org, year, value, direction = _parse(
                lambda key, values=values: table.get(values, key), orgs
            )
        except _Problem as e:
            errors.add(n, e.column, str(e))
            continue
        key = (code, org, year)
        if key in parsed:
            first, same = parsed[key]
            if same != (value, direction):
                errors.add(
                    n, "target", f"the target of {code} for {org} in {year} is also on row {first}"
                )
            continue
        parsed[key] = (n, (value, direction))
    if errors:
        return {}
    counts = {"targets": 0, "changed": 0, "unchanged": 0}
    names = {actions.CREATED: "targets", actions.CHANGED: "changed", actions.UNCHANGED: "unchanged"}
    for (code, org, year), (_n, (value, direction)) in parsed.items():
        _target, status = actions.set_target(
            indicator=code,
            org_code=org,
            year=year,
            value=value,
            direction=direction,
            user=ctx.user,
            source="import",
        )
        counts[names[status]] += 1
    return counts
