"""Dashboard benchmark: how fast the home page and its parts render on a full-size county.

    python benchmarks/bench_dashboard.py [--persons 540000] [--seed 1] [--repeat 20]
                                         [--cold 3] [--period 2025] [--data DIR]
                                         [--database-url postgresql://...]

The county comes from ``taizhang generate --persons N --seed S``, written once into
``benchmarks/out/dashboard-N-S/`` (or ``--data DIR``; an existing register there is
used as it is). Without ``taizhang generate`` and without a register, the benchmark
says so and stops (exit status 0). With ``--database-url`` the register in that
database is used (generated into it when it is empty).

For a county administrator, a township statistician and a village worker (the first
township and its first village), through Django's test client in this process, it times
the page (the cards) and each part htmx loads after it (trend, ranking, pyramid):

- **cold**: the figure cache emptied first, as after any new event, person or import
  (``--cold`` times);
- **warm**: the same requests again, served from the cache (``--repeat`` times).

It prints p50 and p95 per request and for the whole dashboard (page plus parts, one
after another: the browser loads the parts in parallel, so people wait less), next to
the target of 500 ms. The users it needs are made inside a transaction that is rolled
back: the register is left as it was. It prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from _common import percentile  # noqa: E402

TARGET_MS = 500.0
PARTS = ("page", "trend", "ranking", "pyramid")


class Skip(Exception):
    """The benchmark cannot run here; the message says why."""


def taizhang_command() -> list[str]:
    """This checkout's ``taizhang`` command, run by this Python."""
    return [sys.executable, "-c", "from taizhang.cli import main; main()"]


def command_env(data: Path | None, database_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if data is not None:
        env["TAIZHANG_DATA"] = str(data)
    if database_url:
        env["TAIZHANG_DATABASE_URL"] = database_url
    return env


def has_generate(env: dict[str, str]) -> bool:
    run = subprocess.run(
        [*taizhang_command(), "generate", "--help"], env=env, capture_output=True, text=True
    )
    return run.returncode == 0


def setup_django(data: Path | None, database_url: str | None) -> None:
    if data is not None:
        os.environ["TAIZHANG_DATA"] = str(data)
    if database_url:
        os.environ["TAIZHANG_DATABASE_URL"] = database_url
    sys.path.insert(0, str(ROOT))
    from taizhang.cli import setup_django as setup

    setup()


def ensure_county(args) -> None:
    """Generate the county unless the register already holds one."""
    data = None if args.database_url else args.data
    env = command_env(data, args.database_url)
    setup_django(data, args.database_url)
    from taizhang.register.models import Person

    if Person.objects.exists():
        print(f"Using the register as it is: {Person.objects.count():,} persons.")
        return
    if not has_generate(env):
        raise Skip(
            "`taizhang generate` is not available and the register is empty: "
            "nothing to measure. Fill it (taizhang import …) and pass --data or --database-url."
        )
    print(f"Generating {args.persons:,} persons (seed {args.seed}) …", flush=True)
    began = time.perf_counter()
    run = subprocess.run(
        [*taizhang_command(), "generate", "--persons", str(args.persons), "--seed", str(args.seed)],
        env=env,
    )
    if run.returncode != 0:
        raise SystemExit(f"taizhang generate failed with exit status {run.returncode}")
    print(f"Generated in {time.perf_counter() - began:.1f} s.")


def measure(args) -> list[tuple[str, str, str, list[float]]]:
    """Times per (role, kind, part) in milliseconds."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import transaction
    from django.test import Client

    from taizhang.accounts.models import Profile, Role
    from taizhang.orgunits.models import OrgUnit
    from taizhang.web.views.dashboard import default_period

    period = args.period or default_period()
    county = OrgUnit.objects.filter(level=3).order_by("code").first()
    township = OrgUnit.objects.subtree(county.code).filter(level=4).order_by("code").first()
    village = OrgUnit.objects.subtree(township.code).filter(level=5).order_by("code").first()
    roles = [
        ("county", county, Role.COUNTY_ADMIN),
        ("township", township, Role.TOWNSHIP_STATISTICIAN),
        ("village", village, Role.VILLAGE_WORKER),
    ]
    print(
        f"Period {period}; county {county.code}, township {township.code}, village {village.code}."
    )
    results = []
    with transaction.atomic():
        for role, unit, role_code in roles:
            user = get_user_model().objects.create_user(f"bench-dashboard-{role}")
            Profile.objects.create(user=user, org_unit=unit, role=role_code)
            client = Client(HTTP_HOST="localhost")
            client.force_login(user)
            urls = {"page": f"/?period={period}"}
            parts = ["trend", "pyramid"] + (["ranking"] if unit.level < 5 else [])
            urls.update({p: f"/?period={period}&section={p}" for p in parts})

            def run_all(client=client, urls=urls) -> dict[str, float]:
                times = {}
                for part, url in urls.items():
                    began = time.perf_counter()
                    response = client.get(url)
                    times[part] = (time.perf_counter() - began) * 1000
                    if response.status_code != 200:
                        raise SystemExit(f"{url} answered {response.status_code}")
                times["dashboard"] = sum(times.values())
                return times

            for kind, n, clear in (("cold", args.cold, True), ("warm", args.repeat, False)):
                samples: dict[str, list[float]] = {}
                if not clear:
                    run_all()  # fill the cache once
                for _ in range(n):
                    if clear:
                        cache.clear()
                    for part, ms in run_all().items():
                        samples.setdefault(part, []).append(ms)
                for part, values in samples.items():
                    results.append((role, kind, part, values))
                    print(
                        f"  {role:<9} {kind:<5} {part:<10} p50 {percentile(values, 50):8.1f} ms"
                        f"  p95 {percentile(values, 95):8.1f} ms",
                        flush=True,
                    )
        transaction.set_rollback(True)
    return results


def report(results, persons: int, vendor: str) -> None:
    print()
    print(f"Dashboard render times, {persons:,} persons, {vendor} (target {TARGET_MS:.0f} ms):")
    print()
    print("| role | cache | request | p50 ms | p95 ms |")
    print("|---|---|---|---:|---:|")
    for role, kind, part, values in results:
        p50, p95 = percentile(values, 50), percentile(values, 95)
        mark = " ✓" if part == "dashboard" and p95 <= TARGET_MS else ""
        print(f"| {role} | {kind} | {part} | {p50:.1f} | {p95:.1f}{mark} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=540_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20, help="warm runs per role")
    parser.add_argument("--cold", type=int, default=3, help="runs per role with an empty cache")
    parser.add_argument("--period", default="", help="period code (default: the last full year)")
    parser.add_argument(
        "--data", type=Path, help="data folder (default benchmarks/out/dashboard-N-S)"
    )
    parser.add_argument("--database-url", help="a PostgreSQL database to use instead")
    args = parser.parse_args(argv)
    if args.data is None:
        args.data = HERE / "out" / f"dashboard-{args.persons}-{args.seed}"
    if not args.database_url:
        args.data.mkdir(parents=True, exist_ok=True)
    try:
        ensure_county(args)
    except Skip as e:
        print(f"Skipped: {e}")
        return 0
    from django.db import connection

    from taizhang.register.models import Person

    results = measure(args)
    report(results, Person.objects.count(), connection.vendor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
