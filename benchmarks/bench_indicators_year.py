"""Indicator engine benchmark: every indicator × every org unit × the 19 periods of a year.

    python benchmarks/bench_indicators_year.py [--data DIR] [--year 2025] [--repeat 3]
                                               [--persons 540000] [--seed 1]

On a full-size synthetic county (generated into ``benchmarks/out/year-N-S/`` unless
``--data`` names a folder whose register is used as it is), through the same function the
command, the web app and the exports call (``taizhang.indicators.engine.compute``):

- **the full year**: for each of the 19 periods of the year (the year, 2 halves, 4
  quarters, 12 months), every indicator for the county, by township and by village —
  every indicator × every org unit × every period. Target: ≤ 3 s on the embedded default
  (SQLite). The demographic set again, read from the maintained counts and counted from
  the records (``counted_from_records``), and the whole through the command a user runs
  (``taizhang indicators --period 2025:all --by village --indicator all``).
- **the stock core against DuckDB**: residents, married women 15–49 and method users at the
  13 month ends of the year by village, through the engine and by a hand-written DuckDB
  query straight from the spells (an Arrow extract, timed apart). Target: ≤ 3× DuckDB.
- **three figures against DuckDB**: BIRTHS by village for each month, CPR by village at the
  year's end, SRB by township — by the engine, and by hand-written DuckDB queries.

- **the same engine on DuckDB**: the full year and the three figures again, the engine's own
  expressions compiled for DuckDB over a copy of the register's tables
  (``taizhang.indicators.backends``; the copy timed apart).

Medians of ``--repeat`` runs; the DuckDB figures are checked equal to the engine's. Needs
``duckdb`` and ``pyarrow`` (``pip install duckdb pyarrow``; ``adbc-driver-sqlite`` makes
the copy fast). It prints figures; it is not a
test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_dashboard import Skip, ensure_county  # noqa: E402

TARGET_YEAR_SECONDS = 3.0
TARGET_RATIO = 3.0


def full_year(county: str, year: int, *, demographic: bool = False) -> tuple[float, int]:
    """Seconds for every indicator (the demographic set) × org unit × period; how many
    figures were made."""
    from taizhang.indicators.definitions import ALL_INDICATORS, INDICATORS
    from taizhang.indicators.engine import compute_many, parse_periods

    codes = [i.code for i in (INDICATORS if demographic else ALL_INDICATORS)]
    began = time.perf_counter()
    # The county, its townships and its villages, all 19 periods, from one set of queries.
    periods = parse_periods([f"{year}:all"])
    results = compute_many(county, periods, codes, [None, "township", "village"])
    seconds = time.perf_counter() - began
    figures = 0
    for (_, level), result in results.items():
        units = [result] if level is None else result
        figures += sum(len(r["indicators"]) for r in units)
    return seconds, figures


def engine_three(county: str, year: int) -> tuple[float, dict]:
    from taizhang.indicators.engine import compute, compute_many

    began = time.perf_counter()
    months = [f"{year}{month:02d}" for month in range(1, 13)]
    by_month = compute_many(county, months, ["BIRTHS"], ["village"])
    births = {
        (r["org"], int(month[4:])): r["indicators"][0]["numerator"]
        for month in months
        for r in by_month[month, "village"]
    }
    cpr = {
        r["org"]: (r["indicators"][0]["numerator"], r["indicators"][0]["denominator"])
        for r in compute(county, str(year), ["CPR"], by="village")
    }
    srb = {
        r["org"]: (r["indicators"][0]["numerator"], r["indicators"][0]["denominator"])
        for r in compute(county, str(year), ["SRB"], by="township")
    }
    return time.perf_counter() - began, {"births": births, "cpr": cpr, "srb": srb}


TABLES = {
    "residence": ("register_residencespell", 'person_id, village, start, "end", sex, birth'),
    "unions": ("register_unionspell", 'person_id, spouse_id, start, "end"'),
    "methods": ("register_methodspell", 'person_id, method, start, "end"'),
    "births": ("register_birthfact", "mother_id, village, date, sex"),
}


def arrow_extract():
    """The four tables as Arrow tables, read through Django's connection."""
    import pyarrow as pa
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for name, (table, columns) in TABLES.items():
            cursor.execute(f"SELECT {columns} FROM {table}")
            rows = cursor.fetchall()
            names = [c.strip().strip('"') for c in columns.split(",")]
            out[name] = pa.table({n: [row[i] for row in rows] for i, n in enumerate(names)})
    return out


DUCKDB_BIRTHS = """
SELECT village, (date // 100) % 100 AS month, count(*) FROM births
WHERE date BETWEEN {year}0101 AND {year}1231 AND village <> '' GROUP BY 1, 2
"""
# Married women 15-49 at the end of the year and those using a method (their own, or the
# husband's condom or male sterilisation), per village; as docs/indicators.md defines them.
DUCKDB_CPR = """
WITH d AS (SELECT {year}1231 AS day),
women AS (
  SELECT r.person_id, r.village FROM residence r, d
  WHERE r.start <= d.day AND r."end" > d.day AND r.sex = 'F'
    AND r.birth BETWEEN d.day - 499999 AND d.day - 150000
    AND r.person_id IN (SELECT person_id FROM unions u, d WHERE u.start <= d.day AND u."end" > d.day)
),
users AS (
  SELECT m.person_id FROM methods m, d WHERE m.start <= d.day AND m."end" > d.day
  UNION
  SELECT u.person_id FROM unions u, methods m, d
  WHERE u.start <= d.day AND u."end" > d.day AND m.person_id = u.spouse_id
    AND m.start <= d.day AND m."end" > d.day
    AND m.method IN ('condom', 'male_sterilization')
)
SELECT w.village, count(*) FILTER (WHERE w.person_id IN (SELECT person_id FROM users)), count(*)
FROM women w GROUP BY 1
"""
DUCKDB_SRB = """
SELECT substr(village, 1, 9), count(*) FILTER (WHERE sex = 'M'), count(*) FILTER (WHERE sex = 'F')
FROM births WHERE date BETWEEN {year}0101 AND {year}1231 AND village <> '' GROUP BY 1
"""


def duckdb_three(tables: dict, year: int) -> tuple[float, dict]:
    import duckdb

    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    began = time.perf_counter()
    births = {(v, m): n for v, m, n in con.execute(DUCKDB_BIRTHS.format(year=year)).fetchall()}
    cpr = {v: (n, d) for v, n, d in con.execute(DUCKDB_CPR.format(year=year)).fetchall()}
    srb = {t: (m, f) for t, m, f in con.execute(DUCKDB_SRB.format(year=year)).fetchall()}
    seconds = time.perf_counter() - began
    con.close()
    return seconds, {"births": births, "cpr": cpr, "srb": srb}


def engine_on_duckdb():
    """The indicator engine's backend on DuckDB over a copy of the register's tables, read
    as Arrow through ADBC when ``adbc-driver-sqlite`` is installed (else row by row)."""
    from django.conf import settings

    from taizhang.indicators.backends import duckdb_backend, read_rows

    database = settings.DATABASES["default"]
    reader = read_rows
    if database["ENGINE"].endswith("sqlite3"):
        try:
            import adbc_driver_sqlite.dbapi as adbc
        except ImportError:
            pass
        else:
            source = adbc.connect(str(database["NAME"]))

            def reader(table: str, columns: list[str]):
                cursor = source.cursor()
                names = ", ".join(f'"{c}"' for c in columns)
                cursor.execute(f"SELECT {names} FROM {table}")
                return cursor.fetch_arrow_table()

    return duckdb_backend(reader)


def month_ends(year: int) -> list[str]:
    """The 13 month ends of a year's stocks: the December before, then its 12 months."""
    return [f"{year - 1}12", *(f"{year}{month:02d}" for month in range(1, 13))]


def engine_stock_core(county: str, year: int) -> tuple[float, dict]:
    """Residents, married women 15-49 and method users at the end of each of the 13
    months, by village, through the engine (read from the maintained figures)."""
    from taizhang.indicators.engine import compute_many

    began = time.perf_counter()
    months = month_ends(year)
    computed = compute_many(county, months, ["POP_END", "MWRA", "CPR"], ["village"])
    out = {}
    for month in months:
        for r in computed[month, "village"]:
            pop, mwra, cpr = (i["numerator"] for i in r["indicators"])
            if pop or mwra or cpr:
                out[month, r["org"]] = (pop, mwra, cpr)
    return time.perf_counter() - began, out


# The same stocks straight from the spells, as docs/indicators.md defines them.
DUCKDB_STOCK_CORE = """
WITH days AS (SELECT unnest({days}) AS day),
res AS (
  SELECT d.day, r.person_id, r.village, r.sex, r.birth
  FROM residence r JOIN days d ON r.start <= d.day AND r."end" > d.day
),
married AS (
  SELECT d.day, u.person_id, u.spouse_id
  FROM unions u JOIN days d ON u.start <= d.day AND u."end" > d.day
),
mwra AS (
  SELECT res.day, res.person_id, res.village FROM res
  WHERE res.sex = 'F' AND res.birth BETWEEN res.day - 499999 AND res.day - 150000
    AND EXISTS (SELECT 1 FROM married m WHERE m.day = res.day AND m.person_id = res.person_id)
),
users AS (
  SELECT d.day, m.person_id FROM methods m JOIN days d ON m.start <= d.day AND m."end" > d.day
  UNION
  SELECT mr.day, mr.person_id FROM married mr JOIN methods m
    ON m.person_id = mr.spouse_id AND m.start <= mr.day AND m."end" > mr.day
   AND m.method IN ('condom', 'male_sterilization')
),
counts AS (
  SELECT day, village, count(*) AS pop, 0 AS mwra, 0 AS users FROM res GROUP BY 1, 2
  UNION ALL
  SELECT w.day, w.village, 0, count(*),
         count(*) FILTER (WHERE (w.day, w.person_id) IN (SELECT (day, person_id) FROM users))
  FROM mwra w GROUP BY 1, 2
)
SELECT day, village, sum(pop), sum(mwra), sum(users) FROM counts GROUP BY 1, 2
"""


def duckdb_stock_core(tables: dict, year: int) -> tuple[float, dict]:
    import calendar

    import duckdb

    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    months = month_ends(year)
    days = {int(f"{m}{calendar.monthrange(int(m[:4]), int(m[4:]))[1]:02d}"): m for m in months}
    began = time.perf_counter()
    rows = con.execute(DUCKDB_STOCK_CORE.format(days=sorted(days))).fetchall()
    seconds = time.perf_counter() - began
    con.close()
    out = {(days[day], village): (int(p), int(w), int(u)) for day, village, p, w, u in rows}
    return seconds, out


def cli_full_year(county: str, year: int) -> float:
    """Seconds for ``taizhang indicators --period YEAR:all --by village --indicator all``
    run as a user runs it (a new process, JSON to a file)."""
    import os
    import subprocess

    from bench_dashboard import taizhang_command

    began = time.perf_counter()
    subprocess.run(
        [*taizhang_command(), "indicators", "--org", county, "--period", f"{year}:all",
         "--by", "village", "--indicator", "all", "--format", "json"],
        check=True, stdout=subprocess.DEVNULL, env=dict(os.environ),
    )  # fmt: skip
    return time.perf_counter() - began


def same(engine: dict, reference: dict) -> bool:
    """The engine's figures equal DuckDB's (units with nothing to count left aside)."""
    for key in ("births", "cpr", "srb"):
        ours = {k: v for k, v in engine[key].items() if v not in (0, (0, 0))}
        theirs = {k: v for k, v in reference[key].items() if v not in (0, (0, 0))}
        if ours != theirs:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=540_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.data is None and not args.database_url:
        args.data = HERE / "out" / f"year-{args.persons}-{args.seed}"
        args.data.mkdir(parents=True, exist_ok=True)
    try:
        ensure_county(args)
    except Skip as e:
        print(e)
        return
    from taizhang.orgunits.models import OrgUnit

    county = OrgUnit.objects.filter(level=3).order_by("code").values_list("code", flat=True)[0]
    units = OrgUnit.objects.subtree(county).count()
    print(f"County {county}: {units} org units; year {args.year} (19 periods).")

    from taizhang.indicators.engine import counted_from_records

    runs = [full_year(county, args.year) for _ in range(args.repeat)]
    seconds = [s for s, _ in runs]
    print(
        f"Full year, every indicator: {runs[0][1]:,} figures; median "
        f"{statistics.median(seconds):.2f} s (runs: {', '.join(f'{s:.2f}' for s in seconds)}); "
        f"target ≤ {TARGET_YEAR_SECONDS:.0f} s."
    )
    demographic = [full_year(county, args.year, demographic=True) for _ in range(args.repeat)]
    with counted_from_records():
        counted = [full_year(county, args.year, demographic=True) for _ in range(args.repeat)]
    kept_s = statistics.median(s for s, _ in demographic)
    counted_s = statistics.median(s for s, _ in counted)
    print(
        f"Full year, the demographic set ({demographic[0][1]:,} figures): read from the kept "
        f"counts median {kept_s:.2f} s, counted from the records median {counted_s:.2f} s "
        f"({counted_s / kept_s:.0f}× as long)."
    )
    cli = [cli_full_year(county, args.year) for _ in range(args.repeat)]
    print(
        f"taizhang indicators --period {args.year}:all --by village --indicator all: median "
        f"{statistics.median(cli):.2f} s (runs: {', '.join(f'{s:.2f}' for s in cli)}), "
        "starting Python and Django included."
    )

    began = time.perf_counter()
    backend, con = engine_on_duckdb()
    copy_seconds = time.perf_counter() - began
    from taizhang.indicators.engine import running_on

    with running_on(backend):
        on_duckdb = [full_year(county, args.year) for _ in range(args.repeat)]
        three_on_duckdb = [engine_three(county, args.year) for _ in range(args.repeat)]
    con.close()
    duck_seconds = [s for s, _ in on_duckdb]
    print(
        f"Full year, the same engine on DuckDB (copy of the register {copy_seconds:.2f} s, not "
        f"counted): median {statistics.median(duck_seconds):.2f} s "
        f"(runs: {', '.join(f'{s:.2f}' for s in duck_seconds)})."
    )

    began = time.perf_counter()
    tables = arrow_extract()
    extract = time.perf_counter() - began
    rows = sum(t.num_rows for t in tables.values())
    print(f"Arrow extract: {rows:,} rows in {extract:.2f} s (not counted below).")
    ours = [engine_three(county, args.year) for _ in range(args.repeat)]
    theirs = [duckdb_three(tables, args.year) for _ in range(args.repeat)]
    ours_s = statistics.median(s for s, _ in ours)
    theirs_s = statistics.median(s for s, _ in theirs)
    agree = same(ours[0][1], theirs[0][1])
    ours_duck_s = statistics.median(s for s, _ in three_on_duckdb)
    agree = agree and same(three_on_duckdb[0][1], theirs[0][1])
    core = [engine_stock_core(county, args.year) for _ in range(args.repeat)]
    core_duck = [duckdb_stock_core(tables, args.year) for _ in range(args.repeat)]
    core_s = statistics.median(s for s, _ in core)
    core_duck_s = statistics.median(s for s, _ in core_duck)
    core_equal = core[0][1] == core_duck[0][1]
    print(
        f"Stock core (residents, married women 15-49, method users at 13 month ends by "
        f"village): engine median {core_s:.3f} s, hand-written DuckDB median "
        f"{core_duck_s:.3f} s, ratio {core_s / core_duck_s:.2f}× (target ≤ "
        f"{TARGET_RATIO:.0f}×); figures {'equal' if core_equal else 'DIFFER'}."
    )
    print(
        f"Three figures (BIRTHS by village × 12 months, CPR by village, SRB by township): "
        f"engine median {ours_s:.3f} s, DuckDB median {theirs_s:.3f} s, ratio "
        f"{ours_s / theirs_s:.1f}× (target ≤ {TARGET_RATIO:.0f}×); the engine on DuckDB "
        f"median {ours_duck_s:.3f} s, {ours_duck_s / theirs_s:.1f}×; "
        f"figures {'equal' if agree else 'DIFFER'}."
    )


if __name__ == "__main__":
    main()
