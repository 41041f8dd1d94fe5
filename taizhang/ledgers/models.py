"""The archive of ledger files, and family-development support (三结合).

``LedgerFile`` is one file stored under ``<TAIZHANG_DATA>/archive/``: a ledger as it was
generated, or (direction "returned") a filled-in file as it came back. The record stays
when the retention rule removes the file (``state`` becomes "purged").

``FamilySupport`` is one household's voluntary family-development support (training,
credit or aid) that the family ledger lists and takes results back for. Rows change only
through ``taizhang.ledgers.actions``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    GENERATED = "generated", _("Generated")
    RETURNED = "returned", _("Returned")


class FileState(models.TextChoices):
    KEPT = "kept", _("Kept")
    PURGED = "purged", _("Purged")


class LedgerFile(models.Model):
    kind = models.CharField(max_length=20)  # a ledger kind (declarations.LEDGERS)
    village = models.CharField(max_length=12)
    month = models.IntegerField()  # YYYYMM
    format = models.CharField(max_length=4)  # pdf | xlsx | csv
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.GENERATED
    )
    # A returned file answers the generated one its row keys came from (when known).
    answers = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="returns"
    )
    path = models.CharField(max_length=300)  # relative to the archive folder
    original_name = models.CharField(max_length=200, blank=True)  # a returned file's own name
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    rows = models.PositiveIntegerField()
    template_version = models.CharField(max_length=20)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,  # bookkeeping rows, never deleted
        db_index=False,
    )
    source = models.CharField(max_length=100, blank=True)  # "cli", an IP address, ...
    state = models.CharField(max_length=10, choices=FileState.choices, default=FileState.KEPT)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["village", "month", "kind"], name="ledgerfile_village_month"),
            models.Index(fields=["state", "created_at"], name="ledgerfile_retention"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.village} {self.month} {self.format} ({self.direction})"


class SupportKind(models.TextChoices):
    TRAINING = "training", _("Training")  # 技能培训
    CREDIT = "credit", _("Credit")  # 小额信贷
    AID = "aid", _("Aid")  # 帮扶救助


class SupportResult(models.TextChoices):
    ONGOING = "ongoing", _("Ongoing")
    COMPLETED = "completed", _("Completed")
    ENDED = "ended", _("Ended early")


class FamilySupport(models.Model):
    """A household's family-development support, asked for by the household itself."""

    household = models.ForeignKey(
        "register.Household", on_delete=models.PROTECT, related_name="supports"
    )
    person = models.ForeignKey(  # the member taking part, when one does
        "register.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=SupportKind.choices)
    description = models.CharField(max_length=200, blank=True)
    applied_on = models.DateField()  # the household asked for it: support is voluntary
    start = models.DateField()
    result = models.CharField(
        max_length=10, choices=SupportResult.choices, default=SupportResult.ONGOING
    )
    result_on = models.DateField(null=True, blank=True)  # when it was completed or ended
    result_note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        ordering = ["start", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.household_id} ({self.result})"
