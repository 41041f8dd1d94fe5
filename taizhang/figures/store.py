"""Keeping the maintained figures (``Cell``) in step with the register.

- ``maintaining(ids)`` wraps every write of derived rows (``register.actions``): it reads
  what the persons contributed before and after, and adds the difference to the cells,
  in the writer's transaction. A write that changes no figure (a check-up) costs two
  reads of the persons' rows and no cell.
- ``rebuild()`` makes every cell again from the derived rows (``taizhang rebuild-figures``)
  and ``compare()`` names the cells that differ from what is stored.
- ``read()`` gives the engine (``taizhang.indicators.engine``) the counts of a measure
  for the org units and months it asks, or None where the cells cannot answer (nothing
  built, another version, a month outside the months kept), and the engine then counts
  from the register's tables as it always could.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction

from taizhang import clock
from taizhang.figures import measures
from taizhang.figures.models import DELTA, STOCK, Cell, State
from taizhang.orgunits.models import OrgUnit, prefix_range
from taizhang.register import db
from taizhang.register.models import ResidenceSpell, UnionSpell

# The months kept: from the December seven years before this one to next December (the
# dashboard's six-year trend, the previous years' reports, next year's plans). The
# migration that creates the cells keeps the same months.
YEARS_BACK = 6
YEARS_AHEAD = 1

# (measure, unit, month index, kind, key) -> n
Cells = Counter


@dataclass(frozen=True)
class Shape:
    """What the cells hold: months ``first``..``last`` (indices, both Decembers), org
    units of code lengths ``levels``."""

    first: int
    last: int
    levels: tuple[int, ...]


_suspended: ContextVar[bool] = ContextVar("figures_suspended", default=False)
_declared_before: ContextVar[dict[int, int] | None] = ContextVar(
    "figures_declared_before", default=None
)


def shape() -> Shape | None:
    """The cells' shape, or None when they are not kept (or kept by other measures)."""
    state = State.objects.filter(version=measures.VERSION).first()
    if state is None:
        return None
    levels = tuple(int(n) for n in state.levels.split(",") if n)
    return Shape(measures.from_yyyymm(state.first), measures.from_yyyymm(state.last), levels)


def shape_for(today: dt.date) -> Shape:
    """What cells made on ``today`` hold: the Decembers YEARS_BACK + 1 years before and
    YEARS_AHEAD after, and the levels of the org units there are (county, township and
    village when there are none yet)."""
    levels = {len(code) for code in OrgUnit.objects.values_list("code", flat=True)}
    return Shape(
        (today.year - YEARS_BACK - 1) * 12 + 11,
        (today.year + YEARS_AHEAD) * 12 + 11,
        tuple(sorted(levels)) or (6, 9, 12),
    )


def _keep(within: Shape) -> None:
    """Record that the cells hold ``within`` by this version of the measures."""
    State.objects.all().delete()
    State.objects.create(
        first=measures.yyyymm(within.first),
        last=measures.yyyymm(within.last),
        levels=",".join(str(n) for n in within.levels),
        version=measures.VERSION,
        built_at=clock.now(),
    )


# ---------------------------------------------------------------------------
# From contributions to cells


def _upsert(cells: Cells) -> int:
    """Add ``cells`` to the stored ones; returns how many were written."""
    rows = [
        (measure, unit, len(unit), measures.yyyymm(month), kind, key, n)
        for (measure, unit, month, kind, key), n in cells.items()
        if n
    ]
    if not rows:
        return 0
    quote = connection.ops.quote_name
    table = quote(Cell._meta.db_table)
    columns = f"measure, unit, level, month, kind, {_key()}, n"
    add = f"ON CONFLICT (measure, unit, month, kind, {_key()}) DO UPDATE SET n = {table}.n + excluded.n"
    with connection.cursor() as cursor:
        if len(rows) < MANY:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s) {add}",
                rows,
            )
            return len(rows)
        # Many (an import, a rebuild of thousands): written plainly into a table of the
        # changes, then added in one statement.
        changes = quote("figures_cell_changes")
        cursor.execute(f"DROP TABLE IF EXISTS {changes}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {changes} (measure varchar(24), unit varchar(12), "
            f"level smallint, month integer, kind varchar(1), {_key()} integer, n bigint)"
        )
        db.insert_rows("figures_cell_changes", columns.replace(_key(), "key").split(", "), rows)
        # "WHERE true": SQLite's upsert from a SELECT needs a WHERE before ON CONFLICT.
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {changes} WHERE true {add}"
        )
        cursor.execute(f"DROP TABLE {changes}")
    return len(rows)


MANY = 2000  # cells from which a change is written through a table of changes


def _key() -> str:
    return connection.ops.quote_name("key")


# ---------------------------------------------------------------------------
# On every write


def affected(person_ids: Iterable[int]) -> set[int]:
    """The persons whose contributions a write of these persons' rows may change: they,
    and their wives (a husband's condom or sterilisation counts under his wife)."""
    ids = set(person_ids)
    quote = connection.ops.quote_name
    wives = db.select_where_in(
        f"SELECT person_id FROM {quote(UnionSpell._meta.db_table)} WHERE spouse_id IN ({{in}})",
        list(ids),
    )
    return ids | {row[0] for row in wives}


@contextlib.contextmanager
def maintaining(person_ids: Iterable[int], *, fresh: bool = False) -> Iterator[None]:
    """Within the block the derived rows of ``person_ids`` are rewritten (``fresh``: they
    had none); after it the cells count them as they now are."""
    if _suspended.get():
        yield
        return
    within = shape()
    if within is None and not _register_has_rows():
        # An empty register is kept from its first write (a new installation, a test).
        within = shape_for(clock.today())
        _keep(within)
    if within is None:
        yield
        return
    ids = list(person_ids) if fresh else list(affected(person_ids))
    span = (within.first, within.last)
    before_rows = measures.load(ids) if not fresh else measures.Rows()
    before_rows.declared.update(
        {pk: n for pk, n in (_declared_before.get() or {}).items() if pk in before_rows.declared}
    )
    before = {pk: measures.contribution(pk, before_rows, *span) for pk in ids}
    yield
    after_rows = measures.load(ids)
    after = {pk: measures.contribution(pk, after_rows, *span) for pk in ids}
    changed = [pk for pk in ids if after[pk] != before[pk]]
    if not changed:
        return
    grid = _Grid(within)
    for pk in changed:
        grid.add(before[pk], -1)
        grid.add(after[pk], 1)
    _upsert(grid.cells())


def _register_has_rows() -> bool:
    return ResidenceSpell.objects.exists()


@contextlib.contextmanager
def declared_before(previous: dict[int, int]) -> Iterator[None]:
    """Within the block, the persons' live births declared at registration were
    ``previous`` {person: number} before the write (a persons import that changed them
    writes the persons first, then rebuilds them)."""
    token = _declared_before.set(previous)
    try:
        yield
    finally:
        _declared_before.reset(token)


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """Writes within the block leave the cells alone: for a bulk load followed by
    ``rebuild()`` (``taizhang generate``)."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)


# ---------------------------------------------------------------------------
# Rebuilding and checking

CHUNK = 5000
Progress = Callable[[int, int], None]


def recompute(within: Shape, *, org: str | None = None, progress: Progress | None = None) -> Cells:
    """Every cell (of the org units inside ``org``, if given) made from the derived rows."""
    quote = connection.ops.quote_name
    sql = f"SELECT DISTINCT person_id FROM {quote(ResidenceSpell._meta.db_table)}"
    params: list = []
    if org:
        low, high = prefix_range(org)
        sql += " WHERE village >= %s AND village < %s"
        params = [low, high]
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY person_id", params)
        ids = [row[0] for row in cursor.fetchall()]
    grid = _Grid(within)
    span = (within.first, within.last)
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        rows = measures.load(part)
        for pk in part:
            grid.add(measures.contribution(pk, rows, *span))
        if progress:
            progress(min(start + CHUNK, len(ids)), len(ids))
    cells = grid.cells()
    return Counter({k: n for k, n in cells.items() if not org or k[1].startswith(org)})


class _Grid:
    """Persons' contributions added up (or, for a change, taken away and added) in
    arrays of (measure and key) × village × month, then rolled up into every org unit
    of the kept levels: a stock as its change in each month and its value each
    December, a flow as its count in each month."""

    def __init__(self, within: Shape):
        self.within = within
        self.months = within.last - within.first + 1
        self.series: dict[tuple[str, int, str], int] = {}  # (S|F, measure, key) → row
        self.villages: dict[str, int] = {}
        self.stocks: list[tuple[int, int, int, int]] = []  # (row, village, month, n)
        self.flows: list[tuple[int, int, int, int]] = []

    def add(self, contribution: measures.Contribution, sign: int = 1) -> None:
        """Add (``sign`` 1) or take away (-1) a person's contribution."""
        first, last = self.within.first, self.within.last
        for item in contribution:
            kind, measure, village, key = item[:4]
            row = self.series.setdefault((kind, measure, key), len(self.series))
            v = self.villages.setdefault(village, len(self.villages))
            if kind == "F":
                if first <= item[4] <= last:
                    self.flows.append((row, v, item[4] - first, sign))
                continue
            start, end = max(item[4], first), item[5]
            if start > last or (end is not None and end <= start):
                continue
            self.stocks.append((row, v, start - first, sign))
            if end is not None and end <= last:
                self.stocks.append((row, v, end - first, -sign))

    def cells(self) -> Cells:
        shape = (len(self.series), len(self.villages), self.months)
        changes = np.zeros(shape, dtype=np.int64)
        flows = np.zeros(shape, dtype=np.int64)
        for into, items in ((changes, self.stocks), (flows, self.flows)):
            if items:
                rows, villages, months, n = np.array(items, dtype=np.int64).T
                np.add.at(into, (rows, villages, months), n)
        names = list(self.villages)
        out: Cells = Counter()
        for length in self.within.levels:
            units = sorted({name[:length] for name in names if len(name) >= length})
            index = {unit: i for i, unit in enumerate(units)}
            kept = [i for i, name in enumerate(names) if len(name) >= length]
            into = np.array([index[names[i][:length]] for i in kept], dtype=np.int64)
            by_unit = np.zeros((shape[0], len(units), shape[2]), dtype=np.int64)
            np.add.at(by_unit, (slice(None), into), changes[:, kept])
            flow_by_unit = np.zeros_like(by_unit)
            np.add.at(flow_by_unit, (slice(None), into), flows[:, kept])
            stock_at = np.cumsum(by_unit, axis=2)
            decembers = [m for m in range(self.months) if (self.within.first + m) % 12 == 11]
            for (kind, measure, key), row in self.series.items():
                if kind == "F":
                    for u, m in zip(*np.nonzero(flow_by_unit[row]), strict=True):
                        out[measure, units[u], self.within.first + int(m), DELTA, key] = int(
                            flow_by_unit[row, u, m]
                        )
                    continue
                for u, m in zip(*np.nonzero(by_unit[row]), strict=True):
                    out[measure, units[u], self.within.first + int(m), DELTA, key] = int(
                        by_unit[row, u, m]
                    )
                at = stock_at[row][:, decembers]
                for u, d in zip(*np.nonzero(at), strict=True):
                    month = self.within.first + decembers[int(d)]
                    out[measure, units[u], month, STOCK, key] = int(at[u, d])
        return out


def stored(within: Shape, *, org: str | None = None) -> Cells:
    """The cells as stored (of the org units inside ``org``, if given)."""
    query = Cell.objects.exclude(n=0)
    if org:
        query = query.filter(unit__startswith=org, level__gte=len(org))
    out: Cells = Counter()
    for measure, unit, month, kind, key, n in query.values_list(
        "measure", "unit", "month", "kind", "key", "n"
    ).iterator(chunk_size=20000):
        out[measure, unit, measures.from_yyyymm(month), kind, key] = n
    return out


@dataclass
class Difference:
    """A cell whose stored count is not the recomputed one."""

    measure: str
    unit: str
    month: int  # YYYYMM
    kind: str
    key: int
    stored: int
    recomputed: int

    def describe(self) -> str:
        what = "at the end of" if self.kind == STOCK else "in"
        key = f" [{self.key}]" if self.key else ""
        change = " (change)" if self.kind == DELTA and self.measure in measures.STOCKS else ""
        return (
            f"{self.measure}{key}{change} {what} {self.month} in {self.unit}: "
            f"stored {self.stored}, recomputed {self.recomputed}"
        )


def compare(stored_cells: Cells, recomputed: Cells) -> list[Difference]:
    keys = set(stored_cells) | set(recomputed)
    out = [
        Difference(m, u, measures.yyyymm(month), kind, key, stored_cells[k], recomputed[k])
        for k in keys
        if stored_cells[k] != recomputed[k]
        for m, u, month, kind, key in [k]
    ]
    return sorted(out, key=lambda d: (d.unit, d.month, d.measure, d.kind, d.key))


@dataclass
class Rebuilt:
    cells: int
    differences: list[Difference]
    first: int  # YYYYMM
    last: int
    built: bool  # the cells were (re)made; False for a check only
    compared: bool = True  # False: nothing stored for these months to compare with


def rebuild(
    *,
    org: str | None = None,
    today: dt.date | None = None,
    check_only: bool = False,
    progress: Progress | None = None,
) -> Rebuilt:
    """Make the cells again from the derived rows and name what differed from the stored
    ones. Without ``org`` the months kept move to today's horizon; with it (cells must
    already be kept) only that org unit's cells are remade. The caller holds the
    transaction."""
    current = shape()
    if org and current is None:
        from taizhang.errors import UserError

        raise UserError(
            "the figures are not kept yet: run taizhang rebuild-figures without --org first."
        )
    if org or (check_only and current is not None):
        within = current
    else:
        within = shape_for(today or clock.today())
    recomputed = recompute(within, org=org, progress=progress)
    # Stored cells of another shape (another horizon) are not comparable: only replaced.
    differences = compare(stored(within, org=org), recomputed) if current == within else []
    compared = current == within
    if check_only:
        return Rebuilt(len(recomputed), differences, *_months(within), False, compared)
    with transaction.atomic():
        if org:
            Cell.objects.filter(unit__startswith=org, level__gte=len(org)).delete()
        else:
            Cell.objects.all().delete()
            _keep(within)
        _insert(recomputed)
    return Rebuilt(len(recomputed), differences, *_months(within), True, compared)


def _months(within: Shape) -> tuple[int, int]:
    return measures.yyyymm(within.first), measures.yyyymm(within.last)


def _insert(cells: Cells) -> None:
    db.insert_rows(
        Cell._meta.db_table,
        ["measure", "unit", "level", "month", "kind", "key", "n"],
        (
            (measure, unit, len(unit), measures.yyyymm(month), kind, key, n)
            for (measure, unit, month, kind, key), n in sorted(cells.items())
            if n
        ),
    )


# ---------------------------------------------------------------------------
# Reading


def _read(
    unit_level: int,
    low: str,
    high: str,
    wanted: dict[str, set[int]],
) -> dict[tuple[str, str, int, str], dict[int, int]]:
    """The stored cells of the org units of code length ``unit_level`` in [low, high) for
    ``wanted`` {measure: month indices}: {(measure, unit, month, kind): {key: n}}."""
    months = {m for ms in wanted.values() for m in ms}
    if not months:
        return {}
    out: dict[tuple[str, str, int, str], dict[int, int]] = defaultdict(dict)
    query = Cell.objects.filter(
        level=unit_level,
        unit__gte=low,
        unit__lt=high,
        month__in=sorted(measures.yyyymm(m) for m in months),
        measure__in=sorted(wanted),
    ).exclude(n=0)
    for measure, unit, month, kind, key, n in query.values_list(
        "measure", "unit", "month", "kind", "key", "n"
    ):
        out[measure, unit, measures.from_yyyymm(month), kind][key] = n
    return out


@dataclass(frozen=True)
class Request:
    """A count the engine asks of the cells: ``measure`` over the months ``first``..
    ``last`` (a flow, summed), or at the end of month ``last`` (a stock; ``first`` is
    None); only ``key`` if given; per key when ``keyed``, else summed over keys."""

    measure: str
    first: int | None
    last: int
    key: int | None = None
    keyed: bool = False

    def months(self) -> list[tuple[int, str]]:
        """The (month, kind) cells the count is made of."""
        if self.first is not None:
            return [(m, DELTA) for m in range(self.first, self.last + 1)]
        december = self.last - (self.last - 11) % 12
        return [(december, STOCK)] + [(m, DELTA) for m in range(december + 1, self.last + 1)]


def counts(
    unit_level: int, low: str, high: str, requests: dict[object, Request]
) -> dict[object, dict[str, int | dict[int, int]]] | None:
    """Each request's count per org unit of code length ``unit_level`` in [low, high)
    (units with none left out), for the requests whose months the cells keep; None if
    they keep nothing for that level."""
    within = shape()
    if within is None or unit_level not in within.levels:
        return None
    requests = {
        ident: request
        for ident, request in requests.items()
        if all(within.first <= m <= within.last for m, _ in request.months())
    }
    wanted: dict[str, set[int]] = defaultdict(set)
    for request in requests.values():
        wanted[request.measure] |= {m for m, _ in request.months()}
    cells = _read(unit_level, low, high, wanted)
    units: dict[str, set[str]] = defaultdict(set)
    for measure, unit, _month, _kind in cells:
        units[measure].add(unit)
    # Periods share months and counts share measures (the parities, START and END):
    # each (measure, months) is added up once per unit.
    totals: dict[tuple, dict[str, dict[int, int]]] = {}
    out: dict[object, dict[str, int | dict[int, int]]] = {}
    for ident, request in requests.items():
        span = (request.measure, request.first, request.last)
        if span not in totals:
            months = request.months()
            per_unit_keys: dict[str, dict[int, int]] = {}
            for unit in units.get(request.measure, ()):
                per_key: dict[int, int] = {}
                for month, kind in months:
                    for key, n in cells.get((request.measure, unit, month, kind), {}).items():
                        per_key[key] = per_key.get(key, 0) + n
                per_unit_keys[unit] = per_key
            totals[span] = per_unit_keys
        per_unit: dict[str, int | dict[int, int]] = {}
        for unit, per_key in totals[span].items():
            if request.key is not None:
                per_key = {request.key: per_key.get(request.key, 0)}
            if request.keyed:
                per_unit[unit] = {k: n for k, n in per_key.items() if n}
            elif total := sum(per_key.values()):
                per_unit[unit] = total
        out[ident] = per_unit
    return out
