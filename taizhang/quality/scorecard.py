"""The audit as a scorecard: the sub-units of the org unit audited × the checks.

A cell's status is the worst of the check's findings inside that sub-unit (a village's
finding counts for its township), ``pass`` without any. The web page, the table and
the PDF all lay out this same grid.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from taizhang.orgunits.models import LEVEL_NAMES, OrgUnit
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


# The register-quality indicators the scorecard shows beside the checks (lower is better).
REGISTER_QUALITY_CODES = ("UNDER_REGISTRATION", "UNSERVED_RATE", "ENTRY_ERROR_RATE")


@dataclass(frozen=True)
class QualityRow:
    org: str
    name: str
    figures: list[dict]  # the engine's entries of REGISTER_QUALITY_CODES, in that order
    total: bool = False


def register_quality(org: str, period: str) -> list[QualityRow]:
    """The register-quality indicators of the scorecard's rows (its sub-units, then the
    org unit itself) for ``period``, from the indicator engine in one set of queries."""
    from taizhang.indicators.engine import compute_levels

    units = sub_units(org)
    top = OrgUnit.objects.get(code=org)
    below = [u for u in units if u.code != top.code]
    level = LEVEL_NAMES[below[0].level] if below else None
    computed = compute_levels(org, period, list(REGISTER_QUALITY_CODES), [level, None])
    by_org = {r["org"]: r for r in computed[level]} if level else {}
    rows = [QualityRow(u.code, u.name, by_org[u.code]["indicators"]) for u in below]
    rows.append(QualityRow(top.code, top.name, computed[None]["indicators"], total=True))
    return rows


def quality_headers() -> list[tuple[str, str]]:
    """(code, name in the user's language) of each register-quality indicator."""
    from taizhang.indicators.definitions import INDICATORS_BY_CODE

    zh = (get_language() or "").startswith("zh")
    return [
        (code, INDICATORS_BY_CODE[code].name_zh if zh else INDICATORS_BY_CODE[code].name_en)
        for code in REGISTER_QUALITY_CODES
    ]


def _number(x: float | int | None) -> str:
    if x is None:
        return "—"
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return f"{x:,}"


def quality_cells(row: QualityRow) -> list[dict]:
    """A row's figures as the page and the PDF show them: the value with its % sign (a
    dash for none), the numerator and the denominator."""
    return [
        {
            "code": e["code"],
            "value": e["value"],
            "text": "—" if e["value"] is None else f"{e['value']:.2f}%",
            "numerator": _number(e["numerator"]),
            "denominator": _number(e["denominator"]),
        }
        for e in row.figures
    ]


def findings_in(result: dict, code: str, unit: str) -> list[dict]:
    """The findings of check ``code`` inside org unit ``unit``."""
    check = next((c for c in result["checks"] if c["code"] == code), None)
    if check is None:
        return []
    return [f for f in check["findings"] if inside(f["org"], unit)]
