"""The projection page: an org unit of the user's area (the county and each township,
or the user's own unit), a base year and a horizon; an animated population pyramid of
each scenario and line charts of births and women 15–49 by scenario, with the
assumptions behind them. The figures are the ones ``taizhang project`` prints
(``taizhang.projection.build``), cached under the register's version."""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from taizhang import clock
from taizhang.accounts.decorators import area_view
from taizhang.accounts.scope import get_org_unit_for_user, org_units_for, user_org_code
from taizhang.errors import UserError
from taizhang.orgunits.models import OrgUnit
from taizhang.projection.build import SCENARIO_NAMES, build_projection, scenarios
from taizhang.projection.register import MIN_BASE_YEAR

DEFAULT_YEARS = 30
MAX_PAGE_YEARS = 50
TOWNSHIP_LEVEL = 4
CACHE_SECONDS = 3600


def default_base_year(today: dt.date) -> int:
    """The last complete year."""
    return today.year - 1


def units_offered(user) -> list[OrgUnit]:
    """The county (and above) and the townships of the user's area, and the user's own
    unit whatever its level."""
    own = user_org_code(user)
    units = org_units_for(user).order_by("code")
    return [u for u in units if u.level <= TOWNSHIP_LEVEL or u.code == own]


def _whole(text: str, default: int, name: str, low: int, high: int) -> int:
    if not text.strip():
        return default
    try:
        value = int(text)
    except ValueError:
        raise UserError(
            _("%(name)s must be a whole number, not %(text)s.") % {"name": name, "text": text}
        ) from None
    if not low <= value <= high:
        raise UserError(
            _("%(name)s must lie between %(low)s and %(high)s, not %(value)s.")
            % {"name": name, "low": low, "high": high, "value": value}
        )
    return value


def _projection(org: str, base_year: int, years: int) -> dict:
    """The report with every scenario and the population by age, cached under the
    register's version (recomputed after any change to the register)."""
    from taizhang.web.views.dashboard import register_version

    def make() -> dict:
        return build_projection(org, base_year, years, scenarios(["all"]), by_age=True)

    version = register_version()
    if version is None:
        return make()
    key = "taizhang:" + ".".join(map(str, version)) + f":projection:{org}:{base_year}:{years}"
    report = cache.get(key)
    if report is None:
        report = make()
        cache.set(key, report, CACHE_SECONDS)
    return report


def _charts(report: dict) -> dict:
    """What the page's charts draw: the pyramid of each scenario and year, and the
    births and women 15–49 of each scenario (``taizhang/charts.js`` line charts)."""
    names = {
        "medium": _("Medium"),
        "low": _("Low fertility"),
        "high": _("High fertility"),
        "zero-migration": _("Zero migration"),
    }
    base = report["base"]
    years = [base["year"], *(row["year"] for row in report["years"])]
    ages = report["ages"]
    labels = [str(a) for a in ages[:-1]] + [f"{ages[-1]}+"]
    pyramid = {
        "groups": labels,
        "years": years,
        "maleName": _("Male"),
        "femaleName": _("Female"),
        "scenarios": [
            {
                "name": s["name"],
                "label": names.get(s["name"], s["name"]),
                "male": [base["male"], *(row["male"] for row in s["years"])],
                "female": [base["female"], *(row["female"] for row in s["years"])],
                "total": [base["total"], *(row["total"] for row in s["years"])],
            }
            for s in report["scenarios"]
        ],
    }

    def line(key: str, with_base: bool) -> dict:
        return {
            "type": "line",
            "years": years[1:] if not with_base else years,
            "series": [
                {
                    "name": names.get(s["name"], s["name"]),
                    "data": ([base[key]] if with_base else []) + [row[key] for row in s["years"]],
                }
                for s in report["scenarios"]
            ],
        }

    return {
        "pyramid": pyramid,
        "lines": [
            {"id": "births-chart", "title": _("Births per year"), "spec": line("births", False)},
            {
                "id": "women-chart",
                "title": _("Women aged 15–49"),
                "spec": line("women_15_49", True),
            },
            {"id": "total-chart", "title": _("Total population"), "spec": line("total", True)},
        ],
    }


@area_view
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = clock.today()
    org = request.GET.get("org") or user_org_code(user)
    unit = get_org_unit_for_user(user, org)
    context = {
        "units": units_offered(user),
        "unit": unit,
        "chosen": {
            "org": unit.code,
            "base_year": request.GET.get("base_year", ""),
            "years": request.GET.get("years", ""),
        },
        "scenario_names": SCENARIO_NAMES,
        "error": "",
        "report": None,
    }
    status = 200
    try:
        base_year = _whole(
            request.GET.get("base_year", ""),
            default_base_year(today),
            _("The base year"),
            MIN_BASE_YEAR,
            today.year - 1,
        )
        years = _whole(
            request.GET.get("years", ""), DEFAULT_YEARS, _("The years"), 1, MAX_PAGE_YEARS
        )
        context["chosen"] |= {"base_year": base_year, "years": years}
        report = _projection(unit.code, base_year, years)
    except UserError as e:
        context["error"] = str(e)
        status = 400
    else:
        context["report"] = report
        context["charts"] = _charts(report)
        context["last"] = {s["name"]: s["years"][-1] for s in report["scenarios"]}
    return render(request, "projection/home.html", context, status=status)
