"""Petitions and complaints (信访): the case, its append-only journal and its attachments.

``CaseAction`` rows are the record of truth: each named action (accept, assign,
reply ...) is one row, never edited. The ``state`` and the ``*_on`` dates on
``Case`` are a cache of the journal, written only by ``taizhang.cases.actions``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def _account() -> models.ForeignKey:
    """Who recorded a row: shown with it, never searched by."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )


class Channel(models.TextChoices):
    VISIT = "visit", _("Visit")  # 来访
    LETTER = "letter", _("Letter")  # 来信
    PHONE = "phone", _("Phone call")  # 来电
    ONLINE = "online", _("Online")  # 网上


class Category(models.TextChoices):
    SERVICES = "services", _("Quality of services")  # 服务质量
    BENEFITS = "benefits", _("Rewards and assistance")  # 奖励扶助
    REGISTRATION = "registration", _("Registration and certificates")  # 登记办证
    STAFF_CONDUCT = "staff_conduct", _("Conduct of staff")  # 工作作风
    INFORMATION = "information", _("Policy enquiry")  # 政策咨询
    OTHER = "other", _("Other")  # 其他


class State(models.TextChoices):
    RECEIVED = "received", _("Received")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    ASSIGNED = "assigned", _("Assigned")
    REPLIED = "replied", _("Replied")
    VISITED = "visited", _("Return visit made")
    CLOSED = "closed", _("Closed")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")  # 满意
    PARTLY = "partly", _("Partly satisfied")  # 基本满意
    UNSATISFIED = "unsatisfied", _("Not satisfied")  # 不满意
    UNREACHABLE = "unreachable", _("Could not be reached")  # 无法联系


class ActionKind(models.TextChoices):
    RECEIVE = "receive", _("Received")
    ACCEPT = "accept", _("Accepted")
    DECLINE = "decline", _("Declined")
    ASSIGN = "assign", _("Assigned")
    REPLY = "reply", _("Replied")
    RETURN_VISIT = "return_visit", _("Return visit")
    CLOSE = "close", _("Closed")
    REOPEN = "reopen", _("Repeat petition")
    ATTACH = "attach", _("Attachment added")
    NOTE = "note", _("Note")


class Case(models.Model):
    number = models.CharField(max_length=40, unique=True)  # XF-2026-000123, or an imported one
    received_on = models.DateField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    anonymous = models.BooleanField(default=False)
    # Petitioner details: AES-GCM ciphertexts (taizhang.lib.crypto), as for persons.
    petitioner_name_cipher = models.BinaryField(null=True, blank=True)
    petitioner_id_cipher = models.BinaryField(null=True, blank=True)
    petitioner_phone_cipher = models.BinaryField(null=True, blank=True)
    # Blind index of the ID number: finds the earlier petitions of the same person.
    petitioner_id_index = models.CharField(max_length=32, blank=True, db_index=True)
    petitioner = models.ForeignKey(  # when the petitioner is in the register
        "register.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    subject = models.TextField()
    category = models.CharField(max_length=20, choices=Category.choices)
    # The org unit the petition concerns: scoping uses it.
    org = models.ForeignKey("orgunits.OrgUnit", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RECEIVED)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handled_cases",
    )
    handler_org = models.ForeignKey(
        "orgunits.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ack_due = models.DateField()
    conclude_due = models.DateField()
    acknowledged_on = models.DateField(null=True, blank=True)
    replied_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    satisfaction = models.CharField(max_length=12, choices=Satisfaction.choices, blank=True)
    repeat_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="repeats"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = _account()

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(fields=["org", "received_on"], name="case_org_received"),
            models.Index(fields=["handler_org"], name="case_handler_org"),
            models.Index(fields=["conclude_due"], name="case_conclude_due"),
        ]

    def __str__(self) -> str:
        return self.number


class CaseAction(models.Model):
    """One journaled action on a case. Append-only: never updated, never deleted."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="journal")
    action = models.CharField(max_length=20, choices=ActionKind.choices)
    on = models.DateField()  # the day it took effect
    at = models.DateTimeField()  # when it was recorded
    by = _account()
    detail = models.JSONField(default=dict)

    class Meta:
        ordering = ["on", "at", "id"]


class Attachment(models.Model):
    """A file attached to a case, stored once under ``<TAIZHANG_DATA>/attachments/<sha256>``.
    Never deleted."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = _account()

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.filename
