"""The one clock: every "now" and "today" in Taizhang comes from here.

``now()`` is an aware datetime in UTC, ``today()`` the calendar day in the installation's
time zone (``TAIZHANG_TIME_ZONE``, Asia/Shanghai by default; Django's ``TIME_ZONE`` is
the same setting) — so 23:30 on 31 December in Beijing is still 31 December, whatever
zone the machine's own clock runs in.

Tests set the clock with ``time_machine``, which moves the process's clock; nothing else
in the code base asks the system for the time (``tests/test_clock.py`` fails on any other
call to ``timezone.now``, ``timezone.localdate``, ``date.today`` or ``datetime.now``).
Pure: no Django settings needed, so ``taizhang.lib`` can use it too.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from taizhang.errors import UserError

DEFAULT_ZONE = "Asia/Shanghai"


def zone_name() -> str:
    """The installation's time zone, as Django's ``TIME_ZONE`` setting reads it."""
    return os.environ.get("TAIZHANG_TIME_ZONE", DEFAULT_ZONE)


def zone() -> ZoneInfo:
    """The installation's time zone; ``UserError`` when ``TAIZHANG_TIME_ZONE`` names none."""
    name = zone_name()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"TAIZHANG_TIME_ZONE={name!r} is not a time zone: give a name such as {DEFAULT_ZONE}"
        ) from None


def now() -> dt.datetime:
    """This moment, as an aware datetime in UTC."""
    return dt.datetime.now(dt.UTC)


def local_now() -> dt.datetime:
    """This moment in the installation's time zone (for what people read: "generated
    at" lines, file stamps)."""
    return now().astimezone(zone())


def today() -> dt.date:
    """Today in the installation's time zone."""
    return local_now().date()
