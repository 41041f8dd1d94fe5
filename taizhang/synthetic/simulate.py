"""The synthetic county's people, simulated month by month with NumPy.

``simulate(persons, seed)`` returns a :class:`County`: every person and every
event as NumPy arrays (persons are row indexes), with nothing of Django in it,
so the simulation can be read, tested and timed on its own.

How the county is made:

- **The base population** on ``START`` (2021-01-01): ``persons`` people drawn
  from the age pyramid of a rural county of Henan (large cohorts born 1985-1995
  and 1962-1975, shrinking births after 2017), the couples among them (a wife
  and a husband about two years older), the children they raise, grandparents,
  people living alone; the opening state of every married woman of
  reproductive age (how many children she has had, the contraceptive method she
  uses or her pregnancy under way). Villages hold households of about three.
- **Month by month** until the end day: registered pregnancies end in a birth (sex
  ratio higher for later births, ~1 in 90 twins, ~98% in a facility), a
  miscarriage, a stillbirth or an induced abortion; couples choose methods after
  a birth (IUD first, sterilisation for older women with two children, condoms
  and the pill for young couples), stop them to have a child, switch or
  discontinue; women seeking a pregnancy conceive by age-specific
  fecundability; people die by a Gompertz-Makeham life table (e0 about 78);
  first marriages by age (median about 25 for women, 27 for men), mostly within
  the county, some to spouses registered elsewhere (brides who move in, women
  who marry out); rare divorces; young adults move out, migrants move in,
  brides move to their husband's village.
- **Services** follow from the lives: a yearly check-up for married women
  15-49, screening every three years for women 35-64, follow-ups 7 and 42 days
  after a delivery and 1/3/6/12 months after an IUD insertion (and after a
  sterilisation or an induced abortion), and education sessions for each life
  stage (newly-wed, pregnancy, lactation, child-rearing, menopause).

Every life is consistent with ``taizhang.register.timeline``: a person has at
most one change of state in a month (a birth with the follow-ups that belong to
it, a marriage with the bride's move, a method stopped and another started on
the same day are made together), nobody acts after death or after leaving,
pregnancies never overlap, and methods are stopped only when in use.

Randomness comes from one ``numpy.random.Generator`` seeded with ``seed``;
nothing depends on the clock or on the order of a dict or set, so the same
``persons`` and ``seed`` give the same county.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from taizhang.synthetic import names

START = dt.date(2021, 1, 1)
# The last day simulated when none is given (``simulate(..., end=...)``); ``taizhang
# generate`` simulates to the day before the clock's today, so nothing is in the future.
END = dt.date(2026, 11, 29)
START_DAY = START.toordinal()
DAY0 = dt.date(1900, 1, 1).toordinal()
LAST_END = dt.date(2099, 12, 31)  # the latest end the calendar tables below allow
_TABLE_END = LAST_END.toordinal() + 800  # events are scheduled up to ~9 months past the end
NEVER = 2_000_000_000  # a day that never comes (fits int32)
YEAR = 365.2425

KINDS = [
    "marriage",
    "divorce",
    "widowhood",
    "pregnancy",
    "outcome",
    "birth",
    "death",
    "move_in",
    "move_out",
    "move_within",
    "method_start",
    "method_stop",
    "checkup",
    "screening",
    "followup",
    "education",
]
K = {kind: i for i, kind in enumerate(KINDS)}
METHODS = [
    "iud",
    "implant",
    "injectable",
    "pill",
    "condom",
    "female_sterilization",
    "male_sterilization",
    "other",
]
M = {method: i for i, method in enumerate(METHODS)}
STERILIZATION = np.array([M["female_sterilization"], M["male_sterilization"]])
OUTCOMES = ["stillbirth", "miscarriage", "induced_abortion"]
STAGES = ["newlywed", "pregnancy", "lactation", "childrearing", "menopause"]
DELIVERY_PLACES = ["facility", "home"]
FEMALE, MALE = 0, 1
BASE, BORN, MIGRANT = 0, 1, 2  # how a person came into the register

# ---------------------------------------------------------------------------
# Rates. Annual rates are turned into monthly probabilities where used.

# The base pyramid on 2021-01-01: relative size of each single year of age 0-19, then of
# each year within the 5-year groups 20-24 .. 95-99.
PYRAMID_YOUNG = [0.8, 0.9, 0.95, 1.06, 1.06, 0.99, 1.03, 0.99, 1.03, 0.99,
                 0.99, 0.99, 0.99, 0.99, 0.99, 0.9, 0.9, 0.9, 0.9, 0.9]  # fmt: skip
PYRAMID_GROUPS = [0.95, 1.75, 2.2, 1.85, 1.6, 1.55, 1.5, 1.05, 0.72, 0.68,
                  0.46, 0.29, 0.16, 0.08, 0.03, 0.007]  # fmt: skip

# Gompertz-Makeham force of mortality mu(x) = A + B exp(C x), times a factor by sex;
# with the infant term, e0 is about 78 (women ~81, men ~75).
MAKEHAM_A = 0.0002
GOMPERTZ_B = 0.000036
GOMPERTZ_C = 0.092
SEX_MORTALITY = (0.75, 1.3)  # women, men
INFANT_HAZARD = 0.0045  # added in the first year of life

# Age at first marriage: legal minimum + a gamma draw (shape, scale by sex: median ~24.5
# for women, ~26.5 for men, as in rural Henan).
MARRIAGE_MIN_AGE = (20, 22)
MARRIAGE_GAMMA = ((2.0, 2.6), (2.0, 2.7))
EVER_MARRY = (0.98, 0.92)

# Monthly probability that a woman seeking a pregnancy conceives, by age group.
FECUNDABILITY_AGES = np.array([15, 30, 35, 40, 45, 50])
FECUNDABILITY = np.array([0.13, 0.1, 0.065, 0.025, 0.005])
PRIMARY_STERILITY = 0.04

# Yearly hazard that a woman with this many children decides to have another,
# by age group (<30, 30-34, 35-39, 40+); fewer each calendar year.
DESIRE_AGES = np.array([0, 30, 35, 40, 200])
DESIRE = {
    0: np.array([0.6, 0.5, 0.3, 0.05]),
    1: np.array([0.15, 0.11, 0.045, 0.005]),
    2: np.array([0.03, 0.02, 0.006, 0.0005]),
    3: np.array([0.004, 0.003, 0.001, 0.0]),
}
DESIRE_TREND = 0.08  # fewer second and third children each year after 2021
MIN_BIRTH_INTERVAL = 1.5  # years before a mother wants another child

# Sex ratio at birth (boys per 100 girls) by birth order.
SRB_BY_ORDER = (106.0, 113.0, 128.0)
TWINS = 0.011
FACILITY_DELIVERY = 0.985
# How a pregnancy a woman sought ends; and one from a method failure.
SOUGHT_OUTCOMES = {
    "birth": 0.905,
    "miscarriage": 0.075,
    "stillbirth": 0.004,
    "induced_abortion": 0.016,
}
FAILURE_OUTCOMES = {"birth": 0.40, "miscarriage": 0.06, "stillbirth": 0.0, "induced_abortion": 0.54}

# Methods chosen (weights), by the family's stage.
METHOD_MIX = {
    "delay": {"condom": 60, "pill": 25, "iud": 5, "injectable": 5, "other": 5},
    "spacing": {"iud": 58, "condom": 22, "pill": 5, "implant": 5, "injectable": 4, "other": 6},
    "complete_young": {"iud": 45, "female_sterilization": 22, "condom": 18, "implant": 5,
                       "male_sterilization": 3, "pill": 2, "other": 5},
    "complete_older": {"iud": 35, "female_sterilization": 35, "condom": 15, "implant": 4,
                       "male_sterilization": 4, "pill": 2, "other": 5},
    "historic": {"iud": 42, "female_sterilization": 40, "condom": 8, "implant": 2,
                 "male_sterilization": 3, "pill": 1, "other": 4},
}  # fmt: skip
# Monthly probability of stopping a method for a reason other than wanting a child,
# and of becoming pregnant while using it.
STOP_MONTHLY = np.array([0.004, 0.006, 0.03, 0.025, 0.012, 0.0, 0.0, 0.015])
FAILURE_MONTHLY = np.array([0.0006, 0.0001, 0.003, 0.004, 0.007, 0.0, 0.0, 0.012])
SWITCH_SHARE = 0.7  # of those who stop, the share who start another method the same day
ADOPT_MONTHLY = 0.08  # married women using nothing (and not seeking) who start a method

# Migration (yearly).
OUT_SINGLE = 0.05  # unmarried people 16-40
OUT_FAMILY = 0.004  # couples (wife 20-45) with their household's children
IN_RATE = 0.0030  # people moving in, per person of the county
WITHIN_RATE = 0.003  # unmarried adults moving to another village
DIVORCE_RATE = 0.0018
REMARRY = 0.35  # share of the widowed and divorced under 55 who marry again
LOCAL_MARRIAGE = 0.82  # share of women's marriages with a man of the county
OUTSIDE_BRIDE = 0.25  # of men without a local bride: a bride moves in
OUTSIDE_WIFE = 0.1  # ... a wife registered elsewhere, kept by ID number
MARRY_OUT = 0.2  # of women marrying outside: moves out after the wedding

# Services.
CHECKUP_ATTENDANCE = 0.88
SCREENING_ATTENDANCE = 0.78
FOLLOWUP_DONE = 0.93
EDUCATION_ATTENDANCE = {
    "newlywed": 0.85,
    "pregnancy": 0.88,
    "lactation": 0.8,
    "childrearing": 0.45,
    "menopause": 0.35,
}
FINDING_SHARE = {"checkup": 0.12, "screening": 0.18, "followup": 0.06}


# ---------------------------------------------------------------------------
# Calendar tables: YYYYMMDD of each day, so that ages in completed years are exact.

_DAYS = np.arange(DAY0, _TABLE_END + 1)
_DATES = np.datetime64("0001-01-01") + (_DAYS - 1).astype("timedelta64[D]")
_YEARS = _DATES.astype("datetime64[Y]").astype(np.int64) + 1970
_MONTHS = _DATES.astype("datetime64[M]").astype(np.int64) % 12 + 1
_DOM = (_DATES - _DATES.astype("datetime64[M]")).astype(np.int64) + 1
YMD = (_YEARS * 10000 + _MONTHS * 100 + _DOM).astype(np.int64)


def ymd(days: np.ndarray) -> np.ndarray:
    """YYYYMMDD of day ordinals."""
    return YMD[np.asarray(days) - DAY0]


def age_on(birth: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Completed years on ``days`` of people born on ``birth`` (day ordinals)."""
    return (ymd(days) - ymd(birth)) // 10000


def year_start(year: int) -> int:
    return dt.date(year, 1, 1).toordinal()


def months(end: dt.date = END) -> list[tuple[int, int]]:
    """[first day, day after the last) of each simulated month; the last ends after ``end``."""
    end_day = end.toordinal()
    out = []
    year, month = START.year, START.month
    while True:
        first = dt.date(year, month, 1).toordinal()
        if first > end_day:
            return out
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        out.append((first, min(dt.date(year, month, 1).toordinal(), end_day + 1)))


def mortality(age_years: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """Yearly force of mortality by exact age (years) and sex."""
    mu = MAKEHAM_A + GOMPERTZ_B * np.exp(GOMPERTZ_C * age_years)
    mu = mu * np.where(sex == MALE, SEX_MORTALITY[1], SEX_MORTALITY[0])
    return mu + np.where(age_years < 1, INFANT_HAZARD, 0.0)


def life_expectancy(sex: int) -> float:
    """Life expectancy at birth of the life table used (months summed to 120 years)."""
    ages = np.arange(0, 120, 1 / 12) + 1 / 24
    q = 1 - np.exp(-mortality(ages, np.full(len(ages), sex)) / 12)
    alive = np.concatenate([[1.0], np.cumprod(1 - q)])
    return float(((alive[:-1] + alive[1:]) / 2).sum() / 12)


# ---------------------------------------------------------------------------
# The result


@dataclass
class County:
    """Persons and events of the synthetic county, as parallel NumPy arrays.

    Persons (index = row): ``sex`` (0 F, 1 M), ``birth`` (day ordinal), ``village``
    (index into ``geography.villages``: where the register starts following them),
    ``household``, ``hukou`` (12-digit code of the village of household registration),
    ``region`` (6-digit code their ID number was issued in), ``origin`` (base, born,
    migrant), ``lbb`` (live births before), ``mother`` (-1 when not linked),
    ``surname``, ``given`` (names), ``phone`` (0 when none), ``ethnicity``.

    Events (index = row): ``person``, ``kind`` (index into ``KINDS``), ``day``,
    ``a``/``b``/``c`` (see ``Simulation.emit``) and ``recorded`` (day recorded).

    ``outside_*`` describe spouses registered elsewhere, named by ID number alone.
    """

    geography: names.Geography
    sex: np.ndarray
    birth: np.ndarray
    village: np.ndarray
    household: np.ndarray
    hukou: np.ndarray
    region: np.ndarray
    origin: np.ndarray
    lbb: np.ndarray
    mother: np.ndarray
    surname: np.ndarray
    given: list[str]
    phone: np.ndarray
    ethnicity: np.ndarray
    household_village: np.ndarray
    person: np.ndarray
    kind: np.ndarray
    day: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    recorded: np.ndarray
    outside_sex: np.ndarray
    outside_birth: np.ndarray
    outside_region: np.ndarray
    end: dt.date = END  # the last day simulated
    id_numbers: list[str] = field(default_factory=list)
    outside_id_numbers: list[str] = field(default_factory=list)

    @property
    def persons(self) -> int:
        return len(self.sex)

    @property
    def events(self) -> int:
        return len(self.kind)

    def counts(self) -> dict[str, int]:
        """Events by kind."""
        found = np.bincount(self.kind, minlength=len(KINDS))
        return {kind: int(n) for kind, n in zip(KINDS, found, strict=True)}


def simulate(persons: int, seed: int, *, end: dt.date = END, progress=None) -> County:
    """The synthetic county of ``persons`` people on 2021-01-01 and their lives to ``end``
    (the last day simulated)."""
    if persons < 100:
        raise ValueError("a county needs at least 100 persons")
    if not START < end <= LAST_END:
        raise ValueError(f"a county is simulated from {START} to a day up to {LAST_END}")
    sim = Simulation(persons, seed, end)
    sim.base_population()
    steps = months(end)
    for i, (first, stop) in enumerate(steps):
        sim.month(first, stop)
        if progress:
            progress(i + 1, len(steps))
    sim.services()
    return sim.result()


# ---------------------------------------------------------------------------
# The simulation


class Simulation:
    """The county's state while it is simulated: one slot per person in each array."""

    def __init__(self, persons: int, seed: int, end: dt.date = END):
        self.rng = np.random.default_rng(seed)
        self.end = end
        self.end_day = end.toordinal()
        self.n0 = persons
        self.geo = names.geography()
        self.v_size = np.array([v.size for v in self.geo.villages])
        self.v_factor = np.array([v.factor for v in self.geo.villages])
        self.v_mortality = self.v_factor**0.5  # villages differ less in deaths than in births
        self.v_code = np.array([int(v.code) for v in self.geo.villages], dtype=np.int64)
        township_of = {code: i for i, (code, _) in enumerate(self.geo.townships)}
        self.v_township = np.array([township_of[v.township] for v in self.geo.villages])
        self.n = 0
        self.cap = 0
        self._grow(int(persons * 1.3) + 200)
        self.events: list[tuple[np.ndarray, ...]] = []
        # Unions: wife, husband (-1: outside), outside spouse (-1: registered), start, end.
        self.unions: list[np.ndarray] = [np.zeros(0, np.int64) for _ in range(5)]
        # Spouses registered elsewhere.
        self.o_sex: list[np.ndarray] = []
        self.o_birth: list[np.ndarray] = []
        self.o_region: list[np.ndarray] = []
        self.n_outside = 0
        self.households_village: list[np.ndarray] = []
        self.n_households = 0
        # Histories the services are built from.
        self.pregnancies: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # woman, reg, end
        self.births: list[tuple[np.ndarray, np.ndarray]] = []  # mother, day
        self.method_starts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.method_stops: list[tuple[np.ndarray, np.ndarray]] = []  # person, day
        self.abortions: list[tuple[np.ndarray, np.ndarray]] = []

    # -- storage ----------------------------------------------------------------

    _ARRAYS = {
        "sex": (np.int8, 0),
        "birth": (np.int64, 0),
        "alive": (np.bool_, False),
        "present": (np.bool_, False),
        "exit": (np.int64, NEVER),  # day of death or moving out
        "entry": (np.int64, 0),  # day the register starts following the person here
        "village": (np.int64, 0),  # where the person lives now
        "village0": (np.int64, 0),  # where the register starts following them
        "household": (np.int64, -1),
        "hukou": (np.int64, 0),
        "region": (np.int64, 0),  # index into REGIONS (0 = the county)
        "origin": (np.int8, 0),
        "mother": (np.int64, -1),
        "surname": (np.int64, 0),
        "spouse": (np.int64, -1),  # -1 unmarried, -2 married to someone registered elsewhere
        "union": (np.int64, -1),
        "marry_day": (np.int64, NEVER),
        "ever_married": (np.bool_, False),
        "lbb": (np.int64, 0),
        "parity": (np.int64, 0),
        "last_birth": (np.int64, -NEVER),
        "preg": (np.bool_, False),
        "preg_reg": (np.int64, NEVER),
        "preg_end": (np.int64, NEVER),
        "preg_outcome": (np.int8, 0),  # 0 birth, 1 stillbirth, 2 miscarriage, 3 induced abortion
        "preg_lmp": (np.int64, 0),
        "preg_failure": (np.bool_, False),  # the pregnancy of a method failure
        "method": (np.int64, -1),
        "male_sterilized": (np.bool_, False),
        "want": (np.bool_, False),
        "sterile": (np.bool_, False),
        "next_method": (np.int64, NEVER),
        "next_seek": (np.int64, NEVER),
    }

    def _grow(self, cap: int) -> None:
        """Room for ``cap`` persons in every array."""
        for name, (dtype, fill) in self._ARRAYS.items():
            new = np.full(cap, fill, dtype=dtype)
            if self.cap:
                new[: self.cap] = getattr(self, name)
            setattr(self, name, new)
        self.cap = cap

    def _add(self, count: int) -> np.ndarray:
        """Slots for ``count`` new persons; returns their indexes."""
        if self.n + count > self.cap:
            self._grow(max(self.cap * 2, self.n + count))
        idx = np.arange(self.n, self.n + count)
        self.n += count
        return idx

    def emit(self, kind: str, person, day, a=-1, b=-1, c=-1) -> None:
        """Record events of ``kind``. ``a``/``b``/``c`` by kind:

        marriage, divorce: a = registered spouse (or -1), b = outside spouse (or -1);
        outcome: a = index into OUTCOMES; birth: a = child, b = weight in grams,
        c = index into DELIVERY_PLACES; move_in, move_within: a = village; move_out:
        a = index into names.DESTINATIONS; method_start: a = method; method_stop:
        a = method, b = index into names.STOP_REASONS; checkup, screening, followup:
        b = finding (-1 none); education: a = index into STAGES; pregnancy: b = LMP day.
        """
        person = np.asarray(person, dtype=np.int64)
        count = len(person)
        if count == 0:
            return

        def column(value):
            return np.broadcast_to(np.asarray(value, dtype=np.int64), (count,)).copy()

        self.events.append(
            (person, np.full(count, K[kind], np.int8), column(day), column(a), column(b), column(c))
        )

    def _outside(self, sex: np.ndarray, birth: np.ndarray) -> np.ndarray:
        """New spouses registered elsewhere; returns their indexes."""
        count = len(sex)
        idx = np.arange(self.n_outside, self.n_outside + count)
        self.n_outside += count
        self.o_sex.append(np.asarray(sex, np.int8))
        self.o_birth.append(np.asarray(birth, np.int64))
        self.o_region.append(self.rng.integers(1, len(REGIONS), count))
        return idx

    def _households(self, villages: np.ndarray) -> np.ndarray:
        """New households in these villages; returns their indexes."""
        idx = np.arange(self.n_households, self.n_households + len(villages))
        self.n_households += len(villages)
        self.households_village.append(np.asarray(villages, np.int64))
        return idx

    def _marry(self, wife, husband, outside, day) -> None:
        """Start unions (wife or husband -1 when registered elsewhere) and emit the marriages."""
        wife, husband, outside, day = (
            np.asarray(x, np.int64) for x in (wife, husband, outside, day)
        )
        first = len(self.unions[0])
        self.unions = [
            np.concatenate([old, new])
            for old, new in zip(
                self.unions, (wife, husband, outside, day, np.full(len(day), NEVER)), strict=True
            )
        ]
        ids = np.arange(first, first + len(day))
        for me, other in ((wife, husband), (husband, wife)):
            mine = me >= 0
            self.spouse[me[mine]] = np.where(other[mine] >= 0, other[mine], -2)
            self.union[me[mine]] = ids[mine]
            self.ever_married[me[mine]] = True
            self.marry_day[me[mine]] = NEVER
        registered_wife = wife >= 0
        person = np.where(registered_wife, wife, husband)
        spouse = np.where(registered_wife, husband, -1)
        self.emit("marriage", person, day, a=spouse, b=outside)

    def _end_unions(self, union_ids: np.ndarray, day) -> None:
        """End unions on ``day`` (divorce, a death): both spouses are unmarried again."""
        self.unions[4][union_ids] = day
        for side in (0, 1):
            who = self.unions[side][union_ids]
            who = who[who >= 0]
            self.spouse[who] = -1
            self.union[who] = -1
        wives = self.unions[0][union_ids]
        wives = wives[wives >= 0]
        self.want[wives] = False
        self.next_seek[wives] = NEVER
        # A husband's sterilisation no longer covers her.
        covered = wives[self.method[wives] == M["male_sterilization"]]
        self.method[covered] = -1

    def _remarriage(self, people: np.ndarray, day) -> None:
        """Some of the widowed and divorced under 55 will marry again."""
        day = np.broadcast_to(np.asarray(day, np.int64), people.shape)
        young = age_on(self.birth[people], day) < 55
        again = young & (self.rng.random(len(people)) < REMARRY)
        self.marry_day[people[again]] = day[again] + self.rng.integers(300, 2500, again.sum())

    def _surnames(self, count: int) -> np.ndarray:
        """Surnames (indexes into ``names.SURNAMES``) by their frequency."""
        return self.rng.choice(len(names.SURNAMES), count, p=SURNAME_P)

    def _days_in(self, first: int, stop: int, count: int) -> np.ndarray:
        """Days drawn evenly from [first, stop)."""
        return self.rng.integers(first, stop, count)

    def _choose_methods(self, women: np.ndarray, day: np.ndarray, mix: str | None = None):
        """A method for each woman: by her children and age unless ``mix`` is given."""
        out = np.empty(len(women), np.int64)
        if mix is not None:
            stages = np.full(len(women), mix, dtype=object)
        else:
            parity = self.parity[women]
            age = age_on(self.birth[women], day)
            stages = np.where(
                parity == 0,
                "delay",
                np.where(
                    parity == 1, "spacing", np.where(age < 35, "complete_young", "complete_older")
                ),
            )
        for stage in METHOD_MIX:
            sel = np.flatnonzero(stages == stage)
            if len(sel):
                methods, weights = MIX_ARRAYS[stage]
                out[sel] = self.rng.choice(methods, len(sel), p=weights)
        return out

    def _start_methods(
        self, women: np.ndarray, day: np.ndarray, methods: np.ndarray, busy=None
    ) -> None:
        """Emit method starts; male sterilisation is the husband's (when he is registered,
        here, not sterilised already and free this month: it becomes his event of the
        month), otherwise the wife chooses sterilisation."""
        male = methods == M["male_sterilization"]
        husband = np.where(male, self.spouse[women], -1)
        ok = male & (husband >= 0)
        ok[ok] = self.present[husband[ok]] & ~self.male_sterilized[husband[ok]]
        if busy is not None:
            ok[ok] = ~busy[husband[ok]]
            busy[husband[ok]] = True
        methods = np.where(male & ~ok, M["female_sterilization"], methods)
        self.method[women] = methods
        self.next_method[women] = NEVER
        hers = ~ok
        self.emit("method_start", women[hers], day[hers], a=methods[hers])
        self.method_starts.append((women[hers], methods[hers], day[hers]))
        if ok.any():
            self.male_sterilized[husband[ok]] = True
            self.emit("method_start", husband[ok], day[ok], a=M["male_sterilization"])
            self.method_starts.append(
                (husband[ok], np.full(ok.sum(), M["male_sterilization"]), day[ok])
            )

    def _stop_methods(self, women: np.ndarray, day: np.ndarray, reason: str) -> None:
        """Emit the stop of each woman's own method (a husband's sterilisation is permanent)."""
        own = self.method[women]
        mine = (own >= 0) & (own != M["male_sterilization"])
        self.emit(
            "method_stop",
            women[mine],
            day[mine],
            a=own[mine],
            b=names.STOP_REASONS.index(reason),
        )
        self.method_stops.append((women[mine], day[mine]))
        self.method[women] = -1

    # -- the base population ------------------------------------------------------

    def base_population(self) -> None:
        """The people of 2021-01-01: ages, sexes, couples, households, children ever
        born, and each married woman's method or pregnancy on that day."""
        rng = self.rng
        n = self.n0
        idx = self._add(n)
        ages = np.concatenate([np.array(PYRAMID_YOUNG), np.repeat(np.array(PYRAMID_GROUPS), 5)])
        age = rng.choice(len(ages), n, p=ages / ages.sum())
        birth = START_DAY - 1 - np.floor((age + rng.random(n)) * YEAR).astype(np.int64)
        male_share = np.select([age < 30, age < 60, age < 80], [0.52, 0.505, 0.48], 0.42)
        self.sex[idx] = (rng.random(n) < male_share).astype(np.int8)
        self.birth[idx] = birth
        self.alive[idx] = True
        self.present[idx] = True
        self.entry[idx] = birth
        self.origin[idx] = BASE
        self.sterile[idx] = rng.random(n) < PRIMARY_STERILITY
        self._plan_first_marriages(idx)

        # Who is married on 2021-01-01: those whose wedding day has passed and whose
        # marriage still lasts (widowhood and divorce take more of the old).
        age_now = age_on(birth, np.full(n, START_DAY))
        lasting = np.select(
            [age_now < 50, age_now < 60, age_now < 70, age_now < 80], [0.985, 0.95, 0.87, 0.7], 0.45
        )
        wed = self.marry_day[idx] < START_DAY
        married = wed & (rng.random(n) < lasting)
        self.ever_married[idx] = wed
        self.marry_day[idx[wed]] = NEVER  # the first marriage is behind them

        women = idx[married & (self.sex[idx] == FEMALE)]
        men = idx[married & (self.sex[idx] == MALE)]
        wives, husbands = self._pair(women, men, target_gap=2.0, spread=2.5, max_gap=(-5, 12))
        # Spouses left without a partner in the county: most married to someone registered
        # elsewhere; the others are counted widowed or divorced.
        lone_women = np.setdiff1d(women, wives)
        lone_men = np.setdiff1d(men, husbands)
        young = age_on(self.birth[lone_women], np.full(len(lone_women), START_DAY)) < 50
        outside_w = lone_women[rng.random(len(lone_women)) < np.where(young, 0.85, 0.4)]
        outside_m = lone_men[rng.random(len(lone_men)) < 0.35]
        start_couples = np.maximum(self._wedding_day(wives), self.birth[husbands] + int(22 * YEAR))
        start_couples = np.minimum(start_couples, START_DAY - 1 - rng.integers(0, 200, len(wives)))
        start_ow = np.minimum(self._wedding_day(outside_w), START_DAY - 1)
        start_om = np.minimum(self._wedding_day(outside_m), START_DAY - 1)
        husband_birth_w = self.birth[outside_w] - np.round(
            rng.normal(2, 2.5, len(outside_w)) * YEAR
        ).astype(np.int64)
        wife_birth_m = self.birth[outside_m] + np.round(
            rng.normal(2, 2.5, len(outside_m)) * YEAR
        ).astype(np.int64)
        o_w = self._outside(np.full(len(outside_w), MALE), husband_birth_w)
        o_m = self._outside(np.full(len(outside_m), FEMALE), wife_birth_m)
        self._marry(
            np.concatenate([wives, outside_w, np.full(len(outside_m), -1)]),
            np.concatenate([husbands, np.full(len(outside_w), -1), outside_m]),
            np.concatenate([np.full(len(wives), -1), o_w, o_m]),
            np.concatenate([start_couples, start_ow, start_om]),
        )
        # The rest of the married may marry again.
        single_again = np.concatenate(
            [
                np.setdiff1d(lone_women, outside_w),
                np.setdiff1d(lone_men, outside_m),
                idx[wed & ~married],
            ]
        )
        self._remarriage(np.sort(single_again), START_DAY + rng.integers(0, 700, len(single_again)))

        self._base_households(idx, wives, husbands, outside_w, outside_m)
        self._base_fertility(np.concatenate([wives, outside_w]))
        self._base_identity(idx)

    def _plan_first_marriages(self, idx: np.ndarray) -> None:
        """The day each person would first marry (NEVER for those who never do)."""
        rng = self.rng
        sex = self.sex[idx]
        years = self._marriage_ages(sex, 1.0)
        day = self.birth[idx] + np.floor(years * YEAR).astype(np.int64)
        never = rng.random(len(idx)) > np.where(sex == MALE, EVER_MARRY[1], EVER_MARRY[0])
        self.marry_day[idx] = np.where(never | (years > 45), NEVER, day)

    def _marriage_ages(self, sex: np.ndarray, scale: float) -> np.ndarray:
        """Ages (years) at first marriage: the legal minimum plus a gamma draw."""
        male = sex == MALE
        shape = np.where(male, MARRIAGE_GAMMA[1][0], MARRIAGE_GAMMA[0][0])
        spread = np.where(male, MARRIAGE_GAMMA[1][1], MARRIAGE_GAMMA[0][1]) * scale
        minimum = np.where(male, MARRIAGE_MIN_AGE[1], MARRIAGE_MIN_AGE[0])
        return minimum + self.rng.gamma(shape, spread)

    def _wedding_day(self, people: np.ndarray) -> np.ndarray:
        """A plausible past wedding day for people married before the register starts."""
        sex = self.sex[people]
        # Couples married before 2021 married younger than today's newly-weds.
        years = self._marriage_ages(sex, 0.8)
        return self.birth[people] + np.floor(years * YEAR).astype(np.int64)

    def _pair(self, women, men, *, target_gap: float, spread: float, max_gap: tuple[int, int]):
        """Pair women with men about ``target_gap`` years older: both sorted by the age
        wanted, the k-th with the k-th; pairs too far apart in age are dropped."""
        rng = self.rng
        k = min(len(women), len(men))
        if k == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        women = rng.permutation(women)[:k]
        men = rng.permutation(men)[:k]
        wanted = self.birth[women] - np.round(rng.normal(target_gap, spread, k) * YEAR)
        w = women[np.argsort(wanted, kind="stable")]
        h = men[np.argsort(self.birth[men], kind="stable")]
        gap = (self.birth[w] - self.birth[h]) / YEAR
        ok = (gap >= max_gap[0]) & (gap <= max_gap[1])
        return w[ok], h[ok]

    def _base_households(self, idx, wives, husbands, outside_w, outside_m) -> None:
        """Households: each couple with the children they raise; some older couples,
        most grandparents and some unmarried adults living with a younger family (three
        generations under one roof, as often in the countryside); others alone. Villages
        are drawn by their size."""
        rng = self.rng
        start = np.full(len(idx), START_DAY)
        n_couples = len(wives)
        heads = np.concatenate([wives, outside_w, outside_m])  # one household each
        hh = np.arange(len(heads))
        household = np.full(self.cap, -1, np.int64)
        household[heads] = hh
        household[husbands] = hh[:n_couples]
        # Everyone has a surname of their own; children below take their father's.
        self.surname[idx] = self._surnames(len(idx))

        wife_age = age_on(self.birth[wives], start[:n_couples])
        young = np.flatnonzero((wife_age >= 22) & (wife_age <= 42))
        older = np.flatnonzero(wife_age >= 52)
        if len(young):
            join = older[rng.random(len(older)) < 0.4]
            target = young[rng.integers(0, len(young), len(join))]
            household[wives[join]] = hh[target]
            household[husbands[join]] = hh[target]

        # Children (never married, under 28): each to a mother of the right age.
        mothers = np.concatenate([wives, outside_w])
        capacity = np.where(age_on(self.birth[mothers], start[: len(mothers)]) < 40, 3, 4)
        never = idx[~self.ever_married[idx]]
        kids = never[age_on(self.birth[never], start[: len(never)]) < 28]
        placed = self._place_children(kids, mothers, capacity)
        with_mother = placed >= 0
        household[kids[with_mother]] = household[mothers[placed[with_mother]]]
        with_father = with_mother & (placed < n_couples)
        self.surname[kids[with_father]] = self.surname[husbands[placed[with_father]]]
        self.kids_of = np.bincount(placed[with_mother], minlength=len(mothers))

        # Children without parents in the county live with grandparents (a couple whose
        # wife is 45-75): the left-behind children of migrant workers.
        lone = kids[~with_mother]
        lone_child = lone[age_on(self.birth[lone], start[: len(lone)]) < 18]
        grand = np.flatnonzero((wife_age >= 45) & (wife_age <= 75))
        if len(grand):
            pick = grand[rng.integers(0, len(grand), len(lone_child))]
            household[lone_child] = household[wives[pick]]
            self.surname[lone_child] = self.surname[husbands[pick]]

        # Elders not in a couple: most live with a family (a couple whose wife is 25-50);
        # unmarried adults some of the time with their parents (a wife of 45-75).
        rest = idx[household[idx] < 0]
        rest_age = age_on(self.birth[rest], start[: len(rest)])
        u = rng.random(len(rest))
        elders = rest[(rest_age >= 60) & (u < 0.65)]
        grown = rest[(rest_age >= 18) & (rest_age < 60) & ~self.ever_married[rest] & (u < 0.4)]
        for people, low, high in ((elders, 25, 50), (grown, 45, 75)):
            families = np.flatnonzero((wife_age >= low) & (wife_age <= high))
            if len(families) and len(people):
                household[people] = household[
                    wives[families[rng.integers(0, len(families), len(people))]]
                ]
        # Everyone else has a household of their own.
        rest = idx[household[idx] < 0]
        household[rest] = len(heads) + np.arange(len(rest))

        # Number the households that have members, in order; then place them in villages.
        used, numbered = np.unique(household[idx], return_inverse=True)
        ids = self._households(rng.choice(len(self.v_size), len(used), p=self.v_size))
        self.household[idx] = ids[numbered]
        hv = np.concatenate(self.households_village)
        self.village[idx] = hv[self.household[idx]]
        self.village0[idx] = self.village[idx]
        self.hukou[idx] = self.v_code[self.village[idx]]

    def _place_children(self, kids, mothers, capacity) -> np.ndarray:
        """For each child, the index (into ``mothers``) of the mother raising them, or -1.

        A few rounds of proposals: each child draws the mother's age at their birth
        (20-40) and proposes to a mother born that year; a mother takes proposals up to
        her capacity and only for children born after her wedding.
        """
        rng = self.rng
        placed = np.full(len(kids), -1, np.int64)
        if len(mothers) == 0 or len(kids) == 0:
            return placed
        m_year = _YEARS[self.birth[mothers] - DAY0]
        order = np.argsort(m_year, kind="stable")
        sorted_years = m_year[order]
        first_year = int(sorted_years[0])
        span = int(sorted_years[-1]) - first_year + 1
        starts = np.searchsorted(sorted_years, np.arange(first_year, first_year + span + 1))
        taken = np.zeros(len(mothers), np.int64)
        union_start = self.unions[3][self.union[mothers]]
        kid_year = _YEARS[self.birth[kids] - DAY0]
        mother_age_weights = np.array(
            [3, 6, 9, 11, 12, 12, 11, 9, 7, 5, 4, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1], float
        )
        for _round in range(6):
            open_ = np.flatnonzero(placed < 0)
            if not len(open_):
                break
            at = 20 + rng.choice(
                len(mother_age_weights), len(open_), p=mother_age_weights / mother_age_weights.sum()
            )
            year = kid_year[open_] - at - first_year
            valid = (year >= 0) & (year < span)
            lo = starts[np.clip(year, 0, span - 1)]
            hi = starts[np.clip(year, 0, span - 1) + 1]
            valid &= hi > lo
            pick = lo + np.floor(rng.random(len(open_)) * np.maximum(hi - lo, 1)).astype(np.int64)
            cand = order[np.clip(pick, 0, len(order) - 1)]
            valid &= union_start[cand] + 280 <= self.birth[kids[open_]]
            open_, cand = open_[valid], cand[valid]
            # First come, first served, up to each mother's remaining capacity.
            key = rng.random(len(cand))
            srt = np.lexsort((key, cand))
            open_, cand = open_[srt], cand[srt]
            first = np.r_[True, cand[1:] != cand[:-1]]
            group_start = np.maximum.accumulate(np.where(first, np.arange(len(cand)), 0))
            rank = np.arange(len(cand)) - group_start
            ok = rank < capacity[cand] - taken[cand]
            placed[open_[ok]] = cand[ok]
            np.add.at(taken, cand[ok], 1)
        return placed

    def _base_fertility(self, mothers: np.ndarray) -> None:
        """Children ever born, the youngest's birthday, and the state on 2021-01-01 of
        every married woman: her method, her pregnancy, or her wish for a child."""
        rng = self.rng
        count = len(mothers)
        today = np.full(count, START_DAY)
        age = age_on(self.birth[mothers], today)
        union_start = self.unions[3][self.union[mothers]]
        married_years = (START_DAY - union_start) / YEAR
        # Parity by age: at least the children raised at home, more for older women.
        p_table = np.array(
            [  # P0, P1, P2, P3+
                [0.45, 0.45, 0.10, 0.00],  # < 25
                [0.18, 0.50, 0.30, 0.02],  # 25-29
                [0.06, 0.40, 0.48, 0.06],  # 30-34
                [0.04, 0.36, 0.51, 0.09],  # 35-39
                [0.03, 0.36, 0.49, 0.12],  # 40-44
                [0.03, 0.38, 0.45, 0.14],  # 45-49
                [0.02, 0.30, 0.48, 0.20],  # 50+
            ]
        )
        group = np.clip((age - 20) // 5, 0, 6)
        cum = p_table.cumsum(axis=1)[group]
        parity = (rng.random(count)[:, None] > cum).sum(axis=1)
        parity = np.where(parity == 3, 3 + (rng.random(count) < 0.25), parity)
        parity = np.where(married_years < 0.8, 0, parity)
        parity = np.where((married_years < 2.5) & (parity > 1), 1, parity)
        parity = np.maximum(parity, self.kids_of[:count])
        parity = np.where(self.sterile[mothers], np.minimum(parity, self.kids_of[:count]), parity)
        # The youngest child: a first birth 1-2 years after the wedding, the next 2-6 apart.
        first_birth = union_start + rng.integers(300, 800, count)
        gaps = rng.uniform(2, 6, count) * np.maximum(parity - 1, 0) * YEAR
        last = np.minimum(
            first_birth + gaps.astype(np.int64), START_DAY - 1 - rng.integers(0, 200, count)
        )
        last = np.minimum(np.maximum(last, union_start + 280), START_DAY - 1)
        self.parity[mothers] = parity
        self.lbb[mothers] = parity
        self.last_birth[mothers] = np.where(parity > 0, last, -NEVER)
        # Mothers of a baby under 7 months: no method yet.
        young = age < 50
        since = START_DAY - last
        postpartum = young & (parity > 0) & (since < 200)
        self.next_method[mothers[postpartum]] = START_DAY + rng.integers(0, 120, postpartum.sum())

        # Seeking a child: newly-weds without one, and some with one or two.
        p_seek = np.select(
            [parity == 0, (parity == 1) & (age < 35), parity == 1, parity == 2],
            [np.where(married_years < 2.5, 0.8, 0.25), 0.09, 0.02, 0.015],
            0.004,
        )
        seek = young & ~postpartum & ~self.sterile[mothers] & (rng.random(count) < p_seek)
        self.want[mothers[seek]] = True
        # Of those seeking, some are pregnant already: conceived in the last nine months.
        pregnant = seek & (age < 45) & (rng.random(count) < 0.58)
        p_idx = mothers[pregnant]
        conceived = START_DAY - rng.integers(1, 265, len(p_idx))
        after_last = conceived > self.last_birth[p_idx] + 60  # not before her last child
        p_idx, conceived = p_idx[after_last], conceived[after_last]
        self._conceive(p_idx, conceived, failure=np.zeros(len(p_idx), bool), base=True)

        # Everyone else under 50 uses a method (or, a few, none), started after the last birth.
        users = young & ~seek & ~postpartum & (rng.random(count) < 0.94)
        users &= ~((parity == 0) & self.sterile[mothers])
        u = mothers[users]
        u_age = age[users]
        u_parity = parity[users]
        started = np.where(
            u_parity > 0,
            self.last_birth[u] + rng.integers(42, 400, len(u)),
            union_start[users] + rng.integers(0, 200, len(u)),
        )
        started = np.minimum(started, START_DAY - 1)
        methods = self._choose_methods(u, np.full(len(u), START_DAY))
        older = (u_age >= 40) & (u_parity > 0)
        methods[older] = self._choose_methods(u[older], np.full(older.sum(), START_DAY), "historic")
        self._start_methods(u, started, methods)
        # Newly-weds who delay the first child on condoms or the pill, then seek.
        delaying = u[u_parity == 0]
        self.next_seek[delaying] = START_DAY + rng.integers(30, 540, len(delaying))

    def _base_identity(self, idx: np.ndarray) -> None:
        """ID regions: one in ten married women came from another county (their hukou moved)."""
        wives = idx[(self.sex[idx] == FEMALE) & self.ever_married[idx]]
        brides = wives[self.rng.random(len(wives)) < 0.1]
        self.region[brides] = self.rng.integers(1, len(REGIONS), len(brides))

    # -- one month ----------------------------------------------------------------

    def month(self, first: int, stop: int) -> None:
        """Everything that happens in [first, stop): scheduled events first, then the
        month's chances; nobody gets two of them (``busy``)."""
        busy = np.zeros(self.cap, np.bool_)
        self._registrations(first, stop, busy)
        self._pregnancy_ends(first, stop, busy)
        self._scheduled_methods(first, stop, busy)
        self._family_planning(first, stop, busy)
        self._conceptions(first, stop, busy)
        self._marriages(first, stop, busy)
        self._divorces(first, stop, busy)
        self._deaths(first, stop, busy)
        self._moves(first, stop, busy)
        self._arrivals(first, stop)

    def _registrations(self, first, stop, busy) -> None:
        """Pregnancies registered this month (7-13 weeks after the LMP)."""
        women = np.flatnonzero(
            self.preg[: self.n]
            & (self.preg_reg[: self.n] >= first)
            & (self.preg_reg[: self.n] < stop)
        )
        day = self.preg_reg[women]
        self.emit("pregnancy", women, day, b=self.preg_lmp[women])
        # A pregnancy while using a method: the method stops when the pregnancy is known.
        failed = women[self.preg_failure[women] & (self.method[women] >= 0)]
        self._stop_methods(failed, self.preg_reg[failed], names.REASON_FAILURE)
        busy[women] = True

    def _pregnancy_ends(self, first, stop, busy) -> None:
        """Births (the children join the register) and the other outcomes, and what the
        mother does next: a method after a while, or trying again."""
        rng = self.rng
        women = np.flatnonzero(
            self.preg[: self.n]
            & (self.preg_end[: self.n] >= first)
            & (self.preg_end[: self.n] < stop)
        )
        if not len(women):
            return
        day = self.preg_end[women]
        outcome = self.preg_outcome[women]
        reg = self.preg_reg[women]
        self.pregnancies.append((women, reg, day))
        self.preg[women] = False
        self.preg_reg[women] = NEVER
        self.preg_end[women] = NEVER
        busy[women] = True
        failure = self.preg_failure[women]
        self.preg_failure[women] = False

        # Live births.
        live = outcome == 0
        mothers, bday = women[live], day[live]
        twins = rng.random(len(mothers)) < TWINS
        all_mothers = np.concatenate([mothers, mothers[twins]])
        all_days = np.concatenate([bday, bday[twins]])
        order = np.concatenate([self.parity[mothers] + 1, self.parity[mothers[twins]] + 2])
        srb = np.array(SRB_BY_ORDER)[np.minimum(order, 3) - 1]
        sex = (rng.random(len(all_mothers)) < srb / (100 + srb)).astype(np.int8)
        children = self._add(len(all_mothers))
        self.sex[children] = sex
        self.birth[children] = all_days
        self.alive[children] = True
        self.present[children] = True
        self.entry[children] = all_days
        self.origin[children] = BORN
        self.mother[children] = all_mothers
        self.village[children] = self.village[all_mothers]
        self.village0[children] = self.village[all_mothers]
        self.household[children] = self.household[all_mothers]
        self.hukou[children] = self.hukou[all_mothers]
        father = self.spouse[all_mothers]
        self.surname[children] = np.where(
            father >= 0, self.surname[np.maximum(father, 0)], self.surname[all_mothers]
        )
        self.sterile[children] = rng.random(len(children)) < PRIMARY_STERILITY
        self._plan_first_marriages(children)
        busy[children] = True
        weight = np.round(rng.normal(3300, 420, len(children)))
        twin = np.concatenate([twins, np.ones(twins.sum(), bool)])
        weight = np.clip(weight - 550 * twin, 1200, 5200)  # twins are lighter
        home = (
            rng.random(len(mothers))
            > FACILITY_DELIVERY * self.v_factor[self.village[mothers]] ** 0.1
        )
        home = np.concatenate([home, home[twins]])  # twins are born in the same place
        self.emit(
            "birth",
            all_mothers,
            all_days,
            a=children,
            b=weight.astype(np.int64),
            c=home.astype(np.int64),
        )
        self.parity[mothers] += 1
        self.parity[mothers[twins]] += 1
        self.last_birth[mothers] = bday
        self.births.append((mothers, bday))
        self.want[mothers] = False
        # After a birth a method is chosen within about six months (most), or none.
        adopt = rng.random(len(mothers)) < 0.96
        self.next_method[mothers[adopt]] = bday[adopt] + rng.integers(42, 200, adopt.sum())

        # Other outcomes.
        lost = np.flatnonzero(~live)
        for code, name in ((1, "stillbirth"), (2, "miscarriage"), (3, "induced_abortion")):
            sel = lost[outcome[lost] == code]
            if not len(sel):
                continue
            w, d = women[sel], day[sel]
            self.emit("outcome", w, d, a=OUTCOMES.index(name))
            if name == "induced_abortion":
                self.abortions.append((w, d))
                self.want[w] = False
                self.next_method[w] = d + rng.integers(0, 21, len(w))
            else:
                sought = ~failure[sel]
                self.want[w[sought]] = False
                self.next_seek[w[sought]] = d[sought] + rng.integers(60, 200, sought.sum())
                self.next_method[w[~sought]] = d[~sought] + rng.integers(14, 90, (~sought).sum())

    def _scheduled_methods(self, first, stop, busy) -> None:
        """Methods chosen after a birth or an abortion, and newly-weds who stop delaying."""
        n = self.n
        due = (self.next_method[:n] >= first) & (self.next_method[:n] < stop)
        women = np.flatnonzero(due)
        if len(women):
            # Only a married woman here, not pregnant and using nothing, starts one.
            ok = (
                self.present[women]
                & (self.spouse[women] != -1)
                & ~self.preg[women]
                & (self.method[women] < 0)
            )
            ok &= age_on(self.birth[women], self.next_method[women]) < 50
            self.next_method[women[~ok]] = NEVER
            women = women[ok]
            day = self.next_method[women]
            self._start_methods(women, day, self._choose_methods(women, day), busy)
            busy[women] = True
        seekers = np.flatnonzero((self.next_seek[:n] >= first) & (self.next_seek[:n] < stop))
        if len(seekers):
            day = self.next_seek[seekers]
            self.next_seek[seekers] = NEVER
            ok = (
                self.present[seekers]
                & (self.spouse[seekers] != -1)
                & ~self.preg[seekers]
                & ~busy[seekers]
            )
            seekers, day = seekers[ok], day[ok]
            self._stop_methods(seekers, day, names.REASON_PLANNING)
            self.want[seekers] = True
            busy[seekers] = True

    def _married_women(self, busy) -> np.ndarray:
        """Married women living here, not pregnant and free this month."""
        n = self.n
        return np.flatnonzero(
            self.present[:n]
            & (self.sex[:n] == FEMALE)
            & (self.spouse[:n] != -1)
            & ~self.preg[:n]
            & ~busy[:n]
        )

    def _family_planning(self, first, stop, busy) -> None:
        """Deciding to have a child, stopping and switching methods, starting one."""
        rng = self.rng
        women = self._married_women(busy)
        day = self._days_in(first, stop, len(women))
        age = age_on(self.birth[women], day)
        women, day, age = women[age < 50], day[age < 50], age[age < 50]
        method = self.method[women]
        sterilized = np.isin(method, STERILIZATION)
        year = _YEARS[first - DAY0]
        # The wish for another child.
        parity = np.minimum(self.parity[women], 3)
        hazard = np.zeros(len(women))
        group = np.searchsorted(DESIRE_AGES, age, side="right") - 1
        for p, rates in DESIRE.items():
            sel = parity == p
            hazard[sel] = rates[np.clip(group[sel], 0, 3)]
        trend = np.where(parity >= 1, (1 - DESIRE_TREND) ** (year - 2021), 1.0)
        too_soon = (day - self.last_birth[women]) < MIN_BIRTH_INTERVAL * YEAR
        hazard = hazard * trend * self.v_factor[self.village[women]]
        wish = (
            ~self.want[women]
            & ~sterilized
            & ~too_soon
            & (self.next_method[women] == NEVER)
            & (self.next_seek[women] == NEVER)
            & (rng.random(len(women)) < 1 - np.exp(-hazard / 12))
        )
        w = women[wish]
        self._stop_methods(w, day[wish], names.REASON_PLANNING)
        self.want[w] = True
        busy[w] = True

        rest = ~wish & ~self.want[women]
        # Stopping or switching for other reasons.
        using = rest & (method >= 0)
        p_stop = STOP_MONTHLY[np.maximum(method, 0)]
        p_stop = np.where(
            (method == M["iud"]) & (age >= 47), 0.02, p_stop
        )  # removal near menopause
        stop_ = using & (rng.random(len(women)) < p_stop)
        s, sd = women[stop_], day[stop_]
        switch = (rng.random(len(s)) < SWITCH_SHARE) & (age[stop_] < 47)
        menopause = (self.method[s] == M["iud"]) & (age[stop_] >= 47)
        reasons = [
            (switch, names.REASON_SWITCH),
            (~switch & menopause, names.REASON_MENOPAUSE),
            (~switch & ~menopause & (rng.random(len(s)) < 0.5), names.REASON_SIDE_EFFECTS),
        ]
        handled = np.zeros(len(s), bool)
        old = self.method[s].copy()
        for sel, reason in reasons:
            sel = sel & ~handled
            self._stop_methods(s[sel], sd[sel], reason)
            handled |= sel
        self._stop_methods(s[~handled], sd[~handled], names.REASON_OWN_WISH)
        # (the stop helper clears the method, so the old one is taken from ``old``)
        new = self._choose_methods(s[switch], sd[switch])
        same = new == old[switch]
        new[same] = np.where(old[switch][same] == M["condom"], M["iud"], M["condom"])
        self._start_methods(s[switch], sd[switch], new, busy)
        later = s[~switch & ~menopause]
        self.next_method[later] = sd[~switch & ~menopause] + rng.integers(30, 365, len(later))
        busy[s] = True

        # Women using nothing and not seeking a child take up a method.
        idle = (
            rest
            & ~stop_
            & (method < 0)
            & (self.next_method[women] == NEVER)
            & (self.next_seek[women] == NEVER)
        )
        idle &= age < 48
        take = idle & (rng.random(len(women)) < ADOPT_MONTHLY)
        t = women[take]
        self._start_methods(t, day[take], self._choose_methods(t, day[take]), busy)
        busy[t] = True

    def _conceptions(self, first, stop, busy) -> None:
        """Women seeking a child conceive by age; a few using a method conceive anyway."""
        rng = self.rng
        women = self._married_women(busy)
        women = women[~self.sterile[women]]
        day = self._days_in(first, stop, len(women))
        age = age_on(self.birth[women], day)
        keep = (age >= 15) & (age < 50)
        women, day, age = women[keep], day[keep], age[keep]
        method = self.method[women]
        seeking = self.want[women] & (method < 0)
        group = np.clip(
            np.searchsorted(FECUNDABILITY_AGES, age, side="right") - 1, 0, len(FECUNDABILITY) - 1
        )
        p = np.where(seeking, FECUNDABILITY[group] * self.v_factor[self.village[women]], 0.0)
        p = np.where(method >= 0, FAILURE_MONTHLY[np.maximum(method, 0)], p)
        p = np.where(age >= 45, p * 0.3, p)
        conceive = rng.random(len(women)) < p
        self._conceive(women[conceive], day[conceive], failure=(method >= 0)[conceive])
        busy[women[conceive]] = True

    def _conceive(self, women, day, *, failure, base: bool = False) -> None:
        """Pregnancies conceived on ``day``: registration, LMP and how and when they end."""
        rng = self.rng
        count = len(women)
        lmp = day - 14
        reg = day + rng.integers(35, 80, count)
        u = rng.random(count)
        outcome = np.zeros(count, np.int8)
        for table, sel in ((SOUGHT_OUTCOMES, ~failure), (FAILURE_OUTCOMES, failure)):
            cum = np.cumsum(
                [
                    table["birth"],
                    table["stillbirth"],
                    table["miscarriage"],
                    table["induced_abortion"],
                ]
            )
            outcome[sel] = np.minimum(np.searchsorted(cum, u[sel], side="right"), 3)
        gestation = np.clip(np.round(rng.normal(268, 11, count)), 230, 294).astype(np.int64)
        end = np.select(
            [outcome == 0, outcome == 1, outcome == 2],
            [
                day + gestation,
                day + rng.integers(150, 260, count),
                reg + rng.integers(5, 60, count),
            ],
            reg + rng.integers(1, 25, count),
        )
        if base:
            # Pregnancies under way on 2021-01-01 that would have ended before it did not happen.
            ok = end >= START_DAY
            women, lmp, reg, end, outcome, failure = (
                x[ok] for x in (women, lmp, reg, end, outcome, failure)
            )
        self.preg[women] = True
        self.preg_lmp[women] = lmp
        self.preg_reg[women] = reg
        self.preg_end[women] = end
        self.preg_outcome[women] = outcome
        self.preg_failure[women] = failure
        self.want[women] = False
        if base:
            # Registered before the register starts: the event is dated when it happened.
            past = reg < START_DAY
            self.emit("pregnancy", women[past], reg[past], b=lmp[past])
            self.preg_reg[women[past]] = -NEVER  # no registration left to make

    def _marriages(self, first, stop, busy) -> None:
        """Those whose wedding day has come marry: mostly each other (paired by age), else
        someone registered elsewhere; the bride moves to her husband's village."""
        rng = self.rng
        n = self.n
        due = (
            self.present[:n]
            & ~busy[:n]
            & (self.spouse[:n] == -1)
            & (self.marry_day[:n] < stop)
            & ~self.preg[:n]
        )
        candidates = np.flatnonzero(due)
        if not len(candidates):
            return
        age = age_on(self.birth[candidates], np.full(len(candidates), first))
        legal = age >= np.where(
            self.sex[candidates] == MALE, MARRIAGE_MIN_AGE[1], MARRIAGE_MIN_AGE[0]
        )
        candidates = candidates[legal]
        women = candidates[self.sex[candidates] == FEMALE]
        men = candidates[self.sex[candidates] == MALE]
        n_local = min(int(round(len(women) * LOCAL_MARRIAGE)), len(men))
        local_w = rng.permutation(women)[:n_local]
        wives, husbands = self._pair(local_w, men, target_gap=2.0, spread=2.0, max_gap=(-6, 15))
        day = self._days_in(first, stop, len(wives))
        self._marry(wives, husbands, np.full(len(wives), -1), day)
        # The bride moves to her husband's village within a few weeks.
        moving = self.village[wives] != self.village[husbands]
        w, d = wives[moving], np.minimum(day[moving] + rng.integers(0, 21, moving.sum()), stop - 1)
        self.village[w] = self.village[husbands[moving]]
        self.emit("move_within", w, d, a=self.village[w])
        self._newlyweds(wives, day)
        busy[wives] = True
        busy[husbands] = True

        # Women marrying a man registered elsewhere: some leave with him.
        other_w = np.setdiff1d(women, wives)
        other_w = other_w[rng.random(len(other_w)) < 0.8]  # the rest wait a while
        day = self._days_in(first, stop, len(other_w))
        outside = self._outside(
            np.full(len(other_w), MALE),
            self.birth[other_w] - np.round(rng.normal(2, 2, len(other_w)) * YEAR).astype(np.int64),
        )
        self._marry(other_w, np.full(len(other_w), -1), outside, day)
        leave = rng.random(len(other_w)) < MARRY_OUT
        self._leave(
            other_w[leave],
            np.minimum(day[leave] + rng.integers(0, 30, leave.sum()), stop - 1),
            moved=True,
        )
        self._newlyweds(other_w[~leave], day[~leave])
        busy[other_w] = True

        # Men without a bride of the county: a bride moves in, a wife registered
        # elsewhere, or later.
        other_m = np.setdiff1d(men, husbands)
        u = rng.random(len(other_m))
        bride_in = other_m[u < OUTSIDE_BRIDE]
        wife_out = other_m[(u >= OUTSIDE_BRIDE) & (u < OUTSIDE_BRIDE + OUTSIDE_WIFE)]
        later = other_m[u >= OUTSIDE_BRIDE + OUTSIDE_WIFE]
        m_age = age_on(self.birth[later], np.full(len(later), first))
        self.marry_day[later] = np.where(
            m_age < 45, first + rng.integers(120, 1100, len(later)), NEVER
        )

        day = self._days_in(first, stop, len(bride_in))
        brides = self._add(len(bride_in))
        bride_birth = np.minimum(
            self.birth[bride_in]
            + np.round(rng.normal(2.5, 2, len(bride_in)) * YEAR).astype(np.int64),
            day - int(20 * YEAR) - 1,
        )
        self._arrive(
            brides,
            FEMALE,
            bride_birth,
            self.village[bride_in],
            day,
            household=self.household[bride_in],
        )
        self.hukou[brides] = np.where(
            rng.random(len(brides)) < 0.5, self.v_code[self.village[bride_in]], self.hukou[brides]
        )
        self._marry(brides, bride_in, np.full(len(brides), -1), day)
        self._newlyweds(brides, day)
        busy[bride_in] = True
        busy[brides] = True

        day = self._days_in(first, stop, len(wife_out))
        outside = self._outside(
            np.full(len(wife_out), FEMALE),
            self.birth[wife_out]
            + np.round(rng.normal(2, 2, len(wife_out)) * YEAR).astype(np.int64),
        )
        self._marry(np.full(len(wife_out), -1), wife_out, outside, day)
        busy[wife_out] = True

    def _newlyweds(self, wives: np.ndarray, day: np.ndarray) -> None:
        """Most newly-weds want a child soon; some first delay it with condoms or the pill."""
        rng = self.rng
        fertile = ~self.sterile[wives] & (age_on(self.birth[wives], day) < 45)
        delay = fertile & (rng.random(len(wives)) < 0.2) & (self.method[wives] < 0)
        d = wives[delay]
        self._start_methods(d, day[delay], self._choose_methods(d, day[delay], "delay"))
        self.next_seek[d] = day[delay] + rng.integers(120, 540, len(d))
        seek = fertile & ~delay & (self.method[wives] < 0)
        self.want[wives[seek]] = True

    def _divorces(self, first, stop, busy) -> None:
        """Rare divorces, and widowhood when a spouse registered elsewhere dies."""
        rng = self.rng
        wife, husband, outside, start, end = self.unions
        active = np.flatnonzero(end == NEVER)
        w, h = wife[active], husband[active]
        ok = (w < 0) | (
            self.present[np.maximum(w, 0)] & ~busy[np.maximum(w, 0)] & ~self.preg[np.maximum(w, 0)]
        )
        ok &= (h < 0) | (self.present[np.maximum(h, 0)] & ~busy[np.maximum(h, 0)])
        ok &= start[active] < first
        # Spouses registered elsewhere die too: the survivor is widowed (an event).
        o_idx = outside[active]
        has_o = o_idx >= 0
        p_die = np.zeros(len(active))
        if self.n_outside:
            o_birth = np.concatenate(self.o_birth)
            o_sex = np.concatenate(self.o_sex)
            o_age = (first - o_birth[np.maximum(o_idx, 0)]) / YEAR
            p_die = 1 - np.exp(-mortality(o_age, o_sex[np.maximum(o_idx, 0)]) / 12)
        widowed = ok & has_o & (rng.random(len(active)) < p_die)
        divorce = ok & ~widowed & (rng.random(len(active)) < 1 - np.exp(-DIVORCE_RATE / 12))
        for sel, kind in ((divorce, "divorce"), (widowed, "widowhood")):
            u = active[sel]
            day = self._days_in(first, stop, len(u))
            person = np.where(wife[u] >= 0, wife[u], husband[u])
            if kind == "divorce":
                self.emit(
                    "divorce", person, day, a=np.where(wife[u] >= 0, husband[u], -1), b=outside[u]
                )
            else:
                self.emit("widowhood", person, day)
            self._end_unions(u, day)
            people = np.concatenate([wife[u][wife[u] >= 0], husband[u][husband[u] >= 0]])
            days = np.concatenate([day[wife[u] >= 0], day[husband[u] >= 0]])
            busy[people] = True
            self._remarriage(people, days)

    def _deaths(self, first, stop, busy) -> None:
        """Deaths by the life table (a village's factor shifts it a little)."""
        rng = self.rng
        n = self.n
        people = np.flatnonzero(self.present[:n] & ~busy[:n])
        months_old = np.minimum((first - self.birth[people]) * 12 // 365, len(DEATH_MONTHLY[0]) - 1)
        p = DEATH_MONTHLY[self.sex[people], months_old] * self.v_mortality[self.village[people]]
        die = rng.random(len(people)) < p
        dead = people[die]
        day = self._days_in(first, stop, len(dead))
        self.emit("death", dead, day)
        self.alive[dead] = False
        self._leave(dead, day, moved=False)
        busy[dead] = True

    def _leave(self, people: np.ndarray, day: np.ndarray, *, moved: bool) -> None:
        """People who die or move out: nothing more happens to them here."""
        self.present[people] = False
        self.exit[people] = day
        for name in ("preg_reg", "preg_end", "next_method", "next_seek", "marry_day"):
            getattr(self, name)[people] = NEVER
        self.preg[people] = False
        if moved:
            dest = self.rng.integers(0, len(names.DESTINATIONS), len(people))
            self.emit("move_out", people, day, a=dest)
            return
        # A death ends the marriage: the surviving spouse is widowed.
        married = self.union[people] >= 0
        u, d = self.union[people[married]], day[married]
        both = np.concatenate([self.unions[0][u], self.unions[1][u]])
        days = np.concatenate([d, d])
        survivor = (both >= 0) & ~np.isin(both, people)
        self._end_unions(u, d)
        self._remarriage(both[survivor], days[survivor])

    def _moves(self, first, stop, busy) -> None:
        """Young unmarried people and some young families leave; some adults move to
        another village of the county."""
        rng = self.rng
        n = self.n
        here = self.present[:n] & ~busy[:n] & ~self.preg[:n]
        # Ages in completed years at the start of the month, for the unmarried only.
        unmarried = np.flatnonzero(here & (self.spouse[:n] == -1))
        age = np.full(n, -1, np.int64)
        age[unmarried] = age_on(self.birth[unmarried], np.full(len(unmarried), first))
        singles = np.flatnonzero((age >= 16) & (age <= 40))
        factor = self.v_factor[self.village[singles]]
        go = singles[rng.random(len(singles)) < 1 - np.exp(-OUT_SINGLE * factor / 12)]
        self._leave(go, self._days_in(first, stop, len(go)), moved=True)
        busy[go] = True

        # Families: a couple (wife 20-45, husband registered) with their household's children.
        wife, husband, _outside, _start, end = self.unions
        active = np.flatnonzero((end == NEVER) & (wife >= 0) & (husband >= 0))
        w, h = wife[active], husband[active]
        w_age = age_on(self.birth[w], np.full(len(w), first))
        ok = here[w] & here[h] & (w_age >= 20) & (w_age <= 45)
        ok &= self.village[w] == self.village[h]
        ok &= self.next_method[w] == NEVER
        fam = rng.random(len(active)) < 1 - np.exp(-OUT_FAMILY / 12)
        w, h = w[ok & fam], h[ok & fam]
        day = self._days_in(first, stop, len(w))
        movers, days = [w, h], [day, day]
        if len(w):
            kids = np.flatnonzero((age >= 0) & (age < 16) & ~busy[:n])
            fam_hh = self.household[w]
            order = np.argsort(fam_hh, kind="stable")
            sorted_hh = fam_hh[order]
            pos = np.minimum(np.searchsorted(sorted_hh, self.household[kids]), len(order) - 1)
            with_family = sorted_hh[pos] == self.household[kids]
            movers.append(kids[with_family])
            days.append(day[order[pos[with_family]]])
        movers, days = np.concatenate(movers), np.concatenate(days)
        self._leave(movers, days, moved=True)
        busy[movers] = True

        # Within the county: unmarried adults to another village (mostly of the same township).
        adults = np.flatnonzero(~busy[:n] & (age >= 18) & (age < 60))
        movers = adults[rng.random(len(adults)) < 1 - np.exp(-WITHIN_RATE / 12)]
        target = self._other_village(self.village[movers])
        self.village[movers] = target
        self.emit("move_within", movers, self._days_in(first, stop, len(movers)), a=target)
        busy[movers] = True

    def _other_village(self, current: np.ndarray) -> np.ndarray:
        """Another village: of the same township (seven in ten) or anywhere, by size."""
        rng = self.rng
        count = len(current)
        # Villages are numbered township by township.
        first = np.searchsorted(self.v_township, self.v_township[current], side="left")
        size = np.searchsorted(self.v_township, self.v_township[current], side="right") - first
        nearby = first + (current - first + rng.integers(1, np.maximum(size, 2), count)) % size
        anywhere = rng.choice(len(self.v_size), count, p=self.v_size)
        target = np.where(rng.random(count) < 0.7, nearby, anywhere)
        clash = target == current
        target[clash] = (current[clash] + 1) % len(self.v_size)
        return target

    def _arrivals(self, first, stop) -> None:
        """Migrants move in: young adults, each in a household of their own."""
        rng = self.rng
        count = rng.poisson(self.n0 * IN_RATE * (stop - first) / YEAR)
        people = self._add(count)
        sex = (rng.random(count) < 0.56).astype(np.int8)
        day = self._days_in(first, stop, count)
        birth = day - np.floor(rng.uniform(18, 41, count) * YEAR).astype(np.int64)
        # The county seat draws more of them.
        weights = self.v_size * np.where(self.v_township == 0, 3.0, 1.0)
        village = rng.choice(len(self.v_size), count, p=weights / weights.sum())
        self._arrive(people, sex, birth, village, day, household=self._households(village))
        self._plan_first_marriages(people)
        past = self.marry_day[people] < day
        self.marry_day[people[past]] = day[past] + rng.integers(90, 1500, past.sum())

    def _arrive(self, people, sex, birth, village, day, *, household) -> None:
        """People from another county move in on ``day`` (their ID is from there)."""
        rng = self.rng
        self.sex[people] = sex
        self.birth[people] = birth
        self.alive[people] = True
        self.present[people] = True
        self.entry[people] = day
        self.origin[people] = MIGRANT
        self.village[people] = village
        self.village0[people] = village
        self.household[people] = household
        self.region[people] = rng.integers(1, len(REGIONS), len(people))
        # Their household registration stays where they came from.
        self.hukou[people] = (
            REGION_CODES[self.region[people]] * 10**6
            + rng.integers(100, 110, len(people)) * 1000
            + rng.integers(201, 230, len(people))
        )
        self.surname[people] = self._surnames(len(people))
        self.sterile[people] = rng.random(len(people)) < PRIMARY_STERILITY
        self.emit("move_in", people, day, a=village)

    # -- services ------------------------------------------------------------------

    def services(self) -> None:
        """Check-ups, screening, follow-ups and education, from the lives simulated."""
        n = self.n
        self._here_from = self.entry[:n]
        self._here_until = np.minimum(self.exit[:n], self.end_day + 1)
        self._checkups()
        self._screening()
        self._followups()
        self._education()

    def _here(self, people: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Whether each person lives in the county on ``day`` (and the day has come)."""
        return (
            (day >= self._here_from[people]) & (day < self._here_until[people]) & (day >= START_DAY)
        )

    def _service(self, kind: str, people, day, share: float, *, a=-1, findings=None) -> None:
        """Emit the encounters that took place: the person was here, and came."""
        people = np.asarray(people, np.int64)
        day = np.asarray(day, np.int64)
        rng = self.rng
        factor = self.v_factor[self.village0[people]]
        ok = self._here(people, day) & (
            rng.random(len(people)) < np.minimum(share * factor**0.3, 0.99)
        )
        a = np.broadcast_to(np.asarray(a), people.shape)[ok]
        people, day = people[ok], day[ok]
        b = np.full(len(people), -1, np.int64)
        if findings is not None:
            found = rng.random(len(people)) < FINDING_SHARE[kind]
            b[found] = rng.integers(0, len(findings), found.sum())
        self.emit(kind, people, day, a=a, b=b)

    def _years(self) -> range:
        """The calendar years simulated (the last one up to the end)."""
        return range(START.year, self.end.year + 1)

    def _year_days(self, year: int, count: int) -> np.ndarray:
        """Days drawn evenly from a year (up to the end)."""
        last = min(year_start(year + 1), self.end_day + 1)
        return self.rng.integers(year_start(year), last, count)

    def _checkups(self) -> None:
        """Married women 15-49: one reproductive-health check-up a year."""
        wife, _h, _o, start, end = self.unions
        u = np.flatnonzero(wife >= 0)
        for year in self._years():
            day = self._year_days(year, len(u))
            w = wife[u]
            age = age_on(self.birth[w], day)
            ok = (start[u] <= day) & (day < end[u]) & (age >= 15) & (age <= 49)
            self._service(
                "checkup", w[ok], day[ok], CHECKUP_ATTENDANCE, findings=names.CHECKUP_FINDINGS
            )

    def _screening(self) -> None:
        """Women 35-64: gynaecological screening every three years (a third each year)."""
        n = self.n
        women = np.flatnonzero(self.sex[:n] == FEMALE)
        for year in self._years():
            turn = women[(women + year) % 3 == 0]
            day = self._year_days(year, len(turn))
            age = age_on(self.birth[turn], day)
            ok = (age >= 35) & (age <= 64)
            self._service(
                "screening",
                turn[ok],
                day[ok],
                SCREENING_ATTENDANCE,
                findings=names.SCREENING_FINDINGS,
            )

    def _followups(self) -> None:
        """After a delivery (7 and 42 days), an IUD insertion (1, 3, 6, 12 months), a
        sterilisation (7 days and 1 month) and an induced abortion (2 weeks)."""
        rng = self.rng
        findings = names.FOLLOWUP_FINDINGS
        if self.births:
            mother = np.concatenate([m for m, _ in self.births])
            day = np.concatenate([d for _, d in self.births])
            for low, high in ((3, 8), (28, 43)):
                self._service(
                    "followup",
                    mother,
                    day + rng.integers(low, high, len(day)),
                    FOLLOWUP_DONE,
                    findings=findings,
                )
        if self.method_starts:
            person = np.concatenate([p for p, _, _ in self.method_starts])
            method = np.concatenate([m for _, m, _ in self.method_starts])
            day = np.concatenate([d for _, _, d in self.method_starts])
            stops = self._stop_days(person)
            iud = method == M["iud"]
            for months_after in (1, 3, 6, 12):
                when = day[iud] + int(months_after * 30.44) + rng.integers(-5, 6, iud.sum())
                ok = when < stops[iud]
                self._service(
                    "followup", person[iud][ok], when[ok], FOLLOWUP_DONE, findings=findings
                )
            ster = np.isin(method, STERILIZATION)
            for low, high in ((6, 11), (28, 35)):
                when = day[ster] + rng.integers(low, high, ster.sum())
                self._service("followup", person[ster], when, FOLLOWUP_DONE, findings=findings)
        if self.abortions:
            woman = np.concatenate([w for w, _ in self.abortions])
            day = np.concatenate([d for _, d in self.abortions])
            self._service(
                "followup",
                woman,
                day + rng.integers(12, 22, len(day)),
                FOLLOWUP_DONE,
                findings=findings,
            )

    def _stop_days(self, person: np.ndarray) -> np.ndarray:
        """For each method start (in order), the first stop of that person after it
        (an approximation good enough for scheduling follow-ups: NEVER if none)."""
        out = np.full(len(person), NEVER, np.int64)
        if not self.method_stops:
            return out
        s_person = np.concatenate([p for p, _ in self.method_stops])
        s_day = np.concatenate([d for _, d in self.method_stops])
        starts_day = np.concatenate([d for _, _, d in self.method_starts])
        # Pair each start with the next stop of the same person by sorting (person, day).
        order = np.lexsort((s_day, s_person))
        s_person, s_day = s_person[order], s_day[order]
        key_stop = s_person * (1 << 24) + (s_day - DAY0)
        key_start = person * (1 << 24) + (starts_day - DAY0)
        pos = np.searchsorted(key_stop, key_start, side="right")  # a stop after the start day
        found = pos < len(key_stop)
        pos = np.minimum(pos, len(key_stop) - 1)
        same = found & (s_person[pos] == person)
        out[same] = s_day[pos[same]]
        return out

    def _education(self) -> None:
        """Life-stage education sessions (五期教育)."""
        rng = self.rng
        share = EDUCATION_ATTENDANCE
        wife, _h, _o, start, _end = self.unions
        new = np.flatnonzero(wife >= 0)
        day = start[new] + rng.integers(7, 180, len(new))
        self._service("education", wife[new], day, share["newlywed"], a=STAGES.index("newlywed"))
        if self.pregnancies:
            woman = np.concatenate([w for w, _, _ in self.pregnancies])
            reg = np.concatenate([r for _, r, _ in self.pregnancies])
            end = np.concatenate([e for _, _, e in self.pregnancies])
            reg = np.maximum(reg, START_DAY)
            span = end - reg
            ok = span > 14
            day = reg[ok] + (rng.random(ok.sum()) * (span[ok] - 7)).astype(np.int64)
            self._service(
                "education", woman[ok], day, share["pregnancy"], a=STAGES.index("pregnancy")
            )
        mothers = [self.births[i][0] for i in range(len(self.births))]
        if mothers:
            mother = np.concatenate(mothers)
            bday = np.concatenate([d for _, d in self.births])
            day = bday + rng.integers(20, 180, len(bday))
            self._service("education", mother, day, share["lactation"], a=STAGES.index("lactation"))
        # Child-rearing: mothers with a child under 7 (born in the register), once a year.
        n = self.n
        born = np.flatnonzero(self.origin[:n] == BORN)
        for year in self._years():
            day = self._year_days(year, len(born))
            young = day > self.birth[born] + 200  # past the lactation stage, under 7
            young[young] = age_on(self.birth[born[young]], day[young]) < 7
            mother, first = np.unique(self.mother[born[young]], return_index=True)
            day = day[young]
            self._service(
                "education",
                mother,
                day[first],
                share["childrearing"],
                a=STAGES.index("childrearing"),
            )
        # Menopause: women 45-55, every other year.
        women = np.flatnonzero(self.sex[:n] == FEMALE)
        for year in self._years():
            turn = women[(women + year) % 2 == 0]
            day = self._year_days(year, len(turn))
            age = age_on(self.birth[turn], day)
            ok = (age >= 45) & (age <= 55)
            self._service(
                "education", turn[ok], day[ok], share["menopause"], a=STAGES.index("menopause")
            )

    # -- the result ------------------------------------------------------------------

    def result(self) -> County:
        """The county: persons, their names, phones and ID numbers, and the events in
        person and date order."""
        rng = self.rng
        n = self.n
        person, kind, day, a, b, c = (
            np.concatenate(cols) for cols in zip(*self.events, strict=True)
        )
        # One event per person, kind and day: the rare repeat (two services of one kind
        # on one day) is dropped; so is anything after the end.
        keep = day <= self.end_day
        person, kind, day, a, b, c = (x[keep] for x in (person, kind, day, a, b, c))
        twins = kind == K["birth"]
        key = (person * 32 + kind) * 100_000 + (day - START_DAY + 50_000)
        _, first = np.unique(np.where(twins, -1 - np.arange(len(key)), key), return_index=True)
        first = np.sort(first)
        person, kind, day, a, b, c = (x[first] for x in (person, kind, day, a, b, c))
        order = np.lexsort((kind, day, person))
        person, kind, day, a, b, c = (x[order] for x in (person, kind, day, a, b, c))
        recorded = day + self._recording_lag(kind)
        recorded = np.minimum(recorded, self.end_day)
        o_sex = np.concatenate(self.o_sex) if self.o_sex else np.zeros(0, np.int8)
        o_birth = np.concatenate(self.o_birth) if self.o_birth else np.zeros(0, np.int64)
        o_region = np.concatenate(self.o_region) if self.o_region else np.zeros(0, np.int64)
        county = County(
            geography=self.geo,
            sex=self.sex[:n].copy(),
            birth=self.birth[:n].copy(),
            village=self.village0[:n].copy(),
            household=self.household[:n].copy(),
            hukou=self.hukou[:n].copy(),
            region=self.region[:n].copy(),
            origin=self.origin[:n].copy(),
            lbb=self.lbb[:n].copy(),
            mother=self.mother[:n].copy(),
            surname=self.surname[:n].copy(),
            given=self._given_names(),
            phone=self._phones(),
            ethnicity=rng.choice(len(names.ETHNICITIES), n, p=names.ETHNICITY_WEIGHTS),
            household_village=np.concatenate(self.households_village),
            person=person,
            kind=kind,
            day=day,
            a=a,
            b=b,
            c=c,
            recorded=recorded,
            outside_sex=o_sex,
            outside_birth=o_birth,
            outside_region=o_region,
            end=self.end,
        )
        county.id_numbers, county.outside_id_numbers = identity_numbers(county)
        return county

    def _recording_lag(self, kind: np.ndarray) -> np.ndarray:
        """Days between an event and its recording: births mostly within 30 days (some
        late), deaths within a month, services within days."""
        rng = self.rng
        count = len(kind)
        lag = rng.integers(0, 8, count)
        births = kind == K["birth"]
        u = rng.random(count)
        birth_lag = np.where(
            u < 0.78,
            rng.integers(1, 16, count),
            np.where(u < 0.92, rng.integers(16, 31, count), rng.integers(31, 150, count)),
        )
        lag = np.where(births, birth_lag, lag)
        lag = np.where(kind == K["death"], rng.integers(1, 31, count), lag)
        return lag

    def _given_names(self) -> list[str]:
        """Full names: the surname and one or two characters, in the fashion of the
        person's generation."""
        rng = self.rng
        n = self.n
        years = _YEARS[self.birth[:n] - DAY0]
        gen = (years >= names.GENERATION_BOUNDS[0]).astype(int) + (
            years >= names.GENERATION_BOUNDS[1]
        )
        out = np.empty(n, dtype=object)
        for sex, pools in ((MALE, names.MALE_GIVEN), (FEMALE, names.FEMALE_GIVEN)):
            for g, pool in enumerate(pools):
                sel = np.flatnonzero((self.sex[:n] == sex) & (gen == g))
                chars = [p for p in pool if len(p) == 1]
                pairs = [p for p in pool if len(p) == 2]
                kind = rng.random(len(sel))
                one = rng.choice(chars, len(sel))
                two = rng.choice(chars, len(sel))
                pair = rng.choice(pairs, len(sel))
                out[sel] = np.where(
                    kind < 0.3, one, np.where(kind < 0.6, pair, np.char.add(one, two))
                )
        surnames = np.array(names.SURNAMES)[self.surname[:n]]
        return np.char.add(surnames.astype(str), out.astype(str)).tolist()

    def _phones(self) -> np.ndarray:
        """Mobile numbers for most adults (fewer of the old), each different."""
        rng = self.rng
        n = self.n
        age = age_on(self.birth[:n], np.full(n, self.end_day))
        share = np.select([age < 16, age < 70, age < 80], [0.0, 0.93, 0.7], 0.45)
        has = rng.random(n) < share
        prefixes = np.array([int(p) for p in names.MOBILE_PREFIXES], np.int64)
        prefix = prefixes[rng.integers(0, len(prefixes), n)]
        # A multiplier prime to 10**8 keeps the last eight digits of distinct persons distinct.
        offset = int(rng.integers(0, 10**8))
        suffix = (np.arange(n, dtype=np.int64) * 7_919_993 + offset) % 10**8
        return np.where(has, prefix * 10**8 + suffix, 0)


REGIONS = [names.COUNTY_CODE, *names.OUTSIDE_REGIONS]
REGION_CODES = np.array([int(r) for r in REGIONS], np.int64)
# Probability of dying within a month, by sex and age in completed months (to 120 years).
_AGE_MONTHS = np.arange(120 * 12)
DEATH_MONTHLY = np.stack(
    [
        1 - np.exp(-mortality((_AGE_MONTHS + 0.5) / 12, np.full(len(_AGE_MONTHS), sex)) / 12)
        for sex in (FEMALE, MALE)
    ]
)
SURNAME_P = names.surname_weights()
MIX_ARRAYS = {
    stage: (
        np.array([M[m] for m in mix]),
        np.array(list(mix.values()), float) / sum(mix.values()),
    )
    for stage, mix in METHOD_MIX.items()
}

# ---------------------------------------------------------------------------
# Resident ID numbers

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = np.array(list("10X98765432"))


def identity_numbers(county: County) -> tuple[list[str], list[str]]:
    """Valid, distinct resident ID numbers for the persons and the outside spouses.

    Region (6 digits), birth date, a 3-digit sequence (odd for men) and the GB 11643
    check character. Within a region, birth date and sex the sequence numbers count up
    from an offset that varies with the date, as police stations' blocks do.
    """
    region_num = REGION_CODES[np.concatenate([county.region, county.outside_region])]
    birth = np.concatenate([county.birth, county.outside_birth])
    sex = np.concatenate([county.sex, county.outside_sex]).astype(np.int64)
    key_order = np.lexsort((np.arange(len(birth)), sex, birth, region_num))
    k_region, k_birth, k_sex = region_num[key_order], birth[key_order], sex[key_order]
    new_group = np.r_[
        True,
        (k_region[1:] != k_region[:-1]) | (k_birth[1:] != k_birth[:-1]) | (k_sex[1:] != k_sex[:-1]),
    ]
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(len(birth)), 0))
    rank = np.empty(len(birth), np.int64)
    rank[key_order] = np.arange(len(birth)) - group_start
    offset = (birth * 7919) % 300
    if (offset + rank).max(initial=0) > 498:
        raise ValueError("too many people of one sex born on one day in one region")
    seq = 2 * (offset + rank) + np.where(sex == MALE, 1, 2)
    date = ymd(birth)
    digits = np.zeros((len(birth), 17), np.int64)
    for i in range(6):
        digits[:, i] = region_num // 10 ** (5 - i) % 10
    for i in range(8):
        digits[:, 6 + i] = date // 10 ** (7 - i) % 10
    for i in range(3):
        digits[:, 14 + i] = seq // 10 ** (2 - i) % 10
    check = _CHECK[(digits * _WEIGHTS).sum(axis=1) % 11].tolist()
    ids = [
        f"{r}{d}{q:03d}{c}"
        for r, d, q, c in zip(region_num.tolist(), date.tolist(), seq.tolist(), check, strict=True)
    ]
    n = len(county.birth)
    return ids[:n], ids[n:]
