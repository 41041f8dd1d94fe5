"""Reading cases: overdue lists and the case register (信访台帐), computed by the database.

Counting rules (cases are counted by the org unit they concern, ``Case.org``):

- *Overdue on day D*: not acknowledged by D (no acceptance or refusal on or before D)
  with ``ack_due < D``; or not concluded by D (not closed on or before D, and not
  declined on or before D) with ``conclude_due < D``.
- *Due to close in P* (CASE_CLOSURE_RATE's denominator, docs/indicators.md): cases with
  ``conclude_due`` in P that are not declined; *closed on time* (its numerator): those
  with ``closed_on ≤ conclude_due``; *closed late*: closed after ``conclude_due``.
- *Open at the end of P*: received on or before P's last day and neither closed nor
  declined by then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Substr

from taizhang.cases.models import Case, State
from taizhang.lib.periods import Period, parse
from taizhang.orgunits.models import OrgUnit, prefix_range

TOTAL_KEYS = (
    "received",
    "accepted",
    "declined",
    "due_to_close",
    "closed_on_time",
    "closed_late",
    "open",
    "overdue",
)


def cases_in(org_code: str) -> QuerySet[Case]:
    """Cases concerning an org unit in the subtree of ``org_code``."""
    low, high = prefix_range(org_code)
    return Case.objects.filter(org_id__gte=low, org_id__lt=high)


def _finished_by(day: dt.date) -> Q:
    return Q(closed_on__lte=day) | Q(state=State.DECLINED, acknowledged_on__lte=day)


def ack_overdue_on(day: dt.date) -> Q:
    not_acknowledged = Q(acknowledged_on__isnull=True) | Q(acknowledged_on__gt=day)
    return Q(received_on__lte=day, ack_due__lt=day) & not_acknowledged


def conclude_overdue_on(day: dt.date) -> Q:
    return Q(received_on__lte=day, conclude_due__lt=day) & ~_finished_by(day)


def overdue(org_code: str, as_of: dt.date) -> dict[str, list[Case]]:
    """Cases of the subtree overdue on ``as_of``: ``ack`` (not acknowledged in time) and
    ``conclude`` (not concluded in time), earliest deadline first."""
    cases = cases_in(org_code).select_related("org", "handler")
    return {
        "ack": list(cases.filter(ack_overdue_on(as_of)).order_by("ack_due", "number")),
        "conclude": list(
            cases.filter(conclude_overdue_on(as_of)).order_by("conclude_due", "number")
        ),
    }


def _due_to_close(period: Period) -> Q:
    return Q(conclude_due__gte=period.start, conclude_due__lte=period.end) & ~Q(
        state=State.DECLINED
    )


def _in(field: str, period: Period) -> Q:
    return Q(**{f"{field}__gte": period.start, f"{field}__lte": period.end})


def _totals(cases: QuerySet[Case], period: Period, group) -> list[dict]:
    """The counts of the module docstring, one dict per value of ``group``."""
    due = _due_to_close(period)
    end = period.end
    return list(
        cases.annotate(group=group)
        .values("group")
        .annotate(
            received=Count("id", filter=_in("received_on", period)),
            accepted=Count("id", filter=_in("acknowledged_on", period) & ~Q(state=State.DECLINED)),
            declined=Count("id", filter=_in("acknowledged_on", period) & Q(state=State.DECLINED)),
            due_to_close=Count("id", filter=due),
            closed_on_time=Count("id", filter=due & Q(closed_on__lte=F("conclude_due"))),
            closed_late=Count("id", filter=due & Q(closed_on__gt=F("conclude_due"))),
            open=Count("id", filter=Q(received_on__lte=end) & ~_finished_by(end)),
            overdue=Count("id", filter=ack_overdue_on(end) | conclude_overdue_on(end)),
        )
        .order_by("group")
    )


def closure_rate(on_time: int, due: int) -> float | None:
    """CASE_CLOSURE_RATE as a percentage to 2 decimals; None when nothing was due."""
    return round(100 * on_time / due, 2) if due else None


@dataclass
class RegisterRow:
    """One case of the register (台账)."""

    pk: int
    number: str
    received_on: dt.date
    channel: str
    category: str
    org: str
    org_name: str
    state: str
    handler: str
    ack_due: dt.date
    acknowledged_on: dt.date | None
    ack_on_time: bool | None
    conclude_due: dt.date
    closed_on: dt.date | None
    days_taken: int | None
    on_time: bool | None
    repeat_of: str

    def as_json(self) -> dict:
        return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in vars(self).items()}


def _row(case: Case, period: Period) -> RegisterRow:
    finished = case.closed_on or (case.acknowledged_on if case.state == State.DECLINED else None)
    if case.state == State.DECLINED:
        on_time = None
    elif case.closed_on is not None:
        on_time = case.closed_on <= case.conclude_due
    else:
        on_time = False if case.conclude_due < period.end else None
    return RegisterRow(
        pk=case.pk,
        number=case.number,
        received_on=case.received_on,
        channel=case.channel,
        category=case.category,
        org=case.org_id,
        org_name=case.org.name,
        state=case.state,
        handler=case.handler.username if case.handler else "",
        ack_due=case.ack_due,
        acknowledged_on=case.acknowledged_on,
        ack_on_time=(
            case.acknowledged_on <= case.ack_due if case.acknowledged_on is not None else None
        ),
        conclude_due=case.conclude_due,
        closed_on=case.closed_on,
        days_taken=(finished - case.received_on).days if finished else None,
        on_time=on_time,
        repeat_of=case.repeat_of.number if case.repeat_of else "",
    )


def register_report(org_code: str, period: str | Period) -> dict:
    """The case register of ``org_code``'s subtree for a period.

    ``rows``: every case received in the period, open at some time during it, or due to
    close in it, oldest first. ``units``: the totals of the module docstring per township
    (for a county or larger; otherwise for ``org_code`` itself), each with its
    ``closure_rate`` (CASE_CLOSURE_RATE); ``total``: their sum.
    """
    if not isinstance(period, Period):
        period = parse(period)
    cases = cases_in(org_code)
    listed = cases.filter(
        Q(received_on__lte=period.end)
        & (Q(received_on__gte=period.start) | ~_finished_by(period.start - dt.timedelta(days=1)))
        | _due_to_close(period)
    )
    rows = [
        _row(c, period)
        for c in listed.select_related("org", "handler", "repeat_of").order_by(
            "received_on", "number"
        )
    ]
    width = max(9, len(org_code))
    found = {t.pop("group"): t for t in _totals(cases, period, Substr("org_id", 1, width))}
    if len(org_code) < 9:
        units = set(
            OrgUnit.objects.subtree(org_code).filter(level=4).values_list("code", flat=True)
        )
    else:
        units = {org_code}
    units |= set(found)
    names = dict(OrgUnit.objects.filter(code__in=units).values_list("code", "name"))
    empty = dict.fromkeys(TOTAL_KEYS, 0)
    unit_rows = []
    for code in sorted(units):
        counts = found.get(code, empty)
        unit_rows.append(
            {
                "org": code,
                "name": names.get(code, ""),
                **counts,
                "closure_rate": closure_rate(counts["closed_on_time"], counts["due_to_close"]),
            }
        )
    total = {key: sum(u[key] for u in unit_rows) for key in TOTAL_KEYS}
    total["closure_rate"] = closure_rate(total["closed_on_time"], total["due_to_close"])
    return {
        "org": org_code,
        "period": period.code,
        "start": period.start,
        "end": period.end,
        "rows": rows,
        "units": unit_rows,
        "total": total,
    }
