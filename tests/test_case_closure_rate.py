"""CASE_CLOSURE_RATE from the indicator engine, checked by hand and against the case
register report (the same definition must give the same numbers), and its drill-down."""

from __future__ import annotations

import pytest
from test_cases import county, d, new_case, take_through  # noqa: F401  (county is a fixture)

from taizhang.cases import actions
from taizhang.cases.reports import register_report
from taizhang.indicators.engine import compute, records_behind, subject_of

pytestmark = pytest.mark.django_db

A, B, C = "410325100201", "410325100202", "410325101201"


def closure(org, period, by=None):
    result = compute(org, period, ["CASE_CLOSURE_RATE"], by=by)
    rows = result if by else [result]
    return {
        r["org"]: tuple(r["indicators"][0][k] for k in ("numerator", "denominator", "value"))
        for r in rows
    }


@pytest.fixture
def petitions(county):  # noqa: F811
    """Cases whose 60-day deadline (received + 60 days) falls in 2026Q2 unless said:

    1 A received 03-01, due 04-30, closed 04-30 → on time
    2 A received 03-02, due 05-01, closed 05-02 → late
    3 B received 03-03, due 05-02, declined 03-05 → not due to close
    4 C received 03-04, due 05-03, still open → due, not closed
    5 A received 01-01, due 03-02 (2026Q1), closed 03-01 → outside Q2
    6 城关镇 itself received 03-05, due 05-04, closed 04-01 → on time, in no village
    """
    one = take_through(new_case(county, "2026-03-01"), county, closed="2026-04-30")
    take_through(new_case(county, "2026-03-02"), county, closed="2026-05-02")
    three = new_case(county, "2026-03-03", org=B)
    actions.decline(three, on=d("2026-03-05"), reason="不属于本机关职责", user=county.tom)
    new_case(county, "2026-03-04", org=C)
    take_through(
        new_case(county, "2026-01-01"),
        county,
        accepted="2026-01-02",
        replied="2026-01-20",
        closed="2026-03-01",
    )
    six = take_through(
        new_case(county, "2026-03-05", org="410325100"),
        county,
        accepted="2026-03-06",
        closed="2026-04-01",
    )
    return one, six


def test_it_counts_cases_due_to_close_in_the_period_and_closed_by_the_deadline(petitions):
    # County: due 1, 2, 4, 6 (3 declined, 5 in Q1); on time 1 and 6 → 2/4 = 50%.
    assert closure("410325", "2026Q2") == {"410325": (2, 4, 50.0)}
    # 城关镇: 1, 2, 6 due, 1 and 6 on time → 66.67; 田湖镇: case 4 → 0/1.
    assert closure("410325", "2026Q2", by="township") == {
        "410325100": (2, 3, 66.67),
        "410325101": (0, 1, 0.0),
    }
    # Villages: A 1/2; B nothing due (its case was declined) → null; C 0/1. Case 6 concerns
    # the township itself, so no village counts it.
    assert closure("410325", "2026Q2", by="village") == {
        A: (1, 2, 50.0),
        B: (0, 0, None),
        C: (0, 1, 0.0),
    }
    # 2026Q1: only case 5, closed a day before its deadline.
    assert closure("410325", "2026Q1") == {"410325": (1, 1, 100.0)}


def test_it_lists_the_cases_behind_the_figure(petitions):
    one, six = petitions
    assert subject_of("CASE_CLOSURE_RATE") == "case"
    assert records_behind("CASE_CLOSURE_RATE", "410325", "2026Q2") == sorted([one.pk, six.pk])


def test_the_case_register_report_agrees_with_the_engine(petitions):
    report = register_report("410325", "2026Q2")
    engine = closure("410325", "2026Q2", by="township")
    for unit in report["units"]:
        numerator, denominator, value = engine[unit["org"]]
        assert (unit["closed_on_time"], unit["due_to_close"], unit["closure_rate"]) == (
            numerator,
            denominator,
            value,
        )


def test_the_records_page_lists_the_petitions_behind_the_figure(client, county, petitions):  # noqa: F811
    from django.urls import reverse

    one, six = petitions
    client.force_login(county.tom)
    url = reverse("records", args=["CASE_CLOSURE_RATE", "410325100", "2026Q2", "numerator"])
    page = client.get(url).content.decode()
    # 城关镇's on-time closures in Q2 are cases 1 and 6 (see ``petitions``).
    assert page.count("data-case=") == 2
    assert one.number in page and six.number in page
    assert "2 petitions behind this figure." in page
    client.force_login(county.charlie)  # 田湖镇's village worker: not his township
    assert client.get(url).status_code == 404
