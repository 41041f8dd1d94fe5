"""Who may open the report forms and download them: every URL, for every role.

The register is the hand-built county (``hand_built_county``); the accounts mirror
``test_permissions_targets``: alice and bob work in village A (东街村), charlie in village C
(田湖村, the other township), tom is the statistician of A's township (城关镇), ada the
county administrator. The URLs ask for village A's reports.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from helpers import area_users, not_sent_to_log_in, statuses, user_without_area

from taizhang.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

USERS = ("alice", "bob", "charlie", "tom", "ada")
COUNTY, T100 = "410325", "410325100"
A, C = "410325100201", "410325101201"
MARCH = {"form": "population-change", "org": A, "period": "202403"}


@pytest.fixture
def area(hand_built_county):
    return area_users(a=A, c=C, township=T100, county=COUNTY)


def query(**params) -> str:
    return "?" + "&".join(f"{k}={v}" for k, v in params.items())


def urls() -> dict[str, str]:
    home, download = reverse("reports:home"), reverse("reports:download")
    return {
        "home": home,
        "report": home + query(**MARCH),
        "xlsx": download + query(**MARCH, format="xlsx"),
        "pdf": download + query(**MARCH, format="pdf"),
    }


# Village A is in everyone's area but charlie's, who gets 404 for it (as if it did not
# exist); the page itself (his own village by default) he may open.
IN_AREA = {"home": 200, "report": 200, "xlsx": 200, "pdf": 200}
EXPECTED = {
    "alice": IN_AREA,
    "bob": IN_AREA,
    "charlie": {"home": 200, "report": 404, "xlsx": 404, "pdf": 404},
    "tom": IN_AREA,
    "ada": IN_AREA,
}


@pytest.mark.parametrize("username", USERS)
def test_it_answers_every_url_for_each_role(client, area, username):
    assert statuses(client, getattr(area, username), urls()) == EXPECTED[username]


def test_it_sends_anonymous_visitors_to_log_in(client, area):
    assert not_sent_to_log_in(client, urls().values()) == []


def test_it_refuses_a_user_without_an_area(client, area, django_user_model):
    nobody = user_without_area(django_user_model)
    assert set(statuses(client, nobody, urls()).values()) == {403}


def test_it_offers_only_the_org_units_of_the_users_area(client, area):
    client.force_login(area.tom)
    units = [u.code for u in client.get(urls()["home"]).context["units"]]
    assert units == [T100, A, "410325100202"]


def test_it_shows_the_table_the_command_prints(client, area):
    # Village A in March 2024: nobody born, died or moved; START = END = 9 (P01..P09).
    client.force_login(area.alice)
    r = client.get(urls()["report"])
    html = r.content.decode()
    assert [row["label"] for row in r.context["rows"]][:2] == ["Population at start", "Live births"]
    assert r.context["columns"] == ["合计"]
    assert r.context["rows"][0]["cells"] == [9]
    assert 'data-report="population-change" data-org="410325100201"' in html
    assert "format=xlsx" in html and "format=pdf" in html


def test_it_says_what_is_wrong_with_the_period(client, area):
    client.force_login(area.ada)
    r = client.get(reverse("reports:home") + query(**MARCH | {"period": "2024"}))
    assert r.status_code == 400
    assert "made for a month (e.g. 202403), not for the year 2024" in r.content.decode()
    r = client.get(reverse("reports:download") + query(**MARCH, format="doc"))
    assert r.status_code == 400


def test_it_audits_each_download(client, area):
    client.force_login(area.tom)
    r = client.get(urls()["xlsx"])
    assert r["Content-Disposition"] == (
        'attachment; filename="population-change-410325100201-202403.xlsx"'
    )
    assert r.content[:2] == b"PK"
    entry = AuditEntry.objects.get(action="report_download")
    assert (entry.user, entry.object_id, entry.org_code) == (area.tom, "population-change", A)
    assert entry.detail == {"period": "202403", "format": "xlsx"}
    # Looking at the table is not a download.
    client.get(urls()["report"])
    assert AuditEntry.objects.filter(action="report_download").count() == 1
