"""The only write path for reported figures and census bases: validated, written and
audited in one place.

A reported figure is never edited: recording a value for an org unit, month and item
that differs from the one in force adds a new version (the old stays, with who
submitted it and when); the same value again changes nothing. A census cell (org unit,
year, sex, age) holds one population; a new value replaces it and the audit trail
keeps the old one.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang import clock
from taizhang.audit.actions import record as audit
from taizhang.errors import UserError
from taizhang.orgunits.models import OrgUnit
from taizhang.quality.models import ITEMS, OPEN_AGE, CensusPopulation, ReportedFigure
from taizhang.register import db

CREATED, CHANGED, UNCHANGED = "created", "changed", "unchanged"
MAX_VALUE = 1_000_000
REPORTING_LEVELS = (4, 5)  # townships and villages submit report forms
REPORT_COLUMNS = (
    "org_id",
    "period",
    "item",
    "value",
    "version",
    "submitted_at",
    "submitted_by",
    "recorded_at",
    "recorded_by_id",
    "source",
    "batch_id",
)


@dataclass(frozen=True)
class Report:
    """One value of a report form as submitted."""

    org: str
    period: str  # YYYYMM
    item: str
    value: int
    submitted_at: dt.datetime | None = None
    submitted_by: str = ""


@dataclass(frozen=True)
class CensusCell:
    org: str
    year: int
    sex: str
    age: int  # OPEN_AGE: 85 and over
    population: int


def check_reports(reports: Iterable[Report], today: dt.date) -> None:
    """Raises ``UserError`` naming what is wrong with the first bad value of a report form."""
    first_days: dict[str, dt.datetime] = {}
    after_today = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time()))
    items = set(ITEMS)
    for report in reports:
        if report.item not in items:
            raise UserError(
                _("%(item)s is not a report item: use %(items)s")
                % {"item": report.item or "(empty)", "items": "|".join(ITEMS)}
            )
        if not (isinstance(report.value, int) and 0 <= report.value <= MAX_VALUE):
            raise UserError(
                _("the value must be a whole number from 0 to %(max)s") % {"max": f"{MAX_VALUE:,}"}
            )
        began = first_days.get(report.period)
        if began is None:
            first = month_first_day(report.period)
            if first is None:
                raise UserError(
                    _("%(period)s is not a month: write YYYYMM, e.g. 202501")
                    % {"period": report.period}
                )
            if next_month(first) > today:
                raise UserError(_("the month %(period)s has not ended") % {"period": report.period})
            began = first_days[report.period] = timezone.make_aware(
                dt.datetime.combine(first, dt.time())
            )
        if report.submitted_at is not None:
            if report.submitted_at >= after_today:
                raise UserError(_("the submission time is in the future"))
            if report.submitted_at < began:
                raise UserError(
                    _("the report for %(period)s cannot be submitted before the month began")
                    % {"period": report.period}
                )
        if len(report.submitted_by) > 100:
            raise UserError(_("the name of who submitted it is longer than 100 characters"))


def month_first_day(period: str) -> dt.date | None:
    """The first day of a month ``YYYYMM``, or None when it is not one."""
    text = period.strip()
    if not (len(text) == 6 and text.isdigit() and 1 <= int(text[4:]) <= 12):
        return None
    if not 1900 <= int(text[:4]) <= 2999:
        return None
    return dt.date(int(text[:4]), int(text[4:]), 1)


def next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def reporting_units(codes: Iterable[str]) -> set[str]:
    """Those of ``codes`` that are townships or villages of the register."""
    return set(
        OrgUnit.objects.filter(code__in=set(codes), level__in=REPORTING_LEVELS).values_list(
            "code", flat=True
        )
    )


def record_reports(
    reports: list[Report], *, user=None, source: str, batch=None, today: dt.date | None = None
) -> dict[str, int]:
    """Record report values (each (org, period, item) at most once). Returns how many were
    new, changed (a new version) and unchanged. Raises ``UserError`` for a value that is
    not valid (nothing is written then)."""
    today = today or clock.today()
    keys = [(r.org, r.period, r.item) for r in reports]
    if len(set(keys)) != len(keys):
        raise UserError(_("the same org unit, month and item is given twice"))
    units = reporting_units(r.org for r in reports)
    for report in reports:
        if report.org not in units:
            raise UserError(
                _("org unit %(org)s is not a township or village of the register")
                % {"org": report.org}
            )
    check_reports(reports, today)
    now = clock.now()
    counts = {"reports": 0, "changed": 0, "unchanged": 0}
    changes = []
    with transaction.atomic():
        in_force = _in_force({r.org for r in reports}, {r.period for r in reports})
        new = []
        for report in reports:
            current = in_force.get((report.org, report.period, report.item))
            if current is not None and current[0] == report.value:
                counts["unchanged"] += 1
                continue
            version = 1 if current is None else current[1] + 1
            counts["changed" if current is not None else "reports"] += 1
            if current is not None:
                changes.append(
                    {
                        "org": report.org,
                        "period": report.period,
                        "item": report.item,
                        "old": current[0],
                        "new": report.value,
                        "version": version,
                    }
                )
            new.append((report, version))
        # The register's bulk path: a county's years of forms are a hundred thousand rows.
        adapt = functools.lru_cache(maxsize=4096)(db.adapt_datetime)
        at = adapt(now)
        user_id = user.pk if user is not None else None
        batch_id = batch.pk if batch is not None else None
        db.insert_rows(
            ReportedFigure._meta.db_table,
            REPORT_COLUMNS,
            [
                (
                    r.org,
                    r.period,
                    r.item,
                    r.value,
                    version,
                    adapt(r.submitted_at) if r.submitted_at is not None else None,
                    r.submitted_by,
                    at,
                    user_id,
                    source,
                    batch_id,
                )
                for r, version in new
            ],
        )
        if new:
            orgs = sorted({r.org for r, _version in new})
            audit(
                "reports_record",
                user=user,
                object_type="reported_figure",
                object_id=batch.pk if batch is not None else "",
                org_code=orgs[0] if len(orgs) == 1 else _common_prefix(orgs),
                source=source,
                counts=counts,
                periods=sorted({r.period for r, _version in new}),
                changes=changes,
            )
    return counts


def _in_force(orgs: set[str], periods: set[str]) -> dict[tuple[str, str, str], tuple[int, int]]:
    """{(org, period, item): (value, version)} of the figures in force."""
    rows = (
        ReportedFigure.objects.filter(org_id__in=orgs, period__in=periods)
        .order_by("version")
        .values_list("org_id", "period", "item", "value", "version")
    )
    return {(o, p, i): (v, n) for o, p, i, v, n in rows}


def latest_versions(org: str, period: str) -> dict[str, ReportedFigure]:
    """{item: the figure in force} of one org unit's form for one month."""
    found = ReportedFigure.objects.filter(org_id=org, period=period)
    top = found.values("item").annotate(top=Max("version"))
    wanted = {(row["item"], row["top"]) for row in top}
    return {f.item: f for f in found.select_related("recorded_by") if (f.item, f.version) in wanted}


def _common_prefix(codes: list[str]) -> str:
    first, last = codes[0], codes[-1]
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def check_census(cell: CensusCell, today: dt.date) -> None:
    if not 1950 <= cell.year <= today.year:
        raise UserError(_("the census year must be from 1950 to %(year)d") % {"year": today.year})
    if cell.sex not in ("M", "F"):
        raise UserError(_("the sex must be M or F"))
    if not 0 <= cell.age <= OPEN_AGE:
        raise UserError(_("the age must be from 0 to 84, or 85+"))
    if not 0 <= cell.population <= 10 * MAX_VALUE:
        raise UserError(_("the population must be a whole number of at least 0"))


def record_census(
    cells: list[CensusCell], *, user=None, source: str, batch=None, today: dt.date | None = None
) -> dict[str, int]:
    """Record census cells; every (org unit, year) touched must then have all its cells
    (both sexes, ages 0-84 and 85+). Returns how many cells were new, changed and
    unchanged. Raises ``UserError`` (nothing written) for a bad cell or an incomplete base."""
    today = today or clock.today()
    keys = [(c.org, c.year, c.sex, c.age) for c in cells]
    if len(set(keys)) != len(keys):
        raise UserError(_("the same org unit, year, sex and age is given twice"))
    units = reporting_units(c.org for c in cells)
    for cell in cells:
        if cell.org not in units:
            raise UserError(
                _("org unit %(org)s is not a township or village of the register")
                % {"org": cell.org}
            )
        check_census(cell, today)
    now = clock.now()
    counts = {"census_cells": 0, "changed": 0, "unchanged": 0}
    changes = []
    with transaction.atomic():
        orgs = {c.org for c in cells}
        years = {c.year for c in cells}
        existing = {
            (c.org_id, c.year, c.sex, c.age): c
            for c in CensusPopulation.objects.filter(org_id__in=orgs, year__in=years)
        }
        for base in {(c.org, c.year) for c in cells}:
            given = {(c.sex, c.age) for c in cells if (c.org, c.year) == base}
            held = {(s, a) for (o, y, s, a) in existing if (o, y) == base}
            lacking = _all_cells() - given - held
            if lacking:
                shown = ", ".join(
                    f"{sex} {age if age < OPEN_AGE else f'{OPEN_AGE}+'}"
                    for sex, age in sorted(lacking)[:6]
                )
                raise UserError(
                    _(
                        "the census base of %(org)s for %(year)d lacks %(count)d of its cells "
                        "(%(cells)s): give both sexes, every age from 0 to 84 and 85+"
                    )
                    % {"org": base[0], "year": base[1], "count": len(lacking), "cells": shown}
                )
        new, changed = [], []
        for cell in cells:
            old = existing.get((cell.org, cell.year, cell.sex, cell.age))
            if old is None:
                counts["census_cells"] += 1
                new.append(
                    CensusPopulation(
                        org_id=cell.org,
                        year=cell.year,
                        sex=cell.sex,
                        age=cell.age,
                        population=cell.population,
                        recorded_at=now,
                        recorded_by=user,
                        batch=batch,
                    )
                )
            elif old.population != cell.population:
                counts["changed"] += 1
                changes.append(
                    {
                        "org": cell.org,
                        "year": cell.year,
                        "sex": cell.sex,
                        "age": cell.age,
                        "old": old.population,
                        "new": cell.population,
                    }
                )
                old.population, old.recorded_at, old.recorded_by, old.batch = (
                    cell.population,
                    now,
                    user,
                    batch,
                )
                changed.append(old)
            else:
                counts["unchanged"] += 1
        CensusPopulation.objects.bulk_create(new, batch_size=2000)
        CensusPopulation.objects.bulk_update(
            changed, ["population", "recorded_at", "recorded_by", "batch"], batch_size=2000
        )
        if new or changed:
            codes = sorted(orgs)
            audit(
                "census_record",
                user=user,
                object_type="census",
                object_id=batch.pk if batch is not None else "",
                org_code=codes[0] if len(codes) == 1 else _common_prefix(codes),
                source=source,
                counts=counts,
                years=sorted(years),
                changes=changes,
            )
    return counts


def _all_cells() -> set[tuple[str, int]]:
    return {(sex, age) for sex in ("F", "M") for age in range(OPEN_AGE + 1)}
