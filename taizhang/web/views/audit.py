"""The audit browser: who did what, when, to which record, from where — for county
administrators, over their own subtree."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.decorators import county_admin_view
from taizhang.accounts.scope import user_org_code
from taizhang.audit.models import AuditEntry
from taizhang.lib import crypto, idnumber
from taizhang.orgunits.models import prefix_range
from taizhang.register.models import Person
from taizhang.web.forms import ACTION_LABELS, AuditFilterForm

PER_PAGE = 50
# Entries listed for one filter; the trail grows without end, and counting all of it
# for a page number would cost more than the page.
ENTRY_LIMIT = 5000


def entries_for(user) -> QuerySet[AuditEntry]:
    """The audit entries of the user's subtree: those about records there, and those
    without a place (logging in, say) made by users whose area lies there."""
    root = user_org_code(user)
    if not root:
        return AuditEntry.objects.none()
    low, high = prefix_range(root)
    about_records = Q(org_code__gte=low, org_code__lt=high)
    by_users = Q(org_code="", user__profile__org_unit__gte=low, user__profile__org_unit__lt=high)
    return AuditEntry.objects.filter(about_records | by_users)


def filter_entries(entries: QuerySet[AuditEntry], data: dict, *, person: int | None):
    if data.get("user"):
        entries = entries.filter(user__username__icontains=data["user"])
    if data.get("action"):
        entries = entries.filter(action=data["action"])
    tz = timezone.get_current_timezone()
    if data.get("date_from"):
        start = dt.datetime.combine(data["date_from"], dt.time.min, tz)
        entries = entries.filter(at__gte=start)
    if data.get("date_to"):
        end = dt.datetime.combine(data["date_to"] + dt.timedelta(days=1), dt.time.min, tz)
        entries = entries.filter(at__lt=end)
    if person is not None:
        entries = entries.filter(object_type="person", object_id=str(person))
    return entries.order_by("-at", "-id")


def person_named(text: str) -> int | None:
    """The register number of a person given by register number or resident ID number;
    raises ``ValueError`` with a sentence when the text is neither."""
    text = "".join(text.split())
    if _REGISTER_NUMBER.fullmatch(text):
        return int(text)
    try:
        number = idnumber.normalize(text)
    except idnumber.IDNumberError as e:
        raise ValueError(str(e)) from None
    pk = Person.objects.filter(id_index=crypto.blind_index(number)).values_list("pk", flat=True)
    return pk.first() or 0  # 0: a valid number of nobody in the register finds no entry


# A register number (the person's key): what the address may name a person by. An ID
# number never travels in an address (proxy logs, browser history, Referer).
_REGISTER_NUMBER = re.compile(r"[0-9]{1,14}")


@county_admin_view
def entries(request: HttpRequest) -> HttpResponse:
    """The audit trail. The filters are posted and answered at an address of their own
    that names the person by register number: an ID number typed in the person box never
    travels in an address, and an address holding one is refused."""
    if request.method == "POST":
        return _filter_posted(request)
    person_text = request.GET.get("person", "")
    if person_text and not _REGISTER_NUMBER.fullmatch("".join(person_text.split())):
        messages.info(
            request,
            _(
                "In the address, the person filter takes a register number only: "
                "type an ID number in the Person box."
            ),
        )
        kept = {k: v for k, v in request.GET.items() if k not in ("person", "page") and v}
        return redirect(reverse("audit") + (f"?{urlencode(kept)}" if kept else ""))
    form = AuditFilterForm(request.GET or None, actions=_actions())
    return _entries_page(request, form)


def _actions() -> list[str]:
    # order_by: the model's default ordering would make DISTINCT per (action, at, id).
    return list(AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct())


def _filter_posted(request: HttpRequest) -> HttpResponse:
    """The posted filters: their address, with the person as a register number."""
    form = AuditFilterForm(request.POST, actions=_actions())
    if form.is_valid():
        data = form.cleaned_data
        try:
            person = person_named(data["person"]) if data.get("person") else None
        except ValueError as e:
            form.add_error("person", str(e))
        else:
            query = {
                name: form.data.get(name, "") for name in ("user", "action", "date_from", "date_to")
            }
            if person is not None:
                query["person"] = str(person)
            query = {k: v for k, v in query.items() if v}
            return redirect(reverse("audit") + (f"?{urlencode(query)}" if query else ""))
    return _entries_page(request, form)


def _entries_page(request: HttpRequest, form: AuditFilterForm) -> HttpResponse:
    scoped = entries_for(request.user)
    page = None
    more = False
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        person = None
        if data.get("person"):
            try:
                person = person_named(data["person"])
            except ValueError as e:
                form.add_error("person", str(e))
        if not form.errors:
            ids = list(
                filter_entries(scoped, data, person=person).values_list("pk", flat=True)[
                    : ENTRY_LIMIT + 1
                ]
            )
            more = len(ids) > ENTRY_LIMIT
            page = Paginator(ids[:ENTRY_LIMIT], PER_PAGE).get_page(request.GET.get("page"))
            by_pk = AuditEntry.objects.select_related("user").in_bulk(list(page.object_list))
            page.rows = [by_pk[pk] for pk in page.object_list]
            for entry in page.rows:
                entry.action_label = ACTION_LABELS.get(entry.action, entry.action)
    return render(
        request,
        "web/audit/entries.html",
        {"form": form, "page": page, "more": more, "entry_limit": ENTRY_LIMIT},
    )
