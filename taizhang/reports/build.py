"""Filling a report form: the figures of its rows from the indicator engine.

``build_report`` returns the report as plain data (the JSON shape, below) that the
XLSX, PDF and HTML renderers lay out; it never computes a figure itself::

    {"report": "population-change", "title_zh": "...", "title_en": "...",
     "org": "410325", "org_name": "嵩县", "period": "202403", "generated_at": "...",
     "columns": [{"key": "410325100", "label": "城关镇"}, ..., {"key": "410325", "label": "合计"}],
     "rows": [{"label_zh": "出生人数", "label_en": "Live births", "code": "BIRTHS",
               "part": "value", "level": 0, "cells": [2, 0, 2],
               "codes": ["BIRTHS", "BIRTHS", "BIRTHS"]}]}

``codes`` names the indicator behind each cell (a ``per_level`` row's differ by level).

For the annual summary the columns are value, numerator, denominator, unit, target
and attained, and each row's ``code`` is its indicator's.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps

from taizhang import clock
from taizhang.errors import UserError
from taizhang.indicators import engine
from taizhang.orgunits.models import LEVEL_NAMES, OrgUnit
from taizhang.reports.forms import FORMS, PERIOD_EXAMPLES, Form, Row

TOTAL_LABEL = "合计"
SUMMARY_COLUMNS = (
    ("value", "指标值"),
    ("numerator", "分子"),
    ("denominator", "分母"),
    ("unit", "单位"),
    ("target", "目标值"),
    ("attained", "是否达标"),
)


def get_form(name: str) -> Form:
    """The form called ``name``, or a ``UserError`` listing the forms."""
    form = FORMS.get(name.strip().lower())
    if form is None:
        raise UserError(f"report {name!r} is not known; the reports are: {', '.join(FORMS)}.")
    return form


def check_period(form: Form, period: str) -> str:
    """The period code, if it is one of the form's kind; else a ``UserError``."""
    the_period = engine.parse_period(period)
    if the_period.kind != form.period_kind:
        example = PERIOD_EXAMPLES[form.period_kind]
        raise UserError(
            f"the {form.name} report is made for a {form.period_kind} (e.g. {example}), "
            f"not for the {the_period.kind} {the_period.code}."
        )
    return the_period.code


def default_org() -> str:
    """The top of the org-unit tree, when there is one top: the org a report is for when
    none is named."""
    tops = list(OrgUnit.objects.filter(parent__isnull=True).values_list("code", flat=True)[:2])
    if len(tops) != 1:
        raise UserError("name the org unit the report is for (--org CODE).")
    return tops[0]


def sub_level(unit: OrgUnit) -> str | None:
    """The level name of the org units one level below ``unit`` (None for a village)."""
    return LEVEL_NAMES.get(unit.level + 1)


def build_report(name: str, org: str, period: str, *, now: dt.datetime | None = None) -> dict:
    """The report ``name`` for the org unit ``org`` over ``period`` (see the module's
    docstring for the shape). Raises ``UserError`` for an unknown report, org unit or
    period, or a period of the wrong kind."""
    form = get_form(name)
    code = check_period(form, period)
    unit = engine.get_org_unit(org)
    generated = (now or clock.now()).astimezone(clock.zone()).isoformat(timespec="seconds")
    report = {
        "report": form.name,
        "title_zh": form.title_zh,
        "title_en": form.title_en,
        "org": unit.code,
        "org_name": unit.name,
        "period": code,
        "generated_at": generated,
    }
    if form.summary:
        return report | _summary(form, unit, code)
    return report | _table(form, unit, code)


def _table(form: Form, unit: OrgUnit, period: str) -> dict:
    """Rows × (each sub-unit, then the org unit itself)."""
    below = sub_level(unit)
    results = []
    if below is not None:
        codes = _codes(form.rows, below)
        results = engine.compute(unit.code, period, codes, by=below)
    results.append(engine.compute(unit.code, period, _codes(form.rows, unit.level_name)))
    names = dict(OrgUnit.objects.subtree(unit.code).values_list("code", "name"))
    columns = [{"key": r["org"], "label": names[r["org"]]} for r in results[:-1]]
    columns.append({"key": unit.code, "label": TOTAL_LABEL})
    levels = [below] * (len(results) - 1) + [unit.level_name]
    entries = [{e["code"]: e for e in r["indicators"]} for r in results]
    rows = []
    for row in form.rows:
        codes = [row.code_for(level) for level in levels]
        cells = [by_code[code][row.part] for by_code, code in zip(entries, codes, strict=True)]
        rows.append(_row(row, cells) | {"codes": codes})
    return {"columns": columns, "rows": rows}


def _codes(rows: tuple[Row, ...], level: str) -> list[str]:
    return list(dict.fromkeys(row.code_for(level) for row in rows))


def _row(row: Row, cells: list) -> dict:
    return {
        "label_zh": row.label_zh,
        "label_en": row.label_en,
        "code": row.code,
        "part": row.part,
        "level": row.level,
        "cells": cells,
    }


def _summary(form: Form, unit: OrgUnit, period: str) -> dict:
    """One row per indicator: value, numerator, denominator, unit, target, attained."""
    codes = [row.code for row in form.rows]
    result = engine.compute(unit.code, period, codes)
    entries = {e["code"]: e for e in _with_targets(result, int(period))["indicators"]}
    columns = [{"key": key, "label": label} for key, label in SUMMARY_COLUMNS]
    rows = [
        _row(row, [entries[row.code].get(key) for key, _ in SUMMARY_COLUMNS]) for row in form.rows
    ]
    return {"columns": columns, "rows": rows}


def _with_targets(result: dict, year: int) -> dict:
    """The result with each indicator's target in force and whether it was attained,
    when the targets app is installed; without it, both are left empty (None)."""
    if not apps.is_installed("taizhang.targets"):
        return {
            **result,
            "indicators": [e | {"target": None, "attained": None} for e in result["indicators"]],
        }
    from taizhang.targets.attainment import annotate

    return annotate([result], year, ranked=False)[0]
