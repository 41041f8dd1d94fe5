"""The audit on the web: a scorecard of the sub-units of the user's area × the checks,
colour-coded; a drill-down per check and unit to the villages and the figures behind
each finding (linked to the indicator records pages where a figure is an indicator);
the report forms of a unit and month, typed in and corrected; and the audit as a PDF
(audited download).

Every page is scoped with ``area_view``: an org unit outside the user's area answers
404. The figures are ``taizhang.quality.checks.audit``'s, the function ``taizhang
audit`` prints, cached under the version of the register, the reports and the census.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from taizhang import clock
from taizhang.accounts.decorators import area_view
from taizhang.accounts.scope import get_org_unit_for_user, user_org_code
from taizhang.audit.actions import record_request
from taizhang.corrections.models import Revision
from taizhang.errors import UserError
from taizhang.orgunits.models import LEVEL_BY_LENGTH, LEVEL_NAMES, OrgUnit
from taizhang.quality import actions, checks, stats
from taizhang.quality import render as renderers
from taizhang.quality.figures import ITEM_INDICATORS, recorded_monthly
from taizhang.quality.forms import ReportForm
from taizhang.quality.models import ITEMS, CensusPopulation, Item, ReportedFigure
from taizhang.quality.scorecard import (
    STATUS_LABELS,
    QualityRow,
    findings_in,
    quality_cells,
    quality_headers,
    register_quality,
    scorecard,
    sub_units,
)
from taizhang.web.views.dashboard import register_version

CACHE_SECONDS = 6 * 3600


def default_year(today: dt.date | None = None) -> str:
    return str((today or clock.today()).year - 1)


def data_version() -> tuple | None:
    """The register's version and the reports' and census's: any write changes it."""
    version = register_version()
    if version is None:
        return None
    quote = connection.ops.quote_name
    reports, census = ReportedFigure._meta.db_table, CensusPopulation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {quote(reports)}), (SELECT COUNT(*) FROM "
            f"{quote(census)}), (SELECT MAX(recorded_at) FROM {quote(census)})"
        )
        extra = tuple(str(x or "") for x in cursor.fetchone())
    return (*version, *extra)


def audit_of(org: str, period: str) -> dict:
    """``checks.audit(org, period)``, cached under the data's version."""
    version = data_version()
    if version is None:
        return checks.audit(org, period)
    stamp = hashlib.sha256(repr(version).encode()).hexdigest()[:32]
    key = f"taizhang:audit:{stamp}:{org}:{period}"
    result = cache.get(key)
    if result is None:
        result = checks.audit(org, period)
        cache.set(key, result, CACHE_SECONDS)
    return result


def register_quality_of(org: str, period: str) -> list[QualityRow]:
    """``scorecard.register_quality(org, period)``, cached under the data's version."""
    version = data_version()
    if version is None:
        return register_quality(org, period)
    stamp = hashlib.sha256(repr(version).encode()).hexdigest()[:32]
    key = f"taizhang:register-quality:{stamp}:{org}:{period}"
    rows = cache.get(key)
    if rows is None:
        rows = register_quality(org, period)
        cache.set(key, rows, CACHE_SECONDS)
    return rows


def _quality_rows(org: str, period: str) -> list[dict]:
    """The register-quality figures of the scorecard's rows, linked to their records."""
    return [
        {
            "org": row.org,
            "name": row.name,
            "total": row.total,
            "cells": [
                cell
                | {
                    "numerator_url": _records_url(cell["code"], row.org, period, "numerator"),
                    "denominator_url": _records_url(cell["code"], row.org, period, "denominator"),
                }
                for cell in quality_cells(row)
            ],
        }
        for row in register_quality_of(org, period)
    ]


def _request_unit(request: HttpRequest, name: str = "org") -> OrgUnit:
    code = (request.GET.get(name) or "").strip() or user_org_code(request.user)
    return get_org_unit_for_user(request.user, code)


def _query(**params) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v})


# ---------------------------------------------------------------------------
# The scorecard


@area_view
def home(request: HttpRequest) -> HttpResponse:
    unit = _request_unit(request)
    period = (request.GET.get("period") or "").strip() or default_year()
    context: dict[str, Any] = {"unit": unit, "period": period, "error": ""}
    try:
        result = audit_of(unit.code, period)
    except UserError as e:
        context["error"] = str(e)
        return render(request, "quality/home.html", context, status=400)
    codes = [c["code"] for c in result["checks"]]
    rows = []
    for row in scorecard(result):
        rows.append(
            {
                "org": row.org,
                "name": row.name,
                "total": row.total,
                "cells": [
                    {
                        "code": cell.code,
                        "status": cell.status,
                        "label": STATUS_LABELS[cell.status],
                        "findings": cell.findings,
                        "url": reverse("quality:check", args=[cell.code])
                        + _query(org=unit.code, unit=row.org, period=period),
                    }
                    for cell in row.cells
                ],
            }
        )
    names = dict(OrgUnit.objects.subtree(unit.code).values_list("code", "name"))
    context.update(
        result=result,
        checks=[(code, checks.check_short_name(code), checks.check_name(code)) for code in codes],
        rows=rows,
        under=[
            e | {"name": names.get(e["org"], ""), "group_label": checks.group_name(e["group"])}
            for e in result["under_registration"]
        ],
        quality_headers=quality_headers(),
        quality_rows=_quality_rows(unit.code, period),
        pdf_url=reverse("quality:download") + _query(org=unit.code, period=period),
        reports_url=reverse("quality:reports") + _query(org=unit.code),
        level=LEVEL_NAMES[unit.level],
    )
    return render(request, "quality/home.html", context)


# ---------------------------------------------------------------------------
# The drill-down of one check in one unit


def _records_url(code: str, org: str, period: str, part: str = "numerator") -> str:
    return reverse("records", args=[code, org, period, part])


def _item_indicator(item: str, org: str) -> str:
    code, _part = ITEM_INDICATORS[item]
    return code.format(level=LEVEL_NAMES[LEVEL_BY_LENGTH[len(org)]].upper())


def _dressed(finding: dict, period: str, names: dict[str, str]) -> dict:
    """A finding with the links from its figures to the records behind them."""
    figures = finding["figures"]
    org = finding["org"]
    links: list[dict] = []
    for x in figures.get("differences", []):
        code = _item_indicator(x["item"], org)
        links.append(
            {
                "text": f"{x['period']} {checks.item_name(x['item'])}: "
                + _("reported %(reported)s, recorded %(recorded)s")
                % {"reported": x["reported"], "recorded": x["recorded"]},
                "url": _records_url(code, org, x["period"]),
            }
        )
    for x in figures.get("outliers", []):
        code = _item_indicator(x["item"], org)
        links.append(
            {
                "text": f"{x['period']} {checks.item_name(x['item'])}: {x['count']} "
                f"({_('reported') if x['series'] == 'reported' else _('recorded')})",
                "url": _records_url(code, org, x["period"]),
            }
        )
    for x in figures.get("items", []):
        code = _item_indicator(x["item"], org)
        links.append(
            {
                "text": f"{period} {checks.item_name(x['item'])}: {x['years'][period]}",
                "url": _records_url(code, org, period),
            }
        )
    indicator_of = {
        "births_per_pregnancy": ("BIRTHS", "numerator"),
        "facility_share": ("FACILITY_DELIVERY", "numerator"),
        "children_0_per_birth": ("BIRTHS", "numerator"),
        "mwra_share": ("MWRA_SHARE", "numerator"),
        "marriage_rate": ("MARRIAGE_RATE", "numerator"),
        "srb": ("SRB", "numerator"),
    }
    outside = set(figures.get("outside_band", []))
    for row in figures.get("figures", []):
        if row["figure"] in outside and row["figure"] in indicator_of:
            code, part = indicator_of[row["figure"]]
            links.append({"text": f"{code} {period}", "url": _records_url(code, org, period, part)})
    return finding | {
        "name": names.get(org, ""),
        "label": STATUS_LABELS[finding["status"]],
        "links": links,
        "details": _details(figures),
    }


def _details(figures: dict) -> list[tuple[str, str]]:
    """The scalar figures of a finding, as (key, value) pairs to show."""
    return [
        (key, ", ".join(map(str, value)) if isinstance(value, list) else str(value))
        for key, value in figures.items()
        if isinstance(value, int | float | str)
        or value is None
        or (isinstance(value, list) and all(isinstance(v, int | float | str) for v in value))
    ]


def _child_row(child: OrgUnit, found: list[dict], code: str, audited: str, period: str) -> dict:
    """A sub-unit of the drill-down: its status for the check and a link down to it."""
    mine = [f for f in found if f["org"].startswith(child.code)]
    status = stats.worst(f["status"] for f in mine)
    return {
        "org": child.code,
        "name": child.name,
        "status": status,
        "label": STATUS_LABELS[status],
        "count": len(mine),
        "url": reverse("quality:check", args=[code])
        + _query(org=audited, unit=child.code, period=period),
    }


@area_view
def check(request: HttpRequest, code: str) -> HttpResponse:
    """The findings of one check inside one unit of an audited org unit, the unit's
    sub-units with their status, and the records behind the figures."""
    if code not in checks.CHECK_CODES:
        raise Http404
    audited = _request_unit(request)
    unit = _request_unit(request, "unit") if request.GET.get("unit") else audited
    if not unit.code.startswith(audited.code):
        raise Http404
    period = (request.GET.get("period") or "").strip() or default_year()
    context: dict[str, Any] = {
        "audited": audited,
        "unit": unit,
        "period": period,
        "code": code,
        "name": checks.check_name(code),
        "error": "",
    }
    try:
        result = audit_of(audited.code, period)
    except UserError as e:
        context["error"] = str(e)
        return render(request, "quality/check.html", context, status=400)
    the_check = next(c for c in result["checks"] if c["code"] == code)
    names = dict(OrgUnit.objects.subtree(unit.code).values_list("code", "name"))
    found = findings_in(result, code, unit.code)
    children = (
        [u for u in sub_units(unit.code) if u.code != unit.code] if not unit.is_village else []
    )
    context.update(
        thresholds=the_check["thresholds"],
        status=stats.worst(f["status"] for f in found),
        findings=[_dressed(f, period, names) for f in found],
        children=[_child_row(child, found, code, audited.code, period) for child in children],
        under=[
            e | {"group_label": checks.group_name(e["group"]), "name": names.get(e["org"], "")}
            for e in result["under_registration"]
            if e["org"].startswith(unit.code)
        ]
        if code == checks.CENSUS
        else [],
        back_url=reverse("quality:home") + _query(org=audited.code, period=period),
    )
    context["status_label"] = STATUS_LABELS[context["status"]]
    return render(request, "quality/check.html", context)


# ---------------------------------------------------------------------------
# The audit as a PDF


@area_view
def download(request: HttpRequest) -> HttpResponse:
    unit = _request_unit(request)
    period = (request.GET.get("period") or "").strip() or default_year()
    try:
        result = audit_of(unit.code, period)
    except UserError as e:
        return HttpResponse(str(e), status=400, content_type="text/plain; charset=utf-8")
    body = renderers.to_pdf(result, register_quality_of(unit.code, result["period"]))
    record_request(
        request,
        "audit_download",
        object_type="audit",
        object_id=result["period"],
        org_code=result["org"],
        format="pdf",
    )
    response = HttpResponse(body, content_type="application/pdf")
    filename = f"audit-{result['org']}-{result['period']}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ---------------------------------------------------------------------------
# Report forms: what a unit reported for a month, typed in and corrected


def last_month(today: dt.date | None = None) -> str:
    first = (today or clock.today()).replace(day=1) - dt.timedelta(days=1)
    return f"{first.year}{first.month:02d}"


@area_view
def reports(request: HttpRequest) -> HttpResponse:
    """GET: the report form of a unit for a month (the values in force, their versions and
    the register's figures for comparison). POST: record what was typed, as a new version
    where a value changed."""
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    code = (source.get("org") or "").strip() or user_org_code(user)
    unit = get_org_unit_for_user(user, code)
    period = (source.get("period") or "").strip() or last_month()
    context: dict[str, Any] = {"unit": unit, "period": period, "error": ""}
    reportable = unit.level in actions.REPORTING_LEVELS
    context["reportable"] = reportable
    if actions.month_first_day(period) is None:
        context["error"] = _("%(period)s is not a month: write YYYYMM, e.g. 202501") % {
            "period": period
        }
        return render(request, "quality/reports.html", context, status=400)
    form = None
    if request.method == "POST":
        if not reportable:
            raise Http404
        form = ReportForm(request.POST)
        if form.is_valid():
            values = [
                actions.Report(
                    unit.code,
                    period,
                    item,
                    form.cleaned_data[item],
                    clock.now(),
                    (user.get_full_name() or user.username)[:100],
                )
                for item in ITEMS
                if form.cleaned_data.get(item) is not None
            ]
            try:
                counts = actions.record_reports(values, user=user, source="web")
            except UserError as e:
                form.add_error(None, str(e))
            else:
                messages.success(
                    request,
                    _("Recorded: %(new)d new, %(changed)d changed, %(unchanged)d unchanged.")
                    % {
                        "new": counts["reports"],
                        "changed": counts["changed"],
                        "unchanged": counts["unchanged"],
                    },
                )
                return redirect(reverse("quality:reports") + _query(org=unit.code, period=period))
    in_force = actions.latest_versions(unit.code, period)
    history = ReportedFigure.objects.filter(org_id=unit.code, period=period).order_by(
        "item", "version"
    )
    context["revisions"] = [
        {"label": Item(r.item).label, "revision": r}
        for r in Revision.objects.filter(org=unit.code, period=period).select_related("revised_by")
    ]
    recorded = _recorded_month(unit.code, period)
    if form is None and reportable:
        form = ReportForm(initial={item: f.value for item, f in in_force.items()})
    context.update(
        form=form,
        rows=[
            {
                "item": item,
                "label": Item(item).label,
                "figure": in_force.get(item),
                "recorded": recorded.get(item),
                "differs": item in in_force and in_force[item].value != recorded.get(item),
                "field": form[item] if form is not None else None,
                "records_url": _records_url(_item_indicator(item, unit.code), unit.code, period)
                if recorded.get(item) is not None
                else "",
            }
            for item in ITEMS
        ],
        history=list(history.select_related("recorded_by")),
        units=_reporting_units(user),
    )
    status = 400 if form is not None and form.is_bound else 200
    return render(request, "quality/reports.html", context, status=status)


def _recorded_month(org: str, period: str) -> dict[str, int]:
    """What the register records for the unit in the month (the indicator engine's
    counts), or {} for a month that has not ended."""
    first = actions.month_first_day(period)
    if first is None or actions.next_month(first) > clock.today():
        return {}
    last = actions.next_month(first) - dt.timedelta(days=1)
    out = {}
    for item, rows in recorded_monthly(org, first, last, ITEMS, len(org)).items():
        out[item] = sum(n for (village, _m), n in rows.items() if village.startswith(org))
    return out


def _reporting_units(user) -> list[OrgUnit]:
    root = user_org_code(user)
    if not root:
        return []
    return list(
        OrgUnit.objects.subtree(root).filter(level__in=actions.REPORTING_LEVELS).order_by("code")
    )
