"""Synthetic import files for one county: ``orgunits.csv``, ``persons.csv``, ``events.csv``.

    python benchmarks/make_import_files.py --persons 100000 --events 1000000 --seed 1 --out DIR

The files follow docs/imports.md and describe 嵩县 (410325): 16 townships, 317
villages, ``--persons`` people alive on 2021-01-01 (3% of them move into the county
later), and about ``--events`` events. Every event is one the register accepts:

- the register's opening state, dated when it began: the marriages of the couples
  living in the county on 2021-01-01, the contraceptive methods in use that day and
  the pregnancies under way (registered in 2020);
- five years of life, 2021-01-01..2025-12-31: deaths (a Gompertz hazard by age),
  moves out (and some back), moves in, moves within the county (brides moving to the
  husband's village), marriages of unmarried people (women >= 20, men >= 22, one age
  at first marriage per person) to a registered spouse of the other sex or to a spouse
  outside the register, divorces, widowhood, pregnancies of married women conceived
  before 45 with their outcome or birth (twins about 1 in 80 births), contraceptive
  methods started, stopped and switched;
- service encounters, most of the file: check-ups of married women 15-49,
  gynaecological screening of women 20-64, follow-up visits after deliveries,
  outcomes and procedures, and life-stage education sessions.

The same arguments give byte-identical files. Resident ID numbers are built here
(GB 11643: region, birth date, sequence with odd = male, check digit) so that the
files do not depend on the package they are meant to test.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import itertools
import math
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

COUNTY = "410325"
COUNTY_NAME = "嵩县"
TOWNSHIPS = [
    "城关镇", "田湖镇", "车村镇", "旧县镇", "闫庄镇", "德亭镇", "大章镇", "白河镇",
    "纸房镇", "饭坡镇", "九店乡", "何村乡", "大坪乡", "库区乡", "黄庄乡", "木植街乡",
]  # fmt: skip
VILLAGE_COUNT = 317
# Regions of spouses registered elsewhere (neighbouring counties of Luoyang).
OUTSIDE_REGIONS = ["410323", "410324", "410326", "410327", "410328", "410329"]

START = dt.date(2021, 1, 1)
END = dt.date(2025, 12, 31)
LATEST = dt.date(2026, 11, 29)  # no event may be dated after this day

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

EVENT_COLUMNS = [
    "id_number", "event", "date", "spouse_id_number", "lmp_date", "child_id_number",
    "child_name", "child_sex", "delivery_place", "birth_weight_g", "outcome", "village",
    "method", "reason", "findings", "stage",
]  # fmt: skip
PERSON_COLUMNS = [
    "id_number", "name", "sex", "birth_date", "village", "hukou_village", "household",
    "phone", "ethnicity", "live_births_before",
]  # fmt: skip

# Share of the population (percent) by 5-year age group on 2021-01-01: the shape of a
# rural Henan county in the 2020 census (small young cohorts, bulges at 30-34 and 50-54).
AGE_GROUPS = [
    (0, 5.0), (5, 6.2), (10, 6.0), (15, 5.2), (20, 4.9), (25, 5.6), (30, 7.4), (35, 6.6),
    (40, 5.9), (45, 7.3), (50, 8.3), (55, 7.4), (60, 5.4), (65, 5.6), (70, 4.0), (75, 2.7),
    (80, 1.7), (85, 0.9), (90, 0.35), (95, 0.1),
]  # fmt: skip
IN_MIGRANT_SHARE = 0.03
OLD_BIRTH = dt.date(1965, 12, 31).toordinal()  # 55 or older on 2021-01-01

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁宋谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
MALE_GIVEN = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林洋阳建国庆志文海东亮振永红"
FEMALE_GIVEN = "芳娜敏静丽艳娟霞英兰萍红玲燕婷雪慧倩颖琳晶欣怡梦佳悦涵雨晨秀桂玉凤琴梅荣珍丹"
VILLAGE_PREFIX = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高东西南北上下前后大小新老石柳槐桃杏枣"
VILLAGE_SUFFIX = "庄村沟湾岭坪营店寨河坡屯洼堡桥园岗窑"
COMMUNITIES = ["东街社区", "西街社区", "南街社区", "北街社区", "伊河社区"]
DESTINATIONS = [
    "",
    "广东省深圳市",
    "广东省东莞市",
    "浙江省宁波市",
    "江苏省苏州市",
    "河南省郑州市",
    "河南省洛阳市",
]
SCREENING_FINDINGS = ["阴道炎", "宫颈炎", "盆腔炎", "乳腺增生", "子宫肌瘤", "宫颈上皮内瘤变"]
CHECKUP_FINDINGS = ["阴道炎", "宫颈炎", "节育器下移", "贫血"]
FOLLOWUP_FINDINGS = ["切口愈合不良", "月经异常", "贫血"]

# Methods chosen when starting one, by family stage: (method, weight).
METHODS_SPACING = [
    ("iud", 40), ("condom", 35), ("pill", 10), ("implant", 5), ("injectable", 5), ("other", 5),
]  # fmt: skip
METHODS_COMPLETE = [
    ("iud", 45), ("female_sterilization", 15), ("condom", 20), ("implant", 6), ("injectable", 3),
    ("pill", 4), ("male_sterilization", 2), ("other", 5),
]  # fmt: skip
LONG_ACTING = frozenset({"iud", "implant", "female_sterilization", "male_sterilization"})
PERMANENT = frozenset({"female_sterilization", "male_sterilization"})
STOP_REASONS = ["副作用", "更换方法", "本人要求"]


# ---------------------------------------------------------------------------
# Resident ID numbers (GB 11643-1999)


def check_digit(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of a resident ID number."""
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def make_id(region: str, birth: dt.date, seq: int) -> str:
    """A resident ID number: 6-digit region, birth date, 3-digit sequence (odd = male), check."""
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + check_digit(body)


def id_is_valid(number: str) -> bool:
    """Whether ``number`` has 18 characters, a real birth date and the right check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return number[17] == check_digit(number[:17])


def id_sex(number: str) -> str:
    """``M`` or ``F`` from the 17th digit of an ID number (odd is male)."""
    return "M" if int(number[16]) % 2 else "F"


def id_birth(number: str) -> dt.date:
    """The birth date an ID number encodes."""
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


# ---------------------------------------------------------------------------
# Dates are day ordinals (``date.toordinal()``) inside the generator.

DAY0 = dt.date(1890, 1, 1).toordinal()
START_DAY = START.toordinal()
STOP_DAY = END.toordinal() + 1  # exclusive end of the simulated years
_ISO = [dt.date.fromordinal(d).isoformat() for d in range(DAY0, LATEST.toordinal() + 1)]
# (year, month * 100 + day) of each day, for ages in completed years without date objects.
_YMD = [(int(s[:4]), int(s[5:7]) * 100 + int(s[8:])) for s in _ISO]
# Weighted digit sums of the parts of an ID number, so that the check character of a
# generated number is three look-ups.
_SEQ_SUM = [
    sum(int(d) * w for d, w in zip(f"{n:03d}", ID_WEIGHTS[14:], strict=True)) for n in range(1000)
]
_DATE_SUM: dict[int, int] = {}
_REGION_SUM: dict[str, int] = {}


def _id_for_day(region: str, day: int, seq: int) -> str:
    """``make_id`` for a day ordinal, fast enough for a whole county."""
    ymd = _ISO[day - DAY0].replace("-", "")
    date_sum = _DATE_SUM.get(day)
    if date_sum is None:
        date_sum = _DATE_SUM[day] = sum(
            int(d) * w for d, w in zip(ymd, ID_WEIGHTS[6:14], strict=True)
        )
    region_sum = _REGION_SUM.get(region)
    if region_sum is None:
        region_sum = _REGION_SUM[region] = sum(
            int(d) * w for d, w in zip(region, ID_WEIGHTS[:6], strict=True)
        )
    return f"{region}{ymd}{seq:03d}{ID_CHECK[(region_sum + date_sum + _SEQ_SUM[seq]) % 11]}"


def iso(day: int) -> str:
    """``YYYY-MM-DD`` of a day ordinal."""
    return _ISO[day - DAY0]


def plus_years(day: int, years: int) -> int:
    """The day ``years`` after ``day`` (29 February becomes 1 March)."""
    d = dt.date.fromordinal(day)
    try:
        return d.replace(year=d.year + years).toordinal()
    except ValueError:
        return dt.date(d.year + years, 3, 1).toordinal()


def age_on(birth: int, day: int) -> int:
    """Completed years of someone born on ``birth`` on ``day``."""
    (by, bmd), (dy, dmd) = _YMD[birth - DAY0], _YMD[day - DAY0]
    return dy - by - (dmd < bmd)


def _tail(**values: str) -> str:
    """The columns after ``date`` of an events row, each preceded by its comma."""
    return "," + ",".join(str(values.get(c, "")) for c in EVENT_COLUMNS[3:])


EMPTY_TAIL = _tail()
KIND_CODES = {
    k: i
    for i, k in enumerate(
        [
            "marriage", "divorce", "widowhood", "pregnancy", "outcome", "birth", "death",
            "move_in", "move_out", "move_within", "method_start", "method_stop", "checkup",
            "screening", "followup", "education",
        ]
    )
}  # fmt: skip


@dataclass
class Union:
    """A marriage living on 2021-01-01 or made later: ``husband``/``wife`` are person
    indexes, or -1 with the outside spouse's ID number in ``outside``."""

    husband: int
    wife: int
    start: int
    outside: str = ""
    end: int = STOP_DAY  # first day no longer married (divorce, widowhood, a death)
    end_reason: str = ""
    method: tuple[int, str, int] | None = None  # (owner, method, start day) in use
    kids: list[int] = field(default_factory=list)  # birth days of registered children


@dataclass
class Summary:
    """What ``generate`` wrote."""

    persons: int
    events: int
    villages: int
    by_kind: dict[str, int]
    children: int
    seconds: float


class _County:
    """The synthetic county being built; persons are indexes into parallel lists."""

    def __init__(self, persons: int, events: int, seed: int):
        self.rng = random.Random(seed)
        self.n_persons = persons
        self.n_events = events
        self.id: list[str] = []
        self.sex: list[str] = []
        self.birth: list[int] = []
        self.village: list[str] = []
        self.hukou: list[str] = []
        self.household: list[str] = []
        self.name: list[str] = []
        self.lbb: list[int] = []
        self.union: list[Union | None] = []
        self.death: list[int | None] = []
        self.residence: list[list[tuple[int, int]]] = []
        self.moves: list[list[tuple[int, str]]] = []  # (day, new village) of move_in/move_within
        self.in_migrant: list[bool] = []
        self.marriage_day: list[int | None] = []
        self.seq: dict[tuple[str, int], int] = {}
        self.days: dict[int, list[str]] = {}
        self.seen: set[int] = set()
        self.counts: Counter[str] = Counter()
        self.children = 0
        self.unions: list[Union] = []
        # Vectorised services: (person, first day, day after last) windows by kind.
        self.windows: dict[str, list[tuple[int, int, int]]] = {
            "checkup": [], "screening": [], "followup": [], "menopause": [], "childrearing": [],
        }  # fmt: skip

    # -- identities -------------------------------------------------------------

    def new_id(self, region: str, birth: int, sex: str) -> str:
        """An ID number no one else in the files has, for a person born on day ``birth``."""
        # Sequence numbers per region and birth date: odd for men, even for women, from an
        # offset that varies by date as real police-station codes do.
        key = (region + sex, birth)
        k = self.seq.get(key, 0)
        self.seq[key] = k + 1
        start = birth * 7919 % 200
        if start + k > 498:
            raise ValueError(f"more than {499 - start} people of one sex born on {iso(birth)}")
        return _id_for_day(region, birth, 2 * (start + k) + (1 if sex == "M" else 2))

    def person_name(self, sex: str, surname: str | None = None) -> str:
        """A Chinese name: the surname given (or a common one) and one or two characters."""
        rng = self.rng
        pool = MALE_GIVEN if sex == "M" else FEMALE_GIVEN
        given = rng.choice(pool) if rng.random() < 0.35 else rng.choice(pool) + rng.choice(pool)
        return (surname or rng.choice(SURNAMES)) + given

    def add_person(self, sex: str, birth: int, *, in_migrant: bool = False) -> int:
        """A new person of the persons file; returns their index."""
        self.id.append(self.new_id(COUNTY, birth, sex))
        self.sex.append(sex)
        self.birth.append(birth)
        self.village.append("")
        self.hukou.append("")
        self.household.append("")
        self.name.append("")
        self.lbb.append(0)
        self.union.append(None)
        self.death.append(None)
        self.residence.append([])
        self.moves.append([])
        self.in_migrant.append(in_migrant)
        self.marriage_day.append(None)
        return len(self.id) - 1

    # -- events -------------------------------------------------------------------

    def emit(self, p: int, kind: str, day: int, tail: str = EMPTY_TAIL, *, idn: str = "") -> bool:
        """Add an events row; False (and nothing added) if the person already has an
        event of this kind on this day."""
        if p >= 0:
            key = ((p << 5 | KIND_CODES[kind]) << 20) | day
            if key in self.seen:
                return False
            self.seen.add(key)
            idn = self.id[p]
        bucket = self.days.get(day)
        if bucket is None:
            bucket = self.days[day] = []
        bucket.append(f"{idn},{kind},{_ISO[day - DAY0]}{tail}")
        self.counts[kind] += 1
        return True

    def village_on(self, p: int, day: int) -> str:
        """The village the person lives in on ``day`` (after that day's moves)."""
        village = self.village[p]
        for when, where in self.moves[p]:
            if when <= day:
                village = where
        return village

    def resident_span(self, p: int, day: int) -> tuple[int, int] | None:
        """The residence interval containing ``day``, if the person lives in the county then."""
        for s, e in self.residence[p]:
            if s <= day < e:
                return s, e
        return None

    def clip(self, p: int, start: int, stop: int) -> list[tuple[int, int]]:
        """The parts of [start, stop) when the person lives in the county."""
        out = []
        for s, e in self.residence[p]:
            a, b = max(s, start), min(e, stop)
            if a < b:
                out.append((a, b))
        return out

    def add_window(self, kind: str, p: int, start: int, stop: int) -> None:
        """Make the person due services of ``kind`` in [start, stop) while living here."""
        for a, b in self.clip(p, start, stop):
            self.windows[kind].append((p, a, b))


# ---------------------------------------------------------------------------
# Org units


def build_orgunits(rng: random.Random) -> tuple[list[tuple[str, str, str]], list[str], list[float]]:
    """The org-unit rows, the village codes and each village's relative size."""
    rows = [(COUNTY, COUNTY_NAME, "")]
    villages, weights = [], []
    base, extra = divmod(VILLAGE_COUNT, len(TOWNSHIPS))
    for t, township in enumerate(TOWNSHIPS):
        code = f"{COUNTY}{100 + t:03d}"
        rows.append((code, township, COUNTY))
        count = base + (1 if t < extra else 0)
        names: list[str] = []
        if t == 0:  # the county seat: street communities (居委会, 0xx codes) first
            names = list(COMMUNITIES)
        while len(names) < count:
            name = rng.choice(VILLAGE_PREFIX) + rng.choice(VILLAGE_SUFFIX) + "村"
            if name not in names:
                names.append(name)
        for i, name in enumerate(names):
            community = t == 0 and i < len(COMMUNITIES)
            vcode = f"{code}{i + 1:03d}" if community else f"{code}{201 + i - (5 if t == 0 else 0)}"
            rows.append((vcode, name, code))
            villages.append(vcode)
            weights.append(rng.lognormvariate(0, 0.35) * (3.0 if community else 1.0))
    return rows, villages, weights


# ---------------------------------------------------------------------------
# Persons and households


# Age at first marriage (completed years) and its weight; women marry from 20, men from 22.
FIRST_MARRIAGE_AGE = {
    "F": [(20, 8), (21, 10), (22, 12), (23, 13), (24, 12), (25, 10), (26, 8), (27, 6), (28, 5),
          (29, 4), (30, 3), (31, 2), (32, 2), (33, 1.5), (34, 1.5), (36, 1), (38, 1)],
    "M": [(22, 9), (23, 11), (24, 12), (25, 12), (26, 11), (27, 9), (28, 8), (29, 6), (30, 5),
          (31, 4), (32, 3), (33, 2), (34, 2), (36, 2), (38, 1.5), (40, 1)],
}  # fmt: skip
EVER_MARRY = {"F": 0.96, "M": 0.88}  # rural men stay unmarried more often (光棍)


def _marriage_day(rng: random.Random, sex: str, birth: int) -> int | None:
    """The day this person first marries, or None if they never do."""
    if rng.random() > EVER_MARRY[sex]:
        return None
    table = FIRST_MARRIAGE_AGE[sex]
    age = rng.choices([a for a, _ in table], [w for _, w in table])[0]
    return plus_years(birth, age) + rng.randrange(365)


def _still_married(age: int) -> float:
    """Share of the ever-married living in their marriage at ``age`` (the rest widowed or divorced)."""
    return 0.97 if age < 60 else 0.9 if age < 70 else 0.75 if age < 80 else 0.5


def build_persons(c: _County, villages: list[str], weights: list[float]) -> None:
    """Persons by age and sex, the couples among them, their children and households."""
    rng = c.rng
    n_in = round(c.n_persons * IN_MIGRANT_SHARE)
    n_base = c.n_persons - n_in
    groups = [lo for lo, _ in AGE_GROUPS]
    cum = []
    total = 0.0
    for _, share in AGE_GROUPS:
        total += share
        cum.append(total)
    for lo in rng.choices(groups, cum_weights=cum, k=n_base):
        age_days = int((lo + rng.random() * 5) * 365.2425)
        birth = START_DAY - 1 - age_days
        male = 0.53 if lo < 20 else 0.51 if lo < 60 else 0.49 if lo < 80 else 0.42
        c.add_person("M" if rng.random() < male else "F", birth)

    ages = [age_on(b, START_DAY) for b in c.birth]
    # One marriage age per person: those who reached it before 2021 form the couples of
    # 2021-01-01, the others marry during the five years (write_new_marriages).
    married = []
    for p in range(n_base):
        day = _marriage_day(rng, c.sex[p], c.birth[p])
        c.marriage_day[p] = day
        married.append(
            day is not None and day < START_DAY and rng.random() < _still_married(ages[p])
        )

    # Couples: each married woman with the married man nearest the age ~2 years older.
    women = sorted((c.birth[p], p) for p in range(n_base) if married[p] and c.sex[p] == "F")
    men = sorted((c.birth[p], p) for p in range(n_base) if married[p] and c.sex[p] == "M")
    men_birth = [b for b, _ in men]
    order = list(range(len(women)))
    rng.shuffle(order)
    single_women = []
    for i in order:
        wb, w = women[i]
        target = wb - int(rng.gauss(2.0, 2.5) * 365.25)
        j = bisect.bisect_left(men_birth, target)
        best = min(
            (k for k in (j - 1, j) if 0 <= k < len(men)),
            key=lambda k: abs(men_birth[k] - target),
            default=None,
        )
        if best is None or not -5 * 365 <= wb - men_birth[best] <= 12 * 365:
            single_women.append(w)
            continue
        h = men.pop(best)[1]
        men_birth.pop(best)
        _base_union(c, h, w)
    # Married people left without a partner in the register: a spouse registered
    # elsewhere for half of them; the others live unmarried in the register.
    for w in single_women:
        if rng.random() < 0.5:
            _base_union(c, -1, w)
    for _, h in men:
        if rng.random() < 0.5:
            _base_union(c, h, -1)

    # Children (unmarried, under 30) to couples whose wife was 20-40 at their birth.
    by_year: dict[int, list[Union]] = {}
    for u in c.unions:
        if u.wife >= 0:
            by_year.setdefault(dt.date.fromordinal(c.birth[u.wife]).year, []).append(u)
    mother_ages = [
        a
        for a, w in zip(
            range(20, 41),
            [3, 6, 9, 11, 12, 12, 11, 9, 7, 5, 4, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1],
            strict=True,
        )
        for _ in range(w)
    ]
    members: dict[int, list[int]] = {}  # union index -> children and elders
    union_index = {id(u): i for i, u in enumerate(c.unions)}
    loose_children, elders, singles = [], [], []
    people = [p for p in range(n_base) if c.union[p] is None]
    rng.shuffle(people)
    for p in people:
        if ages[p] >= 30:
            (elders if ages[p] >= 55 else singles).append(p)
            continue
        b = c.birth[p]
        year = dt.date.fromordinal(b).year
        for _ in range(6):
            bucket = by_year.get(year - rng.choice(mother_ages))
            if not bucket:
                continue
            u = rng.choice(bucket)
            limit = 4 if c.birth[u.wife] < dt.date(1975, 1, 1).toordinal() else 3
            if u.start + 300 <= b and len(u.kids) < limit and all(abs(k - b) > 330 for k in u.kids):
                u.kids.append(b)
                members.setdefault(union_index[id(u)], []).append(p)
                break
        else:
            (singles if ages[p] >= 18 else loose_children).append(p)

    # Elders: about half live with a child's family, the others on their own.
    hosts: list[list[int]] = []  # households: lists of persons
    elder_home: dict[int, list[int]] = {}
    for p in elders:
        bucket = by_year.get(dt.date.fromordinal(c.birth[p]).year + rng.randint(24, 32))
        if bucket and rng.random() < 0.5:
            u = rng.choice(bucket)
            members.setdefault(union_index[id(u)], []).append(p)
        else:
            home = [p]
            hosts.append(home)
            elder_home[p] = home
    # Children with no parents in the register live with a grandparent (留守儿童).
    elder_homes = list(elder_home.values())
    for p in loose_children:
        if elder_homes:
            rng.choice(elder_homes).append(p)
        else:
            hosts.append([p])
    for i, u in enumerate(c.unions):
        hosts.append([x for x in (u.husband, u.wife) if x >= 0] + members.get(i, []))
    hosts.extend([p] for p in singles)

    # In-migrants: young adults arriving during the five years, each in a household of their own.
    for _ in range(n_in):
        birth = START_DAY - 1 - int((18 + rng.random() * 17) * 365.2425)
        p = c.add_person("M" if rng.random() < 0.6 else "F", birth, in_migrant=True)
        hosts.append([p])

    counters: Counter[str] = Counter()
    village_cum = list(itertools.accumulate(weights))
    for home in hosts:
        village = villages[bisect.bisect_right(village_cum, rng.random() * village_cum[-1])]
        counters[village] += 1
        number = f"{village}{counters[village]:04d}"
        surname = rng.choice(SURNAMES)
        for p in home:
            c.village[p] = village
            c.household[p] = number
            # Children take the family's surname; wives and elderly women keep their own.
            own_surname = (
                c.sex[p] == "F"
                and p != home[0]
                and (c.union[p] is not None or c.birth[p] <= OLD_BIRTH)
            )
            c.name[p] = c.person_name(c.sex[p], None if own_surname else surname)
            # Some people are registered (户籍) in another village of the county.
            c.hukou[p] = rng.choice(villages) if rng.random() < 0.03 else ""

    # Live births before registration: the children in the household, and for older
    # women the grown children who have left it.
    for u in c.unions:
        if u.wife < 0:
            continue
        age = ages[u.wife]
        target = len(u.kids)
        if age >= 50:
            target = max(target, rng.choices([1, 2, 3, 4], [15, 45, 30, 10])[0])
        elif age >= 30:
            target = max(target, rng.choices([0, 1, 2, 3], [5, 35, 45, 15])[0])
        c.lbb[u.wife] = target


def _base_union(c: _County, h: int, w: int) -> None:
    """A marriage living on 2021-01-01, dated when it was made."""
    rng = c.rng
    outside = ""
    if h < 0:
        hb = c.birth[w] - int(rng.gauss(2.0, 2.0) * 365.25)
        outside = c.new_id(rng.choice(OUTSIDE_REGIONS), min(hb, plus_years(START_DAY, -23)), "M")
    elif w < 0:
        wb = c.birth[h] + int(rng.gauss(2.0, 2.0) * 365.25)
        outside = c.new_id(rng.choice(OUTSIDE_REGIONS), min(wb, plus_years(START_DAY, -21)), "F")
    wb = id_birth(outside).toordinal() if w < 0 else c.birth[w]
    hb = id_birth(outside).toordinal() if h < 0 else c.birth[h]
    lower = max(plus_years(wb, 20), plus_years(hb, 22))
    wish = c.marriage_day[w if w >= 0 else h] or lower
    start = min(max(wish, lower), START_DAY - 1)
    if lower > START_DAY - 1:  # too young to have married before 2021: not a couple after all
        return
    u = Union(husband=h, wife=w, start=start, outside=outside)
    c.unions.append(u)
    for p in (h, w):
        if p >= 0:
            c.union[p] = u


# ---------------------------------------------------------------------------
# The five years


def plan_residence(c: _County) -> None:
    """Deaths and moves into and out of the county; each person's residence intervals."""
    rng = c.rng
    for p in range(len(c.id)):
        if c.in_migrant[p]:
            arrive = START_DAY + rng.randrange(STOP_DAY - START_DAY - 30)
            c.moves[p].append((arrive, c.village[p]))
            spans = [(arrive, STOP_DAY)]
            if rng.random() < 0.3:  # unmarried on arrival; some marry within a few years
                adult = plus_years(c.birth[p], 20 if c.sex[p] == "F" else 22)
                c.marriage_day[p] = max(arrive + int(rng.expovariate(1 / 500)), adult)
        else:
            spans = [(START_DAY, STOP_DAY)]
            age = age_on(c.birth[p], START_DAY)
            if 16 <= age <= 45:
                for year in range(5):
                    if rng.random() < 0.012:
                        leave = START_DAY + year * 365 + rng.randrange(365)
                        spans = [(START_DAY, leave)]
                        back = leave + rng.randint(180, 900)
                        if rng.random() < 0.3 and back < STOP_DAY - 1:
                            # Back in the county: the village is chosen when the rows are written.
                            spans.append((back, STOP_DAY))
                            c.moves[p].append((back, ""))
                        break
        # Death: yearly hazard by age, only while living in the county.
        death = None
        for year in range(5):
            age = age_on(c.birth[p], START_DAY) + year
            if rng.random() < _death_hazard(age):
                day = START_DAY + year * 365 + rng.randrange(365)
                if any(s < day < e for s, e in spans):
                    death = day
                break
        if death is not None:
            spans = [(s, min(e, death)) for s, e in spans if s < death]
        c.death[p] = death
        c.residence[p] = spans


def _death_hazard(age: int) -> float:
    """Yearly probability of dying at ``age`` (Gompertz, about 7 per 1,000 overall)."""
    return 0.000033 * math.exp(0.09 * age) + 0.0004


def write_moves_and_deaths(c: _County, villages: list[str]) -> None:
    """The move and death rows of the residence planned by ``plan_residence``."""
    rng = c.rng
    for p in range(len(c.id)):
        spans = c.residence[p]
        if c.in_migrant[p]:
            c.emit(p, "move_in", spans[0][0], _tail(village=c.village[p]))
        else:
            first_end = spans[0][1]
            if first_end < STOP_DAY and first_end != c.death[p]:
                c.emit(p, "move_out", first_end, _tail(village=rng.choice(DESTINATIONS)))
            if len(spans) > 1:
                back = spans[1][0]
                where = c.village_on(p, back - 1) if rng.random() < 0.8 else rng.choice(villages)
                c.moves[p] = [(d, v) for d, v in c.moves[p] if d != back] + [(back, where)]
                c.moves[p].sort()
                c.emit(p, "move_in", back, _tail(village=where))
                if spans[1][1] < STOP_DAY and spans[1][1] != c.death[p]:
                    c.emit(p, "move_out", spans[1][1], _tail(village=rng.choice(DESTINATIONS)))
        if c.death[p] is not None:
            c.emit(p, "death", c.death[p])


def write_base_unions(c: _County) -> None:
    """Marriage rows of the couples of 2021-01-01, and the methods they used that day."""
    rng = c.rng
    for u in c.unions:
        if u.husband >= 0 and u.wife >= 0:
            rows = (u.husband, u.wife) if rng.random() < 0.9 else (rng.choice((u.husband, u.wife)),)
            for p in rows:
                other = u.wife if p == u.husband else u.husband
                c.emit(p, "marriage", u.start, _tail(spouse_id_number=c.id[other]))
        else:
            p = u.husband if u.husband >= 0 else u.wife
            c.emit(p, "marriage", u.start, _tail(spouse_id_number=u.outside))
        if u.wife < 0:
            continue
        age = age_on(c.birth[u.wife], START_DAY)
        if not 20 <= age < 50 or rng.random() > 0.87:
            continue
        parity = c.lbb[u.wife]
        method = _choose_method(rng, parity, age)
        owner = _owner(rng, u, method)
        if owner < 0:
            continue
        # Started after the wedding and the youngest child's postpartum weeks.
        lower = max(
            u.start, (max(u.kids) + 42) if u.kids else u.start, plus_years(c.birth[owner], 18)
        )
        if lower >= START_DAY:
            continue
        day = lower + rng.randrange(START_DAY - lower)
        c.emit(owner, "method_start", day, _tail(method=method))
        u.method = (owner, method, day)


def _choose_method(rng: random.Random, parity: int, age: int) -> str:
    table = METHODS_COMPLETE if parity >= 2 and age >= 28 else METHODS_SPACING
    return rng.choices([m for m, _ in table], [w for _, w in table])[0]


def _owner(rng: random.Random, u: Union, method: str) -> int:
    """Whose row records the method: male methods on the husband's when he is registered."""
    if method == "male_sterilization":
        return u.husband if u.husband >= 0 else -1
    if method == "condom" and u.husband >= 0 and rng.random() < 0.5:
        return u.husband
    return u.wife


def write_new_marriages(c: _County) -> None:
    """Marriages of unmarried people during the five years; brides move to the husband's village."""
    rng = c.rng
    brides, grooms = [], []
    for p in range(len(c.id)):
        day = c.marriage_day[p]
        if c.union[p] is not None or day is None or not START_DAY <= day < STOP_DAY:
            continue
        if c.resident_span(p, day):
            (brides if c.sex[p] == "F" else grooms).append((day, p))
    brides.sort()
    grooms.sort()
    free = [True] * len(grooms)
    groom_days = [d for d, _ in grooms]
    for day, w in brides:
        husband = -1
        if rng.random() < 0.6:
            # The free registered groom who would marry nearest that day and lives in the county.
            below = bisect.bisect_left(groom_days, day) - 1
            above = below + 1
            while below >= 0 or above < len(grooms):
                if above < len(grooms) and (
                    below < 0 or groom_days[above] - day <= day - groom_days[below]
                ):
                    j, above = above, above + 1
                else:
                    j, below = below, below - 1
                if abs(groom_days[j] - day) > 400:
                    break
                h = grooms[j][1]
                if free[j] and c.resident_span(h, day) and plus_years(c.birth[h], 22) <= day:
                    free[j] = False
                    husband = h
                    break
        if husband >= 0:
            u = Union(husband=husband, wife=w, start=day)
            if rng.random() < 0.9:
                c.emit(husband, "marriage", day, _tail(spouse_id_number=c.id[w]))
            c.emit(w, "marriage", day, _tail(spouse_id_number=c.id[husband]))
            home = c.village_on(husband, day)
            if home != c.village_on(w, day) and rng.random() < 0.8:
                c.moves[w].append((day, home))
                c.moves[w].sort()
                c.emit(w, "move_within", day, _tail(village=home))
        else:
            sb = c.birth[w] - int(abs(rng.gauss(2.5, 2.0)) * 365.25)
            outside = c.new_id(rng.choice(OUTSIDE_REGIONS), min(sb, plus_years(day, -22)), "M")
            u = Union(husband=-1, wife=w, start=day, outside=outside)
            c.emit(w, "marriage", day, _tail(spouse_id_number=outside))
        c.unions.append(u)
        c.union[w] = u
        if husband >= 0:
            c.union[husband] = u
        _newlywed_education(c, u)
    for j, (day, h) in enumerate(grooms):
        if not free[j]:
            continue
        wb = c.birth[h] + int(abs(rng.gauss(2.0, 2.0)) * 365.25)
        outside = c.new_id(rng.choice(OUTSIDE_REGIONS), min(wb, plus_years(day, -20)), "F")
        u = Union(husband=h, wife=-1, start=day, outside=outside)
        c.emit(h, "marriage", day, _tail(spouse_id_number=outside))
        c.unions.append(u)
        c.union[h] = u
        _newlywed_education(c, u)


def _newlywed_education(c: _County, u: Union) -> None:
    rng = c.rng
    for p, share in ((u.wife, 0.6), (u.husband, 0.3)):
        if p >= 0 and rng.random() < share:
            day = u.start + rng.randint(7, 120)
            if c.resident_span(p, day):
                c.emit(p, "education", day, _tail(stage="newlywed"))


def write_random_moves(c: _County, villages: list[str]) -> None:
    """Moves within the county of people who have no other move (a new house, work)."""
    rng = c.rng
    for p in range(len(c.id)):
        if c.moves[p] or c.union[p] is not None and c.union[p].start >= START_DAY:
            continue
        if rng.random() > 0.015:
            continue
        s, e = c.residence[p][0] if c.residence[p] else (0, 0)
        if e - s < 2:
            continue
        day = s + 1 + rng.randrange(e - s - 1)
        where = rng.choice(villages)
        if where != c.village[p]:
            c.moves[p].append((day, where))
            c.emit(p, "move_within", day, _tail(village=where))


def end_unions(c: _County) -> None:
    """Deaths end marriages; some couples divorce; spouses outside the register die."""
    rng = c.rng
    for u in c.unions:
        ends = [c.death[p] for p in (u.husband, u.wife) if p >= 0 and c.death[p] is not None]
        u.end = min([STOP_DAY, *ends])
        first = max(u.start + 365, START_DAY)
        if first >= u.end:
            continue
        if rng.random() < 0.003 * (u.end - first) / 365.25:
            day = first + rng.randrange(u.end - first)
            u.end, u.end_reason = day, "divorce"
            if u.husband >= 0 and u.wife >= 0:
                both = rng.random() < 0.9
                for p in (u.husband, u.wife) if both else (rng.choice((u.husband, u.wife)),):
                    other = u.wife if p == u.husband else u.husband
                    c.emit(p, "divorce", day, _tail(spouse_id_number=c.id[other]))
            else:
                p = u.husband if u.husband >= 0 else u.wife
                c.emit(p, "divorce", day, _tail(spouse_id_number=u.outside))
            continue
        if u.outside:
            p = u.husband if u.husband >= 0 else u.wife
            age = age_on(id_birth(u.outside).toordinal(), START_DAY)
            if rng.random() < _death_hazard(age) * (u.end - first) / 365.25:
                day = first + rng.randrange(u.end - first)
                u.end, u.end_reason = day, "widowhood"
                c.emit(p, "widowhood", day)


# ---------------------------------------------------------------------------
# Childbearing and contraception


def write_families(c: _County) -> None:
    """Pregnancies, outcomes, births and method use of every married woman under 50."""
    for u in c.unions:
        if u.wife >= 0:
            _family(c, u)
        if u.method is not None:
            # A divorced husband stops the couple's condom; a widow stops a temporary method.
            owner, method, _ = u.method
            if u.end_reason == "divorce" and owner == u.husband and method == "condom":
                _stop_method(c, u, u.end, "离婚")
            elif u.end_reason == "widowhood" and method not in PERMANENT:
                _stop_method(c, u, u.end, "丧偶")
        if u.method is not None:
            _episode_window(c, u.method, u.end)


def _family(c: _County, u: Union) -> None:
    rng = c.rng
    w = u.wife
    birth = c.birth[w]
    age50 = plus_years(birth, 50)
    age45 = plus_years(birth, 45)
    parity = c.lbb[w]
    last_birth = max(u.kids) if u.kids else None
    # Check-ups while married and 15-49, and the youngest child's childrearing years.
    c.add_window("checkup", w, max(u.start, START_DAY, plus_years(birth, 15)), min(u.end, age50))
    if u.kids and plus_years(max(u.kids), 7) > START_DAY:
        for parent in (w, u.husband):
            if parent >= 0:
                c.add_window(
                    "childrearing", parent, START_DAY, min(u.end, plus_years(max(u.kids), 7))
                )
    no_conception_until = (last_birth + 540) if last_birth else 0
    stop = min(u.end, age50)
    segments = c.clip(w, max(u.start, START_DAY), stop)
    if segments and segments[0][0] == START_DAY and not c.in_migrant[w]:
        # Pregnancies under way on 2021-01-01 were conceived in 2020 (births from 2021-01).
        early = max(START_DAY - 240, u.start + 1, u.method[2] + 1 if u.method else 0)
        segments[0] = (min(early, START_DAY), segments[0][1])
    for seg_start, seg_end in segments:
        t = seg_start
        while t < seg_end:
            age = age_on(birth, t)
            sterile = u.method is not None and u.method[1] in PERMANENT
            hc = 0.0
            if not sterile and t < age45 and t >= no_conception_until:
                married_years = (t - u.start) / 365.25
                hc = (
                    (0.9 if married_years < 3 else 0.2) if parity == 0
                    else 0.1 if parity == 1 and age < 38
                    else 0.02 if parity == 2
                    else 0.004
                )  # fmt: skip
                if age >= 40:
                    hc *= 0.3
            if u.method is None:
                wants_child = parity == 0 or (parity == 1 and age < 35)
                hm = 0.1 if wants_child else 0.5
            else:
                hm = (
                    0.0
                    if u.method[1] in PERMANENT
                    else 0.04
                    if u.method[1] in LONG_ACTING
                    else 0.12
                )
            tc = t + 1 + int(rng.expovariate(hc) * 365.25) if hc else STOP_DAY * 2
            if tc >= age45:  # no conception after 45: every birth is to a mother under 50
                tc = STOP_DAY * 2
            tm = t + 1 + int(rng.expovariate(hm) * 365.25) if hm else STOP_DAY * 2
            if t < no_conception_until and no_conception_until < min(tc, tm):
                t = no_conception_until
                continue
            if min(tc, tm) >= seg_end:
                break
            if tm < tc:
                t = _method_change(c, u, tm, parity, age)
                continue
            # A conception planned for tc: stop the method in use some months before.
            if u.method is not None:
                stop_day = max(t + 1, tc - rng.randint(30, 240), u.method[2] + 1)
                _stop_method(c, u, stop_day, "计划怀孕")
                tc = max(tc, stop_day + 30)
            result = _pregnancy(c, u, tc, seg_end, parity)
            if result is None:
                return
            t, births = result
            if births:
                parity += births
                last_birth = t
                no_conception_until = t + 540
                t = _postpartum(c, u, t, seg_end, parity, age)
        menopause = stop == age50 and seg_end == age50 and rng.random() < 0.5
        if menopause and u.method is not None and u.method[1] not in PERMANENT:
            _stop_method(c, u, max(age50 - rng.randint(1, 180), u.method[2] + 1), "绝经")


def _pregnancy(c: _County, u: Union, lmp: int, seg_end: int, parity: int):
    """A pregnancy from ``lmp``; returns (day it ended, live births), or None when it is
    still going on (or the woman left) at the end of her time in the register."""
    rng = c.rng
    w = u.wife
    span = c.resident_span(w, lmp)
    resident_until = span[1] if span else seg_end
    registered = lmp + rng.randint(42, 100)
    if registered >= resident_until or registered >= seg_end:
        return None
    c.emit(
        w, "pregnancy", registered, _tail(lmp_date=iso(lmp)) if rng.random() < 0.85 else EMPTY_TAIL
    )
    roll = rng.random()
    if roll < 0.10:
        end, outcome = max(lmp + rng.randint(50, 110), registered + 7), "miscarriage"
    elif roll < 0.14:
        end, outcome = max(lmp + rng.randint(45, 80), registered + 3), "induced_abortion"
    elif roll < 0.145:
        end, outcome = lmp + rng.randint(200, 280), "stillbirth"
    else:
        end, outcome = lmp + rng.randint(266, 292), ""
    if end >= resident_until:
        return None
    if rng.random() < 0.6:
        day = registered + rng.randint(14, 120)
        if START_DAY <= day < end:
            c.emit(w, "education", day, _tail(stage="pregnancy"))
    if outcome:
        c.emit(w, "outcome", end, _tail(outcome=outcome))
        _followups(c, w, end, resident_until, [(7, 30)], 0.7)
        return end + rng.randint(30, 90), 0
    twins = rng.random() < 0.0125
    surname = c.name[u.husband][0] if u.husband >= 0 else c.name[w][0]
    for i in range(2 if twins else 1):
        sex = "M" if rng.random() < 0.524 else "F"
        child = c.new_id(COUNTY, end, sex)
        weight = int(rng.gauss(2500 if twins else 3250, 420))
        weight = min(max(weight, 1500), 4900)
        tail = _tail(
            child_id_number=child, child_name=c.person_name(sex, surname), child_sex=sex,
            delivery_place="facility" if rng.random() < 0.985 else "home", birth_weight_g=weight,
        )  # fmt: skip
        if i == 0:
            c.emit(w, "birth", end, tail)
        else:  # the second twin: a second birth row the same day
            c.emit(-1, "birth", end, tail, idn=c.id[w])
        c.children += 1
    _followups(c, w, end, resident_until, [(3, 7), (28, 42)], 0.9)
    if rng.random() < 0.5:
        day = end + rng.randint(30, 150)
        if day < resident_until:
            c.emit(w, "education", day, _tail(stage="lactation"))
    for parent in (w, u.husband):
        if parent >= 0:
            c.add_window("childrearing", parent, end, plus_years(end, 7))
    return end, 2 if twins else 1


def _postpartum(c: _County, u: Union, born: int, seg_end: int, parity: int, age: int) -> int:
    rng = c.rng
    day = born + rng.randint(42, 180)
    if day < seg_end and rng.random() < 0.75:
        _start_method(c, u, day, _choose_method(rng, parity, age))
    return min(day, seg_end)


def _method_change(c: _County, u: Union, day: int, parity: int, age: int) -> int:
    rng = c.rng
    if u.method is None:
        _start_method(c, u, day, _choose_method(rng, parity, age))
        return day
    old = u.method[1]
    _stop_method(c, u, day, rng.choice(STOP_REASONS))
    if rng.random() < 0.6:
        choices = [m for m in ("iud", "condom", "pill", "implant", "injectable") if m != old]
        _start_method(c, u, day, rng.choice(choices))
    return day


def _start_method(c: _County, u: Union, day: int, method: str) -> None:
    owner = _owner(c.rng, u, method)
    if owner < 0:
        method, owner = "condom", u.wife
    if c.emit(owner, "method_start", day, _tail(method=method)):
        u.method = (owner, method, day)
        if method in LONG_ACTING:
            span = c.resident_span(owner, day)
            if span:
                _followups(c, owner, day, min(span[1], u.end), [(25, 40), (80, 100)], 0.85)


def _stop_method(c: _County, u: Union, day: int, reason: str) -> None:
    owner, method, start = u.method
    c.emit(owner, "method_stop", day, _tail(method=method, reason=reason))
    _episode_window(c, u.method, day)
    u.method = None


def _episode_window(c: _County, method: tuple[int, str, int], until: int) -> None:
    """Yearly follow-up visits of long-acting methods (the IUD check, 查环) while in use."""
    owner, kind, start = method
    if kind in LONG_ACTING:
        c.add_window("followup", owner, max(start + 180, START_DAY), until)


def _followups(c: _County, p: int, day: int, until: int, delays, share: float) -> None:
    rng = c.rng
    for lo, hi in delays:
        when = day + rng.randint(lo, hi)
        if START_DAY <= when < min(until, STOP_DAY) and rng.random() < share:
            tail = (
                _tail(findings=rng.choice(FOLLOWUP_FINDINGS)) if rng.random() < 0.04 else EMPTY_TAIL
            )
            c.emit(p, "followup", when, tail)


# ---------------------------------------------------------------------------
# Services: the bulk of the file, spread over each person's windows


def write_services(c: _County) -> None:
    """Service encounters up to the requested total, at regular intervals in each window.

    Each kind has a base yearly rate per person in its window: check-ups of married
    women 15-49 every quarter (the classic 四季度康检), screening of women 20-64 and the
    IUD check once a year, menopause and childrearing education sessions about yearly.
    All rates are scaled together so that the file holds ``--events`` events. A person's
    visits of one kind are evenly spaced, with some jitter, so nobody is screened twice
    in a week.
    """
    rng = c.rng
    for p in range(len(c.id)):
        if c.sex[p] == "F":
            b = c.birth[p]
            c.add_window("screening", p, plus_years(b, 20), plus_years(b, 65))
            c.add_window("menopause", p, plus_years(b, 45), plus_years(b, 56))
    rates = {
        "checkup": 4.0,
        "screening": 1.0,
        "followup": 1.0,
        "menopause": 0.8,
        "childrearing": 0.8,
    }
    lengths = {k: sum(b - a for _, a, b in w) for k, w in c.windows.items()}
    expected = sum(rates[k] * lengths[k] / 365.25 for k in rates)
    budget = c.n_events - sum(c.counts.values())
    if budget <= 0 or expected <= 0:
        return
    scale = budget / expected
    targets = {k: round(rates[k] * lengths[k] / 365.25 * scale) for k in rates}
    # Give the rounding remainder to check-ups so the total is what was asked for.
    targets["checkup"] += budget - sum(targets.values())
    screening_tails = [_tail(findings=f) for f in SCREENING_FINDINGS] + [
        _tail(findings=f"{a};{b}") for a in SCREENING_FINDINGS[:3] for b in SCREENING_FINDINGS[3:]
    ]
    plans = [
        ("checkup", "checkup", [_tail(findings=f) for f in CHECKUP_FINDINGS], 0.08),
        ("screening", "screening", screening_tails, 0.18),
        ("followup", "followup", [_tail(findings="节育器下移")], 0.03),
        ("menopause", "education", None, 0.0),
        ("childrearing", "education", None, 0.0),
    ]
    for window, kind, tails, share in plans:
        segments = c.windows[window]
        target = targets[window]
        if not segments or target <= 0:
            continue
        total = lengths[window]
        # All windows of a kind laid end to end: points one step apart (jittered by up to a
        # quarter step) give each person visits a step apart, in proportion to their time.
        step = total / target
        offset = rng.random() * step
        points = [
            min(total - 1, int(offset + k * step + (rng.random() - 0.5) * step * 0.5))
            for k in range(target)
        ]
        fixed = _tail(stage=window) if kind == "education" else EMPTY_TAIL
        made = _place(c, segments, points, kind, fixed, tails, share)
        # Points that fell on a day the person already has this kind of visit: elsewhere.
        for _ in range(3):
            if made >= target:
                break
            points = sorted(int(rng.random() * total) for _ in range(target - made))
            made += _place(c, segments, points, kind, fixed, tails, share)
        c.counts[kind] += made


def _place(c: _County, segments, points: list[int], kind: str, fixed: str, tails, share) -> int:
    """Add a ``kind`` row at each point (ascending) of the windows laid end to end: the
    ``fixed`` columns, or with probability ``share`` one of ``tails`` (findings)."""
    rnd, choice, seen, days, ids, iso_of = c.rng.random, c.rng.choice, c.seen, c.days, c.id, _ISO
    code = KIND_CODES[kind]
    made = i = 0
    p, a, b = segments[0]
    before = 0  # length of the windows before segment i
    for u in points:
        while u >= before + b - a:
            before += b - a
            i += 1
            p, a, b = segments[i]
        day = a + u - before
        key = ((p << 5 | code) << 20) | day
        if key in seen:
            continue
        seen.add(key)
        tail = choice(tails) if share and rnd() < share else fixed
        line = f"{ids[p]},{kind},{iso_of[day - DAY0]}{tail}"
        bucket = days.get(day)
        if bucket is None:
            days[day] = [line]
        else:
            bucket.append(line)
        made += 1
    return made


# ---------------------------------------------------------------------------
# Writing


def generate(persons: int, events: int, seed: int, out: Path) -> Summary:
    """Write ``orgunits.csv``, ``persons.csv`` and ``events.csv`` into ``out``."""
    if persons < 1:
        raise ValueError("--persons must be at least 1")
    if events < 0:
        raise ValueError("--events cannot be negative")
    began = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    c = _County(persons, events, seed)
    org_rows, villages, weights = build_orgunits(c.rng)
    build_persons(c, villages, weights)
    plan_residence(c)
    write_moves_and_deaths(c, villages)
    write_base_unions(c)
    write_new_marriages(c)
    write_random_moves(c, villages)
    end_unions(c)
    write_families(c)
    write_services(c)

    with open(out / "orgunits.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["code", "name", "parent"])
        writer.writerows(org_rows)
    with open(out / "persons.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(PERSON_COLUMNS)
        rng = c.rng
        for p in range(len(c.id)):
            adult = 18 <= age_on(c.birth[p], START_DAY) <= 75
            phone = (
                f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
                if adult and rng.random() < 0.65
                else ""
            )
            roll = rng.random()
            ethnicity = "汉族" if roll < 0.985 else "回族" if roll < 0.995 else "满族"
            writer.writerow(
                [
                    c.id[p], c.name[p], c.sex[p], iso(c.birth[p]), c.village[p],
                    c.hukou[p] if c.hukou[p] != c.village[p] else "", c.household[p], phone,
                    ethnicity, c.lbb[p] if c.sex[p] == "F" else "",
                ]
            )  # fmt: skip
    total = 0
    with open(out / "events.csv", "w", encoding="utf-8", newline="") as f:
        f.write(",".join(EVENT_COLUMNS) + "\n")
        for day in sorted(c.days):
            lines = c.days[day]
            total += len(lines)
            f.write("\n".join(lines))
            f.write("\n")
    return Summary(
        persons=len(c.id),
        events=total,
        villages=len(villages),
        by_kind=dict(sorted(c.counts.items(), key=lambda kv: -kv[1])),
        children=c.children,
        seconds=time.perf_counter() - began,
    )


def main(argv: list[str] | None = None) -> int:
    """The command line: parse the arguments, write the files, print what was written."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=100_000, help="persons alive on 2021-01-01")
    parser.add_argument("--events", type=int, default=1_000_000, help="events to write (about)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args(argv)
    try:
        summary = generate(args.persons, args.events, args.seed, args.out)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    kinds = ", ".join(f"{k} {v}" for k, v in summary.by_kind.items())
    print(
        f"{args.out}: {summary.villages} villages, {summary.persons} persons, "
        f"{summary.events} events ({summary.children} children born) in {summary.seconds:.1f} s"
    )
    print(f"events by kind: {kinds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
