"""The journal of corrections: every request to correct or retract an event, who asked,
who decided, and what it changed; and the revisions of reported months' recorded figures.

A request is never edited but by the named steps of its life: made (``pending``, or
``applied`` at once when its maker may apply it), then ``applied`` or ``refused`` by an
approver. ``correction`` is the register's event that applied it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    CORRECT = "correct", _("Correct")
    RETRACT = "retract", _("Retract")


class Status(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPLIED = "applied", _("In effect")
    REFUSED = "refused", _("Refused")


class Source(models.TextChoices):
    WEB = "web", _("Person's page")
    IMPORT = "import", _("Import")
    LEDGER = "ledger", _("Returned ledger")


def _account(**kwargs) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_constraint=False,  # bookkeeping rows, never deleted
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        **kwargs,
    )


class CorrectionRequest(models.Model):
    event = models.ForeignKey(
        "register.Event", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    person = models.ForeignKey(
        "register.Person",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    # The event's columns as they should have been (the events import's keys, as text);
    # what is not here keeps its value.
    values = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=200)
    village = models.CharField(max_length=12)  # the person's village: who approves
    months = models.JSONField(default=list)  # YYYYMM of the months the correction changes
    status = models.CharField(max_length=10, choices=Status.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    requested_at = models.DateTimeField()
    requested_by = _account()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = _account()
    decision_note = models.CharField(max_length=200, blank=True)
    # The requester has not yet seen an approver's decision.
    unseen_decision = models.BooleanField(default=False)
    correction = models.ForeignKey(
        "register.Event",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    batch = models.ForeignKey(
        "imports.ImportBatch",
        db_constraint=False,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["status", "village"], name="correction_status_village"),
            models.Index(fields=["requested_by", "status"], name="correction_requester"),
        ]

    def __str__(self) -> str:
        return f"{self.action} event {self.event_id} ({self.status})"


class Revision(models.Model):
    """A reported month's recorded figure changed by corrections: before and after."""

    org = models.CharField(max_length=12)  # a village or township that reported the month
    period = models.CharField(max_length=6)  # YYYYMM
    item = models.CharField(max_length=20)  # taizhang.quality.models.Item
    before = models.IntegerField()
    after = models.IntegerField()
    requests = models.JSONField(default=list)  # the CorrectionRequest ids that changed it
    revised_at = models.DateTimeField()
    revised_by = _account()

    class Meta:
        ordering = ["period", "org", "item", "revised_at", "id"]
        indexes = [models.Index(fields=["period", "org"], name="revision_period_org")]

    def __str__(self) -> str:
        return f"{self.org} {self.period} {self.item}: {self.before} → {self.after}"
