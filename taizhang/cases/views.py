"""The petition pages: the list, intake, a case with its journal and action forms, the
overdue lists and the case register.

Everything is scoped through ``taizhang.cases.scope``: a case outside the user's area
is not found (404). Writes go through ``taizhang.cases.actions``; showing a
petitioner's details and downloading an attachment are audited.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from taizhang import clock
from taizhang.accounts.decorators import area_view
from taizhang.accounts.scope import in_area, user_org_code
from taizhang.audit.actions import record_request
from taizhang.cases import actions
from taizhang.cases.forms import (
    ACTION_LABELS,
    ActionForm,
    CaseFilterForm,
    IntakeForm,
    OverdueForm,
    ReportForm,
)
from taizhang.cases.models import ActionKind, Case, Category, Channel, Satisfaction, State
from taizhang.cases.reports import ack_overdue_on, conclude_overdue_on, overdue, register_report
from taizhang.cases.scope import actions_for, cases_for, get_case_for_user, may_see_petitioner
from taizhang.errors import UserError
from taizhang.lib import crypto, idnumber
from taizhang.lib.periods import PeriodError
from taizhang.orgunits.models import prefix_range

PER_PAGE = 50
HIDDEN = "—"


def filter_cases(cases, data: dict, today: dt.date):
    if data.get("state"):
        cases = cases.filter(state=data["state"])
    if data.get("category"):
        cases = cases.filter(category=data["category"])
    if data.get("channel"):
        cases = cases.filter(channel=data["channel"])
    if data.get("org"):
        low, high = prefix_range(data["org"])
        cases = cases.filter(org_id__gte=low, org_id__lt=high)
    if data.get("overdue"):
        cases = cases.filter(ack_overdue_on(today) | conclude_overdue_on(today))
    if data.get("received_from"):
        cases = cases.filter(received_on__gte=data["received_from"])
    if data.get("received_to"):
        cases = cases.filter(received_on__lte=data["received_to"])
    return cases


@area_view
def home(request: HttpRequest) -> HttpResponse:
    """The cases of the user's area, filtered and paginated, with counts by state."""
    today = clock.today()
    form = CaseFilterForm(request.GET or None, user=request.user)
    mine = cases_for(request.user)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    cases = filter_cases(mine, data, today).select_related("org", "handler")
    page = Paginator(cases.order_by("-received_on", "-id"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    by_state = dict(mine.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    counts = [(value, label, by_state.get(value, 0)) for value, label in State.choices]
    return render(
        request,
        "cases/home.html",
        {"form": form, "page": page, "counts": counts, "today": today},
    )


@area_view
def new(request: HttpRequest) -> HttpResponse:
    """Intake of a petition (with an optional attachment)."""
    user = request.user
    today = clock.today()
    form = IntakeForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not in_area(user, data["org"]):
            raise Http404
        try:
            with transaction.atomic():
                case = actions.receive(
                    channel=data["channel"],
                    received_on=data["received_on"],
                    subject=data["subject"],
                    category=data["category"],
                    org_code=data["org"],
                    petitioner_name=data["petitioner_name"],
                    id_number=data["id_number"],
                    phone=data["phone"],
                    anonymous=data["anonymous"],
                    user=user,
                    today=today,
                )
                if data["attachment"]:
                    actions.attach(case, data["attachment"], user=user, today=today)
        except UserError as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Case %(number)s received.") % {"number": case.number})
            return redirect("cases:detail", pk=case.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "cases/new.html", {"form": form}, status=status)


# ---------------------------------------------------------------------------
# A case


def _decrypted(blob) -> str:
    if not blob:
        return ""
    try:
        return crypto.decrypt(blob)
    except crypto.DecryptionError:
        return "?"


def petitioner_shown(user, case: Case) -> dict:
    """The petitioner's name, ID and phone as this user may see them: in full for the
    handler's org unit and county administrators, otherwise "—" and masked numbers."""
    visible = may_see_petitioner(user, case)
    name = _decrypted(case.petitioner_name_cipher)
    id_number = _decrypted(case.petitioner_id_cipher)
    phone = _decrypted(case.petitioner_phone_cipher)
    if not visible:
        name = HIDDEN if name else ""
        id_number = idnumber.mask(id_number) if len(id_number) == 18 else id_number and HIDDEN
        phone = "*" * (len(phone) - 4) + phone[-4:] if phone else ""
    return {
        "visible": visible,
        "name": name,
        "id_number": id_number,
        "phone": phone,
        "has_details": bool(case.petitioner_name_cipher or case.petitioner_id_cipher),
    }


def _journal_rows(case: Case) -> list[dict]:
    User = get_user_model()
    entries = list(case.journal.order_by("on", "at", "id"))
    names = dict(
        User.objects.filter(pk__in={e.by_id for e in entries}).values_list("pk", "username")
    )
    rows = []
    for e in entries:
        detail = dict(e.detail)
        if "satisfaction" in detail:
            detail["satisfaction"] = Satisfaction(detail["satisfaction"]).label
        for key in ("channel", "category", "handler_org", "sha256", "attachment", "case_id"):
            detail.pop(key, None)
        detail = {k: v for k, v in detail.items() if v not in ("", None)}
        rows.append(
            {
                "entry": e,
                "label": ActionKind(e.action).label,
                "by": names.get(e.by_id, ""),
                "detail": detail,
                "linked": e.detail.get("case_id"),
            }
        )
    return rows


def _detail_page(request, case: Case, forms: dict | None = None, status: int = 200):
    user = request.user
    petitioner = petitioner_shown(user, case)
    if petitioner["visible"] and petitioner["has_details"]:
        record_request(
            request,
            "case_view",
            object_type="case",
            object_id=case.pk,
            org_code=case.org_id,
            number=case.number,
        )
    allowed = actions_for(user, case)
    forms = forms or {}
    action_forms = [forms.get(a) or ActionForm(action=a, case=case) for a in allowed]
    visible_cases = cases_for(user)
    context = {
        "case": case,
        "petitioner": petitioner,
        "journal": _journal_rows(case),
        "attachments": case.attachments.all(),
        "action_forms": action_forms,
        "repeat_of": visible_cases.filter(pk=case.repeat_of_id).first(),
        "repeats": list(visible_cases.filter(repeat_of=case).order_by("received_on")),
        "today": clock.today(),
    }
    return render(request, "cases/detail.html", context, status=status)


@area_view
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, get_case_for_user(request.user, pk))


@area_view
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Take one named action on a case (POST); the action's objection is shown on the page."""
    if action not in ACTION_LABELS:
        raise Http404
    user = request.user
    case = get_case_for_user(user, pk)
    if request.method != "POST":
        return redirect("cases:detail", pk=pk)
    if action not in actions_for(user, case):
        raise PermissionDenied
    form = ActionForm(request.POST, request.FILES, action=action, case=case)
    if form.is_valid():
        try:
            result = _take(action, case, form.cleaned_data, user)
        except UserError as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("%(action)s: done.") % {"action": form.label})
            target = result.pk if action == "reopen" else case.pk
            return redirect("cases:detail", pk=target)
    return _detail_page(request, case, {action: form}, status=400)


def _take(action: str, case: Case, data: dict, user):
    today = clock.today()
    common = {"user": user, "today": today}
    if action == "attach":
        return actions.attach(case, data["file"], **common)
    if action == "reopen":
        return actions.reopen(
            case,
            received_on=data["received_on"],
            channel=data["channel"],
            subject=data["subject"],
            **common,
        )
    on = data["on"]
    if action == "accept":
        return actions.accept(case, on=on, **common)
    if action == "decline":
        return actions.decline(case, on=on, reason=data["reason"], **common)
    if action == "assign":
        handler = actions.find_handler(data["handler"])
        return actions.assign(case, handler=handler, on=on, **common)
    if action == "reply":
        return actions.reply(case, on=on, text=data["text"], **common)
    if action == "return_visit":
        return actions.return_visit(
            case, on=on, satisfaction=data["satisfaction"], note=data["note"], **common
        )
    if action == "note":
        return actions.note(case, on=on, text=data["text"], **common)
    return actions.close(case, on=on, **common)


@area_view
def attachment(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    """Download an attachment of a case in the user's area (audited)."""
    case = get_case_for_user(request.user, pk)
    item = case.attachments.filter(pk=attachment_pk).first()
    path = actions.attachment_path(item) if item else None
    if path is None or not path.exists():
        raise Http404
    record_request(
        request,
        "case_download",
        object_type="case",
        object_id=case.pk,
        org_code=case.org_id,
        attachment=item.pk,
        filename=item.filename,
    )
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=item.filename,
        content_type=item.content_type or "application/octet-stream",
    )


# ---------------------------------------------------------------------------
# Lists


def _org_in_area(user, code: str) -> str:
    if not in_area(user, code):
        raise Http404
    return code


@area_view
def overdue_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = clock.today()
    initial = {"org": user_org_code(user), "as_of": today}
    form = OverdueForm(request.GET or initial, user=user)
    lists = None
    if form.is_valid():
        org = _org_in_area(user, form.cleaned_data["org"])
        lists = overdue(org, form.cleaned_data["as_of"])
    return render(
        request,
        "cases/overdue.html",
        {"form": form, "lists": lists},
        status=200 if lists is not None else 400,
    )


@area_view
def report(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {"org": user_org_code(user), "period": str(clock.today().year)}
    form = ReportForm(request.GET or initial, user=user)
    result = None
    if form.is_valid():
        org = _org_in_area(user, form.cleaned_data["org"])
        try:
            result = register_report(org, form.cleaned_data["period"])
        except PeriodError as e:
            form.add_error("period", str(e))
        else:
            for row in result["rows"]:
                row.labels = {
                    "state": State(row.state).label,
                    "channel": Channel(row.channel).label,
                    "category": Category(row.category).label,
                }
    return render(
        request,
        "cases/report.html",
        {"form": form, "report": result},
        status=200 if result is not None else 400,
    )
