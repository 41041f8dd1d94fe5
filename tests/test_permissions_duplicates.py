"""Who may open the duplicates page, see which pairs, merge and undo.

The register is that of ``test_duplicates`` (pairs: 李娜 ×2 in village A; 赵敏 ×2 and
张一 ×2 in village B of the same township; 王秀英 in A and in C of the other township).
alice and bob: village A; charlie: village C; tom: the township of A and B; ada: the
county.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from helpers import area_users, not_sent_to_log_in, statuses
from test_duplicates import COUNTY, LI_1, LI_2, T1, A, C, build

from taizhang.audit.models import AuditEntry
from taizhang.lib import crypto
from taizhang.register.models import Person, PersonMerge

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(tmp_path, taizhang):
    build(tmp_path, taizhang)
    return area_users(a=A, c=C, township=T1, county=COUNTY)


def pk_of(number: str) -> int:
    return Person.objects.get(id_index=crypto.blind_index(number)).pk


def pairs_seen(client, user) -> list[str]:
    client.force_login(user)
    r = client.get(reverse("duplicates"))
    assert r.status_code == 200
    return [f"{row.a.name}/{row.b.name}" for row in r.context["rows"]]


def test_each_user_sees_the_pairs_of_their_area_only(client, users):
    assert pairs_seen(client, users.alice) == ["李娜/李娜"]
    assert pairs_seen(client, users.charlie) == []
    assert pairs_seen(client, users.tom) == ["张一/张一", "赵敏/赵敏", "李娜/李娜"]
    assert pairs_seen(client, users.ada) == ["张一/张一", "王秀英/王秀英", "赵敏/赵敏", "李娜/李娜"]


def test_the_page_masks_the_id_numbers(client, users):
    client.force_login(users.ada)
    body = client.get(reverse("duplicates")).content.decode()
    assert LI_1 not in body and LI_2 not in body
    assert f"{LI_1[:6]}********{LI_1[-4:]}" in body


def test_everyone_with_an_area_opens_the_page(client, users):
    for name in ("alice", "bob", "charlie", "tom", "ada"):
        assert statuses(client, getattr(users, name), {"page": reverse("duplicates")}) == {
            "page": 200
        }


def test_it_sends_anonymous_visitors_to_log_in(client, users):
    urls = [
        reverse("duplicates"),
        reverse("merge_persons"),
        reverse("unmerge_persons", args=[1]),
    ]
    assert not_sent_to_log_in(client, urls) == []


def test_it_refuses_a_user_without_an_area(client, users, django_user_model):
    client.force_login(django_user_model.objects.create(username="nobody"))
    assert client.get(reverse("duplicates")).status_code == 403


def merge_form(keep: int, drop: int, **more) -> dict:
    return {"order": f"{keep}-{drop}", "reason": "registered twice", **more}


def test_a_village_worker_cannot_merge(client, users):
    client.force_login(users.alice)
    keep, drop = pk_of(LI_1), pk_of(LI_2)
    r = client.post(
        reverse("merge_persons"), {"keep": keep, "drop": drop, "reason": "x", "confirm": "1"}
    )
    assert r.status_code == 403
    assert not PersonMerge.objects.exists()
    # Nor is the form shown to her.
    assert b'name="order"' not in client.get(reverse("duplicates")).content


def test_an_outsider_cannot_merge_persons_of_another_area(client, users):
    # charlie (village C) is no worker of A; make him a statistician of the other township.
    from taizhang.accounts.models import Role

    users.charlie.profile.role = Role.TOWNSHIP_STATISTICIAN
    users.charlie.profile.org_unit_id = "410325101"
    users.charlie.profile.save()
    client.force_login(users.charlie)
    keep, drop = pk_of(LI_1), pk_of(LI_2)
    r = client.post(
        reverse("merge_persons"), {"keep": keep, "drop": drop, "reason": "x", "confirm": "1"}
    )
    assert r.status_code == 404
    assert not PersonMerge.objects.exists()


def test_the_township_confirms_then_merges_then_undoes(client, users):
    client.force_login(users.tom)
    keep, drop = pk_of(LI_1), pk_of(LI_2)
    r = client.post(reverse("merge_persons"), merge_form(keep, drop))
    assert r.status_code == 200
    assert r.context["keep"].pk == keep and r.context["drop"].pk == drop
    assert not PersonMerge.objects.exists()  # asked to confirm first
    r = client.post(
        reverse("merge_persons"),
        {"keep": keep, "drop": drop, "reason": "registered twice", "confirm": "1"},
    )
    assert r.status_code == 302 and r.url == reverse("person", args=[keep])
    merge = PersonMerge.objects.get()
    assert (merge.keep_id, merge.drop_id, merge.merged_by) == (keep, drop, users.tom)
    assert AuditEntry.objects.filter(action="person_merge", user=users.tom).count() == 1
    # The pair is gone from the page, and the merge is listed with its undo.
    r = client.get(reverse("duplicates"))
    assert [row.a.name for row in r.context["rows"]] == ["张一", "赵敏"]
    assert [p["merge"].pk for p in r.context["past"]] == [merge.pk]

    # alice sees the merge but cannot undo it; charlie does not find it.
    client.force_login(users.alice)
    r = client.post(reverse("unmerge_persons", args=[merge.pk]), {"reason": "no"})
    assert r.status_code == 403
    client.force_login(users.ada)
    r = client.post(reverse("unmerge_persons", args=[merge.pk]), {"reason": ""})
    assert r.status_code == 302
    merge.refresh_from_db()
    assert merge.undone_at is None  # a reason is required
    r = client.post(reverse("unmerge_persons", args=[merge.pk]), {"reason": "two women"})
    assert r.status_code == 302
    merge.refresh_from_db()
    assert (merge.undone_by, merge.undo_reason) == (users.ada, "two women")
    assert Person.objects.get(pk=drop).merged_into_id is None


def test_a_merge_without_a_reason_is_refused(client, users):
    client.force_login(users.ada)
    keep, drop = pk_of(LI_1), pk_of(LI_2)
    r = client.post(
        reverse("merge_persons"), {"keep": keep, "drop": drop, "reason": " ", "confirm": "1"}
    )
    assert r.status_code == 302 and r.url == reverse("duplicates")
    assert not PersonMerge.objects.exists()


def test_the_people_page_links_to_the_duplicates(client, users):
    client.force_login(users.alice)
    assert reverse("duplicates").encode() in client.get(reverse("people")).content
