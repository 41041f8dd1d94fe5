"""Who may open the data-quality pages, download the audit and type in report forms:
every URL, for every role.

The register is the hand-built county (``hand_built_county``); the accounts are those of
``test_permissions_reports``: alice and bob work in village A (东街村), charlie in village
C (田湖村, the other township), tom is the statistician of A's township (城关镇), ada the
county administrator. The URLs ask about village A, or about A inside its township.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from helpers import area_users, not_sent_to_log_in, statuses, user_without_area

from taizhang.audit.models import AuditEntry
from taizhang.quality.models import ReportedFigure

pytestmark = pytest.mark.django_db

USERS = ("alice", "bob", "charlie", "tom", "ada")
COUNTY, T100 = "410325", "410325100"
A, A2, C = "410325100201", "410325100202", "410325101201"


@pytest.fixture
def area(hand_built_county):
    return area_users(a=A, c=C, township=T100, county=COUNTY)


def query(**params) -> str:
    return "?" + "&".join(f"{k}={v}" for k, v in params.items())


def urls() -> dict[str, str]:
    home = reverse("quality:home")
    drill = reverse("quality:check", args=["REPORTED_VS_RECORDED"])
    return {
        "home": home,
        "scorecard": home + query(org=A, period="2024"),
        "check": drill + query(org=A, period="2024"),
        "check_in_township": drill + query(org=T100, unit=A, period="2024"),
        "reports": reverse("quality:reports") + query(org=A, period="202403"),
        "pdf": reverse("quality:download") + query(org=A, period="2024"),
    }


# Village A is in everyone's area but charlie's, who gets 404 for it (as if it did not
# exist); his own page he may open. The township's audit is tom's and ada's only.
IN_AREA = {
    "home": 200,
    "scorecard": 200,
    "check": 200,
    "check_in_township": 404,
    "reports": 200,
    "pdf": 200,
}
EXPECTED = {
    "alice": IN_AREA,
    "bob": IN_AREA,
    "charlie": {name: 200 if name == "home" else 404 for name in IN_AREA},
    "tom": IN_AREA | {"check_in_township": 200},
    "ada": IN_AREA | {"check_in_township": 200},
}


@pytest.mark.parametrize("username", USERS)
def test_it_answers_every_url_for_each_role(client, area, username):
    assert statuses(client, getattr(area, username), urls()) == EXPECTED[username]


def test_it_sends_anonymous_visitors_to_log_in(client, area):
    assert not_sent_to_log_in(client, urls().values()) == []


def test_it_refuses_a_user_without_an_area(client, area, django_user_model):
    nobody = user_without_area(django_user_model)
    assert set(statuses(client, nobody, urls()).values()) == {403}


def test_it_shows_each_user_the_units_of_their_own_area(client, area):
    client.force_login(area.tom)
    rows = client.get(reverse("quality:home")).context["rows"]
    assert [r["org"] for r in rows] == [A, A2, T100]
    client.force_login(area.ada)
    rows = client.get(reverse("quality:home")).context["rows"]
    assert [r["org"] for r in rows] == [T100, "410325101", COUNTY]
    client.force_login(area.alice)
    rows = client.get(reverse("quality:home")).context["rows"]
    assert [r["org"] for r in rows] == [A]


def test_only_users_of_the_area_may_type_in_its_report_form(client, area):
    form = {"org": A, "period": "202403", "births": "1"}
    client.force_login(area.charlie)
    assert client.post(reverse("quality:reports"), form).status_code == 404
    assert not ReportedFigure.objects.exists()
    client.force_login(area.alice)
    r = client.post(reverse("quality:reports"), form)
    assert r.status_code == 302
    figure = ReportedFigure.objects.get()
    assert (figure.org_id, figure.item, figure.value, figure.recorded_by, figure.source) == (
        A,
        "births",
        1,
        area.alice,
        "web",
    )
    entry = AuditEntry.objects.get(action="reports_record")
    assert (entry.user, entry.org_code) == (area.alice, A)
    # The county is not a reporting unit: there is no form to type in.
    client.force_login(area.ada)
    r = client.post(reverse("quality:reports"), form | {"org": COUNTY})
    assert r.status_code == 404


def test_it_audits_each_download(client, area):
    client.force_login(area.tom)
    r = client.get(urls()["pdf"])
    assert r["Content-Disposition"] == 'attachment; filename="audit-410325100201-2024.pdf"'
    assert r.content.startswith(b"%PDF")
    entry = AuditEntry.objects.get(action="audit_download")
    assert (entry.user, entry.object_id, entry.org_code) == (area.tom, "2024", A)
    assert entry.detail == {"format": "pdf"}
    # Looking at the scorecard is not a download.
    client.get(urls()["scorecard"])
    assert AuditEntry.objects.filter(action="audit_download").count() == 1
