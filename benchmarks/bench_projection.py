"""Projection benchmark: the county and each of its townships, every scenario, 30 years.

    python benchmarks/bench_projection.py [--data DIR] [--database-url postgresql://...]
                                          [--persons 60000] [--seed 1] [--base-year 2025]
                                          [--years 30] [--open-age 85] [--repeat 7]

The register is the one in ``--data DIR`` (``TAIZHANG_DATA``; e.g. a full-size county
made by ``taizhang generate --persons 540000``) or in ``--database-url``, used as it is;
without either, a county of ``--persons`` people is generated into a temporary folder
first (and removed at the end).

Two figures, each the median of ``--repeat`` runs:

- **extraction**: measuring the inputs of the county and all its townships from the
  register (``register_inputs``: base population, exposure, deaths, births and moves in
  a few set-based queries, then the life tables and rates);
- **projection**: the maths — every unit × the four scenarios (medium, low, high,
  zero-migration) projected ``--years`` years by single year of age in one call of the
  engine (target ≤ 1 s), and the same with the per-year JSON of every unit built.

It prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET_SECONDS = 1.0

sys.path.insert(0, str(HERE))
from _common import taizhang_command  # noqa: E402


def generate(data: Path, persons: int, seed: int) -> None:
    env = dict(os.environ, TAIZHANG_DATA=str(data))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    print(f"Generating {persons:,} persons (seed {seed}) into {data} …", flush=True)
    began = time.perf_counter()
    run = subprocess.run(
        [*taizhang_command(), "generate", "--persons", str(persons), "--seed", str(seed)],
        env=env,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        raise SystemExit(f"taizhang generate failed:\n{run.stderr[-2000:]}")
    print(f"Generated in {time.perf_counter() - began:.1f} s.")


def median_seconds(work, repeat: int) -> tuple[float, list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return statistics.median(times), times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="TAIZHANG_DATA of an existing register")
    parser.add_argument("--database-url", help="an existing register on PostgreSQL")
    parser.add_argument("--persons", type=int, default=60000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--base-year", type=int, default=2025)
    parser.add_argument("--years", type=int, default=30)
    parser.add_argument("--open-age", type=int, default=85, choices=(85, 100))
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    made = None
    if args.database_url:
        os.environ["TAIZHANG_DATABASE_URL"] = args.database_url
    elif args.data:
        os.environ["TAIZHANG_DATA"] = str(args.data)
    else:
        made = Path(tempfile.mkdtemp(prefix="bench-projection-"))
        os.environ["TAIZHANG_DATA"] = str(made)
        generate(made, args.persons, args.seed)
    try:
        run(args)
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def run(args) -> None:
    sys.path.insert(0, str(ROOT))
    from taizhang.cli import setup_django

    setup_django()
    from taizhang.orgunits.models import OrgUnit
    from taizhang.projection.build import project_units, scenarios, unit_report
    from taizhang.projection.register import register_inputs
    from taizhang.register.models import Person

    county = OrgUnit.objects.filter(level=3).order_by("code").first()
    if county is None:
        raise SystemExit("The register has no county: nothing to project.")
    townships = list(
        OrgUnit.objects.subtree(county.code)
        .filter(level=4)
        .order_by("code")
        .values_list("code", flat=True)
    )
    codes = [county.code, *townships]
    chosen = scenarios(["all"])
    print(
        f"Register: {Person.objects.count():,} persons. Projecting {county.code} and its "
        f"{len(townships)} townships, base year {args.base_year}, {args.years} years, "
        f"{len(chosen)} scenarios, single years of age 0..{args.open_age}+ "
        f"(median of {args.repeat} runs)."
    )

    extract, extract_runs, units = median_seconds(
        lambda: register_inputs(codes, args.base_year, open_age=args.open_age),
        max(1, min(args.repeat, 3)),
    )
    units_list = [units[code] for code in codes]
    maths, maths_runs, projections = median_seconds(
        lambda: project_units(units_list, chosen, args.years), args.repeat
    )

    def with_reports() -> list[dict]:
        done = project_units(units_list, chosen, args.years)
        return [unit_report(u, chosen, done, by_age=True) for u in units_list]

    with_json, json_runs, _ = median_seconds(with_reports, args.repeat)

    def shown(runs: list[float]) -> str:
        return ", ".join(f"{t:.3f}" for t in runs)

    print(
        f"extraction (register → inputs of {len(codes)} units): {extract:.2f} s  [{shown(extract_runs)}]"
    )
    verdict = "meets" if maths <= TARGET_SECONDS else "misses"
    print(
        f"projection ({len(codes)} units × {len(chosen)} scenarios × {args.years} years): "
        f"{maths:.3f} s  [{shown(maths_runs)}] — {verdict} the target of {TARGET_SECONDS:.0f} s"
    )
    print(
        f"projection and per-year JSON by age of every unit: {with_json:.3f} s  [{shown(json_runs)}]"
    )
    medium = projections[(county.code, "medium")]
    print(
        f"{county.code} medium: {medium.total[0]:,.0f} at the end of {medium.years[0]}, "
        f"{medium.total[-1]:,.0f} at the end of {medium.years[-1]}; births "
        f"{medium.births[0]:,.0f} → {medium.births[-1]:,.0f} a year."
    )


if __name__ == "__main__":
    main()
