"""A built ledger (``taizhang.ledgers.build.LedgerDoc``) as PDF, XLSX or CSV, one layout for
every village (四统一).

- **PDF**: A4 landscape (WeasyPrint, Noto Sans CJK SC and its monospaced member
  embedded); the header block (county, township, village with codes, month, template
  version, generation time); the table, set on a grid of character cells
  (``taizhang.ledgers.textgrid``) and broken into pages here, with its header at the top
  of every page; beside each row the QR code of its row key (segno; the codes of a page
  drawn as one PNG); the village, month and title at the top of every page and
  "第 n 页 / 共 N 页" at its foot; the signature lines (村专干, 审核人, 日期) at the end.
- **XLSX** (XlsxWriter): the same header block; the sheet protected with only the fill-in
  columns unlocked; drop-down lists of the coded answers, date and number validation; the
  row key in the last column; a hidden sheet ``_ledger`` with the facts a program needs to
  read the file back (kind, village, month, template version, header row, column keys).
- **CSV**: UTF-8 with a byte-order mark, one header row (the printed labels), a row per
  row, the row key last.

Both spreadsheets are written through ``taizhang.lib.cells``: a name or a subject that
begins like a formula is text (a string cell in the XLSX, a leading ``'`` in the CSV).
"""

from __future__ import annotations

import datetime as dt
import io
import math

import segno
from django.template.loader import render_to_string

from taizhang.ledgers.build import LedgerDoc
from taizhang.lib import cells

FORMATS = ("pdf", "xlsx", "csv")
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
NO_LABEL = "序号"
KEY_LABEL = "行标识"
META_SHEET = "_ledger"
HEADER_ROW = 5  # the table's header row in the XLSX sheet (1-based)
FILL_NOTE = "黄色表头的列由村专干填写，其余内容由系统生成，请勿修改；行标识用于回收录入。"


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _fill_text(doc: LedgerDoc, row) -> list[str]:
    """The fill-in cells as printed: empty, or the answer written in advance."""
    out = []
    for column in doc.ledger.fill:
        value = row.prefill.get(column.key)
        if value is None:
            out.append("")
        elif column.type == "choice":
            out.append(column.choice(value).zh)
        else:
            out.append(cell_text(value))
    return out


# ---------------------------------------------------------------------------
# PDF: the table is set on a grid of monospaced cells (``taizhang.ledgers.textgrid``)

PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 297.0, 210.0
MARGIN_SIDE_MM, MARGIN_TOP_MM, MARGIN_BOTTOM_MM = 9.0, 13.0, 12.0
FIRST_PAGE_HEAD_MM = 19.0  # the title, the facts line and the note
FONT_PT = 7.0  # the table's text; smaller when a ledger's columns need it
LINE_MM = 4.5  # one text line; a row is at least two, as tall as its QR code
QR_MM = 8.2  # at most; a version-3 code (up to 77 characters) has 0.26 mm modules
RULE_PT = 0.5
PT_MM = 25.4 / 72


# segno's modules (1 dark, 0 light) as greyscale bytes.
_MODULE_BYTES = bytes.maketrans(b"\x00\x01", b"\xff\x00")


def qr_modules(key: str):
    """The QR code of a row key as a greyscale image of one pixel per module, with a
    one-module margin (the cell around it is white). Error correction M, or L when the key
    is too long for M in the smallest version; the mask is fixed: choosing the best of
    eight costs five times as much and a key scans well with any."""
    from PIL import Image

    code = segno.make(key, error="l", mask=2, micro=False, mode="alphanumeric")
    n = len(code.matrix)
    image = Image.new("L", (n + 2, n + 2), 255)
    modules = b"".join(bytes(row).translate(_MODULE_BYTES) for row in code.matrix)
    image.paste(Image.frombytes("L", (n, n), modules), (1, 1))
    return image


def _png_uri(image) -> str:
    import base64

    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _svg_uri(svg: str) -> str:
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _rules_svg(
    grid, header_lines: int, row_lines: list[int], cell_pt: float, line_pt: float
) -> str:
    """The rules and the header's shading of one page, in cell and line units: three paths
    (WeasyPrint draws an SVG node by node, and a page has a hundred rules)."""
    total, height = grid.total, header_lines + sum(row_lines)
    tx, ty = RULE_PT / cell_pt, RULE_PT / line_pt
    bounds = grid.boundaries()
    shades = {"#e8e8e8": [], "#fff5d6": []}
    for i, (left, right) in enumerate(zip(bounds, bounds[1:], strict=False)):
        colour = "#fff5d6" if grid.fill[i] else "#e8e8e8"
        shades[colour].append(f"M{left} 0H{right}V{header_lines}H{left}Z")
    rules = []
    ys = [0, header_lines]
    for n in row_lines:
        ys.append(ys[-1] + n)
    for y in ys:
        top = min(max(y - ty / 2, 0), height - ty)
        rules.append(f"M0 {top:.4f}H{total}V{top + ty:.4f}H0Z")
    for x in bounds:
        left = min(max(x - tx / 2, 0), total - tx)
        rules.append(f"M{left:.4f} 0H{left + tx:.4f}V{height}H{left:.4f}Z")
    paths = "".join(f'<path fill="{c}" d="{"".join(d)}"/>' for c, d in shades.items() if d)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total} {height}" '
        f'preserveAspectRatio="none">{paths}<path fill="#444" d="{"".join(rules)}"/></svg>'
    )


def pdf_layout(doc: LedgerDoc) -> dict:
    """The PDF's pages: each a grid of text lines with its rules and QR codes."""
    from PIL import Image

    from taizhang.ledgers import textgrid

    ledger = doc.ledger
    usable_mm = PAGE_WIDTH_MM - 2 * MARGIN_SIDE_MM
    declared = [4, *(c.width for c in ledger.columns), *(c.width for c in ledger.fill)]
    font_pt = FONT_PT
    for _ in range(2):  # the QR column's width in cells depends on the font size
        cell_mm = 0.5 * font_pt * PT_MM
        qr_cells = math.ceil((QR_MM + 1.0) / cell_mm) - 2
        total = sum(w + 2 for w in declared) + qr_cells + 2
        font_pt = min(FONT_PT, usable_mm / (total * 0.5 * PT_MM))
    cell_mm = 0.5 * font_pt * PT_MM
    available = math.floor(usable_mm / cell_mm)
    widths = textgrid.fit_widths([*declared, qr_cells], available)
    fill = [False] * (1 + len(ledger.columns)) + [True] * len(ledger.fill) + [False]
    min_lines = math.ceil((QR_MM + 0.2) / LINE_MM)
    grid = textgrid.Grid(widths, fill, min_lines=min_lines)
    header = grid.make_row(
        [NO_LABEL, *(c.zh for c in ledger.columns), *(c.zh for c in ledger.fill), KEY_LABEL],
        min_lines=2,
    )
    rows = [
        grid.make_row(
            [
                str(n),
                *(cell_text(row.cells.get(c.key)) for c in ledger.columns),
                *_fill_text(doc, row),
                "",
            ],
            key=row.key,
        )
        for n, row in enumerate(doc.rows, start=1)
    ]
    height_mm = PAGE_HEIGHT_MM - MARGIN_TOP_MM - MARGIN_BOTTOM_MM
    first = math.floor((height_mm - FIRST_PAGE_HEAD_MM) / LINE_MM) - 1
    then = math.floor(height_mm / LINE_MM) - 1
    line_pt = LINE_MM / PT_MM
    cell_pt = 0.5 * font_pt
    bounds = grid.boundaries()
    qr_left_mm = bounds[-2] * cell_mm
    qr_width_mm = (bounds[-1] - bounds[-2]) * cell_mm
    pages = []
    for page_rows in textgrid.paginate(rows, header, first, then):
        row_lines = [len(r.lines) for r in page_rows]
        lines = len(header.lines) + sum(row_lines)
        qr, qr_size = "", ("0", "0")
        if page_rows:
            # The page's codes in one image of one pixel per module, shown without
            # smoothing: a module's edge may fall between two of the page's pixels, a
            # fraction of a module, which no reader notices.
            codes = [qr_modules(row.key) for row in page_rows]
            module_mm = QR_MM / max(code.width for code in codes)
            sprite = Image.new(
                "L",
                (math.ceil(qr_width_mm / module_mm), math.ceil(lines * LINE_MM / module_mm)),
                255,
            )
            y = len(header.lines)
            for code, n in zip(codes, row_lines, strict=True):
                top_mm = y * LINE_MM + (n * LINE_MM - code.height * module_mm) / 2
                left = (sprite.width - code.width) // 2
                sprite.paste(code, (left, round(top_mm / module_mm)))
                y += n
            qr = _png_uri(sprite)
            qr_size = (f"{sprite.width * module_mm:.4f}", f"{sprite.height * module_mm:.4f}")
        pages.append(
            {
                "width": f"{grid.total * cell_mm:.3f}",
                "height": f"{lines * LINE_MM:.3f}",
                "grid": _svg_uri(_rules_svg(grid, len(header.lines), row_lines, cell_pt, line_pt)),
                "qr": qr,
                "qr_left": f"{qr_left_mm:.3f}",
                "qr_width": qr_size[0],
                "qr_height": qr_size[1],
                # Trailing blanks cost WeasyPrint as much as text: the rules are drawn anyway.
                "header": "\n".join(line.rstrip() for line in header.lines),
                "body": "\n".join(line.rstrip() for r in page_rows for line in r.lines),
            }
        )
    return {"pages": pages, "font_pt": f"{font_pt:.3f}", "line_mm": f"{LINE_MM}"}


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_pdf(doc: LedgerDoc) -> bytes:
    from weasyprint import HTML

    from taizhang.ledgers.textgrid import MONO_FAMILY

    context = {
        "title": doc.ledger.title_zh,
        "running": _css_string(doc.running_head),
        "version": _css_string(doc.template_version),
        "facts": doc.facts(),
        "note": FILL_NOTE,
        "mono": MONO_FAMILY,
        "empty": not doc.rows,
        "margin_top": MARGIN_TOP_MM,
        "margin_side": MARGIN_SIDE_MM,
        "margin_bottom": MARGIN_BOTTOM_MM,
        **pdf_layout(doc),
    }
    html = render_to_string("ledgers/pdf.html", context)
    return HTML(string=html).write_pdf()


# ---------------------------------------------------------------------------
# XLSX


def _header_text(text: str) -> str:
    """Text for a printed page header or footer, where ``&`` starts a control code."""
    return text.replace("&", "&&")


def to_xlsx(doc: LedgerDoc) -> bytes:
    ledger = doc.ledger
    out = io.BytesIO()
    book = cells.workbook(out)
    sheet = book.add_worksheet(doc.month.code)
    font = {"font_name": "Noto Sans CJK SC", "font_size": 10}
    title = book.add_format(font | {"bold": True, "font_size": 14})
    plain = book.add_format(font)
    note = book.add_format(font | {"font_size": 9, "font_color": "#555555"})
    head = book.add_format(
        font
        | {"bold": True, "border": 1, "bg_color": "#E8E8E8", "text_wrap": True, "align": "center"}
    )
    fill_head = book.add_format(
        font
        | {"bold": True, "border": 1, "bg_color": "#FFF5D6", "text_wrap": True, "align": "center"}
    )
    cell = book.add_format(font | {"border": 1})
    key_format = book.add_format(font | {"border": 1, "font_size": 8, "font_color": "#444444"})
    open_cell = book.add_format(font | {"border": 1, "locked": False})
    open_date = book.add_format(font | {"border": 1, "locked": False, "num_format": "yyyy-mm-dd"})

    printed, fill = ledger.columns, ledger.fill
    first_fill = 1 + len(printed)
    key_col = first_fill + len(fill)
    last_col = key_col

    sheet.merge_range(0, 0, 0, last_col, ledger.title_zh, title)
    facts = doc.facts()
    sheet.write_string(1, 0, "  ".join(f"{label}：{value}" for label, value in facts[:3]), plain)
    sheet.write_string(2, 0, "  ".join(f"{label}：{value}" for label, value in facts[3:]), plain)
    sheet.write_string(3, 0, FILL_NOTE, note)

    header = HEADER_ROW - 1
    sheet.write_string(header, 0, NO_LABEL, head)
    for j, column in enumerate(printed, start=1):
        sheet.write_string(header, j, column.zh, head)
        sheet.set_column(j, j, column.width + 1)
    for j, column in enumerate(fill, start=first_fill):
        sheet.write_string(header, j, column.zh, fill_head)
        sheet.set_column(j, j, column.width + 1)
    sheet.write_string(header, key_col, KEY_LABEL, head)
    sheet.set_column(0, 0, 5)
    sheet.set_column(key_col, key_col, 44)

    first = header + 1
    for i, row in enumerate(doc.rows):
        r = first + i
        sheet.write_number(r, 0, i + 1, cell)
        for j, column in enumerate(printed, start=1):
            value = row.cells.get(column.key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(r, j, value, cell)
            else:
                sheet.write_string(r, j, cell_text(value), cell)
        for j, (column, text) in enumerate(
            zip(fill, _fill_text(doc, row), strict=True), start=first_fill
        ):
            if text:
                sheet.write_string(r, j, text, open_cell)
            else:
                sheet.write_blank(r, j, None, open_date if column.type == "date" else open_cell)
        sheet.write_string(r, key_col, row.key, key_format)
    last = first + len(doc.rows) - 1

    if doc.rows:
        for j, column in enumerate(fill, start=first_fill):
            sheet.data_validation(first, j, last, j, _validation(column))
    else:
        sheet.write_string(first, 0, "本月无列入本台帐的对象。", plain)

    signatures = max(last, first) + 2
    sheet.write_string(signatures, 1, "村专干（签字）：", plain)
    sheet.write_string(signatures, 1 + max(2, len(printed) // 2), "审核人（签字）：", plain)
    sheet.write_string(signatures, first_fill, "日期：　　　年　　月　　日", plain)

    sheet.freeze_panes(first, 2)
    sheet.repeat_rows(header)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.set_header(
        f"&L&8{_header_text(doc.running_head)}&R&8模板版本 {_header_text(doc.template_version)}"
    )
    sheet.set_footer("&C第 &P 页 / 共 &N 页")
    sheet.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})

    meta = book.add_worksheet(META_SHEET)
    facts_for_programs = [
        ("kind", ledger.kind),
        ("village", doc.village.code),
        ("month", doc.month.code),
        ("template_version", doc.template_version),
        ("generated_at", doc.generated_at.isoformat(timespec="seconds")),
        ("header_row", str(HEADER_ROW)),
        ("columns", ",".join(["no", *(c.key for c in printed), *(c.key for c in fill), "row_key"])),
        ("fill_columns", ",".join(c.key for c in fill)),
        ("rows", str(len(doc.rows))),
    ]
    for i, (name, value) in enumerate(facts_for_programs):
        meta.write_string(i, 0, name)
        meta.write_string(i, 1, value)
    meta.hide()
    meta.protect()
    book.close()
    return out.getvalue()


def _validation(column) -> dict:
    message = {"error_title": column.zh, "input_title": column.zh}
    if column.type == "choice":
        return {
            "validate": "list",
            "source": column.labels(),
            "error_message": "请从下拉列表中选择：" + "、".join(column.labels()),
            **message,
        }
    if column.type == "date":
        return {
            "validate": "date",
            "criteria": "between",
            "minimum": dt.date(1900, 1, 1),
            "maximum": dt.date(2999, 12, 31),
            "error_message": "请填写日期，如 2026-11-05",
            **message,
        }
    if column.type == "number":
        return {
            "validate": "decimal",
            "criteria": "between",
            "minimum": column.low if column.low is not None else -1e12,
            "maximum": column.high if column.high is not None else 1e12,
            "error_message": "请填写数字",
            **message,
        }
    return {
        "validate": "length",
        "criteria": "<=",
        "value": 200,
        "error_message": "不超过 200 字",
        **message,
    }


# ---------------------------------------------------------------------------
# CSV


def csv_header(doc: LedgerDoc) -> list[str]:
    ledger = doc.ledger
    return [NO_LABEL, *(c.zh for c in ledger.columns), *(c.zh for c in ledger.fill), KEY_LABEL]


def to_csv(doc: LedgerDoc) -> bytes:
    out = io.StringIO()
    writer = cells.csv_writer(out, lineterminator="\r\n")
    writer.writerow(csv_header(doc))
    for n, row in enumerate(doc.rows, start=1):
        writer.writerow(
            [
                n,
                *(cell_text(row.cells.get(c.key)) for c in doc.ledger.columns),
                *_fill_text(doc, row),
                row.key,
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def render(doc: LedgerDoc, output_format: str) -> bytes:
    """The ledger as bytes in ``output_format`` (pdf, xlsx or csv)."""
    if output_format == "pdf":
        return to_pdf(doc)
    if output_format == "xlsx":
        return to_xlsx(doc)
    if output_format == "csv":
        return to_csv(doc)
    raise ValueError(f"unknown format {output_format!r}")
