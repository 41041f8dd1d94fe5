"""Deadlines of a petition (信访), from the Django setting ``TAIZHANG_CASE_DEADLINES``.

Day 0 is the day the case is received. A case acknowledged (accepted or declined)
on or before ``received_on + ack_days`` is acknowledged on time: received on
2026-03-01 with the default 15 days, the acknowledgement deadline is 2026-03-16,
so an acknowledgement on 03-16 (day 15) is on time and one on 03-17 (day 16) is
late. A case closed on or before ``received_on + conclude_days`` (2026-04-30 with
the default 60 days) is concluded on time.

The deadlines are computed once, when the case is received, and stored on it: a
later change of the setting does not move the deadlines of old cases.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

DEFAULTS = {"ack_days": 15, "conclude_days": 60}


def deadline_days() -> dict[str, int]:
    """The configured numbers of days, defaults filled in."""
    configured = getattr(settings, "TAIZHANG_CASE_DEADLINES", None) or {}
    days = {**DEFAULTS, **configured}
    for key in DEFAULTS:
        value = days[key]
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"TAIZHANG_CASE_DEADLINES[{key!r}] must be a whole number of days ≥ 1")
    return {key: days[key] for key in DEFAULTS}


def ack_days() -> int:
    return deadline_days()["ack_days"]


def conclude_days() -> int:
    return deadline_days()["conclude_days"]


def deadlines(received_on: dt.date) -> tuple[dt.date, dt.date]:
    """(acknowledge by, conclude by) for a case received on ``received_on``."""
    days = deadline_days()
    return (
        received_on + dt.timedelta(days=days["ack_days"]),
        received_on + dt.timedelta(days=days["conclude_days"]),
    )
