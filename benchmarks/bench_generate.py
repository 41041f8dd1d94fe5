"""Synthetic-county benchmark: how long ``taizhang generate`` takes, and what it makes.

    python benchmarks/bench_generate.py [--persons 540000] [--seed 1] [--repeat 1]
                                        [--database-url postgresql://...]

Each run creates a fresh empty data folder (and, with ``--database-url``, a fresh
PostgreSQL database on that server), creates the empty database with its migrations
(timed apart: not generator work), then runs ``taizhang generate`` as a separate
process timed from start to exit, so the figure includes starting Python and Django
as a user sees it. Prints the wall-clock seconds and the CPU seconds of the process
(which a busy machine inflates less), the load average when the run started, and the
command's own report (its phases and the figures of the last full year), next to the
target: <= 120 s at full size on the embedded SQLite database. It prints figures; it
is not a test and fails only when a command fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _common import BenchmarkError, Postgres, taizhang_command, timed

SECONDS_TARGET = 120.0
FULL_SIZE = 540_000


def run_once(persons: int, seed: int, run: int, pg: Postgres | None) -> tuple[float, float]:
    """Generate a county into a fresh database; wall-clock and CPU seconds."""
    data = Path(tempfile.mkdtemp(prefix="taizhang-bench-generate-"))
    env = dict(os.environ, TAIZHANG_DATA=str(data))
    env.pop("TAIZHANG_DATABASE_URL", None)
    dbname = None
    try:
        if pg is not None:
            dbname = f"taizhang_bench_generate_{os.getpid()}_{run}"
            env["TAIZHANG_DATABASE_URL"] = pg.create(dbname)
        setup = [sys.executable, "-c", "from taizhang.cli import setup_django; setup_django()"]
        seconds, _cpu, _ = timed(setup, env, "creating the database")
        print(f"run {run}: empty database created in {seconds:.2f} s (not counted)")
        load = os.getloadavg()[0]
        seconds, cpu, output = timed(
            [*taizhang_command(), "generate", "--persons", str(persons), "--seed", str(seed)],
            env,
            "taizhang generate",
        )
        for line in output.strip().splitlines():
            print(f"run {run}: {line}")
        print(
            f"run {run}: {seconds:.1f} s wall, {cpu:.1f} s CPU (load average {load:.1f} at start)"
        )
        return seconds, cpu
    finally:
        shutil.rmtree(data, ignore_errors=True)
        if dbname and pg is not None:
            pg.drop(dbname)


def main(argv: list[str] | None = None) -> int:
    """The command line; exit status 0 when every command succeeded, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=FULL_SIZE)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs, each on a fresh database")
    parser.add_argument(
        "--database-url", help="a PostgreSQL server to run on instead of the embedded SQLite"
    )
    args = parser.parse_args(argv)
    try:
        pg = Postgres(args.database_url) if args.database_url else None
        runs = [run_once(args.persons, args.seed, run, pg) for run in range(1, args.repeat + 1)]
    except BenchmarkError as e:
        print(e, file=sys.stderr)
        return 1
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    print()
    print(
        f"generate --persons {args.persons:,}: median {wall:.1f} s wall, {cpu:.1f} s CPU "
        f"over {len(runs)} run(s) on {'PostgreSQL' if pg else 'SQLite'}"
    )
    if args.persons == FULL_SIZE and pg is None:
        met = "met" if wall <= SECONDS_TARGET else "NOT met"
        print(f"target <= {SECONDS_TARGET:.0f} s at full size on SQLite: {met} ({wall:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
