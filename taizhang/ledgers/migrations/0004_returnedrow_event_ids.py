from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledgers", "0003_seal_archive"),
    ]

    operations = [
        migrations.AddField(
            model_name="returnedrow",
            name="event_ids",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="returnedrow",
            name="history",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
