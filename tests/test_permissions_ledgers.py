"""Who may open the ledger pages, print ledgers, return them and check people in: every URL,
for every role.

The register is the hand-built county (``hand_built_county``); alice and bob work in
village A (东街村), charlie in village C (田湖村, the other township), tom is the
statistician of A's township (城关镇), ada the county administrator. The URLs ask for
village A's ledgers of March 2024.

Printing: the check-up ledger prints ID and phone numbers in full, so only those who may
see them print it — A's own workers and the county administrator; the township's
statistician is refused (403). The report-forms ledger prints counts only: anyone whose
area holds A prints it.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from helpers import area_users

from taizhang.ledgers.models import LedgerFile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir")]

USERS = ("alice", "bob", "charlie", "tom", "ada")
COUNTY, T100 = "410325", "410325100"
A, C = "410325100201", "410325101201"
MONTH = "202403"


@pytest.fixture
def area(hand_built_county):
    return area_users(a=A, c=C, township=T100, county=COUNTY)


def urls() -> dict[str, str]:
    home = reverse("ledgers:home")
    return {
        "home": home,
        "overview": f"{home}?month={MONTH}&org={T100}",
        "village": reverse("ledgers:village", args=[A, MONTH]),
        "print_ids": reverse("ledgers:download", args=[A, MONTH, "checkup", "xlsx"]),
        "print_counts": reverse("ledgers:download", args=[A, MONTH, "reports", "csv"]),
        "check_in": reverse("ledgers:check_in"),
    }


IN_AREA = {
    "home": 200,
    "overview": 404,  # the township lies above a village worker's area
    "village": 200,
    "print_ids": 200,
    "print_counts": 200,
    "check_in": 200,
    "return": 400,  # allowed; the empty form is refused
}
EXPECTED = {
    "alice": IN_AREA,
    "bob": IN_AREA,
    "charlie": IN_AREA | {"village": 404, "print_ids": 404, "print_counts": 404, "return": 404},
    "tom": IN_AREA | {"overview": 200, "print_ids": 403},
    "ada": IN_AREA | {"overview": 200},
}


@pytest.mark.parametrize("username", USERS)
def test_it_answers_every_url_for_each_role(client, area, username):
    client.force_login(getattr(area, username))
    got = {name: client.get(url).status_code for name, url in urls().items()}
    got["return"] = client.post(reverse("ledgers:return", args=[A, MONTH])).status_code
    assert got == EXPECTED[username]


def test_it_sends_anonymous_visitors_to_log_in(client, area):
    for url in [*urls().values(), reverse("ledgers:return", args=[A, MONTH])]:
        r = client.get(url)
        assert r.status_code == 302
        assert r.url.startswith(reverse("login"))


def test_it_refuses_a_user_without_an_area(client, area, django_user_model):
    client.force_login(django_user_model.objects.create(username="nobody"))
    assert {client.get(url).status_code for url in urls().values()} == {403}
    assert client.post(reverse("ledgers:return", args=[A, MONTH])).status_code == 403


def test_only_printing_it_allows_is_archived(client, area):
    # tom's refused print leaves nothing; his print of the report forms is archived.
    client.force_login(area.tom)
    client.get(urls()["print_ids"])
    client.get(urls()["print_counts"])
    assert list(LedgerFile.objects.values_list("kind", "created_by__username")) == [
        ("reports", "tom")
    ]


def test_the_village_page_offers_printing_only_where_it_is_allowed(client, area):
    client.force_login(area.tom)
    r = client.get(urls()["village"])
    allowed = {s.ledger.kind: s.may_print for s in r.context["ledgers"]}
    # Family support, report forms and petitions print no ID numbers.
    assert sorted(k for k, ok in allowed.items() if ok) == ["cases", "family", "reports"]
    client.force_login(area.alice)
    r = client.get(urls()["village"])
    assert all(s.may_print for s in r.context["ledgers"])


def test_the_village_select_offers_only_the_users_area(client, area):
    client.force_login(area.tom)
    r = client.get(urls()["home"])
    assert [v.code for v in r.context["villages"]] == [A, "410325100202"]
    # A village outside the area, asked for by the select's parameter: not found.
    r = client.get(reverse("ledgers:home") + f"?village={C}&month={MONTH}")
    assert r.status_code == 404
