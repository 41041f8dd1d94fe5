"""The audit browser: a county administrator's view of the trail of their own subtree.

The register and the users are those of ``test_people``; the entries are written here
with ``taizhang.audit.actions.record``, the one function every action calls.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from test_people import WOMAN, people  # noqa: F401  (people is a fixture)

from taizhang.accounts.models import Profile, Role
from taizhang.audit.actions import record
from taizhang.audit.models import AuditEntry
from taizhang.orgunits.models import OrgUnit

pytestmark = pytest.mark.django_db

A, C = "410325100201", "410325101201"
ELSEWHERE = "410326100201"  # a village of another county


@pytest.fixture
def trail(people, django_user_model):  # noqa: F811
    """Entries of the county, and of another county the administrator must not see."""
    AuditEntry.objects.all().delete()  # the imports' own entries: no place, no area user
    county = OrgUnit.objects.create(code="410326", name="汝阳县", level=3)
    zed = django_user_model.objects.create(username="zed")
    Profile.objects.create(user=zed, role=Role.COUNTY_ADMIN, org_unit=county)
    woman, man = people.woman.pk, people.man.pk

    def entry(action, user, org="", obj="", day=None, **detail):
        e = record(
            action,
            user=user,
            object_type="person" if obj else "",
            object_id=obj,
            org_code=org,
            source="10.0.0.7",
            **detail,
        )
        if day:
            at = dt.datetime.combine(day, dt.time(9), timezone.get_current_timezone())
            AuditEntry.objects.filter(pk=e.pk).update(at=at)
        return e.pk

    return {
        "alice_login": entry("login", people.alice, day=dt.date(2024, 3, 1)),
        "alice_view": entry("person_view", people.alice, A, woman, dt.date(2024, 3, 1)),
        "bob_view": entry("person_view", people.bob, A, man, dt.date(2024, 3, 2)),
        "bob_record": entry(
            "event_record", people.bob, A, woman, dt.date(2024, 3, 3), kind="checkup"
        ),
        "charlie_view": entry(
            "person_view", people.charlie, C, people.other.pk, dt.date(2024, 3, 4)
        ),
        "zed_login": entry("login", zed, day=dt.date(2024, 3, 1)),
        "zed_view": entry("person_view", zed, ELSEWHERE, "999", dt.date(2024, 3, 2)),
    }


def listed(client, viewer, **params) -> list[int]:
    client.force_login(viewer)
    r = client.get(reverse("audit"), params)
    assert r.status_code == 200
    return [e.pk for e in r.context["page"].rows] if r.context["page"] else []


def test_it_lists_the_subtree_newest_first(client, people, trail):  # noqa: F811
    assert listed(client, people.ada) == [
        trail["charlie_view"],
        trail["bob_record"],
        trail["bob_view"],
        trail["alice_view"],
        trail["alice_login"],
    ]


def test_it_filters_by_action(client, people, trail):  # noqa: F811
    assert listed(client, people.ada, action="login") == [trail["alice_login"]]


def test_it_filters_by_user(client, people, trail):  # noqa: F811
    assert listed(client, people.ada, user="bob") == [trail["bob_record"], trail["bob_view"]]


def test_it_filters_by_date_range(client, people, trail):  # noqa: F811
    got = listed(client, people.ada, date_from="2024-03-02", date_to="2024-03-03")
    assert got == [trail["bob_record"], trail["bob_view"]]


def test_it_filters_by_person_number_or_id_number(client, people, trail):  # noqa: F811
    expected = [trail["bob_record"], trail["alice_view"]]
    assert listed(client, people.ada, person=str(people.woman.pk)) == expected
    # An ID number is posted from the filter box and answered at the address of the
    # person's register number.
    r = client.post(reverse("audit"), {"person": WOMAN, "action": ""})
    assert r.url == f"{reverse('audit')}?person={people.woman.pk}"
    assert [e.pk for e in client.get(r.url).context["page"].rows] == expected


def test_it_says_what_is_wrong_with_a_bad_id_number(client, people, trail):  # noqa: F811
    client.force_login(people.ada)
    r = client.post(reverse("audit"), {"person": WOMAN[:-1] + ("0" if WOMAN[-1] != "0" else "1")})
    [message] = r.context["form"].errors["person"]
    assert message.startswith("the check digit is wrong (expected ")
    assert r.context["page"] is None


def test_it_refuses_an_end_before_the_start(client, people, trail):  # noqa: F811
    client.force_login(people.ada)
    r = client.get(reverse("audit"), {"date_from": "2024-03-03", "date_to": "2024-03-01"})
    assert list(r.context["form"].errors) == ["date_to"]


def test_it_shows_another_county_only_to_its_own_administrator(client, people, trail):  # noqa: F811
    zed = AuditEntry.objects.get(pk=trail["zed_login"]).user
    assert listed(client, zed) == [trail["zed_view"], trail["zed_login"]]


def test_it_pages_fifty_at_a_time(client, people, trail):  # noqa: F811
    for _ in range(50):
        record("person_view", user=people.bob, object_type="person", object_id="1", org_code=A)
    assert len(listed(client, people.ada)) == 50
    assert len(listed(client, people.ada, page=2)) == 5
    client.force_login(people.ada)
    assert client.get(reverse("audit")).context["page"].paginator.count == 55


@pytest.mark.parametrize("username", ["alice", "bob", "charlie", "tom"])
def test_it_is_forbidden_to_everyone_else(client, people, trail, username):  # noqa: F811
    client.force_login(getattr(people, username))
    assert client.get(reverse("audit")).status_code == 403
