"""Targets: attainment, ranks, the league table, the import, the journal and the CLI.

The league table uses the hand-built county (``hand_built_county`` in conftest; its
figures are worked out in ``test_handbuilt_indicators``). For 2024, by township:

    indicator            城关镇 410325100     田湖镇 410325101
    CPR                  60.0                 80.0
    MCPR                 60.0                 60.0
    SRB                  100.0                null (no girls born)
    FACILITY_DELIVERY    75.0                 100.0
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from helpers import write_csv

from taizhang.audit.models import AuditEntry
from taizhang.errors import UserError
from taizhang.targets import actions, rules
from taizhang.targets.attainment import attain, league_table, rank
from taizhang.targets.models import Target, TargetChange

COUNTY, T100, T101 = "410325", "410325100", "410325101"
A1 = "410325100201"
HEADER = ["indicator", "org", "year", "target", "direction"]


def put(indicator, org, value, direction="", year=2024):
    return actions.set_target(
        indicator=indicator, org_code=org, year=year, value=value, direction=direction
    )[0]


@pytest.fixture
def targets(hand_built_county):
    """County: CPR ≥ 80, SRB ≤ 107, MCPR ≥ 60, FACILITY_DELIVERY ≥ 90; 城关镇 its own CPR ≥ 60."""
    put("CPR", COUNTY, "80", "ge")
    put("SRB", COUNTY, "107")  # default direction for SRB: ≤
    put("MCPR", COUNTY, "60")
    put("FACILITY_DELIVERY", COUNTY, "90", ">=")
    return put("CPR", T100, "60", "≥")


# ---------------------------------------------------------------------------
# Attainment and ranks (no database)


class TestAttain:
    def test_it_attains_at_least_the_target_when_higher_is_better(self):
        assert attain("CPR", 80.01, Decimal("80"), "ge") is True
        assert attain("CPR", 79.99, Decimal("80"), "ge") is False

    def test_it_attains_at_most_the_target_when_lower_is_better(self):
        assert attain("SRB", 106.5, Decimal("107"), "le") is True
        assert attain("SRB", 107.01, Decimal("107"), "le") is False

    def test_it_counts_equality_as_attained_both_ways(self):
        assert attain("CPR", 80.0, Decimal("80.00"), "ge") is True
        assert attain("SRB", 107.0, Decimal("107.00"), "le") is True
        # 33.33 as the engine rounds it, against a target typed as 33.33
        assert attain("CPR", round(1 / 3 * 100, 2), rules.value("33.33"), "ge") is True

    def test_it_says_nothing_without_a_value_or_a_target(self):
        assert attain("SRB", None, Decimal("107"), "le") is None
        assert attain("SRB", 100.0, None, "le") is None


class TestRank:
    def test_it_ranks_higher_first_with_shared_ranks_and_no_rank_for_no_value(self):
        # 5 and 5 are both best (1), 3 comes after two units (3), 1 after three (4).
        assert rank([3, None, 5, 5, 1], "ge") == [3, None, 1, 1, 4]

    def test_it_ranks_lower_first_when_lower_is_better(self):
        # 1 is best, 3 second, the two 5s share third.
        assert rank([3, None, 5, 5, 1], "le") == [2, None, 3, 3, 1]


class TestRules:
    def test_it_reads_every_way_of_writing_a_direction(self):
        for raw in ("≥", "ge", "GE", ">=", "＞＝", "不低于"):
            assert rules.direction(raw, "SRB") == "ge", raw
        for raw in ("≤", "le", "<=", "不超过"):
            assert rules.direction(raw, "CPR") == "le", raw

    def test_it_defaults_the_direction_by_indicator(self):
        assert [rules.direction("", c) for c in ("SRB", "CDR", "BIRTH_ORDER_3P", "CPR")] == [
            "le",
            "le",
            "le",
            "ge",
        ]

    def test_it_refuses_bad_values_with_a_sentence(self):
        cases = {
            "abc": "abc is not a number",
            "": "(empty) is not a number",
            "80.125": "80.125 has more than 2 decimals",
            "nan": "nan is not a number",
        }
        for raw, message in cases.items():
            with pytest.raises(UserError) as e:
                rules.value(raw)
            assert str(e.value) == message


# ---------------------------------------------------------------------------
# Actions: the journal and the audit


@pytest.mark.django_db
class TestActions:
    def test_it_journals_a_change_and_keeps_the_current_value_on_the_target(
        self, hand_built_county, django_user_model
    ):
        ada = django_user_model.objects.create(username="ada")
        target, status = actions.set_target(
            indicator="cpr", org_code=COUNTY, year="2024", value="80", user=ada, source="web"
        )
        assert (status, target.indicator, target.direction) == ("created", "CPR", "ge")
        again = actions.set_target(indicator="CPR", org_code=COUNTY, year=2024, value="80.00")
        assert again[1] == "unchanged"
        changed = actions.set_target(
            indicator="CPR", org_code=COUNTY, year=2024, value="85", user=ada
        )
        assert changed[1] == "changed"
        target.refresh_from_db()
        assert (target.value, Target.objects.count()) == (Decimal("85.00"), 1)
        journal = [(c.kind, c.old_value, c.new_value) for c in TargetChange.objects.order_by("id")]
        assert journal == [
            ("set", None, Decimal("80.00")),
            ("change", Decimal("80.00"), Decimal("85.00")),
        ]
        audited = AuditEntry.objects.filter(object_type="target").order_by("id")
        assert [(a.action, a.detail["old"], a.detail["new"]) for a in audited] == [
            ("target_set", None, "≥ 80.00"),
            ("target_change", "≥ 80.00", "≥ 85.00"),
        ]

    def test_it_withdraws_without_deleting_and_can_set_again(self, hand_built_county):
        target = put("CPR", COUNTY, "80")
        actions.withdraw_target(target)
        target.refresh_from_db()
        assert target.active is False
        with pytest.raises(UserError, match="already withdrawn"):
            actions.withdraw_target(target)
        assert put("CPR", COUNTY, "80").active is True
        kinds = list(TargetChange.objects.order_by("id").values_list("kind", flat=True))
        assert kinds == ["set", "withdraw", "set"]

    def test_it_refuses_an_unknown_indicator_or_org_unit(self, hand_built_county):
        with pytest.raises(UserError, match="XYZ is not an indicator code"):
            put("XYZ", COUNTY, "1")
        with pytest.raises(UserError, match="org unit 999999 is not in the register"):
            put("CPR", "999999", "1")
        assert not Target.objects.exists()


# ---------------------------------------------------------------------------
# The league table


@pytest.mark.django_db
class TestLeagueTable:
    CODES = ["CPR", "MCPR", "SRB", "FACILITY_DELIVERY"]

    def test_it_ranks_the_townships_with_a_tie(self, targets):
        rows = league_table(COUNTY, 2024, self.CODES)
        # 城关镇: CPR 60 ≥ own 60 ✓ (equal), MCPR 60 ≥ 60 ✓, SRB 100 ≤ 107 ✓, FD 75 ≥ 90 ✗ = 3
        # 田湖镇: CPR 80 ≥ county 80 ✓, MCPR 60 ≥ 60 ✓, SRB null (none), FD 100 ≥ 90 ✓ = 3
        # Tied on 3: both rank 1, in name order (城 U+57CE before 田 U+7530).
        assert [(r.org, r.score, r.targets, r.rank) for r in rows] == [
            (T100, 3, 4, 1),
            (T101, 3, 4, 1),
        ]
        t100 = {c.code: (c.value, c.target, c.direction, c.attained, c.rank) for c in rows[0].cells}
        t101 = {c.code: (c.value, c.target, c.direction, c.attained, c.rank) for c in rows[1].cells}
        # Ranks: CPR 80 > 60; MCPR 60 = 60 share 1; SRB only 城关镇 has a value;
        # FD 100 > 75.
        assert t100 == {
            "CPR": (60.0, 60.0, "ge", True, 2),
            "MCPR": (60.0, 60.0, "ge", True, 1),
            "SRB": (100.0, 107.0, "le", True, 1),
            "FACILITY_DELIVERY": (75.0, 90.0, "ge", False, 2),
        }
        assert t101 == {
            "CPR": (80.0, 80.0, "ge", True, 1),
            "MCPR": (60.0, 60.0, "ge", True, 1),
            "SRB": (None, 107.0, "le", None, None),
            "FACILITY_DELIVERY": (100.0, 90.0, "ge", True, 1),
        }

    def test_it_falls_back_to_the_county_target_when_the_township_withdraws_its_own(self, targets):
        actions.withdraw_target(targets)
        rows = league_table(COUNTY, 2024, self.CODES)
        # 城关镇 CPR 60 is now held to the county's ≥ 80: ✗, so 2 against 田湖镇's 3.
        assert [(r.org, r.score, r.rank) for r in rows] == [(T101, 3, 1), (T100, 2, 2)]

    def test_it_gives_a_village_its_own_row_against_the_nearest_target(self, targets):
        (row,) = league_table(A1, 2024, ["CPR", "SRB"], by=None)
        # 东街村 2024: SRB null (no girls born); CPR 100.0 (2 of 2) ≥ 城关镇's 60 ✓.
        # Indicators come in the order of docs/indicators.md: SRB before CPR.
        assert [(c.code, c.value, c.target, c.attained, c.rank) for c in row.cells] == [
            ("SRB", None, 107.0, None, None),
            ("CPR", 100.0, 60.0, True, None),
        ]
        assert (row.score, row.rank) == (1, None)

    def test_it_ignores_the_targets_of_another_year(self, targets):
        put("FACILITY_DELIVERY", COUNTY, "50", year=2025)
        rows = league_table(COUNTY, 2024, ["FACILITY_DELIVERY"])
        assert [c.target for r in rows for c in r.cells] == [90.0, 90.0]


# ---------------------------------------------------------------------------
# Import


@pytest.mark.django_db
class TestImport:
    GOOD = [
        ["CPR", COUNTY, "2024", "80", "≥"],
        ["SRB", COUNTY, "2024", "107", ""],
        ["cpr", T100, "2024", "60", ">="],
    ]

    def test_it_imports_and_changes_nothing_the_second_time(
        self, hand_built_county, tmp_path, taizhang
    ):
        path = write_csv(tmp_path / "targets.csv", HEADER, self.GOOD)
        first = taizhang("import", path, "--kind", "targets")
        assert first.exit_code == 0, first.output
        assert "targets 3, changed 0, unchanged 0" in first.output
        srb = Target.objects.get(indicator="SRB")
        assert (srb.value, srb.direction) == (Decimal("107.00"), "le")
        again = taizhang("import", path, "--kind", "targets")
        assert again.exit_code == 0, again.output
        assert "targets 0, changed 0, unchanged 3" in again.output
        assert TargetChange.objects.count() == 3

    def test_it_changes_a_target_from_a_new_file(self, hand_built_county, tmp_path, taizhang):
        taizhang("import", write_csv(tmp_path / "a.csv", HEADER, self.GOOD), "--kind", "targets")
        rows = [["CPR", COUNTY, "2024", "85", "ge"]]
        result = taizhang("import", write_csv(tmp_path / "b.csv", HEADER, rows))
        assert result.exit_code == 0, result.output
        assert "targets 0, changed 1, unchanged 0" in result.output
        change = TargetChange.objects.get(kind="change")
        assert (change.old_value, change.new_value) == (Decimal("80.00"), Decimal("85.00"))

    def test_it_reads_chinese_headers(self, hand_built_county, tmp_path, taizhang):
        header = ["指标代码", "单位代码", "年度", "目标值", "方向"]
        path = write_csv(tmp_path / "t.csv", header, [["SRB", T101, "2024", "110", "≤"]])
        result = taizhang("import", path, "--kind", "targets")
        assert result.exit_code == 0, result.output
        assert Target.objects.get().org_id == T101

    def test_it_reports_every_bad_row_and_writes_nothing(
        self, hand_built_county, tmp_path, taizhang
    ):
        bad = [
            ["CPR", COUNTY, "2024", "80", "ge"],
            ["XYZ", COUNTY, "2024", "80", ""],
            ["CPR", "999999", "2024", "80", ""],
            ["CPR", T101, "24", "80", ""],
            ["CPR", T101, "2024", "eighty", ""],
            ["CPR", T101, "2024", "80.123", ""],
            ["SRB", T101, "2024", "107", "="],
            ["CPR", COUNTY, "2024", "85", "ge"],
            ["CPR", COUNTY, "2024", "80", "ge"],
        ]
        result = taizhang(
            "import", write_csv(tmp_path / "bad.csv", HEADER, bad), "--kind", "targets"
        )
        assert result.exit_code == 1
        lines = [line for line in result.output.splitlines() if line.startswith("row ")]
        assert lines == [
            "row 2: indicator: XYZ is not an indicator code",
            "row 3: org: org unit 999999 is not in the register",
            "row 4: year: 24 is not a year from 2000 to 2100",
            "row 5: target: eighty is not a number",
            "row 6: target: 80.123 has more than 2 decimals",
            "row 7: direction: = is not a direction: use ≥ or ≤ (ge/le)",
            "row 8: target: the target of CPR for 410325 in 2024 is also on row 1",
        ]
        assert not Target.objects.exists()
        assert not TargetChange.objects.exists()


# ---------------------------------------------------------------------------
# The command line


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.django_db
class TestCommand:
    ARGS = ("indicators", "--org", COUNTY, "--period", "2024", "--format", "json")

    def test_it_adds_targets_attainment_and_rank_by_township(self, targets, taizhang):
        data = _json(
            taizhang(*self.ARGS, "--by", "township", "--indicator", "CPR,SRB", "--targets")
        )
        assert [(d["org"], d["score"]) for d in data] == [(T100, 2), (T101, 1)]
        # The existing keys are unchanged; target, direction, attained and rank are added.
        # (SRB before CPR: the order of docs/indicators.md.)
        assert data[0]["indicators"] == [
            {"code": "SRB", "value": 100.0, "numerator": 2, "denominator": 2, "unit": "per_100",
             "target": 107.0, "direction": "le", "attained": True, "rank": 1},
            {"code": "CPR", "value": 60.0, "numerator": 3, "denominator": 5, "unit": "percent",
             "target": 60.0, "direction": "ge", "attained": True, "rank": 2},
        ]  # fmt: skip
        assert data[1]["indicators"][0] == {
            "code": "SRB", "value": None, "numerator": 1, "denominator": 0, "unit": "per_100",
            "target": 107.0, "direction": "le", "attained": None, "rank": None,
        }  # fmt: skip

    def test_it_leaves_the_output_as_it_was_without_targets(self, targets, taizhang):
        data = _json(taizhang(*self.ARGS, "--by", "township", "--indicator", "CPR"))
        assert data[0] == {
            "org": T100,
            "period": "2024",
            "indicators": [
                {"code": "CPR", "value": 60.0, "numerator": 3, "denominator": 5, "unit": "percent"}
            ],
        }

    def test_it_adds_the_target_of_one_org_unit_without_a_rank(self, targets, taizhang):
        data = _json(taizhang(*self.ARGS, "--indicator", "CPR", "--targets"))
        # The county's CPR 70.0 (7 of 10) against its own ≥ 80: not attained.
        assert data["indicators"][0] == {
            "code": "CPR", "value": 70.0, "numerator": 7, "denominator": 10, "unit": "percent",
            "target": 80.0, "direction": "ge", "attained": False,
        }  # fmt: skip
        assert data["score"] == 0

    def test_it_adds_target_columns_to_csv(self, targets, taizhang):
        result = taizhang(
            "indicators", "--org", COUNTY, "--period", "2024", "--by", "township",
            "--indicator", "SRB", "--targets", "--format", "csv",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines[0].endswith("unit,target,direction,attained,rank")
        assert lines[1].endswith("per_100,107.0,le,yes,1")
        assert lines[2].endswith("per_100,107.0,le,,")

    def test_it_refuses_targets_for_a_period_shorter_than_a_year(self, targets, taizhang):
        result = taizhang("indicators", "--org", COUNTY, "--period", "2024Q1", "--targets")
        assert result.exit_code == 2
        assert "give --period as a year (2024), not 2024Q1" in result.output

    def test_it_lists_the_targets_in_force(self, targets, taizhang):
        put("BIRTHS", T101, "3", year=2025)  # another year: not listed
        data = _json(
            taizhang("targets", "list", "--org", T100, "--year", "2024", "--format", "json")
        )
        # 城关镇's own CPR and the county's four targets that apply to it.
        assert [
            (t["org"], t["indicator"], t["direction"], t["target"]) for t in data["targets"]
        ] == [
            (COUNTY, "CPR", "ge", 80.0),
            (COUNTY, "FACILITY_DELIVERY", "ge", 90.0),
            (COUNTY, "MCPR", "ge", 60.0),
            (COUNTY, "SRB", "le", 107.0),
            (T100, "CPR", "ge", 60.0),
        ]

    def test_it_refuses_an_unknown_org_unit_or_year_in_the_list(self, targets, taizhang):
        result = taizhang("targets", "list", "--org", "999", "--year", "2024")
        assert (result.exit_code, result.output.strip()) == (
            1,
            "org unit 999 is not in the register",
        )
        result = taizhang("targets", "list", "--org", COUNTY, "--year", "x")
        assert (result.exit_code, result.output.strip()) == (1, "x is not a year from 2000 to 2100")
