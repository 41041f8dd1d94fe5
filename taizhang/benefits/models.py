"""Enrolments in benefit schemes and their payments, each with an append-only journal.

Rows change state only through ``taizhang.benefits.actions``; nothing is deleted.
Months are integers ``YYYYMM``; amounts are whole fen (分).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EnrolmentState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    REJECTED = "rejected", _("Rejected")
    ENROLLED = "enrolled", _("Enrolled")
    ENDED = "ended", _("Ended")


class Source(models.TextChoices):
    REGISTER = "register", _("Register")
    APPLICATION = "application", _("Application")
    IMPORT = "import", _("Import")


class EndReason(models.TextChoices):
    DEATH = "death", _("Death")
    MOVED_OUT = "moved_out", _("Moved out of the county")
    INELIGIBLE = "ineligible", _("No longer eligible")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class PaymentStatus(models.TextChoices):
    DUE = "due", _("Due")
    PAID = "paid", _("Paid")
    RETURNED = "returned", _("Returned")
    FAILED = "failed", _("Failed")


class Channel(models.TextChoices):
    BANK = "bank", _("Bank")
    CASH = "cash", _("Cash")
    MOBILE = "mobile", _("Mobile")
    OTHER = "other", _("Other")


def _user_fk(**kwargs):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,  # bookkeeping rows, never deleted
        **kwargs,
    )


class Enrolment(models.Model):
    scheme = models.CharField(max_length=20)
    person = models.ForeignKey(
        "register.Person", on_delete=models.PROTECT, related_name="enrolments"
    )
    payee = models.ForeignKey(
        "register.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    village = models.CharField(max_length=12)  # where the beneficiary lived when proposed
    state = models.CharField(max_length=10, choices=EnrolmentState.choices)
    source = models.CharField(max_length=12, choices=Source.choices)
    start_month = models.IntegerField()  # the first due month
    end_month = models.IntegerField(null=True, blank=True)  # the last due month
    end_date = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=12, choices=EndReason.choices, blank=True)
    proposed_on = models.DateField()
    verified_on = models.DateField(null=True, blank=True)
    verified_by = _user_fk()
    reject_reason = models.TextField(blank=True)
    note = models.TextField(blank=True)
    # The last month run_month has checked this enrolment for (so a run resumes there).
    checked_through = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "person"],
                condition=models.Q(state__in=["proposed", "enrolled"]),
                name="enrolment_one_open",
            )
        ]
        indexes = [models.Index(fields=["village", "scheme", "state"], name="enrolment_area")]

    def __str__(self) -> str:
        return f"{self.scheme} {self.person_id} ({self.state})"


class JournalEntry(models.Model):
    """What every journal row records: the action, the day it took effect, when and by
    whom it was recorded, and its details. Append-only: never updated."""

    on = models.DateField()
    at = models.DateTimeField(auto_now_add=True)
    by = _user_fk()
    detail = models.JSONField(default=dict)

    class Meta:
        abstract = True
        ordering = ["at", "id"]


class EnrolmentAction(JournalEntry):
    """The journal of an enrolment."""

    class Kind(models.TextChoices):
        PROPOSE = "propose", _("Proposed")
        CONFIRM = "confirm", _("Confirmed")
        REJECT = "reject", _("Rejected")
        END = "end", _("Ended")
        IMPORT = "import", _("Imported")
        APPLY = "apply", _("Applied")

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="actions")
    action = models.CharField(max_length=10, choices=Kind.choices)


class Payment(models.Model):
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="payments")
    scheme = models.CharField(max_length=20)
    person = models.ForeignKey("register.Person", on_delete=models.PROTECT, related_name="+")
    village = models.CharField(max_length=12)  # the beneficiary's village when it fell due
    period = models.CharField(max_length=6)  # YYYYMM (monthly) or YYYY (yearly)
    months = models.PositiveSmallIntegerField(default=1)
    amount_fen = models.IntegerField()
    due_date = models.DateField()
    status = models.CharField(
        max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.DUE
    )
    paid_date = models.DateField(null=True, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    reference = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "period"], name="payment_one_per_period")
        ]
        indexes = [models.Index(fields=["village", "due_date"], name="payment_village_due")]

    def __str__(self) -> str:
        return f"{self.scheme} {self.period} {self.person_id} ({self.status})"

    @property
    def amount_yuan(self) -> str:
        return yuan(self.amount_fen)

    @property
    def late(self) -> bool:
        return self.status == PaymentStatus.PAID and self.paid_date > self.due_date


class PaymentAction(JournalEntry):
    """The journal of a payment."""

    class Kind(models.TextChoices):
        LIST = "list", _("Listed")
        PAID = "paid", _("Paid")
        RETURNED = "returned", _("Returned")
        FAILED = "failed", _("Failed")
        IMPORT = "import", _("Imported")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="actions")
    action = models.CharField(max_length=10, choices=Kind.choices)


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals: 8000 → '80.00'."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole}.{part:02d}"
