"""The projection page (/projection/) for a township statistician of the hand-built
county: the figures are the command's, drawn as a pyramid by year and lines by scenario."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from helpers import make_user

from taizhang.accounts.models import Role

pytestmark = pytest.mark.django_db

T100 = "410325100"


@pytest.fixture
def tom(hand_built_county):
    return make_user("tom", Role.TOWNSHIP_STATISTICIAN, T100)


def test_it_shows_the_projection_of_the_users_township(client, tom, taizhang):
    client.force_login(tom)
    r = client.get(reverse("projection:home") + "?base_year=2024&years=4")
    assert r.status_code == 200
    report = r.context["report"]
    assert (report["org"], report["base_year"]) == (T100, 2024)
    # 城关镇 at the end of 2024: 东街村 9 + 西街村 11 residents.
    assert report["base"]["total"] == 20
    assert [s["name"] for s in report["scenarios"]] == ["medium", "low", "high", "zero-migration"]
    # The command prints the same figures.
    printed = taizhang(
        "project", "--org", T100, "--base-year", "2024", "--years", "4", "--scenarios", "all",
        "--by-age", "--format", "json",
    )  # fmt: skip
    assert json.loads(printed.output)["scenarios"] == report["scenarios"]

    html = r.content.decode()
    pyramid = r.context["charts"]["pyramid"]
    # The base year and four more; ages 0 … 85+; one pyramid per scenario.
    assert pyramid["years"] == [2024, 2025, 2026, 2027, 2028]
    assert pyramid["groups"][0] == "0" and pyramid["groups"][-1] == "85+"
    assert len(pyramid["scenarios"]) == 4
    medium = pyramid["scenarios"][0]
    # At the end of 2024: two girls and two boys of 0 (杨欣怡, 何雨桐; 赵子轩, 杨欣然).
    assert (medium["female"][0][0], medium["male"][0][0]) == (2.0, 2.0)
    assert 'data-projection-pyramid="pyramid-data"' in html
    assert 'id="pyramid-data"' in html and "projection/pyramid.js" in html
    assert "taizhang/echarts.min.js" in html
    lines = {c["id"]: c["spec"] for c in r.context["charts"]["lines"]}
    assert [s["name"] for s in lines["births-chart"]["series"]] == [
        "Medium", "Low fertility", "High fertility", "Zero migration",
    ]  # fmt: skip
    assert lines["births-chart"]["years"] == [2025, 2026, 2027, 2028]
    assert lines["women-chart"]["series"][0]["data"][0] == report["base"]["women_15_49"]
    # Every assumption is on the page.
    for text in report["assumptions"]:
        assert text.replace("'", "&#x27;") in html


def test_it_says_what_is_wrong_with_the_request(client, tom):
    client.force_login(tom)
    r = client.get(reverse("projection:home") + "?base_year=2099")
    assert r.status_code == 400
    assert "The base year must lie between 1950 and" in r.content.decode()
    r = client.get(reverse("projection:home") + "?years=many")
    assert r.status_code == 400
    assert "The years must be a whole number, not many." in r.content.decode()


def test_another_townships_unit_answers_404(client, tom):
    client.force_login(tom)
    assert client.get(reverse("projection:home") + "?org=410325101").status_code == 404
    assert client.get(reverse("projection:home") + "?org=410325101201").status_code == 404
