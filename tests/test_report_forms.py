"""The report forms (``taizhang report NAME``) on the hand-built county.

The county and its people are those of ``test_handbuilt_indicators`` (read its docstring
for who is who); the figures below are worked out by hand from the same files, and the
tests check that each report total is the indicator value it summarises.

    T100 城关镇 = A1 东街村 + A2 西街村;  T101 田湖镇 = B1 田湖村 + B2 古城村 (empty)
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from test_handbuilt_indicators import COUNTY_2024, COUNTY_202403

from taizhang.indicators.engine import compute
from taizhang.reports.build import build_report
from taizhang.reports.forms import FORMS
from taizhang.reports.render import to_xlsx

pytestmark = pytest.mark.django_db

COUNTY, T100, T101 = "410325", "410325100", "410325101"
A1, A2 = "410325100201", "410325100202"
P30 = "411323200001150743"  # 田甜, lives in A2 since 2023-07-01


def row(report: dict, key: str) -> dict:
    """The first row of the report whose indicator code or English label is ``key``."""
    return next(r for r in report["rows"] if key in (r["code"], r["label_en"]))


def cells(report: dict, key: str) -> list:
    return row(report, key)["cells"]


def indicator(org: str, period: str, code: str) -> dict:
    (entry,) = compute(org, period, [code])["indicators"]
    return entry


# ---------------------------------------------------------------------------
# The monthly population change report, the county, March 2024
#
# START (end of 2024-02-29): T100 = A1 9 + A2 10 = 19; T101 = B1 11 (C25 alive until
#   2024-04-01); county 30.
# Births: the twins of P11 in A2 (T100), 2024-03-15: a girl of order 1 and a boy of order
#   2, both in a facility. No deaths, no marriages.
# Moves: P28 and P29 move into B1 (T101) from outside the county on 2024-03-01; nobody
#   leaves.
# END: T100 19 + 2 = 21; T101 11 + 2 = 13; county 34 (= POP_END of test_handbuilt).
MARCH_2024 = {
    "POP_START": [19, 11, 30],
    "BIRTHS": [2, 0, 2],
    "boys": [1, 0, 1],
    "girls": [1, 0, 1],
    "first births": [1, 0, 1],
    "second births": [1, 0, 1],
    "third and higher births": [0, 0, 0],
    "in a facility": [2, 0, 2],
    "not in a facility": [0, 0, 0],
    "DEATHS": [0, 0, 0],
    "MARRIAGE_RATE": [0, 0, 0],
    "MOVES_IN": [0, 2, 2],
    "MOVES_OUT": [0, 0, 0],
    "POP_END": [21, 13, 34],
}


class TestPopulationChange:
    def test_it_gives_the_county_and_its_townships_for_march_2024(self, hand_built_county):
        report = build_report("population-change", COUNTY, "202403")
        assert [c["key"] for c in report["columns"]] == [T100, T101, COUNTY]
        assert [c["label"] for c in report["columns"]] == ["城关镇", "田湖镇", "合计"]
        for key, expected in MARCH_2024.items():
            assert cells(report, key) == expected, key
        # The county's moves are counted across the county's border, a township's across
        # the township's.
        assert row(report, "MOVES_IN")["codes"] == [
            "MOVES_IN_TOWNSHIP",
            "MOVES_IN_TOWNSHIP",
            "MOVES_IN_COUNTY",
        ]

    def test_its_totals_are_the_indicator_values(self, hand_built_county):
        report = build_report("population-change", COUNTY, "202403")
        total = {key: cells(report, key)[-1] for key in MARCH_2024}
        for code in ("POP_START", "POP_END", "BIRTHS", "DEATHS"):
            assert total[code] == COUNTY_202403[code][0]
        # Births by sex, by order and by place each add up to BIRTHS.
        for parts in (
            ("boys", "girls"),
            ("first births", "second births", "third and higher births"),
            ("in a facility", "not in a facility"),
        ):
            for i in range(3):
                assert sum(cells(report, p)[i] for p in parts) == cells(report, "BIRTHS")[i]

    def test_each_column_balances(self, hand_built_county):
        # START + births - deaths + in - out = END, in every column.
        report = build_report("population-change", COUNTY, "202403")
        c = {key: cells(report, key) for key in MARCH_2024}
        for i in range(3):
            flows = c["BIRTHS"][i] - c["DEATHS"][i] + c["MOVES_IN"][i] - c["MOVES_OUT"][i]
            assert c["POP_START"][i] + flows == c["POP_END"][i]

    def test_a_move_between_two_villages_of_a_township_is_no_move_of_the_township(
        self, hand_built_county, taizhang, tmp_path
    ):
        # P30 moves from A2 to A1 on 2024-05-10; P13 moves from A2 to B1 (the other
        # township) on 2024-05-01. May 2024 for T100 (columns A1, A2, T100):
        #   in:  A1 1 (P30), A2 0, T100 0 (P30 stayed in it)
        #   out: A1 0, A2 2 (P13, P30), T100 1 (P13)
        #   START (end of 2024-04-30): A1 9; A2 12 (P11 P12 P13 P15 P16 P17 P18 P19 P20 P30
        #   and the twins); T100 21. END: A1 10, A2 10, T100 20. No births or deaths.
        events = tmp_path / "events.csv"
        events.write_text(f"id_number,event,date,village\n{P30},move_within,2024-05-10,{A1}\n")
        assert taizhang("import", events, "--kind", "events").exit_code == 0
        report = build_report("population-change", T100, "202405")
        assert [c["key"] for c in report["columns"]] == [A1, A2, T100]
        assert cells(report, "MOVES_IN") == [1, 0, 0]
        assert cells(report, "MOVES_OUT") == [0, 2, 1]
        assert cells(report, "POP_START") == [9, 12, 21]
        assert cells(report, "POP_END") == [10, 10, 20]
        # For the county neither move crosses its border.
        county = build_report("population-change", COUNTY, "202405")
        assert cells(county, "MOVES_IN")[-1] == cells(county, "MOVES_OUT")[-1] == 0


# ---------------------------------------------------------------------------
# The quarterly contraception report, the county, 2024Q2 (end 2024-06-30)
#
# MWRA at 2024-06-30 (test_handbuilt, 2024S1): T100 P04 P05 P08 P11 P15 P17 = 6;
#   T101 P13 P21 P23 P25 P29 = 5; county 11.
# Users (the couple's first method, most effective first):
#   T100: P04 (husband's male sterilisation), P08 pill, P11 pill (and her husband's
#         condom: once, under the pill), P17 pill (stopped on the last day: still using) = 4
#   T101: P21 other, P23 female sterilisation, P25 injectable, P29 IUD = 4
#   county 8 = CPR's numerator; CPR 4/6 = 66.67, 4/5 = 80.0, 8/11 = 72.73.
# Starts in Q2: T100 P11 pill and P12 condom (2024-05-01); T101 P29 IUD (04-10) and P25
#   injectable (06-01); county 4.
# Stops in Q2: P17's pill on 2024-06-30, planning a pregnancy (T100); county 1.
Q2_2024 = {
    "MWRA": [6, 5, 11],
    "CPR": [4, 4, 8],  # the numerator row comes first
    "female sterilisation": [0, 1, 1],
    "male sterilisation": [1, 0, 1],
    "implant": [0, 0, 0],
    "IUD": [0, 1, 1],
    "injectable": [0, 1, 1],
    "pill": [3, 0, 3],
    "condom": [0, 0, 0],
    "other method": [0, 1, 1],
    "METHOD_STARTS": [2, 2, 4],
    "METHOD_STARTS_PILL": [1, 0, 1],
    "METHOD_STARTS_CONDOM": [1, 0, 1],
    "METHOD_STARTS_IUD": [0, 1, 1],
    "METHOD_STARTS_INJECTABLE": [0, 1, 1],
    "METHOD_STOPS": [1, 0, 1],
    "METHOD_STOPS_PLANNING": [1, 0, 1],
    "METHOD_STOPS_OTHER": [0, 0, 0],
}


class TestContraception:
    def test_it_gives_users_starts_and_stops_for_the_second_quarter(self, hand_built_county):
        report = build_report("contraception", COUNTY, "2024Q2")
        assert [c["key"] for c in report["columns"]] == [T100, T101, COUNTY]
        for key, expected in Q2_2024.items():
            assert cells(report, key) == expected, key
        rate = [r for r in report["rows"] if r["code"] == "CPR" and r["part"] == "value"]
        assert rate[0]["cells"] == [66.67, 80.0, 72.73]

    def test_its_totals_are_the_indicator_values(self, hand_built_county):
        report = build_report("contraception", COUNTY, "2024Q2")
        users = [r for r in report["rows"] if r["code"].startswith("USERS_")]
        starts = [r for r in report["rows"] if r["code"].startswith("METHOD_STARTS_")]
        stops = [r for r in report["rows"] if r["code"].startswith("METHOD_STOPS_")]
        assert (len(users), len(starts), len(stops)) == (8, 8, 7)
        for i in range(3):
            assert sum(r["cells"][i] for r in users) == cells(report, "CPR")[i]
            assert sum(r["cells"][i] for r in starts) == cells(report, "METHOD_STARTS")[i]
            assert sum(r["cells"][i] for r in stops) == cells(report, "METHOD_STOPS")[i]
        assert cells(report, "CPR")[-1] == indicator(COUNTY, "2024Q2", "CPR")["numerator"] == 8

    def test_it_counts_a_stop_in_the_quarter_of_its_day(self, hand_built_county):
        # Q1: P15 stopped her IUD on 2024-01-20 to plan a pregnancy (A2, T100). Users at
        # 2024-03-31 (test_handbuilt, March 2024): P04 male sterilisation, P08 and P17
        # pill, P21 other, P23 female sterilisation = 5 = CPR's numerator.
        report = build_report("contraception", COUNTY, "2024Q1")
        assert cells(report, "METHOD_STOPS_PLANNING") == [1, 0, 1]
        assert cells(report, "CPR") == [3, 2, 5]
        assert cells(report, "pill") == [2, 0, 2]


# ---------------------------------------------------------------------------
# The annual summary, the county, 2024


class TestAnnualSummary:
    def test_it_lists_every_indicator_with_its_figures(self, hand_built_county):
        report = build_report("annual-summary", COUNTY, "2024")
        keys = [c["key"] for c in report["columns"]]
        assert keys == ["value", "numerator", "denominator", "unit", "target", "attained"]
        got = {r["code"]: r["cells"] for r in report["rows"]}
        assert len(got) == 31  # 23 demographic + 8 service indicators (docs/indicators.md)
        for code, (value, numerator, denominator) in COUNTY_2024.items():
            if code == "TFR":
                assert got[code][0] == value
                continue
            assert got[code][:3] == [value, numerator, denominator], code

    def test_it_shows_the_target_in_force_and_whether_it_was_attained(self, hand_built_county):
        from taizhang.targets import actions

        actions.set_target(indicator="CPR", org_code=COUNTY, year=2024, value="80")
        actions.set_target(indicator="FACILITY_DELIVERY", org_code=COUNTY, year=2024, value="75")
        got = {
            r["code"]: r["cells"] for r in build_report("annual-summary", COUNTY, "2024")["rows"]
        }
        # CPR 2024 = 7 / 10 = 70.0 < 80: missed; FACILITY_DELIVERY 4 / 5 = 80.0 >= 75.
        assert got["CPR"][4:] == [80.0, False]
        assert got["FACILITY_DELIVERY"][4:] == [75.0, True]
        assert got["CBR"][4:] == [None, None]


# ---------------------------------------------------------------------------
# The command


class TestCommand:
    def test_it_prints_json_without_a_file(self, hand_built_county, taizhang):
        r = taizhang("report", "population-change", "--org", COUNTY, "--period", "202403")
        assert r.exit_code == 0, r.output
        data = json.loads(r.stdout)
        assert (data["report"], data["org"], data["period"]) == (
            "population-change",
            COUNTY,
            "202403",
        )
        assert cells(data, "BIRTHS") == [2, 0, 2]

    def test_it_reports_for_the_top_of_the_tree_without_org(self, hand_built_county, taizhang):
        r = taizhang("report", "contraception", "--period", "2024Q2")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["org"] == COUNTY

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (
                ("population-change", "--period", "2024Q1"),
                "the population-change report is made for a month (e.g. 202403), "
                "not for the quarter 2024Q1.",
            ),
            (("contraception", "--period", "2024"), "made for a quarter (e.g. 2024Q1)"),
            (("annual-summary", "--period", "202401"), "made for a year (e.g. 2024)"),
            (("births", "--period", "2024"), "report 'births' is not known; the reports are:"),
            (("annual-summary", "--period", "2024", "--org", "999999"), "org unit 999999"),
            (("annual-summary", "--period", "2024-13"), "2024-13"),
            (
                ("annual-summary", "--period", "2024", "--format", "xlsx"),
                "a xlsx report is written to a file: add -o FILE.",
            ),
        ],
    )
    def test_it_refuses_bad_input_with_a_sentence(self, hand_built_county, taizhang, args, message):
        r = taizhang("report", *args)
        assert r.exit_code == 1
        assert message in r.output
        assert "Traceback" not in r.output

    def test_it_writes_an_xlsx_that_opens_back(self, hand_built_county, taizhang, tmp_path):
        import openpyxl

        out = tmp_path / "march.xlsx"
        r = taizhang("report", "population-change", "--org", COUNTY, "--period", "202403",
                     "--format", "xlsx", "-o", out)  # fmt: skip
        assert r.exit_code == 0, r.output
        sheet = openpyxl.load_workbook(out).active
        assert sheet["A1"].value == "人口变动情况月报表"
        assert sheet["A2"].value.startswith("单位：嵩县（410325）  期间：202403  生成时间：")
        header = [c.value for c in sheet[4]]
        assert header == ["项目", "指标代码", "城关镇", "田湖镇", "合计"]
        assert all(c.font.b for c in sheet[4])
        assert sheet.freeze_panes == "C5"
        rows = {r[1]: list(r[2:]) for r in sheet.iter_rows(min_row=5, values_only=True)}
        assert rows["POP_START"] == [19, 11, 30]
        assert rows["MOVES_IN"] == [0, 2, 2]
        assert rows["POP_END"] == [21, 13, 34]
        assert sheet["C5"].number_format == "#,##0"

    def test_it_writes_blank_cells_and_words_in_the_summary_xlsx(self, hand_built_county):
        import io

        import openpyxl

        sheet = openpyxl.load_workbook(
            io.BytesIO(to_xlsx(build_report("annual-summary", COUNTY, "2024")))
        ).active
        rows = {r[1]: list(r[2:]) for r in sheet.iter_rows(min_row=5, values_only=True)}
        # CBR 2024: 163.93, 5 / 30.5, ‰, no target.
        assert rows["CBR"] == [163.93, 5, 30.5, "‰", None, None]
        assert rows["POP_END"] == [32, 32, None, "人", None, None]


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
class TestPdf:
    def test_it_writes_an_a4_pdf_with_the_chinese_text_and_an_embedded_cjk_font(
        self, hand_built_county, taizhang, tmp_path
    ):
        out = tmp_path / "march.pdf"
        r = taizhang("report", "population-change", "--org", COUNTY, "--period", "202403",
                     "--format", "pdf", "-o", out)  # fmt: skip
        assert r.exit_code == 0, r.output
        text = subprocess.run(["pdftotext", out, "-"], capture_output=True, text=True).stdout
        assert "人口变动情况月报表" in text
        assert "城关镇" in text and "期初人口" in text
        fonts = subprocess.run(["pdffonts", out], capture_output=True, text=True).stdout
        cjk = [line for line in fonts.splitlines() if "CJK" in line]
        assert cjk and all(" yes " in line for line in cjk)
        info = subprocess.run(["pdfinfo", out], capture_output=True, text=True).stdout
        assert "(A4)" in info


def test_every_form_is_declared_with_a_period_kind():
    assert {name: f.period_kind for name, f in FORMS.items()} == {
        "population-change": "month",
        "contraception": "quarter",
        "annual-summary": "year",
    }
