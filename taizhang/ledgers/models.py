"""The archive of ledger files, and family-development support (三结合).

``LedgerFile`` is one file stored under ``<TAIZHANG_DATA>/archive/``: a ledger as it was
generated, or (direction "returned") a filled-in file as it came back. The record stays
when the retention rule removes the file (``state`` becomes "purged").

``FamilySupport`` is one household's voluntary family-development support (training,
credit or aid) that the family ledger lists and takes results back for. Rows change only
through ``taizhang.ledgers.actions``.

``ReturnedRow`` is one filled row of a returned ledger, recorded once by its row key with
the values it was returned with and the events it recorded; returned again with other
values, its events are corrected and its earlier values kept in its ``history``
(``taizhang.ledgers.returns``). ``Attendance`` is one
person checked in at a service session (``taizhang.ledgers.checkin``). Neither holds an
ID number in clear.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def _account() -> models.ForeignKey:
    """Who made, returned or recorded something: bookkeeping rows, never deleted, so
    neither a constraint nor an index."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )


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
    created_by = _account()
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
    created_by = _account()

    class Meta:
        ordering = ["start", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.household_id} ({self.result})"


class ReturnedRow(models.Model):
    """A filled row of a returned ledger, applied once: its row key, the values it came back
    with (text; ID numbers as their blind index) and the changes they made."""

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20)
    village = models.CharField(max_length=12)
    month = models.IntegerField()  # YYYYMM
    task = models.CharField(max_length=40)
    subject = models.CharField(max_length=10)  # person | enrolment | case | household | orgunit
    subject_id = models.BigIntegerField()
    values = models.JSONField(default=dict)
    effects = models.JSONField(default=list)  # ["event:checkup", "benefits.payment", "note"]
    # The register's events the row stands for (a correction's, once the row has been
    # returned again with other values and corrected them).
    event_ids = models.JSONField(default=list, blank=True)
    # The row as it was before each such correction, oldest first: {"values", "event_ids",
    # "effects", "file", "row", "returned_at", "returned_by"}.
    history = models.JSONField(default=list, blank=True)
    file = models.ForeignKey(LedgerFile, on_delete=models.PROTECT, related_name="returned_rows")
    row = models.PositiveIntegerField()  # the row in that file (1 = the first under the header)
    returned_at = models.DateTimeField()
    returned_by = _account()

    class Meta:
        ordering = ["village", "month", "kind", "row"]
        indexes = [models.Index(fields=["village", "month", "kind"], name="returnedrow_ledger")]

    def __str__(self) -> str:
        return self.key


class SessionKind(models.TextChoices):
    CHECKUP = "checkup", _("Check-up")  # 康检
    SCREENING = "screening", _("Screening")  # 妇科病普查
    EDUCATION = "education", _("Education session")  # 五期教育


class CheckInBy(models.TextChoices):
    KEY = "key", _("Row key")
    ID_NUMBER = "id_number", _("ID number")


class Attendance(models.Model):
    """A person checked in at a service session of a kind (and life stage, for education) on
    a day: once per person, kind, stage and day. ``event`` is the register's event."""

    person = models.ForeignKey("register.Person", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=SessionKind.choices)
    stage = models.CharField(max_length=20, blank=True)
    date = models.DateField()
    village = models.CharField(max_length=12)  # where the person lived when checked in
    event = models.ForeignKey(
        "register.Event",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    by = models.CharField(max_length=10, choices=CheckInBy.choices)
    recorded_at = models.DateTimeField()
    recorded_by = _account()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind", "stage", "date"], name="attendance_once_a_day"
            )
        ]
        indexes = [models.Index(fields=["date", "kind", "village"], name="attendance_session")]

    def __str__(self) -> str:
        return f"{self.kind} {self.date} {self.person_id}"
