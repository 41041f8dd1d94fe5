"""The data-quality pages on the hand-built county: the scorecard of the county's
townships, the drill-down to the villages and to the records behind a figure, and the
report form typed in on the web (see ``test_quality_audit`` for the figures)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from helpers import make_user

from taizhang.accounts.models import Role
from taizhang.quality import actions
from taizhang.quality.models import ReportedFigure

pytestmark = pytest.mark.django_db

COUNTY, T100, T101 = "410325", "410325100", "410325101"
A1, A2 = "410325100201", "410325100202"


@pytest.fixture
def ada(client, hand_built_county):
    user = make_user("ada", Role.COUNTY_ADMIN, COUNTY)
    client.force_login(user)
    return user


def cell(rows: list[dict], org: str, code: str) -> dict:
    row = next(r for r in rows if r["org"] == org)
    return next(c for c in row["cells"] if c["code"] == code)


def test_the_scorecard_colours_each_township_by_its_worst_finding(client, ada):
    # No village sent a report form: each township fails completeness; no census: each
    # township's census comparison is a warning.
    r = client.get(reverse("quality:home") + "?period=2024")
    assert r.status_code == 200
    rows = r.context["rows"]
    completeness = cell(rows, T100, "REPORTING_COMPLETENESS")
    assert (completeness["status"], completeness["findings"]) == ("fail", 2)  # A1 and A2
    assert cell(rows, T101, "REPORTING_COMPLETENESS")["findings"] == 2  # B1 and B2
    assert cell(rows, T100, "CENSUS_COMPARISON")["status"] == "warn"
    assert cell(rows, T100, "REPORTED_VS_RECORDED")["status"] == "pass"
    assert completeness["url"] == (
        reverse("quality:check", args=["REPORTING_COMPLETENESS"])
        + f"?org={COUNTY}&unit={T100}&period=2024"
    )
    html = r.content.decode()
    assert 'data-check="REPORTING_COMPLETENESS" data-status="fail"' in html


def test_it_shows_what_a_typed_in_report_changes_at_once(client, ada):
    # 西街村 says it had one birth in March 2024; the register has the twins.
    r = client.post(
        reverse("quality:reports"), {"org": A2, "period": "202403", "births": "1", "deaths": "0"}
    )
    assert r.status_code == 302
    assert r.url == reverse("quality:reports") + f"?org={A2}&period=202403"
    page = client.get(r.url)
    births = next(row for row in page.context["rows"] if row["item"] == "births")
    assert (births["figure"].value, births["recorded"], births["differs"]) == (1, 2, True)
    assert births["records_url"] == f"/figures/BIRTHS/{A2}/202403/numerator/"
    rows = client.get(reverse("quality:home") + "?period=2024").context["rows"]
    assert cell(rows, T100, "REPORTED_VS_RECORDED")["status"] == "warn"


def test_the_drill_down_lists_the_villages_and_links_to_the_records(client, ada):
    actions.record_reports([actions.Report(A2, "202403", "births", 1)], source="web")
    url = reverse("quality:check", args=["REPORTED_VS_RECORDED"])
    r = client.get(url + f"?org={COUNTY}&unit={T100}&period=2024")
    assert r.status_code == 200
    assert [(c["org"], c["status"], c["count"]) for c in r.context["children"]] == [
        (A1, "pass", 0),
        (A2, "warn", 1),
    ]
    (finding,) = r.context["findings"]
    assert finding["org"] == A2
    (link,) = finding["links"]
    assert link["url"] == f"/figures/BIRTHS/{A2}/202403/numerator/"
    # The records page behind the link lists the twins.
    records = client.get(link["url"])
    assert records.status_code == 200
    assert records.context["count"] == 2


def test_a_second_value_is_a_new_version_and_the_first_is_kept(client, ada):
    url = reverse("quality:reports")
    client.post(url, {"org": A2, "period": "202403", "births": "1"})
    client.post(url, {"org": A2, "period": "202403", "births": "2"})
    client.post(url, {"org": A2, "period": "202403", "births": "2"})  # unchanged
    assert list(
        ReportedFigure.objects.order_by("version").values_list("version", "value", "source")
    ) == [(1, 1, "web"), (2, 2, "web")]
    history = client.get(url + f"?org={A2}&period=202403").context["history"]
    assert [(h.version, h.value) for h in history] == [(1, 1), (2, 2)]


def test_it_says_what_is_wrong_with_what_was_typed(client, ada):
    r = client.get(reverse("quality:home") + "?period=2024Q1")
    assert r.status_code == 400
    assert "the audit covers a year (e.g. 2024), not the quarter 2024Q1." in r.content.decode()
    r = client.get(reverse("quality:reports") + f"?org={A2}&period=2024")
    assert r.status_code == 400
    assert "2024 is not a month: write YYYYMM, e.g. 202501" in r.content.decode()
    r = client.post(reverse("quality:reports"), {"org": A2, "period": "209901", "births": "1"})
    assert r.status_code == 400
    assert "the month 209901 has not ended" in r.content.decode()
    r = client.post(reverse("quality:reports"), {"org": A2, "period": "202403", "births": "-3"})
    assert r.status_code == 400
    assert not ReportedFigure.objects.exists()
    assert client.get(reverse("quality:check", args=["NO_SUCH_CHECK"])).status_code == 404
