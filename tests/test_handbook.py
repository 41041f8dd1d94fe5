"""The ledger handbook (台帐手册): a Chinese page at /ledgers/handbook/ and an A4 PDF
(/ledgers/handbook.pdf, ``taizhang handbook -o FILE``), made from the ledgers' declarations.

The register is the hand-built county (``hand_built_county``): alice works in village A
(东街村), tom is the statistician of A's township (城关镇), ada the county administrator.
The expected names and columns below are written out by hand from the printed ledgers,
so a declaration changed without its handbook (or the reverse) shows here.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from django.urls import reverse
from helpers import area_users

from taizhang.ledgers import handbook
from taizhang.ledgers.declarations import KINDS, LEDGERS

COUNTY, T100 = "410325", "410325100"
A, C = "410325100201", "410325101201"
MONTH = "202403"

# Each ledger's Chinese name and its fill-in columns' headers, as printed.
HAND_CHECKED: dict[str, tuple[str, tuple[str, ...]]] = {
    "contraception": (
        "避孕节育措施管理台帐",
        ("日期", "新用/改用措施", "停用措施", "停用原因", "检查结果"),
    ),
    "checkup": ("康检工作管理台帐", ("康检日期", "检查结果")),
    "births": (
        "人口计划管理台帐",
        ("日期", "妊娠结局", "分娩地点", "子女姓名", "子女性别", "子女身份证号", "生育登记服务"),
    ),
    "migrants": ("流动人口管理台帐", ("核实日期", "仍在本村居住", "已提供服务")),
    "family": ("三结合管理台帐", ("日期", "结果", "说明")),
    "reports": ("报表管理台帐", ("上报数", "填报人", "上报日期")),
    "education": ("“五期教育”信息服务台帐", ("参加日期", "教育阶段")),
    "screening": ("妇科病普查信息服务台帐", ("普查日期", "检查结果", "转诊")),
    "followup": ("随访人员信息服务台帐", ("随访日期", "随访结果")),
    "benefits": ("奖励扶助对象管理台帐", ("发放日期", "实发金额（元）", "发放渠道", "已核实")),
    "cases": ("信访工作管理台帐", ("回访日期", "满意度", "说明")),
}


pytestmark = pytest.mark.usefixtures("data_dir")  # a data folder of its own


@pytest.fixture
def area(hand_built_county):
    return area_users(a=A, c=C, township=T100, county=COUNTY)


def section(page: str, kind: str) -> str:
    """The part of the handbook about one ledger."""
    found = re.search(rf'<section class="ledger" id="hb-{kind}".*?</section>', page, re.S)
    assert found, kind
    return found.group(0)


# ---------------------------------------------------------------------------
# Made from the declarations


def test_every_ledger_kind_has_its_explanation():
    assert set(handbook.EXPLANATIONS) == set(KINDS)
    for kind in KINDS:
        paragraphs = handbook.explain(kind)
        assert paragraphs and all(p.strip() for p in paragraphs), kind
        assert not any("{" in p for p in paragraphs), kind  # every fact filled in


def test_every_kind_of_return_has_its_words():
    used = {(r.target, r.kind) for ledger in LEDGERS.values() for r in ledger.returns}
    assert used == set(handbook.RESULTS)


def test_the_hand_checked_list_covers_every_ledger():
    assert list(HAND_CHECKED) == list(KINDS)
    for kind, (title, fill) in HAND_CHECKED.items():
        assert LEDGERS[kind].title_zh == title
        assert tuple(c.zh for c in LEDGERS[kind].fill) == fill


def test_it_explains_the_rules_with_the_schedule_in_force(settings):
    assert "15至49岁的已婚妇女，离上次康检已满12个月" in handbook.explain("checkup")[0]
    assert "35至64岁的妇女，离上次普查已满36个月" in handbook.explain("screening")[0]
    settings.TAIZHANG_SERVICE_SCHEDULE = {"screening": {"interval_months": 24}}
    assert "离上次普查已满24个月" in handbook.explain("screening")[0]


def test_it_says_what_each_return_becomes():
    births = LEDGERS["births"]
    live, other, note = (handbook.describe_return(births, r) for r in births.returns)
    assert live["when"] == "只对“孕期服务”行，填了“日期”和“妊娠结局”，“妊娠结局”选“活产”"
    assert live["columns"] == ["日期", "子女身份证号", "子女姓名", "子女性别", "分娩地点"]
    assert "孩子作为新的人员登记" in live["result"]
    assert other["when"].endswith("“妊娠结局”选“死产”或“自然流产”或“人工流产”")
    assert note["result"].startswith("不改动档案")
    screening = handbook.describe_return(LEDGERS["screening"], LEDGERS["screening"].returns[0])
    assert screening["columns"] == ["普查日期", "检查结果", "转诊"]


def test_it_says_what_may_be_written_in_each_column():
    rule = {c.key: handbook.answer_rule(c) for c in LEDGERS["benefits"].fill}
    assert rule["channel"] == "从下拉列表中选一项：银行、现金、手机、其他。"
    assert rule["amount_paid"] == "写数字，0至100000。"
    assert rule["paid_date"].startswith("写日期，如 2026-03-05")
    referral = LEDGERS["screening"].fill_column("referral")
    assert "录入时前面加上“转诊:”" in handbook.answer_rule(referral)


# ---------------------------------------------------------------------------
# The page


@pytest.mark.django_db
def test_the_page_shows_every_ledger_with_its_fill_in_columns(client, area):
    client.force_login(area.alice)
    page = client.get(reverse("ledgers:handbook")).content.decode()
    for kind, (title, fill) in HAND_CHECKED.items():
        part = section(page, kind)
        assert f"{title}</h3>" in part, kind
        for header in fill:
            assert f'<td class="label">{header}</td>' in part, (kind, header)
    # the drop-down answers and the follow-up schedule, as declared
    assert "从下拉列表中选一项：住院分娩、在家分娩。" in section(page, "births")
    assert "第 335 至 395 天" in section(page, "followup")
    assert "每 36 个月一次" in page
    for heading in (
        "一、台帐是什么、每月怎么做",
        "三、怎么交回",
        "四、签到",
        "五、隐私",
        "六、自愿服务",
    ):
        assert heading in page, heading


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["alice", "tom", "ada"])
def test_the_page_answers_every_role(client, area, username):
    client.force_login(getattr(area, username))
    assert client.get(reverse("ledgers:handbook")).status_code == 200


@pytest.mark.django_db
def test_the_pdf_downloads(client, area):
    client.force_login(area.tom)
    r = client.get(reverse("ledgers:handbook_pdf"))
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"] == 'attachment; filename="handbook.pdf"'
    assert r.content.startswith(b"%PDF")


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_log_in(client, area):
    for url in (reverse("ledgers:handbook"), reverse("ledgers:handbook_pdf")):
        r = client.get(url)
        assert r.status_code == 302
        assert r.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_it_refuses_a_user_without_an_area(client, area, django_user_model):
    client.force_login(django_user_model.objects.create(username="nobody"))
    assert client.get(reverse("ledgers:handbook")).status_code == 403


@pytest.mark.django_db
def test_english_users_are_told_it_is_in_chinese(client, area, settings):
    client.force_login(area.alice)
    english = client.get(reverse("ledgers:handbook")).content.decode()
    assert "The handbook is written in Chinese" in english
    assert "谁在台帐上、为什么" in english
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    chinese = client.get(reverse("ledgers:handbook")).content.decode()
    assert "The handbook is written in Chinese" not in chinese
    assert "下载手册 PDF（A4）" in chinese


@pytest.mark.django_db
def test_the_ledger_pages_link_to_it(client, area):
    client.force_login(area.alice)
    link = f'href="{reverse("ledgers:handbook")}"'
    for url in (reverse("ledgers:home"), reverse("ledgers:village", args=[A, MONTH])):
        r = client.get(url)
        assert r.status_code == 200
        assert link in r.content.decode(), url


# ---------------------------------------------------------------------------
# The PDF and the command


@pytest.fixture(scope="module")
def pdf(tmp_path_factory):
    """The handbook written by ``taizhang handbook -o``."""
    from typer.testing import CliRunner

    from taizhang.cli import get_app

    path = tmp_path_factory.mktemp("handbook") / "台帐手册.pdf"
    result = CliRunner().invoke(get_app(), ["handbook", "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {path}"
    return path


def test_the_command_writes_an_a4_pdf(pdf):
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    size = re.search(r"Page size:\s+([0-9.]+) x ([0-9.]+) pts", info)
    assert (round(float(size[1])), round(float(size[2]))) == (595, 842)
    pages = int(re.search(r"Pages:\s+(\d+)", info)[1])
    assert pages > len(KINDS)  # a page for each ledger, and more


def test_the_pdf_embeds_the_cjk_font(pdf):
    fonts = subprocess.run(["pdffonts", pdf], capture_output=True, text=True, check=True)
    lines = fonts.stdout.splitlines()[2:]
    names = {line.split()[0].split("+")[-1]: line.split()[-5] for line in lines}
    assert names["Noto-Sans-CJK-SC"] == "yes"
    assert set(names.values()) == {"yes"}


def test_the_pdf_reads_in_chinese(pdf):
    text = subprocess.run(
        ["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True, check=True
    ).stdout
    for words in (
        "已婚育龄妇女",
        "避孕节育措施管理台帐",
        "信访工作管理台帐",
        "自愿服务",
        "康检日期",
    ):
        assert words in text, words
    pages = text.split("\f")
    assert "第 1 页 / 共" in pages[0]
    assert "�" not in text  # no character the font lacks


def test_the_command_refuses_a_missing_folder(taizhang, tmp_path):
    result = taizhang("handbook", "-o", tmp_path / "missing" / "handbook.pdf")
    assert result.exit_code == 1
    assert f"The folder {tmp_path / 'missing'} does not exist" in result.output
    assert not (tmp_path / "missing").exists()
