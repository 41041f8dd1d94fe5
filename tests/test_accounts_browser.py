"""The users page on a phone (390 px wide): a county administrator makes an account, and
the new worker logs in and changes the password — in a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_browser import CHROMIUM, browser, shot  # noqa: F401  (browser is a fixture)

from taizhang.accounts.models import Profile, Role
from taizhang.orgunits.models import OrgUnit

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]

PHONE = {"width": 390, "height": 844}
GOOD = "plum blossom 2026"


@pytest.fixture
def county(django_user_model):
    top = OrgUnit.objects.create(code="410325", name="嵩县", level=3)
    town = OrgUnit.objects.create(code="410325100", name="城关镇", parent=top, level=4)
    OrgUnit.objects.create(code="410325100201", name="东街村", parent=town, level=5)
    ada = django_user_model.objects.create_user("ada", password=GOOD)
    Profile.objects.create(user=ada, org_unit=top, role=Role.COUNTY_ADMIN)


def log_in(page, base, username, password):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def right_edge(page, selector) -> float:
    return page.eval_on_selector(selector, "e => e.getBoundingClientRect().right")


def test_an_administrator_makes_an_account_on_a_phone(county, browser, live_server):  # noqa: F811
    base = live_server.url
    page = browser.new_page(viewport=PHONE, locale="zh-CN")
    log_in(page, base, "ada", GOOD)
    page.goto(f"{base}/accounts/users/new/")
    assert right_edge(page, "form.fields") <= PHONE["width"]
    page.fill("input[name=username]", "lina")
    page.select_option("select[name=role]", Role.VILLAGE_WORKER)
    page.select_option("select[name=org]", "410325100201")
    page.fill("input[name=password1]", "river stone 88")
    page.fill("input[name=password2]", "river stone 88")
    shot(page, "accounts-1-new-account-390px")
    page.click("form.fields button[type=submit]")
    page.wait_for_load_state()
    assert "lina" in page.inner_text("h1")
    page.goto(f"{base}/accounts/users/")
    assert right_edge(page, "table.users") <= PHONE["width"]
    assert page.locator("table.users tr[data-user=lina]").count() == 1
    shot(page, "accounts-2-users-390px")

    worker = browser.new_page(viewport=PHONE, locale="zh-CN")
    log_in(worker, base, "lina", "river stone 88")
    worker.goto(f"{base}/accounts/password/")
    assert right_edge(worker, "form.fields") <= PHONE["width"]
    worker.fill("input[name=old_password]", "river stone 88")
    worker.fill("input[name=new_password1]", GOOD)
    worker.fill("input[name=new_password2]", GOOD)
    worker.click("form.fields button[type=submit]")
    worker.wait_for_load_state()
    assert "/accounts/password/" not in worker.url
    shot(worker, "accounts-3-password-changed-390px")
