"""The check-in page (/ledgers/check-in/): a person checked in at a service session by a
scanned row key or a typed ID number, recorded once, and only inside the user's area.

The register is the ledger village of ``test_ledgers``: alice works in 东街村 A; ben, made
here, in 西街村 B. 王芳 (410325199005050041) and 张丽 (410325199207070067) live in A.
"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import make_user
from test_ledgers import MARCH, A, B, ledger_village  # noqa: F401  (the fixture)

from taizhang import clock
from taizhang.accounts.models import Role
from taizhang.audit.models import AuditEntry
from taizhang.ledgers.build import build
from taizhang.ledgers.models import Attendance
from taizhang.register.models import Event, Person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_village")]

URL = "/ledgers/check-in/"
WANG_ID, ZHANG_ID = "410325199005050041", "410325199207070067"
DAY = dt.date(2026, 11, 20)  # a day before today (the tests run on or after 2026-11-29)


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.get(username="alice")


def key_of(kind: str, name: str) -> str:
    """The row key printed beside ``name`` on A's March ledger ``kind`` (its QR code)."""
    pk = Person.objects.get(name=name).pk
    return next(r.key for r in build(kind, A, MARCH).rows if r.subject_id == pk)


def post(client, code: str, kind="checkup", day=DAY, stage="", **headers):
    data = {"kind": kind, "date": day.isoformat(), "stage": stage, "code": code}
    return client.post(URL, data, **headers)


def sessions(name: str, kind: str) -> list[tuple]:
    person = Person.objects.get(name=name)
    return list(Event.objects.filter(person=person, kind=kind).values_list("date", "stage"))


def test_it_checks_in_by_a_scanned_row_key(client, alice):
    # 王芳's row of the check-up ledger; the scanner types the key (lower case forgiven).
    client.force_login(alice)
    r = post(client, key_of("checkup", "王芳").lower() + "\n")
    assert r.status_code == 302
    assert r.url == f"{URL}?kind=checkup&date={DAY.isoformat()}"
    assert (DAY, "") in sessions("王芳", "checkup")
    a = Attendance.objects.get()
    assert (a.person.name, a.kind, a.date, a.village, a.by, a.recorded_by) == (
        "王芳",
        "checkup",
        DAY,
        A,
        "key",
        alice,
    )
    assert a.event == Event.objects.get(person=a.person, kind="checkup", date=DAY)
    entry = AuditEntry.objects.get(action="attendance_record")
    assert (entry.user, entry.object_id, entry.org_code) == (alice, str(a.person_id), A)
    assert entry.detail["by"] == "key" and entry.detail["new_event"] is True
    # The session's page lists her.
    r = client.get(r.url)
    assert [c.person.name for c in r.context["checkins"]] == ["王芳"]
    assert "王芳 checked in." in r.content.decode()


def test_it_checks_in_by_id_number_with_htmx_and_records_twice_once(client, alice):
    client.force_login(alice)
    r = post(client, ZHANG_ID, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    html = r.content.decode()
    assert "张丽 checked in." in html
    assert "<html" not in html  # only the list and the outcome
    assert [c.person.name for c in r.context["checkins"]] == ["张丽"]
    events = Event.objects.count()
    # Checked in again for the same kind and day (here by her row key): recorded once.
    r = post(client, key_of("checkup", "刘洋"), HTTP_HX_REQUEST="true")  # another woman
    r = post(client, ZHANG_ID, HTTP_HX_REQUEST="true")
    assert "张丽 was already checked in at" in r.content.decode()
    assert Attendance.objects.filter(person__name="张丽").count() == 1
    assert Event.objects.count() == events + 1  # 刘洋's check-up only
    assert [c.person.name for c in r.context["checkins"]] == ["刘洋", "张丽"]
    assert AuditEntry.objects.filter(action="attendance_record").count() == 2
    # Another kind of session the same day is another attendance.
    r = post(client, ZHANG_ID, kind="screening", HTTP_HX_REQUEST="true")
    assert (DAY, "") in sessions("张丽", "screening")
    assert Attendance.objects.filter(person__name="张丽").count() == 2


def test_an_education_row_key_names_its_stage(client, alice):
    # 赵婷's row on the education ledger is the newly-wed stage: no stage need be chosen.
    client.force_login(alice)
    r = post(client, key_of("education", "赵婷"), kind="education")
    assert r.status_code == 302
    assert sessions("赵婷", "education") == [(DAY, "newlywed")]
    # By ID number the stage must be chosen.
    r = post(client, WANG_ID, kind="education")
    assert r.status_code == 400
    assert "Choose the life stage of the education session." in r.content.decode()
    r = post(client, WANG_ID, kind="education", stage="menopause")
    assert sessions("王芳", "education") == [(DAY, "menopause")]


def test_a_person_outside_the_area_is_not_found(client, alice):
    # ben works in B: 王芳 of A is not in his area, by her key or by her ID number.
    ben = make_user("ben", Role.VILLAGE_WORKER, B)
    client.force_login(ben)
    r = post(client, key_of("checkup", "王芳"))
    assert r.status_code == 404
    assert "The person of this row key is not in your area." in r.content.decode()
    r = post(client, WANG_ID, HTTP_HX_REQUEST="true")
    assert r.status_code == 404
    assert "No person with ID number 410325********0041 lives in your area." in (r.content.decode())
    assert not Attendance.objects.exists()
    assert not Event.objects.filter(date=DAY).exists()
    assert not AuditEntry.objects.filter(action="attendance_record").exists()


def test_it_refuses_what_is_not_a_key_or_an_id_and_a_future_day(client, alice):
    client.force_login(alice)
    key = key_of("checkup", "王芳")
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    cases = [
        (tampered, DAY, "does not check: it was altered or mistyped"),
        ("王芳", DAY, "王芳 is neither a ledger row key nor an 18-character ID number."),
        ("410325199005050042", DAY, "check digit"),
        (WANG_ID, clock.today() + dt.timedelta(days=3), "is in the future"),
    ]
    for code, day, message in cases:
        r = post(client, code, day=day)
        assert r.status_code == 400, code
        assert message in r.content.decode(), code
    # A key of a row that is not a person (a benefit enrolment).
    enrolment = build("benefits", A, MARCH).rows[0].key
    r = post(client, enrolment)
    assert r.status_code == 400
    assert "names a benefit enrolment, not a person" in r.content.decode()
    assert not Attendance.objects.exists()


def test_the_register_refuses_a_session_after_death(client, alice):
    # 胡德全 died on 2026-03-12: no session can be recorded for him afterwards.
    client.force_login(alice)
    r = post(client, "410325194002020354")
    assert r.status_code == 400
    assert r.context["error"] == "the person died on 2026-03-12; no checkup event can follow"
    assert not Attendance.objects.exists()
    assert not sessions("胡德全", "checkup")


def test_the_session_day_stays_filled_in_chinese(client, alice):
    # A date input takes only the ISO form: in Chinese (dates shown 2026/11/20) the
    # session's day must still be value="2026-11-20", or the scanner's Enter sends nothing.
    client.force_login(alice)
    r = client.get(f"{URL}?kind=checkup&date={DAY.isoformat()}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = r.content.decode()
    assert "签到" in page or "登记" in page
    assert 'type="date" name="date" value="2026-11-20"' in page
