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
    """Password checks counted against one key: an account (``user:<id>``), a name that
    is nobody's (``name:<normalised name>``) or a source address (``address:<ip>``).

    ``failures`` counts checks reserved and not (yet) proven right, so a burst of
    concurrent guesses cannot check more passwords than the limit (see ``lockout``).
    """

    key = models.CharField(max_length=200, unique=True)
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_failure = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"
