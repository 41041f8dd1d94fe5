"""The eleven ledgers (台帐), each declared once: what it lists for a village and a month,
its printed columns, the columns the village worker fills in, and what the filled values
become when the file comes back.

Every ledger has one layout everywhere (四统一): the header names the county, township
and village with their codes, the month, the ledger's title, ``TEMPLATE_VERSION`` and when
it was generated; every row carries its row key (``taizhang.ledgers.rowkeys``), printed
and as a QR code; the last lines are for the signatures of the village worker (村专干)
and the reviewer (审核人) with the date.

For whoever reads filled files back: a returned row is found by its row key
(``rowkeys.parse_key``), its ledger by ``LEDGERS[key.kind]``; ``Ledger.parse_row`` reads
the filled cells by their declared types and ``Ledger.effects`` turns them into the
changes declared in ``returns`` (``taizhang.ledgers.base.TARGETS`` says which action
writes each). Nothing here writes.

Services, not enforcement: every list is of services offered to people who choose them.
No ledger marks a pregnancy or birth as "unplanned" or "out of policy", and none counts
anything against a quota.
"""

from __future__ import annotations

from taizhang.indicators.definitions import METHOD_NAMES, STOP_REASON_NAMES_EN, STOP_REASONS
from taizhang.ledgers import lists
from taizhang.ledgers.base import Choice, Column, FillColumn, Ledger, Return
from taizhang.register.models import LifeStage, Method

TEMPLATE_VERSION = "2026.1"

# ---------------------------------------------------------------------------
# Coded answers

# The names the report forms print (definitions.METHOD_NAMES, STOP_REASON_NAMES_EN).
METHODS = tuple(Choice(code, str(zh), METHOD_NAMES[code][1]) for code, zh in Method.choices)
# The register keeps a stop reason in words (definitions.STOP_REASONS).
STOP_REASON_CHOICES = tuple(
    Choice(code, zh, STOP_REASON_NAMES_EN[code], stored=zh) for code, zh in STOP_REASONS.items()
)
YES_NO = (Choice("yes", "是", "yes"), Choice("no", "否", "no"))
OUTCOMES = (
    Choice("live_birth", "活产", "live birth"),
    Choice("stillbirth", "死产", "stillbirth"),
    Choice("miscarriage", "自然流产", "miscarriage"),
    Choice("induced_abortion", "人工流产", "induced abortion"),
)
DELIVERY_PLACES = (
    Choice("facility", "住院分娩", "in a facility"),
    Choice("home", "在家分娩", "at home"),
)
SEXES = (Choice("M", "男", "male"), Choice("F", "女", "female"))
_STAGES_EN = {
    "newlywed": "newly-wed",
    "pregnancy": "pregnancy",
    "lactation": "lactation",
    "childrearing": "child-rearing",
    "menopause": "menopause",
}
STAGES = tuple(Choice(code, str(zh), _STAGES_EN[code]) for code, zh in LifeStage.choices)
CHANNELS = (
    Choice("bank", "银行", "bank"),
    Choice("cash", "现金", "cash"),
    Choice("mobile", "手机", "mobile"),
    Choice("other", "其他", "other"),
)
SATISFACTION = (
    Choice("satisfied", "满意", "satisfied"),
    Choice("partly", "基本满意", "partly satisfied"),
    Choice("unsatisfied", "不满意", "not satisfied"),
    Choice("unreachable", "无法联系", "could not be reached"),
)
SUPPORT_RESULTS = (
    Choice("ongoing", "进行中", "ongoing"),
    Choice("completed", "已完成", "completed"),
    Choice("ended", "已终止", "ended early"),
)

# ---------------------------------------------------------------------------
# Columns used by several ledgers

TASK = Column("task", "事项", "Item", 12)
NAME = Column("name", "姓名", "Name", 7)
ID_NUMBER = Column("id_number", "身份证号", "ID number", 19)
AGE = Column("age", "年龄", "Age", 4)
HOUSEHOLD = Column("household", "户编号", "Household", 16)
PHONE = Column("phone", "联系电话", "Phone", 12)
PERSON = (NAME, ID_NUMBER, AGE, HOUSEHOLD, PHONE)

DATE = FillColumn("date", "日期", "Date", "date", width=11)
FINDINGS = FillColumn("findings", "检查结果", "Findings", "text", width=16)

# ---------------------------------------------------------------------------
# The ledgers

CONTRACEPTION = Ledger(
    kind="contraception",
    number=1,
    title_zh="避孕节育措施管理台帐",
    title_en="Contraception services ledger",
    lists=(
        "Married women 15–49 living in the village at the month's end with the couple's "
        "current method (voluntary, informed choice); IUD checks due in the month on the "
        "follow-up schedule; postpartum counselling offered to women whose 42 days after a "
        "delivery overlap the month."
    ),
    rows=lists.contraception,
    columns=(
        TASK,
        *PERSON,
        Column("husband", "丈夫", "Husband", 7),
        Column("method", "现用避孕措施", "Current method", 18),
        Column("detail", "随访/咨询事项", "Check or counselling", 22),
    ),  # fmt: skip
    fill=(
        DATE,
        FillColumn("method_started", "新用/改用措施", "Method chosen", "choice", METHODS),
        FillColumn("method_stopped", "停用措施", "Method stopped", "choice", METHODS),
        FillColumn("stop_reason", "停用原因", "Reason stopped", "choice", STOP_REASON_CHOICES),
        FINDINGS,
    ),
    returns=(
        Return(
            "event",
            kind="method_stop",
            when=("date", "method_stopped"),
            fields={"date": "date", "method": "method_stopped", "reason": "stop_reason"},
            describe="a method stopped on the date (first, so that a change of method "
            "stops the old one before the new one starts)",
        ),
        Return(
            "event",
            kind="method_start",
            when=("date", "method_started"),
            fields={"date": "date", "method": "method_started"},
            describe="the method the person chose, started on the date",
        ),
        Return(
            "event",
            kind="followup",
            tasks=("IUD",),
            when=("date",),
            fields={"date": "date", "findings": "findings"},
            describe="an IUD check done on the date, with its findings",
        ),
        Return(
            "note",
            tasks=("PPC",),
            when=("date",),
            fields={"date": "date"},
            describe="postpartum counselling given on the date",
        ),
    ),
    tasks={
        "MWRA": ("已婚育龄妇女", "Married woman 15–49"),
        "IUD": ("节育器随访检查", "IUD check"),
        "PPC": ("产后避孕咨询", "Postpartum counselling"),
    },
)

CHECKUP = Ledger(
    kind="checkup",
    number=2,
    title_zh="康检工作管理台帐",
    title_en="Reproductive-health check-up ledger",
    lists=(
        "Married women 15–49 due a check-up in the month on the service schedule "
        "(CHECKUP_RATE's denominator), with the last check-up before it."
    ),
    rows=lists.checkup,
    columns=(
        *PERSON,
        Column("last", "上次康检", "Last check-up", 11),
        Column("done", "本月已检", "Done this month", 11),
    ),  # fmt: skip
    fill=(FillColumn("date", "康检日期", "Check-up date", "date", width=11), FINDINGS),
    returns=(
        Return(
            "event",
            kind="checkup",
            when=("date",),
            fields={"date": "date", "findings": "findings"},
            describe="a check-up attended on the date, with its findings",
        ),
    ),
)

BIRTHS = Ledger(
    kind="births",
    number=3,
    title_zh="人口计划管理台帐",
    title_en="Pregnancies and births ledger",
    lists=(
        "Registered pregnancies open at the month's end with the expected delivery (LMP + "
        "280 days) in this month or the next, or not known; live births of the month with "
        "their registration."
    ),
    rows=lists.births,
    columns=(
        TASK,
        *PERSON,
        Column("registered", "怀孕登记", "Registered", 11),
        Column("lmp", "末次月经", "LMP", 11),
        Column("due", "预产期", "Expected", 11),
        Column("child", "新生儿", "Newborn", 22),
        Column("registration", "出生登记", "Birth recorded", 16),
    ),  # fmt: skip
    fill=(
        DATE,
        FillColumn("outcome", "妊娠结局", "Outcome", "choice", OUTCOMES),
        FillColumn("delivery_place", "分娩地点", "Delivery place", "choice", DELIVERY_PLACES),
        FillColumn("child_name", "子女姓名", "Child's name", "text", width=8),
        FillColumn("child_sex", "子女性别", "Child's sex", "choice", SEXES, width=6),
        FillColumn("child_id_number", "子女身份证号", "Child's ID number", "text", width=19),
        FillColumn(
            "registration_service", "生育登记服务", "Birth registration service", "choice", YES_NO
        ),
    ),
    returns=(
        Return(
            "event",
            kind="birth",
            tasks=("PREG",),
            when=("date", "outcome"),
            values={"outcome": ("live_birth",)},
            fields={
                "date": "date",
                "child_id_number": "child_id_number",
                "child_name": "child_name",
                "child_sex": "child_sex",
                "delivery_place": "delivery_place",
            },
            describe="a live birth on the date: the child becomes a person in the register",
        ),
        Return(
            "event",
            kind="outcome",
            tasks=("PREG",),
            when=("date", "outcome"),
            values={"outcome": ("stillbirth", "miscarriage", "induced_abortion")},
            fields={"date": "date", "outcome": "outcome"},
            describe="another outcome of the pregnancy on the date",
        ),
        Return(
            "note",
            tasks=("BIRTH",),
            when=("registration_service",),
            fields={"date": "date", "registration_service": "registration_service"},
            describe="the birth registration service (生育登记) given",
        ),
    ),
    tasks={"PREG": ("孕期服务", "Pregnancy"), "BIRTH": ("新生儿出生", "Birth")},
)

MIGRANTS = Ledger(
    kind="migrants",
    number=4,
    title_zh="流动人口管理台帐",
    title_en="Migrant population ledger",
    lists=(
        "Moves into and out of the village in the month (from or to outside the county, or "
        "within it); residents at the month's end whose household registration is "
        "elsewhere; the services due to them here."
    ),
    rows=lists.migrants,
    columns=(
        TASK,
        NAME,
        Column("sex", "性别", "Sex", 3),
        ID_NUMBER,
        AGE,
        PHONE,
        Column("hukou", "户籍地", "Registered in", 16),
        Column("moved", "迁移日期", "Moved on", 11),
        Column("other", "迁自/迁往", "From / to", 16),
        Column("services", "本村应享服务", "Services due here", 16),
    ),  # fmt: skip
    fill=(
        FillColumn("date", "核实日期", "Visited on", "date", width=11),
        FillColumn("still_here", "仍在本村居住", "Still living here", "choice", YES_NO),
        FillColumn("services_given", "已提供服务", "Services given", "text", width=16),
    ),
    returns=(
        Return(
            "note",
            when=("date",),
            fields={"date": "date", "still_here": "still_here", "services_given": "services_given"},
            describe=(
                "a visit to offer services, kept with the returned file; a move is recorded "
                "on the person's page with its date and destination, never from this list"
            ),
        ),
    ),
    tasks={
        "IN": ("县外迁入", "Moved in from outside the county"),
        "WITHIN-IN": ("县内迁入", "Moved in from within the county"),
        "OUT": ("迁出县外", "Moved out of the county"),
        "WITHIN-OUT": ("县内迁出", "Moved within the county"),
        "TEMP": ("户籍在外常住", "Registered elsewhere"),
    },
)

FAMILY = Ledger(
    kind="family",
    number=5,
    title_zh="三结合管理台帐",
    title_en="Family development ledger",
    lists=(
        "Households of the village in family-development support (training, credit, aid) "
        "that they asked for, during the month; nothing when none is recorded."
    ),
    rows=lists.family,
    columns=(
        HOUSEHOLD,
        Column("name", "参与成员", "Member", 7),
        Column("support", "扶持类别", "Support", 8),
        Column("description", "扶持内容", "Description", 22),
        Column("applied", "申请日期", "Asked on", 11),
        Column("start", "开始日期", "Started", 11),
        Column("status", "目前状态", "Status", 14),
    ),  # fmt: skip
    fill=(
        DATE,
        FillColumn("result", "结果", "Result", "choice", SUPPORT_RESULTS),
        FillColumn("note", "说明", "Note", "text", width=20),
    ),
    returns=(
        Return(
            "family.result",
            when=("date", "result"),
            fields={"on": "date", "result": "result", "note": "note"},
            describe="the support's result on the date",
        ),
    ),
    tasks={
        "TRAINING": ("技能培训", "Training"),
        "CREDIT": ("小额信贷", "Credit"),
        "AID": ("帮扶救助", "Aid"),
    },
)

REPORTS = Ledger(
    kind="reports",
    number=6,
    title_zh="报表管理台帐",
    title_en="Report forms ledger",
    lists=(
        "The items of the month's report form with the count the register holds for the "
        "village (the indicator engine); the reported value, who submitted it and when are "
        "filled in."
    ),
    rows=lists.reports,
    columns=(
        Column("item", "项目", "Item", 18),
        Column("code", "代码", "Code", 14),
        Column("recorded", "登记数", "Recorded", 8),
    ),  # fmt: skip
    fill=(
        FillColumn("value", "上报数", "Reported", "number", low=0, high=1_000_000, width=8),
        FillColumn("submitted_by", "填报人", "Submitted by", "text", width=10),
        FillColumn("date", "上报日期", "Submitted on", "date", width=11),
    ),
    returns=(
        Return(
            "reports.figure",
            when=("value",),
            fields={
                "org": "@village",
                "period": "@month",
                "item": "@item",
                "value": "value",
                "submitted_by": "submitted_by",
                "submitted_at": "date",
            },
            describe="the value the village reported for the item and month",
        ),
    ),
    tasks={
        item.upper().replace("_", "-"): (zh, en) for item, (_, zh, en) in lists.REPORT_ITEMS.items()
    },
)

EDUCATION = Ledger(
    kind="education",
    number=7,
    title_zh="“五期教育”信息服务台帐",
    title_en="Life-stage education ledger",
    lists=(
        "Residents in each life stage at the month's end — newly-wed, pregnancy, lactation, "
        "child-rearing, menopause (EDUCATION_COVERAGE's stages) — and whether they attended "
        "a session for it in the month."
    ),
    rows=lists.education,
    columns=(
        Column("life_stage", "阶段", "Stage", 6),
        *PERSON,
        Column("attended", "本月已参加", "Attended this month", 11),
    ),  # fmt: skip
    fill=(
        FillColumn("date", "参加日期", "Attended on", "date", width=11),
        FillColumn("stage", "教育阶段", "Session stage", "choice", STAGES, width=8),
    ),
    returns=(
        Return(
            "event",
            kind="education",
            when=("date", "stage"),
            fields={"date": "date", "stage": "stage"},
            describe="a session for the stage attended on the date",
        ),
    ),
    tasks={code.upper(): (c.zh, c.en) for code, c in ((c.code, c) for c in STAGES)},
)

SCREENING = Ledger(
    kind="screening",
    number=8,
    title_zh="妇科病普查信息服务台帐",
    title_en="Gynaecological screening ledger",
    lists=(
        "Women due gynaecological screening in the month on the service schedule "
        "(SCREENING_COVERAGE's denominator), with the last screening before it."
    ),
    rows=lists.screening,
    columns=(
        *PERSON,
        Column("last", "上次普查", "Last screening", 11),
        Column("done", "本月已查", "Done this month", 11),
    ),  # fmt: skip
    fill=(
        FillColumn("date", "普查日期", "Screened on", "date", width=11),
        FINDINGS,
        FillColumn("referral", "转诊", "Referred to", "text", width=14, tag="转诊"),
    ),
    returns=(
        Return(
            "event",
            kind="screening",
            when=("date",),
            fields={"date": "date", "findings": ("findings", "referral")},
            describe="a screening on the date; the findings and the referral (as a finding "
            "'转诊:…') are its findings",
        ),
    ),
)

FOLLOWUP = Ledger(
    kind="followup",
    number=9,
    title_zh="随访人员信息服务台帐",
    title_en="Follow-up visits ledger",
    lists=(
        "Follow-up visits falling due in the month on the follow-up schedule (postpartum "
        "day 7 and day 42, IUD checks at 1, 3, 6 and 12 months), with the window in which "
        "a visit counts (FOLLOWUP_RATE's denominator)."
    ),
    rows=lists.followup,
    columns=(
        Column("visit", "随访项目", "Visit", 14),
        NAME,
        ID_NUMBER,
        HOUSEHOLD,
        PHONE,
        Column("trigger", "事由", "After", 18),
        Column("due", "应随访日期", "Due", 11),
        Column("window", "有效随访期", "Window", 22),
        Column("done", "已随访", "Done", 11),
    ),  # fmt: skip
    fill=(
        FillColumn("date", "随访日期", "Visited on", "date", width=11),
        FillColumn("findings", "随访结果", "Outcome", "text", width=16),
    ),
    returns=(
        Return(
            "event",
            kind="followup",
            when=("date",),
            fields={"date": "date", "findings": "findings"},
            describe="a follow-up visit on the date, with its outcome as findings",
        ),
    ),
    tasks={"PP": ("产后访视", "Postpartum visit"), "IUD": ("节育器随访", "IUD check")},
)

BENEFITS = Ledger(
    kind="benefits",
    number=0,
    title_zh="奖励扶助对象管理台帐",
    title_en="Benefits ledger",
    lists=(
        "Beneficiaries of the village (enrolments in force during the month) with the "
        "payment falling due in the month and its status."
    ),
    rows=lists.benefits,
    columns=(
        Column("scheme", "项目", "Scheme", 8),
        *PERSON,
        Column("payee", "领取人", "Payee", 7),
        Column("period", "发放期", "Period", 7),
        Column("amount", "金额（元）", "Amount", 8),
        Column("due", "应发日期", "Due", 11),
        Column("status", "状态", "Status", 14),
    ),  # fmt: skip
    fill=(
        FillColumn("paid_date", "发放日期", "Paid on", "date", width=11),
        FillColumn("amount_paid", "实发金额（元）", "Amount paid", "number", low=0, high=100000),
        FillColumn("channel", "发放渠道", "Channel", "choice", CHANNELS, width=6),
        FillColumn("verified", "已核实", "Verified", "choice", YES_NO, width=5),
    ),
    returns=(
        Return(
            "benefits.payment",
            tasks=("PAY",),
            when=("paid_date",),
            fields={
                "status": "=paid",
                "paid_date": "paid_date",
                "channel": "channel",
                "amount": "amount_paid",
            },
            describe="the month's payment made on the date (the amount is checked against "
            "the payment's own)",
        ),
        Return(
            "note",
            when=("verified",),
            fields={"verified": "verified"},
            describe="the beneficiary verified (alive, living here, still eligible)",
        ),
    ),
    tasks={"PAY": ("本月应发", "Payment due"), "VERIFY": ("核实对象", "Verify")},
)

CASES = Ledger(
    kind="cases",
    number=0,
    title_zh="信访工作管理台帐",
    title_en="Petitions ledger",
    lists=(
        "Petitions concerning the village open at the month's end, with their deadlines "
        "and the return visits due; petitioners' details are not printed."
    ),
    rows=lists.cases,
    columns=(
        Column("number", "编号", "Number", 15),
        Column("received", "登记日期", "Received", 11),
        Column("category", "类别", "Category", 10),
        Column("subject", "信访事项", "Subject", 30),
        Column("state", "状态", "State", 8),
        Column("ack_due", "受理期限", "Acknowledge by", 11),
        Column("conclude_due", "办结期限", "Conclude by", 16),
        Column("return_visit", "回访", "Return visit", 7),
    ),  # fmt: skip
    fill=(
        FillColumn("date", "回访日期", "Return visit on", "date", width=11),
        FillColumn("satisfaction", "满意度", "Satisfaction", "choice", SATISFACTION, width=8),
        FillColumn("note", "说明", "Note", "text", width=16),
    ),
    returns=(
        Return(
            "cases.return_visit",
            tasks=("RETURN",),
            when=("date", "satisfaction"),
            fields={"on": "date", "satisfaction": "satisfaction", "note": "note"},
            describe="the return visit made on the date",
        ),
    ),
    tasks={"RETURN": ("应回访", "Return visit due"), "OPEN": ("办理中", "Open")},
)

# In the order of docs/ledgers.md; keys are the ledger kinds of the command line.
LEDGERS: dict[str, Ledger] = {
    ledger.kind: ledger
    for ledger in (
        CONTRACEPTION,
        CHECKUP,
        BIRTHS,
        MIGRANTS,
        FAMILY,
        REPORTS,
        EDUCATION,
        SCREENING,
        FOLLOWUP,
        BENEFITS,
        CASES,
    )
}
KINDS: tuple[str, ...] = tuple(LEDGERS)
