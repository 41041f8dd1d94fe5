"""The petition pages: the list, intake, a case's page (privacy, action forms), downloads,
the overdue page and the case register.

The county and accounts are those of ``test_cases``. ``petition`` is a case about
village A received 2026-03-01 from 赵大山, accepted and assigned to alice (village A)
on 2026-03-02, with one attached letter.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from test_cases import PETITIONER, TODAY, A, county, d, new_case, repeat_petition  # noqa: F401

from taizhang.audit.models import AuditEntry
from taizhang.cases import actions
from taizhang.cases.models import Case
from taizhang.lib.idnumber import mask

pytestmark = pytest.mark.django_db


@pytest.fixture
def petition(county, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("TAIZHANG_DATA", str(tmp_path))
    case = new_case(county)
    actions.accept(case, on=d("2026-03-02"), user=county.tom, today=TODAY)
    actions.assign(case, handler=county.alice, on=d("2026-03-02"), user=county.tom, today=TODAY)
    letter = actions.attach(
        case, SimpleUploadedFile("来信.txt", b"letter", "text/plain"), user=county.tom, today=TODAY
    )
    return SimpleNamespace(case=case, letter=letter, **vars(county))


def page(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def post_new(client, user, **fields):
    """Post the intake form: a phone call of 2026-05-04 about village A, with ``fields``."""
    client.force_login(user)
    form = {
        "received_on": "2026-05-04",
        "channel": "phone",
        "category": "services",
        "org": A,
        "subject": "x",
    }
    return client.post(reverse("cases:new"), form | fields)


class TestList:
    def test_it_lists_the_cases_of_the_area_with_counts_by_state(self, client, petition):
        new_case(petition, org="410325101201", received="2026-04-01")  # 田湖村
        r = page(client, petition.tom, reverse("cases:home"))
        assert [c.number for c in r.context["page"].object_list] == ["XF-2026-000001"]
        assert ("assigned", "Assigned", 1) in r.context["counts"]
        r = page(client, petition.ada, reverse("cases:home"))
        assert [c.number for c in r.context["page"].object_list] == [
            "XF-2026-000002",  # newest first
            "XF-2026-000001",
        ]
        assert (
            page(client, petition.charlie, reverse("cases:home")).context["page"].paginator.count
            == 1
        )  # only 田湖村's case

    @pytest.mark.parametrize(
        ("params", "numbers"),
        [
            ({"state": "assigned"}, ["XF-2026-000001"]),
            ({"state": "received"}, ["XF-2026-000002"]),
            ({"category": "staff_conduct"}, ["XF-2026-000002"]),
            ({"channel": "letter"}, ["XF-2026-000002"]),
            ({"received_from": "2026-03-02"}, ["XF-2026-000002"]),
            ({"received_to": "2026-03-01"}, ["XF-2026-000001"]),
            ({"org": "410325100202"}, []),
            # Both are past their deadlines today (2026-11-29 or later): 000002 was never
            # acknowledged, and neither is concluded.
            ({"overdue": "on"}, ["XF-2026-000002", "XF-2026-000001"]),
        ],
    )
    def test_it_filters(self, client, petition, params, numbers):
        new_case(petition, received="2026-04-01", category="staff_conduct", channel="letter")
        r = page(client, petition.tom, reverse("cases:home"), **params)
        assert [c.number for c in r.context["page"].object_list] == numbers


class TestIntake:
    def test_it_receives_a_case_with_an_attachment(self, client, petition):
        r = post_new(
            client,
            petition.bob,
            subject="服务站态度差",
            petitioner_name="钱多",
            attachment=SimpleUploadedFile("录音记录.txt", b"call"),
        )
        case = Case.objects.get(number="XF-2026-000002")
        assert r.status_code == 302 and r.url == reverse("cases:detail", args=[case.pk])
        assert (case.channel, case.org_id, case.created_by) == ("phone", A, petition.bob)
        assert [a.filename for a in case.attachments.all()] == ["录音记录.txt"]

    def test_it_shows_the_actions_objection_and_writes_nothing(self, client, petition):
        r = post_new(client, petition.bob)  # no petitioner name, not anonymous
        assert r.status_code == 400
        assert r.context["form"].non_field_errors() == [
            "The petitioner's name is empty: give it, or mark the petition anonymous."
        ]
        assert Case.objects.count() == 1

    def test_it_offers_only_org_units_of_the_area(self, client, petition):
        r = post_new(client, petition.alice, org="410325101201", anonymous="on")
        assert r.status_code == 400
        assert "org" in r.context["form"].errors


class TestPrivacy:
    @pytest.mark.parametrize(
        ("username", "name", "id_number", "audited"),
        [
            ("alice", "赵大山", PETITIONER, True),  # the handler's org unit
            ("bob", "赵大山", PETITIONER, True),  # the same org unit
            ("tom", "—", mask(PETITIONER), False),  # sees the case, not the petitioner
            ("ada", "赵大山", PETITIONER, True),  # county administrator
        ],
    )
    def test_it_shows_the_petitioner_to_the_handlers_org_and_the_county(
        self, client, petition, username, name, id_number, audited
    ):
        r = page(
            client, getattr(petition, username), reverse("cases:detail", args=[petition.case.pk])
        )
        shown = r.context["petitioner"]
        assert (shown["name"], shown["id_number"]) == (name, id_number)
        assert ("赵大山" in r.content.decode()) is (name == "赵大山")
        assert ("13900001111" in r.content.decode()) is audited
        views = AuditEntry.objects.filter(
            action="case_view", object_type="case", user__username=username
        )
        assert views.count() == (1 if audited else 0)


class TestActions:
    def test_it_offers_each_user_the_actions_they_may_take(self, client, petition):
        url = reverse("cases:detail", args=[petition.case.pk])

        def offered(user):
            return [f.action for f in page(client, user, url).context["action_forms"]]

        assert offered(petition.tom) == ["assign", "attach", "note"]
        assert offered(petition.alice) == ["reply", "attach", "note"]  # the handler
        assert offered(petition.bob) == []

    def test_the_handler_replies_and_the_statistician_closes(self, client, petition):
        pk = petition.case.pk
        client.force_login(petition.alice)
        r = client.post(
            reverse("cases:act", args=[pk, "reply"]),
            {"reply-on": "2026-03-20", "reply-text": "已补发"},
        )
        assert r.status_code == 302
        assert (
            client.post(
                reverse("cases:act", args=[pk, "close"]), {"close-on": "2026-03-21"}
            ).status_code
            == 403
        )
        client.force_login(petition.tom)
        r = client.post(reverse("cases:act", args=[pk, "close"]), {"close-on": "2026-03-21"})
        assert r.status_code == 302
        case = Case.objects.get(pk=pk)
        assert (case.state, case.replied_on, case.closed_on) == (
            "closed",
            d("2026-03-20"),
            d("2026-03-21"),
        )

    def test_it_shows_why_an_action_is_refused(self, client, petition):
        client.force_login(petition.alice)
        r = client.post(
            reverse("cases:act", args=[petition.case.pk, "reply"]),
            {"reply-on": "2026-03-01", "reply-text": "x"},
        )
        assert r.status_code == 400
        assert (
            "The date 2026-03-01 is before the case&#x27;s previous action (assigned on 2026-03-02)."
            in r.content.decode()
        )
        assert Case.objects.get().state == "assigned"

    def test_a_repeat_petition_opens_a_linked_case(self, client, petition):
        case = petition.case
        actions.reply(case, on=d("2026-03-20"), text="x", user=petition.alice, today=TODAY)
        actions.close(case, on=d("2026-03-21"), user=petition.tom, today=TODAY)
        client.force_login(petition.tom)
        r = client.post(
            reverse("cases:act", args=[case.pk, "reopen"]),
            {
                "reopen-received_on": "2026-05-10",
                "reopen-channel": "visit",
                "reopen-subject": "again",
            },
        )
        repeat = Case.objects.get(repeat_of=case)
        assert r.url == reverse("cases:detail", args=[repeat.pk])
        assert repeat.conclude_due == dt.date(2026, 7, 9)


class TestDownload:
    def test_it_sends_the_file_and_audits_it(self, client, petition):
        url = reverse("cases:attachment", args=[petition.case.pk, petition.letter.pk])
        r = page(client, petition.tom, url)
        assert r.status_code == 200
        assert b"".join(r.streaming_content) == b"letter"
        assert AuditEntry.objects.filter(action="case_download", user=petition.tom).count() == 1

    def test_it_hides_the_file_outside_the_area(self, client, petition):
        url = reverse("cases:attachment", args=[petition.case.pk, petition.letter.pk])
        assert page(client, petition.charlie, url).status_code == 404
        assert not AuditEntry.objects.filter(action="case_download").exists()


class TestListsPages:
    def test_the_overdue_page_lists_a_case_not_concluded_in_time(self, client, petition):
        # Assigned, not replied: conclusion due 04-30, so overdue on 05-01.
        r = page(
            client, petition.tom, reverse("cases:overdue"), org="410325100", as_of="2026-05-01"
        )
        assert [c.number for c in r.context["lists"]["conclude"]] == ["XF-2026-000001"]
        assert r.context["lists"]["ack"] == []

    def test_the_register_page_shows_the_totals(self, client, petition):
        r = page(client, petition.tom, reverse("cases:report"), org="410325100", period="2026Q2")
        total = r.context["report"]["total"]
        # Due to close in Q2: the one case (04-30), not closed: 0 of 1 on time.
        assert (total["due_to_close"], total["closed_on_time"], total["closure_rate"]) == (
            1,
            0,
            0.0,
        )

    def test_the_register_page_explains_a_bad_period(self, client, petition):
        r = page(client, petition.tom, reverse("cases:report"), org="410325100", period="2026Q9")
        assert r.status_code == 400
        assert "2026Q9 is not a valid period code" in r.content.decode()


def test_every_state_of_a_case_renders(client, petition):
    # An anonymous petition declined, and the assigned case replied, visited, closed and
    # repeated: each page answers 200 for the county administrator.
    anonymous = new_case(petition, petitioner_name="", id_number="", phone="", anonymous=True)
    actions.decline(anonymous, on=d("2026-03-02"), reason="重复", user=petition.tom, today=TODAY)
    case = petition.case
    actions.reply(case, on=d("2026-03-20"), text="x", user=petition.alice, today=TODAY)
    actions.return_visit(
        case, on=d("2026-03-21"), satisfaction="satisfied", user=petition.alice, today=TODAY
    )
    actions.close(case, on=d("2026-03-22"), user=petition.tom, today=TODAY)
    repeat = repeat_petition(case, petition, "2026-04-01", channel="online", subject="y")
    client.force_login(petition.ada)
    for pk in (anonymous.pk, case.pk, repeat.pk):
        assert client.get(reverse("cases:detail", args=[pk])).status_code == 200
    r = client.get(reverse("cases:detail", args=[case.pk]))
    assert [f.action for f in r.context["action_forms"]] == ["reopen"]
    assert "Satisfied" in r.content.decode()
