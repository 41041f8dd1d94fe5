"""Encrypt at rest the ledger files archived in clear before files were encrypted.

Runs once. Seals only under the installation's configured key, and only when that key
decrypts the register's own ID numbers (``taizhang.ledgers.archive.seal_clear``); the files
are otherwise left as they are, still readable, and are sealed when read. Files are
written one by one, atomically: a conversion cut short leaves every file readable.
"""

from django.db import migrations


def seal_archive(apps, schema_editor):
    LedgerFile = apps.get_model("ledgers", "LedgerFile")
    Person = apps.get_model("register", "Person")
    records = LedgerFile.objects.filter(state="kept").only("path", "sha256").order_by("pk")
    if not records.exists():
        return  # nothing archived: the data folder and the key are not touched
    from taizhang.ledgers import archive

    cipher = Person.objects.values_list("id_cipher", flat=True).order_by("pk").first()
    archive.seal_clear(records.iterator(), register_cipher=cipher)


class Migration(migrations.Migration):
    dependencies = [
        ("ledgers", "0002_returns_attendance"),
        ("register", "0001_initial"),
    ]

    operations = [migrations.RunPython(seal_archive, migrations.RunPython.noop, elidable=True)]
