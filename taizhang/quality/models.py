"""What the audit compares the register with: the figures org units reported, and a census.

``ReportedFigure`` holds the monthly report forms (报表) of villages and townships,
apart from the register: one row per org unit, month, item and *version*. A report is
never edited in place: a changed value is a new version, and the old one stays, with
who submitted each and when. The figure in force is the highest version.

``CensusPopulation`` is a census base: the population of a township or village by sex
and single year of age (``OPEN_AGE`` = 85 stands for 85+) at the middle of the census
year.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

OPEN_AGE = 85


class Item(models.TextChoices):
    BIRTHS = "births", _("Births")
    DEATHS = "deaths", _("Deaths")
    MARRIAGES = "marriages", _("Marriages")
    MOVES_IN = "moves_in", _("Moves in")
    MOVES_OUT = "moves_out", _("Moves out")
    METHOD_STARTS = "method_starts", _("Methods started")


ITEMS: tuple[str, ...] = tuple(Item.values)


def _account() -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )


def _batch() -> models.ForeignKey:
    return models.ForeignKey(
        "imports.ImportBatch",
        db_constraint=False,  # bookkeeping rows, never deleted
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )


class ReportedFigure(models.Model):
    """One value of a monthly report form, as the org unit reported it."""

    org = models.ForeignKey("orgunits.OrgUnit", on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=6)  # the month reported, YYYYMM
    item = models.CharField(max_length=20, choices=Item.choices)
    value = models.PositiveIntegerField()
    version = models.PositiveSmallIntegerField(default=1)  # 1 = first submission
    submitted_at = models.DateTimeField(null=True, blank=True)  # when the org unit sent it
    submitted_by = models.CharField(max_length=100, blank=True)  # who signed the form
    recorded_at = models.DateTimeField()
    recorded_by = _account()
    source = models.CharField(max_length=10)  # "import" or "web"
    batch = _batch()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "period", "item", "version"], name="reported_one_per_version"
            )
        ]
        indexes = [models.Index(fields=["period", "org"], name="reported_period_org")]

    def __str__(self) -> str:
        return f"{self.org_id} {self.period} {self.item} = {self.value} (v{self.version})"


class CensusPopulation(models.Model):
    """The population of an org unit of one sex and age in a census (mid-year)."""

    org = models.ForeignKey("orgunits.OrgUnit", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    sex = models.CharField(max_length=1)
    age = models.PositiveSmallIntegerField()  # OPEN_AGE means OPEN_AGE and over
    population = models.PositiveIntegerField()
    recorded_at = models.DateTimeField()
    recorded_by = _account()
    batch = _batch()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "year", "sex", "age"], name="census_one_per_cell"
            )
        ]

    def __str__(self) -> str:
        age = f"{self.age}+" if self.age == OPEN_AGE else str(self.age)
        return f"{self.org_id} {self.year} {self.sex} {age}: {self.population}"
