"""The pages of corrections: correct or retract an event from the person's page (the
form pre-filled, old → new shown before saving), a person's events with what became of
each, and the corrections page (what waits for the user's approval, the user's own
requests and their decisions)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from taizhang import clock
from taizhang.accounts.decorators import area_view
from taizhang.accounts.scope import get_person_for_user, persons_for
from taizhang.audit.actions import record_request
from taizhang.corrections import actions
from taizhang.corrections.actions import pending_for
from taizhang.corrections.history import person_events
from taizhang.corrections.models import Action, CorrectionRequest
from taizhang.register.models import Event
from taizhang.web.forms import KIND_LABELS, EventForm

# The fields of an event a correction may change, per kind: the event form's, without
# the child of a birth (a birth's child cannot change: retract and record anew).
CHILD_FIELDS = ("child_id_number", "child_name", "child_sex")
COLUMN_LABELS = {
    "date": gettext_lazy("Date"),
    "spouse_id_number": gettext_lazy("Spouse's ID number"),
    "lmp_date": gettext_lazy("Last menstrual period"),
    "child_id_number": gettext_lazy("Child's ID number"),
    "child_sex": gettext_lazy("Child's sex"),
    "delivery_place": gettext_lazy("Place of delivery"),
    "birth_weight_g": gettext_lazy("Birth weight (grams)"),
    "outcome": gettext_lazy("Outcome"),
    "village": gettext_lazy("Village"),
    "method": gettext_lazy("Method"),
    "stop_reason": gettext_lazy("Reason"),
    "findings": gettext_lazy("Findings"),
    "stage": gettext_lazy("Life stage"),
}


class CorrectionForm(EventForm):
    """The event's own fields, pre-filled, and the reason for the correction."""

    def __init__(self, *args, event: Event, **kwargs):
        super().__init__(*args, kind=event.kind, **kwargs)
        for key in CHILD_FIELDS:
            self.fields.pop(key, None)
        self.fields["correction_reason"] = forms.CharField(
            label=_("Why (required)"), max_length=actions.REASON_MAX, required=True
        )

    def clean(self):  # the values are read by ``actions.check``, as a file's row is
        return forms.Form.clean(self)

    def values(self) -> dict[str, str]:
        values = {k: (v or "") for k, v in self.cleaned_data.items() if k != "correction_reason"}
        if "reason" in values:  # the event form's stop reason
            values["stop_reason"] = values.pop("reason")
        return values


class RetractForm(forms.Form):
    correction_reason = forms.CharField(
        label=gettext_lazy("Why (required)"), max_length=actions.REASON_MAX, required=True
    )


def _event_of(user, pk: int, event_id: int) -> tuple[object, Event]:
    """The person (in the user's area) and one of their current events, or 404."""
    person = get_person_for_user(user, pk)
    event = (
        Event.objects.filter(pk=event_id)
        .filter(Q(person_id=pk) | Q(spouse_id=pk, kind__in=["marriage", "divorce"]))
        .exclude(kind="void")
        .first()
    )
    if event is None or Event.objects.filter(supersedes_id=event_id).exists():
        raise Http404
    return person, event


def _initial(event: Event) -> dict[str, str]:
    values = actions.event_values(event)
    if "stop_reason" in values:
        values["reason"] = values.pop("stop_reason")
    return values


@area_view
def correct(request: HttpRequest, pk: int, event_id: int) -> HttpResponse:
    return _change(request, pk, event_id, Action.CORRECT)


@area_view
def retract(request: HttpRequest, pk: int, event_id: int) -> HttpResponse:
    return _change(request, pk, event_id, Action.RETRACT)


def _change(request: HttpRequest, pk: int, event_id: int, action: str) -> HttpResponse:
    user = request.user
    person, event = _event_of(user, pk, event_id)
    today = clock.today()
    if action == Action.CORRECT:
        form = CorrectionForm(
            request.POST or None,
            initial=_initial(event),
            event=event,
            person=person,
            user=user,
            today=today,
        )
    else:
        form = RetractForm(request.POST or None)
    context = {
        "person": person,
        "event": event,
        "action": action,
        "kind_label": KIND_LABELS.get(event.kind, event.kind),
        "form": form,
    }
    status = 200
    if request.method == "POST" and form.is_valid():
        values = form.values() if action == Action.CORRECT else {}
        req = actions.Request(event.pk, action, form.cleaned_data["correction_reason"], values)
        if "confirm" not in request.POST:
            _event, _replacement, result = actions.check(req, user=user, today=today)
            if not result.errors:
                context["changes"] = _changes(result, action)
                return render(request, "corrections/change.html", context)
            _show_errors(form, result.errors)
            status = 400
        else:
            with transaction.atomic():
                [result] = actions.submit([req], user=user, today=today)
                if result.errors:
                    transaction.set_rollback(True)
            if not result.errors:
                if result.status == "pending":
                    messages.info(
                        request,
                        _(
                            "The correction is waiting for the township's approval: it changes "
                            "a month already reported or no longer open."
                        ),
                    )
                elif action == Action.RETRACT:
                    messages.success(request, _("The event is retracted."))
                else:
                    messages.success(request, _("The event is corrected."))
                return redirect("person", pk=pk)
            _show_errors(form, result.errors)
            status = 400
    elif request.method == "POST":
        status = 400
    return render(request, "corrections/change.html", context, status=status)


def _show_errors(form, errors) -> None:
    for e in errors:
        field = {"stop_reason": "reason", "reason": "correction_reason"}.get(e.column, e.column)
        form.add_error(field if field in form.fields else None, str(e))


def _changes(result: actions.Result, action: str) -> list[tuple[str, str, str]]:
    """(column, old, new) of what the correction changes; a retraction, every column."""
    rows = []
    for key, old in result.before.items():
        new = result.after.get(key, old) if action == Action.CORRECT else ""
        if action == Action.CORRECT and new == old:
            continue
        rows.append((str(COLUMN_LABELS.get(key, key)), _masked(key, old), _masked(key, new)))
    return rows


def _masked(key: str, value: str) -> str:
    from taizhang.lib import idnumber

    if key.endswith("id_number") and len(value) == 18:
        return idnumber.mask(value)
    return value


def _described(journal: CorrectionRequest) -> list[tuple[str, str, str]]:
    """(column, old, new) of a requested correction, as the preview showed it."""
    before = actions.event_values(journal.event)
    return [
        (str(COLUMN_LABELS.get(k, k)), _masked(k, before.get(k, "")), _masked(k, v))
        for k, v in journal.values.items()
    ]


@area_view
def history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every event of the person as recorded, with what became of it."""
    person = get_person_for_user(request.user, pk)
    record_request(
        request, "person_view", object_type="person", object_id=pk, org_code=person.current_village
    )
    rows = person_events(pk)
    for row in rows:
        row["label"] = KIND_LABELS.get(row["event"], row["event"])
        row["details"] = "; ".join(
            f"{COLUMN_LABELS[k]}: {_masked(k, row[k])}"
            for k in actions.EVENT_COLUMNS
            if k != "date" and k in COLUMN_LABELS and row.get(k)
        )
    requests = list(
        CorrectionRequest.objects.filter(person_id=pk).select_related(
            "event", "requested_by", "decided_by"
        )
    )
    for r in requests:
        r.change_rows = _described(r)
    return render(
        request,
        "corrections/history.html",
        {"person": person, "rows": rows, "requests": requests},
    )


# ---------------------------------------------------------------------------
# The corrections page


def waiting_count(user) -> int:
    """What the top bar shows: requests to decide, and decisions the user has not seen."""
    from taizhang.accounts.models import Role
    from taizhang.accounts.scope import user_role

    count = CorrectionRequest.objects.filter(requested_by=user, unseen_decision=True).count()
    if user_role(user) in (Role.COUNTY_ADMIN, Role.TOWNSHIP_STATISTICIAN):
        count += pending_for(user).count()
    return count


@area_view
def inbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    may_decide = [r for r in pending_for(user) if actions.may_decide(user, r)]
    mine = list(
        CorrectionRequest.objects.filter(requested_by=user).select_related("event", "decided_by")[
            :100
        ]
    )
    unseen = [r.pk for r in mine if r.unseen_decision]
    if unseen:
        CorrectionRequest.objects.filter(pk__in=unseen).update(unseen_decision=False)
    visible = set(
        persons_for(user)
        .filter(pk__in=[r.person_id for r in may_decide + mine])
        .values_list("pk", flat=True)
    )
    names = dict(persons_for(user).filter(pk__in=visible).values_list("pk", "name"))
    for r in may_decide + mine:
        r.person_name = names.get(r.person_id, "")
        r.kind_label = KIND_LABELS.get(r.event.kind, r.event.kind)
        r.new_unseen = r.pk in unseen
        r.change_rows = _described(r)
    return render(
        request,
        "corrections/inbox.html",
        {"to_decide": may_decide, "mine": mine},
    )


@area_view
@require_POST
def decide(request: HttpRequest, request_id: int) -> HttpResponse:
    user = request.user
    journal = pending_for(user).filter(pk=request_id).first()
    if journal is None or not actions.may_decide(user, journal):
        raise Http404
    note = request.POST.get("note", "")
    if request.POST.get("decision") == "approve":
        problems = actions.approve(journal, user=user, note=note)
        done = _("Correction %(n)s applied.")
    else:
        problems = actions.refuse(journal, user=user, note=note)
        done = _("Correction %(n)s refused.")
    if problems:
        for p in problems:
            messages.error(request, p)
    else:
        messages.success(request, done % {"n": journal.pk})
    return redirect("corrections:inbox")
