"""Reading import files: encodings, spreadsheets, headers, row numbers and file-level errors."""

from __future__ import annotations

import datetime as dt
import gc

import openpyxl
import pytest
import xlsxwriter

from taizhang.imports.columns import COLUMNS, REQUIRED, column_key, guess_kind
from taizhang.imports.readers import FileError, Table, cell_text, read_table, sha256_of

PERSONS_CSV = (
    "身份证号,姓名,性别,出生日期,现居住地代码,备注\n"
    "410325199001010012,张三,男,1990-01-01,410325100201,村口\n"
    "\n"
    " 410325199202020021 , 李四 ,女,,410325100202,\n"
)
PERSONS_COLUMNS = ["id_number", "name", "sex", "birth_date", "village", None]
PERSONS_ROWS = [
    (1, ["410325199001010012", "张三", "男", "1990-01-01", "410325100201", "村口"]),
    (3, ["410325199202020021", "李四", "女", "", "410325100202", ""]),
]


def write(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


class TestCsvEncodings:
    def test_it_reads_utf8_with_chinese_headers(self, tmp_path):
        table = read_table(write(tmp_path, "p.csv", PERSONS_CSV), "persons")
        assert table.kind == "persons"
        assert table.columns == PERSONS_COLUMNS
        assert table.rows == PERSONS_ROWS
        assert table.ignored == ["备注"]

    def test_it_reads_utf8_with_a_byte_order_mark(self, tmp_path):
        path = write(tmp_path, "p.csv", PERSONS_CSV, "utf-8-sig")
        assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
        table = read_table(path)
        # The mark must not stick to the first header, or 身份证号 would be unknown.
        assert table.kind == "persons"
        assert table.columns == PERSONS_COLUMNS
        assert table.rows == PERSONS_ROWS

    def test_it_reads_gb18030(self, tmp_path):
        path = write(tmp_path, "p.csv", PERSONS_CSV, "gb18030")
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
        table = read_table(path, "persons")
        assert table.columns == PERSONS_COLUMNS
        assert table.rows == PERSONS_ROWS

    def test_it_reads_gb18030_whose_chinese_starts_after_the_first_block(self, tmp_path):
        # An ASCII header and 5,000 ASCII rows decode as UTF-8; the GB18030 name
        # far down the file makes the reader start again in GB18030.
        lines = ["id_number,name,sex,village"]
        lines += [f"41032519900101{i:04d},Li,F,410325100201" for i in range(5000)]
        lines.append("410325199001019999,王芳,F,410325100201")
        table = read_table(write(tmp_path, "p.csv", "\n".join(lines) + "\n", "gb18030"))
        assert len(table.rows) == 5001
        assert table.rows[-1] == (5001, ["410325199001019999", "王芳", "F", "410325100201"])

    def test_it_rejects_text_in_neither_encoding(self, tmp_path):
        path = tmp_path / "p.csv"
        path.write_bytes("身份证号,姓名\n".encode() + b"\x80\xff,x\n")
        with pytest.raises(FileError, match=r"^the file is not valid UTF-8 or GB18030 text$"):
            read_table(path, "persons")

    def test_it_reads_tab_separated_text(self, tmp_path):
        text = "代码\t名称\t上级代码\n410325\t某县\t41\n410325100\t城关镇,东区\t410325\n"
        table = read_table(write(tmp_path, "o.csv", text))
        assert table.kind == "orgunits"
        assert table.columns == ["code", "name", "parent"]
        assert table.rows == [
            (1, ["410325", "某县", "41"]),
            (2, ["410325100", "城关镇,东区", "410325"]),
        ]

    def test_it_counts_a_quoted_line_break_as_one_row(self, tmp_path):
        text = 'code,name\n410325,"某县\n（旧称）"\n410325100,城关镇\n'
        table = read_table(write(tmp_path, "o.csv", text), "orgunits")
        assert table.rows == [(1, ["410325", "某县\n（旧称）"]), (2, ["410325100", "城关镇"])]


class TestRows:
    def test_it_keeps_row_numbers_across_blank_rows(self, tmp_path):
        text = "code,name\n\n410325,某县\n,\n  ,  \n410325100,城关镇\n\n"
        table = read_table(write(tmp_path, "o.csv", text), "orgunits")
        assert table.rows == [(2, ["410325", "某县"]), (5, ["410325100", "城关镇"])]

    def test_it_takes_the_first_non_blank_row_as_the_header(self, tmp_path):
        text = "\n,,\ncode,name\n410325,某县\n"
        table = read_table(write(tmp_path, "o.csv", text), "orgunits")
        assert table.rows == [(1, ["410325", "某县"])]

    def test_it_pads_short_rows_and_reports_cells_beyond_the_header(self, tmp_path):
        text = "code,name,parent,,\n410325\n410325100,城关镇,410325,,\n410325101,东区,410325,x\n"
        table = read_table(write(tmp_path, "o.csv", text), "orgunits")
        assert table.columns == ["code", "name", "parent"]
        assert table.rows == [
            (1, ["410325", "", ""]),
            (2, ["410325100", "城关镇", "410325"]),
            (3, ["410325101", "东区", "410325"]),
        ]
        assert table.long_rows == [3]

    def test_it_fetches_values_by_key(self, tmp_path):
        table = read_table(write(tmp_path, "p.csv", PERSONS_CSV), "persons")
        values = table.rows[0][1]
        assert table.index["village"] == 4
        assert table.get(values, "village") == "410325100201"
        assert table.get(values, "phone") == ""
        assert table.header("id_number") == "身份证号"
        assert table.header("phone") == "phone"

    def test_it_leaves_the_cycle_collector_as_it_found_it(self, tmp_path):
        assert gc.isenabled()
        read_table(write(tmp_path, "p.csv", PERSONS_CSV), "persons")
        assert gc.isenabled()
        with pytest.raises(FileError):
            read_table(write(tmp_path, "q.csv", "姓名\n张三\n"), "persons")
        assert gc.isenabled()


class TestHeaders:
    def test_it_accepts_english_keys_in_any_case_and_width(self, tmp_path):
        text = " ID Number ,NAME,ｓｅｘ,Village*,hukou_village\n410325199001010012,Zhang San,M,410325100201,\n"
        table = read_table(write(tmp_path, "p.csv", text))
        assert table.kind == "persons"
        assert table.columns == ["id_number", "name", "sex", "village", "hukou_village"]
        assert table.headers[0] == "ID Number"

    @pytest.mark.parametrize(
        ("header", "key"),
        [
            ("身份证号（id_number）", "id_number"),
            ("id_number (身份证号)", "id_number"),
            ("（身份证号）", "id_number"),
            ("身份证 号", "id_number"),
            ("出生体重（克）", "birth_weight_g"),
            ("迁入地代码/村代码", "village"),
            ("村代码", "village"),
            ("登记时间", "recorded_at"),
            ("子女姓名(id_number)", None),
            ("备注", None),
        ],
    )
    def test_it_matches_header_variants(self, header, key):
        assert column_key("events", header) == key

    def test_it_rejects_a_repeated_column(self, tmp_path):
        text = "身份证号,姓名,性别,现居住地代码,id_number\n"
        with pytest.raises(FileError) as e:
            read_table(write(tmp_path, "p.csv", text), "persons")
        assert (
            str(e.value)
            == "the columns 身份证号 and id_number are both 身份证号 (id_number); keep one"
        )

    def test_it_rejects_the_same_header_twice(self, tmp_path):
        with pytest.raises(FileError) as e:
            read_table(write(tmp_path, "o.csv", "code,name,name\n"), "orgunits")
        assert str(e.value) == "the column name appears twice; keep one"

    def test_it_names_a_missing_column_in_both_languages(self, tmp_path):
        text = "身份证号,姓名,现居住地代码\n410325199001010012,张三,410325100201\n"
        with pytest.raises(FileError) as e:
            read_table(write(tmp_path, "p.csv", text), "persons")
        assert str(e.value) == "missing column 性别 (sex)"

    def test_it_names_every_missing_column_and_the_kind_the_file_looks_like(self, tmp_path):
        text = "身份证号,姓名,性别,现居住地代码\n"
        with pytest.raises(FileError) as e:
            read_table(write(tmp_path, "p.csv", text), "events")
        assert (
            str(e.value)
            == "missing columns 事件 (event), 日期 (date); this looks like a persons file"
        )

    def test_it_refuses_a_file_of_no_known_kind(self, tmp_path):
        with pytest.raises(FileError) as e:
            read_table(write(tmp_path, "x.csv", "a,b\n1,2\n"))
        assert str(e.value) == (
            "cannot tell what kind of file this is; give --kind "
            "orgunits|persons|events|corrections|reports|census|enrolments|payments|cases|targets"
        )

    @pytest.mark.parametrize("text", ["", "\n\n", ",,\n  ,\n"])
    def test_it_refuses_a_file_without_a_header(self, tmp_path, text):
        with pytest.raises(FileError, match=r"^the file has no header row$"):
            read_table(write(tmp_path, "p.csv", text), "persons")

    def test_it_returns_no_rows_for_a_header_alone(self, tmp_path):
        table = read_table(write(tmp_path, "o.csv", "code,name\n"), "orgunits")
        assert table.rows == []


class TestFiles:
    @pytest.mark.parametrize(
        ("name", "shown"), [("p.xls", ".xls"), ("p.txt", ".txt"), ("p", "(no extension)")]
    )
    def test_it_refuses_an_unknown_file_type(self, tmp_path, name, shown):
        with pytest.raises(FileError) as e:
            read_table(write(tmp_path, name, PERSONS_CSV))
        assert str(e.value) == f"unknown file type {shown}: save it as .xlsx or .csv"

    def test_it_accepts_an_extension_in_capitals(self, tmp_path):
        assert read_table(write(tmp_path, "P.CSV", PERSONS_CSV)).rows == PERSONS_ROWS

    def test_it_refuses_a_missing_file(self, tmp_path):
        with pytest.raises(FileError, match=r"does not exist$"):
            read_table(tmp_path / "none.csv")

    def test_it_recognises_a_workbook_named_csv(self, tmp_path):
        book = tmp_path / "p.xlsx"
        openpyxl.Workbook().save(book)
        path = tmp_path / "p.csv"
        path.write_bytes(book.read_bytes())
        with pytest.raises(FileError) as e:
            read_table(path)
        assert str(e.value) == "the file is an Excel workbook named .csv: rename it to .xlsx"

    def test_it_refuses_a_damaged_workbook(self, tmp_path):
        path = write(tmp_path, "p.xlsx", PERSONS_CSV)
        with pytest.raises(FileError, match=r"^the file is not a readable \.xlsx workbook"):
            read_table(path)

    def test_it_hashes_the_bytes(self, tmp_path):
        path = write(tmp_path, "x.csv", "abc")
        assert sha256_of(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


class TestXlsx:
    def test_it_turns_cells_into_the_text_a_person_typed(self, tmp_path):
        path = tmp_path / "e.xlsx"
        book = xlsxwriter.Workbook(path)
        sheet = book.add_worksheet()
        date = book.add_format({"num_format": "yyyy-mm-dd"})
        stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        sheet.write_row(
            0, 0, ["身份证号", "事件", "日期", "迁入地代码", "出生体重（克）", "登记时间", "原因"]
        )
        sheet.write_number(1, 0, 410325199001010012)  # an ID typed into a General cell
        sheet.write_string(1, 1, "move_in")
        sheet.write_datetime(1, 2, dt.datetime(2024, 3, 5), date)
        sheet.write_number(1, 3, 410325100201)
        sheet.write_number(1, 4, 3250)
        sheet.write_datetime(1, 5, dt.datetime(2024, 3, 5, 10, 30), stamp)
        sheet.write_boolean(1, 6, True)
        sheet.write_string(3, 0, "410325199001010012")
        sheet.write_string(3, 1, " birth ")
        sheet.write_string(3, 2, "2024-04-01")
        sheet.write_number(3, 4, 3250.5)
        book.close()

        table = read_table(path)
        assert table.kind == "events"
        assert table.columns == [
            "id_number", "event", "date", "village", "birth_weight_g", "recorded_at", "reason",
        ]  # fmt: skip
        assert table.rows == [
            (1, ["4.10325199001010E+17", "move_in", "2024-03-05", "410325100201", "3250",
                 "2024-03-05 10:30:00", "TRUE"]),
            (3, ["410325199001010012", "birth", "2024-04-01", "", "3250.5", "", ""]),
        ]  # fmt: skip

    def test_it_reads_english_headers_below_blank_rows(self, tmp_path):
        path = tmp_path / "o.xlsx"
        book = openpyxl.Workbook()
        sheet = book.active
        sheet["A3"], sheet["B3"], sheet["C3"] = "Code", "Name", "Parent"
        sheet["A4"], sheet["B4"] = 410325, "某县"
        sheet["A6"], sheet["B6"], sheet["C6"], sheet["D6"] = 410325100, "城关镇", 410325, "x"
        book.save(path)

        table = read_table(path)
        assert table.kind == "orgunits"
        assert table.columns == ["code", "name", "parent"]
        assert table.rows == [(1, ["410325", "某县", ""]), (3, ["410325100", "城关镇", "410325"])]
        assert table.long_rows == [3]

    def test_it_refuses_an_empty_workbook(self, tmp_path):
        path = tmp_path / "o.xlsx"
        openpyxl.Workbook().save(path)
        with pytest.raises(FileError, match=r"^the file has no header row$"):
            read_table(path, "orgunits")

    @pytest.mark.parametrize(
        ("value", "text"),
        [
            ("村口", "村口"),
            (410325100201.0, "410325100201"),
            (999999999999999.0, "999999999999999"),
            (410325199001010012.0, "4.10325199001010E+17"),
            (1e15, "1.00000000000000E+15"),
            (-12.0, "-12"),
            (3.25, "3.25"),
            (0.1 + 0.2, "0.3"),
            (410325199001010012, "410325199001010012"),
            (True, "TRUE"),
            (False, "FALSE"),
            (dt.date(2024, 3, 5), "2024-03-05"),
            (dt.datetime(2024, 3, 5), "2024-03-05"),
            (dt.datetime(2024, 3, 5, 10, 30), "2024-03-05 10:30:00"),
            (dt.datetime(2024, 3, 5, 23, 59, 59, 999_000), "2024-03-06"),
            (dt.time(8, 15), "08:15:00"),
            (None, ""),
        ],
    )
    def test_it_writes_cell_values_as_text(self, value, text):
        assert cell_text(value) == text


class TestColumns:
    def test_it_has_exactly_the_contract_columns(self):
        assert {kind: set(columns) for kind, columns in COLUMNS.items()} == {
            "orgunits": {"code", "name", "parent"},
            "persons": {
                "id_number", "name", "sex", "birth_date", "village", "hukou_village",
                "household", "phone", "ethnicity", "live_births_before",
            },
            "events": {
                "id_number", "event", "date", "spouse_id_number", "lmp_date", "child_id_number",
                "child_name", "child_sex", "delivery_place", "birth_weight_g", "outcome",
                "village", "method", "reason", "findings", "stage", "recorded_at",
            },
            "corrections": {
                "event_id", "action", "reason", "event", "date", "spouse_id_number", "lmp_date",
                "child_id_number", "child_sex", "delivery_place", "birth_weight_g", "outcome",
                "village", "method", "stop_reason", "findings", "stage",
            },
            "reports": {"org", "period", "item", "value", "submitted_at", "submitted_by"},
            "census": {"org", "year", "sex", "age", "population"},
            "enrolments": {
                "id_number", "scheme", "start_month", "end_month", "end_reason",
                "payee_id_number", "verified_by", "verified_on", "note",
            },
            "payments": {
                "id_number", "scheme", "period", "amount", "due_date", "status", "paid_date",
                "channel", "reference",
            },
            "cases": {
                "case_number", "received_on", "channel", "petitioner_name",
                "petitioner_id_number", "petitioner_phone", "subject", "category", "org",
                "accepted_on", "declined_on", "decline_reason", "handler", "replied_on", "reply",
                "return_visit_on", "satisfaction", "closed_on", "repeat_of",
            },
            "targets": {"indicator", "org", "year", "target", "direction"},
        }  # fmt: skip
        for kind, columns in COLUMNS.items():
            assert REQUIRED[kind] <= set(columns)
            for key, labels in columns.items():
                assert labels[0] == key

    def test_it_gives_the_chinese_labels_of_the_contract(self):
        assert COLUMNS["persons"]["id_number"][1] == "身份证号"
        assert COLUMNS["persons"]["live_births_before"][1] == "已生育子女数"
        assert COLUMNS["orgunits"]["parent"][1] == "上级代码"
        assert COLUMNS["events"]["village"][1] == "迁入地代码/村代码"


class TestGuessKind:
    @pytest.mark.parametrize(
        ("headers", "kind"),
        [
            (["代码", "名称", "上级代码"], "orgunits"),
            (["身份证号", "姓名", "性别", "现居住地代码"], "persons"),
            (["身份证号", "事件", "日期"], "events"),
            (["id_number", "name", "sex", "village", "event", "date"], "events"),
            (["org", "period", "item", "value"], "reports"),
            (["单位代码", "年份", "性别", "年龄", "人口数"], "census"),
            (["身份证号", "姓名", "性别"], None),
            (["code", "name", "org", "period", "item", "value"], None),
            ([], None),
        ],
    )
    def test_it_picks_the_kind_whose_required_columns_are_present(self, headers, kind):
        assert guess_kind(headers) == kind


def test_it_builds_the_index_from_known_columns():
    table = Table("orgunits", ["code", None, "name"], [])
    assert table.index == {"code": 0, "name": 2}
    assert table.get(["410325", "x", "某县"], "name") == "某县"
    assert table.get(["410325", "x", "某县"], "parent") == ""
