"""``taizhang indicators``: formats, options and refusals, on a one-township register.

Org units: county 410325, township 410325100, villages V1 = 410325100201 and
V2 = 410325100202. In 2024:

    V1  W  F 1990-01-01, married to H since 2015, IUD since 2020; son born 2024-05-01
           (order 1, facility)
        H  M 1988-01-01
    V2  X  M 1960-01-01, dies 2024-03-01

START (end of 2023-12-31): W H (V1) + X (V2) = 3; END: W H and the son (V1) = 3.
Births 1, deaths 1, AVG 3.0: CBR = 1 / 3 * 1000 = 333.33, CDR the same.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import typer
from typer.testing import CliRunner

from taizhang import clock
from taizhang.figures import store
from taizhang.indicators.cli import register
from taizhang.indicators.definitions import ALL_INDICATORS
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

COUNTY, TOWNSHIP = "410325", "410325100"
V1, V2 = "410325100201", "410325100202"

runner = CliRunner()


def make_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """taizhang"""

    register(app)
    return app


def run(*args: str):
    return runner.invoke(make_app(), ["indicators", *args])


def person(n: int, sex: str, birth: dt.date, village: str) -> Person:
    p = Person.objects.create(
        name=f"p{n}",
        sex=sex,
        birth_date=birth,
        id_cipher=b"x",
        id_index=f"cli{n}",
        village_id=village,
        hukou_village=village,
    )
    return p


def ymd(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


@pytest.fixture
def county(db):
    OrgUnit.objects.create(code=COUNTY, name="某县", level=3)
    OrgUnit.objects.create(code=TOWNSHIP, name="城关镇", level=4, parent_id=COUNTY)
    OrgUnit.objects.create(code=V1, name="东街村", level=5, parent_id=TOWNSHIP)
    OrgUnit.objects.create(code=V2, name="西街村", level=5, parent_id=TOWNSHIP)

    w = person(1, "F", dt.date(1990, 1, 1), V1)
    h = person(2, "M", dt.date(1988, 1, 1), V1)
    x = person(3, "M", dt.date(1960, 1, 1), V2)
    son = person(4, "M", dt.date(2024, 5, 1), V1)
    for p, village, start, end, reason in [
        (w, V1, 19900101, OPEN_END, ""),
        (h, V1, 19880101, OPEN_END, ""),
        (x, V2, 19600101, 20240301, "death"),
        (son, V1, 20240501, OPEN_END, ""),
    ]:
        ResidenceSpell.objects.create(
            person=p,
            village=village,
            start=start,
            end=end,
            end_reason=reason,
            sex=p.sex,
            birth=ymd(p.birth_date),
        )
    UnionSpell.objects.create(
        person=w, spouse=h, start=20150101, counts_marriage=True, village_at_start=V1
    )
    UnionSpell.objects.create(person=h, spouse=w, start=20150101)
    MethodSpell.objects.create(person=w, method="iud", start=20200101)
    event = Event.objects.create(
        person=w,
        kind="birth",
        date=dt.date(2024, 5, 1),
        child=son,
        delivery_place="facility",
        recorded_at=clock.now(),
    )
    BirthFact.objects.create(
        event=event,
        mother=w,
        child=son,
        date=20240501,
        village=V1,
        sex="M",
        birth_order=1,
        mother_age=34,
        delivery_place="facility",
        recorded=20240501,
    )
    store.rebuild()  # rows written by hand: the maintained figures made from them


@pytest.mark.django_db
class TestSeveralPeriods:
    def test_a_year_with_all_gives_the_year_its_halves_quarters_and_months(self, county):
        r = run("--org", COUNTY, "--period", "2024:all", "--indicator", "POP_END")
        assert r.exit_code == 0, r.output
        results = json.loads(r.stdout)
        assert [x["period"] for x in results] == [
            "2024", "2024S1", "2024S2", "2024Q1", "2024Q2", "2024Q3", "2024Q4",
            *(f"2024{m:02d}" for m in range(1, 13)),
        ]  # fmt: skip
        end = {x["period"]: x["indicators"][0]["value"] for x in results}
        # w, h and x until x dies on 1 March; the son from 1 May.
        assert (end["202402"], end["202403"], end["202404"], end["202405"]) == (3, 2, 2, 3)
        assert (end["2024Q1"], end["2024S1"], end["2024"]) == (2, 3, 3)

    def test_periods_come_in_the_order_given_each_once(self, county):
        r = run(
            "--org", COUNTY, "--period", "202405", "--period", "2024Q1", "--period", "202405",
            "--indicator", "BIRTHS", "--by", "village", "--format", "json",
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        first, second = json.loads(r.stdout)
        assert [(x["org"], x["period"], x["indicators"][0]["value"]) for x in first] == [
            (V1, "202405", 1),
            (V2, "202405", 0),
        ]
        assert [x["indicators"][0]["value"] for x in second] == [0, 0]

    def test_all_indicators_are_every_one_in_the_order_of_the_definitions(self, county):
        r = run("--org", COUNTY, "--period", "2024", "--indicator", "all", "--format", "csv")
        assert r.exit_code == 0, r.output
        codes = [line.split(",")[3] for line in r.stdout.splitlines()[1:]]
        assert codes == [i.code for i in ALL_INDICATORS]

    def test_a_year_with_something_else_than_all_is_refused_with_a_sentence(self, county):
        r = run("--org", COUNTY, "--period", "2024:al")
        assert r.exit_code == 1
        assert "2024:al is not a valid period code" in r.output
        assert "Traceback" not in r.output

    def test_all_needs_a_year(self, county):
        r = run("--org", COUNTY, "--period", "2024Q1:all")
        assert r.exit_code == 1
        assert "a year followed by :all" in r.output


@pytest.mark.django_db
class TestIndicatorsCommand:
    def test_it_prints_the_contract_json(self, county):
        r = run("--org", COUNTY, "--period", "2024", "--indicator", "CBR", "--format", "json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout) == {
            "org": COUNTY,
            "period": "2024",
            "indicators": [
                {
                    "code": "CBR",
                    "value": 333.33,
                    "numerator": 1,
                    "denominator": 3.0,
                    "unit": "per_mille",
                }
            ],
        }
        assert r.stdout.startswith('{\n  "org": "410325",')

    def test_it_prints_json_when_the_output_is_not_a_terminal(self, county):
        r = run("--org", V1, "--period", "2024", "--indicator", "BIRTHS")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["indicators"][0]["value"] == 1

    def test_it_takes_several_codes_repeated_or_with_commas(self, county):
        r = run(
            "--org", COUNTY, "--period", "2024", "--indicator", "CDR,BIRTHS", "--indicator", "cpr"
        )
        assert r.exit_code == 0, r.output
        codes = [i["code"] for i in json.loads(r.stdout)["indicators"]]
        assert codes == ["BIRTHS", "CDR", "CPR"]

    def test_it_prints_a_list_by_village(self, county):
        r = run("--org", COUNTY, "--period", "2024", "--by", "village", "--indicator", "DEATHS")
        assert r.exit_code == 0, r.output
        data = json.loads(r.stdout)
        assert [(d["org"], d["indicators"][0]["value"]) for d in data] == [(V1, 0), (V2, 1)]

    def test_it_prints_csv_with_names(self, county):
        r = run(
            "--org", TOWNSHIP, "--period", "2024", "--by", "village",
            "--indicator", "CBR", "--indicator", "POP_END", "--format", "csv",
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        rows = list(csv.reader(io.StringIO(r.stdout)))
        assert rows == [
            [
                "org",
                "org_name",
                "period",
                "code",
                "name",
                "value",
                "numerator",
                "denominator",
                "unit",
            ],
            [V1, "东街村", "2024", "POP_END", "期末人口", "3", "3", "", "persons"],
            [V1, "东街村", "2024", "CBR", "人口出生率", "400.0", "1", "2.5", "per_mille"],
            [V2, "西街村", "2024", "POP_END", "期末人口", "0", "0", "", "persons"],
            [V2, "西街村", "2024", "CBR", "人口出生率", "0.0", "0", "0.5", "per_mille"],
        ]

    def test_it_prints_a_table(self, county):
        r = run("--org", COUNTY, "--period", "2024", "--indicator", "MWRA", "--format", "table")
        assert r.exit_code == 0, r.output
        assert "MWRA" in r.stdout
        assert "已婚育龄妇女数" in r.stdout
        assert "410325 某县 · 2024" in r.stdout

    def test_it_prints_one_row_per_org_unit_in_a_table_by_village(self, county):
        r = run(
            "--org", COUNTY, "--period", "2024", "--by", "village",
            "--indicator", "DEATHS", "--format", "table",
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        lines = [line for line in r.stdout.splitlines() if V1 in line or V2 in line]
        assert len(lines) == 2
        assert lines[0].split("│")[3].strip() == "0"
        assert lines[1].split("│")[3].strip() == "1"

    def test_it_refuses_an_unknown_org_unit(self, county):
        r = run("--org", "410399", "--period", "2024")
        assert r.exit_code == 1
        assert r.stderr.strip() == "org unit 410399 is not in the register."
        assert r.stdout == ""

    def test_it_refuses_an_unknown_indicator(self, county):
        r = run("--org", COUNTY, "--period", "2024", "--indicator", "CBRX")
        assert r.exit_code == 1
        assert r.stderr.startswith("indicator CBRX is not known; the valid codes are: POP_START,")

    def test_it_refuses_a_bad_period(self, county):
        r = run("--org", COUNTY, "--period", "2024-13")
        assert r.exit_code == 1
        assert "2024-13" in r.stderr
        assert "Traceback" not in r.output

    def test_it_refuses_a_breakdown_that_is_not_below_the_org_unit(self, county):
        r = run("--org", V1, "--period", "2024", "--by", "village")
        assert r.exit_code == 2
        assert "410325100201 is a village" in r.stderr

    def test_it_refuses_an_unknown_level_as_a_usage_error(self, county):
        r = run("--org", COUNTY, "--period", "2024", "--by", "street")
        assert r.exit_code == 2

    def test_it_refuses_a_missing_period_as_a_usage_error(self, county):
        r = run("--org", COUNTY)
        assert r.exit_code == 2
