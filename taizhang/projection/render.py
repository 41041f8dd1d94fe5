"""Projections laid out as JSON, CSV, XLSX or a table for the terminal.

A register projection (``build.build_projection``): CSV has one row per scenario and
year (the base year first, without births and deaths), or with ``--by-age`` one row
per scenario, year and age; XLSX has the same as worksheets plus one of the
assumptions, in the house style of the report forms (title, a header line, bold
header row, frozen panes); the table prints the assumptions, one per line, then a
table per scenario.

A projection of given inputs (``build.inputs_report``): CSV has a row per year and age
group (female, male, births to mothers of the group); the table one per year.

CSV and XLSX are written through ``taizhang.lib.cells``: no text cell is ever a formula.
"""

from __future__ import annotations

import io
import json

from rich.console import Console
from rich.table import Table

from taizhang.lib import cells

FORMATS = ("json", "csv", "xlsx", "table")
SUMMARY_COLUMNS = (
    "scenario",
    "year",
    "total",
    "births",
    "deaths",
    "net_migration",
    "women_15_49",
    "women_20_29",
    "women_20_29_share",
)
SUMMARY_LABELS_ZH = (
    "方案",
    "年份",
    "总人口",
    "出生",
    "死亡",
    "净迁移",
    "15–49岁妇女",
    "20–29岁妇女",
    "20–29岁占育龄妇女%",
)
BY_AGE_COLUMNS = ("scenario", "year", "age", "female", "male")
INPUTS_COLUMNS = ("year", "age", "female", "male", "births_by_mother_age")
TABLE_WIDTH = 120


def _age_label(ages: list[int], i: int, step: int) -> str:
    if i == len(ages) - 1:
        return f"{ages[i]}+"
    return str(ages[i]) if step == 1 else f"{ages[i]}–{ages[i] + step - 1}"


def summary_rows(report: dict) -> list[list]:
    """Rows of ``SUMMARY_COLUMNS``: per scenario the base year, then each projected year."""
    rows = []
    base = report["base"]
    for scenario in report["scenarios"]:
        for row in [base, *scenario["years"]]:
            rows.append([scenario["name"], *(row.get(key) for key in SUMMARY_COLUMNS[1:])])
    return rows


def by_age_rows(report: dict) -> list[list]:
    ages = report["ages"]
    labels = [_age_label(ages, i, report["step"]) for i in range(len(ages))]
    rows = []
    for scenario in report["scenarios"]:
        for row in [report["base"], *scenario["years"]]:
            for label, f, m in zip(labels, row["female"], row["male"], strict=True):
                rows.append([scenario["name"], row["year"], label, f, m])
    return rows


def inputs_rows(result: dict, ages: list[int], step: int) -> list[list]:
    rows = []
    for year in result["years"]:
        for i in range(len(ages)):
            rows.append(
                [
                    year["year"],
                    _age_label(ages, i, step),
                    year["female"][i],
                    year["male"][i],
                    year["births"]["by_mother_age"][i],
                ]
            )
    return rows


def _csv(columns, rows) -> str:
    out = io.StringIO()
    writer = cells.csv_writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def to_csv(report: dict, *, by_age: bool = False) -> str:
    if by_age:
        return _csv(BY_AGE_COLUMNS, by_age_rows(report))
    return _csv(SUMMARY_COLUMNS, summary_rows(report))


def inputs_to_csv(result: dict, ages: list[int], step: int) -> str:
    return _csv(INPUTS_COLUMNS, inputs_rows(result, ages, step))


def header_line(report: dict) -> str:
    return (
        f"单位：{report['org_name']}（{report['org']}）  基年：{report['base_year']}年末  "
        f"最高年龄组：{report['open_age']}岁及以上"
    )


def _sheet(book, name: str, title: str, line: str, columns, rows) -> None:
    font = {"font_name": "Noto Sans CJK SC"}
    sheet = book.add_worksheet(name)
    title_format = book.add_format(font | {"bold": True, "font_size": 14})
    bold = book.add_format(font | {"bold": True, "bottom": 1, "text_wrap": True, "align": "center"})
    text = book.add_format(font)
    whole = book.add_format(font | {"num_format": "#,##0"})
    decimal = book.add_format(font | {"num_format": "#,##0.0"})
    sheet.write_string(0, 0, title, title_format)
    sheet.write_string(1, 0, line, text)
    header = 3
    for j, column in enumerate(columns):
        sheet.write_string(header, j, column, bold)
    for i, row in enumerate(rows, start=header + 1):
        for j, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(i, j, value, text)
            else:
                cells.write(sheet, i, j, value, decimal if isinstance(value, float) else whole)
    sheet.set_column(0, len(columns) - 1, 14)
    sheet.freeze_panes(header + 1, 2)


def to_xlsx(report: dict, *, by_age: bool = False) -> bytes:
    out = io.BytesIO()
    book = cells.workbook(out)
    title = f"人口预测 {report['org_name']} {report['base_year']}年基年"
    line = header_line(report)
    _sheet(book, "预测", title, line, SUMMARY_LABELS_ZH, summary_rows(report))
    if by_age:
        _sheet(
            book, "分年龄", title, line, ("方案", "年份", "年龄", "女", "男"), by_age_rows(report)
        )
    font = book.add_format({"font_name": "Noto Sans CJK SC", "text_wrap": True})
    sheet = book.add_worksheet("假设")
    sheet.write_string(
        0, 0, "预测假设", book.add_format({"font_name": "Noto Sans CJK SC", "bold": True})
    )
    for i, text in enumerate(report["assumptions"], start=2):
        sheet.write_string(i, 0, text, font)
    sheet.set_column(0, 0, 120)
    book.close()
    return out.getvalue()


def inputs_to_xlsx(result: dict, ages: list[int], step: int) -> bytes:
    out = io.BytesIO()
    book = cells.workbook(out)
    _sheet(
        book,
        "预测",
        "人口预测",
        "按给定输入（普查基数、生命表）",
        ("年份", "年龄", "女", "男", "该年龄组妇女生育数"),
        inputs_rows(result, ages, step),
    )
    book.close()
    return out.getvalue()


def _number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def _render(*items) -> str:
    out = io.StringIO()
    console = Console(file=out, width=TABLE_WIDTH, force_terminal=False, color_system=None)
    for item in items:
        console.print(item)
    return out.getvalue()


def to_table(report: dict) -> str:
    items: list = [f"{report['org']} {report['org_name']} · base year {report['base_year']}"]
    items += [f"- {text}" for text in report["assumptions"]]
    for scenario in report["scenarios"]:
        table = Table(title=f"{scenario['name']} (TFR {scenario['tfr']:.2f})")
        for column in SUMMARY_COLUMNS[1:]:
            table.add_column(column, justify="right", no_wrap=True)
        for row in [report["base"], *scenario["years"]]:
            table.add_row(str(row["year"]), *(_number(row.get(c)) for c in SUMMARY_COLUMNS[2:]))
        items.append(table)
    return _render(*items)


def inputs_to_table(result: dict, ages: list[int], step: int) -> str:
    items = []
    for year in result["years"]:
        births = year["births"]
        table = Table(
            title=f"{year['year']}: births {births['total']:,.1f} "
            f"(female {births['female']:,.1f}, male {births['male']:,.1f})"
        )
        for column in ("age", "female", "male", "births"):
            table.add_column(column, justify="right", no_wrap=True)
        for i in range(len(ages)):
            table.add_row(
                _age_label(ages, i, step),
                _number(year["female"][i]),
                _number(year["male"][i]),
                _number(year["births"]["by_mother_age"][i]),
            )
        items.append(table)
    return _render(*items)


def to_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
