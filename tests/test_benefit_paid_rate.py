"""BENEFIT_PAID_RATE from the indicator engine, on the register of test_benefits: checked
by hand and against the benefits report; and a payment list recorded at once."""

from __future__ import annotations

import pytest
from test_benefits import COUNTY, A, B, C, county, d, payment, reward  # noqa: F401 (fixtures)

from taizhang.benefits import actions as benefits
from taizhang.benefits.actions import Outcome
from taizhang.errors import UserError
from taizhang.indicators.engine import compute, records_behind

pytestmark = pytest.mark.django_db


def test_it_counts_payments_due_in_the_period_and_paid_by_their_due_date(reward):  # noqa: F811
    # Reward payments of 2026Q2 (run through June): 赵桂英 Apr, May, Jun and 吴玉芬 Apr (she
    # moved out in May), all of village A. One township's list recorded at once: 赵桂英's
    # April paid on its due date 04-30 (on time), May on 06-01 (late); 吴玉芬's April failed
    # on 05-02 and was paid on 05-10 (late). On time 1 of 4 due → 25%.
    benefits.run_month(COUNTY, 202606, user=reward.ada, today=d("2026-07-01"))
    april = payment(reward.mover, "202604")
    counts = benefits.record_payments(
        [
            Outcome(payment(reward.two_d, "202604"), "paid", d("2026-04-30"), "bank"),
            Outcome(payment(reward.two_d, "202605"), "paid", d("2026-06-01"), "bank"),
            Outcome(april, "failed", d("2026-05-02"), "bank"),
            Outcome(april, "paid", d("2026-05-10"), "cash", "R-1"),
        ],
        user=reward.ada,
        today=d("2026-07-01"),
        org_code="410325100",
    )
    assert counts == {"paid": 3, "failed": 1}
    april.refresh_from_db()
    assert (april.status, april.paid_date, april.channel, april.reference) == (
        "paid",
        d("2026-05-10"),
        "cash",
        "R-1",
    )
    assert list(april.actions.values_list("action", flat=True)) == ["list", "failed", "paid"]
    figure = compute("410325", "2026Q2", ["BENEFIT_PAID_RATE"], by="village")
    assert {r["org"]: r["indicators"][0]["value"] for r in figure} == {A: 25.0, B: None, C: None}
    # The benefits report's figures are the engine's.
    row = {(r.township, r.scheme): r for r in benefits.report(COUNTY, "2026Q2")}[
        "410325100", "reward"
    ]
    assert (row.paid_on_time, row.due, row.paid_rate) == (1, 4, 25.0)
    assert records_behind("BENEFIT_PAID_RATE", "410325", "2026Q2") == [reward.two_d.pk]


def test_it_records_a_payment_list_whole_or_not_at_all(reward):  # noqa: F811
    good = payment(reward.two_d, "202601")
    with pytest.raises(UserError, match="the date 2026-03-02 is in the future"):
        benefits.record_payments(
            [
                Outcome(good, "paid", d("2026-01-31")),
                Outcome(payment(reward.two_d, "202602"), "paid", d("2026-03-02")),
            ],
            user=reward.ada,
            today=d("2026-03-01"),
            org_code=COUNTY,
        )
    good.refresh_from_db()
    assert (good.status, good.actions.count()) == ("due", 1)
