"""The duplicates page (/people/duplicates/): likely duplicate registrations in the
user's area (both persons inside it), the merge of a pair and the past merges with
their undo.

Everyone with an area sees the pairs of their area, with ID numbers masked; township
statisticians and county administrators merge and undo (``taizhang.register.merges``,
the same action as ``taizhang merge-persons``). A person or a merge outside the area is
not found (404).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.accounts.decorators import area_view
from taizhang.accounts.models import Role
from taizhang.accounts.scope import get_person_for_user, persons_for, user_org_code, user_role
from taizhang.audit.actions import request_source
from taizhang.lib import crypto, idnumber
from taizhang.orgunits.models import OrgUnit
from taizhang.register import duplicates as found
from taizhang.register import merges
from taizhang.register.models import Person, PersonMerge

REASON_LABELS = {
    found.SAME_NAME_BIRTH: gettext_lazy("same name and birth date"),
    found.ONE_DIGIT: gettext_lazy("ID numbers one digit apart"),
    found.SWAPPED: gettext_lazy("ID numbers differ by two adjacent digits swapped"),
    found.SAME_MOTHER_BIRTH: gettext_lazy("same mother and birth date"),
}
MERGE_ROLES = (Role.TOWNSHIP_STATISTICIAN, Role.COUNTY_ADMIN)
MERGES_LISTED = 200


@dataclass
class Shown:
    """A person as the page shows them."""

    pk: int
    name: str
    id_number: str  # masked
    village: str


@dataclass
class PairRow:
    a: Shown
    b: Shown
    reasons: list[str]
    score: float


def may_merge(user) -> bool:
    return user_role(user) in MERGE_ROLES


def _masked(person: Person) -> str:
    try:
        return idnumber.mask(crypto.decrypt(person.id_cipher))
    except crypto.DecryptionError:
        return "?"


def _shown(person: Person, names: dict[str, str]) -> Shown:
    village = names.get(person.current_village, person.current_village)
    return Shown(person.pk, person.name, _masked(person), village)


def _names(persons) -> dict[str, str]:
    codes = {p.current_village for p in persons if p.current_village}
    return dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "name"))


@area_view
def listing(request: HttpRequest) -> HttpResponse:
    """The likely pairs of the user's area, and the merges of persons in it."""
    pairs = found.likely_duplicates(user_org_code(request.user))
    persons = persons_for(request.user).in_bulk([p.a for p in pairs] + [p.b for p in pairs])
    merges_done = list(
        PersonMerge.objects.filter(keep__in=persons_for(request.user))
        .select_related("keep", "drop", "merged_by", "undone_by")
        .order_by("-merged_at", "-id")[:MERGES_LISTED]
    )
    names = _names(
        list(persons.values()) + [m.keep for m in merges_done] + [m.drop for m in merges_done]
    )
    rows = [
        PairRow(
            a=_shown(persons[p.a], names),
            b=_shown(persons[p.b], names),
            reasons=[str(REASON_LABELS[r]) for r in p.reasons],
            score=p.score,
        )
        for p in pairs
        if p.a in persons and p.b in persons
    ]
    past = [
        {
            "merge": m,
            "keep": _shown(m.keep, names),
            "drop": _shown(m.drop, names),
        }
        for m in merges_done
    ]
    return render(
        request,
        "web/people/duplicates.html",
        {"rows": rows, "past": past, "may_merge": may_merge(request.user)},
    )


@area_view
def merge(request: HttpRequest) -> HttpResponse:
    """Merge one person of a pair into the other: the form posts here, a page asks to
    confirm (keep ← drop), and the confirmed form merges."""
    if request.method != "POST":
        return redirect("duplicates")
    if not may_merge(request.user):
        raise PermissionDenied
    # The list's form says which to keep as "keep-drop"; the confirmation, as two fields.
    order = request.POST.get("order", "").split("-")
    try:
        if len(order) == 2:
            keep_pk, drop_pk = int(order[0]), int(order[1])
        else:
            keep_pk, drop_pk = int(request.POST.get("keep", "")), int(request.POST.get("drop", ""))
    except ValueError:
        raise Http404 from None
    keep = get_person_for_user(request.user, keep_pk)
    drop = get_person_for_user(request.user, drop_pk)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Give the reason for the merge."))
        return redirect("duplicates")
    if request.POST.get("confirm") != "1":
        names = _names([keep, drop])
        return render(
            request,
            "web/people/merge_confirm.html",
            {"keep": _shown(keep, names), "drop": _shown(drop, names), "reason": reason},
        )
    try:
        done = merges.merge_persons(
            keep, drop, reason=reason, user=request.user, source=request_source(request)
        )
    except merges.MergeRefused as e:
        messages.error(request, _("The merge was refused: %(why)s") % {"why": e})
        return redirect("duplicates")
    messages.success(
        request,
        _("Merge %(number)d: %(drop)s was merged into %(keep)s.")
        % {"number": done.pk, "drop": drop.name, "keep": keep.name},
    )
    return redirect(reverse("person", args=[keep.pk]))


@area_view
def unmerge(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo a merge of a person in the user's area (posted, with a reason)."""
    if request.method != "POST":
        return redirect("duplicates")
    if not may_merge(request.user):
        raise PermissionDenied
    done = PersonMerge.objects.filter(pk=pk, keep__in=persons_for(request.user)).first()
    if done is None:
        raise Http404
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Give the reason for undoing the merge."))
        return redirect("duplicates")
    try:
        merges.unmerge_persons(
            done.pk,
            reason=reason,
            user=request.user,
            source=request_source(request),
            area=user_org_code(request.user),
        )
    except merges.MergeRefused as e:
        messages.error(request, _("The merge was not undone: %(why)s") % {"why": e})
        return redirect("duplicates")
    messages.success(request, _("Merge %(number)d was undone.") % {"number": done.pk})
    return redirect("duplicates")
