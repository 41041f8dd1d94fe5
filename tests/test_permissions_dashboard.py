"""Who may see which dashboard, org-unit page and list of persons: each user their own
subtree, nothing outside it (404, as if it did not exist), nobody anything without logging in.

Users on the hand-built county (tests/data/handbuilt): alice, village worker of A1;
bob, township statistician of 城关镇 (A1 and A2); charlie, village worker of B1 in
田湖镇 ("must see nothing" of A); dana, county administrator.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from taizhang.accounts.models import Profile, Role
from taizhang.register.models import Person
from taizhang.web.views.dashboard import CARD_CODES, SECTIONS

COUNTY, T100, T101 = "410325", "410325100", "410325101"
A1, A2, B1, B2 = "410325100201", "410325100202", "410325101201", "410325101202"
UNITS = [COUNTY, T100, A1, A2, T101, B1, B2]

AREAS = {
    "alice": {A1},
    "bob": {T100, A1, A2},
    "charlie": {B1},
    "dana": set(UNITS),
}
ROOTS = {"alice": A1, "bob": T100, "charlie": B1, "dana": COUNTY}
ROLES = {
    "alice": Role.VILLAGE_WORKER,
    "bob": Role.TOWNSHIP_STATISTICIAN,
    "charlie": Role.VILLAGE_WORKER,
    "dana": Role.COUNTY_ADMIN,
}


@pytest.fixture
def county(hand_built_county):
    for name, root in ROOTS.items():
        user = get_user_model().objects.create_user(name, password="pw-" + name)
        Profile.objects.create(user=user, org_unit_id=root, role=ROLES[name])


def urls_of(org: str) -> list[str]:
    """Every dashboard, org-unit and records URL about one org unit."""
    urls = [f"/?org={org}&period=2024", f"/org/{org}/?period=2024"]
    urls += [f"/?org={org}&period=2024&section={s}" for s in SECTIONS]
    for code in CARD_CODES:
        urls.append(f"/figures/{code}/{org}/2024/numerator/")
    urls += [
        f"/figures/CBR/{org}/2024/denominator/",
        f"/figures/MWRA_SHARE/{org}/2024S1/denominator/",
    ]
    return urls


def log_in(client, name: str):
    assert client.login(username=name, password="pw-" + name)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["alice", "bob", "charlie", "dana"])
def test_it_shows_every_page_inside_the_area_and_nothing_outside(client, county, name):
    log_in(client, name)
    wrong = []
    for org in UNITS:
        expected = 200 if org in AREAS[name] else 404
        for url in urls_of(org):
            status = client.get(url).status_code
            if status != expected:
                wrong.append((url, status, expected))
    assert wrong == []


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["alice", "bob", "charlie", "dana"])
def test_it_shows_the_users_own_dashboard_without_asking(client, county, name):
    response = log_in(client, name).get("/")
    assert response.status_code == 200
    assert response.context["unit"].code == ROOTS[name]


@pytest.mark.django_db
def test_it_lists_none_of_as_persons_to_charlie(client, county):
    a_persons = set(
        Person.objects.filter(current_village__startswith=T100).values_list("pk", flat=True)
    )
    a_names = set(
        Person.objects.filter(current_village__startswith=T100).values_list("name", flat=True)
    )
    log_in(client, "charlie")
    listed = set()
    for url in urls_of(B1):
        response = client.get(url)
        assert response.status_code == 200, url
        for row in response.context.get("rows") or []:
            if "pk" in row:
                listed.add(row["pk"])
        text = response.content.decode()
        assert not [n for n in a_names if n in text], url
    assert listed  # the lists were not empty
    assert listed.isdisjoint(a_persons)


@pytest.mark.django_db
def test_it_answers_charlie_404_on_as_pages(client, county):
    log_in(client, "charlie")
    assert client.get(f"/org/{A1}/").status_code == 404
    assert client.get(f"/figures/BIRTHS/{A1}/2024/numerator/").status_code == 404
    assert client.get(f"/figures/BIRTHS/{T100}/2024/numerator/").status_code == 404
    assert client.get("/", {"org": A1}).status_code == 404
    # Even a bad period does not tell charlie that A1 exists.
    assert client.get(f"/figures/XYZ/{A1}/nonsense/numerator/").status_code == 404


@pytest.mark.django_db
def test_it_answers_404_for_an_org_unit_that_does_not_exist(client, county):
    log_in(client, "dana")
    assert client.get("/org/410325999999/").status_code == 404
    assert client.get("/figures/CBR/410325999/2024/numerator/").status_code == 404


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_log_in(client, county):
    for url in [*urls_of(COUNTY), "/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


@pytest.mark.django_db
def test_it_refuses_a_user_without_an_area(client, county):
    get_user_model().objects.create_user("eve", password="pw-eve")
    log_in(client, "eve")
    assert client.get("/").status_code == 403
    assert client.get(f"/org/{COUNTY}/").status_code == 403
    assert client.get(f"/figures/CBR/{COUNTY}/2024/numerator/").status_code == 403
