"""People search benchmark: how fast the people page answers on a county-sized register.

    python benchmarks/bench_search.py [--persons 540000] [--seed 1] [--requests 40]
                                      [--database-url postgresql://...] [--fresh]

Fills a database once with ``--persons`` persons: with ``taizhang generate`` when the
command exists, otherwise by importing the synthetic county of ``make_import_files.py``
(org units, persons and their events) with ``taizhang import``. The database is kept
for the next run (``benchmarks/out/search-<persons>/``, or the PostgreSQL database
``taizhang_search_<persons>`` on the server of ``--database-url``); ``--fresh`` builds it
again.

Then, in this process, the Django test client logged in as a county administrator, a
township statistician and a village worker sends ``--requests`` searches of each kind
(pinyin initials, two initials, part of a name, a surname, a whole ID number, a phone
number, a household number, a filter with no text, and a page further on), each for a
person drawn at random from the register, posted with htmx headers as the page sends
them while typing, and the person page of some of them. It prints p50 and p95 per kind
and role and overall, next to the target (p95 <= 100 ms). It prints figures; it is not a
test and fails only when a command fails.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Measure this checkout, whatever copy of the package is installed.
sys.path.insert(0, str(ROOT))
P95_TARGET_MS = 100.0
SECRET = "5e" * 32  # a fixed key: the filled database is read again by later runs


class BenchmarkError(Exception):
    """A step of the benchmark failed; the message says which and how."""


def taizhang_command() -> list[str]:
    sys.path.insert(0, str(HERE))
    try:
        from bench_import import taizhang_command as command
    finally:
        sys.path.pop(0)
    return command()


def run(args: list[str], env: dict[str, str], what: str) -> str:
    began = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        errors = "\n".join(done.stderr.strip().splitlines()[:20])
        raise BenchmarkError(f"{what} failed with exit status {done.returncode}:\n{errors}")
    print(f"  {what}: {time.perf_counter() - began:.1f} s")
    return done.stdout


def postgres_database(url: str, name: str, *, fresh: bool) -> str:
    """The URL of database ``name`` on the server of ``url``, created if missing."""
    import psycopg

    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise BenchmarkError(f"--database-url must be a postgresql:// URL, not {url}")
    with psycopg.connect(url, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(parsed._replace(path=f"/{name}"))


def environment(args) -> dict[str, str]:
    """The environment of the filled database (set for this process too)."""
    data = args.out / f"search-{args.persons}"
    if args.fresh and data.exists() and not args.database_url:
        import shutil

        shutil.rmtree(data)
    data.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TAIZHANG_DATA=str(data), TAIZHANG_SECRET_KEY=SECRET)
    env["TAIZHANG_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env.pop("TAIZHANG_DATABASE_URL", None)
    if args.database_url:
        env["TAIZHANG_DATABASE_URL"] = postgres_database(
            args.database_url, f"taizhang_search_{args.persons}", fresh=args.fresh
        )
    os.environ.update(env)
    return env


def fill(args, env: dict[str, str]) -> None:
    """Fill the database unless it holds persons already."""
    command = taizhang_command()
    setup = [sys.executable, "-c", "from taizhang.cli import setup_django; setup_django()"]
    run(setup, env, "migrations")
    count = [
        sys.executable,
        "-c",
        "from taizhang.cli import setup_django; setup_django();"
        "from taizhang.register.models import Person; print(Person.objects.count())",
    ]
    persons = int(run(count, env, "counting persons").strip())
    if persons:
        print(f"  the database holds {persons:,} persons already (--fresh builds it again)")
        return
    commands = run([*command, "--help"], env, "listing commands")
    if " generate " in commands:
        run(
            [*command, "generate", "--persons", str(args.persons), "--seed", str(args.seed)],
            env,
            f"taizhang generate --persons {args.persons}",
        )
        return
    files = args.out / f"search-files-{args.persons}"
    if not (files / "persons.csv").exists():
        run(
            [
                sys.executable,
                str(HERE / "make_import_files.py"),
                "--persons",
                str(args.persons),
                "--events",
                "1",  # the opening state and five years of life; no extra services
                "--seed",
                str(args.seed),
                "--out",
                str(files),
            ],
            env,
            "writing the import files",
        )
    for name in ("orgunits", "persons", "events"):
        run([*command, "import", str(files / f"{name}.csv"), "--kind", name], env, f"import {name}")
    vacuum(env)


def vacuum(env: dict[str, str]) -> None:
    """On PostgreSQL, what autovacuum would soon do: the import rewrites every person row
    once (its derived state), and a search should not be timed on the dead versions."""
    url = env.get("TAIZHANG_DATABASE_URL")
    if not url:
        return
    import psycopg

    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"  VACUUM ANALYZE: {time.perf_counter() - began:.1f} s")


def users():
    """One login per role: the county, its largest township, that township's largest village."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from taizhang.accounts.models import Profile, Role
    from taizhang.orgunits.models import OrgUnit
    from taizhang.register.models import Person

    county = OrgUnit.objects.filter(level=3).order_by("code").first()
    sizes = dict(Person.objects.values_list("current_village").annotate(n=Count("id")).order_by())
    township = max(
        OrgUnit.objects.filter(level=4),
        key=lambda t: sum(n for v, n in sizes.items() if v.startswith(t.code)),
    )
    village = max(
        OrgUnit.objects.subtree(township.code).villages(), key=lambda v: sizes.get(v.code, 0)
    )
    out = {}
    for username, role, org in (
        ("bench_county", Role.COUNTY_ADMIN, county),
        ("bench_township", Role.TOWNSHIP_STATISTICIAN, township),
        ("bench_village", Role.VILLAGE_WORKER, village),
    ):
        user, _ = get_user_model().objects.get_or_create(username=username)
        Profile.objects.update_or_create(user=user, defaults={"org_unit": org, "role": role})
        out[username.removeprefix("bench_")] = user
    return out


def queries(user, n: int, rng: random.Random) -> dict[str, list[dict]]:
    """``n`` searches of each kind, about persons in the user's area drawn at random."""
    from taizhang.accounts.scope import org_units_for, persons_for
    from taizhang.lib import crypto

    scope = persons_for(user)
    ids = list(scope.values_list("pk", flat=True))
    sample = scope.in_bulk(rng.sample(ids, min(n, len(ids))))
    persons = list(sample.values())
    with_phone = [p for p in scope.exclude(phone_cipher=None).order_by("?")[:n]]
    households = list(
        scope.exclude(household=None).order_by("?").values_list("household__number", flat=True)[:n]
    )
    villages = list(org_units_for(user).villages().values_list("code", flat=True))
    return {
        "initials": [{"q": p.name_initials} for p in persons],
        "two initials": [{"q": p.name_initials[:2]} for p in persons],
        "part of a name": [{"q": p.name[1:]} for p in persons if len(p.name) > 1],
        "surname": [{"q": p.name[0]} for p in persons],
        "ID number": [{"q": crypto.decrypt(p.id_cipher)} for p in persons],
        "phone": [{"q": crypto.decrypt(p.phone_cipher)} for p in with_phone],
        "household": [{"q": h} for h in households],
        "filters only": [
            {"sex": rng.choice("MF"), "status": "resident", "village": rng.choice(villages)}
            for _ in persons
        ],
        "page 5": [{"q": p.name_initials[:1], "page": 5} for p in persons],
    }


def timed_get(client, url: str, params: dict, htmx: bool, post: bool = False) -> tuple[float, str]:
    """Milliseconds for one GET (or POST, as the people page sends its search box: an ID
    number never travels in an address), and the page it answered."""
    headers = {"HX-Request": "true"} if htmx else {}
    began = time.perf_counter()
    send = client.post if post else client.get
    response = send(url, params, headers=headers)
    ms = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise BenchmarkError(f"GET {url} {params} answered {response.status_code}")
    return ms, response.content.decode()


_COUNT = re.compile(r'data-count="([0-9]+)"')


def matches(page: str) -> int:
    found = _COUNT.search(page)
    return int(found.group(1)) if found else 0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(args) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings")
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from taizhang.register.models import Person

    rng = random.Random(args.seed)
    logins = users()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\n{Person.objects.count():,} persons, {connection.vendor}; "
        f"{args.requests} requests per kind and role; {os.cpu_count()} CPUs, load {load}\n"
    )
    print(f"{'role':10}{'search':18}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'found':>8}")
    everything: list[float] = []
    for role, user in logins.items():
        client = Client()
        client.force_login(user)
        client.get(reverse("people"))  # warm up: templates, caches, connection
        kinds = queries(user, args.requests, rng)
        for kind, params_list in kinds.items():
            times = []
            found = 0
            for params in params_list:
                ms, page = timed_get(client, reverse("people"), params, htmx=True, post=True)
                times.append(ms)
                found += matches(page) > 0
            everything.extend(times)
            print(
                f"{role:10}{kind:18}{percentile(times, 50):>9.1f}{percentile(times, 95):>9.1f}"
                f"{max(times):>9.1f}{found:>5}/{len(times)}"
            )
        pages = [
            timed_get(client, reverse("person", args=[p["pk"]]), {}, htmx=False)[0]
            for p in user_persons(user, args.requests, rng)
        ]
        print(
            f"{role:10}{'(person page)':18}{percentile(pages, 50):>9.1f}"
            f"{percentile(pages, 95):>9.1f}{max(pages):>9.1f}"
        )
    p50, p95 = percentile(everything, 50), percentile(everything, 95)
    met = "met" if p95 <= P95_TARGET_MS else "NOT met"
    print(f"\nall searches: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({len(everything)} requests)")
    print(f"search target p95 <= {P95_TARGET_MS:.0f} ms: {met}")


def user_persons(user, n: int, rng: random.Random) -> list[dict]:
    from taizhang.accounts.scope import persons_for

    ids = list(persons_for(user).values_list("pk", flat=True))
    return [{"pk": pk} for pk in rng.sample(ids, min(n, len(ids)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=540_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=40, help="per kind of search and role")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--database-url", help="a PostgreSQL server to fill a database on")
    parser.add_argument("--fresh", action="store_true", help="build the database again")
    args = parser.parse_args(argv)
    try:
        env = environment(args)
        print(f"database: {env.get('TAIZHANG_DATABASE_URL') or env['TAIZHANG_DATA']}")
        fill(args, env)
        measure(args)
    except BenchmarkError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
