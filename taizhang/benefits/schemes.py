"""Benefit schemes as configuration: who is eligible, how much, how often.

Accrual rule. A calendar month M is *due* for a beneficiary when, on the LAST day
of M, the beneficiary meets the scheme's rule: alive, living in the county (not
moved out: a residence spell of the register covers that day), and the rule's
own condition (``taizhang.benefits.eligibility``). So

- a parent turning 60 on any day of March 2026 is due from March 2026 (not February);
- a child born 2023-05-15 is due May 2023 … April 2026 (36 months: on 2026-05-31 the
  child is 3);
- a beneficiary who dies on 2026-03-10 is due through February 2026, not March.

Monthly schemes pay one payment per due month, ``amount_per_year / 12``, due on
``pay_day`` of that month (0 = the month's last day). Yearly schemes pay one
payment per calendar year covering that year's due months,
``amount_per_year × months / 12``, due on ``pay_day`` of ``pay_month`` of that
year — also when the enrolment ended earlier in the year. Amounts are whole fen
(分), rounded half up; no floats.

The three schemes below are the defaults. The Django setting
``TAIZHANG_BENEFIT_SCHEMES`` (code → field overrides; a new code adds a scheme)
and then the TOML file ``<TAIZHANG_DATA>/benefits.toml`` (one table per code)
change them: amounts and ages are settings, not code.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import tomllib
from dataclasses import dataclass

from django.conf import settings

from taizhang import config
from taizhang.errors import UserError

RULES = ("reward", "special", "childcare")
CYCLES = ("monthly", "yearly")


@dataclass(frozen=True)
class Scheme:
    code: str
    name: str  # Chinese name, as printed on lists
    name_en: str
    rule: str  # one of RULES
    short_name: str = ""  # for narrow table columns; empty: the name
    short_name_en: str = ""
    min_age: int | None = None  # age on the month's last day ≥ min_age
    max_age: int | None = None  # age on the month's last day < max_age (exclusive)
    amount_per_year: int = 0  # yuan
    cycle: str = "monthly"  # one of CYCLES
    pay_month: int = 12  # yearly cycle: the month the year's payment falls due
    pay_day: int = 0  # day of the month payments fall due; 0 = the last day

    @property
    def yearly(self) -> bool:
        return self.cycle == "yearly"

    def amount_fen(self, months: int) -> int:
        """The amount for ``months`` due months, in fen, rounded half up."""
        numerator = self.amount_per_year * 100 * months
        return (2 * numerator + 12) // 24  # round(numerator / 12), halves up

    def due_date(self, year: int, month: int) -> dt.date:
        """The day a payment for ``month`` (monthly) or for ``year`` (yearly) falls due."""
        if self.yearly:
            month = self.pay_month
        last = calendar.monthrange(year, month)[1]
        return dt.date(year, month, min(self.pay_day, last) if self.pay_day else last)

    def period_of(self, month: int) -> str:
        """The payment period a due month (YYYYMM) belongs to: ``YYYYMM`` or ``YYYY``."""
        return str(month // 100) if self.yearly else str(month)


DEFAULTS: dict[str, Scheme] = {
    "reward": Scheme(
        code="reward",
        name="农村部分计划生育家庭奖励扶助",
        name_en="Rural family-planning household reward and assistance",
        rule="reward",
        short_name="奖励扶助",
        short_name_en="Reward",
        min_age=60,
        amount_per_year=960,
        cycle="monthly",
    ),
    "special": Scheme(
        code="special",
        name="计划生育家庭特别扶助",
        name_en="Family-planning special assistance",
        rule="special",
        short_name="特别扶助",
        short_name_en="Special assistance",
        min_age=49,
        amount_per_year=7080,
        cycle="monthly",
    ),
    "childcare": Scheme(
        code="childcare",
        name="育儿补贴",
        name_en="Childcare subsidy",
        rule="childcare",
        short_name="育儿补贴",
        short_name_en="Childcare subsidy",
        max_age=3,
        amount_per_year=3600,
        cycle="yearly",
        pay_month=12,
    ),
}

_FIELDS = {f.name for f in dataclasses.fields(Scheme)}


def _apply(found: dict[str, Scheme], overrides: dict, source: str) -> None:
    for code, values in overrides.items():
        if not isinstance(values, dict):
            raise UserError(f"{source}: scheme {code} must be a table of settings")
        unknown = set(values) - _FIELDS
        if unknown:
            raise UserError(
                f"{source}: scheme {code}: unknown setting {', '.join(sorted(unknown))}"
            )
        values = {k: v for k, v in values.items() if k != "code"}
        if code in found:
            scheme = dataclasses.replace(found[code], **values)
        else:
            try:
                scheme = Scheme(code=code, **values)
            except TypeError:
                raise UserError(
                    f"{source}: the new scheme {code} needs at least name, name_en and rule"
                ) from None
        _check(scheme, source)
        found[code] = scheme


def _check(s: Scheme, source: str) -> None:
    problems = []
    if s.rule not in RULES:
        problems.append(f"rule must be one of {'|'.join(RULES)}")
    if s.cycle not in CYCLES:
        problems.append(f"cycle must be one of {'|'.join(CYCLES)}")
    if not 1 <= s.pay_month <= 12:
        problems.append("pay_month must be 1–12")
    if not 0 <= s.pay_day <= 31:
        problems.append("pay_day must be 0–31 (0 = the last day of the month)")
    if not isinstance(s.amount_per_year, int) or s.amount_per_year < 0:
        problems.append("amount_per_year must be a whole number of yuan")
    if s.rule == "childcare" and s.max_age is None:
        problems.append("a childcare scheme needs max_age")
    if problems:
        raise UserError(f"{source}: scheme {s.code}: {'; '.join(problems)}")


def schemes() -> dict[str, Scheme]:
    """The schemes in force: the defaults, then the Django setting, then benefits.toml."""
    found = dict(DEFAULTS)
    _apply(found, getattr(settings, "TAIZHANG_BENEFIT_SCHEMES", None) or {}, "settings")
    path = config.data_dir() / "benefits.toml"
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise UserError(f"{path}: {e}") from None
        _apply(found, data, str(path))
    return found


def scheme(code: str) -> Scheme:
    """The scheme ``code``, or a UserError naming the valid codes."""
    found = schemes()
    try:
        return found[code]
    except KeyError:
        raise UserError(f"unknown scheme {code!r}: use {'|'.join(found)}") from None


def month_last_day(month: int) -> dt.date:
    """The last day of a month YYYYMM."""
    year, m = divmod(month, 100)
    return dt.date(year, m, calendar.monthrange(year, m)[1])


def next_month(month: int) -> int:
    year, m = divmod(month, 100)
    return year * 100 + m + 1 if m < 12 else (year + 1) * 100 + 1


def previous_month(month: int) -> int:
    year, m = divmod(month, 100)
    return year * 100 + m - 1 if m > 1 else (year - 1) * 100 + 12


def month_of(day: dt.date) -> int:
    return day.year * 100 + day.month


def months_between(first: int, last: int) -> list[int]:
    """The months first..last (YYYYMM), both included."""
    out = []
    m = first
    while m <= last:
        out.append(m)
        m = next_month(m)
    return out


def parse_month(text: str) -> int:
    """A month written YYYYMM (or YYYY-MM), or a UserError."""
    raw = str(text).strip().replace("-", "")
    if len(raw) != 6 or not raw.isdigit() or not 1 <= int(raw[4:]) <= 12:
        raise UserError(f"{text or '(empty)'} is not a month: use YYYYMM, e.g. 202603")
    return int(raw)
