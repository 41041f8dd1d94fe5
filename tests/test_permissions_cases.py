"""Who may open which petition page and take which action: every URL, for every role.

The county, accounts and case are those of ``test_cases_web`` (alice and bob: village A;
charlie: village C in the other township; tom: the township of A; ada: the county).
The case concerns village A and is assigned to alice.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from helpers import not_sent_to_log_in, statuses, user_without_area
from test_cases import county  # noqa: F401  (a fixture)
from test_cases_web import petition  # noqa: F401  (a fixture)

from taizhang.audit.models import AuditEntry
from taizhang.cases.models import Case

pytestmark = pytest.mark.django_db

USERS = ("alice", "bob", "charlie", "tom", "ada")


def urls(p) -> dict[str, str]:
    pk = p.case.pk
    return {
        "home": reverse("cases:home"),
        "new": reverse("cases:new"),
        "overdue": reverse("cases:overdue"),
        "report": reverse("cases:report"),
        "detail": reverse("cases:detail", args=[pk]),
        "act": reverse("cases:act", args=[pk, "reply"]),  # GET: back to the case
        "attachment": reverse("cases:attachment", args=[pk, p.letter.pk]),
    }


INSIDE = {
    "home": 200,
    "new": 200,
    "overdue": 200,
    "report": 200,
    "detail": 200,
    "act": 302,
    "attachment": 200,
}
OUTSIDE = INSIDE | {"detail": 404, "act": 404, "attachment": 404}
EXPECTED = {"alice": INSIDE, "bob": INSIDE, "charlie": OUTSIDE, "tom": INSIDE, "ada": INSIDE}


@pytest.mark.parametrize("username", USERS)
def test_it_answers_every_url_for_each_role(client, petition, username):  # noqa: F811
    assert statuses(client, getattr(petition, username), urls(petition)) == EXPECTED[username]


def test_it_sends_anonymous_visitors_to_log_in(client, petition):  # noqa: F811
    assert not_sent_to_log_in(client, urls(petition).values()) == []


def test_it_refuses_a_user_without_an_area(client, petition, django_user_model):  # noqa: F811
    nobody = user_without_area(django_user_model)
    assert set(statuses(client, nobody, urls(petition)).values()) == {403}


# Who may POST each action on the assigned case (whatever its state allows):
# 403 = in the area but not theirs to take; 404 = outside the area.
ACTION_POSTS = {
    "assign": {"alice": 403, "bob": 403, "charlie": 404, "tom": 302, "ada": 302},
    "reply": {"alice": 302, "bob": 403, "charlie": 404, "tom": 403, "ada": 403},
    "note": {"alice": 302, "bob": 403, "charlie": 404, "tom": 302, "ada": 302},
}
FORMS = {
    "assign": {"assign-handler": "tom", "assign-on": "2026-03-03"},
    "reply": {"reply-text": "已补发", "reply-on": "2026-03-03"},
    "note": {"note-text": "电话联系", "note-on": "2026-03-03"},
}


@pytest.mark.parametrize("action", sorted(ACTION_POSTS))
@pytest.mark.parametrize("username", USERS)
def test_it_lets_only_the_right_users_take_an_action(client, petition, action, username):  # noqa: F811
    client.force_login(getattr(petition, username))
    r = client.post(reverse("cases:act", args=[petition.case.pk, action]), FORMS[action])
    assert r.status_code == ACTION_POSTS[action][username]
    journaled = petition.case.journal.filter(action=action).count()
    # The fixture assigned the case once already.
    assert journaled == (1 if action == "assign" else 0) + (r.status_code == 302)


def test_it_refuses_charlie_a_case_of_another_township(client, petition):  # noqa: F811
    client.force_login(petition.charlie)
    assert [c.number for c in client.get(reverse("cases:home")).context["page"]] == []
    r = client.get(reverse("cases:overdue"), {"org": "410325100", "as_of": "2026-05-01"})
    assert r.status_code == 400  # not among charlie's org units
    r = client.get(reverse("cases:report"), {"org": "410325100", "period": "2026"})
    assert r.status_code == 400
    r = client.post(
        reverse("cases:act", args=[petition.case.pk, "close"]), {"close-on": "2026-03-03"}
    )
    assert r.status_code == 404
    assert Case.objects.get().state == "assigned"


def test_it_does_not_audit_a_page_that_was_refused(client, petition):  # noqa: F811
    client.force_login(petition.charlie)
    client.get(reverse("cases:detail", args=[petition.case.pk]))
    client.get(reverse("cases:attachment", args=[petition.case.pk, petition.letter.pk]))
    assert not AuditEntry.objects.filter(action__in=["case_view", "case_download"]).exists()


def test_an_unknown_action_is_not_found(client, petition):  # noqa: F811
    client.force_login(petition.tom)
    assert client.post(reverse("cases:act", args=[petition.case.pk, "delete"])).status_code == 404
