"""ID and phone numbers never travel in an address (issue 14, item 11).

An address ends up in proxy logs, in the browser's history and in the Referer header of
the next page. So the people page posts its search box, and the audit page its filters;
a search for a number is answered without an address of its own, and an address that
asks for one (an old link, a bookmark) does not search.

The register and the users are those of ``test_people`` (alice: village A; ada: the
county administrator).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from test_browser import browser, county  # noqa: F401  (fixtures)
from test_people import MAN, PHONE, WOMAN, people  # noqa: F401  (people is a fixture)

from taizhang.audit.models import AuditEntry
from taizhang.web.views import people as people_views
from taizhang.web.views.people import kept_out_of_urls

pytestmark = pytest.mark.django_db

# What the page or its answer could hand to an address: links, form targets, htmx
# requests, the address htmx pushes, the language form's way back, a redirect.
_ADDRESSES = re.compile(
    r'(?:href|action|hx-get|hx-post|hx-push-url|src)="([^"]*)"'
    r'|name="next" type="hidden" value="([^"]*)"'
)


def addresses(response) -> list[str]:
    """Every address the answer holds or points the browser to."""
    found = [a or b for a, b in _ADDRESSES.findall(response.content.decode())]
    for header in ("Location", "HX-Push-Url", "HX-Redirect", "HX-Location"):
        if header in response.headers:
            found.append(response.headers[header])
    return found


def secrets_in(response, *numbers: str) -> list[str]:
    """The addresses of the answer that hold one of ``numbers``, or the birth date or the
    last eight digits of one (the parts that identify a person)."""
    parts = set()
    for n in numbers:
        parts |= {n, n[6:14], n[-8:]}
    parts.discard("")
    return [a for a in addresses(response) if any(p in a for p in parts)]


def csrf_client(user) -> Client:
    """A client that checks CSRF tokens, as a browser's requests are checked."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_token(client: Client, url: str) -> str:
    page = client.get(url).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_it_tells_which_search_texts_stay_out_of_addresses():
    assert kept_out_of_urls(WOMAN)
    assert kept_out_of_urls("41032519900520")  # the first digits give a birth date
    assert kept_out_of_urls("138 0000 1234")
    assert kept_out_of_urls("１３８")  # full-width digits too
    assert kept_out_of_urls("H1")
    assert not kept_out_of_urls("王秀英")
    assert not kept_out_of_urls("wxy")
    assert not kept_out_of_urls("")


class TestPeopleSearch:
    def test_it_finds_a_person_by_posted_id_number_with_no_number_in_any_address(self, people):  # noqa: F811
        client = csrf_client(people.alice)
        token = csrf_token(client, reverse("people"))
        r = client.post(reverse("people"), {"q": WOMAN, "csrfmiddlewaretoken": token})
        assert r.status_code == 200  # answered at once: no redirect to an address of its own
        assert [row.name for row in r.context["rows"]] == ["王秀英"]
        assert WOMAN in r.content.decode()  # shown in the table, to alice, her village worker
        assert secrets_in(r, WOMAN) == []
        assert addresses(r)  # (the check looks at something)

    def test_it_refuses_a_posted_search_without_the_csrf_token(self, people):  # noqa: F811
        r = csrf_client(people.alice).post(reverse("people"), {"q": WOMAN})
        assert r.status_code == 403

    def test_it_answers_htmx_with_the_bare_page_address_for_a_number(self, client, people):  # noqa: F811
        client.force_login(people.alice)
        for q in (WOMAN, PHONE, "138 0000 1234", WOMAN[:10]):
            r = client.post(reverse("people"), {"q": q}, HTTP_HX_REQUEST="true")
            assert r.status_code == 200
            assert r.headers["HX-Push-Url"] == reverse("people")
            assert "<html" not in r.content.decode()
            assert secrets_in(r, WOMAN, PHONE) == [], q
        r = client.post(reverse("people"), {"q": PHONE}, HTTP_HX_REQUEST="true")
        assert [row.name for row in r.context["rows"]] == ["王秀英"]

    def test_it_gives_a_name_search_an_address_of_its_own(self, client, people):  # noqa: F811
        client.force_login(people.tom)
        r = client.post(reverse("people"), {"q": "王", "sex": "F"})
        assert r.status_code == 302
        assert r.url == reverse("people") + "?q=%E7%8E%8B&sex=F"
        assert [row.name for row in client.get(r.url).context["rows"]] == ["王小红", "王秀英"]
        r = client.post(reverse("people"), {"q": "wxy"}, HTTP_HX_REQUEST="true")
        assert r.headers["HX-Push-Url"] == reverse("people") + "?q=wxy"
        assert [row.name for row in r.context["rows"]] == ["王秀英"]

    @pytest.mark.parametrize("q", [WOMAN, MAN, PHONE, WOMAN[:14], "H1"])
    def test_it_does_not_search_for_a_number_in_the_address(self, client, people, q):  # noqa: F811
        client.force_login(people.alice)
        r = client.get(reverse("people"), {"q": q, "status": "resident"})
        assert r.status_code == 302
        assert r.url == reverse("people") + "?status=resident"  # the number dropped
        page = client.get(r.url)
        assert "from the search box only, never from the address" in page.content.decode()
        assert [row.name for row in page.context["rows"]] == ["李建国", "王秀英"]  # everyone
        assert secrets_in(page, WOMAN, MAN, PHONE) == []

    def test_it_answers_htmx_asking_for_a_number_with_a_sentence(self, client, people):  # noqa: F811
        client.force_login(people.alice)
        r = client.get(reverse("people"), {"q": WOMAN}, HTTP_HX_REQUEST="true")
        assert r.status_code == 200
        body = r.content.decode()
        assert "never from the address" in body
        assert "data-person" not in body

    def test_it_pages_a_number_search_by_posting_it_again(self, client, people, monkeypatch):  # noqa: F811
        monkeypatch.setattr(people_views, "PER_PAGE", 1)
        client.force_login(people.alice)
        first = client.post(reverse("people"), {"q": "H1"}, HTTP_HX_REQUEST="true")
        body = first.content.decode()
        assert 'name="page" value="2"' in body  # a button of a posted form, not a link
        assert '<input type="hidden" name="q" value="H1">' in body
        assert secrets_in(first, "H1") == []
        second = client.post(reverse("people"), {"q": "H1", "page": 2}, HTTP_HX_REQUEST="true")
        names = [first.context["rows"][0].name, second.context["rows"][0].name]
        assert names == ["李建国", "王秀英"]

    def test_it_links_the_pages_of_a_name_search(self, client, people, monkeypatch):  # noqa: F811
        monkeypatch.setattr(people_views, "PER_PAGE", 1)
        client.force_login(people.alice)
        r = client.post(reverse("people"), {"q": "l"}, HTTP_HX_REQUEST="true")
        assert r.context["page_links"] == {}  # one match
        r = client.post(reverse("people"), {"status": "resident"}, HTTP_HX_REQUEST="true")
        assert r.context["page_links"] == {"next": reverse("people") + "?status=resident&page=2"}

    def test_it_sends_the_whole_page_when_htmx_restores_history(self, client, people):  # noqa: F811
        # The results div says hx-history="false": htmx keeps no copy of the page (with its
        # ID numbers) in the browser's storage, and asks for the whole page on Back.
        client.force_login(people.alice)
        headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
        body = client.get(reverse("people"), {"q": "wxy"}, headers=headers).content.decode()
        assert "<html" in body and 'hx-history="false"' in body

    def test_it_still_audits_the_record_opened_from_a_search(self, client, people):  # noqa: F811
        client.force_login(people.alice)
        r = client.post(reverse("people"), {"q": WOMAN})
        [row] = r.context["rows"]
        assert client.get(row.url).status_code == 200
        entry = AuditEntry.objects.get(action="person_view")
        assert (entry.user, entry.object_id) == (people.alice, str(people.woman.pk))


class TestAuditPersonFilter:
    def test_it_names_the_person_by_register_number_in_the_address(self, people):  # noqa: F811
        client = csrf_client(people.ada)
        client.get(reverse("person", args=[people.woman.pk]))  # one entry about her
        token = csrf_token(client, reverse("audit"))
        r = client.post(
            reverse("audit"), {"person": WOMAN, "action": "", "csrfmiddlewaretoken": token}
        )
        assert r.status_code == 302
        assert r.url == f"{reverse('audit')}?person={people.woman.pk}"
        page = client.get(r.url)
        assert [e.object_id for e in page.context["page"].rows] == [str(people.woman.pk)]
        assert secrets_in(page, WOMAN) == []

    def test_it_does_not_filter_by_an_id_number_in_the_address(self, client, people):  # noqa: F811
        client.force_login(people.ada)
        r = client.get(reverse("audit"), {"person": WOMAN, "action": "person_view"})
        assert r.status_code == 302
        assert r.url == reverse("audit") + "?action=person_view"
        page = client.get(r.url)
        assert "the person filter takes a register number only" in page.content.decode()
        assert page.context["form"]["person"].value() in (None, "")

    def test_it_keeps_the_other_filters_of_a_posted_search(self, client, people):  # noqa: F811
        client.force_login(people.ada)
        client.get(reverse("person", args=[people.woman.pk]))  # the action is one to choose
        r = client.post(
            reverse("audit"),
            {"person": WOMAN, "action": "person_view", "date_from": "2024-01-01", "user": ""},
        )
        assert r.url == (
            f"{reverse('audit')}?action=person_view&date_from=2024-01-01&person={people.woman.pk}"
        )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_id_number_out_of_every_address_a_browser_sends(live_server, request):
    """In Chromium: type a whole ID number, open the person found; no request the browser
    sends (its address or its Referer) and no address it shows holds the number."""
    import test_browser

    if not Path(test_browser.CHROMIUM).exists():
        pytest.skip("needs Debian's chromium (.ci/run installs it)")
    request.getfixturevalue("county")
    chromium = request.getfixturevalue("browser")
    number = test_browser.WOMAN
    base = live_server.url
    page = chromium.new_page(locale="zh-CN")
    test_browser.log_in(page, base, "alice")
    sent: list[str] = []
    page.on("request", lambda r: sent.extend([r.url, r.headers.get("referer", "")]))
    page.goto(f"{base}/people/")
    page.fill("input[name=q]", number)
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(f"td.idnumber:has-text('{number}')")
    assert number not in page.url
    page.get_by_role("link", name="王秀英").first.click()
    page.wait_for_load_state()
    assert re.search(r"/people/\d+/$", page.url)
    page.go_back()
    page.wait_for_load_state()
    assert sent and [a for a in sent if number in a or number[6:14] in a] == []
