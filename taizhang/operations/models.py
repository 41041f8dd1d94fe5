"""What the installation keeps about itself: the fingerprint of the key its register is
written with (``taizhang.operations.keys``)."""

from django.db import models


class KeyFingerprint(models.Model):
    """The one row (id 1): the fingerprint (``crypto.fingerprint``) of the key the
    register's ID and phone numbers are encrypted with — never the key itself."""

    fingerprint = models.CharField(max_length=64)
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.fingerprint
