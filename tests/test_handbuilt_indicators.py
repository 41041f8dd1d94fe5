"""The hand-built county: every demographic indicator against figures worked out by hand.

The three files in ``tests/data/handbuilt/`` describe a small county (410325) with two
townships and four villages; ``tests/data/handbuilt/README.md`` tells who is who. They are
imported through the ``taizhang`` command, and the figures the command prints are compared
with the tables below, whose every number was counted by hand from the files (the working is
in the comments next to each figure).

Village codes used in the working:

    A1 = 410325100201 东街村  (township 410325100 城关镇)
    A2 = 410325100202 西街村  (township 410325100 城关镇)
    B1 = 410325101201 田湖村  (township 410325101 田湖镇)
    B2 = 410325101202 古城村  (township 410325101 田湖镇; nobody lives there)

Rules applied (the register's semantics):

- START population of a period = resident at the end of the day before its first day;
  END = resident at the end of its last day. A move or death on day D takes effect on D
  (the person is gone at the end of D); a child born on D is resident at the end of D.
- Women 15-49 at START: resident at START, aged 15-49 on the period's first day; at END:
  resident and aged 15-49 on the last day. Age = (ymd(day) - ymd(birth)) // 10000.
- MWRA = women 15-49 at END who are married at the end of the last day. A divorce or the
  husband's death on D ends the marriage on D. A method stopped on D is still in use on D.
  A husband's condom or male sterilisation counts for his wife, once per couple.
- Parity = live_births_before + her live births on or before the last day.
- Births and marriages are counted where the mother / the wife lived at the end of that day
  (the husband's village when the wife is not in the register).

Who is who, by person (ages on 2024-01-01 / 2024-12-31):

    A1: P01 李华 F 1974-03-10 (49/50, turns 50 on 2024-03-10), lbb 2, married to P02, IUD
        P02 王军 M 1971-11-02
        P03 张伟 M 1988-06-12, male sterilisation since 2019-05-10
        P04 刘芳 F 1990-02-25 (33/34), lbb 2, married to P03, no method of her own
        P05 陈静 F 1995-07-08 (28/29), lbb 1, married to P06; pill stopped 2023-09-01;
            son C05 born 2024-06-30 (she is 28); implant from 2024-10-15
        P06 赵强 M 1993-04-19
        P07 王秀英 F 2009-08-20 (14/15, turns 15 on 2024-08-20)
        P08 孙丽 F 1985-12-03 (38/39), married to P09, pill since 2015
        P09 周斌 M 1983-01-30, dies 2024-09-15 (widows P08)
        P10 王德胜 M 1940-05-05, dies 2023-11-20
        P31 钱进 M 1999-09-09, moves out 2023-05-01
    A2: P11 黄敏 F 1992-09-09 (31/32), married to P12; twins C11a (F) and C11b (M) born
            2024-03-15 (she is 31); pill from 2024-05-01
        P12 杨帆 M 1990-03-03, condom from 2024-05-01
        P13 吴婷 F 1998-11-11 (25/26), marries P14 on 2024-04-20 (both rows in the file),
            moves within the county to B1 on 2024-05-01; no method
        P15 马丽娟 F 1987-04-04 (36/37), lbb 2, married to P16; IUD stopped 2024-01-20;
            daughter C15 born at home 2024-11-05 (she is 37)
        P16 何勇 M 1985-10-10
        P17 林娜 F 1991-01-21 (32/33), lbb 1, married to P18; pill stopped 2024-06-30;
            pregnancy 2024-08-10 ending in a miscarriage on 2024-10-02 (not a birth)
        P18 高峰 M 1989-07-07
        P19 徐梅 F 1993-05-05 (30/31), married to P20, divorced 2024-02-10
        P20 罗刚 M 1991-12-12, moves out 2024-08-01
        P30 田甜 F 2000-01-15 (23/24), moved in from outside 2023-07-01, single
    B1: P14 郑浩 M 1997-02-14
        P21 郭燕 F 1996-06-06 (27/28), marries a man outside the register 2024-02-14;
            method "other" from 2024-03-01
        P22 宋涛 M 1992-02-02, marries a woman outside the register 2024-10-01
        P23 韩雪 F 1989-03-30 (34/35), lbb 1, married to P24; daughter C23 born 2023-05-05;
            female sterilisation 2023-08-01
        P24 冯磊 M 1987-08-08
        P25 曹琳 F 1994-10-10 (29/30), married to P26; son C25 born 2024-02-10 (she is 29),
            C25 dies 2024-04-01; injectable from 2024-06-01
        P26 彭亮 M 1992-09-09
        P27 杜秀兰 F 1948-12-12 (75/76)
        P28 谢飞 M 1990-08-18 and P29 潘玉 F 1992-12-24 (31/32, lbb 1), married 2017,
            move in from outside 2024-03-01; P29 IUD from 2024-04-10
        P32 蒋芸 F 1997-07-17 (26/27), single, moves out 2024-06-30
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from taizhang.cli import get_app

DATA = Path(__file__).parent / "data" / "handbuilt"
FILES = [("orgunits", "orgunits.csv"), ("persons", "persons.csv"), ("events", "events.csv")]
runner = CliRunner()

COUNTY, T100, T101 = "410325", "410325100", "410325101"
A1, A2, B1, B2 = "410325100201", "410325100202", "410325101201", "410325101202"

UNITS = {
    "POP_START": "persons",
    "POP_END": "persons",
    "POP_AVG": "persons",
    "BIRTHS": "persons",
    "DEATHS": "persons",
    "CBR": "per_mille",
    "CDR": "per_mille",
    "RNI": "per_mille",
    "SRB": "per_100",
    "BIRTH_ORDER_1": "percent",
    "BIRTH_ORDER_2": "percent",
    "BIRTH_ORDER_3P": "percent",
    "GFR": "per_mille",
    "TFR": "children_per_woman",
    "FACILITY_DELIVERY": "percent",
    "MARRIAGE_RATE": "per_mille",
    "MWRA": "persons",
    "MWRA_SHARE": "percent",
    "CPR": "percent",
    "MCPR": "percent",
    "PARITY_0": "percent",
    "PARITY_1": "percent",
    "PARITY_2P": "percent",
}

# Each expected figure is (value, numerator, denominator).

# ---------------------------------------------------------------------------
# The county, 2024 (2024-01-01 .. 2024-12-31; a leap year of 366 days)
#
# START = resident at the end of 2023-12-31 = 29:
#   A1 9:  P01 P02 P03 P04 P05 P06 P07 P08 P09      (P10 died 2023-11-20, P31 left 2023-05-01)
#   A2 10: P11 P12 P13 P15 P16 P17 P18 P19 P20 P30  (P30 moved in 2023-07-01)
#   B1 10: P14 P21 P22 P23 P24 P25 P26 P27 P32 C23  (P28, P29 not yet arrived)
# END = resident at the end of 2024-12-31 = 32:
#   A1 9:  P01..P08 and C05                        (P09 died 2024-09-15)
#   A2 11: P11 P12 P15 P16 P17 P18 P19 P30 C11a C11b C15  (P13 went to B1, P20 left)
#   B1 12: P14 P21 P22 P23 P24 P25 P26 P27 C23 P13 P28 P29 (P32 left, C25 died)
#   Check by flows: 29 + 5 births - 2 deaths + 2 in (P28, P29) - 2 out (P20, P32) = 32.
# AVG = (29 + 32) / 2 = 30.5
#
# Births (mother, date, village, sex, order, mother's age, place):
#   C25  P25 2024-02-10 B1 M order 1 (lbb 0)              age 29 facility
#   C11a P11 2024-03-15 A2 F order 1 (lbb 0, first twin)  age 31 facility
#   C11b P11 2024-03-15 A2 M order 2 (second twin)        age 31 facility
#   C05  P05 2024-06-30 A1 M order 2 (lbb 1)              age 28 facility
#   C15  P15 2024-11-05 A2 F order 3 (lbb 2)              age 37 home
#   P17's miscarriage (2024-10-02) is an outcome, not a birth.
#   => 5 births: male C25 C11b C05 = 3, female C11a C15 = 2;
#      order 1: C25 C11a = 2; order 2: C11b C05 = 2; order 3+: C15 = 1; facility 4 (not C15).
# Deaths: P09 (A1, 2024-09-15) and C25 (B1, born and died in the period, 2024-04-01) = 2.
# Marriages: P21 + outsider 2024-02-14 (wife P21 in B1); P13 + P14 2024-04-20 (two rows,
#   one marriage, wife P13 then in A2); P22 + outsider wife 2024-10-01 (husband P22 in B1) = 3.
#
# Women 15-49 at START (age on 2024-01-01), 14:
#   A1: P01 49, P04 33, P05 28, P08 38                 (P07 is 14)
#   A2: P11 31, P13 25, P15 36, P17 32, P19 30, P30 23
#   B1: P21 27, P23 34, P25 29, P32 26                 (P27 is 75)
# Women 15-49 at END (age on 2024-12-31), 14:
#   A1: P04 34, P05 29, P07 15, P08 39                 (P01 is 50)
#   A2: P11 32, P15 37, P17 33, P19 31, P30 24
#   B1: P13 26, P21 28, P23 35, P25 30, P29 32
# GFR = 5 / ((14 + 14) / 2) * 1000 = 357.142... -> 357.14
#
# TFR: ASFR_x = births at age x / ((women aged x at START + at END) / 2)
#   x=28: 1 birth (P05); START aged 28: P05; END aged 28: P21   -> 1 / 1   = 1
#   x=29: 1 birth (P25); START aged 29: P25; END aged 29: P05   -> 1 / 1   = 1
#   x=31: 2 births (P11); START aged 31: P11 (P29 not resident); END aged 31: P19 -> 2 / 1 = 2
#   x=37: 1 birth (P15); START aged 37: none; END aged 37: P15  -> 1 / 0.5 = 2
#   TFR = 1 + 1 + 2 + 2 = 6
#
# MWRA at END (women 15-49 at END who are married on 2024-12-31), 10:
#   P04, P05, P11, P15, P17, P13, P21, P23, P25, P29
#   not: P07 (single), P08 (widowed 2024-09-15), P19 (divorced), P30 (single)
# Method use on 2024-12-31:
#   P04 husband P03 male sterilisation (modern)   P05 implant (modern)
#   P11 pill, husband condom: one couple (modern) P15 IUD stopped 2024-01-20: none
#   P17 pill stopped 2024-06-30: none             P13 none (nor P14)
#   P21 other (any method, not modern)            P23 female sterilisation (modern)
#   P25 injectable (modern)                       P29 IUD (modern)
#   => any method 7, modern 6
# Parity on 2024-12-31:
#   P04 2 (lbb 2)  P05 2 (1 + C05)  P11 2 (twins)  P15 3 (2 + C15)  P17 1 (lbb 1)
#   P13 0          P21 0            P23 2 (1 + C23) P25 1 (C25; a death does not undo a birth)
#   P29 1 (lbb 1)
#   => parity 0: P13 P21 = 2; parity 1: P17 P25 P29 = 3; parity 2+: P04 P05 P11 P15 P23 = 5
COUNTY_2024 = {
    "POP_START": (29, 29, None),
    "POP_END": (32, 32, None),
    "POP_AVG": (30.5, 30.5, None),
    "BIRTHS": (5, 5, None),
    "DEATHS": (2, 2, None),
    "CBR": (163.93, 5, 30.5),  # 5 / 30.5 * 1000 = 163.934...
    "CDR": (65.57, 2, 30.5),  # 2 / 30.5 * 1000 = 65.573...
    "RNI": (98.36, 3, 30.5),  # (5 - 2) / 30.5 * 1000 = 98.360...
    "SRB": (150.0, 3, 2),  # 3 boys / 2 girls * 100
    "BIRTH_ORDER_1": (40.0, 2, 5),
    "BIRTH_ORDER_2": (40.0, 2, 5),
    "BIRTH_ORDER_3P": (20.0, 1, 5),
    "GFR": (357.14, 5, 14.0),
    "TFR": (6.0, 6.0, None),
    "FACILITY_DELIVERY": (80.0, 4, 5),
    "MARRIAGE_RATE": (98.36, 3, 30.5),  # 3 / 30.5 * 1000
    "MWRA": (10, 10, None),
    "MWRA_SHARE": (31.25, 10, 32),
    "CPR": (70.0, 7, 10),
    "MCPR": (60.0, 6, 10),
    "PARITY_0": (20.0, 2, 10),
    "PARITY_1": (30.0, 3, 10),
    "PARITY_2P": (50.0, 5, 10),
}

# ---------------------------------------------------------------------------
# By village, 2024 (the same people as above, split by where they were counted)

# A1: START 9, END 9 (P09 died, C05 born). Births: C05 (M, order 2, facility, mother 28).
# Deaths: P09. Marriages: none. Women 15-49 START: P01 P04 P05 P08 = 4; END: P04 P05 P07 P08 = 4.
# TFR: x=28: START P05, END nobody aged 28 (P05 is 29) -> 1 / 0.5 = 2.
# MWRA: P04, P05 (P08 widowed, P01 is 50, P07 single); both use a method (P03's sterilisation,
# P05's implant), both modern; parity P04 2, P05 2.
VILLAGE_A1_2024 = {
    "POP_START": (9, 9, None),
    "POP_END": (9, 9, None),
    "POP_AVG": (9.0, 9.0, None),
    "BIRTHS": (1, 1, None),
    "DEATHS": (1, 1, None),
    "CBR": (111.11, 1, 9.0),  # 1 / 9 * 1000 = 111.111...
    "CDR": (111.11, 1, 9.0),
    "RNI": (0.0, 0, 9.0),
    "SRB": (None, 1, 0),  # no girls born: no ratio
    "BIRTH_ORDER_1": (0.0, 0, 1),
    "BIRTH_ORDER_2": (100.0, 1, 1),
    "BIRTH_ORDER_3P": (0.0, 0, 1),
    "GFR": (250.0, 1, 4.0),
    "TFR": (2.0, 2.0, None),
    "FACILITY_DELIVERY": (100.0, 1, 1),
    "MARRIAGE_RATE": (0.0, 0, 9.0),
    "MWRA": (2, 2, None),
    "MWRA_SHARE": (22.22, 2, 9),  # 2 / 9 * 100 = 22.222...
    "CPR": (100.0, 2, 2),
    "MCPR": (100.0, 2, 2),
    "PARITY_0": (0.0, 0, 2),
    "PARITY_1": (0.0, 0, 2),
    "PARITY_2P": (100.0, 2, 2),
}

# A2: START 10, END 11 (+ C11a C11b C15; - P13 to B1, - P20 moved out).
# Births: C11a F order 1, C11b M order 2 (mother 31, facility), C15 F order 3 (mother 37, home).
# Deaths: none. Marriages: P13 (she lived in A2 on 2024-04-20) = 1.
# Women 15-49 START: P11 P13 P15 P17 P19 P30 = 6; END: P11 P15 P17 P19 P30 = 5; average 5.5.
# TFR: x=31: START P11, END P19 -> 2 / 1 = 2; x=37: START none, END P15 -> 1 / 0.5 = 2; = 4.
# MWRA: P11, P15, P17 (P19 divorced, P30 single); using: P11 only (pill + husband's condom,
# one couple); parity P11 2, P15 3, P17 1.
VILLAGE_A2_2024 = {
    "POP_START": (10, 10, None),
    "POP_END": (11, 11, None),
    "POP_AVG": (10.5, 10.5, None),
    "BIRTHS": (3, 3, None),
    "DEATHS": (0, 0, None),
    "CBR": (285.71, 3, 10.5),  # 3 / 10.5 * 1000 = 285.714...
    "CDR": (0.0, 0, 10.5),
    "RNI": (285.71, 3, 10.5),
    "SRB": (50.0, 1, 2),
    "BIRTH_ORDER_1": (33.33, 1, 3),
    "BIRTH_ORDER_2": (33.33, 1, 3),
    "BIRTH_ORDER_3P": (33.33, 1, 3),
    "GFR": (545.45, 3, 5.5),  # 3 / 5.5 * 1000 = 545.454...
    "TFR": (4.0, 4.0, None),
    "FACILITY_DELIVERY": (66.67, 2, 3),
    "MARRIAGE_RATE": (95.24, 1, 10.5),  # 1 / 10.5 * 1000 = 95.238...
    "MWRA": (3, 3, None),
    "MWRA_SHARE": (27.27, 3, 11),  # 3 / 11 * 100 = 27.272...
    "CPR": (33.33, 1, 3),
    "MCPR": (33.33, 1, 3),
    "PARITY_0": (0.0, 0, 3),
    "PARITY_1": (33.33, 1, 3),
    "PARITY_2P": (66.67, 2, 3),
}

# B1: START 10, END 12 (+ P13 from A2, + P28 P29 from outside; - P32 moved out; C25 born and
# died). Births: C25 M order 1 facility, mother 29. Deaths: C25.
# Marriages: P21 (wife in B1) and P22 (wife outside the register, husband in B1) = 2.
# Women 15-49 START: P21 P23 P25 P32 = 4; END: P13 P21 P23 P25 P29 = 5; average 4.5.
# TFR: x=29: START P25, END nobody aged 29 (P25 is 30) -> 1 / 0.5 = 2.
# MWRA: P13 P21 P23 P25 P29; using: P21 (other), P23, P25, P29 = 4, modern 3 (not P21);
# parity P13 0, P21 0, P23 2, P25 1, P29 1.
VILLAGE_B1_2024 = {
    "POP_START": (10, 10, None),
    "POP_END": (12, 12, None),
    "POP_AVG": (11.0, 11.0, None),
    "BIRTHS": (1, 1, None),
    "DEATHS": (1, 1, None),
    "CBR": (90.91, 1, 11.0),  # 1 / 11 * 1000 = 90.909...
    "CDR": (90.91, 1, 11.0),
    "RNI": (0.0, 0, 11.0),
    "SRB": (None, 1, 0),
    "BIRTH_ORDER_1": (100.0, 1, 1),
    "BIRTH_ORDER_2": (0.0, 0, 1),
    "BIRTH_ORDER_3P": (0.0, 0, 1),
    "GFR": (222.22, 1, 4.5),  # 1 / 4.5 * 1000 = 222.222...
    "TFR": (2.0, 2.0, None),
    "FACILITY_DELIVERY": (100.0, 1, 1),
    "MARRIAGE_RATE": (181.82, 2, 11.0),  # 2 / 11 * 1000 = 181.818...
    "MWRA": (5, 5, None),
    "MWRA_SHARE": (41.67, 5, 12),  # 5 / 12 * 100 = 41.666...
    "CPR": (80.0, 4, 5),
    "MCPR": (60.0, 3, 5),
    "PARITY_0": (40.0, 2, 5),
    "PARITY_1": (40.0, 2, 5),
    "PARITY_2P": (20.0, 1, 5),
}

# B2: an org unit with no records: every count 0, every ratio null, TFR a sum of nothing = 0.
VILLAGE_B2_2024 = {
    "POP_START": (0, 0, None),
    "POP_END": (0, 0, None),
    "POP_AVG": (0.0, 0.0, None),
    "BIRTHS": (0, 0, None),
    "DEATHS": (0, 0, None),
    "CBR": (None, 0, 0.0),
    "CDR": (None, 0, 0.0),
    "RNI": (None, 0, 0.0),
    "SRB": (None, 0, 0),
    "BIRTH_ORDER_1": (None, 0, 0),
    "BIRTH_ORDER_2": (None, 0, 0),
    "BIRTH_ORDER_3P": (None, 0, 0),
    "GFR": (None, 0, 0.0),
    "TFR": (0.0, 0.0, None),
    "FACILITY_DELIVERY": (None, 0, 0),
    "MARRIAGE_RATE": (None, 0, 0.0),
    "MWRA": (0, 0, None),
    "MWRA_SHARE": (None, 0, 0),
    "CPR": (None, 0, 0),
    "MCPR": (None, 0, 0),
    "PARITY_0": (None, 0, 0),
    "PARITY_1": (None, 0, 0),
    "PARITY_2P": (None, 0, 0),
}

# ---------------------------------------------------------------------------
# By township, 2024

# 410325100 (A1 + A2): START 9 + 10 = 19, END 9 + 11 = 20, AVG 19.5.
# Births C05 C11a C11b C15 = 4 (boys C05 C11b, girls C11a C15; orders 2, 1, 2, 3; home C15).
# Deaths P09 = 1. Marriages: P13 = 1.
# Women 15-49 START 4 + 6 = 10, END 4 + 5 = 9; average 9.5.
# TFR: x=28: START P05, END nobody aged 28 in the township (P21 lives in B1) -> 1 / 0.5 = 2;
#      x=31: START P11, END P19 -> 2 / 1 = 2; x=37: START none, END P15 -> 1 / 0.5 = 2; = 6.
# MWRA P04 P05 P11 P15 P17 = 5; using P04 P05 P11 = 3, all modern;
# parity: 1 = P17; 2+ = P04 P05 P11 P15.
TOWNSHIP_100_2024 = {
    "POP_START": (19, 19, None),
    "POP_END": (20, 20, None),
    "POP_AVG": (19.5, 19.5, None),
    "BIRTHS": (4, 4, None),
    "DEATHS": (1, 1, None),
    "CBR": (205.13, 4, 19.5),  # 4 / 19.5 * 1000 = 205.128...
    "CDR": (51.28, 1, 19.5),  # 1 / 19.5 * 1000 = 51.282...
    "RNI": (153.85, 3, 19.5),  # 3 / 19.5 * 1000 = 153.846...
    "SRB": (100.0, 2, 2),
    "BIRTH_ORDER_1": (25.0, 1, 4),
    "BIRTH_ORDER_2": (50.0, 2, 4),
    "BIRTH_ORDER_3P": (25.0, 1, 4),
    "GFR": (421.05, 4, 9.5),  # 4 / 9.5 * 1000 = 421.052...
    "TFR": (6.0, 6.0, None),
    "FACILITY_DELIVERY": (75.0, 3, 4),
    "MARRIAGE_RATE": (51.28, 1, 19.5),
    "MWRA": (5, 5, None),
    "MWRA_SHARE": (25.0, 5, 20),
    "CPR": (60.0, 3, 5),
    "MCPR": (60.0, 3, 5),
    "PARITY_0": (0.0, 0, 5),
    "PARITY_1": (20.0, 1, 5),
    "PARITY_2P": (80.0, 4, 5),
}

# 410325101 (B1 + B2): B2 is empty, so the township's figures are B1's.
TOWNSHIP_101_2024 = dict(VILLAGE_B1_2024)

# ---------------------------------------------------------------------------
# The county, first half of 2024 (2024S1 = 2024-01-01 .. 2024-06-30, 182 days)
#
# START is the same as for 2024: 29; women 15-49 at START the same 14.
# END = resident at the end of 2024-06-30 = 33:
#   A1 10: P01..P09 (P09 is alive until 2024-09-15) and C05 (born on the last day, 2024-06-30)
#   A2 11: P11 P12 P15 P16 P17 P18 P19 P20 P30 C11a C11b  (P20 leaves only on 2024-08-01)
#   B1 12: P14 P21 P22 P23 P24 P25 P26 P27 C23 P13 P28 P29
#          (P32 moved out on 2024-06-30 itself, so she is gone at the end of that day;
#           C25 died 2024-04-01)
#   Check: 29 + 4 births - 1 death + 2 in - 1 out = 33.  AVG = 31.
# Births: C25 (M, order 1, 29), C11a (F, 1, 31), C11b (M, 2, 31), C05 (M, 2, 28; on the last
#   day, so inside S1); all in a facility. C15 (November) is outside.
# Deaths: C25. Marriages: P21 (2024-02-14), P13 (2024-04-20) = 2.
# Women 15-49 at END (age on 2024-06-30), 13:
#   P04 34, P05 28, P08 38, P11 31, P15 37, P17 33, P19 31, P30 24, P13 25, P21 28, P23 35,
#   P25 29, P29 31   (P01 is 50, P07 is 14, P32 has left)
#   GFR = 4 / ((14 + 13) / 2) * 1000 = 4 / 13.5 * 1000 = 296.296... -> 296.30
# TFR:
#   x=28: birth C05; START aged 28: P05; END aged 28: P05, P21  -> 1 / 1.5 = 2/3
#   x=29: birth C25; START aged 29: P25; END aged 29: P25       -> 1 / 1   = 1
#   x=31: C11a, C11b; START aged 31: P11; END aged 31: P11, P19, P29 -> 2 / 2 = 1
#   sum = 8/3; scaled to the year: 8/3 * 366 / 182 = 488/91 = 5.3626... -> 5.36
# MWRA at 2024-06-30, 11: P04 P05 P08 P11 P15 P17 P13 P21 P23 P25 P29
#   (P08 still married until 2024-09-15; P19 divorced 2024-02-10; P30 single)
# Method use on 2024-06-30:
#   P04 husband's sterilisation; P08 pill; P11 pill + husband's condom (once);
#   P17 pill stopped on 2024-06-30 itself, so still using that day; P21 other (not modern);
#   P23 female sterilisation; P25 injectable (from 2024-06-01); P29 IUD (from 2024-04-10)
#   not: P05 (implant only from 2024-10-15), P15 (IUD stopped 2024-01-20), P13
#   => any 8, modern 7
# Parity on 2024-06-30: P04 2, P05 2 (1 + C05 born that day), P08 0, P11 2, P15 2 (C15 not yet),
#   P17 1, P13 0, P21 0, P23 2, P25 1, P29 1
#   => 0: P08 P13 P21 = 3; 1: P17 P25 P29 = 3; 2+: P04 P05 P11 P15 P23 = 5
COUNTY_2024S1 = {
    "POP_START": (29, 29, None),
    "POP_END": (33, 33, None),
    "POP_AVG": (31.0, 31.0, None),
    "BIRTHS": (4, 4, None),
    "DEATHS": (1, 1, None),
    "CBR": (129.03, 4, 31.0),  # 4 / 31 * 1000 = 129.032...
    "CDR": (32.26, 1, 31.0),  # 1 / 31 * 1000 = 32.258...
    "RNI": (96.77, 3, 31.0),  # 3 / 31 * 1000 = 96.774...
    "SRB": (300.0, 3, 1),
    "BIRTH_ORDER_1": (50.0, 2, 4),
    "BIRTH_ORDER_2": (50.0, 2, 4),
    "BIRTH_ORDER_3P": (0.0, 0, 4),
    "GFR": (296.3, 4, 13.5),
    "TFR": (5.36, 488 / 91, None),
    "FACILITY_DELIVERY": (100.0, 4, 4),
    "MARRIAGE_RATE": (64.52, 2, 31.0),  # 2 / 31 * 1000 = 64.516...
    "MWRA": (11, 11, None),
    "MWRA_SHARE": (33.33, 11, 33),
    "CPR": (72.73, 8, 11),  # 72.727...
    "MCPR": (63.64, 7, 11),  # 63.636...
    "PARITY_0": (27.27, 3, 11),
    "PARITY_1": (27.27, 3, 11),
    "PARITY_2P": (45.45, 5, 11),  # 45.454...
}

# ---------------------------------------------------------------------------
# The county, March 2024 (202403 = 2024-03-01 .. 2024-03-31, 31 days)
#
# START = resident at the end of 2024-02-29 = 30:
#   A1 9 (P01..P09); A2 10 (P11 P12 P13 P15 P16 P17 P18 P19 P20 P30);
#   B1 11 (P14 P21 P22 P23 P24 P25 P26 P27 P32 C23 C25 - C25 is alive until 2024-04-01)
#   P28 and P29 move in on 2024-03-01, the first day: not in START.
# END = resident at the end of 2024-03-31 = 34: START + P28 + P29 + C11a + C11b.  AVG = 32.
# Births: the twins C11a (F, order 1) and C11b (M, order 2), 2024-03-15, mother P11 aged 31,
#   facility. Deaths: none (C25 dies on 2024-04-01, the day after). Marriages: none.
# Women 15-49 at START (age on 2024-03-01), 14:
#   P01 49 (turns 50 on 2024-03-10), P04 34, P05 28, P08 38, P11 31, P13 25, P15 36, P17 33,
#   P19 30, P30 24, P21 27, P23 34, P25 29, P32 26
# Women 15-49 at END (age on 2024-03-31), 14: the same without P01 (now 50), with P29 (31).
#   GFR = 2 / 14 * 1000 = 142.857... -> 142.86
# TFR: x=31: START aged 31: P11 (P29 not yet resident); END aged 31: P11, P29
#   -> 2 / 1.5 = 4/3; scaled to the year: 4/3 * 366 / 31 = 488/31 = 15.7419... -> 15.74
# MWRA at 2024-03-31, 10: P04 P05 P08 P11 P15 P17 P21 P23 P25 P29
#   (P13 marries only on 2024-04-20; P19 divorced; P30, P32 single; P01 is 50)
# Method use on 2024-03-31: P04 (husband's sterilisation), P08 pill, P17 pill,
#   P21 other (from 2024-03-01, not modern), P23 female sterilisation
#   not: P05, P11 (pill and condom from 2024-05-01), P15 (stopped 2024-01-20),
#   P25 (injectable from 2024-06-01), P29 (IUD from 2024-04-10)
#   => any 5, modern 4
# Parity on 2024-03-31: P04 2, P05 1, P08 0, P11 2 (the twins), P15 2, P17 1, P21 0, P23 2,
#   P25 1, P29 1  => 0: P08 P21 = 2; 1: P05 P17 P25 P29 = 4; 2+: P04 P11 P15 P23 = 4
COUNTY_202403 = {
    "POP_START": (30, 30, None),
    "POP_END": (34, 34, None),
    "POP_AVG": (32.0, 32.0, None),
    "BIRTHS": (2, 2, None),
    "DEATHS": (0, 0, None),
    "CBR": (62.5, 2, 32.0),
    "CDR": (0.0, 0, 32.0),
    "RNI": (62.5, 2, 32.0),
    "SRB": (100.0, 1, 1),
    "BIRTH_ORDER_1": (50.0, 1, 2),
    "BIRTH_ORDER_2": (50.0, 1, 2),
    "BIRTH_ORDER_3P": (0.0, 0, 2),
    "GFR": (142.86, 2, 14.0),
    "TFR": (15.74, 488 / 31, None),
    "FACILITY_DELIVERY": (100.0, 2, 2),
    "MARRIAGE_RATE": (0.0, 0, 32.0),
    "MWRA": (10, 10, None),
    "MWRA_SHARE": (29.41, 10, 34),  # 29.411...
    "CPR": (50.0, 5, 10),
    "MCPR": (40.0, 4, 10),
    "PARITY_0": (20.0, 2, 10),
    "PARITY_1": (40.0, 4, 10),
    "PARITY_2P": (40.0, 4, 10),
}


# ---------------------------------------------------------------------------
# Helpers


def resident_id(region6: str, yyyymmdd: str, seq: int) -> str:
    """A GB 11643 resident ID: region, birth date, sequence (odd = male), check digit."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    body = f"{region6}{yyyymmdd}{seq:03d}"
    return body + "10X98765432"[sum(int(a) * w for a, w in zip(body, weights, strict=True)) % 11]


def import_all() -> None:
    """Import the three files through the command, in dependency order."""
    for kind, name in FILES:
        r = runner.invoke(get_app(), ["import", str(DATA / name), "--kind", kind])
        assert r.exit_code == 0, f"{name}: {r.output}"


def indicators(org: str, period: str, by: str | None = None):
    """The command's JSON for one org unit (or a list with ``by``)."""
    args = ["indicators", "--org", org, "--period", period, "--format", "json"]
    if by:
        args += ["--by", by]
    r = runner.invoke(get_app(), args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def figures(obj: dict) -> dict:
    """``{code: (value, numerator, denominator)}`` of one org unit's JSON object."""
    out = {}
    for item in obj["indicators"]:
        assert item["unit"] == UNITS.get(item["code"], item["unit"]), item
        out[item["code"]] = (item["value"], item["numerator"], item["denominator"])
    return out


def assert_figures(obj: dict, expected: dict, codes=None) -> None:
    """Every expected code is present with exactly the worked-out value, numerator and
    denominator (the unrounded TFR numerator to within float error)."""
    got = figures(obj)
    for code in codes or expected:
        assert code in got, f"{obj['org']} {obj['period']}: {code} missing"
        value, numerator, denominator = expected[code]
        g_value, g_numerator, g_denominator = got[code]
        where = f"{obj['org']} {obj['period']} {code}"
        assert g_value == value, f"{where}: value {g_value}, expected {value}"
        if code == "TFR":
            assert g_numerator == pytest.approx(numerator, rel=1e-9), where
        else:
            assert g_numerator == numerator, (
                f"{where}: numerator {g_numerator}, expected {numerator}"
            )
        assert g_denominator == denominator, (
            f"{where}: denominator {g_denominator}, expected {denominator}"
        )


@pytest.fixture
def county(db):
    import_all()


# ---------------------------------------------------------------------------
# The data files themselves (no database)


class TestTheFiles:
    def test_it_has_valid_resident_ids_agreeing_with_birth_date_and_sex(self):
        import csv

        with open(DATA / "persons.csv", encoding="utf-8") as f:
            persons = list(csv.DictReader(f))
        with open(DATA / "events.csv", encoding="utf-8") as f:
            births = [r for r in csv.DictReader(f) if r["event"] == "birth"]
        rows = [(p["id_number"], p["sex"], p["birth_date"]) for p in persons]
        rows += [(b["child_id_number"], b["child_sex"], b["date"]) for b in births]
        for id_number, sex, birth_date in rows:
            seq = int(id_number[14:17])
            assert resident_id(id_number[:6], id_number[6:14], seq) == id_number
            assert (sex in ("M", "男")) == (seq % 2 == 1), id_number
            if birth_date:
                assert birth_date.replace("-", "") == id_number[6:14], id_number
        assert len(persons) == 32
        assert len(births) == 6

    def test_it_computes_check_digits_like_the_standard(self):
        # The standard's own example: 11010519491231002X.
        assert resident_id("110105", "19491231", 2) == "11010519491231002X"


# ---------------------------------------------------------------------------
# The figures


@pytest.mark.django_db
class TestHandbuiltCounty:
    def test_it_gives_the_county_figures_for_2024(self, county):
        data = indicators(COUNTY, "2024")
        assert (data["org"], data["period"]) == (COUNTY, "2024")
        assert_figures(data, COUNTY_2024)
        assert set(figures(data)) >= set(UNITS)

    def test_it_gives_each_township_for_2024(self, county):
        data = indicators(COUNTY, "2024", by="township")
        assert [(d["org"], d["period"]) for d in data] == [(T100, "2024"), (T101, "2024")]
        assert_figures(data[0], TOWNSHIP_100_2024)
        assert_figures(data[1], TOWNSHIP_101_2024)

    def test_it_gives_each_village_for_2024_including_the_empty_one(self, county):
        data = indicators(COUNTY, "2024", by="village")
        assert [d["org"] for d in data] == [A1, A2, B1, B2]
        assert_figures(data[0], VILLAGE_A1_2024)
        assert_figures(data[1], VILLAGE_A2_2024)
        assert_figures(data[2], VILLAGE_B1_2024)
        assert_figures(data[3], VILLAGE_B2_2024)

    def test_it_gives_a_village_asked_for_directly(self, county):
        assert_figures(indicators(B1, "2024"), VILLAGE_B1_2024)

    def test_it_gives_the_first_half_of_2024_with_its_last_day_inside(self, county):
        data = indicators(COUNTY, "2024S1")
        assert (data["org"], data["period"]) == (COUNTY, "2024S1")
        assert_figures(data, COUNTY_2024S1)

    def test_it_gives_march_2024(self, county):
        data = indicators(COUNTY, "202403")
        assert (data["org"], data["period"]) == (COUNTY, "202403")
        assert_figures(data, COUNTY_202403)

    def test_it_keeps_every_figure_when_the_files_are_imported_again(self, county):
        asked = [
            (COUNTY, "2024", None),
            (COUNTY, "2024", "village"),
            (COUNTY, "2024S1", None),
            (COUNTY, "202403", None),
        ]
        before = [indicators(*a) for a in asked]
        import_all()
        after = [indicators(*a) for a in asked]
        assert after == before
        assert_figures(after[0], COUNTY_2024)
        assert_figures(after[2], COUNTY_2024S1)
        assert_figures(after[3], COUNTY_202403)
