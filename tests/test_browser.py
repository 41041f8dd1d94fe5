"""End to end in Debian's Chromium (headless, driven by Playwright).

A village worker logs in, finds a woman by her pinyin initials, records a birth and
sees the village's birth count go up by one; a worker of another village gets 404 on
the woman's page. Screenshots are saved under ``artifacts/screenshots/``.
"""

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest
from helpers import write_csv

from taizhang.lib.idnumber import make

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("TAIZHANG_ARTIFACTS", "artifacts")) / "screenshots"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian's chromium (.ci/run installs it)"
    ),
]

V1, V3 = "410325100201", "410325101201"
WOMAN = make("410325", dt.date(1994, 4, 4), 22)
NEIGHBOUR = make("410325", dt.date(1980, 1, 1), 24)
BABY = make("410325", dt.date(2026, 11, 1), 31)


@pytest.fixture
def county(tmp_path, taizhang, django_user_model):
    from taizhang.accounts.models import Profile, Role

    orgs = write_csv(
        tmp_path / "o.csv",
        ["code", "name", "parent"],
        [
            ["410325", "嵩县", ""],
            ["410325100", "城关镇", "410325"],
            [V1, "东街村", "410325100"],
            ["410325101", "田湖镇", "410325"],
            [V3, "田湖村", "410325101"],
        ],
    )
    persons = write_csv(
        tmp_path / "p.csv",
        ["id_number", "name", "sex", "village"],
        [[WOMAN, "王秀英", "F", V1], [NEIGHBOUR, "李桂兰", "F", V1]],
    )
    for path in (orgs, persons):
        assert taizhang("import", path).exit_code == 0
    for username, village in (("alice", V1), ("charlie", V3)):
        user = django_user_model.objects.create_user(username, password="pw-" + username)
        Profile.objects.create(user=user, org_unit_id=village, role=Role.VILLAGE_WORKER)


@pytest.fixture
def browser():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop, Django's ORM
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-" + username)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def births_on_dashboard(page, base) -> int:
    page.goto(f"{base}/?period=2026")
    return int(page.locator(".key-figures [data-code=BIRTHS]").first.get_attribute("data-value"))


def test_it_records_a_birth_and_keeps_other_villages_out(county, browser, live_server):
    base = live_server.url
    page = browser.new_page(locale="zh-CN")
    log_in(page, base, "alice")
    before = births_on_dashboard(page, base)
    shot(page, "1-dashboard-before")

    page.goto(f"{base}/people/")
    page.fill("input[name=q]", "wxy")
    page.press("input[name=q]", "Enter")
    page.wait_for_load_state()
    page.get_by_role("link", name="王秀英").first.click()
    page.wait_for_load_state()
    woman_url = page.url
    assert re.search(r"/people/\d+/$", woman_url)
    shot(page, "2-person")

    page.goto(woman_url + "record/birth/")
    page.fill("[name=date]", "2026-11-01")
    page.fill("[name=child_id_number]", BABY)
    page.fill("[name=child_name]", "王小宝")
    page.select_option("[name=child_sex]", "M")
    page.select_option("[name=delivery_place]", "facility")
    shot(page, "3-birth-form")
    page.click("form.event-form button[type=submit]")
    page.wait_for_load_state()
    assert page.url == woman_url
    assert page.get_by_role("link", name="王小宝").count() >= 1

    assert births_on_dashboard(page, base) == before + 1
    shot(page, "4-dashboard-after")

    other = browser.new_page(locale="zh-CN")
    log_in(other, base, "charlie")
    response = other.goto(woman_url)
    assert response.status == 404
    shot(other, "5-other-village-404")


@pytest.fixture
def township_user(county, django_user_model):
    from taizhang.accounts.models import Profile, Role

    tom = django_user_model.objects.create_user("tom", password="pw-tom")
    Profile.objects.create(user=tom, org_unit_id="410325100", role=Role.TOWNSHIP_STATISTICIAN)
    return tom


def closure_on_dashboard(page, base) -> tuple[int, int]:
    page.goto(f"{base}/?period=2026")
    card = page.locator(".key-figures [data-code=CASE_CLOSURE_RATE]").first
    return int(card.get_attribute("data-numerator")), int(card.get_attribute("data-denominator"))


def act(page, action: str, **fields):
    """Fill and submit the form of one named action on a petition's page."""
    form = page.locator(f"form[data-action={action}]")
    for name, value in fields.items():
        control = form.locator(f"[name={action}-{name}]")
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_it_takes_a_petition_from_intake_to_closure(township_user, browser, live_server):
    # Received 2026-11-01: its 60 days end on 2026-12-31, so it is due to close in 2026 and,
    # closed today (on or before 2026-11-29), it is closed on time: 1 of 1.
    base = live_server.url
    page = browser.new_page(locale="zh-CN")
    log_in(page, base, "tom")
    assert closure_on_dashboard(page, base) == (0, 0)

    page.goto(f"{base}/cases/new/")
    page.fill("[name=received_on]", "2026-11-01")
    page.select_option("[name=channel]", "visit")
    page.select_option("[name=category]", "benefits")
    page.select_option("[name=org]", V1)
    page.fill("[name=subject]", "奖励扶助金十月未到账")
    page.fill("[name=petitioner_name]", "赵大山")
    page.fill("[name=phone]", "13900001111")
    shot(page, "6-petition-intake")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert re.search(r"/cases/\d+/$", page.url)
    case_url = page.url

    act(page, "accept", on="2026-11-02")
    act(page, "assign", on="2026-11-02", handler="tom")
    act(page, "reply", on="2026-11-20", text="已核实，十月补发")
    act(page, "return_visit", on="2026-11-25", satisfaction="satisfied")
    act(page, "close", on="2026-11-26")
    assert page.url == case_url
    assert page.locator("[data-state=closed]").count() == 1
    assert "赵大山" in page.content()  # the handling township sees the petitioner
    shot(page, "7-petition-closed")

    assert closure_on_dashboard(page, base) == (1, 1)
