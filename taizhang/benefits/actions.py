"""The only write path of the benefits app: propose, verify, enrol, list, pay and end.

Each action validates, writes and audits (``taizhang.audit.actions.record``) in one
transaction; bad input is a ``UserError`` and writes nothing. Journals
(EnrolmentAction, PaymentAction) are appended to, never updated; nothing is deleted.
Reading functions (``arrears``, ``payment_list``, ``report``) live here too so that the
web pages and the CLI compute every figure the same way.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Substr

from taizhang import clock
from taizhang.audit.actions import record as audit
from taizhang.benefits import eligibility
from taizhang.benefits.models import (
    Channel,
    EndReason,
    Enrolment,
    EnrolmentAction,
    EnrolmentState,
    Payment,
    PaymentAction,
    PaymentStatus,
    Source,
    yuan,
)
from taizhang.benefits.schemes import (
    Scheme,
    month_last_day,
    month_of,
    months_between,
    next_month,
    previous_month,
    scheme,
    schemes,
)
from taizhang.benefits.scope import in_subtree
from taizhang.errors import UserError
from taizhang.lib.periods import PeriodError, from_ymd, parse, shift_years, ymd
from taizhang.orgunits.models import OrgUnit
from taizhang.register import db
from taizhang.register.models import Person, PersonStatus, ResidenceSpell

OPEN_STATES = (EnrolmentState.PROPOSED, EnrolmentState.ENROLLED)
UNPAID = (PaymentStatus.DUE, PaymentStatus.RETURNED, PaymentStatus.FAILED)
OUTCOMES = (PaymentStatus.PAID, PaymentStatus.RETURNED, PaymentStatus.FAILED)


def _org(org_code: str) -> OrgUnit:
    try:
        return OrgUnit.objects.get(code=org_code)
    except OrgUnit.DoesNotExist:
        raise UserError(f"org unit {org_code} is not in the register") from None


def _not_future(month: int, today: dt.date) -> None:
    if month > month_of(today):
        raise UserError(f"month {month} is in the future")


def _journal(enrolment: Enrolment, action: str, *, user, on: dt.date, **detail) -> None:
    EnrolmentAction.objects.create(
        enrolment=enrolment, action=action, on=on, by=user, detail=detail
    )
    audit(
        f"benefit_{action}",
        user=user,
        object_type="enrolment",
        object_id=enrolment.pk,
        org_code=enrolment.village,
        scheme=enrolment.scheme,
        person=enrolment.person_id,
        **detail,
    )


def _audit_org(action: str, org_code: str, *, user, **detail) -> None:
    """Audit an action on a whole org unit's list (a proposal, a month's run, outcomes)."""
    audit(action, user=user, object_type="orgunit", object_id=org_code, org_code=org_code, **detail)


def payee_of(s: Scheme, person: Person) -> int | None:
    """Who receives the payments: the mother for childcare, else the beneficiary (None)."""
    return person.mother_id if s.rule == "childcare" else None


# ---------------------------------------------------------------------------
# Proposal and verification


@transaction.atomic
def propose(scheme_code: str, org_code: str, month: int, *, user, today: dt.date) -> int:
    """Propose every candidate of the subtree for ``month`` (eligibility.candidates);
    returns how many enrolments were proposed."""
    s = scheme(scheme_code)
    _org(org_code)
    _not_future(month, today)
    found = eligibility.candidates(s, org_code, month)
    if not found:
        return 0
    mothers = {}
    if s.rule == "childcare":
        ids = [c.person_id for c in found]
        mothers = dict(Person.objects.filter(pk__in=ids).values_list("pk", "mother_id"))
    created = Enrolment.objects.bulk_create(
        Enrolment(
            scheme=s.code,
            person_id=c.person_id,
            payee_id=mothers.get(c.person_id),
            village=c.village,
            state=EnrolmentState.PROPOSED,
            source=Source.REGISTER,
            start_month=month,
            proposed_on=today,
        )
        for c in found
    )
    EnrolmentAction.objects.bulk_create(
        EnrolmentAction(
            enrolment=e,
            action=EnrolmentAction.Kind.PROPOSE,
            on=today,
            by=user,
            detail={"month": month, "reason": c.reason_text},
        )
        for e, c in zip(created, found, strict=True)
    )
    _audit_org(
        "benefit_propose", org_code, user=user, scheme=s.code, month=month, proposed=len(created)
    )
    return len(created)


@transaction.atomic
def apply(scheme_code: str, person: Person, *, user, today: dt.date, reason: str) -> Enrolment:
    """An application (e.g. a family whose only child is disabled): a proposed enrolment
    from the month of the application, verified like the others."""
    s = scheme(scheme_code)
    reason = (reason or "").strip()
    if not reason:
        raise UserError("say why the person applies (the reason is empty)")
    if person.status != PersonStatus.RESIDENT:
        raise UserError(f"{person.name} does not live in the county: no application possible")
    open_ = Enrolment.objects.filter(scheme=s.code, person=person, state__in=OPEN_STATES)
    if open_.exists():
        raise UserError(f"{person.name} already has a proposed or current {s.code} enrolment")
    e = Enrolment.objects.create(
        scheme=s.code,
        person=person,
        payee_id=payee_of(s, person),
        village=person.current_village,
        state=EnrolmentState.PROPOSED,
        source=Source.APPLICATION,
        start_month=month_of(today),
        proposed_on=today,
        note=reason,
    )
    _journal(e, EnrolmentAction.Kind.APPLY, user=user, on=today, reason=reason)
    return e


def _locked(enrolment: Enrolment, *states) -> Enrolment:
    e = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if e.state not in states:
        raise UserError(f"the enrolment is {e.state}, not {' or '.join(states)}")
    return e


def _verified(e: Enrolment) -> bool:
    """Applications and imported lists were verified by people, not from the register."""
    return e.source != Source.REGISTER


@transaction.atomic
def confirm(enrolment: Enrolment, *, user, today: dt.date) -> Enrolment:
    """Verified: proposed → enrolled. The start month is the first due month from the
    proposal's month (for an application: the month of the application)."""
    e = _locked(enrolment, EnrolmentState.PROPOSED)
    s = scheme(e.scheme)
    if not _verified(e):
        months = months_between(e.start_month, month_of(today))
        first = next((m for m in months if eligibility.is_due(s, e.person_id, m)), None)
        if first is None:
            raise UserError(
                f"the person has not been due since {e.start_month}: reject the proposal instead"
            )
        e.start_month = first
    e.state = EnrolmentState.ENROLLED
    e.verified_on = today
    e.verified_by = user
    e.save(update_fields=["start_month", "state", "verified_on", "verified_by"])
    _journal(e, EnrolmentAction.Kind.CONFIRM, user=user, on=today, start_month=e.start_month)
    return e


@transaction.atomic
def confirm_many(enrolments: list[Enrolment], *, user, today: dt.date) -> int:
    """Confirm a township's verified list at once, as ``confirm`` would one by one: a
    proposal still due in its own month starts then (one query per scheme and month for
    the whole list); any other goes through ``confirm``. One audit entry for the list.
    Returns how many were confirmed."""
    pks = [e.pk for e in enrolments]
    rows = list(
        Enrolment.objects.select_for_update().filter(pk__in=pks, state=EnrolmentState.PROPOSED)
    )
    if len(rows) != len(set(pks)):
        raise UserError("some of the enrolments are no longer proposed: reload the list")
    groups: dict[tuple[str, int], list[Enrolment]] = defaultdict(list)
    for e in rows:
        if _verified(e):
            confirm(e, user=user, today=today)
        else:
            groups[e.scheme, e.start_month].append(e)
    confirmed = []
    for (code, month), members in groups.items():
        ids = [e.person_id for e in members]
        due = set(
            eligibility.due_spells(scheme(code), month)
            .filter(person_id__in=ids)
            .values_list("person_id", flat=True)
        )
        for e in members:
            if e.person_id in due:
                confirmed.append(e)
            else:
                confirm(e, user=user, today=today)
    for start in range(0, len(confirmed), 2000):
        chunk = [e.pk for e in confirmed[start : start + 2000]]
        Enrolment.objects.filter(pk__in=chunk).update(
            state=EnrolmentState.ENROLLED, verified_on=today, verified_by=user
        )
    EnrolmentAction.objects.bulk_create(
        (
            EnrolmentAction(
                enrolment=e,
                action=EnrolmentAction.Kind.CONFIRM,
                on=today,
                by=user,
                detail={"start_month": e.start_month},
            )
            for e in confirmed
        ),
        batch_size=2000,
    )
    if confirmed:
        townships = {e.village[:9] for e in confirmed}
        audit(
            "benefit_confirm_list",
            user=user,
            object_type="enrolment",
            object_id=confirmed[0].pk,  # the first of the list; all are in ``enrolments``
            org_code=townships.pop() if len(townships) == 1 else "",
            enrolments=[e.pk for e in confirmed],
        )
    return len(rows)


@transaction.atomic
def reject(enrolment: Enrolment, *, user, today: dt.date, reason: str) -> Enrolment:
    """Verified as not eligible: proposed → rejected, with the reason (required)."""
    reason = (reason or "").strip()
    if not reason:
        raise UserError("a rejection needs a reason")
    e = _locked(enrolment, EnrolmentState.PROPOSED)
    e.state = EnrolmentState.REJECTED
    e.reject_reason = reason
    e.verified_on = today
    e.verified_by = user
    e.save(update_fields=["state", "reject_reason", "verified_on", "verified_by"])
    _journal(e, EnrolmentAction.Kind.REJECT, user=user, on=today, reason=reason)
    return e


@transaction.atomic
def withdraw(enrolment: Enrolment, *, user, today: dt.date, note: str = "") -> Enrolment:
    """End an enrolment by hand (withdrawn): the last due month is the month before today's
    (or the last month already checked); the payments still missing up to it are listed."""
    e = _locked(enrolment, EnrolmentState.ENROLLED)
    last = max(previous_month(month_of(today)), previous_month(e.start_month))
    last = max(last, e.checked_through or 0)
    s = scheme(e.scheme)
    _end(e, s, last, today, EndReason.WITHDRAWN, {}, user=user, today=today, note=note)
    return e


def _end(
    e, s: Scheme, last_month: int, on: dt.date, reason: str, villages, *, user, today, **detail
):
    """End ``e`` after ``last_month`` (its last due month), listing the payments still
    missing up to it."""
    months = _months_to_list(e, s, last_month, ended=True)
    created = _list_payments(e, s, months, villages, user=user, today=today)
    _mark_ended(e, last_month, on, reason)
    e.save(update_fields=ENDED_FIELDS)
    _journal(e, "end", user=user, on=on, reason=reason, end_month=last_month, **detail)
    return created


ENDED_FIELDS = ["state", "end_month", "end_date", "end_reason", "checked_through"]


def _mark_ended(e: Enrolment, last_month: int, on: dt.date, reason: str) -> None:
    e.state = EnrolmentState.ENDED
    e.end_month = last_month
    e.end_date = on
    e.end_reason = reason
    e.checked_through = max(last_month, e.checked_through or 0)


def _save_ends(ended: list[Enrolment], *, user) -> None:
    """Save the automatic ends of a monthly run (marked by ``_mark_ended``) with their
    journal entries; the run's audit entry lists them."""
    if not ended:
        return
    table = connection.ops.quote_name(Enrolment._meta.db_table)
    sets = ", ".join(f"{connection.ops.quote_name(f)} = %s" for f in ENDED_FIELDS)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {sets} WHERE id = %s",
            [(*(getattr(e, f) for f in ENDED_FIELDS), e.pk) for e in ended],
        )
    EnrolmentAction.objects.bulk_create(
        (
            EnrolmentAction(
                enrolment=e,
                action=EnrolmentAction.Kind.END,
                on=e.end_date,
                by=user,
                detail={"reason": e.end_reason, "end_month": e.end_month},
            )
            for e in ended
        ),
        batch_size=2000,
    )


# ---------------------------------------------------------------------------
# The monthly run: automatic ends and the payment list


@dataclass
class MonthResult:
    org: str
    month: int
    checked: int = 0
    payments: int = 0
    amount_fen: int = 0
    ended: dict[str, int] = field(default_factory=dict)
    ended_enrolments: list[int] = field(default_factory=list)

    @property
    def amount(self) -> str:
        return yuan(self.amount_fen)


def _first_unchecked(e: Enrolment) -> int:
    return max(e.start_month, next_month(e.checked_through or 0))


def _months_to_list(e: Enrolment, s: Scheme, through: int, *, ended: bool) -> list[int]:
    """The payments to list for ``e`` from its first unchecked month up to ``through``, each
    named by the last month it covers. Monthly: every month. Yearly: each December, and
    when the enrolment ends, its last due month (the year's payment; already listed
    periods are skipped by ``_list_payments``)."""
    months = months_between(_first_unchecked(e), through)
    if not s.yearly:
        return months
    out = [m for m in months if m % 100 == 12]
    if ended and through >= e.start_month and through % 100 != 12:
        out.append(through)
    return out


def _fill_villages(
    enrolments: list[Enrolment], to_list: dict[int, list[int]], seen: dict[int, dict[int, str]]
) -> None:
    """Add to ``seen`` where each beneficiary lived at the end of each month to be listed
    that the run has not seen (one query for them all, not one per payment)."""
    missing = {
        (e.pk, e.person_id, m) for e in enrolments for m in to_list[e.pk] if m not in seen[e.pk]
    }
    if not missing:
        return
    spells: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    ids = sorted({pid for _, pid, _ in missing})
    for start in range(0, len(ids), 2000):
        rows = ResidenceSpell.objects.filter(person_id__in=ids[start : start + 2000])
        for pid, village, begin, end in rows.values_list("person_id", "village", "start", "end"):
            spells[pid].append((village, begin, end))
    for pk, pid, m in missing:
        last = ymd(month_last_day(m))
        village = next((v for v, begin, end in spells[pid] if begin <= last < end), None)
        if village is not None:
            seen[pk][m] = village


def _village_on(person_id: int, month: int) -> str | None:
    last = ymd(month_last_day(month))
    return (
        ResidenceSpell.objects.filter(person_id=person_id, start__lte=last, end__gt=last)
        .values_list("village", flat=True)
        .first()
    )


def _list_payments(e: Enrolment, s: Scheme, months: list[int], villages: dict, *, user, today):
    """Create the missing payments (status due) of ``e`` for ``months`` (see
    ``_months_to_list``); an existing period is left alone. Returns the new payments."""
    if not months:
        return []
    existing = set(Payment.objects.filter(enrolment=e).values_list("period", flat=True))
    return _create_payments(_new_payments(e, s, months, villages, existing), user=user, today=today)


def _listed_periods(enrolments: list[Enrolment]) -> dict[int, set[str]]:
    """The periods already listed for each of ``enrolments`` that fall due in or after
    its first unchecked month (earlier months are never listed again)."""
    listed: dict[int, set[str]] = defaultdict(set)
    if not enrolments:
        return listed
    first = min(_first_unchecked(e) for e in enrolments)
    since = dt.date(first // 100, first % 100, 1)
    ids = [e.pk for e in enrolments]
    for start in range(0, len(ids), 2000):
        rows = Payment.objects.filter(
            enrolment_id__in=ids[start : start + 2000], due_date__gte=since
        )
        for enrolment_id, period in rows.values_list("enrolment_id", "period"):
            listed[enrolment_id].add(period)
    return listed


def _new_payments(
    e: Enrolment, s: Scheme, months: list[int], villages: dict, existing: set[str]
) -> list[Payment]:
    """The payments (not yet saved) of ``e`` for those of ``months`` not in ``existing``."""
    new = []
    for m in months:
        period = s.period_of(m)
        if period in existing:
            continue
        year = m // 100
        if s.yearly:
            first = max(e.start_month, year * 100 + 1)
            count = len(months_between(first, m))
        else:
            count = 1
        village = villages.get(m) or _village_on(e.person_id, m) or e.village
        new.append(
            Payment(
                enrolment=e,
                scheme=s.code,
                person_id=e.person_id,
                village=village,
                period=period,
                months=count,
                amount_fen=s.amount_fen(count),
                due_date=s.due_date(year, m % 100),
            )
        )
    return new


def _journal_payments(entries: list[tuple[int, str, dt.date, dict]], *, user) -> None:
    """Append (payment id, action, date, detail) entries to the payments' journal."""
    adapt = db.date_adapter()
    at = db.adapt_datetime(clock.now())
    by = user.pk if user is not None else None
    db.insert_rows(
        PaymentAction._meta.db_table,
        ("payment_id", "action", "on", "at", "by_id", "detail"),
        [(pk, action, adapt(on), at, by, json.dumps(detail)) for pk, action, on, detail in entries],
    )


def _create_payments(new: list[Payment], *, user, today) -> list[Payment]:
    """Save new payments, each with its "listed" journal entry.

    Written as plain rows (``register.db``: COPY on PostgreSQL) with reserved ids: a
    month's list for a county is tens of thousands of rows, and Django's ``bulk_create``
    spends most of its time preparing each value."""
    if not new:
        return []
    payment_table = Payment._meta.db_table
    adapt = db.date_adapter()
    for p, pk in zip(new, db.reserve_ids(payment_table, len(new)), strict=True):
        p.pk = pk
    db.insert_rows(
        payment_table,
        ("id", "enrolment_id", "scheme", "person_id", "village", "period", "months")
        + ("amount_fen", "due_date", "status", "paid_date", "channel", "reference"),
        [
            (p.pk, p.enrolment_id, p.scheme, p.person_id, p.village, p.period, p.months)
            + (p.amount_fen, adapt(p.due_date), PaymentStatus.DUE, None, "", "")
            for p in new
        ],
    )
    _journal_payments(
        [
            (p.pk, PaymentAction.Kind.LIST, today, {"amount": p.amount_yuan, "months": p.months})
            for p in new
        ],
        user=user,
    )
    for p in new:
        p._state.adding = False
    return new


def _end_causes(s: Scheme, person_ids: list[int], month: int) -> dict[int, tuple[str, dt.date]]:
    """Why each of these beneficiaries is not due for ``month``, and the day it happened:
    their residence ended by death or moving out of the county, or (otherwise) they no
    longer meet the rule — from the day they turned too old, or the month's first day."""
    last = ymd(month_last_day(month))
    first = dt.date(month // 100, month % 100, 1)
    spells: dict[int, list[ResidenceSpell]] = defaultdict(list)
    births: dict[int, dt.date] = {}
    for chunk in range(0, len(person_ids), 2000):
        ids = person_ids[chunk : chunk + 2000]
        for spell in ResidenceSpell.objects.filter(person_id__in=ids, start__lte=last).only(
            "person_id", "end", "end_reason"
        ):
            spells[spell.person_id].append(spell)
        births.update(Person.objects.filter(pk__in=ids).values_list("pk", "birth_date"))
    causes = {}
    for pid in person_ids:
        mine = spells.get(pid, [])
        if mine and not any(sp.end > last for sp in mine):
            latest = max(mine, key=lambda sp: sp.end)
            if latest.end_reason == "death":
                causes[pid] = (EndReason.DEATH, from_ymd(latest.end))
                continue
            if latest.end_reason == "move_out":
                causes[pid] = (EndReason.MOVED_OUT, from_ymd(latest.end))
                continue
        on = first
        if s.max_age is not None:
            birthday = shift_years(births[pid], s.max_age)
            if first <= birthday <= month_last_day(month):
                on = birthday
        causes[pid] = (EndReason.INELIGIBLE, on)
    return causes


def _due_now(s: Scheme, org_code: str, month: int, *, verified: bool) -> dict[int, str]:
    """Enrolled persons of the subtree due ``s`` for ``month``: person → village."""
    enrolled = in_subtree(Enrolment.objects, org_code).filter(
        scheme=s.code, state=EnrolmentState.ENROLLED
    )
    enrolled = (
        enrolled.exclude(source=Source.REGISTER)
        if verified
        else enrolled.filter(source=Source.REGISTER)
    )
    # IN (a list of the enrolled) rather than a correlated EXISTS: the planner reads the
    # enrolments once instead of once per spell (2.2 s → 0.3 s a month for a county).
    spells = eligibility.due_spells(s, month, verified=verified).filter(
        person_id__in=enrolled.values("person_id")
    )
    return dict(spells.values_list("person_id", "village"))


@transaction.atomic
def run_month(org_code: str, month: int, *, user, today: dt.date) -> MonthResult:
    """Bring every enrolled enrolment of the subtree up to ``month``: end those whose
    beneficiary died, moved out or is no longer due (end_month = the last due month),
    and list the missing payments of every due month up to ``month`` (a month whose list
    was never made is caught up; arrears keep their due date). Idempotent."""
    _org(org_code)
    _not_future(month, today)
    result = MonthResult(org_code, month)
    enrolled = in_subtree(Enrolment.objects, org_code).filter(state=EnrolmentState.ENROLLED)
    by_scheme: dict[str, list[Enrolment]] = defaultdict(list)
    # Only what the run reads: a county's enrolments are loaded every month.
    needed = ("scheme", "person_id", "village", "state", "source", "start_month")
    needed += ("checked_through", "end_month", "end_date", "end_reason")
    for e in enrolled.select_for_update().only(*needed).order_by("pk"):
        by_scheme[e.scheme].append(e)
    for code, rows in by_scheme.items():
        s = scheme(code)
        result.checked += len(rows)
        rows = [e for e in rows if _first_unchecked(e) <= month]
        seen: dict[int, dict[int, str]] = defaultdict(dict)  # enrolment → month → village
        to_list: dict[int, list[int]] = {}  # enrolment → the months whose payments to list
        ended: list[Enrolment] = []
        deferred: list[Enrolment] = []  # ends still to come (only in the month of today)
        first = min((_first_unchecked(e) for e in rows), default=month + 1)
        for m in months_between(first, month):
            active = [
                e for e in rows if e.state == EnrolmentState.ENROLLED and _first_unchecked(e) <= m
            ]
            due = {v: _due_now(s, org_code, m, verified=v) for v in {_verified(e) for e in active}}
            stopping = []
            for e in active:
                village = due[_verified(e)].get(e.person_id)
                if village is None:
                    stopping.append(e)
                else:
                    seen[e.pk][m] = village
            causes = _end_causes(s, [e.person_id for e in stopping], m)
            for e in stopping:
                reason, on = causes[e.person_id]
                if on > today:
                    # Not due this month for a cause still to come (a birthday later in
                    # the month): nothing is recorded ahead of its day — a later run ends
                    # it from that day; this one stops checking before the month.
                    deferred.append(e)
                    continue
                # The payments still to list end with its last due month.
                to_list[e.pk] = _months_to_list(e, s, previous_month(m), ended=True)
                _mark_ended(e, previous_month(m), on, reason)
                ended.append(e)
                result.ended[reason] = result.ended.get(reason, 0) + 1
        # The payments of those still running and of those that ended, in one go.
        waiting = {e.pk for e in deferred}
        running = [e for e in rows if e.state == EnrolmentState.ENROLLED and e.pk not in waiting]
        for e in running:
            to_list[e.pk] = _months_to_list(e, s, month, ended=False)
        for e in deferred:
            to_list[e.pk] = _months_to_list(e, s, previous_month(month), ended=False)
        listed = _listed_periods(running + deferred + ended)
        _fill_villages(running + deferred + ended, to_list, seen)
        new = [
            p
            for e in running + deferred + ended
            for p in _new_payments(e, s, to_list[e.pk], seen[e.pk], listed[e.pk])
        ]
        _save_ends(ended, user=user)
        result.ended_enrolments += [e.pk for e in ended]
        created = _create_payments(new, user=user, today=today)
        result.payments += len(created)
        result.amount_fen += sum(p.amount_fen for p in created)
        for start in range(0, len(running), 2000):
            chunk = [e.pk for e in running[start : start + 2000]]
            Enrolment.objects.filter(pk__in=chunk).update(checked_through=month)
        if deferred:
            Enrolment.objects.filter(pk__in=waiting).update(checked_through=previous_month(month))
    _audit_org(
        "benefit_run",
        org_code,
        user=user,
        month=month,
        checked=result.checked,
        payments=result.payments,
        ended=result.ended,
        ended_enrolments=result.ended_enrolments,
    )
    return result


# ---------------------------------------------------------------------------
# Payments


@dataclass(frozen=True)
class Outcome:
    """What happened to one payment: paid, returned (the money came back) or failed, on
    ``paid_date`` (the day of the outcome), through ``channel`` with ``reference``."""

    payment: Payment
    status: str
    paid_date: dt.date | None
    channel: str = ""
    reference: str = ""


def _apply_outcome(p: Payment, o: Outcome, today: dt.date) -> dict:
    """Check ``o`` against the payment ``p`` (as stored) and apply it to ``p``; returns the
    journal's detail. A returned or failed payment stays owed; a later ``paid`` records it
    paid (late if after its due date)."""
    if o.status not in OUTCOMES:
        raise UserError(
            f"{o.status or '(empty)'} is not a payment outcome: use paid|returned|failed"
        )
    if o.channel and o.channel not in Channel.values:
        raise UserError(f"{o.channel} is not a channel: use {'|'.join(Channel.values)}")
    if o.paid_date is None:
        raise UserError("the date of the payment is empty")
    if o.paid_date > today:
        raise UserError(f"the date {o.paid_date} is in the future")
    start = _period_start(p.period)
    if o.paid_date < start:
        raise UserError(f"the date {o.paid_date} is before the period {p.period} began ({start})")
    if p.status == PaymentStatus.PAID and o.status != PaymentStatus.RETURNED:
        raise UserError(f"the payment was already recorded paid on {p.paid_date}")
    reference = o.reference.strip()
    p.status = o.status
    p.paid_date = o.paid_date if o.status == PaymentStatus.PAID else None
    p.channel = o.channel or p.channel
    p.reference = reference or p.reference
    return {
        "amount": p.amount_yuan,
        "channel": o.channel,
        "reference": reference,
        "date": o.paid_date.isoformat(),
    }


@transaction.atomic
def record_payment(
    payment: Payment,
    *,
    status: str,
    paid_date: dt.date | None,
    channel: str = "",
    reference: str = "",
    user,
    today: dt.date,
    source: str = "",
) -> Payment:
    """The outcome of one payment (see ``Outcome``), journaled and audited."""
    p = Payment.objects.select_for_update().get(pk=payment.pk)
    detail = _apply_outcome(p, Outcome(p, status, paid_date, channel, reference), today)
    p.save(update_fields=["status", "paid_date", "channel", "reference"])
    PaymentAction.objects.create(payment=p, action=status, on=paid_date, by=user, detail=detail)
    audit(
        f"benefit_payment_{status}",
        user=user,
        object_type="payment",
        object_id=p.pk,
        org_code=p.village,
        source=source,
        period=p.period,
        **detail,
    )
    return p


@transaction.atomic
def record_payments(
    outcomes: list[Outcome], *, user, today: dt.date, org_code: str, source: str = ""
) -> dict[str, int]:
    """The outcomes of a whole payment list at once (a bank's returned file, a township's
    month): each checked as ``record_payment`` does and journaled; one audit entry for the
    list. Nothing is written if any outcome is refused. Returns the count per status."""
    stored = Payment.objects.select_for_update().in_bulk([o.payment.pk for o in outcomes])
    entries = []
    for o in outcomes:
        p = stored[o.payment.pk]
        entries.append((p.pk, o.status, o.paid_date, _apply_outcome(p, o, today)))
    # One plain UPDATE per payment: Django's bulk_update builds a CASE per column that
    # grows with the list, and is many times slower for a month's list.
    table = connection.ops.quote_name(Payment._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET status = %s, paid_date = %s, channel = %s, reference = %s"
            " WHERE id = %s",
            [
                (p.status, p.paid_date, p.channel, p.reference, p.pk)
                for p in (stored[pk] for pk in dict.fromkeys(o.payment.pk for o in outcomes))
            ],
        )
    _journal_payments(entries, user=user)
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    _audit_org(
        "benefit_payments_recorded",
        org_code,
        user=user,
        source=source,
        payments=[o.payment.pk for o in outcomes],
        **counts,
    )
    return counts


def _period_start(period: str) -> dt.date:
    return dt.date(int(period[:4]), int(period[4:6] or 1), 1)


def arrears(org_code: str, as_of: dt.date) -> list[tuple[Enrolment, list[Payment], int]]:
    """Payments of the subtree due by ``as_of`` and not paid (due, returned, failed),
    ended enrolments included: (enrolment, payments owed, total fen) per enrolment."""
    owed = (
        in_subtree(Payment.objects, org_code)
        .filter(due_date__lte=as_of, status__in=UNPAID)
        .select_related("enrolment", "person")
        .order_by("village", "enrolment_id", "due_date")
    )
    grouped: dict[int, list[Payment]] = {}
    for p in owed:
        grouped.setdefault(p.enrolment_id, []).append(p)
    return [(ps[0].enrolment, ps, sum(p.amount_fen for p in ps)) for ps in grouped.values()]


def payment_list(org_code: str, month: int):
    """The payments of the subtree falling due in ``month``: the month's list to pay."""
    first = dt.date(month // 100, month % 100, 1)
    return (
        in_subtree(Payment.objects, org_code)
        .filter(due_date__gte=first, due_date__lte=month_last_day(month))
        .select_related("person")
        .order_by("village", "scheme", "person__name", "pk")
    )


# ---------------------------------------------------------------------------
# The report per township


@dataclass
class TownshipRow:
    township: str  # code; "" for the totals of the org unit
    township_name: str
    scheme: str
    scheme_name: str
    enrolled: int = 0  # beneficiaries enrolled at the period end
    new: int = 0  # enrolments whose first due month is in the period
    ended: dict[str, int] = field(default_factory=dict)  # by end_reason
    due: int = 0  # payments with due_date in the period
    paid_on_time: int = 0  # ... paid with paid_date ≤ due_date (BENEFIT_PAID_RATE numerator)
    paid_late: int = 0
    unpaid: int = 0
    amount_due_fen: int = 0
    amount_paid_fen: int = 0

    @property
    def ended_total(self) -> int:
        return sum(self.ended.values())

    @property
    def amount_due(self) -> str:
        return yuan(self.amount_due_fen)

    @property
    def amount_paid(self) -> str:
        return yuan(self.amount_paid_fen)

    @property
    def paid_rate(self) -> float | None:
        return round(100 * self.paid_on_time / self.due, 2) if self.due else None

    def add(self, other: TownshipRow) -> None:
        for name in ("enrolled", "new", "due", "paid_on_time", "paid_late", "unpaid"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.amount_due_fen += other.amount_due_fen
        self.amount_paid_fen += other.amount_paid_fen
        for reason, n in other.ended.items():
            self.ended[reason] = self.ended.get(reason, 0) + n

    def as_dict(self) -> dict:
        return {
            "township": self.township,
            "township_name": self.township_name,
            "scheme": self.scheme,
            "enrolled": self.enrolled,
            "new": self.new,
            **{f"ended_{r}": self.ended.get(r, 0) for r in EndReason.values},
            "due": self.due,
            "paid_on_time": self.paid_on_time,
            "paid_late": self.paid_late,
            "unpaid": self.unpaid,
            "amount_due": self.amount_due,
            "amount_paid": self.amount_paid,
            "paid_rate": self.paid_rate,
        }


def _townships(org: OrgUnit) -> dict[str, str]:
    if len(org.code) >= 9:
        code = org.code[:9]
        return dict(OrgUnit.objects.filter(code=code).values_list("code", "name")) or {code: ""}
    return dict(OrgUnit.objects.subtree(org.code).filter(level=4).values_list("code", "name"))


def report(org_code: str, period: str) -> list[TownshipRow]:
    """The benefits report per township × scheme for ``period``, then a total per scheme
    (township ""). Enrolments count where the beneficiary lived when proposed; payments
    where the beneficiary lived when they fell due (as BENEFIT_PAID_RATE counts)."""
    org = _org(org_code)
    try:
        p = parse(period)
    except PeriodError as e:
        raise UserError(str(e)) from None
    first, last = month_of(p.start), month_of(p.end)
    towns = _townships(org)
    found = schemes()
    rows = {(t, c): TownshipRow(t, n, c, found[c].name) for c in found for t, n in towns.items()}

    def row(values) -> TownshipRow | None:
        return rows.get((values["town"], values["scheme"]))

    confirmed = in_subtree(Enrolment.objects, org_code).filter(
        state__in=(EnrolmentState.ENROLLED, EnrolmentState.ENDED)
    )
    counts = (
        confirmed.annotate(town=Substr("village", 1, 9))
        .values("town", "scheme")
        .annotate(
            enrolled=Count(
                "id",
                filter=Q(start_month__lte=last)
                & (Q(end_month__isnull=True) | Q(end_month__gte=last)),
            ),
            new=Count("id", filter=Q(start_month__gte=first, start_month__lte=last)),
        )
    )
    for v in counts:
        if r := row(v):
            r.enrolled, r.new = v["enrolled"], v["new"]
    ended = (
        confirmed.filter(end_month__gte=previous_month(first), end_month__lt=last)
        .annotate(town=Substr("village", 1, 9))
        .values("town", "scheme", "end_reason")
        .annotate(n=Count("id"))
    )
    for v in ended:
        if r := row(v):
            r.ended[v["end_reason"]] = v["n"]
    paid = Q(status=PaymentStatus.PAID)
    payments = (
        in_subtree(Payment.objects, org_code)
        .filter(due_date__gte=p.start, due_date__lte=p.end)
        .annotate(town=Substr("village", 1, 9))
        .values("town", "scheme")
        .annotate(
            due=Count("id"),
            on_time=Count("id", filter=paid & Q(paid_date__lte=F("due_date"))),
            late=Count("id", filter=paid & Q(paid_date__gt=F("due_date"))),
            amount_due=Sum("amount_fen"),
            amount_paid=Sum("amount_fen", filter=paid),
        )
    )
    for v in payments:
        if r := row(v):
            r.due, r.paid_on_time, r.paid_late = v["due"], v["on_time"], v["late"]
            r.unpaid = r.due - r.paid_on_time - r.paid_late
            r.amount_due_fen, r.amount_paid_fen = v["amount_due"] or 0, v["amount_paid"] or 0
    out = sorted(rows.values(), key=lambda r: (r.township, list(found).index(r.scheme)))
    for code, s in found.items():
        total = TownshipRow("", org.name, code, s.name)
        for r in out:
            if r.scheme == code and r.township:
                total.add(r)
        out.append(total)
    return out


# ---------------------------------------------------------------------------
# Imports of existing lists (parsed and checked by taizhang.benefits.imports)


@dataclass
class ImportedEnrolment:
    row: int
    scheme: str
    person: Person
    payee_id: int | None
    start_month: int
    end_month: int | None
    end_reason: str
    verified_by: str
    verified_on: dt.date | None
    note: str
    unchanged: bool = False


@dataclass
class ImportedPayment:
    row: int
    enrolment: Enrolment
    period: str
    amount_fen: int
    due_date: dt.date | None
    status: str
    paid_date: dt.date | None
    outcome_date: dt.date | None
    channel: str
    reference: str
    existing: Payment | None = None
    unchanged: bool = False


def import_enrolments(
    items: list[ImportedEnrolment], *, unchanged: int, user, batch, today: dt.date
) -> dict[str, int]:
    """Write imported enrolments (enrolled, or ended with an end_month), each journaled.
    The monthly run lists their payments from the month of the import on."""
    checked = previous_month(month_of(today))
    for item in items:
        e = Enrolment.objects.create(
            scheme=item.scheme,
            person=item.person,
            payee_id=item.payee_id,
            village=item.person.current_village,
            state=EnrolmentState.ENDED if item.end_month else EnrolmentState.ENROLLED,
            source=Source.IMPORT,
            start_month=item.start_month,
            end_month=item.end_month,
            end_reason=item.end_reason if item.end_month else "",
            proposed_on=today,
            verified_on=item.verified_on or today,
            note=item.note,
            checked_through=item.end_month or (checked if checked >= item.start_month else None),
        )
        EnrolmentAction.objects.create(
            enrolment=e,
            action=EnrolmentAction.Kind.IMPORT,
            on=today,
            by=user,
            detail={
                "row": item.row,
                "batch": batch.pk if batch else None,
                "verified_by": item.verified_by,
            },
        )
    if items:
        audit(
            "benefit_import_enrolments",
            user=user,
            object_type="import_batch",
            object_id=batch.pk if batch else "",
            enrolments=len(items),
        )
    return {"enrolments": len(items), "enrolments_unchanged": unchanged}


def import_payments(
    items: list[ImportedPayment], *, unchanged: int, user, batch, today: dt.date
) -> dict[str, int]:
    """Write imported payments: new ones, and outcomes of payments already listed as owed."""
    counts = {"payments": 0, "payments_updated": 0, "payments_unchanged": unchanged}
    for item in items:
        e = item.enrolment
        p = item.existing
        if p is None:
            p = Payment.objects.create(
                enrolment=e,
                amount_fen=item.amount_fen,
                **_period_facts(e, item.period, item.due_date),
            )
            counts["payments"] += 1
        else:
            counts["payments_updated"] += 1
        p.status = item.status
        p.paid_date = item.paid_date
        p.channel = item.channel or p.channel
        p.reference = item.reference or p.reference
        p.save(update_fields=["status", "paid_date", "channel", "reference"])
        PaymentAction.objects.create(
            payment=p,
            action=PaymentAction.Kind.IMPORT,
            on=item.outcome_date or today,
            by=user,
            detail={
                "row": item.row,
                "batch": batch.pk if batch else None,
                "status": item.status,
                "amount": p.amount_yuan,
                "channel": item.channel,
                "reference": item.reference,
            },
        )
    if items:
        audit(
            "benefit_import_payments",
            user=user,
            object_type="import_batch",
            object_id=batch.pk if batch else "",
            **counts,
        )
    return counts


def _period_facts(e: Enrolment, period: str, due_date: dt.date | None) -> dict:
    """scheme, person, village, period, months and due date of ``e``'s payment for ``period``."""
    s = scheme(e.scheme)
    year = int(period[:4])
    if s.yearly:
        first = max(e.start_month, year * 100 + 1)
        last = min(e.end_month or year * 100 + 12, year * 100 + 12)
        months = len(months_between(first, last))
    else:
        last, months = int(period), 1
    return {
        "scheme": s.code,
        "person_id": e.person_id,
        "village": _village_on(e.person_id, last) or e.village,
        "period": period,
        "months": months,
        "due_date": due_date or s.due_date(year, last % 100),
    }
