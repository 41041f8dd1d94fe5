"""Import of report forms and census bases (columns: ``reports`` and ``census`` in
``taizhang.imports.columns``; docs/imports.md).

``reports``: ``org`` (a township or village), ``period`` (YYYYMM, a month that has
ended), ``item`` (births|deaths|marriages|moves_in|moves_out|method_starts), ``value``
(a whole number), ``submitted_at`` (optional: YYYY-MM-DD, with a time HH:MM[:SS]
after a space or ``T``), ``submitted_by`` (optional). A value equal to the one in force
is "unchanged"; another value is a new version ("changed"), the old one kept.

``census``: ``org`` (a township or village), ``year`` (the census year; the count is
at its middle), ``sex`` (M/F or 男/女), ``age`` (0-84, or ``85+``), ``population``.
Every org unit and year in the file must end up with all its cells (both sexes, every
age). A cell already held with the same population is "unchanged"; another population
replaces it ("changed", the old one kept in the audit trail).

In both, the same key twice in a file is an error unless both rows say the same.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.errors import UserError
from taizhang.imports import fields
from taizhang.imports.fields import FieldError
from taizhang.orgunits.models import OrgUnit
from taizhang.quality import actions
from taizhang.quality.models import ITEMS, OPEN_AGE

_TIME = re.compile(r"(?P<date>[^ T]+)(?:[ T](?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?)?")


def _org(raw: str, levels: dict[str, int]) -> str:
    code = raw.strip()
    if code not in levels:
        raise FieldError(_("org unit %(org)s is not in the register") % {"org": code or "(empty)"})
    if levels[code] not in actions.REPORTING_LEVELS:
        raise FieldError(_("org unit %(org)s is not a township or a village") % {"org": code})
    return code


def _count(raw: str, what: str, high: int) -> int:
    return fields.integer(raw, low=0, high=high, what=what)


def submitted_at(raw: str, today: dt.date) -> dt.datetime | None:
    """A submission time: a date, or a date and a time of day (local time)."""
    text = raw.strip()
    if not text:
        return None
    match = _TIME.fullmatch(text)
    if match is None:
        raise FieldError(_("%(raw)s is not a date and time (YYYY-MM-DD HH:MM)") % {"raw": raw})
    day = fields.date(match["date"], today, what=_("submission date"))
    if match["h"] is None:
        moment = dt.datetime.combine(day, dt.time())
    else:
        try:
            moment = dt.datetime.combine(
                day, dt.time(int(match["h"]), int(match["m"]), int(match["s"] or 0))
            )
        except ValueError:
            raise FieldError(_("%(raw)s is not a time of day") % {"raw": raw}) from None
    return timezone.make_aware(moment)


def _levels(table, key: str) -> dict[str, int]:
    codes = {table.get(values, key).strip() for _n, values in table.rows}
    return dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "level"))


def run_reports(ctx) -> dict[str, int]:
    table, errors, today = ctx.table, ctx.errors, ctx.today
    levels = _levels(table, "org")
    parsed: dict[tuple[str, str, str], tuple[int, actions.Report]] = {}
    for n, values in table.rows:

        def get(key: str, values=values) -> str:
            return table.get(values, key)

        column = "org"
        try:
            org = _org(get("org"), levels)
            column = "period"
            period = get("period").strip()
            first_day = actions.month_first_day(period)
            if first_day is None:
                raise FieldError(
                    _("%(period)s is not a month: write YYYYMM, e.g. 202501")
                    % {"period": period or "(empty)"}
                )
            if actions.next_month(first_day) > today:
                raise FieldError(_("the month %(period)s has not ended") % {"period": period})
            column = "item"
            item = fields.choice(get("item"), ITEMS, what=_("report item"))
            column = "value"
            value = _count(get("value"), _("the value reported"), actions.MAX_VALUE)
            column = "submitted_at"
            moment = submitted_at(get("submitted_at"), today)
            if moment is not None and timezone.localtime(moment).date() < first_day:
                raise FieldError(
                    _("the report for %(period)s cannot be submitted before the month began")
                    % {"period": period}
                )
            column = "submitted_by"
            who = get("submitted_by").strip()
            if len(who) > 100:
                raise FieldError(_("the name of who submitted it is longer than 100 characters"))
            report = actions.Report(org, period, item, value, moment, who)
        except FieldError as e:
            errors.add(n, e.column or column, str(e))
            continue
        key = (org, period, item)
        if key in parsed:
            first, same = parsed[key]
            if (same.value, same.submitted_at, same.submitted_by) != (value, moment, who):
                errors.add(
                    n,
                    "value",
                    _("the %(item)s of %(org)s for %(period)s are also on row %(row)d")
                    % {"item": item, "org": org, "period": period, "row": first},
                )
            continue
        parsed[key] = (n, report)
    if errors:
        return {}
    return actions.record_reports(
        [report for _n, report in parsed.values()],
        user=ctx.user,
        source="import",
        batch=ctx.batch,
        today=today,
    )


def _age(raw: str) -> int:
    text = raw.strip().replace("＋", "+")
    if text.endswith("+"):
        if text[:-1].strip() != str(OPEN_AGE):
            raise FieldError(
                _("%(raw)s: the only open age group is %(open)d+") % {"raw": raw, "open": OPEN_AGE}
            )
        return OPEN_AGE
    age = fields.integer(text, low=0, high=OPEN_AGE - 1, what=_("age; the last group is 85+"))
    return age


def run_census(ctx) -> dict[str, int]:
    table, errors, today = ctx.table, ctx.errors, ctx.today
    levels = _levels(table, "org")
    parsed: dict[tuple[str, int, str, int], tuple[int, actions.CensusCell]] = {}
    for n, values in table.rows:

        def get(key: str, values=values) -> str:
            return table.get(values, key)

        column = "org"
        try:
            org = _org(get("org"), levels)
            column = "year"
            year = fields.integer(get("year"), low=1950, high=today.year, what=_("census year"))
            column = "sex"
            sex = fields.sex(get("sex"))
            column = "age"
            age = _age(get("age"))
            column = "population"
            population = _count(get("population"), _("population"), 10 * actions.MAX_VALUE)
        except FieldError as e:
            errors.add(n, e.column or column, str(e))
            continue
        cell = actions.CensusCell(org, year, sex, age, population)
        key = (org, year, sex, age)
        if key in parsed:
            first, same = parsed[key]
            if same.population != population:
                errors.add(
                    n,
                    "population",
                    _("the same org unit, year, sex and age is also on row %(row)d")
                    % {"row": first},
                )
            continue
        parsed[key] = (n, cell)
    if errors:
        return {}
    try:
        return actions.record_census(
            [cell for _n, cell in parsed.values()],
            user=ctx.user,
            source="import",
            batch=ctx.batch,
            today=today,
        )
    except UserError as e:
        # A base that lacks cells is a problem of the file as a whole.
        errors.add(0, "", str(e))
        return {}
