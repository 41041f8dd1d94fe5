"""The columns of every import kind, as data.

``COLUMNS[kind][key]`` lists the header labels accepted for one column: the
English key first, then its Chinese label (the one messages show), then a few
synonyms found in county spreadsheets. Matching a header is forgiving about
what people do to headers by hand: surrounding spaces, upper/lower case,
full-width characters (``ＩＤ``, ``（``), a ``*`` marking a required column,
and a label with the other language in parentheses (``身份证号(id_number)``,
``id_number (身份证号)``, ``出生体重（克）``).

``REQUIRED[kind]`` are the columns a file of that kind must have; the others
are optional. Which values are valid is checked by the importers, not here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "orgunits": {
        "code": ("code", "代码", "区划代码", "单位代码"),
        "name": ("name", "名称", "单位名称"),
        "parent": ("parent", "上级代码", "上级区划代码", "上级单位代码"),
    },
    "persons": {
        "id_number": ("id_number", "身份证号", "身份证号码", "公民身份号码"),
        "name": ("name", "姓名"),
        "sex": ("sex", "性别"),
        "birth_date": ("birth_date", "出生日期"),
        "village": ("village", "现居住地代码", "现住地代码", "居住地代码"),
        "hukou_village": ("hukou_village", "户籍地代码", "户籍村代码"),
        "household": ("household", "户编号", "户号"),
        "phone": ("phone", "联系电话", "电话", "手机号码"),
        "ethnicity": ("ethnicity", "民族"),
        "live_births_before": ("live_births_before", "已生育子女数"),
    },
    "events": {
        "id_number": ("id_number", "身份证号", "身份证号码", "公民身份号码"),
        "event": ("event", "事件", "事件类型"),
        "date": ("date", "日期", "事件日期", "发生日期"),
        "spouse_id_number": ("spouse_id_number", "配偶身份证号", "配偶身份证号码"),
        "lmp_date": ("lmp_date", "末次月经日期", "末次月经"),
        "child_id_number": ("child_id_number", "子女身份证号", "子女身份证号码"),
        "child_name": ("child_name", "子女姓名"),
        "child_sex": ("child_sex", "子女性别"),
        "delivery_place": ("delivery_place", "分娩地点"),
        "birth_weight_g": ("birth_weight_g", "出生体重"),
        "outcome": ("outcome", "妊娠结局"),
        "village": ("village", "迁入地代码/村代码", "迁入地代码", "村代码", "迁往地"),
        "method": ("method", "避孕方法"),
        "reason": ("reason", "原因", "停用原因"),
        "findings": ("findings", "检查结果"),
        "stage": ("stage", "五期阶段"),
        "recorded_at": ("recorded_at", "登记时间"),
    },
    "corrections": {
        "event_id": ("event_id", "事件编号", "事件ID"),
        "action": ("action", "操作"),
        "reason": ("reason", "原因", "更正原因"),
        "event": ("event", "事件", "事件类型"),
        "date": ("date", "日期", "事件日期", "发生日期"),
        "spouse_id_number": ("spouse_id_number", "配偶身份证号", "配偶身份证号码"),
        "lmp_date": ("lmp_date", "末次月经日期", "末次月经"),
        "child_id_number": ("child_id_number", "子女身份证号", "子女身份证号码"),
        "child_sex": ("child_sex", "子女性别"),
        "delivery_place": ("delivery_place", "分娩地点"),
        "birth_weight_g": ("birth_weight_g", "出生体重"),
        "outcome": ("outcome", "妊娠结局"),
        "village": ("village", "迁入地代码/村代码", "迁入地代码", "村代码", "迁往地"),
        "method": ("method", "避孕方法"),
        "stop_reason": ("stop_reason", "停用原因"),
        "findings": ("findings", "检查结果"),
        "stage": ("stage", "五期阶段"),
    },
    "reports": {
        "org": ("org", "单位代码", "上报单位代码"),
        "period": ("period", "报告期", "月份"),
        "item": ("item", "项目", "报表项目"),
        "value": ("value", "数值", "数量"),
        "submitted_at": ("submitted_at", "上报时间"),
        "submitted_by": ("submitted_by", "上报人", "填报人"),
    },
    "census": {
        "org": ("org", "单位代码", "区划代码"),
        "year": ("year", "年份", "普查年份"),
        "sex": ("sex", "性别"),
        "age": ("age", "年龄"),
        "population": ("population", "人口数", "人数"),
    },
    "enrolments": {
        "id_number": ("id_number", "身份证号", "身份证号码", "公民身份号码"),
        "scheme": ("scheme", "扶助项目", "项目"),
        "start_month": ("start_month", "起始月份", "享受起始月份"),
        "end_month": ("end_month", "终止月份"),
        "end_reason": ("end_reason", "终止原因"),
        "payee_id_number": ("payee_id_number", "领取人身份证号"),
        "verified_by": ("verified_by", "审核人"),
        "verified_on": ("verified_on", "审核日期"),
        "note": ("note", "备注"),
    },
    "payments": {
        "id_number": ("id_number", "身份证号", "身份证号码", "公民身份号码"),
        "scheme": ("scheme", "扶助项目", "项目"),
        "period": ("period", "发放期", "所属期"),
        "amount": ("amount", "金额", "发放金额"),
        "due_date": ("due_date", "应发日期"),
        "status": ("status", "发放状态", "状态"),
        "paid_date": ("paid_date", "发放日期", "实发日期"),
        "channel": ("channel", "发放渠道", "渠道"),
        "reference": ("reference", "凭证号", "流水号"),
    },
    "cases": {
        "case_number": ("case_number", "案件编号", "信访编号"),
        "received_on": ("received_on", "受理登记日期", "来信来访日期", "登记日期"),
        "channel": ("channel", "信访方式", "渠道"),
        "petitioner_name": ("petitioner_name", "信访人姓名", "信访人"),
        "petitioner_id_number": ("petitioner_id_number", "信访人身份证号"),
        "petitioner_phone": ("petitioner_phone", "信访人电话", "联系电话"),
        "subject": ("subject", "信访事项", "事由"),
        "category": ("category", "类别", "问题类别"),
        "org": ("org", "涉及单位代码", "单位代码"),
        "accepted_on": ("accepted_on", "受理日期"),
        "declined_on": ("declined_on", "不予受理日期"),
        "decline_reason": ("decline_reason", "不予受理原因"),
        "handler": ("handler", "承办人"),
        "replied_on": ("replied_on", "答复日期"),
        "reply": ("reply", "答复意见"),
        "return_visit_on": ("return_visit_on", "回访日期"),
        "satisfaction": ("satisfaction", "满意度"),
        "closed_on": ("closed_on", "结案日期"),
        "repeat_of": ("repeat_of", "重复信访原案件编号", "原案件编号"),
    },
    "targets": {
        "indicator": ("indicator", "指标代码", "指标"),
        "org": ("org", "单位代码", "区划代码"),
        "year": ("year", "年度", "年份"),
        "target": ("target", "目标值", "目标"),
        "direction": ("direction", "方向", "达标方向"),
    },
}

REQUIRED: dict[str, set[str]] = {
    "orgunits": {"code", "name"},
    "persons": {"id_number", "name", "sex", "village"},
    "events": {"id_number", "event", "date"},
    "corrections": {"event_id", "action", "reason"},
    "reports": {"org", "period", "item", "value"},
    "census": {"org", "year", "sex", "age", "population"},
    "enrolments": {"id_number", "scheme", "start_month"},
    "payments": {"id_number", "scheme", "period", "amount"},
    "cases": {"case_number", "received_on", "channel", "subject", "org"},
    "targets": {"indicator", "org", "year", "target"},
}

KINDS: tuple[str, ...] = tuple(COLUMNS)

# Characters people put around a header that carry no meaning.
_DECORATION = " \t\r\n\ufeff*:："
_PARENTHESISED = re.compile(r"(.*?)\s*\(([^()]*)\)\s*", re.S)
_SEPARATORS = re.compile(r"[\s_\-]+")


def normalize_label(label: str) -> str:
    """The form of a header label that matching compares: NFKC, trimmed, case-folded.

    NFKC turns full-width letters, digits and parentheses into their ASCII
    forms; spaces, underscores and hyphens are dropped so that ``ID Number``,
    ``id-number`` and ``身份证 号`` match ``id_number`` and ``身份证号``.
    """
    text = unicodedata.normalize("NFKC", label).strip(_DECORATION).casefold()
    return _SEPARATORS.sub("", text)


def _build_lookup() -> dict[str, dict[str, str]]:
    lookup: dict[str, dict[str, str]] = {}
    for kind, columns in COLUMNS.items():
        table: dict[str, str] = {}
        for key, labels in columns.items():
            for text in labels:
                if table.setdefault(normalize_label(text), key) != key:
                    raise ValueError(f"{kind}: the label {text!r} names two columns")
        lookup[kind] = table
    return lookup


_LOOKUP = _build_lookup()


def column_key(kind: str, header: str) -> str | None:
    """The canonical key a header names in files of ``kind``, or None if it names none.

    ``身份证号（id_number）`` and ``id_number (身份证号)`` are accepted when either
    part names the column and the two parts do not name different columns;
    ``出生体重（克）`` is accepted because its first part names the column.
    """
    lookup = _LOOKUP[kind]
    key = lookup.get(normalize_label(header))
    if key is not None:
        return key
    parts = _PARENTHESISED.fullmatch(unicodedata.normalize("NFKC", header).strip(_DECORATION))
    if parts is None:
        return None
    keys = {lookup.get(normalize_label(part)) for part in parts.groups()} - {None}
    return keys.pop() if len(keys) == 1 else None


def label(kind: str, key: str) -> str:
    """The column as messages name it: ``身份证号 (id_number)``."""
    return f"{COLUMNS[kind][key][1]} ({key})"


def guess_kind(headers: Iterable[str]) -> str | None:
    """The kind of a file from its header labels, or None when no kind (or several) fit.

    A kind fits when every one of its required columns is present. An events
    file has the columns of a persons file too when it carries ``name``,
    ``sex`` and ``village``; its ``event`` column decides for events.
    """
    headers = [h for h in headers if h is not None]
    fitting = []
    for kind in KINDS:
        present = {column_key(kind, h) for h in headers}
        if REQUIRED[kind] <= present:
            fitting.append(kind)
    if "events" in fitting and "persons" in fitting:
        fitting.remove("persons")
    return fitting[0] if len(fitting) == 1 else None
