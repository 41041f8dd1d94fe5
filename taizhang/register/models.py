"""The register: persons, households and their dated life events.

Events are the record of truth and are append-only: a correction is a new
event that names the one it supersedes. Everything else here marked *derived*
(the spells, the birth facts and the cached current state on Person) is
rebuilt from the events by ``taizhang.register.timeline`` and never typed in.

Derived tables hold dates as integers ``YYYYMMDD`` ("ymd"): comparisons are
the same in every SQL dialect, and age in completed years on day D is
``(D - birth) // 10000`` exactly. Spells are half-open ``[start, end)``; an
open spell ends at ``OPEN_END``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

OPEN_END = 99991231

SEX_CHOICES = [("M", "男"), ("F", "女")]


class EventKind(models.TextChoices):
    MARRIAGE = "marriage", "结婚"
    DIVORCE = "divorce", "离婚"
    WIDOWHOOD = "widowhood", "丧偶"
    PREGNANCY = "pregnancy", "怀孕登记"
    OUTCOME = "outcome", "妊娠结局"
    BIRTH = "birth", "出生"
    DEATH = "death", "死亡"
    MOVE_IN = "move_in", "迁入"
    MOVE_OUT = "move_out", "迁出"
    MOVE_WITHIN = "move_within", "县内迁移"
    METHOD_START = "method_start", "开始避孕措施"
    METHOD_STOP = "method_stop", "停止避孕措施"
    CHECKUP = "checkup", "康检"
    SCREENING = "screening", "妇科病普查"
    FOLLOWUP = "followup", "随访"
    EDUCATION = "education", "五期教育"
    VOID = "void", "撤销"  # a correction that retracts the event it supersedes


class Method(models.TextChoices):
    IUD = "iud", "宫内节育器"
    IMPLANT = "implant", "皮下埋植"
    INJECTABLE = "injectable", "避孕针"
    PILL = "pill", "口服避孕药"
    CONDOM = "condom", "避孕套"
    FEMALE_STERILIZATION = "female_sterilization", "女性绝育"
    MALE_STERILIZATION = "male_sterilization", "男性绝育"
    OTHER = "other", "其他"


MODERN_METHODS = frozenset(
    {"iud", "implant", "injectable", "pill", "condom", "female_sterilization", "male_sterilization"}
)
# Methods a man uses; for a couple they count under the wife.
MALE_METHODS = frozenset({"condom", "male_sterilization"})
FEMALE_ONLY_METHODS = frozenset({"iud", "implant", "injectable", "pill", "female_sterilization"})


class Outcome(models.TextChoices):
    STILLBIRTH = "stillbirth", "死产"
    MISCARRIAGE = "miscarriage", "自然流产"
    INDUCED_ABORTION = "induced_abortion", "人工流产"


class DeliveryPlace(models.TextChoices):
    FACILITY = "facility", "住院分娩"
    HOME = "home", "在家分娩"


class LifeStage(models.TextChoices):
    NEWLYWED = "newlywed", "新婚期"
    PREGNANCY = "pregnancy", "孕期"
    LACTATION = "lactation", "哺乳期"
    CHILDREARING = "childrearing", "育儿期"
    MENOPAUSE = "menopause", "更年期"


class PersonStatus(models.TextChoices):
    RESIDENT = "resident", "常住"
    MOVED_OUT = "moved_out", "迁出"
    DECEASED = "deceased", "死亡"
    MERGED = "merged", "已合并"  # a duplicate registration merged into another person
    RETRACTED = "retracted", "已撤销"  # registered by a birth that was retracted


class Household(models.Model):
    number = models.CharField(max_length=40, unique=True)  # 户编号
    village = models.ForeignKey("orgunits.OrgUnit", on_delete=models.PROTECT)
    address = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.number


class Person(models.Model):
    name = models.CharField(max_length=50)
    name_initials = models.CharField(max_length=20, blank=True, db_index=True)  # 王秀英 → wxy
    sex = models.CharField(max_length=1, choices=SEX_CHOICES)
    birth_date = models.DateField()
    # GB 11643 resident ID: AES-GCM ciphertext, and a keyed HMAC "blind index" to find it.
    id_cipher = models.BinaryField()
    id_index = models.CharField(max_length=32, unique=True)
    phone_cipher = models.BinaryField(null=True, blank=True)
    phone_index = models.CharField(max_length=32, blank=True, db_index=True)
    ethnicity = models.CharField(max_length=20, blank=True)
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT)
    # Where the person lived when the register started following them.
    village = models.ForeignKey(
        "orgunits.OrgUnit",
        on_delete=models.PROTECT,
        related_name="registered_persons",
        db_index=False,  # lists and scoping use current_village
    )
    # 户籍地: may lie outside the register's org units (migrants), so a plain code.
    hukou_village = models.CharField(max_length=12)
    live_births_before = models.PositiveSmallIntegerField(default=0)
    mother = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_constraint=False,  # bookkeeping rows, never deleted
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    batch = models.ForeignKey(
        "imports.ImportBatch",
        db_constraint=False,  # bookkeeping rows, never deleted
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # Derived: the state today, cached for listing and scoping (rebuilt with the spells).
    # ``current_village`` is where the person lives, or lived last if they moved out or died:
    # that village's workers keep seeing the record.
    status = models.CharField(
        max_length=10, choices=PersonStatus.choices, default=PersonStatus.RESIDENT
    )
    current_village = models.CharField(max_length=12, blank=True)
    # Registered by a birth event (the child it created): while that birth stands, the
    # person lives with the mother from birth; retracted, the registration goes with it.
    born_in_register = models.BooleanField(default=False)
    # A duplicate registration merged into another person (``taizhang merge-persons``):
    # its events now belong to that person and it has no derived rows of its own.
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        # A name search walks this index instead of the table: inside a township or village
        # its range, in a county all of it. It holds what a search reads (the row id, the
        # name, its initials), so the table's wide rows are never read for it.
        indexes = [
            models.Index(
                fields=["current_village", "name", "name_initials"], name="person_area_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    """One dated life event. Append-only; ``supersedes`` makes it a correction of another."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    date = models.DateField()
    # marriage/divorce: the spouse, registered (spouse) or kept by ID number alone.
    spouse = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    spouse_id_cipher = models.BinaryField(null=True, blank=True)
    spouse_id_index = models.CharField(max_length=32, blank=True)
    child = models.ForeignKey(  # birth; looked up through BirthFact, so no index of its own
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    village = models.CharField(max_length=12, blank=True)  # move_in/move_within: new village
    destination = models.CharField(max_length=200, blank=True)  # move_out: code or text
    method = models.CharField(max_length=24, blank=True, choices=Method.choices)
    outcome = models.CharField(max_length=20, blank=True, choices=Outcome.choices)
    delivery_place = models.CharField(max_length=10, blank=True, choices=DeliveryPlace.choices)
    birth_weight_g = models.PositiveIntegerField(null=True, blank=True)
    lmp_date = models.DateField(null=True, blank=True)
    stage = models.CharField(max_length=20, blank=True, choices=LifeStage.choices)
    findings = models.TextField(blank=True)  # ';'-separated
    reason = models.CharField(max_length=200, blank=True)
    supersedes = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        db_index=False,
    )
    recorded_at = models.DateTimeField()
    # Who recorded it and in which import: shown with the event, never searched by,
    # so no index (an import writes a million events; every index costs).
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_constraint=False,  # bookkeeping rows, never deleted
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    batch = models.ForeignKey(
        "imports.ImportBatch",
        db_constraint=False,  # bookkeeping rows, never deleted
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        # Only couple events name a spouse and only corrections supersede: partial indexes
        # keep a million-row import from maintaining two indexes of NULLs.
        indexes = [
            models.Index(
                fields=["spouse"], name="event_spouse", condition=models.Q(spouse__isnull=False)
            ),
            models.Index(
                fields=["supersedes"],
                name="event_supersedes",
                condition=models.Q(supersedes__isnull=False),
            ),
            models.Index(
                fields=["child"], name="event_child", condition=models.Q(child__isnull=False)
            ),
        ]


# ---------------------------------------------------------------------------
# Derived tables (rebuilt per person by taizhang.register.timeline)


class ResidenceSpell(models.Model):
    """The person lived in ``village`` over [start, end). Sex and birth are copied for stock queries."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    village = models.CharField(max_length=12)
    start = models.IntegerField()
    end = models.IntegerField(default=OPEN_END)
    end_reason = models.CharField(max_length=12, blank=True)  # death, move_out, move_within
    # How the spell began: "" from birth (or where the register started following the
    # person), "move_in" or "move_within". A move in on the birth day is an arrival.
    start_reason = models.CharField(max_length=12, blank=True, default="")
    sex = models.CharField(max_length=1)
    birth = models.IntegerField()

    class Meta:
        # Covering: stock queries read every column here for every spell of an org unit's
        # code range, so SQLite answers them from the index alone (1.9 s → 0.8 s, county × year).
        indexes = [
            models.Index(
                fields=["village", "start", "end", "sex", "birth", "end_reason", "person"],
                name="residence_village",
            )
        ]


class UnionSpell(models.Model):
    """The person was married over [start, end). One row per registered spouse.

    ``counts_marriage`` marks the one row per couple that counts in MARRIAGE_RATE:
    the wife's, or the husband's when the wife is not in the register;
    ``village_at_start`` is where that spouse lived on the wedding day.
    """

    # Indexed by (person, start) below; the spouse is only ever read alongside.
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    spouse = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    start = models.IntegerField()
    end = models.IntegerField(default=OPEN_END)
    end_reason = models.CharField(max_length=12, blank=True)  # divorce, widowhood, death
    counts_marriage = models.BooleanField(default=False)
    village_at_start = models.CharField(max_length=12, blank=True)

    class Meta:
        indexes = [models.Index(fields=["person", "start"], name="union_person")]


class MethodSpell(models.Model):
    """The person used ``method`` over [start, end); ``end`` is the day after the stop date,
    because a woman who stops on day D still counts as using on D (docs/indicators.md)."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    method = models.CharField(max_length=24)
    start = models.IntegerField()
    end = models.IntegerField(default=OPEN_END)
    stop_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["person", "start"], name="method_person")]


class BirthFact(models.Model):
    """One live birth, with what the indicators need fixed at the time of birth."""

    event = models.OneToOneField(
        Event, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    mother = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    child = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    date = models.IntegerField()
    village = models.CharField(max_length=12, blank=True)  # mother's residence that day
    sex = models.CharField(max_length=1)
    birth_order = models.PositiveSmallIntegerField()
    mother_age = models.PositiveSmallIntegerField()
    delivery_place = models.CharField(max_length=10, blank=True)
    recorded = models.IntegerField()  # ymd the birth was recorded

    class Meta:
        indexes = [
            models.Index(fields=["village", "date"], name="birth_village_date"),
            models.Index(fields=["mother", "date"], name="birth_mother"),
            models.Index(fields=["child"], name="birth_child"),
        ]


# ---------------------------------------------------------------------------
# Merges of duplicate registrations (taizhang.register.merges)


class PersonMerge(models.Model):
    """``drop`` was found to be a second registration of ``keep`` and merged into it.

    ``journal`` says exactly which rows were moved from ``drop`` to ``keep``
    (``{"moved": [{"model": "register.event", "pk": 12, "field": "person"}, ...],
    "kept": [...]}``: ``kept`` are the events left with ``drop`` because ``keep``
    already had the same event), so that an undo moves exactly those back.
    """

    keep = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    drop = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=200)
    merged_at = models.DateTimeField()
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_constraint=False,  # bookkeeping rows, never deleted
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    journal = models.JSONField(default=dict)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_constraint=False,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    undo_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"{self.drop_id} → {self.keep_id}"
