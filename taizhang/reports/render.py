"""Laying a built report (``taizhang.reports.build``) out as JSON, XLSX or PDF.

The layout follows the paper form: a title, a line naming the org unit, the period and
when it was generated, a bold header row, then the rows. The XLSX opens cleanly in
LibreOffice and Excel (XlsxWriter); the PDF is A4 — landscape when the table is wide —
with the table header repeated on every page and Noto Sans CJK SC embedded (WeasyPrint).
Every XLSX cell of text is a string, never a formula (``taizhang.lib.cells``): an org unit
named ``=...`` is shown as its name.
"""

from __future__ import annotations

import io
import json

from django.template.loader import render_to_string

from taizhang.lib import cells

FORMATS = ("json", "xlsx", "pdf")
CONTENT_TYPES = {
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
# Above this many columns of figures the PDF page is turned to landscape.
PORTRAIT_COLUMNS = 6
ITEM_LABEL = "项目"
CODE_LABEL = "指标代码"


def header_line(report: dict) -> str:
    """The line under the title: org unit, period, time generated."""
    return (
        f"单位：{report['org_name']}（{report['org']}）  期间：{report['period']}  "
        f"生成时间：{report['generated_at']}"
    )


# Units of the annual summary (``Indicator.unit``) as the form prints them.
UNIT_LABELS = {
    "persons": "人",
    "per_mille": "‰",
    "per_100": "女=100",
    "percent": "%",
    "children_per_woman": "个/妇女",
}


def display(value) -> str | float | int:
    """A cell as the form shows it: numbers as they are, nothing as blank, yes/no and
    units in words."""
    if value is None:
        return ""
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, str):
        return UNIT_LABELS.get(value, value)
    return value


def to_json(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)


def to_xlsx(report: dict) -> bytes:
    """The report as one worksheet: title, header line, bold header row, frozen panes."""
    out = io.BytesIO()
    book = cells.workbook(out)
    sheet = book.add_worksheet(report["period"])
    font = {"font_name": "Noto Sans CJK SC"}
    title = book.add_format(font | {"bold": True, "font_size": 14})
    bold = book.add_format(font | {"bold": True, "bottom": 1, "text_wrap": True, "align": "center"})
    text = book.add_format(font)
    indented = book.add_format(font | {"indent": 2})
    whole = book.add_format(font | {"num_format": "#,##0"})
    decimal = book.add_format(font | {"num_format": "#,##0.00"})

    columns = report["columns"]
    sheet.write_string(0, 0, report["title_zh"], title)
    sheet.write_string(1, 0, header_line(report), text)
    header = 3
    sheet.write_string(header, 0, ITEM_LABEL, bold)
    sheet.write_string(header, 1, CODE_LABEL, bold)
    for j, column in enumerate(columns, start=2):
        sheet.write_string(header, j, str(column["label"]), bold)
    for i, row in enumerate(report["rows"], start=header + 1):
        sheet.write_string(i, 0, str(row["label_zh"]), indented if row["level"] else text)
        sheet.write_string(i, 1, str(row["code"]), text)
        for j, value in enumerate(row["cells"], start=2):
            shown = display(value)
            if value is None:
                continue  # an empty cell, not an empty string
            if isinstance(shown, str):
                sheet.write_string(i, j, shown, text)
            else:
                cells.write(sheet, i, j, shown, decimal if isinstance(shown, float) else whole)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 26)
    sheet.set_column(2, 1 + len(columns), 12)
    sheet.freeze_panes(header + 1, 2)
    book.close()
    return out.getvalue()


def table_context(report: dict, language: str = "zh") -> dict:
    """What the HTML table (``reports/_table.html``) shows, with labels in ``language``."""
    zh = language.startswith("zh")
    return {
        "report": report,
        "title": report["title_zh"] if zh else report["title_en"],
        "header_line": header_line(report),
        "item_label": ITEM_LABEL if zh else "Item",
        "columns": [c["label"] for c in report["columns"]],
        "rows": [
            {
                "label": row["label_zh"] if zh else row["label_en"],
                "code": row["code"],
                "level": row["level"],
                "cells": [display(v) for v in row["cells"]],
            }
            for row in report["rows"]
        ],
    }


def to_pdf(report: dict) -> bytes:
    """The report as an A4 PDF (landscape when wide), Chinese text embedded."""
    from weasyprint import HTML

    context = table_context(report, "zh")
    context["landscape"] = len(report["columns"]) > PORTRAIT_COLUMNS
    html = render_to_string("reports/pdf.html", context)
    return HTML(string=html).write_pdf()


def render(report: dict, output_format: str) -> bytes:
    """The report in ``output_format`` (json, xlsx or pdf), as bytes."""
    if output_format == "json":
        return to_json(report).encode("utf-8")
    if output_format == "xlsx":
        return to_xlsx(report)
    return to_pdf(report)
