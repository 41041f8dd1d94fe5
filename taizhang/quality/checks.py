"""The data-quality audit (澄清底子) of an org unit for a year: eight checks and the
under-registration estimate, as the JSON of docs/formats.md (``taizhang audit``).

The checks follow the families of the WHO Data Quality Review, adapted to a register
that is itself the source of the published figures:

1. ``REPORTING_COMPLETENESS`` — every village's monthly report forms: complete (all six
   items) and on time (by ``due_day`` of the next month).
2. ``REPORTED_VS_RECORDED`` — what each village and township reported against what the
   register records for the same month and item; every difference is listed, nothing
   is replaced.
3. ``OUTLIERS`` — a village's month against its own history, left out of it, with a
   count distribution (``stats.outlier``), in the recorded and the reported series.
4. ``CONSISTENCY_OVER_TIME`` — a year's recorded total against the mean of the three
   before (±33%, when larger than chance).
5. ``RELATED_FIGURES`` — births against pregnancies registered 6–10 months earlier,
   births in a facility, children aged 0 in the register.
6. ``STRUCTURE`` — married women 15–49 as a share of the population, marriages per
   1,000, the sex ratio at birth overall and by birth order, the one-child share of
   married women against second births.
7. ``CENSUS_COMPARISON`` — the census base carried forward with the register's own
   births, deaths and moves against the register (``under_registration``).
8. ``DUPLICATE_PERSONS`` — likely duplicate registrations (``register.duplicates``) per
   township: the register as it stands, whatever the year.

A finding names the org unit where a problem is (a village or a township), with the
figures behind it; a check's status is its worst finding's (``pass`` without findings).
Every recorded figure is the indicator engine's (``figures``), so an audit figure and
an indicator never count the same thing two ways.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from taizhang import clock
from taizhang.errors import UserError
from taizhang.indicators import engine
from taizhang.lib.periods import Period, shift_years
from taizhang.orgunits.models import LENGTH_BY_LEVEL_NAME, OrgUnit
from taizhang.quality import config, figures, stats
from taizhang.quality.figures import VILLAGE, Group, Reported
from taizhang.quality.models import ITEMS, OPEN_AGE
from taizhang.quality.stats import FAIL, PASS, WARN

COMPLETENESS = "REPORTING_COMPLETENESS"
REPORTED_VS_RECORDED = "REPORTED_VS_RECORDED"
OUTLIERS = "OUTLIERS"
CONSISTENCY = "CONSISTENCY_OVER_TIME"
RELATED = "RELATED_FIGURES"
STRUCTURE = "STRUCTURE"
CENSUS = "CENSUS_COMPARISON"
DUPLICATES = "DUPLICATE_PERSONS"

CHECK_CODES = (
    COMPLETENESS,
    REPORTED_VS_RECORDED,
    OUTLIERS,
    CONSISTENCY,
    RELATED,
    STRUCTURE,
    CENSUS,
    DUPLICATES,
)
# The section of ``config.thresholds()`` each check reads.
SETTINGS_OF = {
    COMPLETENESS: "completeness",
    REPORTED_VS_RECORDED: "reported_vs_recorded",
    OUTLIERS: "outliers",
    CONSISTENCY: "consistency",
    RELATED: "related",
    STRUCTURE: "structure",
    CENSUS: "census_comparison",
    DUPLICATES: "duplicates",  # no settings of its own: its thresholds are the listing's
}
CONSISTENCY_YEARS = 3
# Pregnancies registered this many months before a birth month are the ones it follows.
PREGNANCY_LAG = range(6, 11)


def check_name(code: str) -> str:
    """The check's name in the active language."""
    names = {
        COMPLETENESS: _("Completeness and timeliness of monthly reports"),
        REPORTED_VS_RECORDED: _("Reported figures against the register"),
        OUTLIERS: _("Outliers in monthly counts"),
        CONSISTENCY: _("Consistency over time"),
        RELATED: _("Consistency between related figures"),
        STRUCTURE: _("Structure of the population"),
        CENSUS: _("Register against the census carried forward"),
        DUPLICATES: _("Likely duplicate registrations"),
    }
    return names[code]


def check_short_name(code: str) -> str:
    """The check's name for a column header."""
    names = {
        COMPLETENESS: _("Reporting"),
        REPORTED_VS_RECORDED: _("Reported vs recorded"),
        OUTLIERS: _("Outliers"),
        CONSISTENCY: _("Over time"),
        RELATED: _("Related figures"),
        STRUCTURE: _("Structure"),
        CENSUS: _("Census"),
        DUPLICATES: _("Duplicates"),
    }
    return names[code]


def item_name(item: str) -> str:
    names = {
        "births": _("births"),
        "deaths": _("deaths"),
        "marriages": _("marriages"),
        "moves_in": _("moves in"),
        "moves_out": _("moves out"),
        "method_starts": _("methods started"),
    }
    return names[item]


def group_name(name: str) -> str:
    """``women_15_49`` → "women 15–49"; ``population`` → "population"."""
    group = figures.parse_group(name)
    if group.sex is None and group.high is None and group.low == 0:
        return _("population")
    who = {"F": _("women"), "M": _("men"), None: _("persons")}[group.sex]
    ages = f"{group.low}–{group.high}" if group.high is not None else f"{group.low}+"
    return f"{who} {ages}"


def number(x: float | int | None, digits: int = 0) -> str:
    """A figure in a message: thousands grouped."""
    if x is None:
        return "—"
    return f"{x:,.{digits}f}" if isinstance(x, float) else f"{x:,}"


def share(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{x * 100:.{digits}f}%"


def p_text(p: float) -> str:
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.4f}"


# ---------------------------------------------------------------------------
# What the audit is about


@dataclass
class Scope:
    """The org unit and year audited and the units each check looks at."""

    unit: OrgUnit
    period: Period
    today: dt.date
    villages: list[str]
    townships: list[str]  # townships below the unit (empty for a township or a village)
    # The units checks 5-7 judge: the townships below the unit, or the unit itself when it
    # is a township or a village (findings name townships and villages).
    areas: list[str]
    names: dict[str, str]

    @property
    def year(self) -> int:
        return self.period.year

    def months(self, year: int | None = None) -> list[str]:
        y = self.year if year is None else year
        return [f"{y}{m:02d}" for m in range(1, 13)]

    def elapsed_months(self) -> list[str]:
        """The months of the year that have ended: the register's counts for them are
        complete (as far as the register goes)."""
        return [m for m in self.months() if month_end(m) < self.today]


def month_start(code: str) -> dt.date:
    return dt.date(int(code[:4]), int(code[4:]), 1)


def month_end(code: str) -> dt.date:
    year, month = int(code[:4]), int(code[4:])
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def shift_month(code: str, months: int) -> str:
    index = int(code[:4]) * 12 + int(code[4:]) - 1 + months
    return f"{index // 12}{index % 12 + 1:02d}"


def make_scope(org: str, period: str, today: dt.date | None = None) -> Scope:
    the_period = engine.parse_period(period)
    if the_period.kind != "year":
        raise UserError(
            _("the audit covers a year (e.g. 2024), not the %(kind)s %(period)s.")
            % {"kind": the_period.kind, "period": period}
        )
    unit = engine.get_org_unit(org)
    subtree = OrgUnit.objects.subtree(unit.code)
    names = dict(subtree.values_list("code", "name"))
    villages = sorted(c for c in names if len(c) == LENGTH_BY_LEVEL_NAME["village"])
    townships = sorted(
        c for c in names if len(c) == LENGTH_BY_LEVEL_NAME["township"] and c != unit.code
    )
    if unit.is_village:
        villages = [unit.code]
    return Scope(
        unit=unit,
        period=the_period,
        today=today or clock.today(),
        villages=villages,
        townships=townships,
        areas=townships or [unit.code],
        names=names,
    )


def finding(org: str, status: str, figures_: dict, message: str) -> dict:
    return {"org": org, "status": status, "figures": figures_, "message": message}


def check_result(code: str, limits: dict, findings: list[dict]) -> dict:
    return {
        "code": code,
        "name": check_name(code),
        "status": stats.worst(f["status"] for f in findings),
        "thresholds": limits,
        "findings": findings,
    }


# ---------------------------------------------------------------------------
# The figures every check reads, fetched once


@dataclass
class Data:
    # {length: {(unit, YYYYMM, item): count}}: units of that code length; moves across
    # their own border.
    recorded: dict[int, dict[tuple[str, str, str], int]] = field(default_factory=dict)
    reported: dict[tuple[str, str, str], Reported] = field(default_factory=dict)

    def recorded_value(self, unit: str, month: str, item: str) -> int:
        return self.recorded[len(unit)].get((unit, month, item), 0)


def gather(scope: Scope, limits: dict) -> Data:
    """The recorded monthly counts (from the first year the history needs to the audit
    year) rolled up to every level the checks use, and the reports in force."""
    history = max(limits["outliers"]["history_years"], CONSISTENCY_YEARS)
    first = dt.date(scope.year - history, 1, 1)
    last = scope.period.end
    org = scope.unit.code
    data = Data()
    data.reported = figures.reported(org, f"{scope.year - history}01", f"{scope.year}12")
    lengths = {VILLAGE, len(org)} | {len(u) for u, _m, _i in data.reported}
    if scope.townships:
        lengths.add(LENGTH_BY_LEVEL_NAME["township"])
    data.recorded = figures.recorded_by_level(org, first, last, lengths)
    return data


# ---------------------------------------------------------------------------
# 1. Completeness and timeliness


def _deadline(month: str, due_day: int) -> dt.datetime:
    due = month_end(month) + dt.timedelta(days=due_day)
    return timezone.make_aware(dt.datetime.combine(due, dt.time(23, 59, 59)))


def _level(value: float | None, warn: float, fail: float) -> str:
    if value is None:
        return PASS
    if value < fail:
        return FAIL
    if value < warn:
        return WARN
    return PASS


def check_completeness(scope: Scope, data: Data, t: dict) -> list[dict]:
    due_day = t["due_day"]
    due = [m for m in scope.months() if _deadline(m, due_day).date() < scope.today]
    findings = []
    if not due:
        return findings
    for village in scope.villages:
        complete, partial, missing, on_time, late, unknown = [], [], [], [], [], []
        for month in due:
            got = [r for i in ITEMS if (r := data.reported.get((village, month, i)))]
            if len(got) == len(ITEMS):
                complete.append(month)
            elif got:
                partial.append(month)
            else:
                missing.append(month)
                continue
            times = [r.first_submitted for r in got if r.first_submitted is not None]
            if not times:
                unknown.append(month)
            elif min(times) <= _deadline(month, due_day):
                on_time.append(month)
            else:
                late.append(month)
        completeness = len(complete) / len(due)
        known = len(on_time) + len(late)
        timeliness = len(on_time) / known if known else None
        status = stats.worst(
            [
                _level(completeness, t["completeness_warn"], t["completeness_fail"]),
                _level(timeliness, t["timeliness_warn"], t["timeliness_fail"]),
            ]
        )
        if status == PASS:
            continue
        parts = [
            _("%(complete)d of %(due)d monthly reports complete (%(share)s)")
            % {"complete": len(complete), "due": len(due), "share": share(completeness)}
        ]
        if missing:
            parts.append(_("missing: %(months)s") % {"months": ", ".join(missing)})
        if partial:
            parts.append(_("items missing: %(months)s") % {"months": ", ".join(partial)})
        if timeliness is not None:
            parts.append(
                _("%(on_time)d of %(known)d on time (%(share)s)")
                % {"on_time": len(on_time), "known": known, "share": share(timeliness)}
            )
        if late:
            parts.append(_("late: %(months)s") % {"months": ", ".join(late)})
        findings.append(
            finding(
                village,
                status,
                {
                    "due": len(due),
                    "complete": len(complete),
                    "completeness": round(completeness, 4),
                    "missing": missing,
                    "partial": partial,
                    "on_time": len(on_time),
                    "late": late,
                    "time_unknown": unknown,
                    "timeliness": None if timeliness is None else round(timeliness, 4),
                },
                "; ".join(parts),
            )
        )
    return findings


# ---------------------------------------------------------------------------
# 2. Reported against recorded


def check_reported_vs_recorded(scope: Scope, data: Data, t: dict) -> list[dict]:
    months = set(scope.months())
    reporting = sorted({u for u, m, _i in data.reported if m in months})
    findings = []
    for unit in reporting:
        differences = []
        totals: dict[str, dict[str, int]] = {}
        for month in scope.months():
            for item in ITEMS:
                got = data.reported.get((unit, month, item))
                if got is None:
                    continue
                recorded = data.recorded_value(unit, month, item)
                total = totals.setdefault(item, {"reported": 0, "recorded": 0, "months": 0})
                total["reported"] += got.value
                total["recorded"] += recorded
                total["months"] += 1
                if got.value != recorded:
                    differences.append(
                        {
                            "period": month,
                            "item": item,
                            "reported": got.value,
                            "recorded": recorded,
                            "difference": got.value - recorded,
                            "version": got.version,
                        }
                    )
        if not differences:
            continue
        status = WARN
        parts = []
        for item in ITEMS:
            total = totals.get(item)
            off = [x for x in differences if x["item"] == item]
            if total is None or not off:
                continue
            gap = total["reported"] - total["recorded"]
            if abs(gap) >= max(t["fail_min"], t["fail_share"] * total["recorded"]):
                status = FAIL
            parts.append(
                _(
                    "%(item)s: reported %(reported)s, recorded %(recorded)s (%(gap)+d) "
                    "in the %(months)d months reported; %(off)d months differ"
                )
                % {
                    "item": item_name(item),
                    "reported": number(total["reported"]),
                    "recorded": number(total["recorded"]),
                    "gap": gap,
                    "months": total["months"],
                    "off": len(off),
                }
            )
        findings.append(
            finding(
                unit,
                status,
                {
                    "totals": {
                        item: total | {"difference": total["reported"] - total["recorded"]}
                        for item, total in totals.items()
                    },
                    "differences": differences,
                },
                "; ".join(parts),
            )
        )
    return findings


# ---------------------------------------------------------------------------
# Many tests at once
#
# A county's audit asks the same question of thousands of village-months: at p < 0.001
# each, a few would be flagged by chance alone. The levels of checks 3-6 are therefore
# family-wise (Bonferroni): a level α over m tests of one kind is α / m for each, so
# that the chance of flagging anything in a county with no problem stays below α.


def per_test(level: float, tests: int) -> float:
    return level / max(tests, 1)


# ---------------------------------------------------------------------------
# 3. Outliers


def check_outliers(scope: Scope, data: Data, t: dict) -> tuple[list[dict], dict]:
    window = [
        m for y in range(scope.year - t["history_years"], scope.year + 1) for m in scope.months(y)
    ]
    elapsed = set(scope.elapsed_months())
    window = [m for m in window if m < scope.months()[0] or m in elapsed]
    audited = [m for m in scope.months() if m in elapsed]
    by_township: dict[str, list[str]] = defaultdict(list)
    for village in scope.villages:
        by_township[village[:9]].append(village)

    def recorded(village: str, month: str, item: str) -> int | None:
        return data.recorded[VILLAGE].get((village, month, item), 0)

    def reported(village: str, month: str, item: str) -> int | None:
        got = data.reported.get((village, month, item))
        return got.value if got is not None else None

    # Every (series, item) is one family of tests: the villages' months of the year.
    tested: dict[tuple[str, str], list[tuple[str, str, stats.Outlier]]] = {}
    for series, value_of in (("recorded", recorded), ("reported", reported)):
        for item in t["items"]:
            results = tested.setdefault((series, item), [])
            values = {
                v: {m: x for m in window if (x := value_of(v, m, item)) is not None}
                for v in scope.villages
            }
            for villages in by_township.values():
                total = sum(sum(values[v].values()) for v in villages)
                months = sum(len(values[v]) for v in villages)
                for village in villages:
                    history = values[village]
                    # The prior is the rate of the township's other villages.
                    others = months - len(history)
                    prior_mean = (total - sum(history.values())) / others if others else 0.0
                    prior_months = t["prior_months"] if others else 0
                    for month in audited:
                        count = history.get(month)
                        if count is None:
                            continue
                        rest = [x for m, x in history.items() if m != month]
                        if not rest and not prior_months:
                            continue
                        result = stats.outlier(
                            count, rest, prior_mean=prior_mean, prior_months=prior_months
                        )
                        results.append((village, month, result))
    found: dict[str, list[dict]] = defaultdict(list)
    levels = {}
    for (series, item), results in tested.items():
        warn_p = per_test(t["warn_p"], len(results))
        fail_p = per_test(t["fail_p"], len(results))
        levels[f"{series}_{item}"] = {"tests": len(results), "warn_p": warn_p, "fail_p": fail_p}
        for village, month, result in results:
            if abs(result.count - result.expected) < t["min_excess"]:
                continue
            status = stats.outlier_status(result, warn_p, fail_p)
            if status == PASS:
                continue
            found[village].append(
                {
                    "series": series,
                    "item": item,
                    "period": month,
                    "count": result.count,
                    "expected": round(result.expected, 2),
                    "p": float(f"{result.p:.3g}"),
                    "direction": result.direction,
                    "status": status,
                }
            )
    findings = []
    for village in sorted(found):
        months = sorted(found[village], key=lambda x: (x["period"], x["item"], x["series"]))
        parts = [
            (
                _(
                    "%(item)s in %(period)s: %(count)d %(series)s, %(expected)s expected from "
                    "its history (%(p)s)"
                )
                % {
                    "item": item_name(x["item"]),
                    "period": x["period"],
                    "count": x["count"],
                    "series": _("reported") if x["series"] == "reported" else _("recorded"),
                    "expected": number(x["expected"], 1),
                    "p": p_text(x["p"]),
                }
            )
            for x in months
        ]
        findings.append(
            finding(
                village,
                stats.worst(x["status"] for x in months),
                {"outliers": months},
                "; ".join(parts),
            )
        )
    return findings, {"per_test": levels}


# ---------------------------------------------------------------------------
# 4. Consistency over time


def check_consistency(scope: Scope, data: Data, t: dict) -> tuple[list[dict], dict]:
    # The months of the year that have ended, and the same months of the years before.
    months = [m[4:] for m in scope.elapsed_months()]
    if not months:
        return [], {}
    years = list(range(scope.year - CONSISTENCY_YEARS, scope.year + 1))
    org = scope.unit.code
    units = (scope.townships or [org]) + [v for v in scope.villages if v != org]

    def totals(unit: str, item: str) -> list[int]:
        return [sum(data.recorded_value(unit, f"{y}{m}", item) for m in months) for y in years]

    # A sub-unit is compared with the trend of the whole (as the WHO review compares a
    # district's ratio with the national one): a county whose births fall by a fifth
    # does not make each township's fall a break.
    trend = {}
    for item in ITEMS:
        own = totals(org, item)
        mean = sum(own[:-1]) / CONSISTENCY_YEARS
        trend[item] = own[-1] / mean if mean else 1.0
    tests = []
    for unit in units:
        for item in ITEMS:
            counts = totals(unit, item)
            if sum(counts[:-1]) / CONSISTENCY_YEARS >= t["min_mean"]:
                tests.append((unit, item, counts))
    significance = per_test(t["significance"], len(tests))
    rows: dict[str, list[dict]] = defaultdict(list)
    for unit, item, counts in tests:
        reference = 1.0 if unit == org else trend[item]
        result = stats.consistency(
            counts[-1],
            counts[:-1],
            expected_ratio=reference,
            tolerance=t["tolerance"],
            fail_tolerance=t["fail_tolerance"],
            min_mean=t["min_mean"],
            significance=significance,
        )
        if result.status == PASS:
            continue
        rows[unit].append(
            {
                "item": item,
                "years": dict(zip(map(str, years), counts, strict=True)),
                "mean": round(result.mean, 2),
                "ratio": round(result.ratio, 4),
                "reference_ratio": round(reference, 4),
                "p": float(f"{result.p:.3g}"),
                "status": result.status,
            }
        )
    findings = []
    for unit in units:
        if unit not in rows:
            continue
        parts = [
            _(
                "%(item)s: %(current)s in %(year)d against a mean of %(mean)s in "
                "%(first)d–%(last)d (%(change)+.0f%%; %(reference)+.0f%% in the whole; %(p)s)"
            )
            % {
                "item": item_name(r["item"]),
                "current": number(r["years"][str(scope.year)]),
                "year": scope.year,
                "mean": number(r["mean"], 1),
                "first": years[0],
                "last": years[-2],
                "change": (r["ratio"] - 1) * 100,
                "reference": (r["reference_ratio"] - 1) * 100,
                "p": p_text(r["p"]),
            }
            for r in rows[unit]
        ]
        findings.append(
            finding(
                unit,
                stats.worst(r["status"] for r in rows[unit]),
                {"months": len(months), "items": rows[unit]},
                "; ".join(parts),
            )
        )
    return findings, {"tests": len(tests), "per_test_significance": significance}


# ---------------------------------------------------------------------------
# 5 and 6. Related figures and structure: figures expected in a band, per area


def _indicator_values(scope: Scope, year: int, codes: list[str]) -> dict[str, dict[str, dict]]:
    """{area: {code: the indicator's JSON entry}} for the areas of checks 5 and 6."""
    level = "township" if scope.townships else None
    result = engine.compute(scope.unit.code, str(year), codes, by=level)
    return {
        r["org"]: {e["code"]: e for e in r["indicators"]} for r in (result if level else [result])
    }


@dataclass
class BandFigure:
    """A figure of an area expected in ``band``; ``interval(confidence)`` is its interval."""

    area: str
    name: str
    value: float | None
    band: list[float]
    interval: Any  # Callable[[float], tuple[float, float]]
    counts: dict
    digits: int = 2

    def row(self, confidence: float) -> dict:
        low, high = self.interval(confidence)
        value = self.value
        return {
            "figure": self.name,
            "value": None if value is None else round(value, self.digits),
            "interval": [round(low, self.digits), round(high, self.digits)],
            "band": list(self.band),
            **self.counts,
        }


def _band_findings(
    figures_: list[BandFigure], confidence: float, extra: dict | None = None
) -> tuple[dict[str, list[dict]], dict[str, list[dict]], float]:
    """Every area's rows and those outside their band, with intervals at the family-wise
    confidence; and that confidence."""
    each = 1 - per_test(1 - confidence, len(figures_))
    rows: dict[str, list[dict]] = defaultdict(list)
    flagged: dict[str, list[dict]] = defaultdict(list)
    for f in figures_:
        row = f.row(each)
        rows[f.area].append(row)
        if stats.outside_band(row["interval"], row["band"]):
            flagged[f.area].append(row)
    return rows, flagged, each


def _figure_label(name: str) -> str:
    labels = {
        "births_per_pregnancy": _("births per pregnancy registered 6–10 months earlier"),
        "facility_share": _("share of births in a facility"),
        "children_0_per_birth": _("children aged 0 in the register per birth recorded"),
        "mwra_share": _("married women 15–49 as a share of the population, per cent"),
        "marriage_rate": _("marriages per 1,000 population"),
        "srb": _("sex ratio at birth"),
        "srb_order_1": _("sex ratio at first births"),
        "srb_order_2": _("sex ratio at second births"),
        "srb_order_3": _("sex ratio at third and later births"),
    }
    return labels[name]


def _band_message(row: dict) -> str:
    return _(
        "%(figure)s %(value)s (interval %(low)s–%(high)s) outside %(band_low)s–%(band_high)s"
    ) % {
        "figure": _figure_label(row["figure"]),
        "value": "—" if row["value"] is None else row["value"],
        "low": row["interval"][0],
        "high": row["interval"][1],
        "band_low": row["band"][0],
        "band_high": row["band"][1],
    }


def check_related(scope: Scope, data: Data, t: dict, values: dict) -> tuple[list[dict], dict]:
    elapsed = scope.elapsed_months()
    if not elapsed:
        return [], {}
    first = shift_month(elapsed[0], -max(PREGNANCY_LAG))
    last = shift_month(elapsed[-1], -min(PREGNANCY_LAG))
    pregnancies = figures.pregnancies_monthly(scope.unit.code, month_start(first), month_end(last))
    registered: dict[tuple[str, str], int] = defaultdict(int)
    for (village, month), n in pregnancies.items():
        for area in scope.areas:
            if village.startswith(area):
                registered[(area, month)] += n
    year_over = scope.period.end < scope.today
    aged_0 = figures.children_aged_0(scope.unit.code, scope.period.end) if year_over else {}
    tested: list[BandFigure] = []
    for area in scope.areas:
        births = sum(data.recorded_value(area, m, "births") for m in elapsed)
        # Each birth month follows the pregnancies registered 6-10 months before it, a
        # fifth of each month's registrations.
        pregnant = sum(
            registered.get((area, shift_month(month, -lag)), 0)
            for month in elapsed
            for lag in PREGNANCY_LAG
        ) / len(PREGNANCY_LAG)
        if pregnant:
            tested.append(
                BandFigure(
                    area,
                    "births_per_pregnancy",
                    births / pregnant,
                    t["births_per_pregnancy"],
                    lambda c, b=births, p=pregnant: stats.ratio_interval(b, p, c),
                    {"births": births, "pregnancies": round(pregnant, 1)},
                )
            )
        entry = values[area]["FACILITY_DELIVERY"]
        facility, all_births = entry["numerator"], entry["denominator"]
        if all_births:
            tested.append(
                BandFigure(
                    area,
                    "facility_share",
                    facility / all_births,
                    t["facility_share"],
                    lambda c, f=facility, b=all_births: stats.proportion_interval(f, b, c),
                    {"facility_births": facility, "births": all_births},
                    4,
                )
            )
        if year_over and all_births:
            children = sum(n for v, n in aged_0.items() if v.startswith(area))
            tested.append(
                BandFigure(
                    area,
                    "children_0_per_birth",
                    children / all_births,
                    t["children_0_per_birth"],
                    lambda c, k=children, b=all_births: stats.ratio_interval(k, b, c),
                    {"children_aged_0": children, "births": all_births},
                    4,
                )
            )
    rows, flagged, each = _band_findings(tested, t["confidence"])
    findings = [
        finding(
            area,
            WARN,
            {"figures": rows[area], "outside_band": [r["figure"] for r in flagged[area]]},
            "; ".join(_band_message(r) for r in flagged[area]),
        )
        for area in scope.areas
        if flagged[area]
    ]
    return findings, {"tests": len(tested), "per_test_confidence": each}


def check_structure(
    scope: Scope, t: dict, values: dict, previous: dict, by_order: dict
) -> tuple[list[dict], dict]:
    tested: list[BandFigure] = []
    order_counts: dict[tuple[str, int, str], int] = defaultdict(int)
    for (village, order, sex), n in by_order.items():
        for area in scope.areas:
            if village.startswith(area):
                order_counts[(area, order, sex)] += n
    for area in scope.areas:
        now = values[area]
        mwra, pop = now["MWRA_SHARE"]["numerator"], now["MWRA_SHARE"]["denominator"]
        if pop:
            tested.append(
                BandFigure(
                    area,
                    "mwra_share",
                    mwra / pop * 100,
                    t["mwra_share"],
                    lambda c, m=mwra, p=pop: tuple(
                        x * 100 for x in stats.proportion_interval(m, p, c)
                    ),
                    {"mwra": mwra, "population": pop},
                )
            )
        marriages, avg = now["MARRIAGE_RATE"]["numerator"], now["MARRIAGE_RATE"]["denominator"]
        if avg:
            tested.append(
                BandFigure(
                    area,
                    "marriage_rate",
                    marriages / avg * 1000,
                    t["marriage_rate"],
                    lambda c, m=marriages, a=avg: tuple(
                        x * 1000 for x in stats.ratio_interval(m, a, c)
                    ),
                    {"marriages": marriages, "average_population": avg},
                )
            )
        sexes = [("srb", now["SRB"]["numerator"], now["SRB"]["denominator"])]
        for order in (1, 2, 3):
            boys = order_counts.get((area, order, "M"), 0)
            girls = order_counts.get((area, order, "F"), 0)
            sexes.append((f"srb_order_{order}", boys, girls))
        for name, boys, girls in sexes:
            if boys + girls:
                tested.append(
                    BandFigure(
                        area,
                        name,
                        100 * boys / girls if girls else None,
                        t["srb"],
                        lambda c, b=boys, g=girls: stats.srb_interval(b, g, c),
                        {"boys": boys, "girls": girls},
                        1,
                    )
                )
    rows, flagged, each = _band_findings(tested, t["confidence"])

    # A falling one-child share means women go on to second births: if at the same time
    # fewer second births are recorded, some may be missing.
    parity_alpha = per_test(1 - t["confidence"], len(scope.areas))
    parity: dict[str, dict] = {}
    parity_flag: dict[str, str] = {}
    for area in scope.areas:
        now, before = values[area], previous[area]
        share_now, share_before = now["PARITY_1"]["value"], before["PARITY_1"]["value"]
        second_now = now["BIRTH_ORDER_2"]["numerator"]
        second_before = before["BIRTH_ORDER_2"]["numerator"]
        parity[area] = {
            "parity_1_share": share_now,
            "parity_1_share_before": share_before,
            "second_births": second_now,
            "second_births_before": second_before,
        }
        if share_now is None or share_before is None or not second_before:
            continue
        fall = 1 - second_now / second_before
        p = stats.binomial_cdf(second_now, second_now + second_before, 0.5)
        parity[area]["p"] = float(f"{p:.3g}")
        if (
            share_before - share_now >= t["parity_1_drop"]
            and fall >= t["second_births_drop"]
            and p < parity_alpha
        ):
            parity_flag[area] = _(
                "the one-child share of married women fell from %(before)s%% to %(now)s%% "
                "while second births fell from %(second_before)d to %(second_now)d (%(p)s): "
                "second births may be missing"
            ) % {
                "before": share_before,
                "now": share_now,
                "second_before": second_before,
                "second_now": second_now,
                "p": p_text(p),
            }
    findings = []
    for area in scope.areas:
        messages = [_band_message(r) for r in flagged[area]]
        outside = [r["figure"] for r in flagged[area]]
        if area in parity_flag:
            messages.append(parity_flag[area])
            outside.append("parity")
        if messages:
            findings.append(
                finding(
                    area,
                    WARN,
                    {"figures": rows[area], "parity": parity[area], "outside_band": outside},
                    "; ".join(messages),
                )
            )
    return findings, {
        "tests": len(tested),
        "per_test_confidence": each,
        "parity_per_test_p": parity_alpha,
    }


# ---------------------------------------------------------------------------
# 7. The census carried forward


CENSUS_MONTH = 7  # the census counts the population in the middle of its year


def census_day(year: int) -> dt.date:
    return dt.date(year, CENSUS_MONTH, 1)


def _census_for(unit: str, bases: dict, villages: list[str], year: int) -> tuple[int, dict] | None:
    """The latest census base of ``unit`` up to ``year``: its own, or else the sum of all
    its villages' of one year (when every one of them has it)."""
    own = bases.get(unit, {})
    below = [v for v in villages if v.startswith(unit) and v != unit]
    candidates = set(own)
    if below:
        shared = set.intersection(*(set(bases.get(v, {})) for v in below))
        candidates |= shared
    for census_year in sorted(candidates, reverse=True):
        if census_year > year:
            continue
        if census_year in own:
            return census_year, own[census_year]
        total: dict[tuple[str, int], int] = defaultdict(int)
        for v in below:
            for key, n in bases[v][census_year].items():
                total[key] += n
        return census_year, dict(total)
    return None


def _cohort_weight(age: int, census: dt.date, group: Group, end: dt.date) -> float:
    """The share of the cohort aged ``age`` on the census day (births spread evenly)
    whose birth dates put them in ``group`` on ``end``."""
    if age >= OPEN_AGE:
        first, last = dt.date.min, shift_years(census, -OPEN_AGE)
    else:
        first = shift_years(census, -(age + 1)) + dt.timedelta(days=1)
        last = shift_years(census, -age)
    top = shift_years(end, -group.low)
    bottom = (
        shift_years(end, -(group.high + 1)) + dt.timedelta(days=1)
        if group.high is not None
        else dt.date.min
    )
    overlap_first, overlap_last = max(first, bottom), min(last, top)
    if overlap_last < overlap_first:
        return 0.0
    if first == dt.date.min:
        return 1.0 if bottom == dt.date.min else 0.5
    return ((overlap_last - overlap_first).days + 1) / ((last - first).days + 1)


def census_comparison(scope: Scope, t: dict) -> tuple[list[dict], list[dict]]:
    """(the findings, the ``under_registration`` entries)."""
    groups = []
    for name in t["groups"]:
        try:
            groups.append(figures.parse_group(name))
        except ValueError as e:
            raise UserError(
                _("the audit settings of census_comparison: %(problem)s") % {"problem": e}
            ) from None
    bases = figures.census_bases(scope.unit.code, scope.year)
    end = scope.period.end
    per_year: dict[int, list[str]] = defaultdict(list)
    chosen: dict[str, tuple[int, dict]] = {}
    findings: list[dict] = []
    for unit in scope.areas:
        found = _census_for(unit, bases, scope.villages, scope.year)
        if found is None:
            findings.append(
                finding(
                    unit,
                    WARN,
                    {"census_year": None},
                    _("no census base for %(year)d or before: under-registration not estimated")
                    % {"year": scope.year},
                )
            )
            continue
        chosen[unit] = found
        per_year[found[0]].append(unit)

    entries = []
    unit_length = len(scope.areas[0]) if scope.areas else 9
    confidence = t["confidence"]
    for census_year, units in sorted(per_year.items()):
        day = census_day(census_year)
        cohorts = figures.cohort_figures(scope.unit.code, unit_length, day, end, groups)
        for unit in units:
            base_cells = chosen[unit][1]
            for group in groups:
                f = cohorts.get((unit, group.name)) or figures.CohortFigures({}, {})
                census_in = 0.0
                allocation = 0.0
                for (sex, age), population in base_cells.items():
                    if group.sex is not None and sex != group.sex:
                        continue
                    weight = _cohort_weight(age, day, group, end)
                    registered_then = f.at_census.get((sex, age), 0)
                    if 0 < weight < 1 and registered_then:
                        # The register knows the birth dates of the cohort's members.
                        weight = f.in_group.get((sex, age), 0) / registered_then
                    census_in += weight * population
                    allocation += max(population - registered_then, 0) * weight * (1 - weight)
                expected = census_in + f.births - f.deaths + f.moves_in - f.moves_out
                missing = expected - f.registered
                registered_then = sum(f.in_group.values())
                turnover = (f.deaths + f.moves_in + f.moves_out) / max(registered_then, 1)
                result = stats.missing_interval(
                    missing,
                    census_in,
                    census_rse=t["census_rse"],
                    allocation_variance=allocation,
                    turnover=turnover,
                    confidence=confidence,
                )
                low, high = result.interval
                entries.append(
                    {
                        "org": unit,
                        "group": group.name,
                        "expected": round(expected, 1),
                        "registered": f.registered,
                        "missing": round(missing, 1),
                        "interval": [round(low, 1), round(high, 1)],
                    }
                )
                missing_share = missing / expected if expected else 0.0
                significant = low > 0 or high < 0
                status = PASS
                if significant and abs(missing_share) >= t["fail_share"]:
                    status = FAIL
                elif significant and abs(missing_share) >= t["warn_share"]:
                    status = WARN
                if status == PASS:
                    continue
                key = (
                    _(
                        "%(group)s: expected %(expected)s, registered %(registered)s, missing ≈%(missing)s (%(share)s), %(level)d%% interval %(low)s to %(high)s"
                    )
                    if missing > 0
                    else _(
                        "%(group)s: expected %(expected)s, registered %(registered)s: %(surplus)s more registered than expected (%(share)s), %(level)d%% interval %(low)s to %(high)s"
                    )
                )
                findings.append(
                    finding(
                        unit,
                        status,
                        {
                            "group": group.name,
                            "census_year": census_year,
                            "census_day": day.isoformat(),
                            "census": round(census_in, 1),
                            "registered_at_census": registered_then,
                            "births": f.births,
                            "deaths": f.deaths,
                            "moves_in": f.moves_in,
                            "moves_out": f.moves_out,
                            "expected": round(expected, 1),
                            "registered": f.registered,
                            "missing": round(missing, 1),
                            "share": round(missing_share, 4),
                            "interval": [round(low, 1), round(high, 1)],
                            "sd": round(result.sd, 2),
                        },
                        key
                        % {
                            "group": group_name(group.name),
                            "expected": number(round(expected)),
                            "registered": number(f.registered),
                            "missing": number(round(missing)),
                            "surplus": number(round(-missing)),
                            "share": share(missing_share),
                            "level": round(confidence * 100),
                            "low": number(round(low)),
                            "high": number(round(high)),
                        },
                    )
                )
    order = {u: i for i, u in enumerate(scope.areas)}
    group_order = {g.name: i for i, g in enumerate(groups)}
    entries.sort(key=lambda e: (order[e["org"]], group_order[e["group"]]))
    findings.sort(key=lambda f: order[f["org"]])
    return findings, entries


# ---------------------------------------------------------------------------
# 8. Likely duplicate registrations


def check_duplicates(scope: Scope) -> tuple[list[dict], dict]:
    """The likely duplicate pairs among the persons of the audited unit (both inside it),
    counted in each township (or the unit audited, if a township or village) where one
    of the two lives: a warning where there are any."""
    from taizhang.register.duplicates import LISTED, likely_duplicates
    from taizhang.register.models import Person

    pairs = likely_duplicates(scope.unit.code)
    village_of = dict(
        Person.objects.filter(pk__in={p.a for p in pairs} | {p.b for p in pairs}).values_list(
            "pk", "current_village"
        )
    )
    findings = []
    for area in scope.areas:
        mine = [
            p for p in pairs if village_of[p.a].startswith(area) or village_of[p.b].startswith(area)
        ]
        if not mine:
            continue
        across = sum(
            1
            for p in mine
            if not (village_of[p.a].startswith(area) and village_of[p.b].startswith(area))
        )
        message = ngettext(
            "%(pairs)d pair of persons is likely one person registered twice "
            "(%(across)d with the other person in another township): review it on the "
            "duplicates page",
            "%(pairs)d pairs of persons are likely one person registered twice each "
            "(%(across)d with the other person in another township): review them on the "
            "duplicates page",
            len(mine),
        ) % {"pairs": len(mine), "across": across}
        findings.append(finding(area, WARN, {"pairs": len(mine), "across": across}, message))
    return findings, {"min_score": LISTED}


# ---------------------------------------------------------------------------
# The audit


STRUCTURE_CODES = [
    "BIRTHS",
    "FACILITY_DELIVERY",
    "MWRA_SHARE",
    "MARRIAGE_RATE",
    "SRB",
    "PARITY_1",
    "BIRTH_ORDER_2",
]


def audit(org: str, period: str, *, today: dt.date | None = None) -> dict[str, Any]:
    """The data-quality audit of ``org`` for the year ``period`` (docs/formats.md): the
    checks in order, each with its status, thresholds and findings, and the
    under-registration estimates. Raises ``UserError`` for an unknown org unit, a
    period that is not a year, or bad audit settings."""
    scope = make_scope(org, period, today)
    limits = config.thresholds()
    data = gather(scope, limits)
    values = _indicator_values(scope, scope.year, STRUCTURE_CODES)
    previous = _indicator_values(scope, scope.year - 1, ["PARITY_1", "BIRTH_ORDER_2"])
    by_order = figures.births_by_order_and_sex(scope.unit.code, scope.period)
    census_findings, under_registration = census_comparison(scope, limits["census_comparison"])
    found: dict[str, tuple[list[dict], dict]] = {
        COMPLETENESS: (check_completeness(scope, data, limits["completeness"]), {}),
        REPORTED_VS_RECORDED: (
            check_reported_vs_recorded(scope, data, limits["reported_vs_recorded"]),
            {},
        ),
        OUTLIERS: check_outliers(scope, data, limits["outliers"]),
        CONSISTENCY: check_consistency(scope, data, limits["consistency"]),
        RELATED: check_related(scope, data, limits["related"], values),
        STRUCTURE: check_structure(scope, limits["structure"], values, previous, by_order),
        CENSUS: (census_findings, {}),
        DUPLICATES: check_duplicates(scope),
    }
    return {
        "org": scope.unit.code,
        "period": scope.period.code,
        "checks": [
            check_result(code, limits.get(SETTINGS_OF[code], {}) | found[code][1], found[code][0])
            for code in CHECK_CODES
        ],
        "under_registration": under_registration,
    }
