"""The ledger pages: the ledgers of the user's area for a month (a township or county sees
every village's status), a village's eleven ledgers with their downloads, status and the
return upload, and the check-in page of a service session.

Every view is scoped (``taizhang.accounts.decorators.area_view``): a village outside the
user's area answers 404, as does a person outside it at check-in. Downloads are printing:
archived and audited (``ledger_print``) by ``taizhang.ledgers.service.generate``; a ledger
that prints ID numbers is printed only by those who may see them (``status.may_print``).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from taizhang import clock
from taizhang.accounts.decorators import area_view
from taizhang.accounts.scope import get_org_unit_for_user, org_units_for, user_org_code
from taizhang.audit.actions import request_source
from taizhang.errors import UserError
from taizhang.ledgers import checkin, returns, service, status
from taizhang.ledgers.build import month_of
from taizhang.ledgers.declarations import KINDS, LEDGERS
from taizhang.ledgers.forms import CheckInForm, ReturnForm, SessionForm
from taizhang.ledgers.models import SessionKind
from taizhang.ledgers.render import CONTENT_TYPES, FORMATS
from taizhang.lib import periods
from taizhang.orgunits.models import OrgUnit
from taizhang.register.models import LifeStage


def _month(code: str) -> periods.Period:
    """The month of a URL or form (``YYYYMM``, up to next month), or ``UserError``."""
    return month_of(code, today=clock.today())


def _this_month() -> str:
    return f"{clock.today():%Y%m}"


def _shift(period: periods.Period, months: int) -> str:
    index = period.start.year * 12 + period.start.month - 1 + months
    return f"{index // 12}{index % 12 + 1:02d}"


def _village_for(user, code: str) -> OrgUnit:
    unit = get_org_unit_for_user(user, code)
    if not unit.is_village:
        raise Http404
    return unit


# ---------------------------------------------------------------------------
# The area's ledgers


@area_view
def home(request: HttpRequest) -> HttpResponse:
    """Pick a village and a month; a township or county sees where every village stands."""
    user = request.user
    month_code = request.GET.get("month", "").strip() or _this_month()
    village = request.GET.get("village", "").strip()
    context = {"month": month_code, "error": "", "rows": [], "kinds": KINDS}
    try:
        period = _month(month_code)
    except UserError as e:
        period = None
        context["error"] = str(e)
    if village and period is not None:
        unit = _village_for(user, village)
        return redirect("ledgers:village", village=unit.code, month=period.code)
    unit = get_org_unit_for_user(user, request.GET.get("org", "").strip() or user_org_code(user))
    area = org_units_for(user)
    context |= {
        "unit": unit,
        "villages": area.villages().order_by("code"),
        "units": area.exclude(level=5).order_by("code"),  # townships and above: overviews
        "ledgers": [LEDGERS[k] for k in KINDS],
    }
    if period is not None:
        context["period"] = period
        context["rows"] = status.overview(unit, period)
    return render(request, "ledgers/home.html", context, status=400 if context["error"] else 200)


# ---------------------------------------------------------------------------
# A village's ledgers


def _village_page(request, unit: OrgUnit, period: periods.Period, *, form=None, result=None):
    context = {
        "village": unit,
        "period": period,
        "month": period.code,
        "previous": _shift(period, -1),
        "next": _shift(period, 1),
        "ledgers": status.village_ledgers(request.user, unit, period),
        "formats": FORMATS,
        "form": form or ReturnForm(),
        "result": result,
    }
    return render(
        request,
        "ledgers/village.html",
        context,
        status=400 if (result is not None and not result.ok) or (form and form.errors) else 200,
    )


@area_view
def village(request: HttpRequest, village: str, month: str) -> HttpResponse:
    unit = _village_for(request.user, village)
    try:
        period = _month(month)
    except UserError as e:
        return render(request, "ledgers/error.html", {"error": str(e)}, status=400)
    return _village_page(request, unit, period)


@area_view
def download(request: HttpRequest, village: str, month: str, kind: str, fmt: str) -> HttpResponse:
    """One ledger file: made now, archived and its printing audited."""
    unit = _village_for(request.user, village)
    ledger = LEDGERS.get(kind)
    if ledger is None or fmt not in FORMATS:
        raise Http404
    if not status.may_print(request.user, unit.code, ledger):
        raise PermissionDenied
    try:
        period = _month(month)
        record, content = service.generate(
            kind, unit.code, period.code, fmt, user=request.user, source=request_source(request)
        )
    except UserError as e:
        return render(request, "ledgers/error.html", {"error": str(e)}, status=400)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    filename = f"{kind}-{unit.code}-{period.code}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@area_view
@require_POST
def upload_return(request: HttpRequest, village: str, month: str) -> HttpResponse:
    """A filled-in ledger of this village and month, read back (``returns.return_file``)."""
    unit = _village_for(request.user, village)
    try:
        period = _month(month)
    except UserError as e:
        return render(request, "ledgers/error.html", {"error": str(e)}, status=400)
    form = ReturnForm(request.POST, request.FILES)
    if not form.is_valid():
        return _village_page(request, unit, period, form=form)
    upload = form.cleaned_data["file"]
    if upload.size > returns.MAX_BYTES:
        result = returns.ReturnResult(name=upload.name)
        result.errors = [
            returns.RowError(0, "", _("The file is too large to be a ledger of one village."))
        ]
        return _village_page(request, unit, period, form=form, result=result)
    result = returns.return_file(
        upload.read(),
        upload.name,
        user=request.user,
        dry_run=form.cleaned_data["dry_run"],
        source=request_source(request),
        village=unit.code,
        month=int(period.code),
    )
    if not result.ok:
        return _village_page(request, unit, period, form=form, result=result)
    title = LEDGERS[result.kind].title_zh
    if result.dry_run:
        messages.info(
            request,
            _("%(file)s (%(title)s) checked, nothing recorded: %(counts)s.")
            % {"file": result.name, "title": title, "counts": result.summary(translated=True)},
        )
    else:
        messages.success(
            request,
            _("%(file)s (%(title)s) returned: %(counts)s.")
            % {"file": result.name, "title": title, "counts": result.summary(translated=True)},
        )
    for notice in result.notices:
        messages.warning(request, _("%(notice)s (pending)") % {"notice": notice})
    return redirect("ledgers:village", village=unit.code, month=period.code)


# ---------------------------------------------------------------------------
# Check-in


def _session(request: HttpRequest, today: dt.date) -> dict:
    form = SessionForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    day = data.get("date") or today
    return {
        "kind": data.get("kind") or SessionKind.CHECKUP,
        "date": min(day, today),
        "stage": data.get("stage") or "",
    }


def _session_url(kind: str, day: dt.date, stage: str) -> str:
    query = {"kind": kind, "date": day.isoformat()}
    if stage:
        query["stage"] = stage
    return f"{reverse('ledgers:check_in')}?{urlencode(query)}"


@area_view
def check_in(request: HttpRequest) -> HttpResponse:
    """Check a person in at a session: by a scanned row key or a typed ID number. With htmx
    only the list of the session's check-ins (and the outcome) is sent back."""
    user = request.user
    today = clock.today()
    session = _session(request, today)
    outcome, error, status_code = "", "", 200
    if request.method == "POST":
        form = CheckInForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            session = {"kind": data["kind"], "date": data["date"], "stage": data["stage"]}
            try:
                found = checkin.find_person(user, data["code"], today=today)
                attendance, new = checkin.check_in(
                    found,
                    kind=data["kind"],
                    day=data["date"],
                    stage=data["stage"],
                    user=user,
                    today=today,
                    source=request_source(request),
                )
            except checkin.NotFound as e:
                error, status_code = str(e), 404
            except UserError as e:
                error, status_code = str(e), 400
            else:
                name = attendance.person.name
                outcome = (
                    _("%(name)s checked in.") % {"name": name}
                    if new
                    else _("%(name)s was already checked in at %(time)s.")
                    % {
                        "name": name,
                        "time": f"{timezone.localtime(attendance.recorded_at):%H:%M}",
                    }
                )
                if session["kind"] == SessionKind.EDUCATION:
                    session["stage"] = attendance.stage
                if not request.htmx:
                    messages.success(request, outcome)
                    return redirect(
                        _session_url(session["kind"], session["date"], session["stage"])
                    )
        else:
            error = "; ".join(f"{form[f].label}: {' '.join(e)}" for f, e in form.errors.items())
            status_code = 400
    form = CheckInForm(
        initial={"kind": session["kind"], "date": session["date"], "stage": session["stage"]}
    )
    checkins = checkin.attendances(
        user, kind=session["kind"], day=session["date"], stage=session["stage"]
    )
    stages = dict(LifeStage.choices)
    villages = dict(
        OrgUnit.objects.filter(code__in={a.village for a in checkins}).values_list("code", "name")
    )
    for a in checkins:
        a.stage_label = stages.get(a.stage, "")
        a.village_name = villages.get(a.village, a.village)
    context = {
        "form": form,
        "session": session,
        "kind_label": SessionKind(session["kind"]).label,
        "checkins": checkins,
        "outcome": outcome,
        "error": error,
    }
    template = "ledgers/_checkins.html" if request.htmx else "ledgers/check_in.html"
    return render(request, template, context, status=status_code)


# ---------------------------------------------------------------------------
# The handbook (台帐手册)


@area_view
def handbook_page(request: HttpRequest) -> HttpResponse:
    """The ledger handbook, in Chinese whatever the interface language. It holds no one's
    data (the same for every user), so it needs a login and nothing of the area."""
    from taizhang.ledgers import handbook

    return render(request, "ledgers/handbook.html", handbook.context())


@area_view
def handbook_pdf(request: HttpRequest) -> HttpResponse:
    """The ledger handbook as an A4 PDF."""
    from taizhang.ledgers import handbook

    response = HttpResponse(handbook.to_pdf(), content_type=CONTENT_TYPES["pdf"])
    response["Content-Disposition"] = f'attachment; filename="{handbook.FILENAME}"'
    return response
