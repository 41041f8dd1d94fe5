"""Hostile and damaged files: every reader refuses them with a sentence, writes nothing,
and never crashes — the command (`taizhang import`, `taizhang ledger-return`) exits 1,
the web's upload of a ledger return shows the message (not a 500).

Each file is built here: a workbook with one cell at XFD1048576 (written as zip XML by
hand: calamine would ask for 512 GB for it), a zip bomb of repeated rows, NUL characters
in a CSV and in a workbook, Big5 and Shift-JIS CSVs, a text named .xlsx, a zip cut
short, and a workbook whose reading outgrows the child's memory or time.
"""

from __future__ import annotations

import functools
import io
import zipfile

import pytest
from django.urls import reverse
from test_ledgers import MARCH, A, ledger_village  # noqa: F401  (the fixture)

from taizhang.imports.models import ImportBatch
from taizhang.imports.readers import FileError, read_table
from taizhang.ledgers.models import LedgerFile, ReturnedRow
from taizhang.lib import sheets, textfiles
from taizhang.lib.sheets import SheetError
from taizhang.register.models import Event, Person

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://'
    'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.'
    'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" '
    'r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://'
    'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://'
    'schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"
HEADER = '<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c></row>'


def workbook(sheet_data: str | bytes, *, extra: dict | None = None) -> bytes:
    """An .xlsx written by hand: these four parts and the sheet XML given."""
    if isinstance(sheet_data, str):
        sheet_data = sheet_data.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr(
            "xl/worksheets/sheet1.xml", _SHEET_HEAD.encode() + sheet_data + _SHEET_TAIL.encode()
        )
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def far_cell() -> bytes:
    return workbook(HEADER + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')


@functools.cache
def zip_bomb(megabytes: int = 450) -> bytes:
    """Rows of the same cells — more than the 400 MB an import unpacks — packed to about
    a thousandth of their size, written as they are packed."""
    row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>410325100201</t></is></c></row>'
    block = row * (1024 * 1024 // len(row))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_SHEET_HEAD.encode() + HEADER.encode())
            for _ in range(megabytes):
                sheet.write(block)
            sheet.write(_SHEET_TAIL.encode())
    return out.getvalue()


def nul_workbook(nul: str = "_x0000_") -> bytes:
    return workbook(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>name</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>410325</t></is></c>'
        f'<c r="B2" t="inlineStr"><is><t>某{nul}县</t></is></c></row>'
    )


BIG5_NAMES = ["陳大文", "林美玲", "張志明", "王小明", "李淑芬", "黃俊傑", "劉德華", "蔡英文"]
JAPANESE_NAMES = ["山田太郎", "佐藤花子", "鈴木一郎", "高橋美咲", "田中健太", "中村あゆみ"]


def persons_csv(names: list[str], encoding: str) -> bytes:
    lines = ["id_number,name,sex,village"]
    lines += [f"41032519900101{i:04d},{n},F,410325100201" for i, n in enumerate(names)]
    return ("\n".join(lines) + "\n").encode(encoding)


def cut_short() -> bytes:
    data = workbook(HEADER + '<row r="2"><c r="A2"><v>1</v></c></row>' * 200)
    return data[: len(data) * 2 // 3]


# The hostile files, and the start of what each is told (after "the file ").
XLSX_CASES = {
    "far cell": (far_cell, "has a value in cell XFD1048576, right of column IV"),
    "zip bomb": (zip_bomb, "unpacks to more than"),
    "NUL in a cell": (
        nul_workbook,
        "holds a NUL character (a zero byte, which is not text) in cell B2",
    ),
    "text named .xlsx": (lambda: b"code,name\n410325,x\n", "is not a readable .xlsx workbook"),
    "zip cut short": (cut_short, "is not a readable .xlsx workbook: it is damaged or cut short"),
    "not a workbook": (
        lambda: _zip(
            {"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"}
        ),
        "is an OpenDocument spreadsheet (.ods) named .xlsx",
    ),
}
CSV_CASES = {
    "NUL": (
        lambda: b"code,name\n410325,\xe6\x9f\x90\x00\n",
        "holds a NUL character (a zero byte, which is not text) on line 2",
    ),
    "Big5": (lambda: persons_csv(BIG5_NAMES, "big5"), "does not read as Chinese in GB18030"),
    "Shift-JIS": (
        lambda: persons_csv(JAPANESE_NAMES, "shift_jis"),
        "does not read as Chinese in GB18030",
    ),
}


def _zip(parts: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out.getvalue()


# ---------------------------------------------------------------------------------------
# The readers


class TestWorkbooks:
    def test_the_far_cell_is_found_before_calamine_sees_it(self):
        data = far_cell()
        assert len(data) < 2_000
        with pytest.raises(SheetError) as e:
            sheets.inspect_xlsx(data, sheets.limits("import"))
        assert e.value.params["cell"] == "XFD1048576"

    def test_a_cell_written_without_its_reference_is_placed_as_calamine_places_it(self):
        # No r attributes: the exact (expat) way follows the cells one after the other.
        cells = "".join("<c><v>1</v></c>" for _ in range(300))
        with pytest.raises(SheetError) as e:
            sheets.inspect_xlsx(workbook(f"<row>{cells}</row>"), sheets.limits("import"))
        assert e.value.params["cell"] == "IW1"

    def test_a_bomb_whose_header_lies_is_measured_as_it_unpacks(self):
        data = bytearray(zip_bomb(2))
        # Make the sheet's headers claim 1 KB: the inspection unpacks and finds 2 MB.
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
            info = z.getinfo("xl/worksheets/sheet1.xml")
        real = info.file_size
        small = (1024).to_bytes(4, "little")
        local = info.header_offset
        data[local + 22 : local + 26] = small
        central = bytes(data).rfind(b"PK\x01\x02" + bytes(data[local + 4 : local + 6]))
        while True:  # the central entry of this part
            name_len = int.from_bytes(data[central + 28 : central + 30], "little")
            if data[central + 46 : central + 46 + name_len] == b"xl/worksheets/sheet1.xml":
                break
            central = bytes(data).rfind(b"PK\x01\x02", 0, central)
        data[central + 24 : central + 28] = small
        assert real > 1024
        with pytest.raises(SheetError) as e:
            sheets.inspect_xlsx(bytes(data), sheets.limits("import"))
        assert "xl/worksheets/sheet1.xml" in str(e.value)

    def test_a_ratio_beyond_the_limit_is_a_bomb(self):
        limits = sheets.Limits(ratio=50)
        with pytest.raises(SheetError, match=r"^is compressed more than 50 to 1 in its part"):
            sheets.inspect_xlsx(zip_bomb(12), limits)

    def test_too_many_parts(self):
        data = workbook(HEADER, extra={f"x/{i}.xml": "<x/>" for i in range(20)})
        with pytest.raises(SheetError, match=r"holds 25 parts, more than the 10 read"):
            sheets.inspect_xlsx(data, sheets.Limits(members=10))

    def test_an_area_beyond_the_cells_read(self):
        data = workbook(HEADER + '<row r="5000"><c r="Z5000"><v>1</v></c></row>')
        with pytest.raises(SheetError, match=r"as far as row 5000 and column Z, an area of 130000"):
            sheets.inspect_xlsx(data, sheets.Limits(cells=100_000))

    def test_a_reader_that_outgrows_its_memory_kills_only_the_child(self):
        # The inspection lets 100 columns × 100,000 rows pass; 64 MB do not hold them.
        limits = sheets.Limits(memory_mb=64)
        data = workbook(HEADER + '<row r="100000"><c r="CV100000"><v>1</v></c></row>')
        with pytest.raises(SheetError) as e:
            sheets.read_xlsx(data, ["#0"], limits)
        assert str(e.value).startswith("could not be read within the limits:")

    def test_a_reader_that_takes_too_long_is_stopped(self, monkeypatch):
        limits = sheets.Limits(seconds=1)
        boot = "import time; time.sleep(30)"
        monkeypatch.setattr(sheets, "_BOOT", boot)
        with pytest.raises(
            SheetError,
            match=r"^could not be read within the limits: reading it takes longer than 1 seconds$",
        ):
            sheets.read_xlsx(workbook(HEADER), ["#0"], limits)

    def test_an_ordinary_workbook_reads_as_before(self):
        book = sheets.read_xlsx(nul_workbook(""), ["#0"], sheets.limits("import"))
        assert book.sheets == ["Sheet1"]
        assert book.tables[0].rows == [["code", "name"], ["410325", "某县"]]

    @pytest.mark.parametrize("case", XLSX_CASES)
    def test_read_table_refuses_it_in_a_sentence(self, tmp_path, case):
        make, start = XLSX_CASES[case]
        path = tmp_path / "o.xlsx"
        path.write_bytes(make())
        with pytest.raises(FileError) as e:
            read_table(path, "orgunits")
        assert str(e.value).startswith(f"the file {start}")

    def test_the_limits_follow_the_settings(self, settings):
        settings.TAIZHANG_SHEET_LIMITS = {"import": {"rows": 10}}
        assert sheets.limits("import").rows == 10
        assert sheets.limits("ledger_return").rows == sheets.PROFILES["ledger_return"].rows
        settings.TAIZHANG_SHEET_LIMITS = {"import": {"lines": 10}}
        with pytest.raises(ValueError, match="no limit lines"):
            sheets.limits("import")


class TestTexts:
    @pytest.mark.parametrize("case", CSV_CASES)
    def test_read_table_refuses_it_in_a_sentence(self, tmp_path, case):
        make, start = CSV_CASES[case]
        path = tmp_path / "p.csv"
        path.write_bytes(make())
        with pytest.raises(FileError) as e:
            read_table(path)
        assert str(e.value).startswith(f"the file {start}")

    def test_the_encoding_is_named(self):
        with pytest.raises(SheetError, match=r"it looks like Big5 \(Traditional Chinese\)"):
            textfiles.decode(persons_csv(BIG5_NAMES, "big5"))
        with pytest.raises(SheetError, match=r"it looks like Shift-JIS \(Japanese\)"):
            textfiles.decode(persons_csv(JAPANESE_NAMES, "shift_jis"))

    def test_one_big5_name_is_caught_by_how_it_reads_in_big5(self):
        with pytest.raises(SheetError, match="Big5"):
            textfiles.decode(persons_csv(["王小明"], "big5"))

    def test_genuine_gb18030_passes_rare_characters_and_all(self):
        names = ["王喆", "李堃", "张珺", "刘昇", "陈玥", "杨甦"] + ["王芳", "李娜", "张伟"] * 5
        text = textfiles.decode(persons_csv(names, "gb18030"))
        assert "王喆" in text and "杨甦" in text

    def test_utf16_without_its_mark_is_told_so(self):
        with pytest.raises(SheetError, match="UTF-16 text without a byte-order mark"):
            textfiles.decode("code,name\n410325,某县\n".encode("utf-16-le"))

    def test_a_nul_in_utf16_with_its_mark_names_the_line(self, tmp_path):
        path = tmp_path / "o.csv"
        path.write_bytes("code,name\n410325,某\x00县\n".encode("utf-16"))
        with pytest.raises(FileError, match=r"NUL character .* on line 2"):
            read_table(path)


# ---------------------------------------------------------------------------------------
# The commands and the page: exit 1 or the message, and nothing written


def _counts() -> tuple:
    return (
        Person.objects.count(),
        Event.objects.count(),
        ImportBatch.objects.count(),
        LedgerFile.objects.count(),
        ReturnedRow.objects.count(),
    )


ALL_CASES = {
    **{f"xlsx {k}": ("xlsx", *v) for k, v in XLSX_CASES.items()},
    **{f"csv {k}": ("csv", *v) for k, v in CSV_CASES.items()},
}


@pytest.mark.django_db
@pytest.mark.usefixtures("ledger_village", "data_dir")
class TestCommandsAndPage:
    @pytest.mark.parametrize("case", ALL_CASES)
    def test_import_exits_1_with_the_sentence(self, taizhang, tmp_path, case):
        suffix, make, start = ALL_CASES[case]
        path = tmp_path / f"persons.{suffix}"
        path.write_bytes(make())
        before = _counts()
        result = taizhang("import", path, "--kind", "persons")
        assert result.exit_code == 1, result.output
        assert f"file: the file {start}" in result.output
        assert "Traceback" not in result.output
        assert _counts() == before

    @pytest.mark.parametrize("case", ALL_CASES)
    def test_ledger_return_exits_1_with_the_sentence(self, taizhang, tmp_path, case):
        suffix, make, start = ALL_CASES[case]
        path = tmp_path / f"checkup.{suffix}"
        path.write_bytes(make())
        before = _counts()
        result = taizhang("ledger-return", path)
        assert result.exit_code == 1, result.output
        assert f"file: checkup.{suffix} {start}" in result.output
        assert _counts() == before

    @pytest.mark.parametrize(
        "case",
        [
            "xlsx far cell",
            "xlsx zip bomb",
            "xlsx NUL in a cell",
            "xlsx zip cut short",
            "csv NUL",
            "csv Big5",
        ],
    )
    def test_the_upload_page_shows_the_message(self, client, django_user_model, case):
        suffix, make, start = ALL_CASES[case]
        client.force_login(django_user_model.objects.get(username="alice"))
        upload = io.BytesIO(make())
        upload.name = f"checkup.{suffix}"
        before = _counts()
        r = client.post(reverse("ledgers:return", args=[A, MARCH]), {"file": upload})
        assert r.status_code == 400  # the page, with the file's errors (not a 500)
        assert r.context["result"].errors[0].row == 0
        assert f"checkup.{suffix} {start}" in r.content.decode()
        assert _counts() == before
