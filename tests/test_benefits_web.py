"""The benefits pages: the enrolment list, an enrolment's page and its verification, the
month's payment list, arrears and the report. The register and users are those of
``test_benefits`` (alice, bob: village A; charlie: village C; tom: the township of A
and B; ada: the county)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from test_benefits import COUNTY, TOWN1, county  # noqa: F401  (county is a fixture)

from taizhang.audit.models import AuditEntry
from taizhang.benefits import actions
from taizhang.benefits.models import Enrolment, Payment

BEIJING = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(county):  # noqa: F811
    """Reward proposals for January 2026 (周秀英, 吴玉芬, 赵桂英 in A), special for March
    (郑淑芬 in C). 赵桂英 is confirmed and her Jan–Feb payments listed."""
    actions.propose("reward", COUNTY, 202601, user=county.ada, today=dt.date(2026, 2, 1))
    actions.propose("special", COUNTY, 202603, user=county.ada, today=dt.date(2026, 4, 1))
    county.two_d_e = actions.confirm(
        Enrolment.objects.get(person=county.two_d), user=county.tom, today=dt.date(2026, 2, 1)
    )
    actions.run_month(TOWN1, 202602, user=county.tom, today=dt.date(2026, 3, 1))
    county.dies_e = Enrolment.objects.get(person=county.dies)
    county.special_e = Enrolment.objects.get(person=county.special)
    county.payment = Payment.objects.get(person=county.two_d, period="202601")
    return county


def names(client, user, **params) -> list[str]:
    client.force_login(user)
    r = client.get(reverse("benefits:home"), params)
    assert r.status_code == 200
    return [e.person.name for e in r.context["page"]]


class TestHome:
    def test_it_lists_the_enrolments_of_the_area(self, client, listed):
        assert names(client, listed.alice) == ["吴玉芬", "周秀英", "赵桂英"]
        assert names(client, listed.charlie) == ["郑淑芬"]
        assert len(names(client, listed.ada)) == 4

    def test_it_filters_by_scheme_state_village_and_name(self, client, listed):
        assert names(client, listed.ada, scheme="special") == ["郑淑芬"]
        assert names(client, listed.ada, state="enrolled") == ["赵桂英"]
        assert names(client, listed.ada, org="410325101201") == ["郑淑芬"]
        assert names(client, listed.tom, name="周") == ["周秀英"]

    def test_it_counts_each_scheme(self, client, listed):
        client.force_login(listed.tom)
        overview = client.get(reverse("benefits:home")).context["overview"]
        reward = next(row for row in overview if row["scheme"].code == "reward")
        assert (reward["proposed"], reward["enrolled"]) == (2, 1)

    def test_it_refuses_a_village_outside_the_area_as_a_filter(self, client, listed):
        assert names(client, listed.tom, org="410325101201") == []

    def test_it_proposes_candidates_for_a_month(self, client, listed):
        # 李秀兰 and 王建国 turn 60 in March 2026: proposed for 202603 (the others already are).
        client.force_login(listed.tom)
        r = client.post(
            reverse("benefits:propose"), {"scheme": "reward", "org": TOWN1, "month": "202603"}
        )
        assert r.status_code == 302
        assert set(
            Enrolment.objects.filter(scheme="reward", start_month=202603).values_list(
                "person__name", flat=True
            )
        ) == {"李秀兰", "王建国"}


class TestEnrolment:
    def test_it_shows_and_audits_an_enrolment(self, client, listed):
        client.force_login(listed.alice)
        r = client.get(reverse("benefits:enrolment", args=[listed.two_d_e.pk]))
        assert r.status_code == 200
        assert [p.period for p in r.context["payments"]] == ["202601", "202602"]
        assert r.context["owed"] == "160.00"
        entry = AuditEntry.objects.get(action="enrolment_view", object_type="enrolment")
        assert (entry.user, entry.object_id) == (listed.alice, str(listed.two_d_e.pk))

    def test_it_confirms_for_a_statistician(self, client, listed):
        client.force_login(listed.tom)
        r = client.post(reverse("benefits:confirm", args=[listed.dies_e.pk]))
        assert r.status_code == 302
        listed.dies_e.refresh_from_db()
        assert (listed.dies_e.state, listed.dies_e.verified_by) == ("enrolled", listed.tom)

    def test_it_needs_a_reason_to_reject(self, client, listed):
        client.force_login(listed.ada)
        url = reverse("benefits:reject", args=[listed.dies_e.pk])
        r = client.post(url, {"reason": ""}, follow=True)
        assert "a rejection needs a reason" in r.content.decode()
        client.post(url, {"reason": "lives with her son in another county"})
        listed.dies_e.refresh_from_db()
        assert (listed.dies_e.state, listed.dies_e.reject_reason) == (
            "rejected",
            "lives with her son in another county",
        )

    def test_it_ends_an_enrolment_by_hand(self, client, listed):
        client.force_login(listed.tom)
        client.post(reverse("benefits:withdraw", args=[listed.two_d_e.pk]), {"note": "asked"})
        listed.two_d_e.refresh_from_db()
        assert (listed.two_d_e.state, listed.two_d_e.end_reason) == ("ended", "withdrawn")


class TestPaymentPages:
    def test_it_lists_the_payments_of_a_month(self, client, listed):
        client.force_login(listed.alice)
        r = client.get(reverse("benefits:month"), {"org": "410325100201", "month": "202601"})
        assert [(p.person.name, p.amount_yuan) for p in r.context["payments"]] == [
            ("赵桂英", "80.00")
        ]

    def test_it_records_a_payment(self, client, listed):
        client.force_login(listed.tom)
        r = client.post(
            reverse("benefits:record_payment", args=[listed.payment.pk]),
            {"status": "paid", "date": "2026-01-31", "channel": "bank", "reference": "X1"},
        )
        assert r.status_code == 302
        listed.payment.refresh_from_db()
        assert (listed.payment.status, listed.payment.reference) == ("paid", "X1")

    def test_it_runs_a_month(self, client, listed):
        client.force_login(listed.tom)
        r = client.post(reverse("benefits:run"), {"org": TOWN1, "month": "202603"})
        assert r.status_code == 302
        assert Payment.objects.filter(person=listed.two_d, period="202603").exists()

    def test_it_shows_arrears_and_the_report(self, client, listed):
        client.force_login(listed.tom)
        r = client.get(reverse("benefits:arrears"), {"org": TOWN1, "as_of": "2026-03-01"})
        [(e, _ps, total)] = r.context["rows"]
        assert (e.person.name, total) == ("赵桂英", "160.00")
        r = client.get(reverse("benefits:report"), {"org": TOWN1, "period": "2026Q1"})
        row = next(x for x in r.context["rows"] if x.township == TOWN1 and x.scheme == "reward")
        assert (row.enrolled, row.due, row.unpaid) == (1, 2, 2)


class TestLabels:
    def test_it_shows_scheme_and_village_names_not_codes(self, client, listed):
        # alice's list: three reward enrolments in A = 410325100201 东街村. The scheme cell
        # shows the short name (Reward), the village cell 东街村 with its code as a title.
        client.force_login(listed.alice)
        page = client.get(reverse("benefits:home")).content.decode()
        assert page.count('<td class="nowrap">Reward</td>') == 3
        assert page.count('<td class="nowrap" title="410325100201">东街村</td>') == 3
        assert ">reward<" not in page
        # The overview names the schemes in full with their cycle: 960 a year, paid monthly.
        assert "<td>Rural family-planning household reward and assistance</td>" in page
        assert '960 <span class="muted">· Paid monthly</span>' in page

    def test_it_shows_scheme_names_in_chinese(self, client, listed):
        # The same list in Chinese: 奖励扶助 (short), 农村部分计划生育家庭奖励扶助, 每月发放.
        client.force_login(listed.alice)
        r = client.get(reverse("benefits:home"), HTTP_ACCEPT_LANGUAGE="zh-hans")
        page = r.content.decode()
        assert page.count('<td class="nowrap">奖励扶助</td>') == 3
        assert "<td>农村部分计划生育家庭奖励扶助</td>" in page
        assert '960 <span class="muted">· 每月发放</span>' in page

    def test_it_shows_dates_as_iso(self, client, listed):
        # 赵桂英's January payment falls due on the month's last day: 2026-01-31.
        client.force_login(listed.alice)
        page = client.get(reverse("benefits:enrolment", args=[listed.two_d_e.pk]))
        assert '<td class="nowrap">2026-01-31</td>' in page.content.decode()


class TestDefaultReport:
    def test_it_shows_the_own_unit_for_the_last_full_year(self, client, listed):
        # On 2027-02-01 the last full year is 2026. tom's unit is TOWN1 城关镇: one row per
        # scheme, then the totals. Reward in 2026: 赵桂英 enrolled from 202601 (still at the
        # end of 2026), her Jan and Feb payments due and unpaid -> (1, 2, 2).
        with time_machine.travel(dt.datetime(2027, 2, 1, 10, 0, tzinfo=BEIJING), tick=False):
            client.force_login(listed.tom)
            r = client.get(reverse("benefits:report"))
        rows = r.context["rows"]
        assert [(x.township, x.scheme) for x in rows] == [
            (TOWN1, "reward"),
            (TOWN1, "special"),
            (TOWN1, "childcare"),
            ("", "reward"),
            ("", "special"),
            ("", "childcare"),
        ]
        assert (rows[0].enrolled, rows[0].due, rows[0].unpaid) == (1, 2, 2)
        page = r.content.decode()
        assert 'value="2026"' in page
        assert page.count(f'title="{TOWN1}">城关镇</td>') == 3
        assert (
            '<td class="nowrap" title="Rural family-planning household reward and assistance">Reward</td>'
            in page
        )
