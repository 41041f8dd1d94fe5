"""The name-search index holds the initials too: a search reads the index, not the table."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("register", "0001_initial")]

    operations = [
        migrations.RemoveIndex(model_name="person", name="person_area_name"),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(
                fields=["current_village", "name", "name_initials"], name="person_area_name"
            ),
        ),
    ]
