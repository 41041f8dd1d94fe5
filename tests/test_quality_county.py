"""The audit on a synthetic county with faults put in on purpose: it must find exactly them.

The county is ``taizhang.synthetic`` at 30,000 persons (seed 11), built once for the
module. Before it is written, the simulated county (NumPy arrays, ``simulate``) is
changed the way a register goes wrong, so that the register never learns of what was
taken out — no hook in the generator is needed:

- townships A and B: 8% of each year's births there are never entered (the birth, the
  child and the child's later events), and 5% of the women who were married and aged
  15–49 on 2021-01-01 and lived there are never entered (the woman, her events and the
  children she bore after). A pregnancy registration before a birth that was never
  entered stays in the register; where her next pregnancy was registered within the 300
  days the register allows for one to end, that earlier registration is left out too.
- the villages report what really happened: the register's figures plus the births it
  lacks, every month of 2022–2025, on the third of the next month;
- township C reports 30% more births in 2025 than it recorded (its villages do not);
- village V (in a clean township, births 0–2 a month) reports 7 births for January 2025;
- the census of 2021 (counted on 2021-07-01) is the true population of each township by
  sex and age, the women never entered included.

The truth the audit is held to is counted from the unchanged arrays: who lived where on
a day (``village_on``), and which of the women never entered still lived in A or B at the
end of 2025, aged 15–49.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict

import numpy as np
import pytest
from django.db import transaction
from django.utils import timezone

from taizhang.indicators.engine import compute
from taizhang.lib.periods import ymd
from taizhang.quality import actions, figures
from taizhang.quality.checks import (
    CENSUS,
    COMPLETENESS,
    CONSISTENCY,
    OUTLIERS,
    REPORTED_VS_RECORDED,
    audit,
)
from taizhang.quality.models import ITEMS, OPEN_AGE
from taizhang.synthetic.simulate import BORN, KINDS, MIGRANT, County, simulate
from taizhang.synthetic.write import write_county

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

PERSONS, SEED = 30_000, 11
A, B, C = "410325100", "410325101", "410325102"
FAULTY = (A, B, C)
YEAR = 2025
CENSUS_DAY = dt.date(2021, 7, 1)
END = dt.date(YEAR, 12, 31)
BIRTH_SHARE, WOMEN_SHARE, INFLATION = 0.08, 0.05, 0.3
K = {kind: i for i, kind in enumerate(KINDS)}
PREGNANCY_DAYS = 300  # taizhang.register.timeline.PREGNANCY_MAX_DAYS


# ---------------------------------------------------------------------------
# Reading the arrays


def village_on(county: County, day: dt.date) -> np.ndarray:
    """Each person's village (an index into geography.villages) at the end of ``day``, or
    -1 when they were not living in the county then: the register's own rule (events
    dated D take effect on D; a migrant arrives with their move-in; the born with birth)."""
    d = day.toordinal()
    where = np.where(county.origin == MIGRANT, -1, county.village)
    where = np.where((county.origin == BORN) & (county.birth > d), -1, where)
    moving = np.isin(county.kind, [K["move_in"], K["move_within"], K["move_out"], K["death"]])
    moving &= county.day <= d
    rows = np.flatnonzero(moving)
    # Events are in person and date order: the last row of each person is their last move.
    last = rows[np.r_[county.person[rows][1:] != county.person[rows][:-1], True]]
    kind = county.kind[last]
    where[county.person[last]] = np.where(
        np.isin(kind, [K["move_in"], K["move_within"]]), county.a[last], -1
    )
    return where


def age_on(county: County, day: dt.date) -> np.ndarray:
    births = [dt.date.fromordinal(int(b)) for b in county.birth]
    return (ymd(day) - np.array([ymd(b) for b in births])) // 10000


def township_codes(county: County) -> np.ndarray:
    return np.array([v.township for v in county.geography.villages])


def village_codes(county: County) -> np.ndarray:
    return np.array([v.code for v in county.geography.villages])


def event_villages(county: County) -> np.ndarray:
    """The village each event's person lived in on its day (after moves dated earlier)."""
    where = county.village.copy()
    where[county.origin == MIGRANT] = -1
    out = np.empty(len(county.kind), np.int64)
    current = dict()
    for i, (p, kind, a) in enumerate(
        zip(county.person.tolist(), county.kind.tolist(), county.a.tolist(), strict=True)
    ):
        if p not in current:
            current[p] = where[p]
        out[i] = current[p]
        if kind in (K["move_in"], K["move_within"]):
            current[p] = a
    return out


# ---------------------------------------------------------------------------
# Putting faults in


def drop(county: County, persons: np.ndarray, events: np.ndarray) -> County:
    """The county without the persons marked in ``persons`` and the events marked in
    ``events`` (and every event of a person left out); indexes renumbered."""
    keep_p = ~persons
    new_index = np.cumsum(keep_p) - 1
    new_index[persons] = -1
    keep_e = ~events & keep_p[county.person]
    refers = np.isin(county.kind, [K["marriage"], K["divorce"], K["birth"]]) & (county.a >= 0)
    assert keep_p[county.a[keep_e & refers]].all(), "a kept event names a person left out"
    a = np.where(refers, new_index[np.maximum(county.a, 0)], county.a)
    mother = np.where(county.mother >= 0, new_index[np.maximum(county.mother, 0)], -1)
    kept = np.flatnonzero(keep_p).tolist()
    return dataclasses.replace(
        county,
        sex=county.sex[keep_p],
        birth=county.birth[keep_p],
        village=county.village[keep_p],
        household=county.household[keep_p],
        hukou=county.hukou[keep_p],
        region=county.region[keep_p],
        origin=county.origin[keep_p],
        lbb=county.lbb[keep_p],
        mother=mother[keep_p],
        surname=county.surname[keep_p],
        given=[county.given[i] for i in kept],
        phone=county.phone[keep_p],
        ethnicity=county.ethnicity[keep_p],
        person=new_index[county.person[keep_e]],
        kind=county.kind[keep_e],
        day=county.day[keep_e],
        a=a[keep_e],
        b=county.b[keep_e],
        c=county.c[keep_e],
        recorded=county.recorded[keep_e],
        id_numbers=[county.id_numbers[i] for i in kept],
    )


@dataclasses.dataclass
class Faults:
    county: County  # as written into the register
    lost_births: Counter  # (village code, YYYYMM) -> births never entered
    lost_women: np.ndarray  # indexes (in the clean county) of the women never entered
    clean: County


def put_faults(clean: County) -> Faults:
    rng = np.random.default_rng(SEED)
    townships, villages = township_codes(clean), village_codes(clean)
    start = dt.date(2021, 1, 1)
    where_start = village_on(clean, start)
    age_start = age_on(clean, start)
    at_event = event_villages(clean)
    in_faulty = lambda v: (v >= 0) & np.isin(townships[np.maximum(v, 0)], [A, B])  # noqa: E731

    # 5% of the women married and aged 15-49 on 2021-01-01 who lived in A, and of those in B.
    married = set(
        clean.person[(clean.kind == K["marriage"]) & (clean.day < start.toordinal())].tolist()
    )
    ended = set(
        clean.person[
            np.isin(clean.kind, [K["divorce"], K["widowhood"]]) & (clean.day < start.toordinal())
        ].tolist()
    )
    women = np.array(
        [
            i
            for i in np.flatnonzero(
                (clean.sex == 0) & (age_start >= 15) & (age_start <= 49) & in_faulty(where_start)
            )
            if i in married and i not in ended
        ]
    )
    home = townships[where_start[women]]
    lost_women = np.sort(
        np.concatenate(
            [
                rng.choice(mine, size=round(WOMEN_SHARE * len(mine)), replace=False)
                for mine in (women[home == township] for township in (A, B))
            ]
        )
    )
    lost = np.zeros(clean.persons, bool)
    lost[lost_women] = True
    # ... and the children they bore in the register.
    lost |= (clean.origin == BORN) & (clean.mother >= 0) & lost[np.maximum(clean.mother, 0)]

    # 8% of each year's births in A and B (of mothers still entered).
    births = np.flatnonzero((clean.kind == K["birth"]) & in_faulty(at_event) & ~lost[clean.person])
    years = np.array([dt.date.fromordinal(int(d)).year for d in clean.day[births]])
    chosen = []
    for township in (A, B):
        for year in sorted(set(years.tolist())):
            pool = births[(years == year) & (townships[at_event[births]] == township)]
            chosen += rng.choice(pool, size=round(BIRTH_SHARE * len(pool)), replace=False).tolist()
    lost_events = np.zeros(clean.events, bool)
    lost_events[chosen] = True
    lost[clean.a[chosen]] = True
    # A registration whose pregnancy never ends in the register blocks the next one for
    # 300 days: where the next one comes sooner, it is left out as well.
    for birth in chosen:
        mother, day = clean.person[birth], clean.day[birth]
        hers = np.flatnonzero((clean.person == mother) & (clean.kind == K["pregnancy"]))
        before, after = hers[clean.day[hers] <= day], hers[clean.day[hers] > day]
        if (
            len(before)
            and len(after)
            and clean.day[after[0]] - clean.day[before[-1]] < PREGNANCY_DAYS
        ):
            lost_events[before[-1]] = True

    # Every birth the register lacks, where and when it happened.
    gone = (clean.kind == K["birth"]) & (
        lost_events | lost[clean.person] | lost[np.maximum(clean.a, 0)]
    )
    lost_births = Counter()
    for i in np.flatnonzero(gone):
        day = dt.date.fromordinal(int(clean.day[i]))
        lost_births[(villages[at_event[i]], f"{day.year}{day.month:02d}")] += 1
    return Faults(drop(clean, lost, lost_events), lost_births, lost_women, clean)


# ---------------------------------------------------------------------------
# The county, written once for the module


@dataclasses.dataclass
class Built:
    faults: Faults
    v: str  # the village reporting 7 births for January
    inflated: dict[str, int]  # township C's 2025 births: recorded, reported
    result: dict
    truth: dict[str, int]  # township -> women 15-49 at the end of 2025 never entered


def build() -> Built:
    clean = simulate(PERSONS, SEED)
    faults = put_faults(clean)
    write_county(faults.county)

    townships = township_codes(clean)
    villages = village_codes(clean)
    first, last = dt.date(YEAR - 3, 1, 1), END
    recorded = figures.recorded_by_level("410325", first, last, (12, 9))
    months = [f"{y}{m:02d}" for y in range(YEAR - 3, YEAR + 1) for m in range(1, 13)]
    reported: dict[tuple[str, str, str], int] = {}
    for length in (12, 9):
        units = sorted(set(villages.tolist())) if length == 12 else sorted(set(townships.tolist()))
        for unit in units:
            for month in months:
                for item in ITEMS:
                    reported[(unit, month, item)] = recorded[length].get((unit, month, item), 0)
    for (village, month), n in faults.lost_births.items():
        if (village, month, "births") in reported:
            reported[(village, month, "births")] += n
            reported[(village[:9], month, "births")] += n

    # Township C: 30% more births in 2025 than recorded, the extra ones in its busiest months.
    c_months = [f"{YEAR}{m:02d}" for m in range(1, 13)]
    c_births = {m: reported[(C, m, "births")] for m in c_months}
    extra = round(INFLATION * sum(c_births.values()))
    for month in sorted(c_months, key=lambda m: (-c_births[m], m))[:extra]:
        reported[(C, month, "births")] += 1
    inflated = {"recorded": sum(c_births.values()), "reported": sum(c_births.values()) + extra}

    # V: the village of a clean township with the most births whose months were all 0-2.
    history = defaultdict(list)
    for (unit, _month, item), n in reported.items():
        if item == "births" and len(unit) == 12 and unit[:9] not in FAULTY:
            history[unit].append(n)
    v = max((u for u, h in history.items() if max(h) <= 2), key=lambda u: (sum(history[u]), u))
    reported[(v, f"{YEAR}01", "births")] = 7

    reports = []
    for (unit, month, item), n in reported.items():
        due = actions.next_month(actions.month_first_day(month)).replace(day=3)
        moment = timezone.make_aware(dt.datetime.combine(due, dt.time(10)))
        reports.append(actions.Report(unit, month, item, n, moment, "报表员"))
    actions.record_reports(reports, source="import")

    # The census: everyone living in each township on 2021-07-01 (the end of 30 June).
    where = village_on(clean, CENSUS_DAY - dt.timedelta(days=1))
    ages = np.minimum(age_on(clean, CENSUS_DAY), OPEN_AGE)
    cells = Counter()
    for person in np.flatnonzero(where >= 0):
        cells[(townships[where[person]], "FM"[clean.sex[person]], int(ages[person]))] += 1
    actions.record_census(
        [
            actions.CensusCell(t, CENSUS_DAY.year, sex, age, cells[(t, sex, age)])
            for t in sorted(set(townships.tolist()))
            for sex in "FM"
            for age in range(OPEN_AGE + 1)
        ],
        source="import",
    )

    # The women never entered who would be counted at the end of 2025.
    where_end = village_on(clean, END)
    age_end = age_on(clean, END)
    truth = Counter()
    for woman in faults.lost_women:
        if where_end[woman] >= 0 and 15 <= age_end[woman] <= 49:
            truth[townships[where_end[woman]]] += 1
    return Built(faults, v, inflated, audit("410325", str(YEAR)), dict(truth))


@pytest.fixture(scope="module")
def county(django_db_setup, django_db_blocker):
    """The faulty county in the test database for the module's tests, then rolled back."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def check(result: dict, code: str) -> dict:
    return next(c for c in result["checks"] if c["code"] == code)


def flagged(result: dict, code: str) -> set[str]:
    return {f["org"] for f in check(result, code)["findings"]}


# ---------------------------------------------------------------------------
# The arrays and the register agree


def test_the_arrays_count_who_lives_where_as_the_register_does(county):
    # The faulty county's arrays, read as the register reads them, give each township's
    # population at the end of 2025: the truth below is counted the same way.
    faulty = county.faults.county
    where = village_on(faulty, END)
    townships = township_codes(faulty)
    counts = Counter(townships[where[where >= 0]].tolist())
    engine = {
        r["org"]: r["indicators"][0]["value"]
        for r in compute("410325", "2025", ["POP_END"], by="township")
    }
    assert counts == engine


def test_the_register_lacks_the_births_that_were_left_out(county):
    # Births recorded in 2025 by village = the clean county's births there minus those lost.
    clean = county.faults.clean
    at_event = event_villages(clean)
    villages = village_codes(clean)
    wanted = Counter()
    for i in np.flatnonzero(clean.kind == K["birth"]):
        day = dt.date.fromordinal(int(clean.day[i]))
        if day.year == YEAR:
            wanted[villages[at_event[i]]] += 1
    for (village, month), n in county.faults.lost_births.items():
        if month.startswith(str(YEAR)):
            wanted[village] -= n
    engine = {
        r["org"]: r["indicators"][0]["value"]
        for r in compute("410325", str(YEAR), ["BIRTHS"], by="village")
    }
    assert {v: n for v, n in wanted.items() if n} == {v: n for v, n in engine.items() if n}


# ---------------------------------------------------------------------------
# The audit finds the faults, and nothing in the clean townships


def test_it_lists_the_villages_and_townships_whose_reports_differ(county):
    lost_2025 = {v for (v, m), n in county.faults.lost_births.items() if m.startswith(str(YEAR))}
    # A and B report their true births (their villages' lost births included); C reports
    # 30% more; V reports 7 for January.
    expected = lost_2025 | {A, B, C, county.v}
    assert {v[:9] for v in lost_2025} == {A, B}
    assert flagged(county.result, REPORTED_VS_RECORDED) == expected


def test_it_fails_the_township_that_inflated_its_births(county):
    (finding,) = [
        f for f in check(county.result, REPORTED_VS_RECORDED)["findings"] if f["org"] == C
    ]
    births = finding["figures"]["totals"]["births"]
    # Reported = recorded + round(30% of recorded); a gap of at least 3 and 10% fails.
    assert (births["recorded"], births["reported"]) == (
        county.inflated["recorded"],
        county.inflated["reported"],
    )
    assert births["difference"] == round(INFLATION * births["recorded"]) >= 3
    assert finding["status"] == "fail"
    assert {d["item"] for d in finding["figures"]["differences"]} == {"births"}


def test_it_finds_the_one_outlier_and_no_other(county):
    (finding,) = check(county.result, OUTLIERS)["findings"]
    assert finding["org"] == county.v
    (outlier,) = finding["figures"]["outliers"]
    assert (outlier["series"], outlier["item"], outlier["period"], outlier["count"]) == (
        "reported",
        "births",
        f"{YEAR}01",
        7,
    )
    assert outlier["status"] == "fail"


def test_it_estimates_the_women_missing_in_a_and_b_and_no_others(county):
    flagged_women = {
        f["org"]
        for f in check(county.result, CENSUS)["findings"]
        if f["figures"]["group"] == "women_15_49"
    }
    assert flagged_women == {A, B}
    assert flagged(county.result, CENSUS) <= {A, B}
    women = {
        e["org"]: e for e in county.result["under_registration"] if e["group"] == "women_15_49"
    }
    assert len(women) == 16
    for township, entry in women.items():
        truth = county.truth.get(township, 0)
        low, high = entry["interval"]
        assert low <= truth <= high, (township, truth, entry)
        assert entry["missing"] == pytest.approx(entry["expected"] - entry["registered"], abs=0.1)
    assert county.truth[A] > 0 and county.truth[B] > 0
    assert women[A]["interval"][0] > 0 and women[B]["interval"][0] > 0


def test_it_flags_nothing_in_the_clean_townships(county):
    v_township = county.v[:9]
    for c in county.result["checks"]:
        if c["code"] == "DUPLICATE_PERSONS":
            # Not one of the faults laid: namesakes born on the same day, as a simulated
            # county has them anywhere (the check itself: tests/test_duplicates.py).
            continue
        for f in c["findings"]:
            township = f["org"][:9]
            assert township in FAULTY or f["org"] == county.v, (c["code"], f)
    assert v_township not in FAULTY
    # Every village sent every form, on time; nothing broke between years.
    assert check(county.result, COMPLETENESS)["findings"] == []
    assert check(county.result, CONSISTENCY)["findings"] == []
