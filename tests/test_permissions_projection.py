"""Who may open the projection page, and for which org units: every URL, for every role.

The register is the hand-built county (``hand_built_county``); the accounts are those of
``test_permissions_reports``: alice and bob work in village A (东街村, township 城关镇),
charlie in village C (田湖村, the other township 田湖镇), tom is the statistician of
城关镇, ada the county administrator. An org unit outside a user's area answers 404, as if
it did not exist.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from helpers import area_users, not_sent_to_log_in, statuses, user_without_area

pytestmark = pytest.mark.django_db

USERS = ("alice", "bob", "charlie", "tom", "ada")
COUNTY, T100, T101 = "410325", "410325100", "410325101"
A, C = "410325100201", "410325101201"


@pytest.fixture
def area(hand_built_county):
    return area_users(a=A, c=C, township=T100, county=COUNTY)


def urls() -> dict[str, str]:
    home = reverse("projection:home")
    return {
        "home": home,
        "county": f"{home}?org={COUNTY}&years=5",
        "township": f"{home}?org={T100}&years=5",
        "other_township": f"{home}?org={T101}&years=5",
        "village": f"{home}?org={A}&years=5",
    }


EXPECTED = {
    "alice": {"home": 200, "county": 404, "township": 404, "other_township": 404, "village": 200},
    "bob": {"home": 200, "county": 404, "township": 404, "other_township": 404, "village": 200},
    "charlie": {
        "home": 200, "county": 404, "township": 404, "other_township": 404, "village": 404,
    },
    "tom": {"home": 200, "county": 404, "township": 200, "other_township": 404, "village": 200},
    "ada": {"home": 200, "county": 200, "township": 200, "other_township": 200, "village": 200},
}  # fmt: skip


@pytest.mark.parametrize("username", USERS)
def test_it_answers_every_url_for_each_role(client, area, username):
    assert statuses(client, getattr(area, username), urls()) == EXPECTED[username]


def test_it_sends_anonymous_visitors_to_log_in(client, area):
    assert not_sent_to_log_in(client, urls().values()) == []


def test_it_refuses_a_user_without_an_area(client, area, django_user_model):
    nobody = user_without_area(django_user_model)
    assert set(statuses(client, nobody, urls()).values()) == {403}


def test_it_offers_the_county_and_the_townships_of_the_users_area(client, area):
    offered = {}
    for name in ("ada", "tom", "alice"):
        client.force_login(getattr(area, name))
        offered[name] = [u.code for u in client.get(urls()["home"]).context["units"]]
    # The county and its townships; a township alone (not its villages); a village
    # worker's own village.
    assert offered == {"ada": [COUNTY, T100, T101], "tom": [T100], "alice": [A]}
