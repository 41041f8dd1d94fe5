"""The indicator engine against a small register built row by row, figures worked out by hand.

Org units: county 410325; township 410325100 with villages V1 = 410325100201 and
V2 = 410325100202; township 410325200 with V3 = 410325200201 and V4 = 410325200202,
where nobody lives.

Who is who (ages on 2024-01-01 / 2024-12-31; lbb = live births before registration):

    V1  A  F 1990-03-15 (33/34) lbb 1, married to B since 2015, IUD since 2020
        B  M 1988-01-01
        C  F 1995-05-05 (28/29) lbb 1, married to D since 2018; son E born 2024-06-10
           (order 2, facility, she is 29); no method of her own
        D  M 1993-01-01, male sterilisation since 2019
        E  M born 2024-06-10
        F  F 1974-12-31 (49/50: turns 50 on 2024-12-31), married to a man outside the register
        G  F 1990-01-01 (34/34) moves within the county from V1 to V2 on 2024-01-01
        H  M 1950-01-01, dies 2024-12-31 (the last day)
        I  F 1998-01-01, moved out on 2023-12-31 (gone before the year starts)
        J  M 1985-01-01, moves in on 2024-12-31 (the last day)
    V2  K  F 2000-02-02 (23/24), marries L on 2024-03-01; pill 2024-04-01, stopped on
           2024-12-31 (still using on that day)
        L  M 1998-08-08
        M  F 1992-01-01 (32/32) lbb 2, married (spouse outside the register), method "other"
        O  F 1996-01-01 (28/28), married (spouse outside), IUD stopped 2024-12-30
    V3  Q  F 1994-01-01 (30/30), married (spouse outside); daughter R born 2024-09-15
           (order 1, at home, she is 30) — a birth in the other township
        R  F born 2024-09-15
        S  F 1990-06-06 (33/34), divorced on 2024-12-31
        T  F 1999-01-01 (25/25), marries a man outside the register on 2024-12-31

The county in 2024:
    START (end of 2023-12-31) = A B C D F G H (V1 7) + K L M O (V2 4) + Q S T (V3 3) = 14
    END (end of 2024-12-31)   = A B C D E F J (V1 7) + K L M O G (V2 5) + Q R S T (V3 4) = 16
    women 15-49 START: A C F G K M O Q S T = 10; END: A C K M O G Q S T = 9 (F is 50)
    births E (M, order 2, facility, mother 29), R (F, order 1, home, mother 30); death H;
    marriages K (V2) and T (V3)
    MWRA at END: A C (V1), K M O (V2), Q T (V3) = 7 (F is 50, S divorced that day)
    using a method: A (IUD), C (husband's sterilisation), K (stopped that day), M (other)
      = 4; modern: A C K = 3
    parity: A 1, C 2, K 0, M 2, O 0, Q 1, T 0
    TFR: age 29: 1 birth / ((0 at START + C at END) / 2) = 2; age 30: 1 / ((Q + Q) / 2) = 1
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from taizhang import clock
from taizhang.cli import UserError
from taizhang.figures import store
from taizhang.indicators import definitions
from taizhang.indicators.backends import duckdb_backend
from taizhang.indicators.definitions import (
    ALL_INDICATORS,
    INDICATORS,
    Count,
    Indicator,
    TotalFertility,
)
from taizhang.indicators.engine import (
    compute,
    compute_many,
    counted_from_records,
    records_behind,
    running_on,
    select_indicators,
)
from taizhang.lib.periods import parse
from taizhang.orgunits.models import OrgUnit
from taizhang.register.models import (
    OPEN_END,
    BirthFact,
    Event,
    MethodSpell,
    Person,
    ResidenceSpell,
    UnionSpell,
)

COUNTY, T100, T200 = "410325", "410325100", "410325200"
V1, V2, V3, V4 = "410325100201", "410325100202", "410325200201", "410325200202"

# (value, numerator, denominator), worked out in the module docstring.
COUNTY_2024 = {
    "POP_START": (14, 14, None),
    "POP_END": (16, 16, None),
    "POP_AVG": (15.0, 15.0, None),
    "BIRTHS": (2, 2, None),
    "DEATHS": (1, 1, None),
    "CBR": (133.33, 2, 15.0),  # 2 / 15 * 1000 = 133.333...
    "CDR": (66.67, 1, 15.0),
    "RNI": (66.67, 1, 15.0),
    "SRB": (100.0, 1, 1),
    "BIRTH_ORDER_1": (50.0, 1, 2),
    "BIRTH_ORDER_2": (50.0, 1, 2),
    "BIRTH_ORDER_3P": (0.0, 0, 2),
    "GFR": (210.53, 2, 9.5),  # 2 / ((10 + 9) / 2) * 1000 = 210.526...
    "TFR": (3.0, 3.0, None),
    "FACILITY_DELIVERY": (50.0, 1, 2),
    "MARRIAGE_RATE": (133.33, 2, 15.0),
    "MWRA": (7, 7, None),
    "MWRA_SHARE": (43.75, 7, 16),
    "CPR": (57.14, 4, 7),  # 57.142...
    "MCPR": (42.86, 3, 7),  # 42.857...
    "PARITY_0": (42.86, 3, 7),  # K O T
    "PARITY_1": (28.57, 2, 7),  # A Q
    "PARITY_2P": (28.57, 2, 7),  # C M
}

# V1 + V2: START 7 + 4, END 7 + 5; birth E only (a boy, so no sex ratio); death H;
# women START A C F G + K M O = 7, END A C + K M O G = 6; TFR: age 29 -> 1 / 0.5 = 2;
# MWRA A C K M O, using A C K M, modern A C K; parity A 1, C 2, K 0, M 2, O 0.
TOWNSHIP_100_2024 = {
    "POP_START": (11, 11, None),
    "POP_END": (12, 12, None),
    "POP_AVG": (11.5, 11.5, None),
    "BIRTHS": (1, 1, None),
    "DEATHS": (1, 1, None),
    "CBR": (86.96, 1, 11.5),  # 86.956...
    "CDR": (86.96, 1, 11.5),
    "RNI": (0.0, 0, 11.5),
    "SRB": (None, 1, 0),
    "BIRTH_ORDER_1": (0.0, 0, 1),
    "BIRTH_ORDER_2": (100.0, 1, 1),
    "BIRTH_ORDER_3P": (0.0, 0, 1),
    "GFR": (153.85, 1, 6.5),  # 153.846...
    "TFR": (2.0, 2.0, None),
    "FACILITY_DELIVERY": (100.0, 1, 1),
    "MARRIAGE_RATE": (86.96, 1, 11.5),
    "MWRA": (5, 5, None),
    "MWRA_SHARE": (41.67, 5, 12),  # 41.666...
    "CPR": (80.0, 4, 5),
    "MCPR": (60.0, 3, 5),
    "PARITY_0": (40.0, 2, 5),
    "PARITY_1": (20.0, 1, 5),
    "PARITY_2P": (40.0, 2, 5),
}

# V3 (+ the empty V4): START Q S T, END Q R S T; birth R (a girl, at home, mother 30);
# women Q S T at both ends; TFR: age 30 -> 1 / 1 = 1; marriage T; MWRA Q T, no method;
# parity Q 1, T 0.
TOWNSHIP_200_2024 = {
    "POP_START": (3, 3, None),
    "POP_END": (4, 4, None),
    "POP_AVG": (3.5, 3.5, None),
    "BIRTHS": (1, 1, None),
    "DEATHS": (0, 0, None),
    "CBR": (285.71, 1, 3.5),  # 285.714...
    "CDR": (0.0, 0, 3.5),
    "RNI": (285.71, 1, 3.5),
    "SRB": (0.0, 0, 1),
    "BIRTH_ORDER_1": (100.0, 1, 1),
    "BIRTH_ORDER_2": (0.0, 0, 1),
    "BIRTH_ORDER_3P": (0.0, 0, 1),
    "GFR": (333.33, 1, 3.0),
    "TFR": (1.0, 1.0, None),
    "FACILITY_DELIVERY": (0.0, 0, 1),
    "MARRIAGE_RATE": (285.71, 1, 3.5),
    "MWRA": (2, 2, None),
    "MWRA_SHARE": (50.0, 2, 4),
    "CPR": (0.0, 0, 2),
    "MCPR": (0.0, 0, 2),
    "PARITY_0": (50.0, 1, 2),
    "PARITY_1": (50.0, 1, 2),
    "PARITY_2P": (0.0, 0, 2),
}


def figures(result: dict) -> dict:
    return {i["code"]: (i["value"], i["numerator"], i["denominator"]) for i in result["indicators"]}


# ---------------------------------------------------------------------------
# The register, row by row

_ids = itertools.count(1)


def person(sex: str, birth: str, village: str, lbb: int = 0) -> Person:
    n = next(_ids)
    return Person.objects.create(
        name=f"p{n}",
        sex=sex,
        birth_date=dt.date.fromisoformat(birth),
        id_cipher=b"x",
        id_index=f"idx{n}",
        village_id=village,
        hukou_village=village,
        live_births_before=lbb,
    )


def ymd(iso: str) -> int:
    return int(iso.replace("-", ""))


def lives(p: Person, village: str, start: str, end: str | None = None, reason: str = "") -> None:
    ResidenceSpell.objects.create(
        person=p,
        village=village,
        start=ymd(start),
        end=ymd(end) if end else OPEN_END,
        end_reason=reason,
        sex=p.sex,
        birth=ymd(p.birth_date.isoformat()),
    )


def married(
    wife: Person,
    husband: Person | None,
    start: str,
    end: str | None = None,
    reason: str = "",
    village: str = "",
) -> None:
    """One union: the wife's row counts the marriage; the husband's row if he is registered."""
    end_ymd = ymd(end) if end else OPEN_END
    UnionSpell.objects.create(
        person=wife,
        spouse=husband,
        start=ymd(start),
        end=end_ymd,
        end_reason=reason,
        counts_marriage=True,
        village_at_start=village,
    )
    if husband:
        UnionSpell.objects.create(
            person=husband, spouse=wife, start=ymd(start), end=end_ymd, end_reason=reason
        )


def uses(p: Person, method: str, start: str, stopped: str | None = None) -> None:
    """A method from ``start``; stopped on ``stopped`` means the spell ends the day after."""
    end = OPEN_END
    if stopped:
        end = ymd((dt.date.fromisoformat(stopped) + dt.timedelta(days=1)).isoformat())
    MethodSpell.objects.create(person=p, method=method, start=ymd(start), end=end)


def born(
    mother: Person, date: str, village: str, sex: str, order: int, age: int, place: str
) -> Person:
    child = person(sex, date, village)
    lives(child, village, date)
    event = Event.objects.create(
        person=mother,
        kind="birth",
        date=dt.date.fromisoformat(date),
        child=child,
        delivery_place=place,
        recorded_at=clock.now(),
    )
    BirthFact.objects.create(
        event=event,
        mother=mother,
        child=child,
        date=ymd(date),
        village=village,
        sex=sex,
        birth_order=order,
        mother_age=age,
        delivery_place=place,
        recorded=ymd(date),
    )
    return child


@pytest.fixture(params=["kept", "counted"])
def register(request, db) -> dict[str, Person]:
    """The register, its rows written by hand; its figures read from the maintained ones
    (made from those rows, ``taizhang.figures``) or counted from the rows themselves."""
    p = _register()
    if request.param == "kept":
        store.rebuild()
        yield p
    else:
        with counted_from_records():
            yield p


def _register() -> dict[str, Person]:
    OrgUnit.objects.create(code=COUNTY, name="县", level=3)
    OrgUnit.objects.create(code=T100, name="城关镇", level=4, parent_id=COUNTY)
    OrgUnit.objects.create(code=T200, name="田湖镇", level=4, parent_id=COUNTY)
    for code, parent, name in [(V1, T100, "东街村"), (V2, T100, "西街村"), (V3, T200, "田湖村")]:
        OrgUnit.objects.create(code=code, name=name, level=5, parent_id=parent)
    OrgUnit.objects.create(code=V4, name="古城村", level=5, parent_id=T200)

    p: dict[str, Person] = {}
    p["A"] = person("F", "1990-03-15", V1, lbb=1)
    p["B"] = person("M", "1988-01-01", V1)
    p["C"] = person("F", "1995-05-05", V1, lbb=1)
    p["D"] = person("M", "1993-01-01", V1)
    p["F"] = person("F", "1974-12-31", V1)
    p["G"] = person("F", "1990-01-01", V1)
    p["H"] = person("M", "1950-01-01", V1)
    p["I"] = person("F", "1998-01-01", V1)
    p["J"] = person("M", "1985-01-01", V1)
    p["K"] = person("F", "2000-02-02", V2)
    p["L"] = person("M", "1998-08-08", V2)
    p["M"] = person("F", "1992-01-01", V2, lbb=2)
    p["O"] = person("F", "1996-01-01", V2)
    p["Q"] = person("F", "1994-01-01", V3)
    p["S"] = person("F", "1990-06-06", V3)
    p["T"] = person("F", "1999-01-01", V3)

    for key in "ABCDF":
        lives(p[key], V1, "2000-01-01")
    lives(p["G"], V1, "1990-01-01", "2024-01-01", "move_within")
    lives(p["G"], V2, "2024-01-01")
    lives(p["H"], V1, "1950-01-01", "2024-12-31", "death")
    lives(p["I"], V1, "1998-01-01", "2023-12-31", "move_out")
    lives(p["J"], V1, "2024-12-31")
    for key in "KLMO":
        lives(p[key], V2, "2000-02-02")
    for key in "QST":
        lives(p[key], V3, "2000-01-01")

    married(p["A"], p["B"], "2015-06-01", village=V1)
    uses(p["A"], "iud", "2020-01-01")
    married(p["C"], p["D"], "2018-01-01", village=V1)
    uses(p["D"], "male_sterilization", "2019-01-01")
    p["E"] = born(p["C"], "2024-06-10", V1, "M", order=2, age=29, place="facility")
    married(p["F"], None, "1995-01-01", village=V1)
    married(p["K"], p["L"], "2024-03-01", village=V2)
    uses(p["K"], "pill", "2024-04-01", stopped="2024-12-31")
    married(p["M"], None, "2010-01-01", village=V2)
    uses(p["M"], "other", "2020-01-01")
    married(p["O"], None, "2020-01-01", village=V2)
    uses(p["O"], "iud", "2020-01-01", stopped="2024-12-30")
    married(p["Q"], None, "2022-01-01", village=V3)
    p["R"] = born(p["Q"], "2024-09-15", V3, "F", order=1, age=30, place="home")
    married(p["S"], None, "2010-01-01", "2024-12-31", "divorce", village=V3)
    married(p["T"], None, "2024-12-31", village=V3)
    return p


def ids(register: dict[str, Person], keys: str) -> list[int]:
    return sorted(register[k].id for k in keys)


# ---------------------------------------------------------------------------
# Figures


@pytest.mark.django_db
class TestCompute:
    def test_it_gives_every_county_figure_for_2024(self, register):
        result = compute(COUNTY, "2024")
        assert (result["org"], result["period"]) == (COUNTY, "2024")
        assert figures(result) == COUNTY_2024

    def test_it_gives_the_indicators_in_the_order_of_the_definitions(self, register):
        result = compute(COUNTY, "2024")
        assert [i["code"] for i in result["indicators"]] == [i.code for i in INDICATORS]
        assert result["indicators"][5] == {
            "code": "CBR",
            "value": 133.33,
            "numerator": 2,
            "denominator": 15.0,
            "unit": "per_mille",
        }

    def test_it_gives_each_township(self, register):
        result = compute(COUNTY, "2024", by="township")
        assert [r["org"] for r in result] == [T100, T200]
        assert figures(result[0]) == TOWNSHIP_100_2024
        assert figures(result[1]) == TOWNSHIP_200_2024

    def test_it_gives_a_township_asked_for_directly(self, register):
        assert figures(compute(T100, "2024")) == TOWNSHIP_100_2024

    def test_it_gives_each_village_including_the_empty_one(self, register):
        result = compute(
            COUNTY, "2024", codes=["POP_START", "POP_END", "CBR", "MWRA", "CPR"], by="village"
        )
        assert [r["org"] for r in result] == [V1, V2, V3, V4]
        assert [figures(r) for r in result] == [
            {
                "POP_START": (7, 7, None),
                "POP_END": (7, 7, None),
                "CBR": (142.86, 1, 7.0),
                "MWRA": (2, 2, None),
                "CPR": (100.0, 2, 2),
            },
            {
                "POP_START": (4, 4, None),
                "POP_END": (5, 5, None),
                "CBR": (0.0, 0, 4.5),
                "MWRA": (3, 3, None),
                "CPR": (66.67, 2, 3),
            },
            {
                "POP_START": (3, 3, None),
                "POP_END": (4, 4, None),
                "CBR": (285.71, 1, 3.5),
                "MWRA": (2, 2, None),
                "CPR": (0.0, 0, 2),
            },
            {
                "POP_START": (0, 0, None),
                "POP_END": (0, 0, None),
                "CBR": (None, 0, 0.0),
                "MWRA": (0, 0, None),
                "CPR": (None, 0, 0),
            },
        ]

    def test_it_gives_a_village_of_a_township(self, register):
        result = compute(T200, "2024", codes=["BIRTHS", "TFR"], by="village")
        assert [(r["org"], figures(r)) for r in result] == [
            (V3, {"BIRTHS": (1, 1, None), "TFR": (1.0, 1.0, None)}),
            (V4, {"BIRTHS": (0, 0, None), "TFR": (0.0, 0.0, None)}),
        ]

    def test_it_gives_only_the_codes_asked_for_in_the_order_of_the_definitions(self, register):
        result = compute(COUNTY, "2024", codes=["mcpr", "BIRTHS"])
        assert [i["code"] for i in result["indicators"]] == ["BIRTHS", "MCPR"]

    def test_it_scales_the_tfr_of_a_quarter_to_a_year(self, register):
        # 2024Q3: R's birth (mother 30); Q is the only woman aged 30 at START (age on
        # 2024-07-01) and at END (2024-09-30): 1 / 1 = 1, times 366 days / 92 days.
        result = compute(COUNTY, "2024Q3", codes=["TFR"])
        (tfr,) = result["indicators"]
        assert tfr["value"] == 3.98
        assert tfr["numerator"] == pytest.approx(366 / 92, rel=1e-12)
        assert tfr["denominator"] is None

    def test_it_counts_a_spell_ending_on_the_first_day_at_start(self, register):
        # G moved from V1 to V2 on 2024-01-01: START looks at the end of 2023-12-31.
        v1 = figures(compute(V1, "2024", codes=["POP_START", "POP_END"]))
        v2 = figures(compute(V2, "2024", codes=["POP_START", "POP_END"]))
        assert (v1["POP_START"][0], v2["POP_START"][0]) == (7, 4)
        assert register["G"].id in records_behind("POP_START", V1, "2024")
        assert register["G"].id in records_behind("POP_END", V2, "2024")
        assert register["G"].id not in records_behind("POP_START", V2, "2024")

    def test_it_counts_a_death_on_the_last_day_and_not_the_dead_at_end(self, register):
        assert records_behind("DEATHS", COUNTY, "2024") == ids(register, "H")
        assert register["H"].id not in records_behind("POP_END", COUNTY, "2024")
        assert register["H"].id in records_behind("POP_START", COUNTY, "2024")
        # The month of December sees the death too; November does not.
        assert figures(compute(COUNTY, "202412", codes=["DEATHS"]))["DEATHS"] == (1, 1, None)
        assert figures(compute(COUNTY, "202411", codes=["DEATHS"]))["DEATHS"] == (0, 0, None)

    def test_it_counts_a_move_in_on_the_last_day_at_end(self, register):
        assert register["J"].id in records_behind("POP_END", V1, "2024")
        assert register["J"].id not in records_behind("POP_START", V1, "2024")

    def test_it_leaves_out_a_spell_that_ended_the_day_before_the_period(self, register):
        # I moved out on 2023-12-31: gone at the end of that day, so not in START.
        assert register["I"].id not in records_behind("POP_START", COUNTY, "2024")
        assert register["I"].id in records_behind("POP_START", COUNTY, "202312")

    def test_it_counts_a_method_stopped_on_the_last_day_as_in_use(self, register):
        # K stopped the pill on 2024-12-31: still using; O stopped the day before: not.
        behind = records_behind("CPR", COUNTY, "2024")
        assert register["K"].id in behind
        assert register["O"].id not in behind
        assert behind == ids(register, "ACKM")

    def test_it_counts_a_husbands_sterilisation_for_his_wife_once(self, register):
        assert records_behind("MCPR", COUNTY, "2024") == ids(register, "ACK")
        # D is not a married woman: he is never counted himself.
        assert register["D"].id not in records_behind("MCPR", COUNTY, "2024", "denominator")

    def test_it_leaves_a_woman_turning_50_on_the_last_day_out_of_end_stocks(self, register):
        # F is 49 on 2024-01-01 and 50 on 2024-12-31.
        women_start_and_end = records_behind("GFR", COUNTY, "2024", "denominator")
        assert register["F"].id in women_start_and_end
        assert register["F"].id not in records_behind("MWRA", COUNTY, "2024")
        # V1: women A C F G at START, A C at END: 1 birth / 3.0 * 1000.
        assert figures(compute(V1, "2024", codes=["GFR"]))["GFR"] == (333.33, 1, 3.0)

    def test_it_counts_a_girl_turning_15_on_the_last_day_in_the_end_stock(self, register):
        girl = person("F", "2009-12-31", V4)
        lives(girl, V4, "2009-12-31")
        store.rebuild()  # rows written by hand: the maintained figures made again
        # 14 on 2024-01-01, 15 on 2024-12-31: (0 + 1) / 2 women 15-49 in V4.
        assert figures(compute(V4, "2024", codes=["GFR"]))["GFR"] == (0.0, 0, 0.5)
        assert records_behind("GFR", V4, "2024", "denominator") == [girl.id]

    def test_it_counts_a_birth_where_the_mother_lives_in_another_township(self, register):
        assert records_behind("BIRTHS", T200, "2024") == ids(register, "R")
        assert records_behind("BIRTHS", T100, "2024") == ids(register, "E")

    def test_it_counts_marriages_on_the_last_day_and_divorces_on_it_as_over(self, register):
        assert records_behind("MARRIAGE_RATE", COUNTY, "2024") == ids(register, "KT")
        assert records_behind("MWRA", T200, "2024") == ids(register, "QT")

    def test_it_counts_parity_with_declared_and_recorded_births(self, register):
        assert records_behind("PARITY_0", COUNTY, "2024") == ids(register, "KOT")
        assert records_behind("PARITY_1", COUNTY, "2024") == ids(register, "AQ")
        assert records_behind("PARITY_2P", COUNTY, "2024") == ids(register, "CM")
        # In May, before E's and R's births, C has parity 1 and Q parity 0.
        assert records_behind("PARITY_1", COUNTY, "202405") == ids(register, "AC")

    def test_it_lists_both_stocks_behind_an_average(self, register):
        assert records_behind("POP_AVG", V1, "2024") == ids(register, "ABCDEFGHJ")

    def test_it_makes_a_handful_of_queries_for_every_village(
        self, register, django_assert_max_num_queries
    ):
        # Seven grouped counts (residents, women by age at START and at END, births,
        # births by mother's age, marriages, married women) and two org-unit look-ups.
        with counted_from_records(), django_assert_max_num_queries(9):
            compute(COUNTY, "2024", by="village")

    def test_it_gives_several_periods_and_levels_as_each_alone(self, register):
        many = compute_many(COUNTY, ["2024", "2024S1", "202403"], None, [None, "township"])
        assert list(many) == [
            ("2024", None),
            ("2024S1", None),
            ("202403", None),
            ("2024", "township"),
            ("2024S1", "township"),
            ("202403", "township"),
        ]
        assert figures(many["2024", None]) == COUNTY_2024
        assert [figures(r) for r in many["2024", "township"]] == [
            TOWNSHIP_100_2024,
            TOWNSHIP_200_2024,
        ]
        for period in ("2024S1", "202403"):
            assert many[period, None] == compute(COUNTY, period)
            assert many[period, "township"] == compute(COUNTY, period, by="township")

    def test_it_counts_every_period_in_the_same_scans(self, db, django_assert_num_queries):
        _register()
        store.rebuild()
        # One scan each, whatever the period, for residents with married women, births,
        # births by mother's age and marriages (4); one per day for the counts keyed or
        # based on a day: women by age on the first day (1 Jan, 1 Mar: 2), on the last
        # day (31 Dec, 30 Jun, 31 Mar: 3) and married women's parity on the last day (3);
        # and the two org-unit look-ups: 4 + 2 + 3 + 3 + 2 = 14, not 3 × 7 + 2 = 23.
        with counted_from_records(), django_assert_num_queries(14):
            counted = compute_many(COUNTY, ["2024", "2024S1", "202403"], None, [None, "village"])
        # Read from the maintained figures: the two look-ups, and for each level what the
        # cells hold and one read of them: 2 + 2 × 2 = 6.
        with django_assert_num_queries(6):
            kept = compute_many(COUNTY, ["2024", "2024S1", "202403"], None, [None, "village"])
        assert kept == counted


@pytest.mark.django_db
class TestOnDuckDB:
    """The same expressions, compiled to DuckDB's dialect and run over a copy of the
    register's tables, give the database's figures and records."""

    def test_it_gives_every_figure_as_the_database_does(self, register):
        codes = [i.code for i in ALL_INDICATORS]
        periods = ["2024", "2024S1", "202403", "202412"]
        here = compute_many(COUNTY, periods, codes, [None, "township", "village"])
        backend, con = duckdb_backend()
        with running_on(backend):
            there = compute_many(COUNTY, periods, codes, [None, "township", "village"])
            demographic = compute(COUNTY, "2024")
        con.close()
        assert there == here
        assert figures(demographic) == COUNTY_2024

    def test_it_lists_the_same_records(self, register):
        backend, con = duckdb_backend()
        with running_on(backend):
            assert records_behind("POP_AVG", V1, "2024") == ids(register, "ABCDEFGHJ")
            assert records_behind("CPR", COUNTY, "2024", "denominator") == records_behind(
                "MWRA", COUNTY, "2024"
            )
        con.close()


# ---------------------------------------------------------------------------
# Refusals


@pytest.mark.django_db
class TestRefusals:
    def test_it_refuses_an_org_unit_not_in_the_register(self, register):
        with pytest.raises(UserError, match="org unit 410399 is not in the register"):
            compute("410399", "2024")

    def test_it_refuses_a_breakdown_not_below_the_org_unit(self, register):
        with pytest.raises(UserError, match="410325100 is a township") as e:
            compute(T100, "2024", by="township")
        assert e.value.status == 2

    def test_it_refuses_a_denominator_of_a_count(self, register):
        with pytest.raises(UserError, match="BIRTHS has no denominator"):
            records_behind("BIRTHS", COUNTY, "2024", "denominator")


class TestWithoutDatabase:
    def test_it_refuses_an_unknown_period(self):
        with pytest.raises(UserError) as e:
            compute(COUNTY, "2024Q5")
        assert e.value.status == 1
        assert "2024Q5" in str(e.value)

    def test_it_refuses_an_unknown_code_listing_the_valid_ones(self):
        with pytest.raises(UserError) as e:
            select_indicators(["CBR", "XYZ"])
        message = str(e.value)
        assert message.startswith("indicator XYZ is not known; the valid codes are: POP_START, ")
        assert (
            "PARITY_2P, CHECKUP_RATE, SCREENING_COVERAGE, FOLLOWUP_RATE, EDUCATION_COVERAGE, "
            "SCREENING_PREVALENCE, BIRTH_REG_TIMELY, BENEFIT_PAID_RATE, CASE_CLOSURE_RATE, "
            "UNDER_REGISTRATION, UNSERVED_RATE, ENTRY_ERROR_RATE, HOME_BIRTHS, "
        ) in message
        assert message.endswith("METHOD_STOPS_OTHER.")

    def test_it_rounds_a_ratio_and_keeps_its_parts_exact(self):
        cbr = definitions.INDICATORS_BY_CODE["CBR"]
        assert cbr.result(2, 15.0) == {
            "code": "CBR",
            "value": 133.33,
            "numerator": 2,
            "denominator": 15.0,
            "unit": "per_mille",
        }
        assert cbr.result(0, 0.0)["value"] is None

    def test_it_reports_a_count_as_its_own_value(self):
        indicator = Indicator("X", "x", "x", Count(definitions.births_in), None, 1, "persons")
        assert indicator.result(7, None)["value"] == 7
        assert indicator.result(7.5, None)["value"] == 7.5

    def test_it_sums_age_specific_rates_skipping_ages_without_women(self):
        births, start, end = (
            Count(definitions.births_in),
            Count(definitions.women_15_49_at_start),
            Count(definitions.women_15_49_at_end),
        )
        tfr = TotalFertility(births=births, women_at_start=start, women_at_end=end)
        values = {
            births: {20: 2, 30: 1, 40: 1},  # births by mother's age
            start: {20: 3, 30: 0},  # women at START
            end: {20: 1, 30: 2},  # women at END; nobody aged 40
        }
        # 2 / 2 + 1 / 1 + (40: no women, 0) = 2 for a year; a month of 31 days: 2 * 366 / 31.
        assert tfr.evaluate(parse("2024"), values.__getitem__) == 2.0
        assert tfr.evaluate(parse("202403"), values.__getitem__) == pytest.approx(2 * 366 / 31)
