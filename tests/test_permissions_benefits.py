"""Who may open which benefits page and who may verify: every URL, for every role.

The register and users are those of ``test_benefits``; the enrolments those of
``test_benefits_web.listed``: 周秀英 (proposed) and 赵桂英 (enrolled, with payments) in
village A of 城关镇; 郑淑芬 (proposed) in village C of 田湖镇.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from test_benefits import county  # noqa: F401  (a fixture)
from test_benefits_web import listed  # noqa: F401  (a fixture)

from taizhang.audit.models import AuditEntry
from taizhang.benefits.models import Enrolment, Payment

pytestmark = pytest.mark.django_db

USERS = ("alice", "bob", "charlie", "tom", "ada")


def pages(p) -> dict[str, str]:
    """Every GET page of the app, about village A's enrolments."""
    return {
        "home": reverse("benefits:home"),
        "enrolment": reverse("benefits:enrolment", args=[p.two_d_e.pk]),
        "month": reverse("benefits:month") + "?month=202601",
        "arrears": reverse("benefits:arrears"),
        "report": reverse("benefits:report") + "?period=2026",
    }


def posts(p) -> dict[str, tuple[str, dict]]:
    """Every POST of the app (the verifying ones), about village A's records."""
    return {
        "propose": (reverse("benefits:propose"), {"scheme": "reward", "month": "202603"}),
        "confirm": (reverse("benefits:confirm", args=[p.dies_e.pk]), {}),
        "reject": (reverse("benefits:reject", args=[p.dies_e.pk]), {"reason": "moved away"}),
        "withdraw": (reverse("benefits:withdraw", args=[p.two_d_e.pk]), {}),
        "run": (reverse("benefits:run"), {"month": "202603"}),
        "record_payment": (
            reverse("benefits:record_payment", args=[p.payment.pk]),
            {"status": "paid", "date": "2026-01-31"},
        ),
    }


GET_EXPECTED = {
    "alice": {"home": 200, "enrolment": 200, "month": 200, "arrears": 200, "report": 200},
    "bob": {"home": 200, "enrolment": 200, "month": 200, "arrears": 200, "report": 200},
    "charlie": {"home": 200, "enrolment": 404, "month": 200, "arrears": 200, "report": 200},
    "tom": {"home": 200, "enrolment": 200, "month": 200, "arrears": 200, "report": 200},
    "ada": {"home": 200, "enrolment": 200, "month": 200, "arrears": 200, "report": 200},
}
# 302: done, back to a page. Village workers may not verify (403); charlie does not even
# see A's enrolments and payments (404), and his own area is C (propose, run: 403 first).
_VILLAGE = {k: 403 for k in ("propose", "confirm", "reject", "withdraw", "run", "record_payment")}
_OUTSIDE = {**_VILLAGE, "confirm": 404, "reject": 404, "withdraw": 404, "record_payment": 404}
_VERIFIER = {k: 302 for k in _VILLAGE}
POST_EXPECTED = {
    "alice": _VILLAGE,
    "bob": _VILLAGE,
    "charlie": _OUTSIDE,
    "tom": _VERIFIER,
    "ada": _VERIFIER,
}


@pytest.mark.parametrize("username", USERS)
def test_it_answers_every_page_for_each_role(client, listed, username):  # noqa: F811
    client.force_login(getattr(listed, username))
    got = {name: client.get(url).status_code for name, url in pages(listed).items()}
    assert got == GET_EXPECTED[username]


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("action", list(_VILLAGE))
def test_it_lets_only_verifiers_post(client, listed, username, action):  # noqa: F811
    client.force_login(getattr(listed, username))
    url, data = posts(listed)[action]
    assert client.post(url, data).status_code == POST_EXPECTED[username][action]


def test_it_changes_nothing_on_a_refused_post(client, listed):  # noqa: F811
    for user in (listed.alice, listed.charlie):
        client.force_login(user)
        for url, data in posts(listed).values():
            client.post(url, data)
    assert Enrolment.objects.get(pk=listed.dies_e.pk).state == "proposed"
    assert Enrolment.objects.get(pk=listed.two_d_e.pk).state == "enrolled"
    assert Payment.objects.get(pk=listed.payment.pk).status == "due"
    assert not Enrolment.objects.filter(start_month=202603, scheme="reward").exists()


def test_it_refuses_get_on_a_verifying_url(client, listed):  # noqa: F811
    client.force_login(listed.ada)
    for url, _data in posts(listed).values():
        assert client.get(url).status_code == 405


def test_it_sends_anonymous_visitors_to_log_in(client, listed):  # noqa: F811
    for url in [*pages(listed).values(), *(u for u, _d in posts(listed).values())]:
        r = client.get(url)
        assert r.status_code == 302
        assert r.url.startswith(reverse("login"))


def test_it_refuses_a_user_without_an_area(client, listed, django_user_model):  # noqa: F811
    client.force_login(django_user_model.objects.create(username="nobody"))
    assert {client.get(url).status_code for url in pages(listed).values()} == {403}


def test_it_does_not_audit_a_refused_view(client, listed):  # noqa: F811
    client.force_login(listed.charlie)
    client.get(reverse("benefits:enrolment", args=[listed.two_d_e.pk]))
    assert not AuditEntry.objects.filter(action="enrolment_view", object_type="enrolment").exists()


def test_it_never_lists_another_townships_records_to_tom(client, listed):  # noqa: F811
    client.force_login(listed.tom)
    r = client.get(reverse("benefits:home"))
    assert listed.special_e.pk not in [e.pk for e in r.context["page"]]
    assert client.get(reverse("benefits:enrolment", args=[listed.special_e.pk])).status_code == 404
    r = client.get(reverse("benefits:report"), {"org": "410325101", "period": "2026"})
    assert r.context["rows"] == [] and "org" in r.context["form"].errors
