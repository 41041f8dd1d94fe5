"""What the county owes the people of a synthetic county: petitions and benefits.

Written after the register, through the apps' own actions (``taizhang.cases.actions``,
``taizhang.benefits.actions``), so every case and payment has its journal and its audit
entries like one recorded by hand. Deterministic for the same register and seed.

- **Petitions** (信访) from 2025-01-01 to the data's last day, about one a year per 900
  people, about a village or (one in five) a township: most are acknowledged within
  ten days (a few on day 16-20: late), one in twenty declined, assigned to the township's
  case officer (one in twenty then stalls there and falls overdue), replied to within
  10-45 days (one in twelve only after 55-75 days),
  visited back and closed; those whose next step would fall after the last day are still
  open, so some are overdue. One in three unsatisfied petitioners petitions again.
- **Targets**: the county's targets for 2025 and 2026 (CPR ≥ 85, facility deliveries ≥ 98,
  SRB ≤ 110, check-ups ≥ 85, timely birth registration ≥ 90, benefits paid on time ≥ 95,
  petitions closed on time ≥ 90), so the league table of townships is live.
- **Benefits** (奖励扶助, 特别扶助, 育儿补贴) from 2025-01: the register proposes the
  candidates every six months (and a few parents of a disabled only child apply for special
  assistance), the township confirms most (a few rejected with a reason),
  every month's payment list is made and paid — most a few days before the due date, a
  few late, a few failed and paid again the next month, some returned and still owed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction

from taizhang.accounts.models import Profile, Role
from taizhang.lib import crypto
from taizhang.orgunits.models import OrgUnit
from taizhang.register.models import Person, PersonStatus

CASES_FROM = dt.date(2025, 1, 1)
CASES_PER_PERSON_YEAR = 1 / 900

CHANNELS = (("visit", 0.35), ("phone", 0.30), ("letter", 0.15), ("online", 0.20))
# Category → probability and the subjects people write.
SUBJECTS: dict[str, tuple[float, tuple[str, ...]]] = {
    "benefits": (
        0.30,
        (
            "奖励扶助金未按时到账",
            "询问特别扶助金申请条件",
            "育儿补贴发放金额有误",
            "奖励扶助资格审核未通过，申请复核",
        ),
    ),
    "services": (
        0.25,
        (
            "孕前优生检查预约等候时间过长",
            "希望村卫生室增加妇科检查服务日",
            "产后访视未按时上门",
            "避孕药具领取不便",
        ),
    ),
    "registration": (
        0.20,
        ("生育登记办理手续繁琐", "出生医学证明信息有误需更正", "流动人口婚育证明办理咨询"),
    ),
    "information": (
        0.15,
        ("咨询育儿补贴政策", "咨询独生子女父母奖励政策", "咨询孕产妇免费服务项目"),
    ),
    "staff_conduct": (0.07, ("工作人员服务态度差", "村计生专干上门时间不合适")),
    "other": (0.03, ("其他事项",)),
}
SATISFACTION = (("satisfied", 0.75), ("partly", 0.15), ("unsatisfied", 0.07), ("unreachable", 0.03))
REPLIES = ("已核实并办理完毕", "已向信访人解释政策", "已责成相关单位整改", "已协调补发")
DECLINE_REASONS = ("不属于本机关职责范围，已告知向有权机关提出", "已通过诉讼程序处理")
ADULTS_BORN_BEFORE = dt.date(2006, 1, 1)  # petitioners are drawn from those born before


def _pick(rng: np.random.Generator, weighted) -> str:
    values, weights = zip(*weighted, strict=True)
    return values[rng.choice(len(values), p=np.array(weights) / sum(weights))]


def case_officers() -> dict[str, object]:
    """Each township's case officer (信访专干): an account with no password, for the
    synthetic county's petitions; a township's own statisticians see what it handles."""
    User = get_user_model()
    officers = {}
    for township in OrgUnit.objects.filter(level=4).order_by("code"):
        user, created = User.objects.get_or_create(
            username=f"xf{township.code}", defaults={"first_name": f"{township.name}信访专干"}
        )
        if created:
            user.set_unusable_password()
            user.save()
        Profile.objects.update_or_create(
            user=user,
            defaults={"org_unit": township, "role": Role.TOWNSHIP_STATISTICIAN},
        )
        officers[township.code] = user
    return officers


def write_cases(seed: int, today: dt.date, *, user) -> int:
    """Petitions from ``CASES_FROM`` to ``today``; returns how many were received."""
    from taizhang.cases import actions

    rng = np.random.default_rng([seed, 4])
    villages = list(OrgUnit.objects.filter(level=5).order_by("code").values_list("code", flat=True))
    if not villages:
        return 0
    people = Person.objects.filter(status=PersonStatus.RESIDENT).count()
    days = (today - CASES_FROM).days
    total = int(rng.poisson(people * CASES_PER_PERSON_YEAR * days / 365.25))
    received = sorted(CASES_FROM + dt.timedelta(days=int(d)) for d in rng.integers(0, days, total))
    officers = case_officers()
    adults = _adults_by_village()
    categories = [(c, p) for c, (p, _) in SUBJECTS.items()]
    count = 0
    with transaction.atomic():
        for day in received:
            village = villages[int(rng.integers(len(villages)))]
            org = village[:9] if rng.random() < 0.2 else village
            category = _pick(rng, categories)
            subjects = SUBJECTS[category][1]
            petitioner = _petitioner(rng, adults.get(village, []))
            case = actions.receive(
                channel=_pick(rng, CHANNELS),
                received_on=day,
                subject=subjects[int(rng.integers(len(subjects)))],
                category=category,
                org_code=org,
                user=user,
                today=today,
                **petitioner,
            )
            count += 1
            count += _handle(rng, case, officers[village[:9]], today, user)
    return count


def _adults_by_village() -> dict[str, list[int]]:
    """The ids of each village's resident adults, in id order: the petitions do not change
    who lives where, so one query serves them all."""
    adults = Person.objects.filter(status=PersonStatus.RESIDENT, birth_date__lt=ADULTS_BORN_BEFORE)
    by_village: dict[str, list[int]] = {}
    for village, pk in adults.order_by("current_village", "pk").values_list(
        "current_village", "pk"
    ):
        by_village.setdefault(village, []).append(pk)
    return by_village


def _petitioner(rng: np.random.Generator, adults: list[int]) -> dict:
    """One of the village's ``adults`` (one petition in seven is anonymous)."""
    if rng.random() < 1 / 7:
        return {"anonymous": True}
    if not adults:
        return {"anonymous": True}
    person = Person.objects.get(pk=adults[int(rng.integers(len(adults)))])
    phone = crypto.decrypt(bytes(person.phone_cipher)) if person.phone_cipher else ""
    return {
        "petitioner_name": person.name,
        "id_number": crypto.decrypt(bytes(person.id_cipher)),
        "phone": phone,
    }


def _handle(rng, case, officer, today: dt.date, user) -> int:
    """Take one case as far as ``today`` allows; returns the repeat petitions it led to."""
    from taizhang.cases import actions

    day = case.received_on
    late = rng.random() < 0.03
    day += dt.timedelta(days=int(rng.integers(16, 21) if late else rng.integers(0, 11)))
    if day > today:
        return 0
    if rng.random() < 0.05:
        reason = DECLINE_REASONS[int(rng.integers(len(DECLINE_REASONS)))]
        actions.decline(case, on=day, reason=reason, user=officer, today=today)
        return 0
    actions.accept(case, on=day, user=officer, today=today)
    actions.assign(case, handler=officer, on=day, user=officer, today=today)
    if rng.random() < 0.05:  # stalled with its handler: overdue once its 60 days are up
        return 0
    slow = rng.random() < 1 / 12
    replied = case.received_on + dt.timedelta(
        days=int(rng.integers(55, 76) if slow else rng.integers(10, 46))
    )
    replied = max(replied, day)
    if replied > today:
        return 0
    text = REPLIES[int(rng.integers(len(REPLIES)))]
    actions.reply(case, on=replied, text=text, user=officer, today=today)
    visited = replied + dt.timedelta(days=int(rng.integers(2, 8)))
    if visited > today:
        return 0
    satisfaction = _pick(rng, SATISFACTION)
    actions.return_visit(case, on=visited, satisfaction=satisfaction, user=officer, today=today)
    closed = visited + dt.timedelta(days=int(rng.integers(0, 4)))
    if closed > today:
        return 0
    actions.close(case, on=closed, user=officer, today=today)
    again = closed + dt.timedelta(days=int(rng.integers(10, 31)))
    if satisfaction == "unsatisfied" and rng.random() < 1 / 3 and again <= today:
        repeat = actions.reopen(
            case,
            received_on=again,
            channel=_pick(rng, CHANNELS),
            subject=f"对{case.number}的答复不满意，再次反映",
            user=user,
            today=today,
        )
        return 1 + _handle(rng, repeat, officer, today, user)
    return 0


BENEFITS_FROM = 202501
PROPOSAL_MONTHS = (1, 7)  # the register's candidates are verified twice a year
REJECT_REASONS = ("户籍不在本县农村", "本人申请放弃", "材料不全，待补充后重新申报")


def write_benefits(seed: int, today: dt.date, *, user) -> dict[str, int]:
    """Benefit enrolments and payments from ``BENEFITS_FROM`` to ``today``'s month."""
    from taizhang.benefits import actions
    from taizhang.benefits.models import Enrolment, EnrolmentState, PaymentStatus
    from taizhang.benefits.schemes import month_of, months_between, schemes

    rng = np.random.default_rng([seed, 5])
    county = OrgUnit.objects.filter(level=3).order_by("code").values_list("code", flat=True).first()
    if county is None:
        return {}
    officers = case_officers()
    counts = {"proposed": 0, "enrolled": 0, "rejected": 0, "payments": 0}
    with transaction.atomic():
        for month in months_between(BENEFITS_FROM, month_of(today)):
            first = dt.date(month // 100, month % 100, 1)
            if month % 100 in PROPOSAL_MONTHS:
                for code in schemes():
                    counts["proposed"] += actions.propose(
                        code, county, month, user=user, today=first
                    )
                counts["applied"] = counts.get("applied", 0) + _special_applications(
                    rng, month, first, user=user
                )
                # Each township verifies its list in one sitting; a few are rejected.
                proposed = Enrolment.objects.filter(state=EnrolmentState.PROPOSED).order_by("pk")
                by_township: dict[str, list] = {}
                for e in proposed:
                    by_township.setdefault(e.village[:9], []).append(e)
                for township, listed in by_township.items():
                    officer = officers[township]
                    verified_on = min(first + dt.timedelta(days=int(rng.integers(3, 21))), today)
                    keep = []
                    for e in listed:
                        if rng.random() < 0.03:
                            reason = REJECT_REASONS[int(rng.integers(len(REJECT_REASONS)))]
                            actions.reject(e, user=officer, today=verified_on, reason=reason)
                            counts["rejected"] += 1
                        else:
                            keep.append(e)
                    counts["enrolled"] += actions.confirm_many(
                        keep, user=officer, today=verified_on
                    )
            run_on = min(first + dt.timedelta(days=21), today)
            actions.run_month(county, month, user=user, today=run_on)
            due = actions.payment_list(county, month).filter(status=PaymentStatus.DUE)
            due = due.select_related(None).only("id", "period", "due_date", "status")
            outcomes = _payment_outcomes(rng, list(due), today)
            if outcomes:
                actions.record_payments(outcomes, user=user, today=today, org_code=county)
            counts["payments"] += len(outcomes)
    return counts


SPECIAL_APPLICATIONS_PER_PERSON = 1 / 40000  # each half year
DISABILITY_REASONS = (
    "独生子女三级残疾，持残疾证",
    "独生子女二级残疾，持残疾证",
    "独生子女四级残疾，持残疾证",
)


def _special_applications(rng: np.random.Generator, month: int, day: dt.date, *, user) -> int:
    """A few parents aged 49 or more with one child apply for special assistance because
    the child is disabled (the register does not hold disabilities: people apply)."""
    from taizhang.benefits import actions
    from taizhang.benefits.models import Enrolment

    born_by = dt.date(day.year - 49, day.month, 1)
    parents = Person.objects.filter(
        status=PersonStatus.RESIDENT, live_births_before=1, birth_date__lt=born_by
    ).exclude(pk__in=Enrolment.objects.filter(scheme="special").values("person_id"))
    n = parents.count()
    wanted = min(n, int(rng.poisson(Person.objects.count() * SPECIAL_APPLICATIONS_PER_PERSON)))
    if not wanted:
        return 0
    ids = list(parents.order_by("pk").values_list("pk", flat=True))
    chosen = sorted(rng.choice(len(ids), size=wanted, replace=False))
    for i in chosen:
        reason = DISABILITY_REASONS[int(rng.integers(len(DISABILITY_REASONS)))]
        actions.apply("special", Person.objects.get(pk=ids[i]), user=user, today=day, reason=reason)
    return wanted


def _payment_outcomes(rng: np.random.Generator, payments: list, today: dt.date) -> list:
    """Most payments a few days before they fall due; a few late, failed (and paid a
    month later), returned (still owed) or not yet paid."""
    from taizhang.benefits.actions import Outcome

    outcomes = []
    for p in payments:
        draw = rng.random()
        reference = f"ZF{p.due_date:%Y%m}{p.pk:07d}"
        if draw < 0.01:  # not paid yet: in arrears once its due date has passed
            continue
        if draw < 0.02:
            day = p.due_date - dt.timedelta(days=3)
            if day <= today:
                outcomes.append(Outcome(p, "returned", day, "bank", reference))
            continue
        if draw < 0.04:
            failed = p.due_date - dt.timedelta(days=3)
            again = p.due_date + dt.timedelta(days=int(rng.integers(20, 35)))
            if failed <= today:
                outcomes.append(Outcome(p, "failed", failed, "bank", reference))
            if again <= today:
                outcomes.append(Outcome(p, "paid", again, "bank", reference + "R"))
            continue
        late = draw < 0.07
        if late:
            day = p.due_date + dt.timedelta(days=int(rng.integers(1, 26)))
        else:  # the month's list is paid by today even when it falls due tomorrow
            day = min(p.due_date - dt.timedelta(days=int(rng.integers(0, 11))), today)
        if day <= today:
            outcomes.append(Outcome(p, "paid", day, "bank", reference))
    return outcomes


# The county's yearly targets (the same for every township), as a county sets them.
TARGETS = {
    "CPR": "85",
    "FACILITY_DELIVERY": "98",
    "SRB": "110",
    "CHECKUP_RATE": "85",
    "BIRTH_REG_TIMELY": "90",
    "BENEFIT_PAID_RATE": "95",
    "CASE_CLOSURE_RATE": "90",
}
TARGET_YEARS = (2025, 2026)


def write_targets(*, user) -> int:
    """The county's targets for ``TARGET_YEARS``, so the league table has something to
    rank against; returns how many were set."""
    from taizhang.targets.actions import set_target

    county = OrgUnit.objects.filter(level=3).order_by("code").values_list("code", flat=True)
    if not county:
        return 0
    with transaction.atomic():
        for year in TARGET_YEARS:
            for code, value in TARGETS.items():
                set_target(indicator=code, org_code=county[0], year=year, value=value, user=user)
    return len(TARGET_YEARS) * len(TARGETS)


def write_services(seed: int, today: dt.date, *, user) -> dict[str, int]:
    """Petitions, benefits and the county's targets; returns what was made."""
    return {
        "cases": write_cases(seed, today, user=user),
        **write_benefits(seed, today, user=user),
        "targets": write_targets(user=user),
    }
