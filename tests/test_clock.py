"""One clock: every "now" and "today" comes from ``taizhang.clock``, tests set it with
time-machine, and the synthetic county (so the demo) is valid on every calendar day —
nothing it writes lies after the moment it was made."""

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.db import models
from django.db.models import Max
from hypothesis import given, settings
from hypothesis import strategies as st

import taizhang
from taizhang import clock

BEIJING = ZoneInfo("Asia/Shanghai")

# Anything else that reads the system's clock.
OTHER_CLOCKS = re.compile(
    r"timezone\.(now|localdate|localtime)\(\s*\)|date\.today\(|datetime\.(now|utcnow|today)\(|time\.time\("
)


def test_nothing_but_the_clock_reads_the_time():
    package = Path(taizhang.__file__).parent
    found = [
        f"{path.relative_to(package)}:{n}: {line.strip()}"
        for path in sorted(package.rglob("*.py"))
        if path.name != "clock.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OTHER_CLOCKS.search(line)
    ]
    assert found == []


def test_the_rule_finds_each_other_clock():
    lines = [
        "x = timezone.now()",
        "d = dt.date.today()",
        "t = datetime.now(dt.UTC)",
        "day = timezone.localdate()",
        "s = time.time()",
        "fine = clock.today()",
        "also_fine = time.perf_counter()",
    ]
    assert [bool(OTHER_CLOCKS.search(line)) for line in lines] == [True] * 5 + [False] * 2


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 12, 31)))
def test_today_is_the_day_in_beijing_whatever_the_moment(moment):
    instant = moment.replace(tzinfo=dt.UTC)
    with time_machine.travel(instant, tick=False):
        assert clock.now() == instant
        assert clock.today() == instant.astimezone(BEIJING).date()


def test_late_on_new_years_eve_in_beijing_it_is_still_the_old_year():
    with time_machine.travel(dt.datetime(2027, 12, 31, 23, 30, tzinfo=BEIJING), tick=False):
        assert clock.today() == dt.date(2027, 12, 31)
        assert clock.now().date() == dt.date(2027, 12, 31)  # 15:30 UTC
    with time_machine.travel(dt.datetime(2028, 1, 1, 0, 10, tzinfo=BEIJING), tick=False):
        assert clock.today() == dt.date(2028, 1, 1)
        assert clock.now().date() == dt.date(2027, 12, 31)  # 16:10 UTC, a day behind


# ---------------------------------------------------------------------------
# The synthetic county on awkward days

# Fields that hold plans and deadlines, rightly after today.
FUTURE_ALLOWED = {
    ("accounts.LoginLock", "locked_until"),
    ("cases.Case", "ack_due"),
    ("cases.Case", "conclude_due"),
    ("benefits.Payment", "due_date"),
    ("benefits.Enrolment", "end_date"),
}


def latest_of_every_field() -> dict[tuple[str, str], object]:
    """The latest value of every date and datetime field of Taizhang's tables."""
    out = {}
    for model in apps.get_models():
        if not model.__module__.startswith("taizhang."):
            continue
        for f in model._meta.fields:
            key = (model._meta.label, f.name)
            if isinstance(f, models.DateField) and key not in FUTURE_ALLOWED:
                latest = model.objects.aggregate(latest=Max(f.name))["latest"]
                if latest is not None:
                    out[key] = latest
    return out


DAYS = [
    # (the moment in Beijing, the last full year the demo reports)
    (dt.datetime(2026, 12, 3, 10, 0), 2025),  # a day the old generator failed on
    (dt.datetime(2027, 1, 1, 9, 0), 2026),  # the first day of a month and a year
    (dt.datetime(2027, 1, 3, 8, 30), 2026),  # the third day: last month's forms half sent
    (dt.datetime(2027, 2, 28, 15, 0), 2026),  # the last day of February, a common year
    (dt.datetime(2028, 2, 29, 15, 0), 2027),  # the last day of February, a leap year
    (dt.datetime(2027, 6, 15, 12, 0), 2026),  # mid-month
    (dt.datetime(2027, 12, 31, 23, 30), 2026),  # 31 December, late in the evening
    (dt.datetime(2028, 1, 1, 0, 10), 2027),  # ten past midnight: still 31 December in UTC
]


@pytest.mark.django_db
@pytest.mark.parametrize(("moment", "year"), DAYS, ids=[f"{m:%Y-%m-%d %H:%M}" for m, _ in DAYS])
def test_the_demo_sets_up_on_any_day_and_writes_nothing_after_now(taizhang, moment, year):
    from taizhang.quality.models import ReportedFigure
    from taizhang.register.models import Event, Person

    moment = moment.replace(tzinfo=BEIJING)
    with time_machine.travel(moment, tick=False):
        result = taizhang("demo", "--no-serve", "--persons", 2000)
        assert result.exit_code == 0, result.output
        today = clock.today()
    assert today == moment.date()
    assert f"{year}: population" in result.output
    # The register goes up to yesterday; every form sent was sent before now.
    assert Event.objects.aggregate(last=Max("date"))["last"] == today - dt.timedelta(days=1)
    assert ReportedFigure.objects.exists()
    assert Person.objects.count() > 2000
    late = {
        key: value
        for key, value in latest_of_every_field().items()
        if (value > moment if isinstance(value, dt.datetime) else value > today)
    }
    assert late == {}
    # The logins, labelled.
    assert "Role" in result.output and "User name" in result.output
    assert "county" in result.output and "township" in result.output


@pytest.mark.django_db
def test_report_forms_of_last_month_are_sent_only_as_their_days_come(taizhang):
    """On 3 January the December forms (sent on the 1st to the 5th) are partly in, and
    none is stamped after now."""
    from taizhang.quality.models import ReportedFigure

    moment = dt.datetime(2027, 1, 3, 8, 30, tzinfo=BEIJING)
    with time_machine.travel(moment, tick=False):
        assert taizhang("generate", "--persons", 2000, "--seed", 1).exit_code == 0
    december = ReportedFigure.objects.filter(period="202612")
    november = ReportedFigure.objects.filter(period="202611")
    assert 0 < december.values("org").distinct().count() < november.values("org").distinct().count()
    assert december.aggregate(last=Max("submitted_at"))["last"] <= moment
