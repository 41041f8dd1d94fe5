"""Merging a duplicate registration into the person's other record, and undoing it.

``merge_persons(keep, drop)`` moves everything that names ``drop`` to ``keep``: its
events (as the person, the spouse of a couple event, the child of a birth), the
children it is the mother of, and every row of every app with a foreign key to a person
(benefit enrolments and payments, petitions, ledger attendance, family support ...).
The derived tables are not moved: they are rebuilt (``actions.rebuild``) for both
persons and everyone whose derived state depends on them (spouses, children, mothers).
``drop`` then names ``keep`` in ``merged_into`` and has no derived rows: it counts
nowhere, and every figure counts the person once.

- An event of ``drop`` that ``keep`` already has (the same ``actions.event_key`` once
  re-pointed) is not moved: it stays with ``drop``, where it counts nowhere, together
  with the events it corrects. The journal lists it under ``kept``.
- A merge is refused, with nothing written, for an unknown person, the same person
  twice, a person already merged, persons of different sex, a birth recorded for each
  record as the child, a moved row that would clash with one of ``keep`` (two open
  enrolments in one scheme), or a rebuilt timeline that contradicts itself (two
  different marriages): each in a sentence.
- The merge is one transaction, journaled (``PersonMerge.journal``: every row moved,
  as model, key and field) and audited (``person_merge``). ``unmerge_persons`` moves
  exactly the journaled rows back, clears ``merged_into``, rebuilds and audits
  (``person_unmerge``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from taizhang import clock
from taizhang.accounts.scope import within
from taizhang.audit.actions import record as audit
from taizhang.errors import UserError
from taizhang.lib import crypto, idnumber
from taizhang.register import actions
from taizhang.register.models import (
    BirthFact,
    Event,
    MethodSpell,
    Person,
    PersonMerge,
    ResidenceSpell,
    UnionSpell,
)

EVENT_FIELDS = ("person", "spouse", "child")
# Rebuilt, never moved; and the merges' own bookkeeping.
NOT_MOVED = {ResidenceSpell, UnionSpell, MethodSpell, BirthFact, PersonMerge, Event}


class MergeRefused(UserError):
    """A merge or an undo that cannot be done; the message says why, in sentences."""


def find_person(id_number: str, *, area: str | None = None) -> Person:
    """The person with this ID number inside ``area`` (None: the whole register). A
    person outside the area answers as a number nobody has (docs/imports.md)."""
    try:
        number = idnumber.normalize(id_number)
    except idnumber.IDNumberError as e:
        raise MergeRefused(f"{id_number}: {e}") from None
    person = Person.objects.filter(id_index=crypto.blind_index(number)).first()
    if person is None or not within(area, person.current_village):
        raise MergeRefused(f"no person with ID number {idnumber.mask(number)} is in the register")
    return person


def _label(person: Person) -> str:
    try:
        number = idnumber.mask(crypto.decrypt(person.id_cipher))
    except crypto.DecryptionError:
        number = f"#{person.pk}"
    return f"{person.name} ({number})"


# ---------------------------------------------------------------------------
# Merge


class _Refused(Exception):
    def __init__(self, sentences: list[str]):
        super().__init__("\n".join(sentences))
        self.sentences = sentences


def merge_persons(
    keep: Person,
    drop: Person,
    *,
    reason: str,
    user=None,
    source: str = "",
    today: dt.date | None = None,
) -> PersonMerge:
    """Merge ``drop`` (a second registration) into ``keep``. Raises ``MergeRefused``
    with the reasons when it cannot be done; then nothing is written."""
    reason = (reason or "").strip()
    if not reason:
        raise MergeRefused("give the reason for the merge")
    if keep.pk == drop.pk:
        raise MergeRefused("the same person is named twice: give two different persons")
    for person in (keep, drop):
        if person.merged_into_id is not None:
            raise MergeRefused(f"{_label(person)} has already been merged into another person")
    if keep.sex != drop.sex:
        raise MergeRefused(
            f"{_label(keep)} and {_label(drop)} are of different sex: correct the sex "
            "of the wrong record first"
        )
    _refuse_two_births(keep, drop)
    try:
        with transaction.atomic():
            # Both rows locked: a second merge of either waits for this one.
            list(Person.objects.select_for_update().filter(pk__in=[keep.pk, drop.pk]))
            moves, kept = _plan(keep, drop)
            for model, field, pks in _grouped(moves):
                model._default_manager.filter(pk__in=pks).update(**{field.attname: keep.pk})
            Person.objects.filter(pk=drop.pk).update(merged_into=keep.pk)
            # Everyone either record touches (``actions.touched_by``), as they are now.
            derived = actions.rebuild({keep.pk, drop.pk}, today=today)
            problems = _problems(derived, drop.pk)
            if problems:
                raise _Refused(problems)
            merge = PersonMerge.objects.create(
                keep=keep,
                drop=drop,
                reason=reason,
                merged_at=clock.now(),
                merged_by=user,
                journal={"moved": [_entry(m) for m in moves], "kept": kept},
            )
            keep.refresh_from_db()
            audit(
                "person_merge",
                user=user,
                object_type="person",
                object_id=keep.pk,
                org_code=keep.current_village,
                source=source,
                merge=merge.pk,
                dropped=drop.pk,
                moved=len(moves),
                kept=len(kept),
                reason=reason,
            )
    except _Refused as e:
        raise MergeRefused(
            f"{_label(drop)} cannot be merged into {_label(keep)}: the merged record "
            "would contradict itself — " + "; ".join(e.sentences)
        ) from None
    drop.refresh_from_db()
    return merge


def _refuse_two_births(keep: Person, drop: Person) -> None:
    """Each record the child of a birth: one of the births is a second record of the
    other, and a mother's births would count twice. Retract one first."""
    superseded = Event.objects.filter(supersedes__isnull=False).values("supersedes_id")
    births = (
        Event.objects.filter(kind="birth", child__in=[keep.pk, drop.pk])
        .exclude(pk__in=superseded)
        .values_list("child_id", "date", "person_id")
    )
    children = {child for child, _d, _m in births}
    if children == {keep.pk, drop.pk}:
        dates = ", ".join(sorted({str(d) for _c, d, _m in births}))
        raise MergeRefused(
            f"{_label(keep)} and {_label(drop)} are each the child of a recorded birth "
            f"({dates}): retract one of the births first (a correction), then merge"
        )


def _person_fields():
    """Every foreign key to a person in every installed app, but the events' (moved with
    their own rules), the derived tables' (rebuilt) and the merges' own."""
    for model in apps.get_models():
        if model in NOT_MOVED:
            continue
        for field in model._meta.get_fields():
            if (
                field.is_relation
                and field.concrete
                and field.many_to_one
                and field.related_model is Person
                and not (model is Person and field.name == "merged_into")
            ):
                yield model, field


def _plan(keep: Person, drop: Person) -> tuple[list[tuple], list[dict]]:
    """The rows to move, as (model, field, pk), and the events left with ``drop``."""
    moves: list[tuple] = []
    stay, kept = _events_kept(keep, drop)
    rows = Event.objects.filter(Q(person=drop) | Q(spouse=drop) | Q(child=drop)).values_list(
        "pk", "person_id", "spouse_id", "child_id"
    )
    for pk, *values in rows.order_by("pk"):
        if pk in stay:
            continue
        for name, value in zip(EVENT_FIELDS, values, strict=True):
            if value == drop.pk:
                moves.append((Event, Event._meta.get_field(name), pk))
    clashes = []
    for model, field in _person_fields():
        for row in model._default_manager.filter(**{field.name: drop.pk}).order_by("pk"):
            setattr(row, field.attname, keep.pk)
            try:
                row.validate_unique()
                row.validate_constraints()
            except ValidationError as e:
                clashes.append(
                    f"{model._meta.verbose_name} {row.pk} would clash with one of "
                    f"{_label(keep)} ({' '.join(e.messages)})"
                )
            moves.append((model, field, row.pk))
    if clashes:
        raise MergeRefused(
            f"{_label(drop)} cannot be merged into {_label(keep)}: " + "; ".join(clashes)
        )
    return moves, kept


def _events_kept(keep: Person, drop: Person) -> tuple[set[int], list[dict]]:
    """The events of ``drop`` that ``keep`` already has, with the events they correct."""
    have = {actions.event_key(e): e.key for e in actions.load_events([keep.pk])}
    supersedes = dict(
        Event.objects.filter(Q(person=drop) | Q(spouse=drop), supersedes__isnull=False).values_list(
            "pk", "supersedes_id"
        )
    )
    stay: set[int] = set()
    kept = []
    for e in actions.load_events([drop.pk]):
        moved = dataclasses.replace(
            e,
            person=keep.pk if e.person == drop.pk else e.person,
            spouse=keep.pk if e.spouse == drop.pk else e.spouse,
        )
        same = have.get(actions.event_key(moved))
        if same is None:
            continue
        kept.append(
            {
                "model": Event._meta.label_lower,
                "pk": e.key,
                "field": "person" if e.person == drop.pk else "spouse",
                "same_as": same,
            }
        )
        pk = e.key
        while pk is not None and pk not in stay:  # the event and those it corrects
            stay.add(pk)
            pk = supersedes.get(pk)
    return stay, kept


def _problems(derived: dict, dropped: int) -> list[str]:
    sentences = []
    for pk, d in derived.items():
        if pk == dropped:
            continue
        for p in d.problems:
            sentences.append(f"{p.event.kind} on {p.event.date}: {p.message}")
    return sentences


def _grouped(moves):
    """(model, field, [pk, ...]) for each model and field moved."""
    groups: dict[tuple, list[int]] = {}
    for model, field, pk in moves:
        groups.setdefault((model, field), []).append(pk)
    return [(model, field, pks) for (model, field), pks in groups.items()]


def _entry(move) -> dict:
    model, field, pk = move
    return {"model": model._meta.label_lower, "pk": pk, "field": field.name}


# ---------------------------------------------------------------------------
# Undo


def unmerge_persons(
    merge_id: int,
    *,
    reason: str,
    user=None,
    source: str = "",
    today: dt.date | None = None,
    area: str | None = None,
) -> PersonMerge:
    """Undo merge ``merge_id``: move exactly the journaled rows back to the dropped
    person, who is a person of their own again. Raises ``MergeRefused`` when it cannot
    be done (then nothing is written)."""
    reason = (reason or "").strip()
    if not reason:
        raise MergeRefused("give the reason for undoing the merge")
    merge = PersonMerge.objects.select_related("keep", "drop").filter(pk=merge_id).first()
    if merge is None or not within(area, merge.keep.current_village):
        raise MergeRefused(f"there is no merge {merge_id}")
    if merge.undone_at is not None:
        raise MergeRefused(
            f"merge {merge_id} was undone on {merge.undone_at.astimezone(clock.zone()):%Y-%m-%d}"
        )
    keep, drop = merge.keep, merge.drop
    if keep.merged_into_id is not None:
        later = PersonMerge.objects.filter(drop=keep, undone_at__isnull=True).first()
        raise MergeRefused(
            f"{_label(keep)} has since been merged into another person: undo merge "
            f"{later.pk if later else ''} first".replace("  ", " ")
        )
    moves = []
    for entry in merge.journal.get("moved", []):
        model = apps.get_model(entry["model"])
        moves.append((model, model._meta.get_field(entry["field"]), entry["pk"]))
    try:
        with transaction.atomic():
            list(Person.objects.select_for_update().filter(pk__in=[keep.pk, drop.pk]))
            for model, field, pks in _grouped(moves):
                changed = (
                    model._default_manager.filter(pk__in=pks)
                    .filter(**{field.attname: keep.pk})
                    .update(**{field.attname: drop.pk})
                )
                if changed != len(pks):
                    raise _Refused(
                        [
                            f"some {model._meta.verbose_name_plural} moved by the merge no "
                            f"longer name {_label(keep)}"
                        ]
                    )
            Person.objects.filter(pk=drop.pk).update(merged_into=None)
            derived = actions.rebuild({keep.pk, drop.pk}, today=today)
            problems = _problems(derived, -1)
            if problems:
                raise _Refused(problems)
            merge.undone_at = clock.now()
            merge.undone_by = user
            merge.undo_reason = reason
            merge.save(update_fields=["undone_at", "undone_by", "undo_reason"])
            drop.refresh_from_db()
            audit(
                "person_unmerge",
                user=user,
                object_type="person",
                object_id=drop.pk,
                org_code=drop.current_village,
                source=source,
                merge=merge.pk,
                kept=keep.pk,
                moved=len(moves),
                reason=reason,
            )
    except _Refused as e:
        raise MergeRefused(
            f"merge {merge_id} cannot be undone: " + "; ".join(e.sentences)
        ) from None
    return merge
