"""Periods with DHIS2-style codes, and the date arithmetic the register relies on.

Codes: ``2024`` (year), ``2024S1``/``2024S2`` (half years), ``2024Q1``..``2024Q4``
(quarters), ``202401``..``202412`` (months). A period runs from its first day to
its last day, both included.

Dates are also written as integers ``YYYYMMDD`` ("ymd"): they compare like the
dates, and a person's age in completed years on a day is
``(ymd(day) - ymd(birth)) // 10000``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "DateError",
    "Period",
    "PeriodError",
    "age_on",
    "expand",
    "from_ymd",
    "parse",
    "parse_date",
    "shift_years",
    "whole_year",
    "year_periods",
    "ymd",
]

MIN_YEAR = 1900
MAX_YEAR = 2999

_KINDS = ("year", "semester", "quarter", "month")
_CODE_HINT = "use 2024, 2024S1, 2024Q1 or 202401"
_PERIOD_RE = re.compile(r"(?P<year>[0-9]{4})(?:(?P<sq>[SQ])(?P<part>[0-9])|(?P<month>[0-9]{2}))?")


class PeriodError(ValueError):
    """A period code that cannot be read; ``str(e)`` says why, for people."""


class DateError(ValueError):
    """A date that cannot be read; ``str(e)`` says why, for people."""


@dataclass(frozen=True)
class Period:
    """A period: its code, its kind and its first and last days (both included)."""

    code: str
    kind: str  # 'year' | 'semester' | 'quarter' | 'month'
    start: dt.date
    end: dt.date

    def __str__(self) -> str:
        return self.code

    @property
    def days(self) -> int:
        """Number of days in the period, first and last included."""
        return (self.end - self.start).days + 1

    @property
    def year(self) -> int:
        """The calendar year the period lies in."""
        return self.start.year

    @property
    def start_ymd(self) -> int:
        """The first day as YYYYMMDD."""
        return ymd(self.start)

    @property
    def end_ymd(self) -> int:
        """The last day as YYYYMMDD."""
        return ymd(self.end)

    @property
    def day_before_start(self) -> dt.date:
        """The last day before the period: stocks "at the start" are counted at its end."""
        return self.start - dt.timedelta(days=1)

    def months(self) -> list[Period]:
        """The month periods that make up this period, in order."""
        return [_month(self.year, m) for m in range(self.start.month, self.end.month + 1)]

    def contains(self, day: dt.date) -> bool:
        """Whether ``day`` falls within the period."""
        return self.start <= day <= self.end


def _month(year: int, month: int) -> Period:
    last = calendar.monthrange(year, month)[1]
    return Period(
        f"{year}{month:02d}", "month", dt.date(year, month, 1), dt.date(year, month, last)
    )


def _span(code: str, kind: str, year: int, first_month: int, n_months: int) -> Period:
    last_month = first_month + n_months - 1
    last = calendar.monthrange(year, last_month)[1]
    return Period(code, kind, dt.date(year, first_month, 1), dt.date(year, last_month, last))


def parse(code: str) -> Period:
    """The period of a code such as ``2024``, ``2024S1``, ``2024Q3`` or ``202407``."""
    text = str(code).strip()
    if not text:
        raise PeriodError(f"the period is empty: {_CODE_HINT}")
    if not text.isascii():
        # Full-width characters typed with a Chinese input method.
        text = unicodedata.normalize("NFKC", text)
    match = _PERIOD_RE.fullmatch(text.upper())
    invalid = PeriodError(f"period {text} is not a valid period code: {_CODE_HINT}")
    if match is None:
        raise invalid
    year = int(match["year"])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(
            f"period {text} is not a valid period code: "
            f"the year must be between {MIN_YEAR} and {MAX_YEAR}"
        )
    if match["month"] is not None:
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise invalid
        return _month(year, month)
    if match["sq"] == "S":
        half = int(match["part"])
        if half not in (1, 2):
            raise invalid
        return _span(f"{year}S{half}", "semester", year, 6 * half - 5, 6)
    if match["sq"] == "Q":
        quarter = int(match["part"])
        if not 1 <= quarter <= 4:
            raise invalid
        return _span(f"{year}Q{quarter}", "quarter", year, 3 * quarter - 2, 3)
    return _span(str(year), "year", year, 1, 12)


def year_periods(year: int) -> list[Period]:
    """The 17 periods of a year: its 12 months, then its 4 quarters, then the year."""
    return [
        *(_month(year, m) for m in range(1, 13)),
        *(_span(f"{year}Q{q}", "quarter", year, 3 * q - 2, 3) for q in range(1, 5)),
        _span(str(year), "year", year, 1, 12),
    ]


def whole_year(year: int) -> list[Period]:
    """The 19 periods of a year as a report lists them: the year, its semesters, its
    quarters, then its months."""
    return [
        _span(str(year), "year", year, 1, 12),
        *(_span(f"{year}S{s}", "semester", year, 6 * s - 5, 6) for s in (1, 2)),
        *(_span(f"{year}Q{q}", "quarter", year, 3 * q - 2, 3) for q in range(1, 5)),
        *(_month(year, m) for m in range(1, 13)),
    ]


def expand(text: str) -> list[str]:
    """The period codes a ``--period`` value stands for: ``2025:all`` is the year with its
    semesters, quarters and months (``whole_year``); any other value is one period code,
    returned as given once it parses."""
    head, colon, tail = str(text).strip().partition(":")
    if not colon:
        parse(head)
        return [str(text).strip()]
    year = parse(head)
    if tail.strip().lower() != "all" or year.kind != "year":
        raise PeriodError(
            f"period {text} is not a valid period code: {_CODE_HINT}, or a year followed by "
            f":all (2025:all) for the year with its semesters, quarters and months"
        )
    return [p.code for p in whole_year(year.year)]


def ymd(day: dt.date) -> int:
    """A date as the integer YYYYMMDD: 2024-03-05 -> 20240305."""
    return day.year * 10000 + day.month * 100 + day.day


def from_ymd(number: int) -> dt.date:
    """The date of an integer YYYYMMDD: 20240305 -> 2024-03-05."""
    try:
        return dt.date(number // 10000, number // 100 % 100, number % 100)
    except ValueError:
        raise DateError(f"{number} is not a real date (use YYYYMMDD)") from None


def age_on(birth: dt.date, day: dt.date) -> int:
    """Age in completed years on ``day`` (negative if ``day`` is before the birth).

    Someone born on 29 February has the birthday on 1 March in common years:
    born 2008-02-29, they are 14 on 2023-02-28 and 15 on 2023-03-01.
    """
    return (ymd(day) - ymd(birth)) // 10000


def shift_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (or earlier); 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 2, 28)


_DATE_RE = re.compile(
    r"(?P<y>[0-9]{4})(?:"
    r"(?P<sep>[-/])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"  # 2024-03-05, 2024/3/5
    r"|(?P<m8>[0-9]{2})(?P<d8>[0-9]{2})"  # 20240305
    r"|年(?P<mz>[0-9]{1,2})月(?P<dz>[0-9]{1,2})日"  # 2024年3月5日
    r")"
    # Spreadsheets write a date cell as a datetime at midnight.
    r"(?:[ T](?P<time>[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?))?"
)


def parse_date(text: str) -> dt.date:
    """Read a date written as YYYY-MM-DD.

    Also accepted: YYYY/MM/DD, YYYYMMDD, 2024年3月5日, one-digit months and days
    with a separator, and a datetime at midnight (``2024-03-05 00:00:00``) as
    spreadsheets write a date cell.
    """
    raw = str(text).strip()
    if not raw:
        raise DateError("the date is empty (use YYYY-MM-DD)")
    value = raw if raw.isascii() else unicodedata.normalize("NFKC", raw)
    match = _DATE_RE.fullmatch(value)
    if match is None:
        raise DateError(f"{raw} is not a date in the form YYYY-MM-DD")
    time = match["time"]
    if time is not None and any(c not in "0:." for c in time):
        raise DateError(f"{raw} has a time of day: enter the date alone (YYYY-MM-DD)")
    month = match["m"] or match["m8"] or match["mz"]
    day = match["d"] or match["d8"] or match["dz"]
    try:
        return dt.date(int(match["y"]), int(month), int(day))
    except ValueError:
        raise DateError(f"{raw} is not a real date (use YYYY-MM-DD)") from None
