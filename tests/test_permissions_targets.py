"""Who may open the targets page and set or withdraw a target: every URL, for every role.

The register is the hand-built county (``hand_built_county``); the accounts mirror
``test_cases``: alice and bob work in village A (东街村), charlie in village C (田湖村, the
other township), tom is the statistician of A's township (城关镇), ada the county
administrator. Targets: the county's CPR ≥ 80 and 城关镇's own CPR ≥ 60.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from helpers import area_users, not_sent_to_log_in, statuses, user_without_area

from taizhang.accounts.models import Profile, Role
from taizhang.audit.models import AuditEntry
from taizhang.targets import actions
from taizhang.targets.models import Target, TargetChange

pytestmark = pytest.mark.django_db

USERS = ("alice", "bob", "charlie", "tom", "ada")
COUNTY, T100, T101 = "410325", "410325100", "410325101"
A, C = "410325100201", "410325101201"


@pytest.fixture
def area(hand_built_county):
    users = area_users(a=A, c=C, township=T100, county=COUNTY)
    users.county_cpr, _ = actions.set_target(
        indicator="CPR", org_code=COUNTY, year=2024, value="80"
    )
    users.township_cpr, _ = actions.set_target(
        indicator="CPR", org_code=T100, year=2024, value="60"
    )
    return users


def urls(a) -> dict[str, str]:
    return {
        "home": reverse("targets:home") + "?year=2024",
        "set": reverse("targets:set"),
        "withdraw": reverse("targets:withdraw", args=[a.township_cpr.pk]),
    }


# GET: everyone in an area sees the page; set and withdraw are POST-only for county
# administrators (405 for a GET) and refused to everyone else (403).
NOT_ADMIN = {"home": 200, "set": 403, "withdraw": 403}
EXPECTED = {
    "alice": NOT_ADMIN,
    "bob": NOT_ADMIN,
    "charlie": NOT_ADMIN,
    "tom": NOT_ADMIN,
    "ada": {"home": 200, "set": 405, "withdraw": 405},
}
FORM = {"indicator": "SRB", "org": T101, "year": "2024", "value": "107", "direction": ""}


@pytest.mark.parametrize("username", USERS)
def test_it_answers_every_url_for_each_role(client, area, username):
    assert statuses(client, getattr(area, username), urls(area)) == EXPECTED[username]


@pytest.mark.parametrize("username", USERS)
def test_it_lets_only_the_county_administrator_post(client, area, username):
    client.force_login(getattr(area, username))
    posted = client.post(urls(area)["set"], FORM).status_code
    withdrawn = client.post(urls(area)["withdraw"]).status_code
    admin = username == "ada"
    assert (posted, withdrawn) == ((302, 302) if admin else (403, 403))
    assert Target.objects.filter(indicator="SRB").exists() is admin
    area.township_cpr.refresh_from_db()
    assert area.township_cpr.active is not admin


def test_it_sends_anonymous_visitors_to_log_in(client, area):
    assert not_sent_to_log_in(client, urls(area).values()) == []


def test_it_refuses_a_user_without_an_area(client, area, django_user_model):
    nobody = user_without_area(django_user_model)
    assert set(statuses(client, nobody, urls(area)).values()) == {403}


def test_it_answers_404_for_a_target_outside_the_administrators_area(client, area):
    # An administrator of the other township only (田湖镇) cannot withdraw 城关镇's target,
    # nor the county's above it, nor set one for 城关镇 (not among the form's choices).
    other = get_user_model().objects.create(username="otto")
    Profile.objects.create(user=other, role=Role.COUNTY_ADMIN, org_unit_id=T101)
    client.force_login(other)
    for target in (area.township_cpr, area.county_cpr):
        assert client.post(reverse("targets:withdraw", args=[target.pk])).status_code == 404
    r = client.post(reverse("targets:set"), FORM | {"org": T100})
    assert r.status_code == 400
    assert TargetChange.objects.filter(kind="withdraw").count() == 0
    assert not Target.objects.filter(indicator="SRB").exists()


def test_it_shows_the_county_the_townships_and_a_village_only_its_own_row(client, area):
    client.force_login(area.ada)
    rows = client.get(urls(area)["home"]).context["rows"]
    # CPR 2024: 城关镇 60 ≥ its own 60 ✓, 田湖镇 80 ≥ the county's 80 ✓: tied on 1 target
    # attained, both rank 1, in name order (城 before 田).
    assert [(r.org, r.score, r.rank) for r in rows] == [(T100, 1, 1), (T101, 1, 1)]
    client.force_login(area.tom)
    assert [r.org for r in client.get(urls(area)["home"]).context["rows"]] == [T100]
    client.force_login(area.alice)
    assert [r.org for r in client.get(urls(area)["home"]).context["rows"]] == [A]
    client.force_login(area.charlie)
    assert [r.org for r in client.get(urls(area)["home"]).context["rows"]] == [C]


def test_it_audits_a_target_set_on_the_page(client, area):
    client.force_login(area.ada)
    r = client.post(urls(area)["set"], FORM)
    assert r.status_code == 302
    entry = AuditEntry.objects.get(action="target_set", detail__indicator="SRB")
    assert (entry.user, entry.org_code, entry.source, entry.detail["new"]) == (
        area.ada,
        T101,
        "web",
        "≤ 107.00",
    )


def test_it_shows_values_targets_and_marks_on_the_page(client, area):
    actions.set_target(indicator="FACILITY_DELIVERY", org_code=COUNTY, year=2024, value="90")
    client.force_login(area.ada)
    html = client.get(urls(area)["home"]).content.decode()
    # 城关镇 FACILITY_DELIVERY 75.0 against ≥ 90: ✗; 田湖镇 100.0: ✓.
    assert 'data-org="410325100" data-score="1"' in html
    assert 'data-org="410325101" data-score="2"' in html
    assert 'data-indicator="FACILITY_DELIVERY" data-attained="no"' in html
    assert "≥ 90.0" in html


def test_it_shows_the_reason_a_target_was_refused(client, area):
    client.force_login(area.ada)
    r = client.post(urls(area)["set"], FORM | {"value": "1.234"})
    assert r.status_code == 400
    assert "1.234 has more than 2 decimals" in r.content.decode()
    assert not Target.objects.filter(indicator="SRB").exists()
