"""Import and indicator benchmark: how fast a county's files load and its figures come out.

    python benchmarks/bench_import.py [--persons 100000] [--events 1000000] [--repeat 3]
                                      [--seed 1] [--database-url postgresql://...]

Writes the import files once into ``benchmarks/out/`` (``make_import_files.py``), then
``--repeat`` times: a fresh empty data folder (and, with ``--database-url``, a fresh
PostgreSQL database on that server), ``taizhang import`` of ``orgunits.csv``,
``persons.csv`` and ``events.csv``, each a separate ``taizhang`` process timed from start
to exit. Creating the empty database (the migrations) is timed apart: it is not import
work. Then ``taizhang indicators --org 410325 --period 2025 --by village --format json`` is
timed ``--repeat`` times on the last database.

Prints rows, seconds and rows per second per file and overall for every run, their
medians, and the median indicator time, next to the targets (>= 50,000 rows/s overall on
the embedded SQLite database; <= 5 s for the indicators by village). It prints figures;
it is not a test and fails only when a command fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _common import BenchmarkError, Postgres, taizhang_command, timed

HERE = Path(__file__).resolve().parent
FILES = [("orgunits.csv", "orgunits"), ("persons.csv", "persons"), ("events.csv", "events")]
ROWS_PER_SECOND_TARGET = 50_000
INDICATOR_SECONDS_TARGET = 5.0
INDICATOR_ARGS = [
    "indicators",
    "--org",
    "410325",
    "--period",
    "2025",
    "--by",
    "village",
    "--format",
    "json",
]


def data_rows(path: Path) -> int:
    """Rows of a CSV file after its header."""
    with open(path, "rb") as f:
        return sum(1 for _ in f) - 1


def generate(persons: int, events: int, seed: int, out: Path) -> None:
    """Write the import files with ``make_import_files.py`` and say how long it took."""
    sys.path.insert(0, str(HERE))
    try:
        import make_import_files
    finally:
        sys.path.pop(0)
    summary = make_import_files.generate(persons, events, seed, out)
    print(
        f"generated {out}: {summary.persons} persons, {summary.events} events "
        f"in {summary.seconds:.1f} s"
    )


def run_once(
    files: Path, run: int, pg: Postgres | None, command: list[str]
) -> tuple[dict[str, float], dict[str, str], Path, str | None]:
    """Import the three files into a fresh database; seconds per file, the environment,
    the data folder and the PostgreSQL database name (None on SQLite)."""
    data = Path(tempfile.mkdtemp(prefix="taizhang-bench-"))
    env = dict(os.environ, TAIZHANG_DATA=str(data))
    env.pop("TAIZHANG_DATABASE_URL", None)
    dbname = None
    try:
        if pg is not None:
            dbname = f"taizhang_bench_{os.getpid()}_{run}"
            env["TAIZHANG_DATABASE_URL"] = pg.create(dbname)
        setup = [sys.executable, "-c", "from taizhang.cli import setup_django; setup_django()"]
        seconds, _cpu, _ = timed(setup, env, "creating the database")
        print(f"run {run}: empty database created in {seconds:.2f} s (not counted)")
        times: dict[str, float] = {}
        for name, kind in FILES:
            seconds, _cpu, output = timed(
                [*command, "import", str(files / name), "--kind", kind], env, f"import {name}"
            )
            times[name] = seconds
            print(f"run {run}: {output.strip()} — {seconds:.2f} s")
    except BaseException:
        cleanup(data, dbname, pg)
        raise
    return times, env, data, dbname


def cleanup(data: Path, dbname: str | None, pg: Postgres | None) -> None:
    """Remove a run's data folder and drop its PostgreSQL database."""
    shutil.rmtree(data, ignore_errors=True)
    if dbname and pg is not None:
        pg.drop(dbname)


def report(
    rows: dict[str, int], runs: list[dict[str, float]], indicator_times: list[float], regions: int
) -> None:
    """Print the table of rows, seconds and rows/s, the medians and the targets."""
    total_rows = sum(rows.values())
    print()
    print(f"{'':14}{'rows':>10}{'seconds':>10}{'rows/s':>10}   per run: seconds")
    for name, _ in FILES:
        seconds = statistics.median(r[name] for r in runs)
        each = "  ".join(f"{r[name]:.2f}" for r in runs)
        print(f"{name:14}{rows[name]:>10}{seconds:>10.2f}{rows[name] / seconds:>10.0f}   {each}")
    totals = [sum(r.values()) for r in runs]
    overall = statistics.median(totals)
    speed = total_rows / overall
    each = "  ".join(f"{t:.2f}" for t in totals)
    print(f"{'overall':14}{total_rows:>10}{overall:>10.2f}{speed:>10.0f}   {each}")
    indicators = statistics.median(indicator_times)
    each = "  ".join(f"{t:.2f}" for t in indicator_times)
    print(f"indicators --by village, 2025 ({regions} villages): median {indicators:.2f} s   {each}")
    print()
    met = "met" if speed >= ROWS_PER_SECOND_TARGET else "NOT met"
    print(
        f"import target >= {ROWS_PER_SECOND_TARGET:,} rows/s: {met} ({speed:,.0f} rows/s, median of {len(runs)})"
    )
    met = "met" if indicators <= INDICATOR_SECONDS_TARGET else "NOT met"
    print(f"indicator target <= {INDICATOR_SECONDS_TARGET:.0f} s: {met} ({indicators:.2f} s)")


def main(argv: list[str] | None = None) -> int:
    """The command line; exit status 0 when every command succeeded, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each import and of the indicators"
    )
    parser.add_argument(
        "--out", type=Path, default=HERE / "out", help="where the import files are written"
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to run against, e.g. postgresql://postgres@127.0.0.1:5432/postgres "
        "(each run creates and drops its own database there)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    command = taizhang_command()
    runs: list[dict[str, float]] = []
    leftovers: list[tuple[Path, str | None]] = []
    pg = None
    try:
        pg = Postgres(args.database_url) if args.database_url else None
        generate(args.persons, args.events, args.seed, args.out)
        rows = {name: data_rows(args.out / name) for name, _ in FILES}
        for run in range(1, args.repeat + 1):
            # Only the last database is kept for the indicators.
            for data, dbname in leftovers:
                cleanup(data, dbname, pg)
            leftovers = []
            times, env, data, dbname = run_once(args.out, run, pg, command)
            leftovers = [(data, dbname)]
            runs.append(times)
        indicator_times = []
        regions = 0
        for _ in range(args.repeat):
            seconds, _cpu, output = timed([*command, *INDICATOR_ARGS], env, "taizhang indicators")
            indicator_times.append(seconds)
            regions = len(json.loads(output))
    except (BenchmarkError, ValueError) as e:
        print(e, file=sys.stderr)
        return 1
    finally:
        for data, dbname in leftovers:
            cleanup(data, dbname, pg)
    report(rows, runs, indicator_times, regions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
