"""The org-unit tree: province/city (2/4 digits) → county (6) → township (9) → village (12).

A child's code starts with its parent's, so a subtree is a code-prefix range and
every "sum of the subtree" is one indexed range condition.
"""

from __future__ import annotations

from django.db import models

LEVEL_BY_LENGTH = {2: 1, 4: 2, 6: 3, 9: 4, 12: 5}
LEVEL_NAMES = {1: "province", 2: "city", 3: "county", 4: "township", 5: "village"}
LENGTH_BY_LEVEL_NAME = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}


def prefix_range(code: str) -> tuple[str, str]:
    """[low, high) such that every code starting with ``code`` lies inside it.

    Codes are digits, and ':' sorts right after '9', so incrementing the last
    character never needs a carry.
    """
    return code, code[:-1] + chr(ord(code[-1]) + 1)


class OrgUnitQuerySet(models.QuerySet):
    def subtree(self, code: str) -> OrgUnitQuerySet:
        low, high = prefix_range(code)
        return self.filter(code__gte=low, code__lt=high)

    def villages(self) -> OrgUnitQuerySet:
        return self.filter(level=5)


class OrgUnit(models.Model):
    code = models.CharField(max_length=12, primary_key=True)
    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.PositiveSmallIntegerField()

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]

    @property
    def is_village(self) -> bool:
        return self.level == 5
