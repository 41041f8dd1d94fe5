"""The ledger formats: PDF (one layout, Chinese embedded, long lists over pages), XLSX
(protected, with the fill-in columns open and validated) and CSV (UTF-8 with BOM)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import zoneinfo

import numpy as np
import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from test_ledgers import MARCH, A, ledger_village  # noqa: F401  (the fixture)

from taizhang.ledgers import render
from taizhang.ledgers.base import Row
from taizhang.ledgers.build import LedgerDoc, build
from taizhang.ledgers.declarations import LEDGERS
from taizhang.ledgers.rowkeys import make_key, parse_key
from taizhang.lib.periods import parse
from taizhang.orgunits.models import OrgUnit

GENERATED = dt.datetime(2026, 4, 2, 9, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


def long_followup_ledger(n: int = 40) -> LedgerDoc:
    """A follow-up ledger of ``n`` rows, built by hand (no database)."""
    rows = []
    for i in range(1, n + 1):
        task = f"PP7-2603{i % 28 + 1:02d}"
        rows.append(
            Row(
                village=A,
                task=task,
                subject="person",
                subject_id=i,
                cells={
                    "visit": "产后访视（7天）",
                    "name": f"妇女{i}",
                    "id_number": "410325199101010189",
                    "household": f"A-{i:03d}",
                    "phone": "13800000000",
                    "trigger": "分娩 2026-03-01",
                    "due": "2026-03-08",
                    "window": "2026-03-01 至 2026-03-08",
                    "done": "",
                },
                person_id=i,
                key=make_key("followup", A, 202603, task, "person", i),
            )
        )
    return LedgerDoc(
        ledger=LEDGERS["followup"],
        village=OrgUnit(code=A, name="东街村", level=5),
        township=OrgUnit(code="410325100", name="城关镇", level=4),
        county=OrgUnit(code="410325", name="嵩县", level=3),
        month=parse("202603"),
        generated_at=GENERATED,
        rows=rows,
    )


def pdf_text(pdf: bytes, page: int) -> str:
    """The text of one page, without spaces (pdftotext spaces words as it measures them)."""
    text = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    return text.replace(" ", "")


class TestPDF:
    def test_a_long_list_runs_over_pages_with_the_header_on_each(self, tmp_path):
        # 40 rows of two 4.5 mm lines (each row as tall as its QR code) on 185 mm of page:
        # the first page holds 35 lines below the title, the facts and the note — the
        # two-line header and 16 rows — and the next ones 40: the header and 19 rows.
        # Rows 1–16, 17–35, 36–40: 3 pages.
        pdf = render.to_pdf(long_followup_ledger(40))
        first, second, last = (pdf_text(pdf, p) for p in (1, 2, 3))
        # The header block: county, township, village with codes, month, version, time.
        for fact in (
            "随访人员信息服务台帐",
            "嵩县（410325）",
            "城关镇（410325100）",
            "东街村（410325100201）",
            "2026年3月",
            "模板版本：2026.1",
            "2026-04-0209:30",
        ):
            assert fact in first, fact
        assert "第1页/共3页" in first
        # Page 2 begins with the table's header again, and carries on the numbering.
        for label in ("随访项目", "应随访日期", "有效随访期", "随访日期", "行标识"):
            assert label in second, label
        assert "第2页/共3页" in second
        assert "妇女16" in first and "妇女17" not in first
        assert "妇女17" in second and "妇女35" in second and "妇女36" not in second
        # The last page ends with the signature lines.
        assert "第3页/共3页" in last
        assert "妇女40" in last
        for line in ("村专干（签字）", "审核人（签字）", "日期："):
            assert line in last
        assert "�" not in first + second + last  # no character the font lacks

    def test_it_embeds_noto_sans_cjk(self, tmp_path):
        path = tmp_path / "f.pdf"
        path.write_bytes(render.to_pdf(long_followup_ledger(3)))
        fonts = subprocess.run(["pdffonts", path], capture_output=True, text=True, check=True)
        lines = fonts.stdout.splitlines()[2:]
        names = {line.split()[0].split("+")[-1]: line.split()[-5] for line in lines}
        # the body text and titles, and the table's monospaced text; all embedded ("yes")
        assert names["Noto-Sans-CJK-SC"] == "yes"
        assert names["Noto-Sans-Mono-CJK-SC"] == "yes"
        assert set(names.values()) == {"yes"}

    def test_each_row_carries_the_qr_code_of_its_key(self):
        # The QR codes of a page are one image beside the rows, a pixel per module; each
        # row's code, made from its own key, is found in it, one below the other in order.
        doc = long_followup_ledger(3)
        layout = render.pdf_layout(doc)
        (page,) = layout["pages"]
        sprite = np.asarray(_image(page["qr"]))
        found = []
        for row in doc.rows:
            code = np.asarray(render.qr_modules(row.key))
            left = (sprite.shape[1] - code.shape[1]) // 2
            hits = [
                y
                for y in range(sprite.shape[0] - code.shape[0])
                if np.array_equal(sprite[y : y + code.shape[0], left : left + code.shape[1]], code)
            ]
            assert len(hits) == 1, row.key
            found.append(hits[0])
        assert found == sorted(found)

    def test_an_empty_ledger_says_so(self):
        doc = long_followup_ledger(0)
        text = pdf_text(render.to_pdf(doc), 1)
        assert "本月无列入本台帐的对象。" in text
        assert "第1页/共1页" in text


def test_the_grid_measures_chinese_as_two_cells():
    from taizhang.ledgers import textgrid

    # 王芳 is two cells each, the space and the digits one: 2 + 2 + 1 + 2 = 7.
    assert textgrid.width("王芳 35") == 7
    # Ten cells hold five Chinese characters; a break may fall between any two.
    assert textgrid.wrap("已婚育龄妇女", 10) == ["已婚育龄妇", "女"]
    assert textgrid.wrap("410325199005050041", 10) == ["4103251990", "05050041"]
    # A line never starts with the space a break fell on.
    assert textgrid.wrap("abcde fgh", 5) == ["abcde", "fgh"]
    # The monospaced face sets an en dash at another width: a hyphen stands for it.
    assert textgrid.clean("2026–03") == "2026-03"


def _image(uri: str):
    import base64

    from PIL import Image

    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("L")


@pytest.mark.usefixtures("ledger_village")
class TestXLSX:
    def test_only_the_fill_in_columns_are_open_and_they_are_validated(self):
        # The benefits ledger of A for March: one row (郭玉珍's 202603 payment); its four
        # fill-in columns are a date, a number, a choice and a yes/no.
        doc = build("benefits", A, MARCH)
        book = openpyxl.load_workbook(io.BytesIO(render.to_xlsx(doc)))
        sheet = book[MARCH]
        assert sheet.protection.sheet is True
        header = [c.value for c in sheet[render.HEADER_ROW]]
        assert header[0] == "序号" and header[-1] == "行标识"
        fill = ["发放日期", "实发金额（元）", "发放渠道", "已核实"]
        assert header[-5:-1] == fill
        row = sheet[render.HEADER_ROW + 1]
        locked = {header[i]: cell.protection.locked for i, cell in enumerate(row)}
        assert [name for name, is_locked in locked.items() if not is_locked] == fill
        assert row[-1].value == doc.rows[0].key
        validations = {
            (v.type, str(v.sqref), v.formula1) for v in sheet.data_validations.dataValidation
        }
        column = {name: openpyxl.utils.get_column_letter(i + 1) for i, name in enumerate(header)}
        r = render.HEADER_ROW + 1
        assert validations == {
            ("date", f"{column['发放日期']}{r}", "1"),  # from 1900-01-01
            ("decimal", f"{column['实发金额（元）']}{r}", "0"),
            ("list", f"{column['发放渠道']}{r}", '"银行,现金,手机,其他"'),
            ("list", f"{column['已核实']}{r}", '"是,否"'),
        }
        # The header block states the same facts as the PDF's.
        assert sheet["A1"].value == "奖励扶助对象管理台帐"
        assert "东街村（410325100201）" in sheet["A2"].value
        assert "2026年3月" in sheet["A3"].value and "模板版本：2026.1" in sheet["A3"].value
        # A hidden sheet tells a program how to read the file back.
        meta = book[render.META_SHEET]
        assert meta.sheet_state == "hidden"
        facts = {r[0].value: r[1].value for r in meta.iter_rows()}
        assert (facts["kind"], facts["village"], facts["month"]) == ("benefits", A, MARCH)
        assert facts["fill_columns"] == "paid_date,amount_paid,channel,verified"

    def test_python_calamine_reads_it_back(self):
        doc = build("education", A, MARCH)
        content = render.to_xlsx(doc)
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
        rows = sheet.to_python()
        table = rows[render.HEADER_ROW : render.HEADER_ROW + len(doc.rows)]
        assert [parse_key(r[-1]).subject_id for r in table] == [r.subject_id for r in doc.rows]
        # The stage to fill in is written in advance (the row's own, in Chinese).
        stage = rows[render.HEADER_ROW - 1].index("教育阶段")
        assert [r[stage] for r in table][:3] == ["新婚期", "孕期", "哺乳期"]


@pytest.mark.usefixtures("ledger_village")
def test_csv_round_trip():
    doc = build("checkup", A, MARCH)
    content = render.to_csv(doc)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == [
        "序号", "姓名", "身份证号", "年龄", "户编号", "联系电话", "上次康检", "本月已检",
        "康检日期", "检查结果", "行标识",
    ]  # fmt: skip
    assert len(rows) == 1 + len(doc.rows) == 8
    for line, row in zip(rows[1:], doc.rows, strict=True):
        assert parse_key(line[-1]) == parse_key(row.key)
        assert line[1:8] == [str(row.cells[c.key]) for c in doc.ledger.columns]
    assert rows[1][1:3] == ["王芳", "410325199005050041"]
