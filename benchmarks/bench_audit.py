"""Data-quality audit benchmark: how long ``taizhang audit`` takes for a county and a year.

    python benchmarks/bench_audit.py --data DIR [--org 410325] [--year 2025] [--repeat 3]
                                     [--seed 1] [--no-reports]

``--data`` is the data folder of a register (``TAIZHANG_DATA``: its
``taizhang.sqlite3`` and key files), for instance a full-size synthetic county from
``taizhang generate --persons 540000``. The folder is never written to: the database is
copied (SQLite's online backup) into ``benchmarks/out/audit-copy/``, and the copy gets the
audit's tables and — unless ``--no-reports`` — the report forms and the census base that
``taizhang.synthetic.quality`` writes for a synthetic county (timed apart), so that every
check has something to compare.

Then ``taizhang audit --org ORG --period YEAR --format json`` runs ``--repeat`` times, each a
separate process timed from start to exit (starting Python and Django included, as a user
sees it), and once more in this process with the time of each part of the audit. It prints
the seconds, the checks' statuses and their findings; it is not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import BenchmarkError, taizhang_command, timed  # noqa: E402

COPY = HERE / "out" / "audit-copy"
KEY_FILES = ("secret.key", "django.key")


def copy_register(source: Path, target: Path) -> None:
    """The register of ``source`` into ``target``, read-only on the source."""
    database = source / "taizhang.sqlite3"
    if not database.exists():
        raise BenchmarkError(f"{source} holds no taizhang.sqlite3: pass the data folder")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in KEY_FILES:
        if (source / name).exists():
            shutil.copy2(source / name, target / name)
    src = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    dst = sqlite3.connect(target / "taizhang.sqlite3")
    with dst:
        src.backup(dst)
    src.close()
    dst.close()


def prepare(args, env: dict[str, str]) -> None:
    """Migrate the copy (the audit's tables) and write report forms and a census base."""
    os.environ.update(env)
    from taizhang.cli import setup_django

    began = time.perf_counter()
    setup_django()
    print(f"Database migrated in {time.perf_counter() - began:.1f} s.")
    if args.no_reports:
        return
    from taizhang import clock
    from taizhang.quality.models import ReportedFigure
    from taizhang.synthetic.quality import write_quality

    if ReportedFigure.objects.exists():
        print("The register already holds report forms: used as they are.")
        return
    began = time.perf_counter()
    made = write_quality(args.seed, clock.today())
    print(
        f"Wrote {made['reported_figures']:,} reported figures and {made['census_cells']:,} "
        f"census cells in {time.perf_counter() - began:.1f} s (not counted)."
    )


def in_process(args) -> None:
    """One audit in this process, each part timed."""
    from taizhang.quality import checks, figures

    parts: dict[str, float] = {}

    def part(name, work):
        began = time.perf_counter()
        result = work()
        parts[name] = time.perf_counter() - began
        return result

    scope = part("scope", lambda: checks.make_scope(args.org, str(args.year)))
    limits = checks.config.thresholds()
    part("recorded and reported figures", lambda: checks.gather(scope, limits))
    part(
        "indicators (two years)",
        lambda: (
            checks._indicator_values(scope, args.year, checks.STRUCTURE_CODES),
            checks._indicator_values(scope, args.year - 1, ["PARITY_1", "BIRTH_ORDER_2"]),
        ),
    )
    part(
        "pregnancies registered",
        lambda: figures.pregnancies_monthly(
            args.org, checks.month_start(f"{args.year - 1}03"), checks.month_end(f"{args.year}06")
        ),
    )
    part(
        "census carried forward",
        lambda: checks.census_comparison(scope, limits["census_comparison"]),
    )
    total = part("whole audit", lambda: checks.audit(args.org, str(args.year)))
    print("In this process:")
    for name, seconds in parts.items():
        print(f"  {name:32} {seconds:7.2f} s")
    print("Checks:")
    for check in total["checks"]:
        print(f"  {check['code']:24} {check['status']:5} {len(check['findings']):5} findings")
    women = [e for e in total["under_registration"] if e["group"] == "women_15_49"]
    missing = sum(e["missing"] for e in women)
    print(f"  women 15-49 missing, all townships: {missing:,.0f} ({len(women)} townships)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the register's data folder")
    parser.add_argument("--org", default="410325")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1, help="for the report forms written")
    parser.add_argument("--no-reports", action="store_true", help="write no report forms")
    args = parser.parse_args()

    began = time.perf_counter()
    copy_register(args.data.resolve(), COPY)
    print(f"Copied {args.data} to {COPY} in {time.perf_counter() - began:.1f} s.")
    env = dict(os.environ, TAIZHANG_DATA=str(COPY))
    env.pop("TAIZHANG_DATABASE_URL", None)
    prepare(args, env)

    command = [
        *taizhang_command(),
        "audit",
        "--org",
        args.org,
        "--period",
        str(args.year),
        "--format",
        "json",
    ]
    seconds = []
    for run in range(args.repeat):
        wall, cpu, out = timed(command, env, "taizhang audit")
        seconds.append(wall)
        result = json.loads(out)
        print(
            f"run {run + 1}: {wall:.2f} s ({cpu:.2f} s CPU), "
            f"{sum(len(c['findings']) for c in result['checks'])} findings"
        )
    print(
        f"taizhang audit --org {args.org} --period {args.year}: median "
        f"{statistics.median(seconds):.2f} s over {len(seconds)} runs"
    )
    in_process(args)


if __name__ == "__main__":
    try:
        main()
    except BenchmarkError as e:
        raise SystemExit(str(e)) from None
