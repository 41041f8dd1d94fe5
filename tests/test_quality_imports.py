"""The ``reports`` and ``census`` import kinds on the hand-built county: one transaction,
every bad row named, nothing written on error, the same file twice changes nothing, and
a changed report is a new version that keeps the old one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import write_csv

from taizhang import clock
from taizhang.audit.models import AuditEntry
from taizhang.imports.models import ImportBatch
from taizhang.quality.actions import latest_versions
from taizhang.quality.models import CensusPopulation, ReportedFigure

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data" / "quality"
T100, T101 = "410325100", "410325101"
A1, A2 = "410325100201", "410325100202"
REPORT_HEADER = ["org", "period", "item", "value", "submitted_at", "submitted_by"]
CENSUS_HEADER = ["org", "year", "sex", "age", "population"]


def census_rows(org: str, year: int, population=lambda sex, age: 1) -> list[list]:
    """A whole base: both sexes, ages 0-84 and 85+ (172 cells)."""
    return [
        [org, year, sex, age if age < 85 else "85+", population(sex, age)]
        for sex in ("F", "M")
        for age in range(86)
    ]


class TestReports:
    GOOD = [
        [A1, "202403", "births", "0", "", ""],
        [A2, "202403", "births", "2", "2024-04-03 09:30", "张三"],
        [T100, "202403", "births", "2", "2024-04-05", ""],
    ]

    def test_it_imports_and_changes_nothing_the_second_time(
        self, hand_built_county, tmp_path, taizhang
    ):
        path = write_csv(tmp_path / "reports.csv", REPORT_HEADER, self.GOOD)
        first = taizhang("import", path, "--kind", "reports")
        assert first.exit_code == 0, first.output
        assert "reports 3, changed 0, unchanged 0" in first.output
        batches = ImportBatch.objects.count()
        again = taizhang("import", path)  # the kind is guessed from the headers
        assert again.exit_code == 0, again.output
        assert "reports 0, changed 0, unchanged 3" in again.output
        assert ReportedFigure.objects.count() == 3
        assert ImportBatch.objects.count() == batches  # a file that changes nothing leaves no trace
        figure = ReportedFigure.objects.get(org_id=A2)
        assert (figure.value, figure.version, figure.submitted_by, figure.source) == (
            2,
            1,
            "张三",
            "import",
        )
        # 09:30 in the county's time zone (Asia/Shanghai) is 01:30 UTC.
        assert figure.submitted_at.isoformat() == "2024-04-03T01:30:00+00:00"

    def test_it_keeps_the_old_value_when_a_report_is_corrected(
        self, hand_built_county, tmp_path, taizhang
    ):
        taizhang("import", write_csv(tmp_path / "a.csv", REPORT_HEADER, self.GOOD))
        corrected = [[A2, "202403", "births", "1", "2024-04-10 08:00", "张三"]]
        result = taizhang("import", write_csv(tmp_path / "b.csv", REPORT_HEADER, corrected))
        assert result.exit_code == 0, result.output
        assert "reports 0, changed 1, unchanged 0" in result.output
        versions = list(
            ReportedFigure.objects.filter(org_id=A2)
            .order_by("version")
            .values_list("version", "value")
        )
        assert versions == [(1, 2), (2, 1)]
        assert latest_versions(A2, "202403")["births"].value == 1
        entry = AuditEntry.objects.filter(action="reports_record").latest("id")
        assert entry.detail["changes"] == [
            {"org": A2, "period": "202403", "item": "births", "old": 2, "new": 1, "version": 2}
        ]

    def test_it_reads_chinese_headers_and_a_byte_order_mark(self, hand_built_county, taizhang):
        result = taizhang("import", DATA / "reports_zh.csv")
        assert result.exit_code == 0, result.output
        assert "reports 6" in result.output
        assert dict(ReportedFigure.objects.filter(org_id=A2).values_list("item", "value")) == {
            "births": 2,
            "deaths": 0,
            "marriages": 0,
            "moves_in": 0,
            "moves_out": 0,
            "method_starts": 0,
        }

    def test_it_reports_every_bad_row_and_writes_nothing(
        self, hand_built_county, tmp_path, taizhang
    ):
        bad = [
            [A1, "202403", "births", "0", "", ""],  # 1: good
            ["410325", "202403", "births", "0", "", ""],  # 2: the county does not report
            ["999999999", "202403", "births", "0", "", ""],  # 3
            [A1, "202413", "births", "0", "", ""],  # 4
            [A1, "209901", "births", "0", "", ""],  # 5
            [A1, "202403", "births2", "0", "", ""],  # 6
            [A1, "202404", "deaths", "-1", "", ""],  # 7
            [A1, "202403", "deaths", "0", "2024-02-28", ""],  # 8: before March began
            [A1, "202403", "marriages", "0", "2099-01-01", ""],  # 9
            [A1, "202403", "births", "1", "", ""],  # 10: row 1 says 0
            [A1, "202405", "births", "1", "2024-06-01 25:00", ""],  # 11
            [A1, "202406", "births", "1", "", "x" * 101],  # 12
        ]
        errors_json = tmp_path / "errors.json"
        result = taizhang(
            "import",
            write_csv(tmp_path / "bad.csv", REPORT_HEADER, bad),
            "--kind",
            "reports",
            "--errors-json",
            errors_json,
        )
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert lines == [
            "row 2: org: org unit 410325 is not a township or a village",
            "row 3: org: org unit 999999999 is not in the register",
            "row 4: period: 202413 is not a month: write YYYYMM, e.g. 202501",
            "row 5: period: the month 209901 has not ended",
            "row 6: item: births2 is not a report item: use births|deaths|marriages|moves_in|"
            "moves_out|method_starts",
            "row 7: value: -1 is not a whole number (the value reported)",
            "row 8: submitted_at: the report for 202403 cannot be submitted before the month began",
            "row 9: submitted_at: 2099-01-01 is in the future",
            "row 10: value: the births of 410325100201 for 202403 are also on row 1",
            "row 11: submitted_at: 2024-06-01 25:00 is not a time of day",
            "row 12: submitted_by: the name of who submitted it is longer than 100 characters",
            "bad.csv: nothing imported — 11 of 12 rows have errors",
        ]
        assert json.loads(errors_json.read_text())[0] == {
            "row": 2,
            "column": "org",
            "message": "org unit 410325 is not a township or a village",
        }
        assert ReportedFigure.objects.count() == 0


class TestCensus:
    def test_it_imports_a_whole_base_and_changes_nothing_the_second_time(
        self, hand_built_county, tmp_path, taizhang
    ):
        path = write_csv(tmp_path / "census.csv", CENSUS_HEADER, census_rows(T101, 2024))
        first = taizhang("import", path, "--kind", "census")
        assert first.exit_code == 0, first.output
        assert "census cells 172, changed 0, unchanged 0" in first.output
        again = taizhang("import", path)  # guessed from the headers
        assert again.exit_code == 0, again.output
        assert "census cells 0, changed 0, unchanged 172" in again.output
        assert CensusPopulation.objects.count() == 172
        # "85+" is kept as the open age 85.
        assert CensusPopulation.objects.filter(age=85).count() == 2

    def test_it_replaces_a_changed_cell_and_keeps_the_old_one_in_the_audit_trail(
        self, hand_built_county, tmp_path, taizhang
    ):
        taizhang("import", write_csv(tmp_path / "a.csv", CENSUS_HEADER, census_rows(T101, 2024)))
        one = [[T101, 2024, "女", 30, 3]]
        result = taizhang("import", write_csv(tmp_path / "b.csv", CENSUS_HEADER, one))
        assert result.exit_code == 0, result.output
        assert "census cells 0, changed 1, unchanged 0" in result.output
        assert CensusPopulation.objects.get(org_id=T101, sex="F", age=30).population == 3
        entry = AuditEntry.objects.filter(action="census_record").latest("id")
        assert entry.detail["changes"] == [
            {"org": T101, "year": 2024, "sex": "F", "age": 30, "old": 1, "new": 3}
        ]

    def test_it_refuses_a_base_that_lacks_cells(self, hand_built_county, tmp_path, taizhang):
        rows = census_rows(T101, 2024)[:-1]  # no M 85+
        result = taizhang(
            "import", write_csv(tmp_path / "short.csv", CENSUS_HEADER, rows), "--kind", "census"
        )
        assert result.exit_code == 1
        assert result.output.splitlines()[0] == (
            "file: the census base of 410325101 for 2024 lacks 1 of its cells (M 85+): give "
            "both sexes, every age from 0 to 84 and 85+"
        )
        assert CensusPopulation.objects.count() == 0

    def test_it_reports_every_bad_row_and_writes_nothing(
        self, hand_built_county, tmp_path, taizhang
    ):
        rows = census_rows(T101, 2024)
        rows[0] = [T101, 2024, "F", "86", 1]  # row 1
        rows[1] = [T101, 2024, "F", "90+", 1]  # row 2
        rows[2] = [T101, 2099, "F", "2", 1]  # row 3
        rows[3] = [T101, 2024, "X", "3", 1]  # row 4
        rows[4] = [T101, 2024, "F", "4", "many"]  # row 5
        rows[5] = ["410325", 2024, "F", "5", 1]  # row 6
        rows.append([T101, 2024, "F", "6", 2])  # row 173: row 7 says 1
        this_year = clock.today().year  # a census year is at most this one
        result = taizhang(
            "import", write_csv(tmp_path / "bad.csv", CENSUS_HEADER, rows), "--kind", "census"
        )
        assert result.exit_code == 1
        assert result.output.strip().splitlines() == [
            "row 1: age: 86 is outside 0–84 (age; the last group is 85+)",
            "row 2: age: 90+: the only open age group is 85+",
            f"row 3: year: 2099 is outside 1950–{this_year} (census year)",
            "row 4: sex: X is not a sex: use M/F or 男/女",
            "row 5: population: many is not a whole number (population)",
            "row 6: org: org unit 410325 is not a township or a village",
            "row 173: population: the same org unit, year, sex and age is also on row 7",
            "bad.csv: nothing imported — 7 of 173 rows have errors",
        ]
        assert CensusPopulation.objects.count() == 0
