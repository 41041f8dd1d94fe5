"""The targets page: the league table of the townships of the user's area for a year
(figures from the indicator engine, compared with the targets in force), the targets set
for that year with their history, and for county administrators a form to set, change
or withdraw a target.

A county (or higher) user sees its townships ranked; a township or village user sees
its own org unit's figures against the targets it is held to. Writes go through
``taizhang.targets.actions`` (journaled and audited).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from taizhang import clock
from taizhang.accounts.decorators import area_view, county_admin_view
from taizhang.accounts.models import Role
from taizhang.accounts.scope import get_org_unit_for_user, user_org_code, user_role
from taizhang.errors import UserError
from taizhang.indicators.definitions import INDICATORS_BY_CODE, Indicator
from taizhang.orgunits.models import LENGTH_BY_LEVEL_NAME
from taizhang.targets import actions, rules
from taizhang.targets.attainment import league_table
from taizhang.targets.forms import TargetForm
from taizhang.targets.models import TargetChange
from taizhang.targets.scope import get_target_for_change, targets_for

YEARS_SHOWN = 6


def indicator_name(indicator: Indicator) -> str:
    return indicator.name_zh if (get_language() or "").startswith("zh") else indicator.name_en


def _year(request: HttpRequest) -> int:
    """The year asked for, or the last full calendar year."""
    try:
        return rules.year(request.GET.get("year", ""))
    except UserError:
        return clock.today().year - 1


@area_view
def home(request: HttpRequest) -> HttpResponse:
    return _page(request, _year(request))


def _page(request: HttpRequest, year: int, form: TargetForm | None = None) -> HttpResponse:
    user = request.user
    unit = get_org_unit_for_user(user, user_org_code(user))
    in_force = targets_for(user).filter(year=year, active=True)
    # The indicators with a target this year, in the order of docs/indicators.md.
    wanted = set(in_force.values_list("indicator", flat=True))
    codes = [code for code in INDICATORS_BY_CODE if code in wanted]
    # A county (or above) ranks its townships; anyone below sees their own unit.
    by = "township" if len(unit.code) < LENGTH_BY_LEVEL_NAME["township"] else None
    rows = league_table(unit.code, year, codes, by=by) if codes else []
    admin = user_role(user) == Role.COUNTY_ADMIN
    if admin and form is None:
        form = TargetForm(user=user, indicator_name=indicator_name, initial={"year": year})
    this_year = clock.today().year
    years = sorted(
        {*range(this_year - YEARS_SHOWN + 2, this_year + 2), year},
        reverse=True,
    )
    context = {
        "unit": unit,
        "year": year,
        "years": years,
        "ranked": by is not None,
        "indicators": [(code, indicator_name(INDICATORS_BY_CODE[code])) for code in codes],
        "rows": rows,
        "targets": in_force.select_related("org", "set_by").order_by("org_id", "indicator"),
        "changes": TargetChange.objects.filter(target__in=targets_for(user).filter(year=year))
        .select_related("target", "by")
        .order_by("-at", "-id")[:50],
        "form": form,
        "admin": admin,
    }
    status = 400 if form is not None and form.is_bound else 200
    return render(request, "targets/home.html", context, status=status)


@county_admin_view
@require_POST
def set_target(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = TargetForm(request.POST, user=user, indicator_name=indicator_name)
    if form.is_valid():
        data = form.cleaned_data
        try:
            target, status = actions.set_target(
                indicator=data["indicator"],
                org_code=data["org"],
                year=data["year"],
                value=data["value"],
                direction=data["direction"],
                user=user,
                source="web",
            )
        except UserError as e:
            form.add_error(None, str(e))
        else:
            done = {
                actions.CREATED: _("Target set."),
                actions.CHANGED: _("Target changed."),
                actions.UNCHANGED: _("The target was already in force; nothing changed."),
            }
            messages.success(request, done[status])
            return redirect(f"{reverse('targets:home')}?year={target.year}")
    year = form.cleaned_data.get("year") if hasattr(form, "cleaned_data") else None
    return _page(request, year or _year(request), form)


@county_admin_view
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_target_for_change(request.user, pk)
    try:
        actions.withdraw_target(target, user=request.user, source="web")
    except UserError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Target withdrawn."))
    return redirect(f"{reverse('targets:home')}?year={target.year}")
