"""What each ledger lists for a village and a month, worked out by hand.

The village is 东街村 (A, 410325100201) of 城关镇 (410325100), with 西街村 (B,
410325100202) beside it; the files are in tests/data/ledgers. The month is March 2026
(202603: 2026-03-01 to 2026-03-31); ages are on its last day, 2026-03-31.

    W1  李秀兰  b. 1976-03-15, married 2000: turns 50 on 2026-03-15, so 50 on 03-31
    W2  王芳    b. 1990-05-05 (35), married 2015; check-up 2025-03-10; IUD from 2026-01-30
    W3  张丽    b. 1992-07-07 (33), married 2018 to 马强 (registered: condom since 2024-01-01);
                check-up 2025-06-01; pill from 2026-03-05
    W4  刘洋    b. 1995-02-02 (31), married 2020; moves into A from outside the county on
                2026-03-15; household registration (户籍) 410322100201
    W5  陈静    b. 1988-08-08, married 2012; moves out of the county (郑州市) on 2026-03-10
    W6  杨敏    b. 1993-03-03 (33), married 2016; a son born 2026-02-22; a follow-up visit
                2026-02-25; a lactation session 2026-03-05
    W7  赵婷    b. 1997-09-09 (28), married 2025-08-08
    W8  黄燕    b. 1994-04-04 (31), married 2019; pregnancy registered 2025-08-01, LMP
                2025-07-01 (expected 2026-04-07)
    W9  周娟    b. 1991-01-01 (35), married 2014; a daughter born 2026-03-24, recorded 04-10
    W10 吴桂英  b. 1970-06-06 (55), not married
    W11 徐红    b. 1980-10-10 (45), married 2005; screened 2025-01-01; check-up 2026-03-20
    W13 孙娜    b. 1996-06-06 (29), single, living in A, registered (户籍) in 410322100201
    朱伟 (man) moves within the county from B to A on 2026-03-20
    胡德全 (man, b. 1940) dies 2026-03-12
    郭玉珍 b. 1963-05-05 (62): reward enrolment from 202601; 202601 and 202602 paid, 202603 due
    林国华 b. 1960-01-01: reward enrolment from 202604
    Petitions about A: K-1 received 2026-02-02, replied 2026-03-10; K-2 received 2026-01-05,
    accepted, no reply; K-3 closed 2026-02-20; K-4 received 2026-04-02. K-5 is about B.

Services schedule (defaults): check-up for married women 15–49 every 12 months (due in
March: none since 2025-04-01); screening for women 35–64 every 36 months (due in March:
none since 2023-04-01); follow-ups: postpartum due day 7 (window days 0–7) and day 42, IUD
checks due day 30 (window days 16–45), 91, 182, 365.

A woman's age is taken on the month's last day, like the indicators' END stocks: W1 (50
on 2026-03-31) is on the 15–49 lists of February but not of March.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import make_user

from taizhang.ledgers.build import build
from taizhang.ledgers.declarations import KINDS

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data" / "ledgers"
A, B = "410325100201", "410325100202"
MARCH, FEBRUARY = "202603", "202602"


@pytest.fixture
def ledger_village(db, taizhang):
    """The village of this module's docstring, imported through the command."""
    from taizhang.accounts.models import Role

    for kind in ("orgunits", "persons", "events"):
        result = taizhang("import", DATA / f"{kind}.csv", "--kind", kind)
        assert result.exit_code == 0, result.output
    make_user("alice", Role.VILLAGE_WORKER, A)  # handles the petitions of A
    for kind in ("enrolments", "payments", "cases"):
        result = taizhang("import", DATA / f"{kind}.csv", "--kind", kind)
        assert result.exit_code == 0, result.output


def listed(kind, village=A, month=MARCH, cell="name"):
    """(task, cell) of each row, in the ledger's order."""
    return [(r.task, r.cells.get(cell)) for r in build(kind, village, month).rows]


def test_contraception_lists_married_women_15_49_iud_checks_and_postpartum_offers(
    ledger_village,
):
    # Married women 15–49 on 2026-03-31, resident then: W2 W3 W4 W6 W7 W8 W9 W11 (by
    # household number). W1 is 50, W5 has moved out, W10 and W13 are not married.
    # W2's IUD check at 1 month falls due 2026-01-30 + 30 = 2026-03-01.
    # Postpartum counselling: deliveries whose 42 days touch March (from 2026-01-18):
    # W6 (2026-02-22) and W9 (2026-03-24).
    assert listed("contraception") == [
        ("MWRA", "王芳"),
        ("MWRA", "张丽"),
        ("MWRA", "刘洋"),
        ("MWRA", "杨敏"),
        ("MWRA", "赵婷"),
        ("MWRA", "黄燕"),
        ("MWRA", "周娟"),
        ("MWRA", "徐红"),
        ("IUD30-260130", "王芳"),
        ("PPC-260222", "杨敏"),
        ("PPC-260324", "周娟"),
    ]
    rows = build("contraception", A, MARCH).rows
    # The couple's methods: her pill, and her registered husband's condom (he counts
    # under her, as CPR counts a couple).
    assert rows[1].cells["method"] == "口服避孕药（2026-03-05起）；丈夫避孕套（2024-01-01起）"
    assert rows[1].cells["husband"] == "马强"
    assert rows[0].cells["method"] == "宫内节育器（2026-01-30起）"
    assert rows[2].cells["method"] == "未采取措施"
    # The ID and phone numbers are printed in full on the village's own list.
    assert (rows[0].cells["id_number"], rows[0].cells["phone"]) == (
        "410325199005050041",
        "13800000002",
    )


def test_a_woman_turning_50_leaves_the_15_49_lists_in_the_month_she_turns_50(ledger_village):
    # February: W1 is 49 on 2026-02-28 and W5 still lives in A; W4 has not come yet.
    february = [name for task, name in listed("contraception", month=FEBRUARY) if task == "MWRA"]
    assert february == ["李秀兰", "王芳", "张丽", "陈静", "杨敏", "赵婷", "黄燕", "周娟", "徐红"]
    march = [name for task, name in listed("contraception") if task == "MWRA"]
    assert "李秀兰" not in march and "陈静" not in march and "刘洋" in march
    # She stays on the screening list (women 35–64).
    assert ("DUE", "李秀兰") in listed("screening")


def test_checkup_lists_the_married_women_due_with_their_last_check_up(ledger_village):
    # Of the eight married women 15–49 on 03-31, W3 had a check-up on 2025-06-01 (after
    # 2025-04-01): not due. W2's last was 2025-03-10: due again. W4 moved in mid-month:
    # due here. W11 is due and had it on 2026-03-20.
    doc = build("checkup", A, MARCH)
    assert [(r.cells["name"], r.cells["last"], r.cells["done"]) for r in doc.rows] == [
        ("王芳", "2025-03-10", ""),
        ("刘洋", "", ""),
        ("杨敏", "", ""),
        ("赵婷", "", ""),
        ("黄燕", "", ""),
        ("周娟", "", ""),
        ("徐红", "", "2026-03-20"),
    ]


def test_it_lists_exactly_the_records_behind_the_village_figure(ledger_village):
    # The ledgers list the denominators of the service indicators for the village-month.
    from taizhang.indicators.engine import records_behind

    pairs = {
        "checkup": "CHECKUP_RATE",
        "screening": "SCREENING_COVERAGE",
        "education": "EDUCATION_COVERAGE",
    }
    for kind, code in pairs.items():
        subjects = sorted({r.subject_id for r in build(kind, A, MARCH).rows})
        assert subjects == records_behind(code, A, MARCH, "denominator"), kind
    followups = build("followup", A, MARCH).rows
    assert len(followups) == 3
    assert sorted({r.subject_id for r in followups}) == records_behind(
        "FOLLOWUP_RATE", A, MARCH, "denominator"
    )


def test_screening_lists_women_35_64_not_screened_for_36_months(ledger_village):
    # Women 35–64 living in A on 03-31: W1 (50), W2 (35), W9 (35), W10 (55), W11 (45),
    # 郭玉珍 (62). W11 was screened 2025-01-01: not due. Nobody else ever was.
    assert listed("screening") == [
        ("DUE", "李秀兰"),
        ("DUE", "王芳"),
        ("DUE", "周娟"),
        ("DUE", "吴桂英"),
        ("DUE", "郭玉珍"),
    ]


def test_followup_lists_the_visits_due_with_their_windows(ledger_village):
    # W2: IUD 2026-01-30 → check due 03-01, counted days 16–45 (02-15 to 03-16).
    # W6: delivery 2026-02-22 → visit due 03-01, days 0–7; done on 02-25 (day 3).
    # W9: delivery 2026-03-24 → visit due 03-31, the month's last day.
    # (W6's 42-day visit falls due 04-05, W2's 3-month check 05-01: not March.)
    doc = build("followup", A, MARCH)
    assert [
        (r.task, r.cells["name"], r.cells["due"], r.cells["window"], r.cells["done"])
        for r in doc.rows
    ] == [
        ("IUD30-260130", "王芳", "2026-03-01", "2026-02-15 至 2026-03-16", ""),
        ("PP7-260222", "杨敏", "2026-03-01", "2026-02-22 至 2026-03-01", "2026-02-25"),
        ("PP7-260324", "周娟", "2026-03-31", "2026-03-24 至 2026-03-31", ""),
    ]


def test_births_lists_pregnancies_due_soon_and_births_of_the_month(ledger_village):
    # W8: LMP 2025-07-01 + 280 days = 2026-04-07, next month: listed. W9's daughter was
    # born 2026-03-24 and recorded 04-10, 17 days later: in time (30 days).
    doc = build("births", A, MARCH)
    assert [(r.task, r.subject, r.cells["name"]) for r in doc.rows] == [
        ("PREG", "person", "黄燕"),
        ("BIRTH", "person", "周娟"),
    ]
    preg, birth = doc.rows
    assert (preg.cells["lmp"], preg.cells["due"]) == ("2025-07-01", "2026-04-07")
    assert birth.cells["child"] == "周小九（女）2026-03-24 住院分娩"
    assert birth.cells["registration"] == "2026-04-10 登记（及时）"
    # Nothing on this list sorts births by any policy: no such column exists.
    labels = {c.zh for c in doc.ledger.columns} | {c.zh for c in doc.ledger.fill}
    assert not any(word in "".join(labels) for word in ("计划外", "政策外", "违法"))


def test_migrants_lists_moves_of_the_month_and_residents_registered_elsewhere(ledger_village):
    # In: W4 from outside the county (03-15) and 朱伟 from B (03-20); out: W5 to 郑州市
    # (03-10); registered elsewhere and living here: W13 (W4 is listed as arriving).
    # W4 is a married woman of 31 due a check-up: the service due to her here.
    doc = build("migrants", A, MARCH)
    assert [
        (r.task, r.cells["name"], r.cells["moved"], r.cells["other"], r.cells["services"])
        for r in doc.rows
    ] == [
        ("IN", "刘洋", "2026-03-15", "县外", "康检"),
        ("WITHIN-IN", "朱伟", "2026-03-20", "西街村（410325100202）", ""),
        ("OUT", "陈静", "2026-03-10", "郑州市", ""),
        ("TEMP", "孙娜", "", "", ""),
    ]
    # B's list has 朱伟 leaving for A.
    assert listed("migrants", village=B) == [("WITHIN-OUT", "朱伟")]


def test_reports_lists_the_form_items_with_the_counts_the_register_holds(ledger_village):
    # March in A: one birth (W9), one death (胡德全), no marriage, two moves in (W4 and
    # 朱伟), one move out (W5), one method started (W3's pill).
    doc = build("reports", A, MARCH)
    assert [(r.task, r.cells["code"], r.cells["recorded"]) for r in doc.rows] == [
        ("BIRTHS", "births", 1),
        ("DEATHS", "deaths", 1),
        ("MARRIAGES", "marriages", 0),
        ("MOVES-IN", "moves_in", 2),
        ("MOVES-OUT", "moves_out", 1),
        ("METHOD-STARTS", "method_starts", 1),
    ]
    assert {(r.subject, r.subject_id) for r in doc.rows} == {("orgunit", int(A))}


def test_education_lists_people_in_each_life_stage_and_who_attended(ledger_village):
    # On 03-31: newly-wed W7 (married 2025-08-08); pregnant W8; lactation and child-rearing
    # W6 and W9 (births 02-22 and 03-24); menopause (women 45–55) W1 (50), W10 (55), W11
    # (45). W6 attended a lactation session on 03-05.
    doc = build("education", A, MARCH)
    assert [(r.task, r.cells["name"], r.cells["attended"]) for r in doc.rows] == [
        ("NEWLYWED", "赵婷", ""),
        ("PREGNANCY", "黄燕", ""),
        ("LACTATION", "杨敏", "2026-03-05"),
        ("LACTATION", "周娟", ""),
        ("CHILDREARING", "杨敏", ""),
        ("CHILDREARING", "周娟", ""),
        ("MENOPAUSE", "李秀兰", ""),
        ("MENOPAUSE", "吴桂英", ""),
        ("MENOPAUSE", "徐红", ""),
    ]
    # The stage to fill in is written in advance: the row's own stage.
    assert doc.rows[0].prefill == {"stage": "newlywed"}


def test_benefits_lists_enrolments_in_force_with_the_payment_due(ledger_village):
    # 郭玉珍's reward enrolment runs from 202601: the 202603 payment (80 yuan, due on the
    # month's last day) is not yet paid. 林国华's starts in 202604: not in force in March.
    doc = build("benefits", A, MARCH)
    assert [
        (r.task, r.subject, r.cells["name"], r.cells["amount"], r.cells["due"], r.cells["status"])
        for r in doc.rows
    ] == [("PAY-202603", "enrolment", "郭玉珍", "80.00", "2026-03-31", "待发放")]


def test_cases_lists_open_petitions_with_deadlines_and_return_visits_due(ledger_village):
    # K-1: replied 03-10, no return visit yet → due; deadline 2026-02-02 + 60 days = 04-03.
    # K-2: accepted, no reply; its deadline 2026-01-05 + 60 = 03-06 has passed by 03-31.
    # K-3 was closed in February, K-4 came in April, K-5 concerns B.
    doc = build("cases", A, MARCH)
    assert [
        (r.task, r.cells["number"], r.cells["conclude_due"], r.cells["return_visit"])
        for r in doc.rows
    ] == [
        ("RETURN", "K-1", "2026-04-03", "应回访"),
        ("OPEN", "K-2", "2026-03-06（已逾期）", ""),
    ]
    # Petitioners are not printed.
    assert all(
        "甲" not in str(v) and "乙" not in str(v) for r in doc.rows for v in r.cells.values()
    )


def test_family_lists_only_support_households_asked_for(ledger_village):
    # No support is recorded: the ledger lists nothing rather than invent any. Then 王芳's
    # household asks for training on 2026-01-05 (from 02-01, ongoing), 张丽's household
    # had credit from 2025-05-01 completed 2026-02-15 (before March), and B's household
    # has aid: only the training is listed for A in March.
    import datetime as dt

    from taizhang.ledgers import actions
    from taizhang.register.models import Household, Person

    assert build("family", A, MARCH).rows == []
    today = dt.date(2026, 4, 1)
    wang = Person.objects.get(name="王芳")
    training = actions.start_support(
        wang.household,
        kind="training",
        applied_on=dt.date(2026, 1, 5),
        start=dt.date(2026, 2, 1),
        description="电商技能培训",
        person=wang,
        user=None,
        today=today,
    )
    credit = actions.start_support(
        Household.objects.get(number="A-003"),
        kind="credit",
        applied_on=dt.date(2025, 4, 20),
        start=dt.date(2025, 5, 1),
        user=None,
        today=today,
    )
    actions.record_support_result(
        credit, on=dt.date(2026, 2, 15), result="completed", user=None, today=today
    )
    actions.start_support(
        Household.objects.get(number="B-001"),
        kind="aid",
        applied_on=dt.date(2026, 1, 1),
        start=dt.date(2026, 1, 2),
        user=None,
        today=today,
    )
    doc = build("family", A, MARCH)
    assert [(r.task, r.subject, r.cells["name"], r.cells["support"]) for r in doc.rows] == [
        (f"TRAINING-{training.pk}", "household", "王芳", "技能培训")
    ]
    # In February the credit still ran (completed 02-15).
    assert len(build("family", A, FEBRUARY).rows) == 2


def test_every_ledger_has_one_row_key_per_row(ledger_village):
    from taizhang.ledgers.rowkeys import parse_key

    for kind in KINDS:
        doc = build(kind, A, MARCH)
        keys = [r.key for r in doc.rows]
        assert len(set(keys)) == len(keys), kind
        for row in doc.rows:
            key = parse_key(row.key)
            assert (key.kind, key.village, key.month, key.task, key.subject_id) == (
                kind,
                A,
                202603,
                row.task,
                row.subject_id,
            )
