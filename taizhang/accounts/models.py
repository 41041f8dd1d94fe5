"""Accounts: each user has one org unit and one role, and sees only that subtree."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", _("County administrator")
    TOWNSHIP_STATISTICIAN = "township_statistician", _("Township statistician")
    VILLAGE_WORKER = "village_worker", _("Village worker")


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    org_unit = models.ForeignKey("orgunits.OrgUnit", on_delete=models.PROTECT)
    role = models.CharField(max_length=30, choices=Role.choices)

    def __str__(self) -> str:
        return f"{self.user.username} ({self.role}, {self.org_unit_id})"


class LoginLock(models.Model):
    """Failed logins per username; too many in a row lock the name for a while."""

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
