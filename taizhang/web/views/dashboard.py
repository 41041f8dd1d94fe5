"""The dashboard, the org-unit tree and the lists of persons behind a figure.

Every figure on these pages comes from ``taizhang.indicators.engine.compute`` (and
the population pyramid from ``taizhang.indicators.structure``), the same functions
the ``taizhang indicators`` command prints, so the web and the command can never
disagree. Results are cached under the register's version (the highest event,
person and import-batch ids and the number of org units): any new event, person or
import changes the version, so the next page shows it at once, and nothing stale
is ever served.

The dashboard page carries the cards; its trend, ranking and pyramid are fragments
of the same view (``?section=trend|ranking|pyramid``) that htmx loads in parallel
once the page is shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from taizhang import clock
from taizhang.accounts.decorators import area_view
from taizhang.accounts.scope import (
    get_org_unit_for_user,
    in_area,
    persons_for,
    user_org_code,
)
from taizhang.audit.actions import record_request
from taizhang.cases.scope import cases_for
from taizhang.errors import UserError
from taizhang.imports.models import ImportBatch
from taizhang.indicators.definitions import INDICATORS, INDICATORS_BY_CODE, Indicator
from taizhang.indicators.engine import PARTS, compute, records_behind, subject_of
from taizhang.indicators.structure import population_pyramid
from taizhang.lib import periods
from taizhang.orgunits.models import LEVEL_NAMES, OrgUnit, prefix_range
from taizhang.register.models import Event, Person

# The key indicators of the dashboard's cards, in this order.
CARD_CODES: tuple[str, ...] = (
    "POP_END",
    "BIRTHS",
    "CBR",
    "CDR",
    "SRB",
    "TFR",
    "MWRA",
    "CPR",
    "MCPR",
    "FACILITY_DELIVERY",
    "BIRTH_ORDER_2",
    "BENEFIT_PAID_RATE",
    "CASE_CLOSURE_RATE",
)

# The register-quality cards (the seed's 漏册率, 漏管率, 差错率), a group of their own.
QUALITY_CODES: tuple[str, ...] = ("UNDER_REGISTRATION", "UNSERVED_RATE", "ENTRY_ERROR_RATE")

# The trend charts: a title and the indicators drawn on it. Each year is one engine call
# for the card indicators, so the last year's call is the cards' own (and cached once).
TREND_CHARTS: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (_("Population at the end of the year"), ("POP_END",)),
    (_("Birth and death rates (‰)"), ("CBR", "CDR")),
    (_("Total fertility rate"), ("TFR",)),
    (_("Sex ratio at birth (boys per 100 girls)"), ("SRB",)),
    (_("Contraceptive prevalence (%)"), ("CPR", "MCPR")),
    (_("Facility deliveries and second births (%)"), ("FACILITY_DELIVERY", "BIRTH_ORDER_2")),
)
TREND_YEARS = 6

# What the org-unit page shows for the unit and for each of its children.
ORG_CODES: tuple[str, ...] = ("POP_END", "BIRTHS", "CBR", "CDR", "TFR", "MWRA", "CPR")

DEFAULT_RANKING = "CBR"
PAGE_SIZE = 50
SECTIONS = ("trend", "ranking", "pyramid")
CACHE_SECONDS = 6 * 3600

UNIT_SUFFIX = {"per_mille": "‰", "percent": "%"}
LEVEL_LABELS = {
    "province": _("province"),
    "city": _("city"),
    "county": _("county"),
    "township": _("township"),
    "village": _("village"),
}
SEX_LABELS = {"M": _("Male"), "F": _("Female")}
STATUS_LABELS = {"resident": _("Resident"), "moved_out": _("Moved out"), "deceased": _("Deceased")}


# ---------------------------------------------------------------------------
# Figures, cached under the register's version


def register_version() -> tuple[int, ...] | None:
    """What every figure depends on, as a few numbers that change with any write.

    Events are append-only (a correction is a new event), persons and import batches
    only grow, and their ids only increase, so the highest ids change whenever the
    register does; the org-unit count covers a new unit. Returns None when a cached
    figure could not be trusted: on PostgreSQL while another transaction is writing
    (its rows may carry ids below the highest committed one).
    """
    quote = connection.ops.quote_name
    # Benefit payments and petitions change only through their append-only journals.
    tables = [
        Event._meta.db_table,
        Person._meta.db_table,
        ImportBatch._meta.db_table,
        "benefits_paymentaction",
        "cases_caseaction",
    ]
    tops = ", ".join(f"(SELECT MAX(id) FROM {quote(t)})" for t in tables)
    units = f"(SELECT COUNT(*) FROM {quote(OrgUnit._meta.db_table)})"
    # A merge of duplicate registrations, or its undo, moves rows without adding any.
    merges = quote("register_personmerge")
    units += f", (SELECT COUNT(*) FROM {merges}), (SELECT COUNT(undone_at) FROM {merges})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Ids come from a sequence when a transaction takes them, not when it commits:
            # while another writer is open, a later commit may add rows below the top id.
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL)"
            )
            if cursor.fetchone()[0]:
                return None
        cursor.execute(f"SELECT {tops}, {units}")
        return tuple(int(x or 0) for x in cursor.fetchone())


def _cached(version: tuple[int, ...] | None, key: str, make):
    """``make()``, kept under ``key`` for this register version (not kept without one)."""
    if version is None:
        return make()
    full_key = "taizhang:" + ".".join(map(str, version)) + ":" + key
    value = cache.get(full_key)
    if value is None:
        value = make()
        cache.set(full_key, value, CACHE_SECONDS)
    return value


def figures(
    org: str,
    period: str,
    codes: Sequence[str],
    by: str | None = None,
    *,
    version: tuple[int, ...] | None,
) -> dict | list[dict]:
    """``compute(org, period, codes, by)``, cached under the register's ``version``."""
    key = f"compute:{org}:{period}:{','.join(codes)}:{by or ''}"
    return _cached(version, key, lambda: compute(org, period, list(codes), by=by))


def pyramid(org: str, period: str, *, version: tuple[int, ...] | None) -> dict:
    """``population_pyramid(org, period)``, cached under the register's ``version``."""
    return _cached(version, f"pyramid:{org}:{period}", lambda: population_pyramid(org, period))


# ---------------------------------------------------------------------------
# Reading the request


class BadRequest(Exception):
    """A period, indicator or part the user typed that cannot be used; the message is a
    sentence for them, in their language."""


def default_period(today: dt.date | None = None) -> str:
    """The last full calendar year."""
    today = today or clock.today()
    return str(today.year - 1)


def read_period(text: str | None) -> periods.Period:
    """The period of a code typed by the user (2024, 2024S1, 2024Q3, 202407)."""
    text = (text or "").strip()
    if not text:
        return periods.parse(default_period())
    try:
        return periods.parse(text)
    except periods.PeriodError:
        raise BadRequest(
            gettext(
                "The period “%(period)s” is not a period code: write a year (2024), a half "
                "year (2024S1), a quarter (2024Q3) or a month (202407)."
            )
            % {"period": text}
        ) from None


def read_indicator(text: str | None, default: str | None = None) -> Indicator:
    """The indicator of a code typed by the user (any case)."""
    code = (text or default or "").strip().upper()
    indicator = INDICATORS_BY_CODE.get(code)
    if indicator is None:
        raise BadRequest(
            gettext("The indicator code “%(code)s” is not known: choose one of %(codes)s.")
            % {"code": (text or "").strip(), "codes": ", ".join(INDICATORS_BY_CODE)}
        )
    return indicator


def indicator_name(indicator: Indicator) -> str:
    """The indicator's name in the user's language."""
    return indicator.name_zh if (get_language() or "").startswith("zh") else indicator.name_en


def number(x: Any) -> str:
    """A figure for people: thousands grouped, at most two decimals, a dash for none."""
    if x is None:
        return "—"
    if isinstance(x, float):
        if x.is_integer():
            return f"{int(x):,}"
        return f"{x:,.2f}".rstrip("0").rstrip(".")
    return f"{x:,}"


def child_level(unit: OrgUnit) -> str | None:
    """The level name of the unit's children (None for a unit without children)."""
    child = OrgUnit.objects.filter(parent=unit).order_by("code").first()
    return LEVEL_NAMES[child.level] if child is not None else None


def _records_url(code: str, org: str, period: str, part: str) -> str:
    """Where the persons behind one part of a figure are listed."""
    return reverse("records", args=[code, org, period, part])


def _item(entry: dict, org: str, period: str) -> dict:
    """One indicator result dressed for a template: formatted figures and drill-down links."""
    indicator = INDICATORS_BY_CODE[entry["code"]]
    has_denominator = indicator.denominator is not None
    return {
        "code": entry["code"],
        "name": indicator_name(indicator),
        "raw": entry["value"],
        "raw_numerator": entry["numerator"],
        "raw_denominator": entry["denominator"] if has_denominator else "",
        "value": number(entry["value"]),
        "suffix": UNIT_SUFFIX.get(entry["unit"], "") if entry["value"] is not None else "",
        "numerator": number(entry["numerator"]),
        "denominator": number(entry["denominator"]) if has_denominator else "",
        "numerator_url": _records_url(entry["code"], org, period, "numerator"),
        "denominator_url": (
            _records_url(entry["code"], org, period, "denominator") if has_denominator else ""
        ),
    }


def _unit_of(request: HttpRequest) -> OrgUnit:
    """The org unit a page is about: ``?org=`` inside the user's area, or the user's own."""
    code = (request.GET.get("org") or "").strip() or user_org_code(request.user)
    return get_org_unit_for_user(request.user, code)


# ---------------------------------------------------------------------------
# The dashboard


@area_view
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard of an org unit for a period: key figures as cards; the trend, the
    ranking of the sub-units and the population pyramid as fragments (``?section=``)."""
    unit = _unit_of(request)
    section = request.GET.get("section", "")
    context: dict[str, Any] = {
        "unit": unit,
        "period_text": (request.GET.get("period") or "").strip() or default_period(),
        "level_label": LEVEL_LABELS[LEVEL_NAMES[unit.level]],
    }
    try:
        period = read_period(request.GET.get("period"))
    except BadRequest as e:
        context["error"] = str(e)
        template = (
            f"web/dashboard/_{section}.html" if section in SECTIONS else "web/dashboard/home.html"
        )
        return render(request, template, context, status=400)
    context["period"] = period
    version = register_version()

    if section == "trend":
        return _trend(request, unit, period, version, context)
    if section == "ranking":
        return _ranking(request, unit, period, version, context)
    if section == "pyramid":
        return _pyramid(request, unit, period, version, context)

    result = figures(unit.code, period.code, CARD_CODES, version=version)
    by_code = {entry["code"]: entry for entry in result["indicators"]}
    quality = figures(unit.code, period.code, QUALITY_CODES, version=version)
    query = {"org": unit.code, "period": period.code}
    context.update(
        cards=[_item(by_code[code], unit.code, period.code) for code in CARD_CODES],
        quality_cards=[_item(e, unit.code, period.code) for e in quality["indicators"]],
        has_children=child_level(unit) is not None,
        section_url={
            s: f"{reverse('home')}?{urlencode({**query, 'section': s})}" for s in SECTIONS
        },
    )
    return render(request, "web/dashboard/home.html", context)


def trend_years(period: periods.Period, n: int = TREND_YEARS) -> list[int]:
    """The ``n`` calendar years ending with the period's."""
    return list(range(period.year - n + 1, period.year + 1))


def _trend(request, unit, period, version, context) -> HttpResponse:
    """The trend part: a line chart per group of card indicators over the recent years."""
    years = trend_years(period)
    # One engine call per year, for the cards' indicators: the chosen year's is the cards'.
    per_year = {
        year: {
            e["code"]: e["value"]
            for e in figures(unit.code, str(year), CARD_CODES, version=version)["indicators"]
        }
        for year in years
    }
    charts = []
    for i, (title, codes) in enumerate(TREND_CHARTS):
        series = [
            {
                "name": indicator_name(INDICATORS_BY_CODE[code]),
                "code": code,
                "data": [per_year[year][code] for year in years],
            }
            for code in codes
        ]
        charts.append(
            {
                "id": f"trend-{i}-data",
                "title": str(title),
                "spec": {"type": "line", "years": [str(y) for y in years], "series": series},
            }
        )
    context.update(years=years, charts=charts)
    return render(request, "web/dashboard/_trend.html", context)


def _ranking(request, unit, period, version, context) -> HttpResponse:
    """The ranking part: the unit's children in league-table order by ``?indicator=``."""
    level = child_level(unit)
    context["level"] = level
    context["level_label"] = LEVEL_LABELS.get(level or "", level)
    try:
        indicator = read_indicator(request.GET.get("indicator"), DEFAULT_RANKING)
    except BadRequest as e:
        context["error"] = str(e)
        return render(request, "web/dashboard/_ranking.html", context, status=400)
    context["indicator"] = indicator
    context["indicator_choices"] = [(i.code, indicator_name(i)) for i in INDICATORS]
    if level is None:
        context["rows"] = []
        return render(request, "web/dashboard/_ranking.html", context)
    codes = [indicator.code] if indicator.code == "POP_END" else [indicator.code, "POP_END"]
    results = figures(unit.code, period.code, codes, by=level, version=version)
    context["rows"] = ranking_rows(results, indicator.code, period.code)
    context["chart"] = {
        "type": "bar",
        "labels": [r["name"] for r in context["rows"]],
        "values": [r["raw"] for r in context["rows"]],
        "name": indicator_name(indicator),
    }
    return render(request, "web/dashboard/_ranking.html", context)


def ranking_rows(results: list[dict], code: str, period: str) -> list[dict]:
    """The units of a ``compute(..., by=)`` result in league-table order by ``code``.

    Highest value first; units whose value is null (a zero denominator) come last,
    unranked. Equal values share a rank (1, 2, 2, 4); ties are listed in code order.
    """
    names = dict(
        OrgUnit.objects.filter(code__in=[r["org"] for r in results]).values_list("code", "name")
    )
    rows = []
    for result in results:
        by_code = {e["code"]: e for e in result["indicators"]}
        item = _item(by_code[code], result["org"], period)
        item.update(
            org=result["org"],
            name=names.get(result["org"], result["org"]),
            population=number(by_code["POP_END"]["value"]),
        )
        rows.append(item)
    rows.sort(key=lambda r: (r["raw"] is None, -(r["raw"] or 0), r["org"]))
    previous = None
    for position, row in enumerate(rows, start=1):
        if row["raw"] is None:
            row["rank"] = None
        elif previous is not None and row["raw"] == previous["raw"]:
            row["rank"] = previous["rank"]
        else:
            row["rank"] = position
        previous = row
    return rows


def _pyramid(request, unit, period, version, context) -> HttpResponse:
    """The pyramid part: residents at the period's end by sex and five-year age group."""
    result = pyramid(unit.code, period.code, version=version)
    groups = result["groups"]
    context.update(
        pyramid=result,
        total=number(result["total"]),
        male=number(result["male"]),
        female=number(result["female"]),
        # Oldest group on top, as a pyramid is drawn.
        rows=list(reversed(groups)),
        chart={
            "type": "pyramid",
            "groups": [g["label"] for g in groups],
            "male": [g["male"] for g in groups],
            "female": [g["female"] for g in groups],
            "maleName": str(_("Male")),
            "femaleName": str(_("Female")),
        },
        population_url=_records_url("POP_END", unit.code, period.code, "numerator"),
    )
    return render(request, "web/dashboard/_pyramid.html", context)


# ---------------------------------------------------------------------------
# The org-unit tree


def parent_chain(user, unit: OrgUnit) -> list[OrgUnit]:
    """The unit's ancestors inside the user's area, from the top down."""
    chain = []
    parent = unit.parent
    while parent is not None and in_area(user, parent.code):
        chain.append(parent)
        parent = parent.parent
    return list(reversed(chain))


@area_view
def org_unit(request: HttpRequest, code: str) -> HttpResponse:
    """An org unit: its parents within the user's area, its own key figures and each of
    its children's (one engine call for all of them), with links down."""
    unit = get_org_unit_for_user(request.user, code)
    context: dict[str, Any] = {
        "unit": unit,
        "level_label": LEVEL_LABELS[LEVEL_NAMES[unit.level]],
        "chain": parent_chain(request.user, unit),
        "period_text": (request.GET.get("period") or "").strip() or default_period(),
        "headers": [indicator_name(INDICATORS_BY_CODE[c]) for c in ORG_CODES],
    }
    try:
        period = read_period(request.GET.get("period"))
    except BadRequest as e:
        context["error"] = str(e)
        return render(request, "web/orgunits/org_unit.html", context, status=400)
    context["period"] = period
    version = register_version()

    # The unit's own figures are a subset of its dashboard's cards: one cache entry for both.
    own = figures(unit.code, period.code, CARD_CODES, version=version)
    context["own"] = [
        _item(e, unit.code, period.code) for e in own["indicators"] if e["code"] in ORG_CODES
    ]

    children = list(OrgUnit.objects.filter(parent=unit).order_by("code"))
    rows = []
    if children:
        level = LEVEL_NAMES[children[0].level]
        results = {
            r["org"]: r
            for r in figures(unit.code, period.code, ORG_CODES, by=level, version=version)
        }
        for child in children:
            result = results.get(child.code)
            items = (
                [_item(e, child.code, period.code) for e in result["indicators"]]
                if result is not None
                else []
            )
            rows.append({"unit": child, "items": items})
    context["children"] = rows
    context["dashboard_url"] = (
        f"{reverse('home')}?{urlencode({'org': unit.code, 'period': period.code})}"
    )
    return render(request, "web/orgunits/org_unit.html", context)


# ---------------------------------------------------------------------------
# The persons behind a figure


def ids_in_scope(user, ids: list[int]) -> list[int]:
    """Those of ``ids`` (sorted) whose person the user may see, in the same order.

    One indexed range query: the persons of the user's area when they are the fewer,
    otherwise the persons outside it (then taken away).
    """
    if not ids:
        return []
    root = user_org_code(user)
    if not root:
        return []
    low, high = prefix_range(root)
    span = Person.objects.filter(pk__gte=ids[0], pk__lte=ids[-1])
    inside = span.filter(current_village__gte=low, current_village__lt=high)
    outside = span.exclude(current_village__gte=low, current_village__lt=high)
    total = Person.objects.count()
    if persons_for(user).count() * 2 <= total:
        keep = set(inside.values_list("pk", flat=True))
        return [i for i in ids if i in keep]
    drop = set(outside.values_list("pk", flat=True))
    return [i for i in ids if i not in drop]


@area_view
def records(request: HttpRequest, code: str, org: str, period: str, part: str) -> HttpResponse:
    """The persons behind the numerator or denominator of a figure, within the user's area,
    a page at a time, each linking to their record. Every page shown is audited."""
    unit = get_org_unit_for_user(request.user, org)
    context: dict[str, Any] = {"unit": unit, "part": part, "period_text": period}
    try:
        the_period = read_period(period)
        indicator = read_indicator(code)
        if part not in PARTS:
            raise BadRequest(
                gettext(
                    "“%(part)s” is not a part of a figure: ask for the numerator or the denominator."
                )
                % {"part": part}
            )
        if part == "denominator" and indicator.denominator is None:
            raise BadRequest(
                gettext("The indicator %(code)s has no denominator: its value is its numerator.")
                % {"code": indicator.code}
            )
    except BadRequest as e:
        context["error"] = str(e)
        return render(request, "web/dashboard/records.html", context, status=400)

    version = register_version()
    # A card's figure is already computed (and cached) with the other cards.
    codes = next(
        (group for group in (CARD_CODES, QUALITY_CODES) if indicator.code in group),
        (indicator.code,),
    )
    figure = figures(unit.code, the_period.code, codes, version=version)
    entry = next(e for e in figure["indicators"] if e["code"] == indicator.code)
    root = user_org_code(request.user)
    key = f"records:{indicator.code}:{unit.code}:{the_period.code}:{part}:{root}"
    try:
        ids, behind = _cached(
            version, key, lambda: _visible_records(request.user, indicator, unit, the_period, part)
        )
    except UserError as e:
        context["error"] = str(e)
        return render(request, "web/dashboard/records.html", context, status=400)

    page = Paginator(ids, PAGE_SIZE).get_page(request.GET.get("page"))
    subject = subject_of(indicator.code)
    rows = (_case_rows if subject == "case" else _person_rows)(request.user, page.object_list)
    record_request(
        request,
        "records_view",
        object_type="indicator",
        object_id=indicator.code,
        org_code=unit.code,
        period=the_period.code,
        part=part,
        page=page.number,
        **{"cases" if subject == "case" else "persons": [r["pk"] for r in rows]},
    )
    context.update(
        period=the_period,
        indicator=indicator,
        name=indicator_name(indicator),
        item=_item(entry, unit.code, the_period.code),
        page=page,
        rows=rows,
        subject=subject,
        count=len(ids),
        count_text=number(len(ids)),
        outside=behind - len(ids),
        outside_text=number(behind - len(ids)),
    )
    return render(request, "web/dashboard/records.html", context)


def _visible_records(user, indicator, unit, period, part) -> tuple[list[int], int]:
    """The ids behind the figure the user may see, and how many are behind it in all."""
    ids = records_behind(indicator.code, unit.code, period.code, part)
    if subject_of(indicator.code) == "case":
        visible = set(cases_for(user).filter(pk__in=ids).values_list("pk", flat=True))
        return [pk for pk in ids if pk in visible], len(ids)
    return ids_in_scope(user, ids), len(ids)


def _person_rows(user, ids: Sequence[int]) -> list[dict]:
    """One page of the persons behind a figure, as the records table shows them."""
    persons = {p.pk: p for p in persons_for(user).filter(pk__in=list(ids))}
    villages = dict(
        OrgUnit.objects.filter(code__in={p.current_village for p in persons.values()}).values_list(
            "code", "name"
        )
    )
    rows = []
    for pk in ids:
        person = persons.get(pk)
        if person is None:  # moved out of the area since the list was made
            continue
        rows.append(
            {
                "pk": pk,
                "name": person.name,
                "sex": SEX_LABELS.get(person.sex, person.sex),
                "birth_year": person.birth_date.year,
                "village": villages.get(person.current_village, person.current_village),
                "status": STATUS_LABELS.get(person.status, person.status),
            }
        )
    return rows


def _case_rows(user, ids: Sequence[int]) -> list[dict]:
    """One page of the petitions behind a figure (no petitioner details: the case page
    shows them to those allowed)."""
    cases = cases_for(user).filter(pk__in=list(ids)).select_related("org")
    by_pk = {c.pk: c for c in cases}
    return [
        {
            "pk": c.pk,
            "number": c.number,
            "received_on": c.received_on,
            "conclude_due": c.conclude_due,
            "closed_on": c.closed_on,
            "org": c.org.name,
            "state": c.get_state_display(),
        }
        for c in (by_pk.get(pk) for pk in ids)
        if c is not None
    ]
