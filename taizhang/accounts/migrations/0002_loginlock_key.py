"""Lock-out keyed on the account a login reaches, not on the name as typed.

The old rows were keyed on typed names; they only held short-lived locks, so they go.
"""

from django.db import migrations, models


def forget_typed_names(apps, schema_editor):
    apps.get_model("accounts", "LoginLock").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RunPython(forget_typed_names, migrations.RunPython.noop),
        migrations.RenameField("loginlock", "username", "key"),
        migrations.AlterField("loginlock", "key", models.CharField(max_length=200, unique=True)),
        migrations.AddField(
            "loginlock", "last_failure", models.DateTimeField(blank=True, null=True)
        ),
    ]
