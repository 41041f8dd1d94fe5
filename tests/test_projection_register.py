"""Projection inputs measured from the register (``taizhang.projection.register``), on the
hand-built county (tests/data/handbuilt/README.md), base year 2024: the window of rates is
2022-2024 and the base population is counted at the end of 31 December 2024."""

from __future__ import annotations

import numpy as np
import pytest

from taizhang.errors import UserError
from taizhang.projection.register import measure, register_inputs

pytestmark = pytest.mark.django_db

COUNTY, T100, T101 = "410325", "410325100", "410325101"
F, M = 0, 1


def _cells(counts: np.ndarray) -> dict[tuple[str, int], float]:
    """The non-zero (sex, age) cells of a (2, age) array."""
    sexes, ages = np.nonzero(counts)
    return {
        ("FM"[sex], int(age)): float(counts[sex, age]) for sex, age in zip(sexes, ages, strict=True)
    }


def test_the_base_population_by_sex_and_single_year_of_age(hand_built_county):
    # The 32 residents at the end of 2024 and their ages that day (README):
    # women: 李华 50, 刘芳 34, 陈静 29, 王秀英 15, 孙丽 39, 黄敏 32, 杨欣怡 0, 吴婷 26, 马丽娟 37,
    # 何雨桐 0, 林娜 33, 徐梅 31, 田甜 24, 郭燕 28, 韩雪 35, 冯可欣 1, 曹琳 30, 杜秀兰 76, 潘玉 32;
    # men: 王军 53, 张伟 36, 赵强 31, 赵子轩 0, 杨欣然 0, 杨帆 34, 何勇 39, 高峰 35, 郑浩 27,
    # 宋涛 32, 冯磊 37, 彭亮 32, 谢飞 34. (Died: 王德胜, 周斌, 彭乐; moved out: 钱进, 罗刚, 蒋芸.)
    m = measure([COUNTY, T100], 2024)
    women = [50, 34, 29, 15, 39, 32, 0, 26, 37, 0, 33, 31, 24, 28, 35, 1, 30, 76, 32]
    men = [53, 36, 31, 0, 0, 34, 39, 35, 27, 32, 37, 32, 34]
    expected: dict[tuple[str, int], float] = {}
    for sex, ages in (("F", women), ("M", men)):
        for age in ages:
            expected[(sex, age)] = expected.get((sex, age), 0) + 1
    assert _cells(m[COUNTY].population) == expected
    assert m[COUNTY].population.sum() == 32  # POP_END of 2024
    # 城关镇: 东街村 9 and 西街村 11 (吴婷 moved to 田湖村).
    assert m[T100].population.sum() == 20


def test_births_fertility_and_the_sex_ratio(hand_built_county):
    # Births 2022-2024 by the mother's age: 冯可欣 (韩雪, 34), 彭乐 (曹琳, 29), the twins
    # (黄敏, 31), 赵子轩 (陈静, 28), 何雨桐 (马丽娟, 37); boys 彭乐, 杨欣然, 赵子轩.
    m = measure([COUNTY], 2024)[COUNTY]
    born = m.births.sum(axis=0)
    assert {int(a): float(born[a]) for a in np.nonzero(born)[0]} == {
        28: 1,
        29: 1,
        31: 2,
        34: 1,
        37: 1,
    }
    assert m.births[F].sum() == 3 and m.births[M].sum() == 3
    # Woman-years at 31 in 2022-2024, in days: 黄敏 from her 31st birthday 2023-09-09 to
    # 2024-09-09: 366; 徐梅 from 2024-05-05 to the window's end 2025-01-01: 241; 潘玉 from
    # her arrival 2024-03-01 to her 32nd birthday 2024-12-24: 298; 林娜 2022-01-21 to
    # 2023-01-21: 365; 刘芳 from 2022-01-01 to her 32nd birthday 2022-02-25: 55.
    # 1325 days = 3.628 years; ASFR(31) = 2 ÷ 3.628 = 0.5513.
    assert m.exposure[F, 31] == pytest.approx(1325 / 365.25)
    assert m.asfr()[31] == pytest.approx(2 * 365.25 / 1325)

    (unit,) = register_inputs([COUNTY], 2024).values()
    # Three boys and three girls: 1.00 is below the national range, so 1.05.
    assert unit.basis["srb"] == "national_range"
    assert unit.srb == pytest.approx(1.05)
    assert unit.basis["fertility"] == "own_grouped"
    # Pooled 30-34: the twins (31) and 冯可欣 (34) over the woman-years of 30-34.
    pooled = m.births[:, 30:35].sum() / m.exposure[F, 30:35].sum()
    assert unit.tables["asfr"][32] == pytest.approx(pooled)


def test_deaths_and_the_life_tables_they_allow(hand_built_county):
    # Deaths 2022-2024: 王德胜 (83), 周斌 (41), 彭乐 (0): three men, no woman.
    m = measure([COUNTY], 2024)[COUNTY]
    assert _cells(m.deaths) == {("M", 0): 1, ("M", 41): 1, ("M", 83): 1}
    units = register_inputs([COUNTY, T101], 2024)
    # Far too few deaths for the county's own table: the model life table, said so.
    assert units[COUNTY].basis["mortality_F"] == "model"
    assert units[COUNTY].basis["mortality_M"] == "model"
    assert "only 3 registered deaths in 2022–2024" in units[COUNTY].assumptions[3]
    # The township takes the county's table unchanged.
    assert units[T101].basis["mortality_M"] == "reference"
    assert "the life table of 410325 is used unchanged" in units[T101].assumptions[3]


def test_moves_in_and_out_by_the_unit_they_cross(hand_built_county):
    # 2022-2024. Out of the county: 钱进 (M, 23), 罗刚 (M, 32), 蒋芸 (F, 26); into it:
    # 田甜 (F, 23), 谢飞 (M, 33), 潘玉 (F, 31). 吴婷 (F, 25) moved from 城关镇 to 田湖镇:
    # a move out of one township and into the other, not of the county.
    m = measure([COUNTY, T100, T101], 2024)
    assert _cells(m[COUNTY].moves_in) == {("F", 23): 1, ("M", 33): 1, ("F", 31): 1}
    assert _cells(m[COUNTY].moves_out) == {("M", 23): 1, ("M", 32): 1, ("F", 26): 1}
    assert _cells(m[T100].moves_in) == {("F", 23): 1}
    assert _cells(m[T100].moves_out) == {("M", 23): 1, ("M", 32): 1, ("F", 25): 1}
    assert _cells(m[T101].moves_in) == {("M", 33): 1, ("F", 31): 1, ("F", 25): 1}
    assert _cells(m[T101].moves_out) == {("F", 26): 1}
    # Net migration per year in the inputs: (in - out) / 3; 城关镇 men at 23: -1/3.
    units = register_inputs([T100], 2024)
    assert units[T100].inputs.male.net_migration[23] == pytest.approx(-1 / 3)
    assert units[T100].net_migration == pytest.approx((1 - 3) / 3)


def test_it_refuses_an_unknown_org_unit_and_a_year_not_over(hand_built_county):
    with pytest.raises(UserError, match="org unit 410399 is not in the register"):
        register_inputs(["410399"], 2024)
    with pytest.raises(UserError, match="base year 2999 has not ended yet"):
        register_inputs([COUNTY], 2999)
    # 古城村 has nobody.
    with pytest.raises(UserError, match="had no residents at the end of 2024"):
        register_inputs(["410325101202"], 2024)
