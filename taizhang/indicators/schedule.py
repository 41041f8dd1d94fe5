"""The service schedule: who is due which service, and how often.

The service indicators (CHECKUP_RATE, SCREENING_COVERAGE, ...) count the people *due* a
service in a period and those of them who had it. Who is due follows this schedule; the
schedule in force is printed with every figure that uses it.

A person of a service's group is **due in a period P** when she has not had the service
in the ``interval_months`` before P's last day up to P's first day — that is, her last
one before P was on or before ``P.end − interval``, or she never had one. A yearly
check-up is so due every year; in a month, a woman is due when the anniversary of her
last check-up has come by the month's end (and stays due until she has one). **Had it**
means a service event dated in P.

Defaults (a county's usual schedule), each overridable by the Django setting
``TAIZHANG_SERVICE_SCHEDULE`` (``{"screening": {"interval_months": 24}}``) or the file
``<TAIZHANG_DATA>/schedule.toml`` (``[screening]`` / ``interval_months = 24``):

- ``checkup`` (康检): married women 15–49, every 12 months;
- ``screening`` (妇女病普查): resident women 35–64, every 36 months.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, fields, replace

from django.conf import settings

from taizhang import config
from taizhang.errors import UserError


@dataclass(frozen=True)
class Service:
    code: str  # the event kind that delivers the service
    name: str  # zh
    name_en: str
    group: str  # "mwra": married women 15-49; "women": resident women of min_age..max_age
    min_age: int
    max_age: int
    interval_months: int

    def describe(self) -> str:
        """The rule as printed with a figure."""
        who = (
            f"married women {self.min_age}-{self.max_age}"
            if self.group == "mwra"
            else f"women {self.min_age}-{self.max_age}"
        )
        return f"{self.code}: {who}, every {self.interval_months} months"

    def window_start(self, period_end: dt.date) -> dt.date:
        """The first day after ``period_end − interval``: a service on or after it, and
        before the period, means the person is not yet due again."""
        months = period_end.year * 12 + period_end.month - 1 - self.interval_months
        year, month = divmod(months, 12)
        month += 1
        # The same day of the month, or the month's last day when it is shorter.
        last_day = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        shifted = dt.date(year, month, min(period_end.day, last_day))
        return shifted + dt.timedelta(days=1)


DEFAULTS: dict[str, Service] = {
    "checkup": Service("checkup", "康检", "Reproductive-health check-up", "mwra", 15, 49, 12),
    "screening": Service(
        "screening", "妇女病普查", "Gynaecological screening", "women", 35, 64, 36
    ),
}


@dataclass(frozen=True)
class FollowUp:
    """A follow-up visit owed after an event: due ``due`` days after it, done when a
    follow-up is recorded from ``start`` to ``end`` days after it (both included)."""

    after: str  # "delivery" (a live birth; twins are one delivery) or "iud" (an insertion)
    name: str
    due: int
    start: int
    end: int

    def describe(self) -> str:
        return (
            f"{self.name}: due day {self.due} after {self.after}, done days {self.start}-{self.end}"
        )


# Postpartum visits within 7 and within 42 days of a delivery; IUD checks at 1, 3, 6 and
# 12 months after the insertion (yearly checks after that are check-ups, not follow-ups).
FOLLOW_UPS: tuple[FollowUp, ...] = (
    FollowUp("delivery", "postpartum visit 1", 7, 0, 7),
    FollowUp("delivery", "postpartum visit 2", 42, 8, 42),
    FollowUp("iud", "IUD check at 1 month", 30, 16, 45),
    FollowUp("iud", "IUD check at 3 months", 91, 61, 121),
    FollowUp("iud", "IUD check at 6 months", 182, 152, 212),
    FollowUp("iud", "IUD check at 12 months", 365, 335, 395),
)


def follow_ups() -> tuple[FollowUp, ...]:
    """The follow-up schedule in force (``TAIZHANG_FOLLOW_UPS``: a list of
    {after, name, due, start, end} replacing the default)."""
    configured = getattr(settings, "TAIZHANG_FOLLOW_UPS", None)
    return tuple(FollowUp(**f) for f in configured) if configured else FOLLOW_UPS


def _overrides() -> dict[str, dict]:
    found: dict[str, dict] = {}
    path = config.data_dir() / "schedule.toml"
    if path.exists():
        try:
            found.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as e:
            raise UserError(f"{path}: {e}") from None
    found.update(getattr(settings, "TAIZHANG_SERVICE_SCHEDULE", {}) or {})
    return found


def schedule() -> dict[str, Service]:
    """The schedule in force: the defaults with the configured changes."""
    names = {f.name for f in fields(Service)} - {"code"}
    services = dict(DEFAULTS)
    for code, changes in _overrides().items():
        if code not in services:
            raise UserError(f"the service schedule names {code!r}: use {', '.join(services)}")
        unknown = sorted(set(changes) - names)
        if unknown:
            raise UserError(f"the service schedule of {code} has unknown settings: {unknown}")
        services[code] = replace(services[code], **changes)
    return services


def service(code: str) -> Service:
    return schedule()[code]
