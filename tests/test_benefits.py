"""Benefit schemes: eligibility from the register, verification, the monthly run,
payments, arrears, the report per township, and the imports of existing lists.

The register (imported through `taizhang import`, as a county would):

    410325 嵩县
      410325100 城关镇
        A = 410325100201 东街村
          李秀兰 (F 1966-03-20, turns 60 on 2026-03-20) married 王建国 (M 1966-03-05, turns
            60 on 2026-03-05) on 1988-01-01; their one child 王小军 (M) born 1990-06-01
          赵桂英 (F 1960-01-01): two daughters, born 1985-02-02 and 1988-03-03
          周秀英 (F 1950-01-01, one child before registration), dies 2026-03-10
          吴玉芬 (F 1955-05-05, one child before registration), moves out 2026-05-20
        B = 410325100202 西街村
          孙玉兰 (F 1960-02-02): a son (1986-04-04) and a daughter (1989-05-05)
          陈静 (F 1995-01-01): son 陈小宝 born 2023-05-15
      410325101 田湖镇
        C = 410325101201 田湖村
          刘芳 (F 1998-02-02): daughter 刘小花 born 2026-04-10
          郑淑芬 (F 1970-01-01): her only child 郑伟 (born 1995-01-01) died 2020-06-01

Reward (奖励扶助) is 960 yuan a year paid monthly: 80.00 yuan (8000 fen) a month.
Special (特别扶助) is 7080 a year: 590.00 a month. Childcare is 3600 a year, paid yearly.
"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import EVENT_HEADER, area_users, write_csv

from taizhang.audit.models import AuditEntry
from taizhang.benefits import actions, eligibility
from taizhang.benefits.models import Enrolment, EnrolmentAction, Payment, PaymentAction
from taizhang.benefits.schemes import scheme, schemes
from taizhang.errors import UserError
from taizhang.lib.idnumber import make
from taizhang.register.models import Person

pytestmark = pytest.mark.django_db

COUNTY, TOWN1, TOWN2 = "410325", "410325100", "410325101"
A, B, C = "410325100201", "410325100202", "410325101201"


def pid(birth: str, seq: int) -> str:
    return make("410325", dt.date.fromisoformat(birth), seq)


MUM60 = pid("1966-03-20", 2)
DAD60 = pid("1966-03-05", 1)
SON90 = pid("1990-06-01", 3)
TWO_D = pid("1960-01-01", 4)
MIXED = pid("1960-02-02", 6)
DIES = pid("1950-01-01", 2)
MOVER = pid("1955-05-05", 4)
YOUNG = pid("1995-01-01", 2)
BOY23 = pid("2023-05-15", 1)
MUM26 = pid("1998-02-02", 4)
GIRL26 = pid("2026-04-10", 2)
SPECIAL = pid("1970-01-01", 8)
LOST = pid("1995-01-01", 7)


def birth(mother, date, child, name, sex):
    return [mother, "birth", date, "", child, name, sex, "facility"]


PERSONS = [
    [MUM60, "李秀兰", "F", A, "0"],
    [DAD60, "王建国", "M", A, "0"],
    [TWO_D, "赵桂英", "F", A, "0"],
    [DIES, "周秀英", "F", A, "1"],
    [MOVER, "吴玉芬", "F", A, "1"],
    [MIXED, "孙玉兰", "F", B, "0"],
    [YOUNG, "陈静", "F", B, "0"],
    [MUM26, "刘芳", "F", C, "0"],
    [SPECIAL, "郑淑芬", "F", C, "0"],
]
EVENTS = [
    [MUM60, "marriage", "1988-01-01", DAD60],
    birth(MUM60, "1990-06-01", SON90, "王小军", "M"),
    birth(TWO_D, "1985-02-02", pid("1985-02-02", 6), "赵一", "F"),
    birth(TWO_D, "1988-03-03", pid("1988-03-03", 8), "赵二", "F"),
    birth(MIXED, "1986-04-04", pid("1986-04-04", 5), "孙一", "M"),
    birth(MIXED, "1989-05-05", pid("1989-05-05", 10), "孙二", "F"),
    birth(YOUNG, "2023-05-15", BOY23, "陈小宝", "M"),
    birth(MUM26, "2026-04-10", GIRL26, "刘小花", "F"),
    birth(SPECIAL, "1995-01-01", LOST, "郑伟", "M"),
    [LOST, "death", "2020-06-01"],
    [DIES, "death", "2026-03-10"],
    [MOVER, "move_out", "2026-05-20"],
]


@pytest.fixture
def county(tmp_path, taizhang):
    """The register and users of the module docstring."""
    for kind, header, rows in (
        (
            "orgunits",
            ["code", "name", "parent"],
            [
                [COUNTY, "嵩县", ""],
                [TOWN1, "城关镇", COUNTY],
                [A, "东街村", TOWN1],
                [B, "西街村", TOWN1],
                [TOWN2, "田湖镇", COUNTY],
                [C, "田湖村", TOWN2],
            ],
        ),
        ("persons", ["id_number", "name", "sex", "village", "live_births_before"], PERSONS),
        ("events", EVENT_HEADER, EVENTS),
    ):
        r = taizhang("import", write_csv(tmp_path / f"{kind}.csv", header, rows), "--kind", kind)
        assert r.exit_code == 0, r.output
    ns = area_users(a=A, c=C, township=TOWN1, county=COUNTY)
    ns.tmp_path = tmp_path
    for p in Person.objects.all():
        setattr(ns, {v: k for k, v in NAMES.items()}.get(p.name, f"p{p.pk}"), p)
    return ns


NAMES = {
    "mum60": "李秀兰",
    "dad60": "王建国",
    "two_d": "赵桂英",
    "dies": "周秀英",
    "mover": "吴玉芬",
    "mixed": "孙玉兰",
    "young": "陈静",
    "boy23": "陈小宝",
    "mum26": "刘芳",
    "girl26": "刘小花",
    "special": "郑淑芬",
}

REWARD, SPECIAL_S, CHILDCARE = "reward", "special", "childcare"


def enrol(ns, code, month, today, org=COUNTY):
    """Propose and confirm every candidate of ``code`` for ``month``; the enrolments by name."""
    actions.propose(code, org, month, user=ns.ada, today=today)
    out = {}
    for e in Enrolment.objects.filter(scheme=code, state="proposed"):
        out[e.person.name] = actions.confirm(e, user=ns.ada, today=today)
    return out


def periods(enrolment) -> list[str]:
    return sorted(Payment.objects.filter(enrolment=enrolment).values_list("period", flat=True))


# ---------------------------------------------------------------------------
# Eligibility


class TestEligibility:
    def test_it_makes_a_mother_turning_60_in_march_due_from_march(self, county):
        # 李秀兰 is 59 on 2026-02-28 and 60 on 2026-03-31; she has one child.
        s = scheme(REWARD)
        assert eligibility.due_months(s, county.mum60, 202602, 202604) == [202603, 202604]

    def test_it_counts_the_child_of_his_wife_for_the_father(self, county):
        # 王建国 turns 60 on 2026-03-05; married to 李秀兰 when 王小军 was born (1990).
        s = scheme(REWARD)
        assert eligibility.due_months(s, county.dad60, 202602, 202603) == [202603]

    def test_it_makes_two_daughters_due_but_not_a_son_and_a_daughter(self, county):
        s = scheme(REWARD)
        assert eligibility.is_due(s, county.two_d.pk, 202603)
        assert not eligibility.is_due(s, county.mixed.pk, 202603)

    def test_it_proposes_the_reward_candidates_of_a_month(self, county):
        # March 2026: 李秀兰 and 王建国 (both 60 now), 赵桂英 (two daughters), 吴玉芬 (one
        # child before registration). Not 周秀英 (died 2026-03-10), not 孙玉兰 (a son).
        names = {
            Person.objects.get(pk=c.person_id).name
            for c in eligibility.candidates(scheme(REWARD), COUNTY, 202603)
        }
        assert names == {"李秀兰", "王建国", "赵桂英", "吴玉芬"}

    def test_it_pays_childcare_for_36_months(self, county):
        # Born 2023-05-15: under 3 on the last day of May 2023 … April 2026; 3 on 2026-05-31.
        months = eligibility.due_months(scheme(CHILDCARE), county.boy23, 202301, 202612)
        assert (months[0], months[-1], len(months)) == (202305, 202604, 36)

    def test_it_no_longer_proposes_a_child_of_three(self, county):
        def ids(month):
            return {c.person_id for c in eligibility.candidates(scheme(CHILDCARE), COUNTY, month)}

        assert ids(202604) == {county.boy23.pk, county.girl26.pk}
        assert ids(202605) == {county.girl26.pk}

    def test_it_finds_a_family_whose_only_child_died(self, county):
        [c] = eligibility.candidates(scheme(SPECIAL_S), COUNTY, 202603)
        assert (c.person_id, c.village) == (county.special.pk, C)
        assert c.reason_text == "aged 49 or over on 2026-03-31; the only child has died"

    def test_it_does_not_propose_a_rejected_person_again(self, county):
        actions.propose(SPECIAL_S, COUNTY, 202603, user=county.ada, today=dt.date(2026, 4, 1))
        e = Enrolment.objects.get(scheme=SPECIAL_S)
        actions.reject(e, user=county.ada, today=dt.date(2026, 4, 2), reason="not resident")
        assert eligibility.candidates(scheme(SPECIAL_S), COUNTY, 202604) == []


class TestConfiguration:
    def test_it_reads_an_override_from_the_settings(self, county, settings):
        # Reward at 1200 yuan a year from age 65: 李秀兰 (60) is no longer due; 100.00 a month.
        settings.TAIZHANG_BENEFIT_SCHEMES = {"reward": {"amount_per_year": 1200, "min_age": 65}}
        s = scheme(REWARD)
        assert (s.amount_per_year, s.min_age, s.amount_fen(1)) == (1200, 65, 10000)
        assert not eligibility.is_due(s, county.mum60.pk, 202603)
        assert eligibility.is_due(s, county.mover.pk, 202603)  # 70

    def test_it_reads_benefits_toml_in_the_data_folder(self, tmp_path, monkeypatch):
        (tmp_path / "benefits.toml").write_text(
            '[childcare]\namount_per_year = 4800\n\n[elder]\nname = "高龄补贴"\n'
            'name_en = "Old-age allowance"\nrule = "reward"\nmin_age = 80\n'
            "amount_per_year = 600\n",
            encoding="utf-8",
        )
        monkeypatch.setenv("TAIZHANG_DATA", str(tmp_path))
        found = schemes()
        assert found["childcare"].amount_fen(9) == 360000  # 4800 × 9/12 = 3600.00 yuan
        assert (found["elder"].min_age, found["elder"].amount_fen(1)) == (80, 5000)

    def test_it_names_the_valid_codes_for_an_unknown_scheme(self):
        with pytest.raises(
            UserError, match=r"unknown scheme 'elder': use reward\|special\|childcare"
        ):
            scheme("elder")

    def test_it_rounds_amounts_to_the_nearest_fen(self):
        # 7 yuan a year: 1 month = 700/12 = 58.33 fen → 58; 3 months = 175 exactly;
        # 5 months = 3500/12 = 291.67 → 292. (100 × yuan × months / 12 never ends in .5.)
        import dataclasses

        s = dataclasses.replace(scheme(REWARD), amount_per_year=7)
        assert (s.amount_fen(1), s.amount_fen(3), s.amount_fen(5)) == (58, 175, 292)


# ---------------------------------------------------------------------------
# Verification, the monthly run, payments and arrears


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def reward(county):
    """Reward enrolments from January 2026: 周秀英, 吴玉芬 (one child before registration)
    and 赵桂英 (two daughters); 李秀兰 and 王建国 are 59 then. Payments listed for Jan–Feb."""
    county.enrolled = enrol(county, REWARD, 202601, d("2026-02-01"))
    assert sorted(county.enrolled) == ["吴玉芬", "周秀英", "赵桂英"]
    result = actions.run_month(COUNTY, 202602, user=county.ada, today=d("2026-03-01"))
    assert (result.payments, result.amount_fen) == (6, 6 * 8000)  # 3 persons × 2 months × 80
    return county


def payment(person, period) -> Payment:
    return Payment.objects.get(person=person, period=period)


class TestVerification:
    def test_it_confirms_from_the_first_due_month_and_journals_it(self, reward):
        e = reward.enrolled["赵桂英"]
        assert (e.state, e.start_month, e.verified_by, e.verified_on) == (
            "enrolled",
            202601,
            reward.ada,
            d("2026-02-01"),
        )
        assert list(e.actions.values_list("action", flat=True)) == ["propose", "confirm"]
        assert AuditEntry.objects.filter(
            action="benefit_confirm", object_type="enrolment", object_id=str(e.pk)
        ).exists()

    def test_it_confirms_a_township_list_at_once_like_one_by_one(self, county):
        # February 2026: 周秀英, 吴玉芬 and 赵桂英 are due (李秀兰 and 王建国 turn 60 in March).
        actions.propose(REWARD, COUNTY, 202602, user=county.tom, today=d("2026-02-03"))
        listed = list(Enrolment.objects.filter(scheme=REWARD, state="proposed"))
        assert actions.confirm_many(listed, user=county.tom, today=d("2026-02-10")) == 3
        done = Enrolment.objects.filter(scheme=REWARD).order_by("pk")
        assert [(e.state, e.start_month, e.verified_on, e.verified_by) for e in done] == [
            ("enrolled", 202602, d("2026-02-10"), county.tom)
        ] * 3
        assert (
            sorted(
                EnrolmentAction.objects.filter(enrolment__in=done).values_list("action", flat=True)
            )
            == ["confirm"] * 3 + ["propose"] * 3
        )
        assert AuditEntry.objects.filter(action="benefit_confirm_list").count() == 1
        with pytest.raises(UserError, match="no longer proposed"):
            actions.confirm_many(listed, user=county.tom, today=d("2026-02-11"))

    def test_it_needs_a_reason_to_reject(self, county):
        actions.propose(SPECIAL_S, COUNTY, 202603, user=county.tom, today=d("2026-04-01"))
        e = Enrolment.objects.get(scheme=SPECIAL_S)
        with pytest.raises(UserError, match="a rejection needs a reason"):
            actions.reject(e, user=county.tom, today=d("2026-04-02"), reason="  ")
        actions.reject(e, user=county.tom, today=d("2026-04-02"), reason="lives with her son")
        e.refresh_from_db()
        assert (e.state, e.reject_reason, e.verified_by) == (
            "rejected",
            "lives with her son",
            county.tom,
        )

    def test_it_verifies_an_application_like_a_proposal(self, county):
        # 孙玉兰 (66) applies for special assistance: her child is disabled, which the
        # register does not hold. Confirmed, she is due from April 2026: 590.00 a month.
        e = actions.apply(
            SPECIAL_S, county.mixed, user=county.tom, today=d("2026-04-15"), reason="disabled son"
        )
        assert (e.state, e.source, e.start_month) == ("proposed", "application", 202604)
        actions.confirm(e, user=county.tom, today=d("2026-04-20"))
        actions.run_month(TOWN1, 202604, user=county.tom, today=d("2026-05-01"))
        [p] = Payment.objects.filter(enrolment=e)
        assert (p.period, p.amount_yuan, p.due_date) == ("202604", "590.00", d("2026-04-30"))


class TestMonthlyRun:
    def test_it_stops_paying_after_a_death(self, reward):
        # 周秀英 dies on 2026-03-10: not alive on 2026-03-31, so due through February.
        result = actions.run_month(COUNTY, 202604, user=reward.ada, today=d("2026-05-02"))
        e = Enrolment.objects.get(person=reward.dies)
        assert (e.state, e.end_reason, e.end_month, e.end_date) == (
            "ended",
            "death",
            202602,
            d("2026-03-10"),
        )
        assert periods(e) == ["202601", "202602"]
        # 赵桂英 and 吴玉芬: March and April.
        assert (result.ended, result.payments) == ({"death": 1}, 4)

    def test_it_keeps_an_unpaid_month_of_an_ended_enrolment_in_arrears(self, reward):
        actions.record_payment(
            payment(reward.dies, "202601"),
            status="paid",
            paid_date=d("2026-01-31"),
            channel="bank",
            reference="B1",
            user=reward.ada,
            today=d("2026-02-01"),
        )
        actions.run_month(COUNTY, 202604, user=reward.ada, today=d("2026-05-02"))
        owed = {e.person.name: (ps, total) for e, ps, total in actions.arrears(A, d("2026-05-02"))}
        ps, total = owed["周秀英"]
        assert ([p.period for p in ps], total) == (["202602"], 8000)

    def test_it_ends_on_moving_out_and_a_second_run_changes_nothing(self, reward):
        # 吴玉芬 moves out on 2026-05-20: due through April.
        actions.run_month(COUNTY, 202606, user=reward.ada, today=d("2026-07-01"))
        e = Enrolment.objects.get(person=reward.mover)
        assert (e.end_reason, e.end_month, e.end_date) == ("moved_out", 202604, d("2026-05-20"))
        assert periods(e)[-1] == "202604"
        before = (Payment.objects.count(), PaymentAction.objects.count())
        again = actions.run_month(COUNTY, 202606, user=reward.ada, today=d("2026-07-01"))
        assert (again.payments, again.ended) == (0, {})
        assert (Payment.objects.count(), PaymentAction.objects.count()) == before

    def test_it_catches_up_a_month_whose_list_was_never_made(self, reward):
        # No run for March: the April run lists March too, due on 2026-03-31.
        actions.run_month(COUNTY, 202604, user=reward.ada, today=d("2026-05-02"))
        p = payment(reward.two_d, "202603")
        assert (p.due_date, p.status, p.village) == (d("2026-03-31"), "due", A)

    def test_it_refuses_a_month_in_the_future(self, reward):
        with pytest.raises(UserError, match="month 202607 is in the future"):
            actions.run_month(COUNTY, 202607, user=reward.ada, today=d("2026-06-30"))

    def test_it_pays_childcare_once_a_year_for_the_due_months(self, county):
        # Proposed for April 2026: 陈小宝 (born 2023-05-15) and 刘小花 (born 2026-04-10).
        enrolled = enrol(county, CHILDCARE, 202604, d("2026-05-01"))
        actions.run_month(COUNTY, 202612, user=county.ada, today=d("2027-01-05"))
        girl = Payment.objects.get(enrolment=enrolled["刘小花"])
        # April–December: 9 months × 3600/12 = 2700.00, due 2026-12-31, paid to her mother.
        assert (girl.period, girl.months, girl.amount_yuan, girl.due_date, girl.village) == (
            "2026",
            9,
            "2700.00",
            d("2026-12-31"),
            C,
        )
        assert enrolled["刘小花"].payee_id == county.mum26.pk
        # 陈小宝 turns 3 on 2026-05-15: April only (300.00), still due in December.
        boy = Enrolment.objects.get(pk=enrolled["陈小宝"].pk)
        assert (boy.end_reason, boy.end_month, boy.end_date) == (
            "ineligible",
            202604,
            d("2026-05-15"),
        )
        [p] = boy.payments.all()
        assert (p.period, p.months, p.amount_yuan, p.due_date) == (
            "2026",
            1,
            "300.00",
            d("2026-12-31"),
        )

    def test_it_ends_a_child_turning_three_only_once_the_birthday_has_come(self, county):
        # 陈小宝 turns 3 on 2026-05-15. May's run on 2 May knows May is not due, but his end
        # is not recorded ahead of its day: he stays enrolled, May is not listed.
        enrolled = enrol(county, CHILDCARE, 202604, d("2026-05-01"))
        boy = enrolled["陈小宝"]
        actions.run_month(COUNTY, 202605, user=county.ada, today=d("2026-05-02"))
        boy.refresh_from_db()
        assert (boy.state, boy.end_date, boy.checked_through) == ("enrolled", None, 202604)
        assert not boy.actions.filter(action="end").exists()
        # The run of 20 May ends him from his birthday, his last month April.
        actions.run_month(COUNTY, 202605, user=county.ada, today=d("2026-05-20"))
        boy.refresh_from_db()
        assert (boy.state, boy.end_month, boy.end_date) == ("ended", 202604, d("2026-05-15"))
        assert list(boy.actions.filter(action="end").values_list("on", flat=True)) == [
            d("2026-05-15")
        ]


class TestPayments:
    def record(self, ns, p, status, date, today="2026-06-30"):
        return actions.record_payment(
            p, status=status, paid_date=d(date), channel="bank", user=ns.ada, today=d(today)
        )

    def test_it_tells_on_time_from_late(self, reward):
        on_time = self.record(reward, payment(reward.two_d, "202601"), "paid", "2026-01-31")
        late = self.record(reward, payment(reward.two_d, "202602"), "paid", "2026-03-01")
        assert (on_time.late, late.late) == (False, True)
        assert list(late.actions.values_list("action", flat=True)) == ["list", "paid"]

    def test_it_keeps_a_failed_payment_owed_until_paid(self, reward):
        p = self.record(reward, payment(reward.mover, "202601"), "failed", "2026-02-02")
        owed = {e.person.name: ps for e, ps, _t in actions.arrears(A, d("2026-03-01"))}
        assert [(x.period, x.status) for x in owed["吴玉芬"]] == [
            ("202601", "failed"),
            ("202602", "due"),
        ]
        p = self.record(reward, p, "paid", "2026-02-10")
        assert (p.status, p.paid_date, p.late) == ("paid", d("2026-02-10"), True)

    def test_it_refuses_a_date_in_the_future_or_before_the_period(self, reward):
        p = payment(reward.two_d, "202602")
        with pytest.raises(UserError, match="the date 2026-07-01 is in the future"):
            self.record(reward, p, "paid", "2026-07-01")
        with pytest.raises(UserError, match="before the period 202602 began"):
            self.record(reward, p, "paid", "2026-01-31")
        assert Payment.objects.get(pk=p.pk).status == "due"

    def test_it_refuses_to_pay_twice(self, reward):
        p = self.record(reward, payment(reward.two_d, "202602"), "paid", "2026-02-27")
        with pytest.raises(UserError, match="already recorded paid on 2026-02-27"):
            self.record(reward, p, "paid", "2026-02-28")


class TestReport:
    def test_it_counts_a_township_by_hand(self, reward):
        # Runs through June. Payments of 城关镇 due in 2026Q2 (reward): 赵桂英 Apr, May, Jun and
        # 吴玉芬 Apr = 4 (320.00). 赵桂英's April paid on 2026-04-30 (its due date: on time),
        # May paid 2026-06-01 (late); 吴玉芬's April failed: unpaid 2.
        actions.run_month(COUNTY, 202606, user=reward.ada, today=d("2026-07-01"))
        pay = TestPayments().record
        pay(reward, payment(reward.two_d, "202604"), "paid", "2026-04-30")
        pay(reward, payment(reward.two_d, "202605"), "paid", "2026-06-01")
        pay(reward, payment(reward.mover, "202604"), "failed", "2026-05-02")
        rows = {(r.township, r.scheme): r for r in actions.report(COUNTY, "2026Q2")}
        r = rows[TOWN1, REWARD]
        # Enrolled at the end of June: 赵桂英 (周秀英 ended in March, 吴玉芬 in May).
        # Ended in Q2: 吴玉芬 (moved out; her last due month April).
        assert (r.enrolled, r.new, r.ended) == (1, 0, {"moved_out": 1})
        assert (r.due, r.paid_on_time, r.paid_late, r.unpaid) == (4, 1, 1, 2)
        assert (r.amount_due, r.amount_paid, r.paid_rate) == ("320.00", "160.00", 25.0)
        assert rows[TOWN2, REWARD].due == 0
        assert rows["", REWARD].as_dict()["due"] == 4

    def test_it_counts_new_enrolments_and_deaths_in_the_quarter(self, reward):
        actions.run_month(COUNTY, 202603, user=reward.ada, today=d("2026-04-01"))
        r = {(r.township, r.scheme): r for r in actions.report(TOWN1, "2026Q1")}[TOWN1, REWARD]
        # Three new from January; 周秀英 ended in March (death); at the end of March two remain.
        # Due in Q1: Jan 3 + Feb 3 + Mar 2 = 8, none paid.
        assert (r.new, r.enrolled, r.ended, r.due, r.unpaid) == (3, 2, {"death": 1}, 8, 8)


# ---------------------------------------------------------------------------
# Imports of existing lists and the command


ENROLMENT_HEADER = ["id_number", "scheme", "start_month", "end_month", "end_reason", "note"]
PAYMENT_HEADER = ["id_number", "scheme", "period", "amount", "status", "paid_date", "channel"]
OUTSIDER = pid("1950-07-07", 2)


def imported(taizhang, path, kind, header, rows):
    return taizhang("import", write_csv(path, header, rows), "--kind", kind)


class TestImport:
    def test_it_imports_enrolments_and_payments_once(self, county, taizhang):
        path = county.tmp_path
        r = imported(
            taizhang,
            path / "e.csv",
            "enrolments",
            ENROLMENT_HEADER,
            [
                [TWO_D, "reward", "202501", "", "", "old list"],
                [MOVER, "reward", "202501", "202504", "moved_out", ""],
            ],
        )
        assert r.exit_code == 0, r.output
        assert "enrolments 2, enrolments unchanged 0" in r.output
        two_d = Enrolment.objects.get(person__name="赵桂英")
        assert (two_d.state, two_d.source, two_d.start_month) == ("enrolled", "import", 202501)
        assert Enrolment.objects.get(person__name="吴玉芬").end_reason == "moved_out"
        assert list(two_d.actions.values_list("action", flat=True)) == ["import"]
        rows = [
            [TWO_D, "reward", "202501", "80", "", "2025-01-31", "bank"],
            [TWO_D, "reward", "202502", "80.00", "failed", "2025-03-01", ""],
            [MOVER, "reward", "202504", "80", "", "", ""],
        ]
        r = imported(taizhang, path / "p.csv", "payments", PAYMENT_HEADER, rows)
        assert r.exit_code == 0, r.output
        assert "payments 3, payments updated 0, payments unchanged 0" in r.output
        p = Payment.objects.get(period="202501")
        assert (p.status, p.amount_fen, p.paid_date, p.due_date, p.village) == (
            "paid",
            8000,
            d("2025-01-31"),
            d("2025-01-31"),
            A,
        )
        # The same files again change nothing.
        for kind, name, rows_in_file in (("enrolments", "e.csv", 2), ("payments", "p.csv", 3)):
            again = taizhang("import", path / name, "--kind", kind)
            assert again.exit_code == 0, again.output
            assert f"{kind} 0" in again.output
            assert f"{kind} unchanged {rows_in_file}" in again.output
        assert (Enrolment.objects.count(), Payment.objects.count()) == (2, 3)
        # A later file records the failed payment paid.
        rows = [[TWO_D, "reward", "202502", "80", "paid", "2025-03-05", "cash"]]
        r = imported(taizhang, path / "p2.csv", "payments", PAYMENT_HEADER, rows)
        assert "payments 0, payments updated 1" in r.output
        assert Payment.objects.get(period="202502").paid_date == d("2025-03-05")

    def test_it_reports_every_bad_enrolment_row_and_writes_nothing(self, county, taizhang):
        r = imported(
            taizhang,
            county.tmp_path / "bad.csv",
            "enrolments",
            ENROLMENT_HEADER,
            [
                [TWO_D, "elder", "202501", "", "", ""],
                [OUTSIDER, "reward", "202501", "", "", ""],
                [MUM60, "reward", "2025-13", "", "", ""],
                [DAD60, "reward", "202501", "202412", "death", ""],
                [MIXED, "reward", "202501", "202502", "", ""],
            ],
        )
        assert r.exit_code == 1
        assert r.stderr.splitlines()[:5] == [
            "row 1: scheme: elder is not a scheme: use reward|special|childcare",
            "row 2: id_number: no person with ID number "
            f"{OUTSIDER[:6]}********{OUTSIDER[-4:]} is in the register",
            "row 3: start_month: 2025-13 is not a month: use YYYYMM, e.g. 202603",
            "row 4: end_month: 202412 is before the start month 202501",
            "row 5: end_reason: (empty) is not a reason to end: "
            "use death|moved_out|ineligible|withdrawn",
        ]
        assert not Enrolment.objects.exists()

    def test_it_reports_bad_payment_rows(self, county, taizhang):
        r = imported(
            taizhang,
            county.tmp_path / "e.csv",
            "enrolments",
            ENROLMENT_HEADER,
            [[TWO_D, "reward", "202501", "", "", ""]],
        )
        assert r.exit_code == 0, r.output
        r = imported(
            taizhang,
            county.tmp_path / "bad.csv",
            "payments",
            PAYMENT_HEADER,
            [
                [TWO_D, "reward", "2025", "960", "", "2025-12-31", ""],
                [TWO_D, "reward", "202412", "80", "", "2024-12-31", ""],
                [TWO_D, "reward", "202503", "80 yuan", "", "2025-03-31", ""],
                [TWO_D, "reward", "202504", "80", "paid", "", ""],
                [MIXED, "reward", "202501", "80", "", "2025-01-31", ""],
            ],
        )
        assert r.exit_code == 1
        assert r.stderr.splitlines()[:5] == [
            "row 1: period: 2025 is not a month: reward is paid monthly (YYYYMM)",
            "row 2: period: 赵桂英 has no reward enrolment covering 202412",
            "row 3: amount: 80 yuan is not an amount in yuan (e.g. 80 or 80.00)",
            "row 4: paid_date: a paid payment needs its paid_date",
            "row 5: period: 孙玉兰 has no reward enrolment covering 202501",
        ]
        assert not Payment.objects.exists()


class TestCommand:
    def test_it_proposes_runs_and_reports(self, county, taizhang):
        r = taizhang(
            "benefits", "propose", "--scheme", "special", "--org", COUNTY, "--month", "202603"
        )
        assert (r.exit_code, r.output) == (0, "special 410325 202603: 1 proposed\n")
        actions.confirm(Enrolment.objects.get(), user=county.ada, today=d("2026-04-01"))
        r = taizhang("benefits", "run", "--org", TOWN2, "--month", "202604")
        # 郑淑芬: March and April, 590.00 each.
        assert r.exit_code == 0, r.output
        assert "2 payments listed (1180.00 yuan)" in r.output
        r = taizhang("benefits", "arrears", "--org", TOWN2, "--as-of", "2026-04-30")
        assert r.output.splitlines()[-1] == "1 beneficiaries owed 1180.00 yuan as of 2026-04-30"
        r = taizhang("benefits", "report", "--org", TOWN2, "--period", "2026Q1", "--format", "json")
        import json

        rows = json.loads(r.output)["rows"]
        special = next(x for x in rows if x["township"] == TOWN2 and x["scheme"] == "special")
        assert (special["due"], special["unpaid"], special["amount_due"]) == (1, 1, "590.00")
        r = taizhang("benefits", "report", "--org", TOWN2, "--period", "2026Q1", "--format", "csv")
        assert r.output.startswith("township,township_name,scheme,enrolled,new,")

    def test_it_refuses_bad_input_without_a_traceback(self, county, taizhang):
        r = taizhang(
            "benefits", "propose", "--scheme", "elder", "--org", COUNTY, "--month", "202603"
        )
        assert (r.exit_code, r.stderr) == (
            1,
            "unknown scheme 'elder': use reward|special|childcare\n",
        )
        r = taizhang("benefits", "run", "--org", COUNTY, "--month", "2026-13")
        assert (r.exit_code, r.stderr) == (1, "2026-13 is not a month: use YYYYMM, e.g. 202603\n")
        r = taizhang("benefits", "report", "--org", "999999", "--period", "2026")
        assert (r.exit_code, r.stderr) == (1, "org unit 999999 is not in the register\n")

    def test_it_prints_the_schemes_in_force(self, taizhang):
        r = taizhang("benefits", "schemes")
        assert r.exit_code == 0
        assert "reward: name=农村部分计划生育家庭奖励扶助" in r.output
        assert "amount_per_year=3600, cycle=yearly, pay_month=12, pay_day=0" in r.output
