"""The register's three error rates (漏册率, 漏管率, 差错率), worked out by hand on a small
township, and where they are shown: the dashboard, the quality scorecard and its PDF, the
targets' league table.

County 410325; township 城关镇 T100 = A 东街村 + B 西街村; township 田湖镇 T101 with one
village where nobody lives. Times are Beijing time (UTC+8) unless said.

    A  W1 b. 1980-05-05   W2 b. 1985-01-01   W3 b. 1991-01-01 (husband H3, registered, in A)
       W4 b. 1988-08-08   W5 b. 1990-02-02   W6 b. 1992-03-03   W7 b. 1987-04-04
       M  b. 1960-05-05, a woman of 64, moves to B on 2025-06-01
    B  W8 b. 1993-05-05   W9 b. 1995-06-06
       X  b. 1960-06-06, a woman of 64, moves out of the county on 2025-02-15

W1-W9 married on 2015-01-01 (husbands outside the register but H3): nine married women
15-49 (MWRA) all of 2025.

The register is written in steps, the clock set to each moment:

1. 2025-03-01 00:30 (2025-02-28 16:30 UTC): the org units and persons; W1's check-up of
   2025-02-28 (entry a4: entered on 1 March in Beijing, though 28 February in UTC).
2. 2025-03-20: the background, each entered "2025-02-28" (12:00 UTC, 20:00 in Beijing: a
   February entry): the marriages; W2 IUD 2024-11-30; W1 check-up 2025-01-31; W4
   screening 2025-02-20; W6 follow-up 2024-12-31; W7 pill 2020-01-01; X moves out
   2025-02-15. And March entries (entered on their own dates):
       a1 W1 check-up 03-03      a2 W1 screening 03-05     a3 W1 follow-up 03-10
       a5 M check-up 03-15       b1 W8 education 03-12     b2 X check-up 02-01, entered 03-15
3. 2025-03-25: a2 corrected (screening on 03-06), a3 corrected (follow-up on 03-11), a5
   and b1 retracted. These corrections are themselves entered in March.
4. 2025-04-01 01:30 (2025-03-31 17:30 UTC): W8's follow-up of 03-31 (an April entry).
5. 2025-04-10: a3's correction corrected in its turn (follow-up on 03-12).
6. 2026-01-10: M moves to B (2025-06-01); H3 male sterilisation 2025-06-01; W8 education
   2025-10-10; W7 stops the pill 2025-12-31; W4's screening retracted; W5 checked in at a
   check-up on 2025-05-05 (a check-in whose event the register did not hold).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from helpers import make_user, write_csv

from taizhang.accounts.models import Role
from taizhang.indicators.engine import compute, compute_levels, records_behind
from taizhang.ledgers.models import Attendance
from taizhang.lib.idnumber import make
from taizhang.quality import actions as quality_actions
from taizhang.quality import checks
from taizhang.quality.render import pdf_context
from taizhang.register import actions
from taizhang.register.models import Event, Person
from taizhang.register.timeline import EventFacts
from taizhang.targets import actions as target_actions
from taizhang.targets import rules
from taizhang.targets.attainment import league_table

pytestmark = pytest.mark.django_db

COUNTY, T100, T101 = "410325", "410325100", "410325101"
A, B, C = "410325100201", "410325100202", "410325101201"
CODES = ["UNDER_REGISTRATION", "UNSERVED_RATE", "ENTRY_ERROR_RATE"]
BEIJING = ZoneInfo("Asia/Shanghai")


def pid(birth: str, seq: int, region: str = "410325") -> str:
    return make(region, dt.date.fromisoformat(birth), seq)


BIRTHS = {
    "W1": "1980-05-05",
    "W2": "1985-01-01",
    "W3": "1991-01-01",
    "W4": "1988-08-08",
    "W5": "1990-02-02",
    "W6": "1992-03-03",
    "W7": "1987-04-04",
    "W8": "1993-05-05",
    "W9": "1995-06-06",
    "M": "1960-05-05",
    "X": "1960-06-06",
}
ID = {name: pid(birth, 2 * i + 2) for i, (name, birth) in enumerate(BIRTHS.items())}
ID["H3"] = pid("1985-07-07", 91)
VILLAGE = {name: (B if name in ("W8", "W9", "X") else A) for name in ID}
HUSBAND = {f"W{n}": pid("1980-01-01", 101 + 2 * n, "410322") for n in range(1, 10)}
HUSBAND["W3"] = ID["H3"]

HEADER = ["id_number", "event", "date", "spouse_id_number", "village", "method", "stage"]
HEADER += ["recorded_at"]


def row(who, event, date, *, spouse="", village="", method="", stage="", recorded=""):
    return [ID[who], event, date, spouse, village, method, stage, recorded]


def at(moment: str):
    """The clock at ``moment`` (Beijing time), standing still."""
    return time_machine.travel(
        dt.datetime.fromisoformat(moment).replace(tzinfo=BEIJING), tick=False
    )


def event_of(who: str, kind: str, date: str) -> Event:
    person = Person.objects.get(name=who)
    return Event.objects.get(person=person, kind=kind, date=date, supersedes__isnull=True)


def census(org: str, women: dict[int, int], year: int = 2024) -> list:
    return [
        quality_actions.CensusCell(org, year, sex, age, women.get(age, 0) if sex == "F" else 0)
        for sex in ("F", "M")
        for age in range(86)
    ]


@pytest.fixture
def township(tmp_path, taizhang):
    def load(name, rows):
        path = write_csv(tmp_path / f"{name}.csv", HEADER, rows)
        result = taizhang("import", path, "--kind", "events")
        assert result.exit_code == 0, result.output

    with at("2025-03-01 00:30"):
        orgunits = [
            ["410325", "嵩县", ""],
            [T100, "城关镇", "410325"],
            [A, "东街村", T100],
            [B, "西街村", T100],
            [T101, "田湖镇", "410325"],
            [C, "田湖村", T101],
        ]
        write_csv(tmp_path / "o.csv", ["code", "name", "parent"], orgunits)
        people = [[ID[n], n, "M" if n == "H3" else "F", VILLAGE[n]] for n in ID]
        write_csv(tmp_path / "p.csv", ["id_number", "name", "sex", "village"], people)
        for kind, name in (("orgunits", "o"), ("persons", "p")):
            result = taizhang("import", tmp_path / f"{name}.csv", "--kind", kind)
            assert result.exit_code == 0, result.output
        load("step1", [row("W1", "checkup", "2025-02-28")])

    feb = "2025-02-28"
    with at("2025-03-20 10:00"):
        load(
            "step2",
            [
                *(
                    row(w, "marriage", "2015-01-01", spouse=HUSBAND[w], recorded=feb)
                    for w in HUSBAND
                ),
                row("W2", "method_start", "2024-11-30", method="iud", recorded=feb),
                row("W1", "checkup", "2025-01-31", recorded=feb),
                row("W4", "screening", "2025-02-20", recorded=feb),
                row("W6", "followup", "2024-12-31", recorded=feb),
                row("W7", "method_start", "2020-01-01", method="pill", recorded=feb),
                row("X", "move_out", "2025-02-15", village="郑州市", recorded=feb),
                row("W1", "checkup", "2025-03-03", recorded="2025-03-03"),  # a1
                row("W1", "screening", "2025-03-05", recorded="2025-03-05"),  # a2
                row("W1", "followup", "2025-03-10", recorded="2025-03-10"),  # a3
                row("M", "checkup", "2025-03-15", recorded="2025-03-15"),  # a5
                row("W8", "education", "2025-03-12", stage="newlywed", recorded="2025-03-12"),
                row("X", "checkup", "2025-02-01", recorded="2025-03-15"),  # b2
            ],
        )

    def correct(event: Event, replacement: EventFacts | None):
        outcome = actions.correct_event(event.pk, replacement=replacement, reason="wrong")
        assert not outcome.problems

    w1 = Person.objects.get(name="W1").pk
    with at("2025-03-25 10:00"):
        correct(
            event_of("W1", "screening", "2025-03-05"),
            EventFacts("screening", dt.date(2025, 3, 6), w1),
        )
        correct(
            event_of("W1", "followup", "2025-03-10"),
            EventFacts("followup", dt.date(2025, 3, 11), w1),
        )
        correct(event_of("M", "checkup", "2025-03-15"), None)
        correct(event_of("W8", "education", "2025-03-12"), None)

    with at("2025-04-01 01:30"):
        load("step4", [row("W8", "followup", "2025-03-31")])

    with at("2025-04-10 10:00"):
        first = Event.objects.get(person_id=w1, kind="followup", date="2025-03-11")
        correct(first, EventFacts("followup", dt.date(2025, 3, 12), w1))

    with at("2026-01-10 10:00"):
        load(
            "step6",
            [
                row("M", "move_within", "2025-06-01", village=B),
                row("H3", "method_start", "2025-06-01", method="male_sterilization"),
                row("W8", "education", "2025-10-10", stage="newlywed"),
                row("W7", "method_stop", "2025-12-31"),
            ],
        )
        correct(event_of("W4", "screening", "2025-02-20"), None)
        Attendance.objects.create(
            person=Person.objects.get(name="W5"),
            kind="checkup",
            date=dt.date(2025, 5, 5),
            village=A,
            event=None,
            by="id_number",
            recorded_at=dt.datetime(2026, 1, 10, 2, tzinfo=dt.UTC),
        )
        yield


def figure(org: str, period: str, code: str) -> tuple:
    (entry,) = compute(org, period, [code])["indicators"]
    return entry["numerator"], entry["denominator"], entry["value"]


def ids(*names: str) -> list[int]:
    return sorted(Person.objects.filter(name__in=names).values_list("pk", flat=True))


# ---------------------------------------------------------------------------
# 漏管率: MWRA with no service contact in the 12 months ending with the period


def test_it_counts_the_married_women_no_service_reached(township):
    # 2025: the 12 months are 2025-01-01..2025-12-31.
    # A: W1 check-up 2025-01-31 (11 months before the end): served. W2 IUD 2024-11-30 (13
    #    months before): not. W3 through her husband's sterilisation 2025-06-01: served. W4
    #    only a screening that was retracted: not. W5 a check-in on 2025-05-05: served. W6 a
    #    follow-up on 2024-12-31, a day before the 12 months: not. W7 stops the pill on
    #    the last day: served. 3 of 7.
    # B: W8 education 2025-10-10: served; W9 nothing: 1 of 2. M (65) and X (gone) are no MWRA.
    assert figure(A, "2025", "UNSERVED_RATE") == (3, 7, 42.86)
    assert figure(B, "2025", "UNSERVED_RATE") == (1, 2, 50.0)
    assert figure(T100, "2025", "UNSERVED_RATE") == (4, 9, 44.44)
    assert figure(COUNTY, "2025", "UNSERVED_RATE") == (4, 9, 44.44)
    # November 2025: 2024-12-01..2025-11-30. W6's follow-up is in; W7's stop is not (her pill
    # start of 2020 long before): W2, W4, W7 in A.
    assert figure(A, "202511", "UNSERVED_RATE") == (3, 7, 42.86)
    assert records_behind("UNSERVED_RATE", A, "202511") == ids("W2", "W4", "W7")
    assert records_behind("UNSERVED_RATE", A, "2025") == ids("W2", "W4", "W6")
    assert records_behind("UNSERVED_RATE", T100, "2025", "denominator") == ids(
        *(f"W{n}" for n in range(1, 10))
    )


# ---------------------------------------------------------------------------
# 差错率: entries of the period later corrected or retracted


def test_it_counts_the_entries_later_corrected(township):
    # March 2025, by the day in Beijing each was entered:
    # A: a1, a2, a3, a4 (entered at 00:30 on 1 March), a5 (M lived in A on 03-15; she lives
    #    in B now): 5 entries; a2 corrected, a3 corrected twice (counted once), a5
    #    retracted: 3. The four corrections entered on 03-25 are no entries of their own.
    # B: b1 (retracted), b2 (X had left on 02-15: counted where she lived last): 1 of 2.
    assert figure(A, "202503", "ENTRY_ERROR_RATE") == (3, 5, 60.0)
    assert figure(B, "202503", "ENTRY_ERROR_RATE") == (1, 2, 50.0)
    assert figure(T100, "202503", "ENTRY_ERROR_RATE") == (4, 7, 57.14)
    assert figure(COUNTY, "202503", "ENTRY_ERROR_RATE") == (4, 7, 57.14)
    # April: W8's follow-up, entered at 01:30 on 1 April (still 31 March in UTC), never
    # corrected; the correction of 04-10 is no entry: A has none.
    assert figure(B, "202504", "ENTRY_ERROR_RATE") == (0, 1, 0.0)
    assert figure(A, "202504", "ENTRY_ERROR_RATE") == (0, 0, None)
    # The persons behind: W1 and M in A (a person with several entries is listed once).
    assert records_behind("ENTRY_ERROR_RATE", A, "202503") == ids("W1", "M")
    assert records_behind("ENTRY_ERROR_RATE", B, "202503") == ids("W8")
    assert records_behind("ENTRY_ERROR_RATE", B, "202503", "denominator") == ids("W8", "X")


def test_a_february_entry_is_one_of_february_in_beijing(township):
    # The background rows, entered "2025-02-28" (20:00 in Beijing): 9 marriages and the
    # rows of W2, W1, W4, W6, W7 and X = 15 entries; W4's screening was retracted in 2026.
    # W1's check-up entered at 16:30 UTC that day is March's (a4, above).
    assert figure(COUNTY, "202502", "ENTRY_ERROR_RATE") == (1, 15, 6.67)


# ---------------------------------------------------------------------------
# 漏册率: women 15-49 missing by the census carried forward


def test_it_estimates_the_women_missing_as_the_audit_does(township):
    # Census of 2024 (1 July) for 城关镇: W1-W9 at ages 44, 39, 33, 35, 34, 32, 37, 31, 29,
    # three more women of 30 the register never entered, M and X at 64. On 2025-12-31 the
    # group is born 1976-01-01..2010-12-31: every cohort of 29-44 entirely in it, 64 out.
    # Carried forward: 9 + 3 = 12, no births, deaths or moves of the group across the
    # township's border (M moved within it, X is 64). Registered: W1-W9 = 9. Missing 3:
    # 3 / (9 + 3) = 25%.
    women = {44: 1, 39: 1, 33: 1, 35: 1, 34: 1, 32: 1, 37: 1, 31: 1, 29: 1, 30: 3, 64: 2}
    quality_actions.record_census(census(T100, women), source="import")
    assert figure(T100, "2025", "UNDER_REGISTRATION") == (3.0, 12.0, 25.0)
    # The audit's own table says the same.
    with at("2026-01-10 10:00"):
        limits = {"groups": ["women_15_49"], "census_rse": 0.01, "confidence": 0.95}
        scope = checks.make_scope(T100, "2025")
        _, entries = checks.census_comparison(scope, limits | {"warn_share": 1, "fail_share": 1})
    assert [(e["org"], e["expected"], e["registered"], e["missing"]) for e in entries] == [
        (T100, 12.0, 9, 3.0)
    ]
    # No value where no base covers the unit: the villages (no base of their own), 田湖镇,
    # and so the county (not every township has one).
    levels = compute_levels(COUNTY, "2025", ["UNDER_REGISTRATION"], [None, "township", "village"])
    value = lambda r: r["indicators"][0]["value"]  # noqa: E731
    assert value(levels[None]) is None
    assert [value(r) for r in levels["township"]] == [25.0, None]
    assert [value(r) for r in levels["village"]] == [None, None, None]
    # A base is carried forward, never back: the first half of 2024 ends before 1 July.
    assert figure(T100, "2024S1", "UNDER_REGISTRATION") == (None, None, None)
    # With an (empty) base for 田湖镇 the county adds its townships up: (3 + 0) / (9 + 3).
    quality_actions.record_census(census(T101, {}), source="import")
    assert figure(COUNTY, "2025", "UNDER_REGISTRATION") == (3.0, 12.0, 25.0)
    # The records behind the estimate are the registered women it is made from.
    women_15_49 = ids(*(f"W{n}" for n in range(1, 10)))
    assert records_behind("UNDER_REGISTRATION", T100, "2025") == women_15_49
    assert records_behind("UNDER_REGISTRATION", T100, "2025", "denominator") == women_15_49


def test_a_surplus_is_no_woman_missing(township):
    # A census of 2024 that counted only W1 (44) and W2 (39): carried forward 2, registered
    # 9. The audit sees 7 more than expected; missing is 0, not -7: 0 / (9 + 0) = 0%.
    quality_actions.record_census(census(T100, {44: 1, 39: 1}), source="import")
    assert figure(T100, "2025", "UNDER_REGISTRATION") == (0.0, 9.0, 0.0)


# ---------------------------------------------------------------------------
# Where they are shown


@pytest.fixture
def ada(client, township):
    user = make_user("ada", Role.COUNTY_ADMIN, COUNTY)
    client.force_login(user)
    return user


def test_the_dashboard_groups_them_with_links_to_their_records(client, ada):
    response = client.get("/", {"org": T100, "period": "202503"})
    assert response.status_code == 200
    # UNSERVED_RATE at the end of March (2024-04-01..2025-03-31): W2's IUD and W6's
    # follow-up are in the 12 months, H3's sterilisation, W5's check-in and W7's stop not
    # yet; W8's follow-up of 03-31 stands. Unserved: W3, W4, W5, W7 in A, W9 in B: 5 of 9.
    cards = {c["code"]: (c["raw"], c["raw_numerator"]) for c in response.context["quality_cards"]}
    assert cards == {
        "UNDER_REGISTRATION": (None, None),
        "UNSERVED_RATE": (55.56, 5),
        "ENTRY_ERROR_RATE": (57.14, 4),
    }
    assert "Register quality" in response.content.decode()
    page = client.get(f"/figures/ENTRY_ERROR_RATE/{A}/202503/numerator/")
    assert page.status_code == 200
    assert [r["pk"] for r in page.context["rows"]] == ids("W1", "M")


def test_the_scorecard_and_its_pdf_show_them_per_unit(client, ada):
    with at("2026-01-10 10:00"):
        response = client.get("/quality/", {"org": T100, "period": "2025"})
        assert response.status_code == 200
        rows = {r["org"]: [c["text"] for c in r["cells"]] for r in response.context["quality_rows"]}
        # Villages, then the township; no census base: no 漏册率.
        assert list(rows) == [A, B, T100]
        assert [row[0] for row in rows.values()] == ["—", "—", "—"]
        assert [row[1] for row in rows.values()] == ["42.86%", "50.00%", "44.44%"]
        context = pdf_context(checks.audit(T100, "2025"))
        assert [r["cells"][1]["text"] for r in context["quality_rows"]] == [
            "42.86%",
            "50.00%",
            "44.44%",
        ]
        assert client.get("/quality/download/", {"org": T100, "period": "2025"}).status_code == 200


def test_targets_hold_them_lower_is_better(township):
    assert {rules.default_direction(code) for code in CODES} == {rules.LE}
    target_actions.set_target(
        indicator="UNSERVED_RATE", org_code=COUNTY, year=2025, value="45", source="cli"
    )
    rows = league_table(COUNTY, 2025, ["UNSERVED_RATE"])
    # 城关镇 44.44% ≤ 45: attained, ranked; 田湖镇 has no MWRA: no value, no rank.
    assert [(r.org, r.cells[0].value, r.cells[0].attained, r.cells[0].rank) for r in rows] == [
        (T100, 44.44, True, 1),
        (T101, None, None, None),
    ]
    assert rows[0].cells[0].direction == rules.LE
