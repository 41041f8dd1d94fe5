"""A person's events as recorded, with what became of each: the list ``taizhang events``
prints and the person's page shows, so that a correction can name the event it corrects.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from taizhang.corrections.actions import event_values
from taizhang.register.models import Event

STATUS_CURRENT, STATUS_CORRECTED, STATUS_RETRACTED = "current", "corrected", "retracted"


def person_events(person_id: int) -> list[dict]:
    """The person's events (their own, and the marriages and divorces naming them) in date
    order, retractions left out: each with ``event_id``, ``event``, its columns as an
    events file carries them, ``recorded_at``, ``recorded_by``, ``status`` and, when
    replaced, ``corrected_by`` (the event that corrected or retracted it); a correction
    also names the event it ``corrects``."""
    events = list(
        Event.objects.filter(
            Q(person_id=person_id)
            | Q(spouse_id=person_id, kind__in=["marriage", "divorce", "void"])
        )
        .order_by("date", "pk")
        .select_related("person")
    )
    ids = [e.pk for e in events]
    replaced = {
        r["supersedes_id"]: (r["pk"], r["kind"])
        for r in Event.objects.filter(supersedes_id__in=ids).values("pk", "kind", "supersedes_id")
    }
    names = dict(
        get_user_model()
        .objects.filter(pk__in={e.recorded_by_id for e in events} - {None})
        .values_list("pk", "username")
    )
    out = []
    for e in events:
        if e.kind == "void":
            continue
        row = {"event_id": e.pk, "event": e.kind, **event_values(e)}
        row["recorded_at"] = timezone.localtime(e.recorded_at).isoformat(timespec="seconds")
        row["recorded_by"] = names.get(e.recorded_by_id, "")
        by = replaced.get(e.pk)
        if by is None:
            row["status"] = STATUS_CURRENT
        else:
            row["status"] = STATUS_RETRACTED if by[1] == "void" else STATUS_CORRECTED
            row["corrected_by"] = by[0]
        if e.supersedes_id:
            row["corrects"] = e.supersedes_id
        out.append(row)
    return out
