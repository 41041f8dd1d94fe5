"""Service indicators on the service schedule, worked out by hand on a small village.

Village A (410325100201) of 城关镇, county 410325. The women (all live in A):

    W1 born 1980-05-05, married 2010; check-ups 2024-03-31 and 2025-03-31; screened
       2022-12-31 and 2025-06-01 (finding: cervicitis)
    W2 born 1985-01-01, married 2012; check-up 2024-04-01; screened 2023-01-01 and
       2025-05-05 (no finding); a child born 2025-02-01, recorded 2025-03-04 (31 days)
    W3 born 1991-01-01, married 2015; check-up 2025-04-01; screened 2025-03-03; a child
       born 2025-01-31, recorded 2025-03-02 (30 days: 28 to the end of February, then 2)
    W4 born 1975-03-31 (turns 50 on 2025-03-31), married 1998
    W5 born 1988-08-08, married 2012, moves out of the county on 2025-03-15
    W6 born 1961-12-31 (64 on 2025-12-31), single; a screening on 2025-07-07 that was
       retracted (a void correction)
    W7 born 1960-06-06 (65 in 2025), single
    W8 born 1990-02-02, married 2014; a child born 2024-02-28, recorded 2024-03-29 (30
       days across 29 February)

Follow-ups (default schedule: postpartum visits due day 7 (done days 0-7) and day 42
(days 8-42); IUD checks due day 30 (days 16-45), 91, 182, 365):

    W1 IUD inserted 2025-03-01 → checks due 03-31, 05-31, 08-30, 2026-03-01; a follow-up on
       03-20 (day 19)
    W2 delivery 2025-02-01 → visits due 02-08 and 03-15; a follow-up on 02-09 (day 8: too
       late for the first, in time for the second)
    W3 delivery 2025-01-31 → visits due 02-07 and 03-14; follow-ups on 02-07 (day 7) and
       03-15 (day 43: a day after the second window)
    W5 IUD inserted 2025-02-01 → check due 03-03 (she still lives here, no follow-up); she
       moves out on 03-15, so the checks due 05-03 and later are not owed here
    W8 delivery 2024-02-28 → visits due 2024-03-06 and 04-10; none recorded

Life-stage education (stages at the end of 2025): W8 registered a pregnancy on 2025-09-01;
sessions: W2 lactation 2025-05-01, W1 menopause 2025-10-10, W8 child-rearing 2024-11-11
(the year before), W3 menopause 2025-06-06 (she is 34: not her stage), W8 pregnancy
2025-10-01.

Schedule (defaults): check-up for married women 15-49 every 12 months; screening for
women 35-64 every 36 months.
"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import write_csv

from taizhang.indicators import schedule
from taizhang.indicators.backends import duckdb_backend
from taizhang.indicators.definitions import SERVICE_INDICATORS
from taizhang.indicators.engine import compute, compute_many, running_on
from taizhang.lib.idnumber import make
from taizhang.register import actions
from taizhang.register.models import Event, Person

pytestmark = pytest.mark.django_db

A = "410325100201"


def pid(birth: str, seq: int, region: str = "410325") -> str:
    return make(region, dt.date.fromisoformat(birth), seq)


W = {
    1: pid("1980-05-05", 2),
    2: pid("1985-01-01", 4),
    3: pid("1991-01-01", 6),
    4: pid("1975-03-31", 8),
    5: pid("1988-08-08", 10),
    6: pid("1961-12-31", 12),
    7: pid("1960-06-06", 14),
    8: pid("1990-02-02", 16),
}
HUSBAND = {n: pid("1970-01-01", 100 + 2 * n + 1, "410322") for n in (1, 2, 3, 4, 5, 8)}
CHILD2, CHILD3, CHILD8 = pid("2025-02-01", 31), pid("2025-01-31", 33), pid("2024-02-28", 35)

HEADER = [
    "id_number", "event", "date", "spouse_id_number", "child_id_number", "child_name",
    "child_sex", "delivery_place", "village", "findings", "recorded_at", "method", "stage",
]  # fmt: skip


def row(
    n, event, date, spouse="", child="", name="", sex="", findings="", recorded="", village="",
    method="", stage="",
):  # fmt: skip
    place = "facility" if child else ""
    return [
        W[n], event, date, spouse, child, name, sex, place, village, findings, recorded, method,
        stage,
    ]  # fmt: skip


@pytest.fixture
def village(tmp_path, taizhang):
    write_csv(
        tmp_path / "o.csv",
        ["code", "name", "parent"],
        [["410325", "嵩县", ""], ["410325100", "城关镇", "410325"], [A, "东街村", "410325100"]],
    )
    write_csv(
        tmp_path / "p.csv",
        ["id_number", "name", "sex", "village"],
        [[W[n], f"妇女{n}", "F", A] for n in W],
    )
    marriages = [
        row(n, "marriage", f"{year}-01-01", spouse=HUSBAND[n])
        for n, year in ((1, 2010), (2, 2012), (3, 2015), (4, 1998), (5, 2012), (8, 2014))
    ]
    write_csv(
        tmp_path / "e.csv",
        HEADER,
        marriages
        + [
            row(1, "checkup", "2024-03-31"),
            row(1, "checkup", "2025-03-31"),
            row(1, "screening", "2022-12-31"),
            row(1, "screening", "2025-06-01", findings="cervicitis"),
            row(2, "checkup", "2024-04-01"),
            row(2, "screening", "2023-01-01"),
            row(2, "screening", "2025-05-05"),
            row(
                2, "birth", "2025-02-01", child=CHILD2, name="子二", sex="M", recorded="2025-03-04"
            ),
            row(3, "checkup", "2025-04-01"),
            row(3, "screening", "2025-03-03"),
            row(
                3, "birth", "2025-01-31", child=CHILD3, name="子三", sex="M", recorded="2025-03-02"
            ),
            row(5, "method_start", "2025-02-01", method="iud"),
            row(5, "move_out", "2025-03-15", village="郑州市"),
            row(1, "method_start", "2025-03-01", method="iud"),
            row(1, "followup", "2025-03-20"),
            row(2, "followup", "2025-02-09"),
            row(3, "followup", "2025-02-07"),
            row(3, "followup", "2025-03-15"),
            row(8, "pregnancy", "2025-09-01"),
            row(2, "education", "2025-05-01", stage="lactation"),
            row(1, "education", "2025-10-10", stage="menopause"),
            row(8, "education", "2024-11-11", stage="childrearing"),
            row(3, "education", "2025-06-06", stage="menopause"),
            row(8, "education", "2025-10-01", stage="pregnancy"),
            row(6, "screening", "2025-07-07"),
            row(
                8, "birth", "2024-02-28", child=CHILD8, name="子八", sex="M", recorded="2024-03-29"
            ),
        ],
    )
    for kind in ("o", "p", "e"):
        result = taizhang("import", tmp_path / f"{kind}.csv")
        assert result.exit_code == 0, result.output
    voided = Event.objects.get(person=Person.objects.get(name="妇女6"), kind="screening")
    outcome = actions.correct_event(voided.pk, replacement=None, reason="entered twice")
    assert not outcome.problems


def figures(period, *codes):
    result = compute("410325", period, list(codes))
    return {i["code"]: (i["numerator"], i["denominator"], i["value"]) for i in result["indicators"]}


def test_it_counts_check_ups_due_in_a_month(village):
    # March 2025: due = married women 15-49 at 03-31 with no check-up 2024-04-01..2025-02-28:
    # W1 (last 2024-03-31) and W3 (none); W2 had one on 2024-04-01; W4 is 50 on 03-31; W5
    # has left; W8 had none → due. Had one in March: W1 (on 03-31, the last day).
    assert figures("202503", "CHECKUP_RATE")["CHECKUP_RATE"] == (1, 3, 33.33)
    # April: W1 is no longer due (03-31 is within the 12 months); W2 (2024-04-01 is not),
    # W3 and W8 are; W3 had hers on 04-01.
    assert figures("202504", "CHECKUP_RATE")["CHECKUP_RATE"] == (1, 3, 33.33)
    # The year: every married woman 15-49 at the end of 2025 is due (W1, W2, W3, W8; W4 is
    # 50): W1 and W3 had one in 2025.
    assert figures("2025", "CHECKUP_RATE")["CHECKUP_RATE"] == (2, 4, 50.0)


def test_it_counts_screening_due_every_three_years(village):
    # 2025: women 35-64 living in the village at 2025-12-31: W1 (45), W2 (40), W4 (50), W6
    # (64), W8 (35 since 2025-02-02); not W3 (34), W7 (65) or W5 (gone). Due = not screened
    # 2023-01-01..2024-12-31: all but W2 (screened 2023-01-01; W1's 2022-12-31 is before).
    # Screened in 2025 among them: W1 (W6's screening was retracted) → 1 of 4.
    assert figures("2025", "SCREENING_COVERAGE")["SCREENING_COVERAGE"] == (1, 4, 25.0)


def test_it_counts_findings_among_the_women_screened(village):
    # Screened in 2025 and living in the village at its end: W1, W2, W3 (W6's was
    # retracted); with a finding: W1.
    assert figures("2025", "SCREENING_PREVALENCE")["SCREENING_PREVALENCE"] == (1, 3, 33.33)


def test_it_counts_births_registered_within_30_days(village):
    # 2025: W3's child recorded after 30 days (on time), W2's after 31 (late).
    assert figures("2025", "BIRTH_REG_TIMELY")["BIRTH_REG_TIMELY"] == (1, 2, 50.0)
    # 2024: W8's child, 30 days across 29 February.
    assert figures("2024", "BIRTH_REG_TIMELY")["BIRTH_REG_TIMELY"] == (1, 1, 100.0)


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        # February: W3's first visit (done on day 7), W2's first (not done: day 8).
        ("202502", (1, 2, 50.0)),
        # March: W1's 1-month check due 03-31, the month's last day (done 03-20); W2's second
        # visit (done 02-09); W3's second (03-15 is a day late); W5's check (not done).
        ("202503", (2, 4, 50.0)),
        # April: nothing falls due (W5's 3-month check would, but she has left).
        ("202504", (0, 0, None)),
        # 2025: W2 ×2, W3 ×2, W1 at 1, 3 and 6 months, W5 at 1 month = 8; done: W3's first,
        # W2's second, W1's first = 3.
        ("2025", (3, 8, 37.5)),
        ("2024", (0, 2, 0.0)),  # W8's two visits, none recorded
    ],
)
def test_it_counts_follow_ups_done_within_their_window(village, period, expected):
    assert figures(period, "FOLLOWUP_RATE")["FOLLOWUP_RATE"] == expected


def test_it_counts_education_for_each_life_stage(village):
    # At 2025-12-31: menopause (women 45-55) W1, W4; pregnancy W8; lactation (a birth since
    # 2024-12-31) W2, W3; child-rearing (a child under 7) W2, W3, W8; newly-wed: nobody
    # (married over a year ago) → 8 person-stages. Attended a session for the stage in
    # 2025: W1 menopause, W2 lactation, W8 pregnancy → 3.
    assert figures("2025", "EDUCATION_COVERAGE")["EDUCATION_COVERAGE"] == (3, 8, 37.5)


def test_it_gives_the_same_service_figures_on_duckdb(village):
    # The figures above, from the same expressions compiled for DuckDB over a copy of the
    # register's tables (retracted screening, windows, the day-number arithmetic).
    codes = [i.code for i in SERVICE_INDICATORS]
    periods = ["2024", "2025", "202502", "202503", "202504"]
    here = compute_many("410325", periods, codes, [None, "village"])
    backend, con = duckdb_backend()
    with running_on(backend):
        there = compute_many("410325", periods, codes, [None, "village"])
    con.close()
    assert there == here
    values = {i["code"]: i["value"] for i in there["2025", None]["indicators"]}
    assert (values["CHECKUP_RATE"], values["FOLLOWUP_RATE"]) == (50.0, 37.5)


def test_it_prints_the_schedule_with_the_figure(village):
    (entry,) = compute("410325", "2025", ["SCREENING_COVERAGE"])["indicators"]
    assert entry["schedule"] == "screening: women 35-64, every 36 months"


def test_it_follows_a_configured_schedule(village, settings):
    # Screening every 12 months: nobody was screened in 2025's window before 2025 (the window
    # starts 2025-01-01), so all five women 35-64 are due; screened in 2025: W1 and W2.
    settings.TAIZHANG_SERVICE_SCHEDULE = {"screening": {"interval_months": 12}}
    assert figures("2025", "SCREENING_COVERAGE")["SCREENING_COVERAGE"] == (2, 5, 40.0)


@pytest.mark.parametrize(
    ("end", "months", "first"),
    [
        ("2025-03-31", 12, "2024-04-01"),
        ("2025-12-31", 36, "2023-01-01"),
        ("2024-02-29", 12, "2023-03-01"),  # 2023-02-28 + 1 day
        ("2025-01-31", 1, "2025-01-01"),  # 2024-12-31 + 1 day
    ],
)
def test_it_starts_the_window_one_interval_before_the_period_end(end, months, first):
    service = schedule.Service("x", "x", "x", "women", 0, 120, months)
    assert service.window_start(dt.date.fromisoformat(end)) == dt.date.fromisoformat(first)
