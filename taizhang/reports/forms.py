"""The report forms (报表), declared as data: one declaration drives the JSON, the XLSX,
the PDF and the web page.

A form has a name (the command's argument), a title in Chinese and English, the kind of
period it is made for, and rows. A row names an indicator and the part of it that fills
the row (its value, numerator or denominator): every number comes from the indicator
engine, so a report's totals are the indicator values they summarise. A row marked
``per_level`` names a family of indicators, one per org-unit level (``MOVES_IN`` →
``MOVES_IN_TOWNSHIP`` in a township's column, ``MOVES_IN_COUNTY`` in a county's): a move
between two villages of one township moves in and out of each village, not of the
township.

The population-change and contraception forms have one column per sub-unit of the org
unit asked (the townships of a county, the villages of a township) and one for the org
unit itself, like a county's paper form. The annual summary lists every indicator of
docs/indicators.md for the org unit with its value, numerator, denominator, and the target
in force with whether it was attained.
"""

from __future__ import annotations

from dataclasses import dataclass

from taizhang.indicators.definitions import (
    INDICATORS,
    METHOD_NAMES,
    SERVICE_INDICATORS,
    STOP_REASON_NAMES_EN,
    STOP_REASONS,
)

VALUE, NUMERATOR, DENOMINATOR = "value", "numerator", "denominator"

# The period kind each form is made for, as ``taizhang.lib.periods`` names them.
MONTH, QUARTER, YEAR = "month", "quarter", "year"
PERIOD_EXAMPLES = {MONTH: "202403", QUARTER: "2024Q1", YEAR: "2024"}


@dataclass(frozen=True)
class Row:
    """One line of a form: ``part`` of indicator ``code`` (a code prefix completed with
    the column's level when ``per_level``); ``level`` 1 marks a breakdown of the line
    above it."""

    label_zh: str
    label_en: str
    code: str
    part: str = VALUE
    per_level: bool = False
    level: int = 0

    def code_for(self, level_name: str) -> str:
        """The indicator code of this row in a column of an org unit of ``level_name``."""
        return f"{self.code}_{level_name.upper()}" if self.per_level else self.code


@dataclass(frozen=True)
class Form:
    name: str
    title_zh: str
    title_en: str
    period_kind: str
    rows: tuple[Row, ...]
    summary: bool = False  # one row per indicator, for the org unit alone


POPULATION_CHANGE = Form(
    "population-change",
    "人口变动情况月报表",
    "Monthly population change report",
    MONTH,
    (
        Row("期初人口", "Population at start", "POP_START"),
        Row("出生人数", "Live births", "BIRTHS"),
        Row("男", "boys", "SRB", NUMERATOR, level=1),
        Row("女", "girls", "SRB", DENOMINATOR, level=1),
        Row("一孩", "first births", "BIRTH_ORDER_1", NUMERATOR, level=1),
        Row("二孩", "second births", "BIRTH_ORDER_2", NUMERATOR, level=1),
        Row("三孩及以上", "third and higher births", "BIRTH_ORDER_3P", NUMERATOR, level=1),
        Row("住院分娩", "in a facility", "FACILITY_DELIVERY", NUMERATOR, level=1),
        Row("非住院分娩", "not in a facility", "HOME_BIRTHS", level=1),
        Row("死亡人数", "Deaths", "DEATHS"),
        Row("结婚对数", "Marriages", "MARRIAGE_RATE", NUMERATOR),
        Row("迁入人数", "Moved in", "MOVES_IN", per_level=True),
        Row("迁出人数", "Moved out", "MOVES_OUT", per_level=True),
        Row("期末人口", "Population at end", "POP_END"),
    ),
)

CONTRACEPTION = Form(
    "contraception",
    "避孕节育情况季报表",
    "Quarterly contraception report",
    QUARTER,
    (
        Row("已婚育龄妇女（期末）", "Married women 15–49 at end", "MWRA"),
        Row("采取避孕措施人数", "Using a method at end", "CPR", NUMERATOR),
        *(
            Row(zh, en, f"USERS_{method.upper()}", NUMERATOR, level=1)
            for method, (zh, en) in METHOD_NAMES.items()
        ),
        Row("综合节育率（%）", "Contraceptive prevalence (%)", "CPR"),
        Row("新开始避孕措施人数", "Methods started", "METHOD_STARTS"),
        *(
            Row(zh, en, f"METHOD_STARTS_{method.upper()}", level=1)
            for method, (zh, en) in METHOD_NAMES.items()
        ),
        Row("停用避孕措施人数", "Methods stopped", "METHOD_STOPS"),
        *(
            Row(
                STOP_REASONS.get(reason, "其他或未说明"),
                en,
                f"METHOD_STOPS_{reason.upper()}",
                level=1,
            )
            for reason, en in STOP_REASON_NAMES_EN.items()
        ),
    ),
)

ANNUAL_SUMMARY = Form(
    "annual-summary",
    "年度指标汇总表",
    "Annual summary of indicators",
    YEAR,
    tuple(Row(i.name_zh, i.name_en, i.code) for i in INDICATORS + SERVICE_INDICATORS),
    summary=True,
)

FORMS: dict[str, Form] = {f.name: f for f in (POPULATION_CHANGE, CONTRACEPTION, ANNUAL_SUMMARY)}
