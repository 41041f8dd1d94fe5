"""Corrections end to end in Debian's Chromium, in Chinese on a 390 px phone and a desktop.

The county of tests/test_corrections.py. B's village worker corrects W2's check-up of this
month from her phone (applied at once) and asks to move M1's twins' mother's move of 2025
(it waits); the township statistician approves it on a desktop; the worker sees the
decision. Screenshots are saved under ``artifacts/screenshots/``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from test_browser import CHROMIUM, browser, shot  # noqa: F401 - browser is a fixture
from test_corrections import M1, W2, B, T, check_up, county, event_of, person  # noqa: F401

from taizhang.corrections.models import CorrectionRequest, Status
from taizhang.register.models import Event

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="needs Debian's chromium (.ci/run installs it)",
    ),
]


def log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-" + username + "-long")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_a_correction_from_a_phone_and_its_approval(county, browser, live_server):  # noqa: F811
    from django.contrib.auth import get_user_model

    from taizhang.accounts.models import Profile, Role

    for name, org, role in (
        ("wang", B, Role.VILLAGE_WORKER),
        ("tom", T, Role.TOWNSHIP_STATISTICIAN),
    ):
        user = get_user_model().objects.create_user(name, password="pw-" + name + "-long")
        Profile.objects.create(user=user, org_unit_id=org, role=role)
    check_up(W2, "2026-12-01")
    recent = Event.objects.get(person=person(W2), kind="checkup", date=dt.date(2026, 12, 1))
    base = live_server.url

    phone = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    log_in(phone, base, "wang")
    phone.goto(f"{base}/people/{recent.person_id}/")
    phone.locator(f'tr[data-event="{recent.pk}"] >> text=更正').click()
    phone.wait_for_load_state()
    assert phone.input_value("[name=date]") == "2026-12-01"
    phone.fill("[name=date]", "2026-12-02")
    phone.fill("[name=correction_reason]", "日期记错")
    shot(phone, "corrections-1-form-390")
    phone.click("form.event-form button[type=submit]")
    phone.wait_for_load_state()
    assert phone.locator("td.old").first.inner_text() == "2026-12-01"
    assert phone.locator("td.new").first.inner_text() == "2026-12-02"
    # Nothing wider than the phone's screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "corrections-2-preview-390")
    phone.click("form.event-form button[type=submit]")
    phone.wait_for_load_state()
    assert "事件已更正" in phone.content()
    assert Event.objects.get(supersedes=recent).date == dt.date(2026, 12, 2)

    # M1 lives in B; her move of 2025 is in a closed month: the request waits.
    move = event_of(M1, "move_within")
    phone.goto(f"{base}/people/{move.person_id}/events/{move.pk}/correct/")
    phone.fill("[name=date]", "2025-08-01")
    phone.fill("[name=correction_reason]", "迁移日期记错")
    phone.click("form.event-form button[type=submit]")
    phone.wait_for_load_state()
    phone.click("form.event-form button[type=submit]")
    phone.wait_for_load_state()
    assert "等待乡镇审批" in phone.content()
    journal = CorrectionRequest.objects.get(event=move)

    desk = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    log_in(desk, base, "tom")
    assert desk.locator("[data-corrections-waiting]").inner_text() == "1"
    desk.goto(f"{base}/corrections/")
    shot(desk, "corrections-3-inbox-desktop")
    card = desk.locator(f'section[data-request="{journal.pk}"]')
    card.locator("input[name=note]").fill("已核实")
    card.locator("button[value=approve]").click()
    desk.wait_for_load_state()
    journal.refresh_from_db()
    assert journal.status == Status.APPLIED

    phone.goto(f"{base}/corrections/")
    row = phone.locator(f'tr[data-request="{journal.pk}"]')
    assert "已生效" in row.inner_text() and "已核实" in row.inner_text()
    shot(phone, "corrections-4-decision-390")
