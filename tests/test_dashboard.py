"""The dashboard, the org-unit pages and the lists behind a figure, on the hand-built county.

The county of ``tests/data/handbuilt/`` (see its README and test_handbuilt_indicators.py,
where every 2024 figure is worked out by hand) is imported through the ``taizhang``
command. Users:

- alice: village worker of 东街村 A1 (410325100201)
- bob: township statistician of 城关镇 (410325100), A1's township
- charlie: village worker of 田湖村 B1 (410325101201), in the other township
- dana: county administrator of 嵩县 (410325)

Residents of A1 at the end of 2024 (age on 2024-12-31, five-year group):

    P01 李华   F 1974-03-10  50  50–54      P06 赵强   M 1993-04-19  31  30–34
    P02 王军   M 1971-11-02  53  50–54      P07 王秀英 F 2009-08-20  15  15–19
    P03 张伟   M 1988-06-12  36  35–39      P08 孙丽   F 1985-12-03  39  35–39
    P04 刘芳   F 1990-02-25  34  30–34      C05 赵子轩 M 2024-06-30   0   0–4
    P05 陈静   F 1995-07-08  29  25–29

    men 0–4, 30–34, 35–39, 50–54 one each (4); women 15–19, 25–29, 30–34, 35–39,
    50–54 one each (5); 9 in all = POP_END of A1.

Residents of B1 at the end of 2024:

    P14 郑浩 M 1997-02-14 27 25–29    P24 冯磊   M 1987-08-08 37 35–39
    P21 郭燕 F 1996-06-06 28 25–29    P25 曹琳   F 1994-10-10 30 30–34
    P22 宋涛 M 1992-02-02 32 30–34    P26 彭亮   M 1992-09-09 32 30–34
    P23 韩雪 F 1989-03-30 35 35–39    P27 杜秀兰 F 1948-12-12 76 75–79
    C23 冯可欣 F 2023-05-05 1 0–4     P13 吴婷   F 1998-11-11 26 25–29
    P28 谢飞 M 1990-08-18 34 30–34    P29 潘玉   F 1992-12-24 32 30–34

    men 25–29 1, 30–34 3, 35–39 1 (5); women 0–4 1, 25–29 2, 30–34 2, 35–39 1,
    75–79 1 (7); 12 in all.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from taizhang import clock
from taizhang.accounts.models import Profile, Role
from taizhang.audit.models import AuditEntry
from taizhang.indicators.engine import compute
from taizhang.indicators.structure import population_pyramid
from taizhang.register.models import Person
from taizhang.web.views import dashboard

COUNTY, T100, T101 = "410325", "410325100", "410325101"
A1, A2, B1, B2 = "410325100201", "410325100202", "410325101201", "410325101202"


# ---------------------------------------------------------------------------
# Fixtures


@pytest.fixture
def county(hand_built_county):
    """The hand-built county, imported through the command."""


def make_user(username: str, org: str, role: str):
    user = get_user_model().objects.create_user(username, password="pw-" + username)
    Profile.objects.create(user=user, org_unit_id=org, role=role)
    return user


@pytest.fixture
def users(county):
    return {
        "alice": make_user("alice", A1, Role.VILLAGE_WORKER),
        "bob": make_user("bob", T100, Role.TOWNSHIP_STATISTICIAN),
        "charlie": make_user("charlie", B1, Role.VILLAGE_WORKER),
        "dana": make_user("dana", COUNTY, Role.COUNTY_ADMIN),
    }


@pytest.fixture
def login(client, users):
    """Log a user in by name (with their password, as a person would)."""

    def as_user(name: str):
        assert client.login(username=name, password="pw-" + name)
        return client

    return as_user


def cards(response) -> dict:
    return {c["code"]: c["raw"] for c in response.context["cards"]}


def values(result: dict) -> dict:
    return {e["code"]: e["value"] for e in result["indicators"]}


def person_id(name: str) -> int:
    return Person.objects.get(name=name).pk


# ---------------------------------------------------------------------------
# The dashboard: cards


@pytest.mark.django_db
class TestCards:
    @pytest.mark.parametrize(
        ("name", "org"), [("alice", A1), ("bob", T100), ("charlie", B1), ("dana", COUNTY)]
    )
    def test_it_shows_the_engines_figures_for_the_users_org(self, login, name, org):
        response = login(name).get("/", {"period": "2024"})
        assert response.status_code == 200
        assert response.context["unit"].code == org
        expected = values(compute(org, "2024", list(dashboard.CARD_CODES)))
        assert cards(response) == expected

    def test_it_shows_the_county_figures_worked_out_by_hand(self, login):
        shown = cards(login("dana").get("/", {"period": "2024"}))
        assert shown["POP_END"] == 32
        assert shown["BIRTHS"] == 5
        assert shown["CBR"] == 163.93
        assert shown["CDR"] == 65.57
        assert shown["SRB"] == 150.0
        assert shown["TFR"] == 6.0
        assert shown["MWRA"] == 10
        assert shown["CPR"] == 70.0
        assert shown["MCPR"] == 60.0
        assert shown["FACILITY_DELIVERY"] == 80.0
        assert shown["BIRTH_ORDER_2"] == 40.0

    def test_it_shows_numerator_and_denominator_with_links_to_the_records(self, login):
        response = login("alice").get("/", {"period": "2024"})
        cbr = next(c for c in response.context["cards"] if c["code"] == "CBR")
        # A1 2024: 1 birth over an average population of (9 + 9) / 2.
        assert (cbr["value"], cbr["numerator"], cbr["denominator"]) == ("111.11", "1", "9")
        assert cbr["numerator_url"] == f"/figures/CBR/{A1}/2024/numerator/"
        assert cbr["denominator_url"] == f"/figures/CBR/{A1}/2024/denominator/"
        pop = next(c for c in response.context["cards"] if c["code"] == "POP_END")
        assert pop["denominator_url"] == ""
        assert f'href="/figures/CBR/{A1}/2024/numerator/"'.encode() in response.content

    def test_it_defaults_to_the_last_full_year(self, login):
        response = login("dana").get("/")
        assert response.context["period"].code == str(clock.today().year - 1)

    @pytest.mark.parametrize(
        ("typed", "code", "pop_end"),
        [("2024S1", "2024S1", 33), ("2024q3", "2024Q3", 31), ("202407", "202407", 33)],
    )
    def test_it_reads_every_kind_of_period_code(self, login, typed, code, pop_end):
        # County END: 2024-06-30 33 (test_handbuilt_indicators); 2024-07-31 the same (no
        # event in July); 2024-09-30 less P20 (moved out 08-01) and P09 (died 09-15) = 31.
        response = login("dana").get("/", {"period": typed})
        assert response.status_code == 200
        assert response.context["period"].code == code
        assert cards(response)["POP_END"] == pop_end

    def test_it_says_what_is_wrong_with_a_bad_period(self, login):
        response = login("dana").get("/", {"period": "2024Q5"})
        assert response.status_code == 400
        assert "2024Q5" in response.context["error"]
        assert "cards" not in response.context

    def test_it_shows_a_sub_unit_inside_the_users_area_when_asked(self, login):
        response = login("bob").get("/", {"org": A2, "period": "2024"})
        assert response.status_code == 200
        assert cards(response)["POP_END"] == 11  # A2 at the end of 2024


# ---------------------------------------------------------------------------
# The dashboard: trend, ranking, pyramid


@pytest.mark.django_db
class TestTrend:
    def test_it_charts_the_last_six_years_with_one_engine_call_per_year(self, login, monkeypatch):
        calls = []
        real = dashboard.compute

        def spy(org, period, codes=None, by=None):
            calls.append((org, period, by))
            return real(org, period, codes, by=by)

        monkeypatch.setattr(dashboard, "compute", spy)
        response = login("dana").get("/", {"period": "2024", "section": "trend"})
        assert response.status_code == 200
        assert response.context["years"] == [2019, 2020, 2021, 2022, 2023, 2024]
        assert sorted(calls) == [(COUNTY, str(y), None) for y in range(2019, 2025)]

    def test_it_draws_each_year_as_the_engine_computes_it(self, login):
        response = login("dana").get("/", {"period": "2024", "section": "trend"})
        series = {
            s["code"]: s["data"]
            for chart in response.context["charts"]
            for s in chart["spec"]["series"]
        }
        for i, year in enumerate(range(2019, 2025)):
            expected = values(compute(COUNTY, str(year), list(dashboard.CARD_CODES)))
            assert {code: data[i] for code, data in series.items()} == {
                code: expected[code] for code in series
            }
        # The end of 2023 is the start of 2024: 29 residents, then 32.
        assert series["POP_END"][-2:] == [29, 32]
        assert series["CBR"][-1] == 163.93


@pytest.mark.django_db
class TestRanking:
    def test_it_ranks_the_townships_of_the_county_by_value(self, login):
        response = login("dana").get("/", {"period": "2024", "section": "ranking"})
        rows = response.context["rows"]
        # CBR 2024: 城关镇 205.13, 田湖镇 90.91.
        assert [(r["rank"], r["org"], r["raw"]) for r in rows] == [
            (1, T100, 205.13),
            (2, T101, 90.91),
        ]
        assert [r["population"] for r in rows] == ["20", "12"]

    def test_it_ranks_by_the_chosen_indicator(self, login):
        response = login("dana").get(
            "/", {"period": "2024", "section": "ranking", "indicator": "cdr"}
        )
        # CDR 2024: 田湖镇 90.91 (C25), 城关镇 51.28 (P09).
        assert [r["org"] for r in response.context["rows"]] == [T101, T100]

    def test_it_gives_equal_values_the_same_rank_in_code_order(self, login):
        response = login("dana").get(
            "/", {"period": "2024", "section": "ranking", "indicator": "MCPR"}
        )
        # MCPR 2024: 3 of 5 in 城关镇 and 3 of 5 in 田湖镇.
        rows = response.context["rows"]
        assert [(r["rank"], r["org"], r["raw"]) for r in rows] == [(1, T100, 60.0), (1, T101, 60.0)]

    def test_it_ranks_the_villages_of_a_township_with_no_value_last(self, login):
        response = login("bob").get(
            "/", {"period": "2024", "section": "ranking", "indicator": "SRB"}
        )
        # SRB 2024: A2 1 boy / 2 girls = 50; A1 has no girl, so no ratio.
        rows = response.context["rows"]
        assert [(r["rank"], r["org"], r["raw"]) for r in rows] == [(1, A2, 50.0), (None, A1, None)]

    def test_it_says_what_is_wrong_with_an_unknown_indicator(self, login):
        response = login("dana").get(
            "/", {"period": "2024", "section": "ranking", "indicator": "XYZ"}
        )
        assert response.status_code == 400
        assert "XYZ" in response.context["error"]

    def test_it_gives_a_village_worker_no_ranking(self, login):
        page = login("alice").get("/", {"period": "2024"})
        assert page.context["has_children"] is False
        assert b'id="ranking"' not in page.content
        part = login("alice").get("/", {"period": "2024", "section": "ranking"})
        assert part.context["rows"] == []


@pytest.mark.django_db
class TestPyramid:
    def test_it_counts_each_sex_and_age_group_as_worked_out_by_hand(self, county):
        result = population_pyramid(A1, "2024")
        counted = {
            g["label"]: (g["male"], g["female"])
            for g in result["groups"]
            if g["male"] or g["female"]
        }
        assert counted == {
            "0–4": (1, 0),
            "15–19": (0, 1),
            "25–29": (0, 1),
            "30–34": (1, 1),
            "35–39": (1, 1),
            "50–54": (1, 1),
        }
        assert (result["male"], result["female"], result["total"]) == (4, 5, 9)
        assert result["date"] == "2024-12-31"

    def test_it_lists_every_group_and_ends_with_the_open_one(self, county):
        groups = population_pyramid(B1, "2024")["groups"]
        assert len(groups) == 18
        assert groups[0]["label"] == "0–4" and groups[-1]["label"] == "85+"
        assert groups[-1]["high"] is None

    def test_it_counts_the_other_township_by_hand(self, county):
        result = population_pyramid(B1, "2024")
        counted = {
            g["low"]: (g["male"], g["female"]) for g in result["groups"] if g["male"] or g["female"]
        }
        assert counted == {0: (0, 1), 25: (1, 2), 30: (3, 2), 35: (1, 1), 75: (0, 1)}
        assert result["total"] == 12

    def test_it_takes_ages_on_the_last_day_of_the_period(self, county):
        # End of 2024S1 (2024-06-30) in A1: P09 周斌 (M 1983-01-30, 41) still alive; C05 born
        # that day (0); P05 陈静 (1995-07-08) still 28; P01 李华 (1974-03-10) already 50.
        result = population_pyramid(A1, "2024S1")
        by_low = {g["low"]: (g["male"], g["female"]) for g in result["groups"]}
        assert by_low[40] == (1, 0)
        assert by_low[0] == (1, 0)
        assert by_low[25] == (0, 1)
        assert by_low[50] == (1, 1)
        assert result["total"] == 10

    def test_it_takes_other_group_widths(self, county):
        result = population_pyramid(B1, "2024", width=10, open_age=70)
        by_low = {g["low"]: (g["male"], g["female"]) for g in result["groups"]}
        assert by_low[20] == (1, 2)  # P14 27; P21 28, P13 26
        assert by_low[30] == (4, 3)  # P22 P24 P26 P28; P23 P25 P29
        assert by_low[70] == (0, 1)  # P27 76, in the open group 70+

    def test_it_totals_the_engines_end_population(self, county):
        for org in (COUNTY, T100, T101, A1, A2, B1, B2):
            pop_end = values(compute(org, "2024", ["POP_END"]))["POP_END"]
            assert population_pyramid(org, "2024")["total"] == pop_end

    def test_it_is_shown_on_the_dashboard(self, login):
        response = login("alice").get("/", {"period": "2024", "section": "pyramid"})
        assert response.status_code == 200
        assert response.context["chart"]["male"][0] == 1  # C05, 0–4
        assert response.context["chart"]["female"][3] == 1  # P07, 15–19
        assert sum(response.context["chart"]["male"]) == 4


# ---------------------------------------------------------------------------
# Caching: nothing stale


@pytest.mark.django_db
class TestFreshness:
    def test_it_serves_the_same_figures_from_the_cache_without_computing_again(
        self, login, monkeypatch
    ):
        client = login("dana")
        client.get("/", {"period": "2024"})
        calls = []
        monkeypatch.setattr(dashboard, "compute", lambda *a, **k: calls.append(a))
        response = client.get("/", {"period": "2024"})
        assert calls == []
        assert cards(response)["POP_END"] == 32

    def test_it_shows_a_new_event_at_once(self, login, taizhang, tmp_path):
        client = login("dana")
        assert cards(client.get("/", {"period": "2024"}))["CDR"] == 65.57  # 2 / 30.5
        # P27 杜秀兰 (B1) dies on 2024-06-01.
        events = tmp_path / "death.csv"
        events.write_text("id_number,event,date\n410325194812120584,death,2024-06-01\n")
        result = taizhang("import", events, "--kind", "events")
        assert result.exit_code == 0, result.output
        shown = cards(client.get("/", {"period": "2024"}))
        assert shown["POP_END"] == 31
        assert shown["CDR"] == 100.0  # 3 deaths / ((29 + 31) / 2) * 1000
        ranking = client.get("/", {"period": "2024", "section": "ranking", "indicator": "DEATHS"})
        assert [(r["org"], r["raw"]) for r in ranking.context["rows"]] == [(T101, 2), (T100, 1)]

    def test_it_shows_a_new_person_at_once(self, login, taizhang, tmp_path):
        client = login("alice")
        assert cards(client.get("/", {"period": "2024"}))["POP_END"] == 9
        persons = tmp_path / "person.csv"
        persons.write_text("id_number,name,sex,village\n410325196001010014,周新,M,410325100201\n")
        result = taizhang("import", persons, "--kind", "persons")
        assert result.exit_code == 0, result.output
        assert cards(client.get("/", {"period": "2024"}))["POP_END"] == 10


# ---------------------------------------------------------------------------
# The org-unit tree


@pytest.mark.django_db
class TestOrgUnit:
    def test_it_lists_the_children_with_their_figures_in_one_engine_call(self, login, monkeypatch):
        calls = []
        real = dashboard.compute

        def spy(org, period, codes=None, by=None):
            calls.append((org, by))
            return real(org, period, codes, by=by)

        monkeypatch.setattr(dashboard, "compute", spy)
        response = login("dana").get(f"/org/{COUNTY}/", {"period": "2024"})
        assert response.status_code == 200
        rows = response.context["children"]
        assert [r["unit"].code for r in rows] == [T100, T101]
        pops = [{i["code"]: i["raw"] for i in r["items"]}["POP_END"] for r in rows]
        assert pops == [20, 12]
        assert [c for c in calls if c[1] is not None] == [(COUNTY, "township")]

    def test_it_shows_the_units_own_figures(self, login):
        response = login("bob").get(f"/org/{T100}/", {"period": "2024"})
        own = {i["code"]: i["raw"] for i in response.context["own"]}
        assert own == {
            code: v for code, v in values(compute(T100, "2024", list(dashboard.ORG_CODES))).items()
        }
        assert own["POP_END"] == 20 and own["BIRTHS"] == 4

    def test_it_shows_the_parent_chain_within_the_users_area(self, login):
        bob = login("bob").get(f"/org/{A1}/", {"period": "2024"})
        assert [u.code for u in bob.context["chain"]] == [T100]
        dana = login("dana").get(f"/org/{A1}/", {"period": "2024"})
        assert [u.code for u in dana.context["chain"]] == [COUNTY, T100]

    def test_it_shows_a_village_without_children(self, login):
        response = login("alice").get(f"/org/{A1}/", {"period": "2024"})
        assert response.status_code == 200
        assert response.context["chain"] == []
        assert response.context["children"] == []

    def test_it_lists_an_empty_village_with_zeros(self, login):
        response = login("dana").get(f"/org/{T101}/", {"period": "2024"})
        b2 = next(r for r in response.context["children"] if r["unit"].code == B2)
        figures = {i["code"]: i["raw"] for i in b2["items"]}
        assert figures["POP_END"] == 0 and figures["CBR"] is None

    def test_it_says_what_is_wrong_with_a_bad_period(self, login):
        response = login("dana").get(f"/org/{COUNTY}/", {"period": "24"})
        assert response.status_code == 400
        assert "24" in response.context["error"]


# ---------------------------------------------------------------------------
# The persons behind a figure


@pytest.mark.django_db
class TestRecords:
    def test_it_lists_the_children_born_in_a_village(self, login):
        response = login("alice").get(f"/figures/BIRTHS/{A1}/2024/numerator/")
        assert response.status_code == 200
        assert [r["name"] for r in response.context["rows"]] == ["赵子轩"]

    def test_it_lists_the_births_of_a_township(self, login):
        response = login("bob").get(f"/figures/CBR/{T100}/2024/numerator/")
        names = sorted(r["name"] for r in response.context["rows"])
        assert names == sorted(["赵子轩", "杨欣怡", "杨欣然", "何雨桐"])
        assert response.context["count"] == 4

    def test_it_lists_everyone_behind_an_average_population_once(self, login):
        response = login("alice").get(f"/figures/CBR/{A1}/2024/denominator/")
        # START P01..P09, END P01..P08 and C05: ten persons.
        names = {r["name"] for r in response.context["rows"]}
        assert names == {
            "李华",
            "王军",
            "张伟",
            "刘芳",
            "陈静",
            "赵强",
            "王秀英",
            "孙丽",
            "周斌",
            "赵子轩",
        }

    def test_it_leaves_out_persons_who_now_live_outside_the_users_area(self, login):
        # 城关镇 at the start of 2024: 19 residents, among them P13 吴婷, who has lived in
        # 田湖村 (B1) since 2024-05-01, outside bob's township.
        response = login("bob").get(f"/figures/POP_START/{T100}/2024/numerator/")
        names = {r["name"] for r in response.context["rows"]}
        assert len(names) == 18
        assert "吴婷" not in names
        assert response.context["outside"] == 1

    def test_it_pages_through_a_long_list(self, login, monkeypatch):
        monkeypatch.setattr(dashboard, "PAGE_SIZE", 5)
        client = login("dana")
        everyone = sorted(Person.objects.values_list("pk", flat=True))
        response = client.get(f"/figures/POP_END/{COUNTY}/2024/numerator/", {"page": 2})
        assert response.context["count"] == 32
        assert response.context["page"].paginator.num_pages == 7
        ids = [r["pk"] for r in response.context["rows"]]
        behind = sorted(
            p for p in everyone if p in set(dashboard.records_behind("POP_END", COUNTY, "2024"))
        )
        assert ids == behind[5:10]

    def test_it_links_each_name_to_the_persons_record(self, login):
        response = login("alice").get(f"/figures/BIRTHS/{A1}/2024/numerator/")
        pk = person_id("赵子轩")
        assert f'href="/people/{pk}/"'.encode() in response.content

    def test_it_never_shows_id_numbers(self, login):
        response = login("dana").get(f"/figures/POP_END/{COUNTY}/2024/numerator/")
        assert b"410325197403100121" not in response.content  # P01's ID number

    def test_it_records_who_listed_whom(self, login):
        login("alice").get(f"/figures/BIRTHS/{A1}/2024/numerator/")
        entry = AuditEntry.objects.get(action="records_view")
        assert entry.user.username == "alice"
        assert (entry.object_id, entry.org_code) == ("BIRTHS", A1)
        assert entry.detail["persons"] == [person_id("赵子轩")]
        assert entry.detail["period"] == "2024" and entry.detail["part"] == "numerator"

    @pytest.mark.parametrize(
        ("url", "word"),
        [
            (f"/figures/XYZ/{A1}/2024/numerator/", "XYZ"),
            (f"/figures/CBR/{A1}/2024Q9/numerator/", "2024Q9"),
            (f"/figures/CBR/{A1}/2024/numerators/", "numerators"),
            (f"/figures/POP_END/{A1}/2024/denominator/", "POP_END"),
        ],
    )
    def test_it_says_what_is_wrong_with_a_bad_request(self, login, url, word):
        response = login("alice").get(url)
        assert response.status_code == 400
        assert word in response.context["error"]
        assert not AuditEntry.objects.filter(action="records_view").exists()


# ---------------------------------------------------------------------------
# Helpers


class TestHelpers:
    def test_it_formats_figures_for_people(self):
        assert dashboard.number(None) == "—"
        assert dashboard.number(542000) == "542,000"
        assert dashboard.number(30.5) == "30.5"
        assert dashboard.number(15.0) == "15"
        assert dashboard.number(163.93) == "163.93"

    def test_it_defaults_to_the_year_before_today(self):
        assert dashboard.default_period(dt.date(2025, 1, 1)) == "2024"
        assert dashboard.default_period(dt.date(2025, 12, 31)) == "2024"

    def test_it_takes_six_years_ending_with_the_periods(self):
        from taizhang.lib.periods import parse

        assert dashboard.trend_years(parse("2024Q3")) == [2019, 2020, 2021, 2022, 2023, 2024]
