"""Serving benchmark: the dashboard and the people search under 30 logged-in users at once.

    python benchmarks/bench_serve.py [--persons 20000] [--seed 1] [--data DIR]
                                     [--clients 30] [--seconds 60] [--search-share 0.5]
                                     [--id-share 0.3] [--checkout DIR] [--get-searches]

The county comes from ``taizhang demo --no-serve --persons N --seed S`` run in the data
folder (``benchmarks/out/serve-N-S/``, or ``--data DIR``): the demo builds the county
when the folder holds none and keeps the one it finds otherwise; either way it prints
its logins with new passwords, and the benchmark takes the county administrator's from
there. It adds (or resets) one township statistician per township and one village
worker per township's largest village, ``bench-t-<code>`` and ``bench-v-<code>``, and
draws from each user's area the names and ID numbers it will search for.

Then it starts ``taizhang serve`` (waitress, as users run it) on a free port of
127.0.0.1 in a subprocess, logs in ``--clients`` clients, each with its own session
(a third the demo's county administrator, a third township statisticians, a third
village workers), and for ``--seconds`` each client, in its own thread, sends one
request after another without pause:

- the dashboard (``GET /``, the cards), or
- with ``--search-share``, a people search as the page sends it while typing (htmx):
  a name fragment (a surname, a given name, or pinyin initials) or, with ``--id-share``
  of the searches, a whole ID number. The page posts its search box (an ID number
  never travels in a URL); ``--get-searches`` sends every search as a GET with the text
  in the query string, as the page did before it posted (to measure an older checkout).

It prints requests, req/s, p50, p95 and max milliseconds and errors per page, and the
server's CPU time. ``--checkout DIR`` serves another copy of the code (a ``git archive``
of an earlier commit, say) on the same data, for a before/after comparison with the same
command. It prints figures; it is not a test, and fails only when a command fails.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from _common import BenchmarkError, percentile, taizhang_command  # noqa: E402

BASELINE = {"dashboard": (120.0, 320.0), "search": (35.0, 1100.0)}  # req/s, p95 ms (issue 14)
SEARCH_P95_TARGET_MS = 300.0
PASSWORD = "bench-serve-Pw-1"  # the benchmark's own users, in its own data folder

# Run in the data folder's environment: the benchmark's users, and what each searches for.
SETUP = r"""
import json, random, sys
from django.contrib.auth import get_user_model
from django.db.models import Count
from taizhang.accounts.models import Profile, Role
from taizhang.accounts.scope import persons_for
from taizhang.lib import crypto
from taizhang.orgunits.models import OrgUnit
from taizhang.register.models import Person

password, county_login, per_user, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
User = get_user_model()
sizes = dict(Person.objects.values_list("current_village").annotate(n=Count("id")).order_by())
users = [("county", User.objects.get(username=county_login))]
for township in OrgUnit.objects.filter(level=4).order_by("code"):
    villages = OrgUnit.objects.subtree(township.code).villages()
    village = max(villages, key=lambda v: sizes.get(v.code, 0), default=None)
    for role, kind, org in (
        (Role.TOWNSHIP_STATISTICIAN, "township", township),
        (Role.VILLAGE_WORKER, "village", village),
    ):
        if org is None or not sizes.get(org.code) and kind == "village":
            continue
        user, _ = User.objects.get_or_create(username=f"bench-{kind[0]}-{org.code}")
        user.set_password(password)
        user.save()
        Profile.objects.update_or_create(user=user, defaults={"org_unit": org, "role": role})
        users.append((kind, user))
out = []
for kind, user in users:
    ids = list(persons_for(user).values_list("pk", flat=True))
    picked = Person.objects.in_bulk(rng.sample(ids, min(per_user, len(ids))))
    persons = list(picked.values())
    names = []
    for p in persons:
        names += [p.name[:1], p.name[1:] or p.name, p.name_initials[:2] or p.name[:1]]
    out.append({
        "kind": kind,
        "username": user.username,
        "names": names,
        "ids": [crypto.decrypt(p.id_cipher) for p in persons],
    })
print(json.dumps(out, ensure_ascii=False))
"""


def command_env(data: Path, checkout: Path) -> dict[str, str]:
    env = dict(os.environ, TAIZHANG_DATA=str(data))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(checkout), env.get("PYTHONPATH")]))
    env["BENCH_CHECKOUT"] = str(checkout)  # also the commands' working folder (see run_in)
    env.pop("TAIZHANG_DATABASE_URL", None)
    env.pop("TAIZHANG_DEBUG", None)
    return env


def taizhang(env: dict[str, str], *args: str) -> str:
    """Run a ``taizhang`` command of the checkout; its standard output."""
    done = subprocess.run(
        [*taizhang_command(), *args],
        env=env,
        cwd=env["BENCH_CHECKOUT"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        errors = "\n".join(done.stderr.strip().splitlines()[-20:])
        raise BenchmarkError(f"taizhang {' '.join(args)} failed:\n{errors}")
    return done.stdout


def prepare(args, env: dict[str, str]) -> tuple[str, list[dict]]:
    """The county (built once), the demo's county login, and the benchmark's users."""
    began = time.perf_counter()
    shown = taizhang(
        env, "demo", "--no-serve", "--persons", str(args.persons), "--seed", str(args.seed)
    )
    print(shown.splitlines()[0] if shown else "")
    found = re.search(r"^\s*\S+ \(County administrator\)\s+(\S+)\s+(\S+)", shown, re.M)
    if not found:
        raise BenchmarkError(f"no county administrator among the demo's logins:\n{shown}")
    county_login, county_password = found.groups()
    setup = "from taizhang.cli import setup_django; setup_django()\n" + SETUP
    done = subprocess.run(
        [sys.executable, "-c", setup, PASSWORD, county_login, "40", str(args.seed)],
        env=env,
        cwd=env["BENCH_CHECKOUT"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BenchmarkError(f"making the benchmark's users failed:\n{done.stderr[-2000:]}")
    users = json.loads(done.stdout)
    for user in users:
        user["password"] = county_password if user["kind"] == "county" else PASSWORD
    print(f"  county and logins ready in {time.perf_counter() - began:.1f} s")
    return county_login, users


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    env: dict[str, str],
    port: int,
    log: Path,
    processes: int | None = None,
    threads: int | None = None,
) -> subprocess.Popen:
    """``taizhang serve`` on ``port``, its output (errors, tracebacks) written to ``log``."""
    command = taizhang_command()
    more = ["--processes", str(processes)] if processes else []
    more += ["--threads", str(threads)] if threads else []
    with log.open("w") as out:
        server = subprocess.Popen(
            [*command, "serve", "--port", str(port), *more],
            env=env,
            cwd=env["BENCH_CHECKOUT"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchmarkError(f"taizhang serve stopped:\n{log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise BenchmarkError("taizhang serve did not listen within 60 s")


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds so far of a process and its server processes (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return float("nan")
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) for child in children)


class Client:
    """One browser: its own connection, cookies and so session."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict | None = None, htmx: bool = False
    ) -> tuple[int, str, dict[str, str]]:
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        if htmx:
            headers["HX-Request"] = "true"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()  # the server closed a kept-alive connection: once more
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, text, dict(response.headers)

    def log_in(self, username: str, password: str) -> None:
        self.request("GET", "/accounts/login/")
        form = {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": self.cookies.get("csrftoken", ""),
        }
        status, _text, headers = self.request("POST", "/accounts/login/", form)
        if status != 302 or "sessionid" not in self.cookies:
            raise BenchmarkError(f"{username} could not log in (status {status})")


@dataclass
class Tally:
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, page: str, ms: float, ok: bool, found: bool = False) -> None:
        with self.lock:
            self.times.setdefault(page, []).append(ms)
            self.errors[page] = self.errors.get(page, 0) + (not ok)
            self.found[page] = self.found.get(page, 0) + found


def one_request(client: Client, user: dict, rng: random.Random, args) -> tuple[str, bool, bool]:
    """Send one request as the page would; (page, answered well, found somebody)."""
    if rng.random() >= args.search_share:
        status, text, _h = client.request("GET", "/")
        return "dashboard", status == 200, False
    by_id = rng.random() < args.id_share
    page = "search: ID number" if by_id else "search: name"
    q = rng.choice(user["ids"] if by_id else user["names"])
    form = {"q": q, "status": "", "sex": "", "village": ""}
    if args.get_searches:
        status, text, _h = client.request("GET", "/people/?" + urlencode(form), htmx=True)
    else:
        status, text, _h = client.request("POST", "/people/", form, htmx=True)
    return page, status == 200, "data-person=" in text


def hammer(port: int, server_pid: int, users: list[dict], args) -> tuple[Tally, float, float]:
    """Log the clients in, then let each send requests for ``args.seconds``: what they
    saw, the seconds it took, and the server's CPU seconds meanwhile."""
    by_kind = {
        kind: [u for u in users if u["kind"] == kind] for kind in ("county", "township", "village")
    }
    plan = []
    for i in range(args.clients):
        kind = ("county", "township", "village")[i % 3]
        pool = by_kind[kind] or by_kind["county"]
        plan.append(pool[(i // 3) % len(pool)])
    clients = []
    for user in plan:
        client = Client(port)
        client.log_in(user["username"], user["password"])
        client.request("GET", "/")  # warm up: templates, the figure cache, a connection
        clients.append(client)
    print(
        f"  {len(clients)} clients logged in: "
        + ", ".join(f"{k} {sum(u['kind'] == k for u in plan)}" for k in by_kind)
    )
    tally = Tally()
    start = threading.Barrier(len(clients) + 1)
    stop = 0.0

    def run(client: Client, user: dict, seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        while time.monotonic() < stop:
            began = time.perf_counter()
            try:
                page, ok, found = one_request(client, user, rng, args)
            except (OSError, http.client.HTTPException):
                page, ok, found = "(connection)", False, False
                client.conn.close()
            tally.add(page, (time.perf_counter() - began) * 1000, ok, found)

    threads = [
        threading.Thread(target=run, args=(c, u, args.seed * 1000 + i), daemon=True)
        for i, (c, u) in enumerate(zip(clients, plan, strict=True))
    ]
    for t in threads:
        t.start()
    cpu = cpu_seconds(server_pid)
    stop = time.monotonic() + args.seconds
    began = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    return tally, time.perf_counter() - began, cpu_seconds(server_pid) - cpu


def report(tally: Tally, seconds: float, cpu: float, args) -> None:
    print()
    requests = sum(len(times) for times in tally.times.values())
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"{args.clients} clients, {seconds:.1f} s, waitress processes={args.processes or 'default'} threads={args.threads or 8} (taizhang serve), "
        f"{os.cpu_count()} CPUs, load {load}; server CPU {cpu:.1f} s "
        f"({100 * cpu / seconds:.0f}% of one core, {1000 * cpu / max(requests, 1):.1f} ms "
        "a request)"
    )
    print()
    print("| page | requests | req/s | p50 ms | p95 ms | max ms | errors | found |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    rows = dict(sorted(tally.times.items()))
    searches = [ms for page, times in rows.items() if page.startswith("search") for ms in times]
    if searches:
        rows["search (all)"] = searches
    for page, times in rows.items():
        errors = sum(
            v
            for k, v in tally.errors.items()
            if k == page or (page == "search (all)" and k.startswith("search"))
        )
        found = tally.found.get(page, "")
        print(
            f"| {page} | {len(times)} | {len(times) / seconds:.1f} | {percentile(times, 50):.0f} "
            f"| {percentile(times, 95):.0f} | {max(times):.0f} | {errors} | {found} |"
        )
    print()
    for page, (rate, p95) in BASELINE.items():
        print(f"baseline (issue 14) {page}: {rate:.0f} req/s, p95 {p95:.0f} ms")
    if searches:
        p95 = percentile(searches, 95)
        met = "met" if p95 <= SEARCH_P95_TARGET_MS else "NOT met"
        print(f"search target p95 <= {SEARCH_P95_TARGET_MS:.0f} ms: {met} ({p95:.0f} ms)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, help="data folder (default benchmarks/out/serve-N-S)")
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--search-share", type=float, default=0.5, help="of all requests")
    parser.add_argument("--id-share", type=float, default=0.3, help="of the searches")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the code to serve")
    parser.add_argument(
        "--get-searches", action="store_true", help="search by GET (the page before it posted)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        help="server processes (taizhang serve --processes; default its own)",
    )
    parser.add_argument(
        "--threads", type=int, help="threads of each (taizhang serve --threads; default its own)"
    )
    args = parser.parse_args(argv)
    data = (args.data or HERE / "out" / f"serve-{args.persons}-{args.seed}").resolve()
    data.mkdir(parents=True, exist_ok=True)
    env = command_env(data, args.checkout.resolve())
    print(f"data: {data}; code: {args.checkout.resolve()}")
    server = None
    try:
        _login, users = prepare(args, env)
        port = free_port()
        server = start_server(env, port, data / "bench-serve.log", args.processes, args.threads)
        print(f"  taizhang serve on 127.0.0.1:{port}, its output in {data / 'bench-serve.log'}")
        tally, seconds, cpu = hammer(port, server.pid, users, args)
        report(tally, seconds, cpu, args)
    except BenchmarkError as e:
        print(e, file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
