"""The audit as a scorecard: the sub-units of the org unit audited × the checks.

A cell's status is the worst of the check's findings inside that sub-unit (a village's
finding counts for its township), ``pass`` without any. The web page, the table and
the PDF all lay out this same grid.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from taizhang.orgunits.models import OrgUnit
from taizhang.quality import stats

STATUS_LABELS = {"pass": _("pass"), "warn": _("warning"), "fail": _("fail")}


@dataclass(frozen=True)
class Cell:
    code: str  # the check
    status: str
    findings: int


@dataclass(frozen=True)
class Row:
    org: str
    name: str
    cells: list[Cell]
    total: bool = False  # the org unit audited itself


def sub_units(org: str) -> list[OrgUnit]:
    """The units a scorecard has rows for: the townships of a county (or of anything
    above a township), the villages of a township, a village alone."""
    unit = OrgUnit.objects.get(code=org)
    if unit.is_village:
        return [unit]
    level = 4 if unit.level < 4 else 5
    return list(OrgUnit.objects.subtree(org).filter(level=level).order_by("code"))


def inside(finding_org: str, unit: str) -> bool:
    return finding_org.startswith(unit)


def scorecard(result: dict) -> list[Row]:
    """One row per sub-unit of the audited org unit, then one for the org unit itself."""
    units = sub_units(result["org"])
    top = OrgUnit.objects.get(code=result["org"])
    rows = []
    for unit in [*units, top] if units != [top] else [top]:
        cells = []
        for check in result["checks"]:
            mine = [f for f in check["findings"] if inside(f["org"], unit.code)]
            cells.append(Cell(check["code"], stats.worst(f["status"] for f in mine), len(mine)))
        rows.append(Row(unit.code, unit.name, cells, total=unit.code == top.code))
    return rows


def findings_in(result: dict, code: str, unit: str) -> list[dict]:
    """The findings of check ``code`` inside org unit ``unit``."""
    check = next((c for c in result["checks"] if c["code"] == code), None)
    if check is None:
        return []
    return [f for f in check["findings"] if inside(f["org"], unit)]
