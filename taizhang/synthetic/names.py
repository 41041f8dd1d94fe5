"""The synthetic county's geography and the words its people are written with.

嵩县 (410325) with its 16 real townships: the ten 镇 get codes 410325100-109 and
the six 乡 410325200-205, in the order of the county's own list. The 317
villages get 12-digit codes under their township (the county seat's street
communities 001.., villages 201..) and plausible names. The tree, the village
sizes and each village's rate factor are the same for every seed: a county's
geography does not change with the random draw of its people.

Names, phone prefixes, outside regions, destinations, findings and reasons are
data values of the register (in Chinese, like the records a county keeps), not
user-interface text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COUNTY_CODE = "410325"
COUNTY_NAME = "嵩县"
TOWNS = [
    "城关镇",
    "田湖镇",
    "车村镇",
    "旧县镇",
    "闫庄镇",
    "德亭镇",
    "大章镇",
    "白河镇",
    "纸房镇",
    "饭坡镇",
]
XIANG = ["九店乡", "何村乡", "大坪乡", "库区乡", "黄庄乡", "木植街乡"]
VILLAGE_COUNT = 317
COMMUNITIES = ["东街社区", "西街社区", "南街社区", "北街社区", "伊河社区", "陆浑社区"]

# Villages hold ~600-4,000 people: a log-normal size, clipped, then scaled to the county.
VILLAGE_SIZE_MEDIAN = 1500
VILLAGE_SIZE_SIGMA = 0.5
VILLAGE_SIZE_RANGE = (600, 4000)
# A village's rates (fertility, mortality, migration, take-up of services) differ from
# the county's by a factor around 1.
VILLAGE_FACTOR_SIGMA = 0.12
_GEOGRAPHY_SEED = 410325  # fixed: the same tree whatever the population's seed

# Other counties of Henan (41xxxx): where migrants and outside spouses are registered.
OUTSIDE_REGIONS = [
    "410323",  # 新安县
    "410324",  # 栾川县
    "410326",  # 汝阳县
    "410327",  # 宜阳县
    "410328",  # 洛宁县
    "410329",  # 伊川县
    "410381",  # 偃师
    "410402",  # 平顶山新华区
    "411122",  # 临颍县
    "411224",  # 卢氏县
    "411323",  # 淅川县
    "410105",  # 郑州金水区
]

# Where people who leave the county go (the move_out destination).
DESTINATIONS = [
    "河南省郑州市",
    "河南省洛阳市",
    "广东省深圳市",
    "广东省东莞市",
    "浙江省宁波市",
    "江苏省苏州市",
    "上海市",
    "北京市",
    "河南省汝阳县",
    "河南省伊川县",
]

# The commonest surnames of Henan, most frequent first (weights fall off as 1/rank).
SURNAMES = list(
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁宋谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢"
    "蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵"
    "孟龙万段雷钱汤尹黎易常武乔贺赖龚文庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍韦申尤"
)

# Given names by generation: (born before 1975, 1975-1999, 2000 and later).
MALE_GIVEN = [
    list("国建志明文军平福德永金保长春海成富贵全忠华东发财林清卫红")
    + ["建国", "国强", "建军", "志强", "保国", "长林", "德明", "永福"],
    list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林洋阳亮振")
    + ["晓东", "志刚", "海涛", "建华", "小龙", "红伟"],
    list("浩宇轩然睿博泽晨铭航俊阳子豪逸涵")
    + ["梓轩", "子豪", "浩然", "宇航", "一鸣", "俊熙", "沐阳", "锦程", "皓轩", "子墨"],
]
FEMALE_GIVEN = [
    list("秀英兰凤芳玉珍桂花梅荣琴香云娥菊霞爱巧")
    + ["秀英", "桂兰", "凤英", "玉兰", "秀兰", "桂芳", "秀珍", "玉梅"],
    list("芳娜敏静丽艳娟霞英萍红玲燕婷雪慧倩颖琳晶丹")
    + ["晓燕", "丽娟", "艳红", "海燕", "春梅", "晓丽"],
    list("欣怡梦佳悦涵雨晨诗琪萱瑶")
    + ["梓涵", "欣怡", "一诺", "雨萱", "诗涵", "可馨", "若汐", "梦瑶", "子涵", "思琪"],
]
GENERATION_BOUNDS = (1975, 2000)  # birth years that start the second and third pools

ETHNICITIES = ["汉族", "回族", "蒙古族", "满族"]
ETHNICITY_WEIGHTS = [0.988, 0.009, 0.0015, 0.0015]

MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "155", "156", "157", "158", "159", "166", "173", "176", "177", "178", "180", "181",
    "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
]  # fmt: skip

# Findings of service encounters (``;``-separated in the record).
CHECKUP_FINDINGS = ["阴道炎", "宫颈炎", "节育器下移", "贫血", "乳腺增生"]
SCREENING_FINDINGS = ["阴道炎", "宫颈炎", "盆腔炎", "乳腺增生", "子宫肌瘤", "宫颈上皮内瘤变"]
FOLLOWUP_FINDINGS = ["月经异常", "腰腹痛", "切口愈合不良", "贫血"]

# Why a method was stopped (``method_stop`` reason).
REASON_PLANNING = "计划怀孕"
REASON_SWITCH = "更换方法"
REASON_SIDE_EFFECTS = "副作用"
REASON_OWN_WISH = "本人要求"
REASON_FAILURE = "避孕失败"
REASON_MENOPAUSE = "绝经"
STOP_REASONS = [
    REASON_PLANNING,
    REASON_SWITCH,
    REASON_SIDE_EFFECTS,
    REASON_OWN_WISH,
    REASON_FAILURE,
    REASON_MENOPAUSE,
]

_VILLAGE_FIRST = list("东西南北上下前后大小新老高石柳槐桃杏枣河坡岭沟")
_VILLAGE_MIDDLE = list("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑宋谢韩唐冯董程曹袁邓许")
_VILLAGE_LAST = list("庄营寨店坪沟湾岭河坡屯洼堡桥园岗窑")


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    township: str  # 9-digit code
    size: float  # relative share of the county's people
    factor: float  # relative level of the village's rates


@dataclass(frozen=True)
class Geography:
    """The county's org units and its villages' sizes and rate factors."""

    county: tuple[str, str]
    townships: list[tuple[str, str]]
    villages: list[Village]

    def org_units(self) -> list[tuple[str, str, str | None, int]]:
        """(code, name, parent code, level) of every org unit, parents first."""
        rows: list[tuple[str, str, str | None, int]] = [(*self.county, None, 3)]
        rows += [(code, name, self.county[0], 4) for code, name in self.townships]
        rows += [(v.code, v.name, v.township, 5) for v in self.villages]
        return rows


def township_codes() -> list[tuple[str, str]]:
    """The 16 townships: (9-digit code, name), 镇 first (100..), then 乡 (200..)."""
    towns = [(f"{COUNTY_CODE}{100 + i}", name) for i, name in enumerate(TOWNS)]
    xiang = [(f"{COUNTY_CODE}{200 + i}", name) for i, name in enumerate(XIANG)]
    return towns + xiang


def geography() -> Geography:
    """The county tree with 16 townships and 317 villages (the same on every call)."""
    rng = np.random.default_rng(_GEOGRAPHY_SEED)
    townships = township_codes()
    # Villages per township: the county seat and the big towns have more.
    weights = np.array(
        [1.5, 1.2, 1.1, 1.1, 1.0, 1.0, 1.0, 1.0, 0.95, 0.95, 0.9, 0.9, 0.85, 0.8, 0.8, 0.75]
    )
    weights = weights * rng.uniform(0.9, 1.1, len(weights))
    counts = _apportion(weights, VILLAGE_COUNT)
    villages: list[Village] = []
    for (code, _name), count in zip(townships, counts, strict=True):
        names: list[str] = []
        if code.endswith("100"):
            names = COMMUNITIES[:]  # the county seat's street communities
        while len(names) < count:
            name = _village_name(rng)
            if name not in names:
                names.append(name)
        n_communities = len(COMMUNITIES) if code.endswith("100") else 0
        sizes = np.exp(rng.normal(np.log(VILLAGE_SIZE_MEDIAN), VILLAGE_SIZE_SIGMA, count))
        sizes = np.clip(sizes, *VILLAGE_SIZE_RANGE)
        factors = np.exp(rng.normal(0.0, VILLAGE_FACTOR_SIGMA, count))
        for i, name in enumerate(names):
            if i < n_communities:
                vcode = f"{code}{i + 1:03d}"
                size = min(sizes[i] * 1.8, VILLAGE_SIZE_RANGE[1])  # town streets are denser
            else:
                vcode = f"{code}{201 + i - n_communities:03d}"
                size = sizes[i]
            villages.append(Village(vcode, name, code, float(size), float(factors[i])))
    total = sum(v.size for v in villages)
    villages = [Village(v.code, v.name, v.township, v.size / total, v.factor) for v in villages]
    return Geography((COUNTY_CODE, COUNTY_NAME), townships, villages)


def _apportion(weights: np.ndarray, total: int) -> list[int]:
    """Whole numbers proportional to ``weights`` summing to ``total`` (largest remainders)."""
    exact = weights / weights.sum() * total
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: total - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def _village_name(rng: np.random.Generator) -> str:
    pattern = rng.integers(4)
    if pattern == 0:
        return f"{rng.choice(_VILLAGE_MIDDLE)}{rng.choice(_VILLAGE_LAST)}村"
    if pattern == 1:
        return f"{rng.choice(_VILLAGE_FIRST)}{rng.choice(_VILLAGE_MIDDLE)}{rng.choice(_VILLAGE_LAST)}村"
    if pattern == 2:
        return f"{rng.choice(_VILLAGE_FIRST)}{rng.choice(_VILLAGE_LAST)}村"
    return f"{rng.choice(_VILLAGE_MIDDLE)}家{rng.choice(_VILLAGE_LAST)}村"


def surname_weights() -> np.ndarray:
    """Relative frequency of each surname in ``SURNAMES`` (falls off as 1/rank)."""
    ranks = np.arange(1, len(SURNAMES) + 1, dtype=float)
    weights = 1.0 / ranks**0.9
    return weights / weights.sum()


def generation(birth_year: int) -> int:
    """Which given-name pool fits a person born in ``birth_year``: 0, 1 or 2."""
    return int(birth_year >= GENERATION_BOUNDS[0]) + int(birth_year >= GENERATION_BOUNDS[1])
