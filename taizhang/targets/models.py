"""Targets: one per indicator, org unit and year, with the direction that counts as better.

``Target`` holds the value in force; ``TargetChange`` is its append-only journal (set,
changed, withdrawn, set again), written only by ``taizhang.targets.actions``. A target
is never deleted: a withdrawn one is ``active=False`` and keeps its history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Direction(models.TextChoices):
    # "ge": attained when the value is at least the target (higher is better, CPR ≥ 80);
    # "le": attained when it is at most the target (lower is better, SRB ≤ 107).
    GE = "ge", "≥"
    LE = "le", "≤"


def _account() -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )


class Target(models.Model):
    indicator = models.CharField(max_length=40)  # a code of docs/indicators.md
    org = models.ForeignKey("orgunits.OrgUnit", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    value = models.DecimalField(max_digits=14, decimal_places=2)
    direction = models.CharField(max_length=2, choices=Direction.choices)
    active = models.BooleanField(default=True)
    set_by = _account()
    set_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "org", "year"], name="targets_one_per_indicator_org_year"
            )
        ]
        indexes = [models.Index(fields=["year", "indicator"])]

    def __str__(self) -> str:
        return f"{self.indicator} {self.org_id} {self.year} {self.get_direction_display()} {self.value}"


class ChangeKind(models.TextChoices):
    SET = "set", _("Set")
    CHANGE = "change", _("Changed")
    WITHDRAW = "withdraw", pgettext_lazy("target", "Withdrawn")


class TargetChange(models.Model):
    """One change of a target, never edited: what it was before and what it became."""

    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=10, choices=ChangeKind.choices)
    old_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    new_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    old_direction = models.CharField(max_length=2, blank=True)
    new_direction = models.CharField(max_length=2, blank=True)
    by = _account()
    at = models.DateTimeField()
    source = models.CharField(max_length=20, blank=True)  # "web", "import", "cli"

    class Meta:
        ordering = ["at", "id"]
