"""One row per successful import: what file, whose, when and what it changed."""

from django.conf import settings
from django.db import models


class ImportBatch(models.Model):
    kind = models.CharField(max_length=20)
    filename = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64, db_index=True)
    rows = models.PositiveIntegerField()
    counts = models.JSONField(default=dict)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT)
    at = models.DateTimeField(auto_now_add=True)
