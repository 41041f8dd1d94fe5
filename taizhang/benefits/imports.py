"""Import of existing benefit lists: enrolments and payments (columns in
``taizhang.imports.columns``; docs/imports.md).

Every row is checked first — the person must be in the register (found by the blind
index of the ID number; for a user with an org unit, living inside it: a person outside
answers as one not in the register, docs/imports.md "Writes across areas"), the scheme a
known code, months ``YYYYMM`` — and a bad row is reported as ``row N: column: reason``;
``taizhang.imports.service`` then writes nothing. Valid rows are written by
``taizhang.benefits.actions`` (the one write path). Importing the same file again
changes nothing (counted as ``unchanged``).

Enrolments import as enrolled (ended when ``end_month`` is given), source ``import``.
The payments before the month of the import come from the lists themselves (the
payments file); the monthly run lists payments from the month of the import on.

Payments: ``period`` is ``YYYYMM`` for a monthly scheme and ``YYYY`` for a yearly one;
``amount`` in yuan (``80`` or ``80.00``); ``status`` paid|returned|failed|due (paid
when a ``paid_date`` is given, else due); the person must have an enrolment in the
scheme covering the period. A payment the register lists as owed and the file shows
paid, returned or failed is updated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal, InvalidOperation

from taizhang.accounts.scope import within, write_area
from taizhang.benefits import actions
from taizhang.benefits.models import (
    Channel,
    EndReason,
    Enrolment,
    EnrolmentState,
    Payment,
    PaymentStatus,
    yuan,
)
from taizhang.benefits.schemes import Scheme, UserError, month_of, parse_month, schemes
from taizhang.imports import fields
from taizhang.imports.fields import FieldError
from taizhang.lib import crypto, idnumber
from taizhang.register import db
from taizhang.register.models import Person

PAYMENT_STATUSES = ("paid", "returned", "failed", "due")


class _Rows:
    """What both importers share: reading a row's fields and finding its persons."""

    def __init__(self, ctx, id_keys: tuple[str, ...]):
        self.ctx = ctx
        self.today = ctx.today
        self.schemes = schemes()
        ids = set()
        for _n, values in ctx.table.rows:
            for key in id_keys:
                with contextlib.suppress(idnumber.IDNumberError):
                    ids.add(idnumber.normalize(ctx.table.get(values, key), today=self.today))
        index = {crypto.blind_index(idn): idn for idn in ids}
        area = write_area(ctx.user)
        self.persons: dict[str, Person] = {}
        for part in db.chunks(list(index)):
            for p in Person.objects.filter(id_index__in=part).only(
                "pk", "name", "mother_id", "current_village", "status"
            ):
                if within(area, p.current_village):
                    self.persons[index[p.id_index]] = p

    def person(self, raw: str) -> Person:
        idn = fields.id_number(raw, self.today)
        if idn not in self.persons:
            raise FieldError(f"no person with ID number {idnumber.mask(idn)} is in the register")
        return self.persons[idn]

    def scheme(self, raw: str) -> Scheme:
        return self.schemes[fields.choice(raw, tuple(self.schemes), what="scheme")]

    def month(self, raw: str) -> int:
        try:
            month = parse_month(raw)
        except UserError as e:
            raise FieldError(str(e)) from None
        if month > month_of(self.today):
            raise FieldError(f"{month} is in the future")
        return month


def _import(ctx, parse, write, what: str) -> dict[str, int]:
    """Run ``parse(n, get)`` on every row (a FieldError becomes that row's error); when
    every row is valid, ``write`` the items that change something and count the others."""
    items = []
    for n, values in ctx.table.rows:
        column = ["id_number"]

        def get(key, values=values, column=column):
            column[0] = key
            return ctx.table.get(values, key)

        try:
            items.append(parse(n, get))
        except FieldError as e:
            ctx.errors.add(n, e.column or column[0], str(e))
    if ctx.errors:
        return {what: 0}
    return write(
        [i for i in items if not i.unchanged],
        unchanged=sum(i.unchanged for i in items),
        user=ctx.user,
        batch=ctx.batch,
        today=ctx.today,
    )


# ---------------------------------------------------------------------------
# Enrolments


def run_enrolments(ctx) -> dict[str, int]:
    rows = _Rows(ctx, ("id_number", "payee_id_number"))
    seen: dict[tuple[str, int], int] = {}

    def parse(n, get) -> actions.ImportedEnrolment:
        person = rows.person(get("id_number"))
        s = rows.scheme(get("scheme"))
        if (s.code, person.pk) in seen:
            raise FieldError(
                f"the person's {s.code} enrolment is already in row {seen[s.code, person.pk]}"
            )
        seen[s.code, person.pk] = n
        start = rows.month(get("start_month"))
        end = get("end_month")
        end = rows.month(end) if end else None
        if end is not None and end < start:
            raise FieldError(f"{end} is before the start month {start}")
        reason = get("end_reason")
        if end is not None or reason:
            reason = fields.choice(reason, tuple(EndReason.values), what="reason to end")
            if end is None:
                raise FieldError("an enrolment that ended needs its end_month", "end_month")
        payee = get("payee_id_number")
        payee = rows.person(payee).pk if payee else actions.payee_of(s, person)
        verified_on = fields.optional_date(get("verified_on"), rows.today, what="verification date")
        item = actions.ImportedEnrolment(
            row=n,
            scheme=s.code,
            person=person,
            payee_id=payee,
            start_month=start,
            end_month=end,
            end_reason=reason,
            verified_by=get("verified_by"),
            verified_on=verified_on,
            note=get("note"),
        )
        _check_existing(item)
        return item

    return _import(ctx, parse, actions.import_enrolments, "enrolments")


def _check_existing(item: actions.ImportedEnrolment) -> None:
    """The same enrolment already imported is unchanged; a different one is an error."""
    mine = Enrolment.objects.filter(scheme=item.scheme, person=item.person)
    same = mine.filter(start_month=item.start_month, end_month=item.end_month)
    state = EnrolmentState.ENDED if item.end_month else EnrolmentState.ENROLLED
    if same.filter(state=state).exists():
        item.unchanged = True
        return
    other = mine.filter(state__in=actions.OPEN_STATES).first()
    if other is not None:
        raise FieldError(
            f"{item.person.name} already has a {other.state} {item.scheme} enrolment "
            f"from {other.start_month}",
            "id_number",
        )


# ---------------------------------------------------------------------------
# Payments


def _amount(raw: str) -> int:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        value = None
    if (
        value is None
        or not value.is_finite()
        or value < 0
        or value != value.quantize(Decimal("0.01"))
    ):
        raise FieldError(f"{raw or '(empty)'} is not an amount in yuan (e.g. 80 or 80.00)")
    return int(value * 100)


def _period(raw: str, s: Scheme) -> tuple[str, int, int]:
    """The period code and its first and last months."""
    text = raw.strip()
    if s.yearly:
        if not (len(text) == 4 and text.isdigit()):
            raise FieldError(f"{raw or '(empty)'} is not a year: {s.code} is paid yearly (YYYY)")
        return text, int(text) * 100 + 1, int(text) * 100 + 12
    try:
        month = parse_month(text)
    except UserError:
        raise FieldError(
            f"{raw or '(empty)'} is not a month: {s.code} is paid monthly (YYYYMM)"
        ) from None
    return str(month), month, month


def run_payments(ctx) -> dict[str, int]:
    rows = _Rows(ctx, ("id_number",))
    seen: dict[tuple[int, str], int] = {}

    def parse(n, get) -> actions.ImportedPayment:
        person = rows.person(get("id_number"))
        s = rows.scheme(get("scheme"))
        period, first, last = _period(get("period"), s)
        if first > month_of(rows.today):
            raise FieldError(f"{period} is in the future")
        enrolment = (
            Enrolment.objects.filter(
                scheme=s.code,
                person=person,
                state__in=(EnrolmentState.ENROLLED, EnrolmentState.ENDED),
                start_month__lte=last,
            )
            .exclude(end_month__lt=first)
            .first()
        )
        if enrolment is None:
            raise FieldError(f"{person.name} has no {s.code} enrolment covering {period}")
        if (enrolment.pk, period) in seen:
            raise FieldError(
                f"the payment for {period} is already in row {seen[enrolment.pk, period]}"
            )
        seen[enrolment.pk, period] = n
        amount = _amount(get("amount"))
        due = get("due_date")
        due = fields.date(due, dt.date.max, what="due date") if due else None
        paid = fields.optional_date(get("paid_date"), rows.today, what="payment date")
        if paid is not None and paid < dt.date(first // 100, first % 100, 1):
            raise FieldError(f"{paid} is before the period {period} began")
        status = get("status")
        if status:
            status = fields.choice(status, PAYMENT_STATUSES, what="payment status")
        else:
            status = PaymentStatus.PAID if paid else PaymentStatus.DUE
        if status == PaymentStatus.PAID and paid is None:
            raise FieldError("a paid payment needs its paid_date", "paid_date")
        channel = get("channel")
        channel = fields.choice(channel, tuple(Channel.values), what="channel") if channel else ""
        item = actions.ImportedPayment(
            row=n,
            enrolment=enrolment,
            period=period,
            amount_fen=amount,
            due_date=due,
            status=status,
            paid_date=paid if status == PaymentStatus.PAID else None,
            outcome_date=paid,
            channel=channel,
            reference=get("reference"),
        )
        _compare(item)
        return item

    return _import(ctx, parse, actions.import_payments, "payments")


def _compare(item: actions.ImportedPayment) -> None:
    """Against the payment already listed for the period, if any."""
    p = Payment.objects.filter(enrolment=item.enrolment, period=item.period).first()
    if p is None:
        return
    item.existing = p
    if p.amount_fen != item.amount_fen:
        raise FieldError(
            f"the payment for {item.period} is listed at {p.amount_yuan} yuan, "
            f"not {yuan(item.amount_fen)}",
            "amount",
        )
    if (p.status, p.paid_date, p.channel, p.reference) == (
        item.status,
        item.paid_date,
        item.channel or p.channel,
        item.reference or p.reference,
    ):
        item.unchanged = True
        return
    if p.status == PaymentStatus.PAID or item.status == PaymentStatus.DUE:
        raise FieldError(
            f"the payment for {item.period} is already recorded {p.status}"
            + (f" on {p.paid_date}" if p.paid_date else ""),
            "status",
        )
