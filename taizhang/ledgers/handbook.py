"""The ledger handbook (台帐手册): how village workers and township statisticians use the
monthly ledgers, in Chinese — a page at /ledgers/handbook/ and an A4 PDF
(``taizhang handbook``, /ledgers/handbook.pdf), both from ``ledgers/handbook_body.html``.

What the handbook says about each ledger is made from its declaration
(``taizhang.ledgers.declarations``): the name, the kinds of row, the printed columns, the
fill-in columns with their types and answers, and what each return becomes; the service
schedule and the follow-up schedule in force (``taizhang.indicators.schedule``) give the
ages and intervals. Only what the declarations hold in English prose is written here by
hand, in Chinese: who is on each ledger and why (``EXPLANATIONS``, from the rules of
``taizhang.ledgers.lists``) and what each kind of return writes (``RESULTS``). A test
keeps both complete, so a ledger added or changed without its words fails.

The handbook holds no one's data: it is the same for every user and every village.
"""

from __future__ import annotations

from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import translation

from taizhang import clock
from taizhang.indicators import definitions as d
from taizhang.indicators import schedule
from taizhang.ledgers import archive, lists, status
from taizhang.ledgers.base import TEXT_MAX, FillColumn, Ledger, Return
from taizhang.ledgers.declarations import KINDS, LEDGERS, TEMPLATE_VERSION
from taizhang.ledgers.render import FILL_NOTE, KEY_LABEL, NO_LABEL
from taizhang.register.timeline import PREGNANCY_MAX_DAYS

TITLE = "台帐手册"
SUBTITLE = "已婚育龄妇女管理和服务信息台帐使用说明"
FILENAME = "handbook.pdf"

# Who is on each ledger and why, in plain words (the rules of ``taizhang.ledgers.lists``).
# Paragraphs; ``{name}`` fields are filled from ``facts()`` (the schedule in force).
EXPLANATIONS: dict[str, tuple[str, ...]] = {
    "contraception": (
        "“已婚育龄妇女”行：本月最后一天住在本村、已婚、年满15周岁不满50周岁的妇女，每人一行"
        "（年龄按本月最后一天算周岁，本月内满50岁的不再列入）。本月迁入的列上，本月迁出的不列"
        "（她们在流动人口台帐上）。“现用避孕措施”印出夫妻现在使用的方法和开始日期；丈夫使用的"
        "避孕套或男性绝育记在妻子这一行上，没有使用的印“未采取措施”。",
        "“节育器随访检查”行：按随访安排本月到期的放置宫内节育器后随访（放环后1、3、6、12个月），"
        "与随访人员信息服务台帐中的节育器随访相同，方便同时询问避孕情况。",
        "“产后避孕咨询”行：月末住在本村、分娩后{postpartum_days}天与本月有重叠的妇女（双胞胎算一次"
        "分娩），为她们提供产后避孕方法的咨询。",
        "用不用避孕方法、用哪一种，由夫妻在了解各种方法之后自己决定；台帐只记下她们的选择。",
    ),
    "checkup": (
        "本月应做康检的人：月末住在本村的{checkup_who}，离上次康检已满{checkup_interval}个月"
        "（或从来没有做过康检）。到期以后每个月都列在台帐上，直到做了康检为止。",
        "这就是“康检率”的分母：台帐上的人和乡镇、县里看到的数字是同一批人。“上次康检”印出"
        "本月以前最近一次康检的日期；“本月已检”有日期的，说明本月已经记下了（例如签到时）。",
    ),
    "births": (
        "“孕期服务”行：已登记怀孕、到月末还没有结束的妇女（最近{pregnancy_max_days}天内登记，"
        "之后没有分娩、其他妊娠结局或死亡），预产期在本月或下月的。预产期按末次月经加"
        "{gestation_days}天计算；登记时没有末次月经日期的，预产期印“不详”，每个月都列上，"
        "请补登末次月经。",
        "“新生儿出生”行：本月的活产，每个孩子一行，列在母亲分娩那天居住的村。“出生登记”印出"
        "登记的日期：出生后{registration_days}天内登记的为“及时”。",
    ),
    "migrants": (
        "本月的迁入和迁出：“县外迁入”“县内迁入”（从县内别的村迁来）、“迁出县外”“县内迁出”"
        "（迁到县内别的村），印出迁移日期和迁自、迁往的地方。",
        "“户籍在外常住”行：月末住在本村、户籍地在别处的人（本月刚迁入的已在迁入行上，不重复）。",
        "“本村应享服务”一栏印出他们本月在本村应享的康检、妇女病普查和随访，与那几本台帐相同："
        "流动人口和户籍人口享受一样的服务。",
        "迁入、迁出不在这本台帐上登记：迁移要在本人页面上登记日期和去向。这本台帐只记下核实走访"
        "和提供的服务。",
    ),
    "family": (
        "本月内在“三结合”帮扶中的本村家庭：技能培训、小额信贷、帮扶救助，本月底以前已经开始、"
        "并且没有在本月以前结束的。帮扶都是家庭自己申请的；本村没有帮扶记录时，台帐没有行。",
    ),
    "reports": (
        "本月报表的各个项目（{report_items}），每项一行，“登记数”印出系统中本村本月的登记数"
        "（与乡镇、县里的统计用同一套算法）。",
        "村里核对以后填写上报数、填报人和上报日期。上报数和登记数不一样时，请查明原因：通常是"
        "有人或事还没有登记，应先补登记。",
    ),
    "education": (
        "月末住在本村、处在“五期”之一的人，每个时期一行（一个人可以同时在几个时期，例如哺乳期和"
        "育儿期）：",
        "新婚期——结婚不满一年、没有怀孕；孕期——已登记怀孕、还没有结束；哺乳期——一年内有活产的"
        "母亲；育儿期——有不满7周岁孩子的母亲；更年期——45至55岁的妇女。",
        "“本月已参加”有日期的，说明本月已经参加过该时期的教育（例如签到时已记下）。“教育阶段”"
        "一栏已经预先填好本行的时期；参加的是别的时期的课，就改选那个时期。",
    ),
    "screening": (
        "本月应做妇科病普查的人：月末住在本村的{screening_who}，离上次普查已满"
        "{screening_interval}个月（或从来没有普查过）。到期以后每个月都列在台帐上，直到做了普查。",
        "这就是“妇女病普查覆盖率”的分母。“上次普查”印出本月以前最近一次普查的日期；"
        "“本月已查”有日期的，说明本月已经记下了。",
    ),
    "followup": (
        "按随访安排本月到期的随访：分娩后的产后访视和放置宫内节育器后的随访（见下表）。随访列在"
        "到期那天她居住的村。",
        "每次随访有一个“有效随访期”：在这段日子里做的随访才算完成；“已随访”有日期的，说明已经"
        "记下了。这就是“随访率”的分母。",
    ),
    "benefits": (
        "本村的奖励扶助对象：本月在册的（包括本月内结束的），印出本月应发的那一笔钱、金额、"
        "应发日期和状态。",
        "本月没有应发款项的对象也列上（状态印“本月无应发”），请核实本人健在、仍住本村、仍然符合"
        "条件，在“已核实”一栏选“是”。",
    ),
    "cases": (
        "与本村有关、月末还在办理中的信访事项（已登记、没有办结、没有不予受理），按办结期限排列，"
        "过了期限的标“已逾期”。",
        "已经答复、还没有回访的事项标“应回访”：请回访信访人，问清是否满意。台帐不印信访人的"
        "姓名和联系方式。",
    ),
}

# What each kind of return writes, in plain words, by (target, event kind).
RESULTS: dict[tuple[str, str], str] = {
    ("event", "method_stop"): "在本人档案中记下停用避孕措施：停用日期、停用的方法和原因。",
    ("event", "method_start"): "在本人档案中记下新用（或改用）的避孕方法，从所填日期开始。"
    "改用方法时，旧方法先停用，新方法再开始。",
    ("event", "followup"): "在本人档案中记下一次随访和随访结果。",
    ("event", "checkup"): "在本人档案中记下一次康检和检查结果。",
    ("event", "screening"): "在本人档案中记下一次妇科病普查；检查结果和转诊（记作“转诊:……”）"
    "一起作为检查结果。",
    ("event", "birth"): "在母亲的档案中记下一次活产；孩子作为新的人员登记（姓名、性别、身份证号、"
    "分娩地点）。",
    ("event", "outcome"): "在本人档案中记下这次妊娠的结局。",
    ("event", "education"): "在本人档案中记下参加了一次该时期的五期教育。",
    ("note", ""): "不改动档案，只随交回的文件一起保存，作为工作记录。",
    ("benefits.payment", ""): "本月这笔奖励扶助金记为已发放（发放日期、渠道、实发金额）。"
    "实发金额必须与应发金额相同，否则整个文件不录入。",
    ("cases.return_visit", ""): "在这件信访事项上记下回访：日期、满意度和说明。",
    ("family.result", ""): "在这项帮扶上记下结果（进行中、已完成、已终止）、日期和说明。",
    ("reports.figure", ""): "作为本村本月这一项的上报数保存，连同填报人和上报日期。",
}

TYPE_NAMES = {"date": "日期", "choice": "选择", "number": "数字", "text": "文字"}
GROUP_NAMES = {"mwra": "已婚妇女", "women": "妇女"}
AFTER_NAMES = {"delivery": "分娩", "iud": "放置宫内节育器"}


def _number(value) -> str:
    if value is None:
        return ""
    n = Decimal(str(value))
    return str(int(n)) if n == n.to_integral_value() else str(n.normalize())


def _who(service: schedule.Service) -> str:
    group = GROUP_NAMES.get(service.group, service.group)
    return f"{service.min_age}至{service.max_age}岁的{group}"


def facts() -> dict[str, object]:
    """The numbers the explanations use: the schedule in force and the ledgers' rules."""
    services = schedule.schedule()
    checkup, screening = services["checkup"], services["screening"]
    return {
        "checkup_who": _who(checkup),
        "checkup_interval": checkup.interval_months,
        "screening_who": _who(screening),
        "screening_interval": screening.interval_months,
        "postpartum_days": lists.POSTPARTUM_DAYS,
        "gestation_days": lists.GESTATION_DAYS,
        "pregnancy_max_days": PREGNANCY_MAX_DAYS,
        "registration_days": d.REGISTRATION_DAYS,
        "report_items": "、".join(zh for _code, zh, _en in lists.REPORT_ITEMS.values()),
    }


def explain(kind: str, known: dict | None = None) -> list[str]:
    """Who is on the ledger ``kind`` and why, as paragraphs."""
    known = facts() if known is None else known
    return [p.format(**known) for p in EXPLANATIONS[kind]]


def answer_rule(column: FillColumn) -> str:
    """What may be written in a fill-in column, in words."""
    if column.type == "date":
        return (
            "写日期，如 2026-03-05（也可以写 2026/3/5、20260305 或 2026年3月5日）；"
            "不能晚于交回的那一天。"
        )
    if column.type == "choice":
        return "从下拉列表中选一项：" + "、".join(column.labels()) + "。"
    if column.type == "number":
        low, high = _number(column.low), _number(column.high)
        if low and high:
            return f"写数字，{low}至{high}。"
        return "写数字。"
    rule = f"写文字，不超过{TEXT_MAX}个字。"
    if column.tag:
        rule += f"录入时前面加上“{column.tag}:”，并入检查结果。"
    return rule


def _task_names(ledger: Ledger, tasks: tuple[str, ...]) -> str:
    return "、".join(f"“{ledger.tasks[t][0]}”" if t in ledger.tasks else t for t in tasks)


def describe_return(ledger: Ledger, r: Return) -> dict[str, object]:
    """One return in words: when it applies, what it writes, from which columns."""
    when = []
    if r.tasks:
        when.append(f"只对{_task_names(ledger, r.tasks)}行")
    if r.when:
        when.append("填了" + "和".join(f"“{ledger.fill_column(k).zh}”" for k in r.when))
    for key, codes in r.values.items():
        column = ledger.fill_column(key)
        answers = "或".join(f"“{column.choice(c).zh}”" for c in codes)
        when.append(f"“{column.zh}”选{answers}")
    sources: list[str] = []
    for source in r.fields.values():
        for s in source if isinstance(source, tuple) else (source,):
            if not s.startswith(("=", "@")) and s not in sources:
                sources.append(s)
    return {
        "target": r.target,
        "kind": r.kind,
        "when": "，".join(when) or "填了任何一栏",
        "result": RESULTS[(r.target, r.kind)],
        "columns": [ledger.fill_column(s).zh for s in sources],
    }


def ledger_part(ledger: Ledger, n: int, known: dict) -> dict[str, object]:
    """What the handbook says about one ledger, from its declaration."""
    return {
        "n": n,
        "kind": ledger.kind,
        "title": ledger.title_zh,
        "title_en": ledger.title_en,
        "who": explain(ledger.kind, known),
        "tasks": [zh for zh, _en in ledger.tasks.values()],
        "columns": [NO_LABEL, *(c.zh for c in ledger.columns)],
        "fill": [
            {
                "zh": c.zh,
                "key": c.key,
                "type": TYPE_NAMES[c.type],
                "rule": answer_rule(c),
                "answers": c.labels(),
            }
            for c in ledger.fill
        ],
        "returns": [describe_return(ledger, r) for r in ledger.returns],
        "identity": status.prints_identity(ledger),
    }


def follow_up_rows() -> list[dict[str, object]]:
    """The follow-up schedule in force, as the followup ledger lists it."""
    return [
        {
            "name": lists.visit_name(f),
            "after": AFTER_NAMES.get(f.after, f.after),
            "due": f.due,
            "start": f.start,
            "end": f.end,
        }
        for f in schedule.follow_ups()
    ]


def service_rows() -> list[dict[str, object]]:
    """The service schedule in force (check-ups, screening)."""
    return [
        {
            "name": s.name,
            "who": _who(s),
            "interval": s.interval_months,
        }
        for s in schedule.schedule().values()
    ]


def context() -> dict[str, object]:
    """Everything the handbook templates show."""
    known = facts()
    parts = [ledger_part(LEDGERS[kind], n, known) for n, kind in enumerate(KINDS, start=1)]
    return {
        "title": TITLE,
        "subtitle": SUBTITLE,
        "version": TEMPLATE_VERSION,
        "today": clock.today(),
        "ledgers": parts,
        "identity_ledgers": [p["title"] for p in parts if p["identity"]],
        "other_ledgers": [p["title"] for p in parts if not p["identity"]],
        "services": service_rows(),
        "follow_ups": follow_up_rows(),
        "retention_months": archive.retention_months(),
        "fill_note": FILL_NOTE,
        "no_label": NO_LABEL,
        "key_label": KEY_LABEL,
        "text_max": TEXT_MAX,
    }


def to_pdf() -> bytes:
    """The handbook as an A4 PDF (portrait), Noto Sans CJK SC embedded."""
    from weasyprint import HTML

    with translation.override("zh-hans"):
        html = render_to_string("ledgers/handbook_pdf.html", context())
    return HTML(string=html).write_pdf()
