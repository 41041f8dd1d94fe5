"""What each person contributes to the maintained measures, from their derived rows.

The same definitions as ``taizhang.indicators.definitions`` (which stays the reference
that every maintained figure is tested against), written per person instead of per
table: a person's residence, union and method spells and her births as a mother give
the months in which she is counted in each stock, and the months of her flows.

Months are indices (``year × 12 + month − 1``). A stock holds at the end of a month
(its last day), over half-open intervals of months ``[first, end)``; ``end`` is None
while it lasts. Dates are ``YYYYMMDD`` integers as in the register's tables.
"""

from __future__ import annotations

import calendar
import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from taizhang.indicators.definitions import (
    METHOD_ORDER,
    MOVE_LEVELS,
    REGISTRATION_DAYS,
    STOP_REASON_NAMES_EN,
    STOP_REASONS,
)
from taizhang.register import db
from taizhang.register.models import (
    MALE_METHODS,
    MODERN_METHODS,
    BirthFact,
    MethodSpell,
    Person,
    ResidenceSpell,
    UnionSpell,
)

# Bumped whenever a measure below changes meaning: stored cells of another version are
# not read (``taizhang rebuild-figures`` makes them again).
VERSION = 1

# Stocks at a month's end. "w1549" and "w1549_next" are keyed by age: on the month's last
# day, and on the first day of the next month (the START of a period is the end of the
# day before it, with ages on its first day). "parity" is keyed by 0, 1, 2 (2 or more).
STOCKS = ("pop", "w1549", "w1549_next", "mwra", "users", "users_modern", "parity", "users_main")
# "users_main" is keyed by the place in METHOD_ORDER of the couple's first method.
# Flows in a month. "births_age" is keyed by the mother's age at the birth (15–49);
# "moves_in" and "moves_out" by the code length of the org units the move crosses (a
# move between two villages of a township crosses 12, not 9); "method_starts" by the
# method's place in METHOD_ORDER, "method_stops" by the reason's in STOP_REASON_KEYS.
FLOWS = (
    "births",
    "births_m",
    "births_f",
    "births_o1",
    "births_o2",
    "births_o3p",
    "births_facility",
    "births_home",
    "births_timely",
    "births_age",
    "deaths",
    "marriages",
    "moves_in",
    "moves_out",
    "method_starts",
    "method_stops",
)
MEASURES = STOCKS + FLOWS
ORDERS = {1: "births_o1", 2: "births_o2"}
RANKS = {method: rank for rank, method in enumerate(METHOD_ORDER)}
UNKNOWN = 99  # a method started that METHOD_ORDER does not name
STOP_REASON_KEYS = tuple(STOP_REASON_NAMES_EN)  # the reasons, "other" last
STOP_KEYS = {text: STOP_REASON_KEYS.index(key) for key, text in STOP_REASONS.items()}
LEVELS = tuple(length for length, _ in MOVE_LEVELS.values())


def month_of(day: int) -> int:
    """The month index of a ``YYYYMMDD`` day."""
    return (day // 10000) * 12 + (day // 100) % 100 - 1


def yyyymm(month: int) -> int:
    """A month index as ``YYYYMM``."""
    return (month // 12) * 100 + month % 12 + 1


def from_yyyymm(value: int) -> int:
    return (value // 100) * 12 + value % 100 - 1


@functools.cache
def _days_in(month: int) -> int:
    return calendar.monthrange(month // 12, month % 12 + 1)[1]


def _first_end_on_or_after(day: int) -> int:
    """The first month whose last day is on or after ``day`` (a ``YYYYMMDD`` that may not
    be a date, such as the 15th birthday of someone born on 29 February)."""
    month = month_of(day)
    return month if day % 100 <= _days_in(month) else month + 1


def _first_next_day_on_or_after(day: int) -> int:
    """The first month whose next month's first day is on or after ``day``."""
    month = month_of(day)
    return month - 1 if day % 100 <= 1 else month


def _ages(birth: int, low: int, high: int, *, next_day: bool) -> Iterator[tuple[int, int, int]]:
    """(age, first, end): the months at whose end (``next_day``: on the first day after
    it) someone born on ``birth`` is ``age`` years old, for ages ``low``..``high``; age as
    ``(day − birth) // 10000`` on ``YYYYMMDD`` integers, as the indicators compute it."""
    turns = _first_next_day_on_or_after if next_day else _first_end_on_or_after
    for age in range(low, high + 1):
        yield age, turns(birth + age * 10000), turns(birth + (age + 1) * 10000)


def _age_at_end(birth: int, month: int) -> int:
    """Age in completed years on the last day of ``month``."""
    last_day = (month // 12) * 10000 + (month % 12 + 1) * 100 + _days_in(month)
    return (last_day - birth) // 10000


Interval = tuple[int, int | None]


def _span(start: int, end: int) -> Interval:
    """The months at whose end a spell ``[start, end)`` holds: start <= last day < end."""
    return month_of(start), month_of(end)


def _cut(a: Interval, b: Interval) -> Interval | None:
    first = max(a[0], b[0])
    ends = [e for e in (a[1], b[1]) if e is not None]
    end = min(ends) if ends else None
    return (first, end) if end is None or first < end else None


def _cut_all(spans: Iterable[Interval], within: Iterable[Interval]) -> list[Interval]:
    within = list(within)
    return [c for a in spans for b in within if (c := _cut(a, b)) is not None]


def _merge(spans: Iterable[Interval]) -> list[Interval]:
    """The union of intervals as disjoint intervals."""
    out: list[list] = []
    for first, end in sorted(spans, key=lambda s: (s[0], s[1] is None, s[1] or 0)):
        if out and (out[-1][1] is None or first <= out[-1][1]):
            if out[-1][1] is not None and (end is None or end > out[-1][1]):
                out[-1][1] = end
        else:
            out.append([first, end])
    return [(a, b) for a, b in out]


@dataclass
class Rows:
    """The derived rows of a set of persons, as the measures read them."""

    residence: dict[int, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    unions: dict[int, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    methods: dict[int, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    births: dict[int, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    declared: dict[int, int] = field(default_factory=dict)
    born: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # as a child


def load(person_ids: Iterable[int]) -> Rows:
    """The rows the measures read for these persons (and their husbands' methods)."""
    ids = list(person_ids)
    rows = Rows()
    if not ids:
        return rows
    quote = db.connection.ops.quote_name

    def select(model, columns: str, owner: str = "person_id", among=ids) -> list[tuple]:
        return db.select_where_in(
            f"SELECT {owner}, {columns} FROM {quote(model._meta.db_table)} "
            f"WHERE {owner} IN ({{in}})",
            among,
        )

    end = quote("end")
    for pk, *rest in select(
        ResidenceSpell, f"village, start, {end}, end_reason, sex, birth, start_reason"
    ):
        rows.residence[pk].append(tuple(rest))
    for pk, date in select(BirthFact, "date", owner="child_id"):
        rows.born[pk].add(date)
    for pk, *rest in select(
        UnionSpell, f"spouse_id, start, {end}, counts_marriage, village_at_start"
    ):
        rows.unions[pk].append(tuple(rest))
    husbands = {u[0] for spells in rows.unions.values() for u in spells if u[0] is not None}
    for pk, *rest in select(
        MethodSpell, f"method, start, {end}, stop_reason", among=list(set(ids) | husbands)
    ):
        rows.methods[pk].append(tuple(rest))
    for pk, *rest in select(
        BirthFact,
        "date, village, sex, birth_order, mother_age, delivery_place, recorded",
        owner="mother_id",
    ):
        rows.births[pk].append(tuple(rest))
    for pk, declared in select(Person, "live_births_before", owner="id"):
        rows.declared[pk] = declared or 0
    # In date order, however the database returns them: the same rows, the same
    # contribution.
    for table in (rows.residence, rows.unions, rows.methods, rows.births):
        for spells in table.values():
            spells.sort(key=_in_order)
    return rows


def _in_order(row: tuple) -> tuple:
    return tuple((value is None, value if value is not None else 0) for value in row)


# A person's contribution: stock intervals ("S", measure, village, key, first, end) and
# flows ("F", measure, village, key, month), in an order that depends only on the rows.
Contribution = tuple[tuple, ...]


def contribution(pk: int, rows: Rows, first: int, last: int) -> Contribution:
    """Everything person ``pk`` is counted in from month ``first`` to ``last``, by the
    definitions of docs/indicators.md."""
    out: list[tuple] = []
    residence = rows.residence.get(pk, [])
    unions = rows.unions.get(pk, [])
    married = _merge(_span(u[1], u[2]) for u in unions)
    kept = (first, last + 1)
    for village, start, end, end_reason, sex, birth, start_reason in residence:
        if not village:
            continue
        if end_reason == "death" and first <= (died := month_of(end)) <= last:
            out.append(("F", "deaths", village, 0, died))
        out += _moves(pk, rows, village, start, end, end_reason, start_reason, first, last)
        lived = _cut(_span(start, end), kept)
        if lived is None:
            continue
        out.append(("S", "pop", village, 0, *lived))
        if sex != "F":
            continue
        # The ages she reaches while she lives here: at the end of the first month and of
        # the last (the month before she leaves).
        youngest = max(15, _age_at_end(birth, lived[0]))
        oldest = min(49, _age_at_end(birth, lived[1] - 1) + 1)
        for next_day, measure in ((False, "w1549"), (True, "w1549_next")):
            for age, since, until in _ages(birth, youngest - 1, oldest, next_day=next_day):
                if 15 <= age <= 49 and (c := _cut(lived, (since, until))) is not None:
                    out.append(("S", measure, village, age, *c))
        _, of_age, _ = next(_ages(birth, 15, 15, next_day=False))
        _, past_age, _ = next(_ages(birth, 50, 50, next_day=False))
        if (adult := _cut(lived, (of_age, past_age))) is None:
            continue
        mwra = _cut_all([adult], married)
        for since, until in mwra:
            out.append(("S", "mwra", village, 0, since, until))
        for measure, modern in (("users", False), ("users_modern", True)):
            for since, until in _cut_all(mwra, _using(pk, rows, unions, modern=modern)):
                out.append(("S", measure, village, 0, since, until))
        for key, span in _parity(pk, rows):
            for since, until in _cut_all(mwra, [span]):
                out.append(("S", "parity", village, key, since, until))
        for rank, spans in _main_methods(pk, rows, unions):
            for since, until in _cut_all(mwra, spans):
                out.append(("S", "users_main", village, rank, since, until))
    out += _method_flows(pk, rows, residence, first, last)
    for _spouse, start, _end, counts, village in unions:
        if counts and village and first <= month_of(start) <= last:
            out.append(("F", "marriages", village, 0, month_of(start)))
    for date, village, sex, order, mother_age, place, recorded in rows.births.get(pk, []):
        month = month_of(date)
        if not village or not first <= month <= last:
            continue
        out.append(("F", "births", village, 0, month))
        out.append(
            ("F", "births_facility" if place == "facility" else "births_home", village, 0, month)
        )  # noqa: E501
        if day_number(recorded) - day_number(date) <= REGISTRATION_DAYS:
            out.append(("F", "births_timely", village, 0, month))
        if sex in ("M", "F"):
            out.append(("F", f"births_{sex.lower()}", village, 0, month))
        if order >= 1:
            out.append(("F", ORDERS.get(order, "births_o3p"), village, 0, month))
        if 15 <= mother_age <= 49:
            out.append(("F", "births_age", village, mother_age, month))
    return tuple(out)


def _using(pk: int, rows: Rows, unions: list[tuple], *, modern: bool) -> list[Interval]:
    """The months in which the woman uses a method (a modern one), or her husband a male
    one while they are married (a couple's method counts under the wife)."""
    own = [
        _span(start, end)
        for method, start, end, _reason in rows.methods.get(pk, [])
        if not modern or method in MODERN_METHODS
    ]
    return _merge(own + _husbands_methods(rows, unions))


def _husbands_methods(rows: Rows, unions: list[tuple], method: str | None = None) -> list:
    """The months her husband uses a male method (``method``) while they are married."""
    shared = []
    for spouse, start, end, _counts, _village in unions:
        if spouse is None:
            continue
        his = [
            _span(s, e)
            for m, s, e, _reason in rows.methods.get(spouse, [])
            if m in MALE_METHODS and (method is None or m == method)
        ]
        shared += _cut_all([_span(start, end)], his)
    return shared


def _main_methods(pk: int, rows: Rows, unions: list[tuple]) -> list[tuple[int, list]]:
    """(rank, months): the months in which the couple's first method in METHOD_ORDER is
    the one of that rank (any other method ranks as "other")."""
    other = METHOD_ORDER.index("other")
    using: dict[int, list] = defaultdict(list)
    for method, start, end, _reason in rows.methods.get(pk, []):
        using[RANKS.get(method, other)].append(_span(start, end))
    for method in MALE_METHODS:
        using[RANKS[method]] += _husbands_methods(rows, unions, method)
    out = []
    before: list = []  # the months a better method is used
    for rank in sorted(using):
        spans = _merge(using[rank])
        main = _minus(spans, before)
        if main:
            out.append((rank, main))
        before = _merge(before + spans)
    return out


def _minus(spans: list, taken: list) -> list:
    """The months of ``spans`` not in ``taken`` (both disjoint, in order)."""
    out = []
    for first, end in spans:
        pieces = [(first, end)]
        for t_first, t_end in taken:
            cut = []
            for a, b in pieces:
                if (b is not None and b <= t_first) or (t_end is not None and t_end <= a):
                    cut.append((a, b))
                    continue
                if a < t_first:
                    cut.append((a, t_first))
                if t_end is not None and (b is None or t_end < b):
                    cut.append((t_end, b))
            pieces = cut
        out += pieces
    return out


def _moves(pk, rows, village, start, end, end_reason, start_reason, first, last) -> list:
    """A residence spell's move in (unless it began with a birth the register counts) and
    move out, for every level of org unit the move crosses (``key``: its code length)."""
    out = []
    spells = rows.residence.get(pk, [])
    if first <= (month := month_of(start)) <= last:
        born_here = start in rows.born.get(pk, ()) and start_reason == ""
        if not born_here:
            came = next((s[0] for s in spells if s[2] == start and s[3] == "move_within"), None)
            for length in LEVELS:
                if came is None or came[:length] != village[:length]:
                    out.append(("F", "moves_in", village, length, month))
    if end_reason in ("move_out", "move_within") and first <= (month := month_of(end)) <= last:
        went = next((s[0] for s in spells if s[1] == end), None)
        for length in LEVELS:
            if end_reason == "move_out" or went is None or went[:length] != village[:length]:
                out.append(("F", "moves_out", village, length, month))
    return out


def _method_flows(pk: int, rows: Rows, residence: list, first: int, last: int) -> list:
    """Methods started and stopped (not by death), where the user lived at the end of
    that day: keyed by the method's and the reason's place in METHOD_ORDER and
    STOP_REASON_KEYS (an unknown method: UNKNOWN)."""
    out = []
    for method, start, end, reason in rows.methods.get(pk, []):
        if first <= (month := month_of(start)) <= last:
            village = next((r[0] for r in residence if r[1] <= start < r[2]), None)
            if village:
                out.append(("F", "method_starts", village, RANKS.get(method, UNKNOWN), month))
        stopped = _day_before(end)
        if reason != "death" and first <= (month := month_of(stopped)) <= last:
            village = next((r[0] for r in residence if r[1] < end <= r[2]), None)
            if village:
                key = STOP_KEYS.get(reason, STOP_REASON_KEYS.index("other"))
                out.append(("F", "method_stops", village, key, month))
    return out


def _day_before(day: int) -> int:
    if day % 100 > 1:
        return day - 1
    month = month_of(day) - 1
    return (month // 12) * 10000 + (month % 12 + 1) * 100 + _days_in(month)


def day_number(value: int) -> int:
    """Days since 1970-01-01 of a ``YYYYMMDD`` integer (``definitions.day_number``)."""
    y, m, d = value // 10000, (value // 100) % 100, value % 100
    y -= 1 if m <= 2 else 0
    era = y // 400
    year_of_era = y - era * 400
    day_of_year = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _parity(pk: int, rows: Rows) -> list[tuple[int, Interval]]:
    """(0, 1 or 2 for two or more, months): the woman's live births by each month's end,
    those declared at registration included."""
    declared = rows.declared.get(pk, 0)
    months = sorted(month_of(b[0]) for b in rows.births.get(pk, []))
    out = []
    first: int | None = None
    for i in range(len(months) + 1):
        end = months[i] if i < len(months) else None
        key = min(declared + i, 2)
        out.append((key, (first, end)))
        first = end
    # The first interval runs from the beginning of time.
    spans = [(key, (MIN_MONTH if f is None else f, e)) for key, (f, e) in out]
    merged: list[tuple[int, Interval]] = []
    for key, (f, e) in spans:
        if e is not None and f >= e:
            continue
        if merged and merged[-1][0] == key:
            merged[-1] = (key, (merged[-1][1][0], e))
        else:
            merged.append((key, (f, e)))
    return merged


MIN_MONTH = 0
