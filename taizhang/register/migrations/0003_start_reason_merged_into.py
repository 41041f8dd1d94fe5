"""How a residence spell began: a move in on the person's birth day is an arrival, not a
birth. Spells written before are filled in from what they show (a spell that begins the
day another of the person's ended with ``move_within`` began with that move; any other
that begins after birth, with a move in); a rebuild (``taizhang rebuild``) puts right
the few that began with a move in on the birth day. A person merged into another
(a duplicate registration) names that person; a person a birth event registered says so,
and a retracted birth takes that registration with it (status "retracted")."""

from django.db import migrations, models


def fill(apps, schema_editor):
    table = schema_editor.quote_name("register_residencespell")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET start_reason = 'move_in' WHERE start <> birth"  # noqa: S608
        )
        cursor.execute(
            f"UPDATE {table} SET start_reason = 'move_within' WHERE EXISTS ("  # noqa: S608
            f"SELECT 1 FROM {table} AS before WHERE before.person_id = {table}.person_id "
            f"AND before.{schema_editor.quote_name('end')} = {table}.start "
            "AND before.end_reason = 'move_within')"
        )


def born(apps, schema_editor):
    """A child created by a birth event was written in the same import (or, from a web
    form, in the same moment) as the event; a child registered before is only linked."""
    Event = apps.get_model("register", "Event")
    Person = apps.get_model("register", "Person")
    created = dict(Person.objects.values_list("pk", "created_at"))
    batch = dict(Person.objects.values_list("pk", "batch_id"))
    born = []
    for child, event_batch, recorded in Event.objects.filter(
        kind="birth", child__isnull=False
    ).values_list("child_id", "batch_id", "recorded_at"):
        if (
            event_batch is not None
            and batch.get(child) == event_batch
            or (
                event_batch is None
                and batch.get(child) is None
                and child in created
                and abs((created[child] - recorded).total_seconds()) < 2
            )
        ):
            born.append(child)
    for start in range(0, len(born), 5000):
        Person.objects.filter(pk__in=born[start : start + 5000]).update(born_in_register=True)


class Migration(migrations.Migration):
    dependencies = [("register", "0002_person_area_name_initials")]

    operations = [
        migrations.AddField(
            model_name="residencespell",
            name="start_reason",
            field=models.CharField(blank=True, default="", max_length=12),
        ),
        migrations.AddField(
            model_name="person",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to="register.person",
            ),
        ),
        migrations.AlterField(
            model_name="person",
            name="status",
            field=models.CharField(
                choices=[
                    ("resident", "常住"),
                    ("moved_out", "迁出"),
                    ("deceased", "死亡"),
                    ("merged", "已合并"),
                    ("retracted", "已撤销"),
                ],
                default="resident",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="person",
            name="born_in_register",
            field=models.BooleanField(default=False),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                condition=models.Q(("child__isnull", False)),
                fields=["child"],
                name="event_child",
            ),
        ),
        migrations.AddIndex(
            model_name="birthfact",
            index=models.Index(fields=["child"], name="birth_child"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(born, migrations.RunPython.noop),
    ]
