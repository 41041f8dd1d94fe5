"""Correcting and retracting from the person's page, and the corrections page.

The county of tests/test_corrections.py (villages A and B of township T); the clock at
2026-12-03. W2 (village B) has a check-up on 2026-12-01 (this month: open) and one on
2025-09-09 (old: it waits for the township).
"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import make_user
from test_corrections import (  # noqa: F401 - county is a fixture
    COUNTY,
    M1,
    W2,
    A,
    B,
    T,
    check_up,
    county,
    event_of,
    person,
)

from taizhang.audit.models import AuditEntry
from taizhang.corrections.models import CorrectionRequest, Status
from taizhang.register.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(county):  # noqa: F811 - the imported fixture
    return {
        "worker_b": make_user("worker_b", "village_worker", B),
        "worker_a": make_user("worker_a", "village_worker", A),
        "tom": make_user("tom", "township_statistician", T),
        "ada": make_user("ada", "county_admin", COUNTY),
    }


def urls(event: Event, action: str) -> str:
    return f"/people/{event.person_id}/events/{event.pk}/{action}/"


def test_a_correction_is_shown_before_it_is_saved(client, users):
    check_up(W2, "2026-12-01")
    event = Event.objects.get(person=person(W2), kind="checkup", date=dt.date(2026, 12, 1))
    client.force_login(users["worker_b"])
    page = client.get(urls(event, "correct"))
    assert page.status_code == 200
    assert 'value="2026-12-01"' in page.content.decode()
    form = {"date": "2026-12-02", "findings": "正常", "correction_reason": "日期记错"}
    preview = client.post(urls(event, "correct"), form)
    text = preview.content.decode()
    assert preview.status_code == 200
    assert '<td class="old">2026-12-01</td><td class="new">2026-12-02</td>' in text
    assert not Event.objects.filter(supersedes=event).exists()  # nothing saved yet
    saved = client.post(urls(event, "correct"), {**form, "confirm": "1"})
    assert saved.status_code == 302
    correction = Event.objects.get(supersedes=event)
    assert (correction.date, correction.findings) == (dt.date(2026, 12, 2), "正常")
    journal = CorrectionRequest.objects.get(event=event)
    assert (journal.status, journal.reason, journal.source) == (Status.APPLIED, "日期记错", "web")
    assert AuditEntry.objects.filter(action="event_correct", object_id=str(event.pk)).exists()
    # The corrected event has no correction form of its own any more.
    assert client.get(urls(event, "correct")).status_code == 404


def test_a_retraction_needs_a_reason(client, users):
    check_up(W2, "2026-12-01")
    event = Event.objects.get(person=person(W2), kind="checkup", date=dt.date(2026, 12, 1))
    client.force_login(users["worker_b"])
    refused = client.post(urls(event, "retract"), {"correction_reason": "  "})
    assert refused.status_code == 400
    preview = client.post(urls(event, "retract"), {"correction_reason": "重复录入"})
    assert "retracted" in preview.content.decode()
    client.post(urls(event, "retract"), {"correction_reason": "重复录入", "confirm": "1"})
    assert Event.objects.get(supersedes=event).kind == "void"


def test_a_refused_correction_says_why_next_to_the_field(client, users):
    client.force_login(users["ada"])
    event = event_of(W2, "checkup")
    page = client.post(urls(event, "correct"), {"date": "2031-01-01", "correction_reason": "x"})
    assert page.status_code == 400
    assert 'data-field="date"' in page.content.decode()


def test_an_old_event_waits_for_the_township(client, users):
    event = event_of(W2, "checkup")  # 2025-09-09
    client.force_login(users["worker_b"])
    form = {"date": "2025-09-10", "findings": "", "correction_reason": "日期记错"}
    client.post(urls(event, "correct"), {**form, "confirm": "1"})
    journal = CorrectionRequest.objects.get(event=event)
    assert journal.status == Status.PENDING
    assert not Event.objects.filter(supersedes=event).exists()
    # The township sees it (the top bar counts it) and approves it.
    client.force_login(users["tom"])
    inbox = client.get("/corrections/").content.decode()
    assert f'data-request="{journal.pk}"' in inbox
    assert 'data-corrections-waiting="1"' in inbox
    client.post(f"/corrections/{journal.pk}/decide/", {"decision": "approve", "note": "核实"})
    journal.refresh_from_db()
    assert journal.status == Status.APPLIED
    assert Event.objects.get(supersedes=event).date == dt.date(2025, 9, 10)
    # The worker is told once.
    client.force_login(users["worker_b"])
    page = client.get("/people/").content.decode()
    assert 'data-corrections-waiting="1"' in page
    client.get("/corrections/")
    assert "data-corrections-waiting" not in client.get("/people/").content.decode()


def test_a_refusal_needs_a_note_and_writes_nothing(client, users):
    event = event_of(W2, "checkup")
    client.force_login(users["worker_b"])
    client.post(urls(event, "retract"), {"correction_reason": "重复", "confirm": "1"})
    journal = CorrectionRequest.objects.get(event=event)
    client.force_login(users["tom"])
    client.post(f"/corrections/{journal.pk}/decide/", {"decision": "refuse", "note": ""})
    journal.refresh_from_db()
    assert journal.status == Status.PENDING
    client.post(f"/corrections/{journal.pk}/decide/", {"decision": "refuse", "note": "确有此事"})
    journal.refresh_from_db()
    assert (journal.status, journal.decision_note) == (Status.REFUSED, "确有此事")
    assert not Event.objects.filter(supersedes=event).exists()


def test_outsiders_see_nothing(client, users):
    event = event_of(W2, "checkup")
    client.force_login(users["worker_b"])
    client.post(urls(event, "retract"), {"correction_reason": "重复", "confirm": "1"})
    journal = CorrectionRequest.objects.get(event=event)
    client.force_login(users["worker_a"])  # village A: W2 lives in B
    assert client.get(urls(event, "correct")).status_code == 404
    assert client.get(f"/people/{event.person_id}/events/").status_code == 404
    assert (
        client.post(f"/corrections/{journal.pk}/decide/", {"decision": "approve"}).status_code
        == 404
    )
    assert f'data-request="{journal.pk}"' not in client.get("/corrections/").content.decode()
    # W2's event under M1's address: no such event of hers.
    client.force_login(users["ada"])
    assert client.get(f"/people/{person(M1).pk}/events/{event.pk}/correct/").status_code == 404
