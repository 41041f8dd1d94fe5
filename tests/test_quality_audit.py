"""The audit on the hand-built county (``tests/data/handbuilt``; its README says who is
who): the JSON shape, each check's figures worked out by hand, the census carried
forward, the command, and the thresholds a county sets.

    T100 城关镇 = A1 东街村 + A2 西街村;  T101 田湖镇 = B1 田湖村 + B2 古城村 (empty)
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zlib

import pytest
from django.utils import timezone

from taizhang.audit.models import AuditEntry
from taizhang.errors import UserError
from taizhang.indicators.engine import compute, compute_levels
from taizhang.quality import actions, checks, config, figures

pytestmark = pytest.mark.django_db

COUNTY, T100, T101 = "410325", "410325100", "410325101"
A1, A2, B1, B2 = "410325100201", "410325100202", "410325101201", "410325101202"
MONTHS = [f"2024{m:02d}" for m in range(1, 13)]
# The report items and the indicator whose numerator the register's figure is, by level.
ITEM_CODES = {
    "births": "BIRTHS",
    "deaths": "DEATHS",
    "marriages": "MARRIAGE_RATE",
    "moves_in": "MOVES_IN_{level}",
    "moves_out": "MOVES_OUT_{level}",
    "method_starts": "METHOD_STARTS",
}
CHECK_KEYS = {"code", "name", "status", "thresholds", "findings"}
FINDING_KEYS = {"org", "status", "figures", "message"}
ENTRY_KEYS = {"org", "group", "expected", "registered", "missing", "interval"}


def engine_figures(org: str, month: str, level: str) -> dict[str, int]:
    """What the indicator engine counts for ``org`` in ``month``, by report item."""
    codes = {item: code.format(level=level.upper()) for item, code in ITEM_CODES.items()}
    entries = {e["code"]: e for e in compute(org, month, list(codes.values()))["indicators"]}
    return {item: entries[code]["numerator"] for item, code in codes.items()}


def pdf_objects(body: bytes) -> bytes:
    """A PDF's bytes with its compressed streams (object streams among them) inflated."""
    parts = [body]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S):
        try:
            parts.append(zlib.decompress(stream))
        except zlib.error:
            continue
    return b"\n".join(parts)


def check(result: dict, code: str) -> dict:
    return next(c for c in result["checks"] if c["code"] == code)


def census(org: str, women: dict[int, int], year: int = 2024) -> list[actions.CensusCell]:
    """A whole base: the women of ``women`` (age -> count), nobody else."""
    return [
        actions.CensusCell(org, year, sex, age, women.get(age, 0) if sex == "F" else 0)
        for sex in ("F", "M")
        for age in range(86)
    ]


@pytest.fixture
def women_only(settings):
    settings.TAIZHANG_AUDIT = {"census_comparison": {"groups": ["women_15_49"]}}


# ---------------------------------------------------------------------------
# The register's figures are the indicator engine's


def test_the_recorded_figures_are_the_indicators_of_each_month(hand_built_county):
    # Every report item of every village, township and the county, each month of 2024,
    # counted as the engine counts the indicator (moves across the unit's own border).
    recorded = figures.recorded_by_level(
        COUNTY, dt.date(2024, 1, 1), dt.date(2024, 12, 31), (12, 9, 6)
    )
    levels = {None: ("county", 6), "township": ("township", 9), "village": ("village", 12)}
    codes = sorted(
        {
            code.format(level=name.upper())
            for name, _ in levels.values()
            for code in ITEM_CODES.values()
        }
    )
    seen = 0
    for month in MONTHS:
        results = compute_levels(COUNTY, month, codes, list(levels))
        for level, (name, length) in levels.items():
            for result in results[level] if level else [results[level]]:
                entries = {e["code"]: e["numerator"] for e in result["indicators"]}
                wanted = {
                    item: entries[code.format(level=name.upper())]
                    for item, code in ITEM_CODES.items()
                }
                org = result["org"]
                got = {i: recorded[length].get((org, month, i), 0) for i in ITEM_CODES}
                assert got == wanted, (org, month)
                seen += sum(wanted.values())
    # Not all zeros: births, a death, marriages, moves and method starts in 2024.
    assert seen > 40


def test_the_pregnancies_are_counted_where_the_woman_lived(hand_built_county):
    # Ma Lijuan registers a pregnancy on 2024-02-26 and Lin Na on 2024-08-10, both in 西街村.
    got = figures.pregnancies_monthly(COUNTY, dt.date(2023, 1, 1), dt.date(2024, 12, 31))
    assert got == {(A2, "202402"): 1, (A2, "202408"): 1}


# ---------------------------------------------------------------------------
# The JSON


def test_it_gives_the_json_of_the_contract(hand_built_county):
    actions.record_census(census(T100, {30: 1}) + census(T101, {30: 1}), source="import")
    result = checks.audit(COUNTY, "2024")
    assert set(result) == {"org", "period", "checks", "under_registration"}
    assert (result["org"], result["period"]) == (COUNTY, "2024")
    assert [c["code"] for c in result["checks"]] == [
        "REPORTING_COMPLETENESS",
        "REPORTED_VS_RECORDED",
        "OUTLIERS",
        "CONSISTENCY_OVER_TIME",
        "RELATED_FIGURES",
        "STRUCTURE",
        "CENSUS_COMPARISON",
        "DUPLICATE_PERSONS",
    ]
    for c in result["checks"]:
        assert set(c) == CHECK_KEYS
        assert c["status"] in ("pass", "warn", "fail")
        severity = {"pass": 0, "warn": 1, "fail": 2}
        worst = max((severity[f["status"]] for f in c["findings"]), default=0)
        assert severity[c["status"]] == worst
        for f in c["findings"]:
            assert set(f) == FINDING_KEYS
            assert f["org"].startswith(COUNTY) and len(f["org"]) in (9, 12)
    # One entry per township and group, women 15-49 among them.
    entries = result["under_registration"]
    assert all(set(e) == ENTRY_KEYS for e in entries)
    assert [e["org"] for e in entries if e["group"] == "women_15_49"] == [T100, T101]
    json.dumps(result)  # plain data


def test_it_audits_a_year_only(hand_built_county):
    with pytest.raises(UserError, match=r"the audit covers a year \(e.g. 2024\), not the quarter"):
        checks.audit(COUNTY, "2024Q1")
    with pytest.raises(UserError, match="org unit 999 is not in the register"):
        checks.audit("999", "2024")


# ---------------------------------------------------------------------------
# 1 and 2. Report forms: complete, on time, and what the register says


@pytest.fixture
def reports_of_a2(hand_built_county):
    """西街村 (A2) reports every month of 2024 but July and August, on the 3rd of the next
    month (November's only on 9 December: late); what it reports is the register's, but
    for March's births: 1, where the register has the twins. 城关镇 reports March's births
    right (2)."""
    reports = []
    for month in MONTHS:
        if month in ("202407", "202408"):
            continue
        day = (
            dt.date(2024, 12, 9)
            if month == "202411"
            else (actions.next_month(actions.month_first_day(month)).replace(day=3))
        )
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
        for item, value in engine_figures(A2, month, "village").items():
            if (month, item) == ("202403", "births"):
                assert value == 2
                value = 1
            reports.append(actions.Report(A2, month, item, value, moment, "西街村卫生室"))
    reports.append(actions.Report(T100, "202403", "births", 2, None, ""))
    actions.record_reports(reports, source="import")


def test_it_finds_the_missing_and_late_report_forms(reports_of_a2):
    result = checks.audit(COUNTY, "2024")
    found = {f["org"]: f for f in check(result, "REPORTING_COMPLETENESS")["findings"]}
    # Villages that sent nothing: 0 of 12, below 75%. A2: 10 of 12 = 83.3% (below 90%:
    # a warning); 9 of its 10 on time = 90% (above 80%).
    assert {org: f["status"] for org, f in found.items()} == {
        A1: "fail",
        A2: "warn",
        B1: "fail",
        B2: "fail",
    }
    figures_ = found[A2]["figures"]
    assert (figures_["due"], figures_["complete"], figures_["on_time"]) == (12, 10, 9)
    assert figures_["missing"] == ["202407", "202408"]
    assert figures_["late"] == ["202411"]
    assert (figures_["completeness"], figures_["timeliness"]) == (0.8333, 0.9)


def test_it_lists_what_was_reported_against_what_is_recorded(reports_of_a2):
    result = checks.audit(COUNTY, "2024")
    (finding,) = check(result, "REPORTED_VS_RECORDED")["findings"]
    assert finding["org"] == A2 and finding["status"] == "warn"
    assert finding["figures"]["differences"] == [
        {
            "period": "202403",
            "item": "births",
            "reported": 1,
            "recorded": 2,
            "difference": -1,
            "version": 1,
        }
    ]
    # Births in the ten months reported: March 1 + November 1 (He Yutong) against 2 + 1.
    assert finding["figures"]["totals"]["births"] == {
        "reported": 2,
        "recorded": 3,
        "months": 10,
        "difference": -1,
    }
    assert finding["message"] == (
        "births: reported 2, recorded 3 (-1) in the 10 months reported; 1 months differ"
    )


def test_a_corrected_report_replaces_the_difference(reports_of_a2):
    actions.record_reports([actions.Report(A2, "202403", "births", 2)], source="web")
    result = checks.audit(COUNTY, "2024")
    assert check(result, "REPORTED_VS_RECORDED")["findings"] == []


# ---------------------------------------------------------------------------
# 7. The census carried forward


def test_it_estimates_the_women_missing_from_the_register(hand_built_county, women_only):
    # Census of 2024 (counted on 2024-07-01). Women 15-49 on 2024-12-31 were born
    # 1975-01-01 .. 2009-12-31.
    # 城关镇: its women by age on 2024-07-01 as the register has them: Yang Xinyi 0, Wang
    #   Xiuying 14 (born 2009-08-20: of those aged 14 she is in the group, so the register
    #   puts all of the cohort in it), Tian Tian 24, Chen Jing 28, Huang Min and Xu Mei 31,
    #   Lin Na 33, Liu Fang 34, Ma Lijuan 37, Sun Li 38, Li Hua 50 (out). Expected
    #   1 + 1 + 1 + 2 + 1 + 1 + 1 + 1 = 9; nobody of the group came, left or died after;
    #   registered 9; missing 0 ± 1.96 × (0.01 × 9) = ±0.18.
    # 田湖镇: Feng Kexin 1, Wu Ting 25, Guo Yan 28, Cao Lin 29, Pan Yu 31, Han Xue 35, Du
    #   Xiulan 75 — and two women of 30 the register never entered. Expected 5 + 2 = 7;
    #   registered 5; missing 2 ± 1.96 × (0.01 × 7) = 2 ± 0.14, 2/7 = 28.6% of the expected:
    #   a failure (at least 5%).
    t100 = {0: 1, 14: 1, 24: 1, 28: 1, 31: 2, 33: 1, 34: 1, 37: 1, 38: 1, 50: 1}
    t101 = {1: 1, 25: 1, 28: 1, 29: 1, 31: 1, 35: 1, 75: 1, 30: 2}
    actions.record_census(census(T100, t100) + census(T101, t101), source="import")
    result = checks.audit(COUNTY, "2024")
    assert result["under_registration"] == [
        {
            "org": T100,
            "group": "women_15_49",
            "expected": 9.0,
            "registered": 9,
            "missing": 0.0,
            "interval": [-0.2, 0.2],
        },
        {
            "org": T101,
            "group": "women_15_49",
            "expected": 7.0,
            "registered": 5,
            "missing": 2.0,
            "interval": [1.9, 2.1],
        },
    ]
    (finding,) = check(result, "CENSUS_COMPARISON")["findings"]
    assert (finding["org"], finding["status"]) == (T101, "fail")
    shown = ("census_year", "census", "registered_at_census", "moves_in", "moves_out", "share")
    assert {k: finding["figures"][k] for k in shown} == {
        "census_year": 2024,
        "census": 7.0,
        "registered_at_census": 5,
        "moves_in": 0,
        "moves_out": 0,
        "share": 0.2857,
    }
    assert finding["message"] == (
        "women 15–49: expected 7, registered 5, missing ≈2 (28.6%), 95% interval 2 to 2"
    )


def test_it_carries_the_census_forward_with_the_register_s_moves(hand_built_county):
    # 田湖镇 from a census on 2023-07-01 to the end of 2024. Women of 15-49 then: Guo Yan,
    # Cao Lin, Han Xue and Jiang Yun (who leaves on 2024-06-30); Pan Yu comes from outside
    # (2024-03-01) and Wu Ting from 城关镇 (2024-05-01): 4 + 2 - 1 = 5, the 5 registered.
    # Everyone: 10 then (Feng Kexin, born 2023-05-05, among them); Peng Le born and dead in
    # 2024; Xie Fei, Pan Yu and Wu Ting in, Jiang Yun out: 10 + 1 - 1 + 3 - 1 = 12.
    groups = [figures.parse_group("women_15_49"), figures.parse_group("population")]
    got = figures.cohort_figures(COUNTY, 9, dt.date(2023, 7, 1), dt.date(2024, 12, 31), groups)
    women, everyone = got[(T101, "women_15_49")], got[(T101, "population")]
    flows = lambda f: (  # noqa: E731
        sum(f.in_group.values()),
        f.births,
        f.deaths,
        f.moves_in,
        f.moves_out,
        f.registered,
    )
    assert flows(women) == (4, 0, 0, 2, 1, 5)
    assert flows(everyone) == (10, 1, 1, 3, 1, 12)
    assert everyone.registered == compute(T101, "2024", ["POP_END"])["indicators"][0]["value"]


def test_it_says_when_there_is_no_census(hand_built_county):
    result = checks.audit(COUNTY, "2024")
    found = check(result, "CENSUS_COMPARISON")["findings"]
    assert [(f["org"], f["status"]) for f in found] == [(T100, "warn"), (T101, "warn")]
    assert found[0]["message"] == (
        "no census base for 2024 or before: under-registration not estimated"
    )
    assert result["under_registration"] == []


# ---------------------------------------------------------------------------
# Thresholds


def test_it_prints_the_thresholds_it_used_and_takes_a_county_s_own(
    hand_built_county, settings, tmp_path, monkeypatch
):
    result = checks.audit(COUNTY, "2024")
    assert check(result, "STRUCTURE")["thresholds"]["mwra_share"] == [18.0, 22.0]
    monkeypatch.setenv("TAIZHANG_DATA", str(tmp_path))
    (tmp_path / "audit.toml").write_text(
        "[structure]\nmwra_share = [17.0, 23.0]\n\n[outliers]\nwarn_p = 0.01\n", encoding="utf-8"
    )
    settings.TAIZHANG_AUDIT = {"outliers": {"warn_p": 0.02}}
    limits = config.thresholds()
    assert limits["structure"]["mwra_share"] == [17.0, 23.0]
    assert limits["outliers"]["warn_p"] == 0.02  # the setting wins over the file
    result = checks.audit(COUNTY, "2024")
    assert check(result, "STRUCTURE")["thresholds"]["mwra_share"] == [17.0, 23.0]
    settings.TAIZHANG_AUDIT = {"outlier": {"warn_p": 0.02}}
    with pytest.raises(UserError, match="the audit settings name 'outlier': use completeness"):
        config.thresholds()
    settings.TAIZHANG_AUDIT = {"outliers": {"warnp": 0.02}}
    with pytest.raises(UserError, match=r"the audit settings of outliers name unknown settings"):
        config.thresholds()


# ---------------------------------------------------------------------------
# The command


def test_the_command_prints_the_json(hand_built_county, taizhang):
    result = taizhang("audit", "--org", COUNTY, "--period", "2024", "--format", "json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed == json.loads(json.dumps(checks.audit(COUNTY, "2024")))


def test_the_command_says_what_is_wrong(hand_built_county, taizhang):
    result = taizhang("audit", "--org", COUNTY, "--period", "2024Q1", "--format", "json")
    assert (result.exit_code, result.output.strip()) == (
        1,
        "the audit covers a year (e.g. 2024), not the quarter 2024Q1.",
    )
    result = taizhang("audit", "--org", "999", "--period", "2024", "--format", "json")
    assert (result.exit_code, result.output.strip()) == (1, "org unit 999 is not in the register.")
    result = taizhang("audit", "--org", COUNTY, "--period", "2024", "--format", "pdf")
    assert (result.exit_code, result.output.strip()) == (
        1,
        "a pdf audit is written to a file: add -o FILE.",
    )


def test_the_command_writes_the_pdf_for_the_county_meeting(hand_built_county, taizhang, tmp_path):
    path = tmp_path / "audit.pdf"
    result = taizhang("audit", "--org", COUNTY, "--period", "2024", "--format", "pdf", "-o", path)
    assert result.exit_code == 0, result.output
    body = path.read_bytes()
    assert body.startswith(b"%PDF")
    text = pdf_objects(body)
    assert re.search(rb"/MediaBox \[0 0 841\.8\d* 595\.\d+\]", text)  # A4 landscape
    assert b"/FontFile3" in text and b"Noto-Sans-CJK-SC" in text  # the Chinese font, embedded
    entry = AuditEntry.objects.get(action="audit_export")
    assert (entry.org_code, entry.object_id, entry.detail) == (COUNTY, "2024", {"format": "pdf"})


def test_the_command_prints_a_table(hand_built_county, taizhang):
    result = taizhang("audit", "--org", COUNTY, "--period", "2024", "--format", "table")
    assert result.exit_code == 0, result.output
    assert "城关镇" in result.output and "田湖镇" in result.output
    assert "REPORTING_COMPLETENESS" in result.output
