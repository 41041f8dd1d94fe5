"""Who may open which people and audit page: every URL, for every role.

The register and the users are those of ``test_people`` (alice and bob: village A;
charlie: village C in the other township; tom: the township of A; ada: the county).
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from helpers import not_sent_to_log_in, statuses
from test_people import MAN, WOMAN, people  # noqa: F401  (people is a fixture)

from taizhang.audit.models import AuditEntry
from taizhang.register.models import Event

pytestmark = pytest.mark.django_db

USERS = ("alice", "bob", "charlie", "tom", "ada")


def urls(p) -> dict[str, str]:
    """Every people and audit URL, about 王秀英 of village A."""
    return {
        "people": reverse("people"),
        "person": reverse("person", args=[p.woman.pk]),
        "record_event": reverse("record_event", args=[p.woman.pk, "checkup"]),
        "audit": reverse("audit"),
    }


# Status codes by user and page (GET).
EXPECTED = {
    "alice": {"people": 200, "person": 200, "record_event": 200, "audit": 403},
    "bob": {"people": 200, "person": 200, "record_event": 200, "audit": 403},
    "charlie": {"people": 200, "person": 404, "record_event": 404, "audit": 403},
    "tom": {"people": 200, "person": 200, "record_event": 200, "audit": 403},
    "ada": {"people": 200, "person": 200, "record_event": 200, "audit": 200},
}


@pytest.mark.parametrize("username", USERS)
def test_it_answers_every_url_for_each_role(client, people, username):  # noqa: F811
    assert statuses(client, getattr(people, username), urls(people)) == EXPECTED[username]


def test_it_sends_anonymous_visitors_to_log_in(client, people):  # noqa: F811
    assert not_sent_to_log_in(client, urls(people).values()) == []


def test_it_refuses_a_user_without_an_area(client, people, django_user_model):  # noqa: F811
    client.force_login(django_user_model.objects.create(username="nobody"))
    assert {name: client.get(url).status_code for name, url in urls(people).items()} == {
        "people": 403,
        "person": 403,
        "record_event": 403,
        "audit": 403,
    }


def test_it_never_shows_charlie_alices_people(client, people):  # noqa: F811
    client.force_login(people.charlie)
    for q in ("wxy", "王秀英", WOMAN, MAN, "13800001234", "H1", ""):
        r = client.post(reverse("people"), {"q": q}, follow=True)  # as the page searches
        assert all(row.pk not in (people.woman.pk, people.man.pk) for row in r.context["rows"])
    # Nor by the village filter: village A is not among charlie's choices.
    r = client.get(reverse("people"), {"village": "410325100201"})
    assert r.context["rows"] == []


def test_it_refuses_charlie_an_event_for_alices_people(client, people):  # noqa: F811
    client.force_login(people.charlie)
    r = client.post(
        reverse("record_event", args=[people.woman.pk, "checkup"]), {"date": "2024-03-03"}
    )
    assert r.status_code == 404
    assert not Event.objects.filter(kind="checkup").exists()


def test_it_does_not_audit_a_page_that_was_refused(client, people):  # noqa: F811
    client.force_login(people.charlie)
    client.get(reverse("person", args=[people.woman.pk]))
    assert not AuditEntry.objects.filter(action="person_view").exists()


def test_it_shows_the_township_only_its_own_villages(client, people):  # noqa: F811
    client.force_login(people.tom)
    assert client.get(reverse("person", args=[people.other.pk])).status_code == 404
    names = [row.name for row in client.get(reverse("people")).context["rows"]]
    assert sorted(names) == sorted(["王秀英", "李建国", "王小红"])


def test_it_refuses_the_filtered_audit_page_to_a_statistician(client, people):  # noqa: F811
    client.force_login(people.tom)
    assert client.get(reverse("audit"), {"action": "person_view"}).status_code == 403
