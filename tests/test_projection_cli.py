"""``taizhang project``: given inputs (the JSON shape of docs/formats.md), bad inputs files, and the
projection from the register of the hand-built county."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from test_projection_engine import BOX_6_1_1998, BOX_6_1_2003

DATA = Path(__file__).parent / "data" / "projection"
SWEDEN = DATA / "sweden1993_females.json"


def _sweden() -> dict:
    return json.loads(SWEDEN.read_text())


def _write(tmp_path, data) -> Path:
    path = tmp_path / "inputs.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_it_projects_given_inputs_in_the_contract_shape(taizhang):
    result = taizhang("project", "--inputs", SWEDEN, "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert list(out) == ["years"]
    assert [y["year"] for y in out["years"]] == [1998, 2003]
    first = out["years"][0]
    assert list(first) == ["year", "female", "male", "births"]
    assert list(first["births"]) == ["total", "female", "male", "by_mother_age"]
    assert [round(v) for v in first["female"]] == BOX_6_1_1998
    assert [round(v) for v in out["years"][1]["female"]] == BOX_6_1_2003
    assert len(first["male"]) == len(first["births"]["by_mother_age"]) == 18
    births = first["births"]
    assert births["total"] == pytest.approx(births["female"] + births["male"], abs=0.002)
    assert births["male"] == pytest.approx(births["female"] * 1.05, rel=1e-4)
    assert sum(births["by_mother_age"]) == pytest.approx(births["total"], abs=0.01)


def test_it_writes_given_inputs_as_csv(taizhang, tmp_path):
    out = tmp_path / "sweden.csv"
    result = taizhang("project", "--inputs", SWEDEN, "--format", "csv", "-o", out)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 2 * 18
    assert rows[0]["year"] == "1998" and rows[0]["age"] == "0–4"
    assert rows[17]["age"] == "85+"
    assert round(float(rows[1]["female"])) == BOX_6_1_1998[1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"step": 3}, "step: must be 1 or 5 (years), not 3."),
        (
            {"ages": [0, 5, 10]},
            "female.population: has 18 values, but ages has 3: one value per age group.",
        ),
        (
            {"ages": [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 90]},
            "ages: must be the group starts 0, 5, 10, … in steps of 5 years; value 18 is 90, "
            "not 85.",
        ),
        ({"srb": -1}, "srb: must be greater than 0, not -1."),
        ({"steps": "two"}, 'steps: must be a whole number, not "two".'),
        ({"asfr": [0.1] + [0] * 17}, "asfr: the first age group (age 0) cannot bear children"),
        ({"radix": None}, "radix: must be a number, not null."),
        ({"extra": 1}, "extra: is not a known field"),
    ],
)
def test_it_names_the_field_of_a_bad_inputs_file(taizhang, tmp_path, change, message):
    result = taizhang("project", "--inputs", _write(tmp_path, _sweden() | change))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_it_names_the_age_of_a_bad_value(taizhang, tmp_path):
    data = _sweden()
    data["female"]["L"][3] = 0
    data["male"]["population"][17] = -5
    del data["female"]["population"]
    result = taizhang("project", "--inputs", _write(tmp_path, data))
    assert result.exit_code == 1
    assert "female.L: value 4 (age 15) must be greater than 0, not 0." in result.output
    assert "male.population: value 18 (age 85+) must not be negative (-5)." in result.output
    assert "female.population: is missing." in result.output


def test_it_says_when_the_inputs_file_is_not_json(taizhang, tmp_path):
    result = taizhang("project", "--inputs", _write(tmp_path, '{"step": 5,'))
    assert result.exit_code == 1
    assert "not valid JSON (line 1" in result.output
    missing = taizhang("project", "--inputs", tmp_path / "none.json")
    assert missing.exit_code == 1
    assert "none.json: no such file." in missing.output


def test_it_wants_one_source_of_inputs(taizhang):
    both = taizhang("project", "--inputs", SWEDEN, "--org", "410325", "--base-year", "2024")
    assert both.exit_code == 2
    assert "not both" in both.output
    neither = taizhang("project", "--org", "410325")
    assert neither.exit_code == 2


@pytest.mark.django_db
def test_it_refuses_an_unknown_org_unit(taizhang, hand_built_county):
    result = taizhang("project", "--org", "999999", "--base-year", "2024", "--format", "json")
    assert result.exit_code == 1
    assert result.output.strip() == "org unit 999999 is not in the register."


@pytest.mark.django_db
def test_it_projects_an_org_unit_from_the_register(taizhang, hand_built_county):
    result = taizhang(
        "project", "--org", "410325", "--base-year", "2024", "--years", "3", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["org"], out["base_year"], out["open_age"]) == ("410325", 2024, 85)
    assert [y["year"] for y in out["years"]] == [2025, 2026, 2027]
    for year in out["years"]:
        assert {"total", "births", "deaths", "women_15_49", "women_20_29"} <= set(year)
    # The base: 32 residents; women 15-49 at the end of 2024: 王秀英 15, 陈静 29, 刘芳 34,
    # 孙丽 39, 黄敏 32, 吴婷 26, 马丽娟 37, 林娜 33, 徐梅 31, 田甜 24, 郭燕 28, 韩雪 35, 曹琳 30,
    # 潘玉 32 = 14 (李华 turned 50); of them 20-29: 陈静, 吴婷, 田甜, 郭燕 = 4 (28.57%).
    assert out["base"]["total"] == 32
    assert out["base"]["women_15_49"] == 14
    assert out["base"]["women_20_29"] == 4
    assert out["base"]["women_20_29_share"] == pytest.approx(28.57)
    # Each year: population = last year's + births - deaths + net migration.
    previous = out["base"]["total"]
    for year in out["years"]:
        change = year["births"] - year["deaths"] + year["net_migration"]
        assert year["total"] == pytest.approx(previous + change, abs=0.16)
        previous = year["total"]
    # Three moved in and three out in 2022-2024: net 0 a year, by age ±1/3, half at the
    # start of a year and half at its end. But out-migrants cannot leave a group that is
    # empty: no man of 23 is left (钱进 left), neither at the start of 2025 nor at its end
    # (no man of 22 before), and no woman turns 26 in 2025 (none is 25): 3 × 1/6 of the
    # planned out-migrants stay, so 2025's net migration is +0.5.
    assert out["years"][0]["net_migration"] == pytest.approx(0.5)
    assert any("model life table" in text for text in out["assumptions"])
    # Six births in three years to about 14 women of 15-49 (about 0.14 a woman a year):
    # fertility far above replacement, so a stable population under these rates grows.
    assert out["measured"]["tfr"] > 2.1
    assert out["measured"]["intrinsic_growth_rate"] > 0
    assert out["scenarios"][0]["name"] == "medium"


@pytest.mark.django_db
def test_it_compares_the_scenarios(taizhang, hand_built_county, tmp_path):
    result = taizhang(
        "project", "--org", "410325", "--base-year", "2024", "--years", "2",
        "--scenarios", "all", "--high-tfr", "3", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    by_name = {s["name"]: s for s in out["scenarios"]}
    assert list(by_name) == ["medium", "low", "high", "zero-migration"]
    # Low: the measured TFR × 0.8; high: the target 3.
    assert by_name["low"]["tfr"] == pytest.approx(0.8 * by_name["medium"]["tfr"], abs=0.001)
    assert by_name["high"]["tfr"] == pytest.approx(3.0)
    low, medium = by_name["low"]["years"][0], by_name["medium"]["years"][0]
    assert low["births"] == pytest.approx(0.8 * medium["births"], abs=0.06)
    assert by_name["zero-migration"]["migration"] is False

    unknown = taizhang("project", "--org", "410325", "--base-year", "2024", "--scenario", "wild")
    assert unknown.exit_code == 1
    assert "scenario wild is not known" in unknown.output


@pytest.mark.django_db
def test_it_writes_csv_and_xlsx_by_age(taizhang, hand_built_county, tmp_path):
    out = tmp_path / "p.csv"
    args = ("project", "--org", "410325100", "--base-year", "2024", "--years", "2")
    result = taizhang(*args, "--by-age", "--format", "csv", "-o", out)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    # The base year and two more, 86 ages (0 … 85+) each.
    assert len(rows) == 3 * 86
    assert (rows[0]["scenario"], rows[0]["year"], rows[0]["age"]) == ("medium", "2024", "0")
    assert rows[85]["age"] == "85+"
    # 城关镇 at the end of 2024: 赵子轩 (boy, 0), 杨欣怡 (girl, 0), 杨欣然 (boy, 0), 何雨桐 (girl, 0).
    assert (float(rows[0]["female"]), float(rows[0]["male"])) == (2.0, 2.0)
    xlsx = tmp_path / "p.xlsx"
    result = taizhang(*args, "--format", "xlsx", "-o", xlsx)
    assert result.exit_code == 0, result.output
    assert xlsx.read_bytes()[:2] == b"PK"
    refused = taizhang(*args, "--format", "xlsx")
    assert refused.exit_code == 2
