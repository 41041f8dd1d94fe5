"""The report forms on the web: pick a form, an org unit of the user's area and a
period; the table is shown with buttons to download it as XLSX or PDF. Downloads are
audited (``report_download``). The figures are the ones the command prints
(``taizhang.reports.build``)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from taizhang import clock
from taizhang.accounts.decorators import area_view
from taizhang.accounts.scope import get_org_unit_for_user, org_units_for, user_org_code
from taizhang.audit.actions import record_request
from taizhang.errors import UserError
from taizhang.reports import render as renderers
from taizhang.reports.build import build_report, get_form
from taizhang.reports.forms import FORMS, MONTH, QUARTER, Form

DOWNLOAD_FORMATS = ("xlsx", "pdf")


def last_full_period(form: Form, today: dt.date) -> str:
    """The code of the last complete period of the form's kind before ``today``."""
    if form.period_kind == MONTH:
        last = today.replace(day=1) - dt.timedelta(days=1)
        return f"{last.year}{last.month:02d}"
    if form.period_kind == QUARTER:
        quarter = (today.month - 1) // 3
        return f"{today.year}Q{quarter}" if quarter else f"{today.year - 1}Q4"
    return str(today.year - 1)


def _report_for(request: HttpRequest) -> tuple[dict, dict]:
    """(the choices on the page, the report asked for or {}); raises Http404 for an org
    unit outside the user's area and ``UserError`` for a bad form or period."""
    user = request.user
    name = request.GET.get("form", "")
    form = get_form(name) if name else None
    org = request.GET.get("org") or user_org_code(user)
    unit = get_org_unit_for_user(user, org)
    period = request.GET.get("period", "").strip()
    if form is not None and not period:
        period = last_full_period(form, clock.today())
    chosen = {"form": form.name if form else "", "org": unit.code, "period": period}
    report = build_report(form.name, unit.code, period) if form is not None else {}
    return chosen, report


@area_view
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "forms": [(f.name, f.title_zh, f.title_en) for f in FORMS.values()],
        "units": org_units_for(request.user).order_by("code"),
        "formats": DOWNLOAD_FORMATS,
        "chosen": {"form": "", "org": user_org_code(request.user), "period": ""},
        "error": "",
    }
    status = 200
    try:
        context["chosen"], report = _report_for(request)
    except UserError as e:
        context["error"] = str(e)
        status = 400
    else:
        if report:
            context |= renderers.table_context(report, get_language() or "en")
    return render(request, "reports/home.html", context, status=status)


@area_view
def download(request: HttpRequest) -> HttpResponse:
    output_format = request.GET.get("format", "")
    try:
        if output_format not in DOWNLOAD_FORMATS:
            raise UserError(f"format must be xlsx or pdf, not {output_format!r}.")
        chosen, report = _report_for(request)
        if not report:
            raise UserError("choose a report form.")
    except UserError as e:
        return HttpResponse(str(e), status=400, content_type="text/plain; charset=utf-8")
    body = renderers.render(report, output_format)
    record_request(
        request,
        "report_download",
        object_type="report",
        object_id=report["report"],
        org_code=report["org"],
        period=report["period"],
        format=output_format,
    )
    filename = f"{report['report']}-{report['org']}-{report['period']}.{output_format}"
    response = HttpResponse(body, content_type=renderers.CONTENT_TYPES[output_format])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
