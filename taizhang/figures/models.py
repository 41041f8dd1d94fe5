"""The maintained figures: counts per org unit, month and measure, kept up to date by
every write of the register's derived rows (``taizhang.figures.store``).

A **flow** (births, deaths, marriages) is stored as its count in each month. A **stock**
(residents, married women 15–49, method users at a month's end) is stored as its change
from the end of the month before (kind ``d``) and, every December, as its value at that
month's end (kind ``s``): a stock at any month's end is the December before it plus the
changes since, at most thirteen rows. Every row is kept for each org unit that holds
the village (village, township, county), so a county's figure is read, not added up.
"""

from __future__ import annotations

from django.db import models

DELTA = "d"
STOCK = "s"


class Cell(models.Model):
    """One count: ``measure`` in org unit ``unit`` for the month ``month`` (YYYYMM), per
    ``key`` (an age, a parity; 0 when the measure has none)."""

    measure = models.CharField(max_length=24)
    unit = models.CharField(max_length=12)
    level = models.PositiveSmallIntegerField(help_text="the length of the unit's code")
    month = models.IntegerField()
    kind = models.CharField(max_length=1, choices=[(DELTA, "in the month"), (STOCK, "at its end")])
    key = models.IntegerField(default=0)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "unit", "month", "kind", "key"], name="figures_cell_unique"
            )
        ]


class State(models.Model):
    """What the cells hold: the months from ``first`` to ``last`` (YYYYMM, both Decembers
    or later), for org units whose codes have one of ``levels`` (lengths, comma-separated),
    by the measures of ``version``. No row: nothing is maintained and every figure is
    counted from the register's tables."""

    first = models.IntegerField()
    last = models.IntegerField()
    levels = models.CharField(max_length=40)
    version = models.IntegerField()
    built_at = models.DateTimeField()
