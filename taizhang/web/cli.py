"""``taizhang serve`` and ``taizhang demo``: the web app on the embedded server."""

from __future__ import annotations

import contextlib
import secrets

import typer

DEMO_PERSONS = 60_000
THREADS = 8


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("demo")(demo)


def serve(
    port: int = typer.Option(8000, "--port", help="port on 127.0.0.1"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    processes: int = typer.Option(
        0,
        "--processes",
        min=0,
        max=64,
        help="server processes sharing the port (0: one per processor core, at most 8)",
    ),
    threads: int = typer.Option(
        THREADS, "--threads", min=1, max=64, help="threads of each server process"
    ),
) -> None:
    """Serve the web app on an existing database."""
    from taizhang.cli import setup_django

    setup_django()
    _serve(host, port, processes, threads)


def default_processes() -> int:
    """One server process per core (Python runs one request at a time per process), at
    most 8; the threads of each process overlap the waits on the database."""
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def _serve(host: str, port: int, processes: int = 0, threads: int = THREADS) -> None:
    import os
    import signal
    import socket

    from django.db import connections
    from waitress import serve as waitress_serve

    from taizhang.wsgi import application

    processes = processes or default_processes()
    options = {"threads": threads, "ident": "taizhang", **proxy_options()}
    try:
        sock = socket.create_server((host, port), family=_family(host), backlog=1024)
    except OSError as e:
        from taizhang.errors import UserError

        raise UserError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    typer.echo(f"Taizhang is at http://{host}:{port}/  (Ctrl+C to stop)")
    if processes == 1 or not hasattr(os, "fork"):
        waitress_serve(application, sockets=[sock], **options)
        return
    # The app is loaded once and the processes fork from it; none inherits an open
    # database connection.
    connections.close_all()
    children: set[int] = set()
    stopping = False

    def start() -> None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                waitress_serve(application, sockets=[sock], **options)
            finally:
                os._exit(0)
        children.add(pid)

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(processes):
        start()
    while children:
        try:
            pid, _status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        if not stopping:
            start()  # a process that died is replaced; the others kept serving


def _family(host: str):
    import socket

    return socket.AF_INET6 if ":" in host else socket.AF_INET


def proxy_options() -> dict:
    """With ``TAIZHANG_BEHIND_PROXY=1``: believe the reverse proxy on this machine (or at
    ``TAIZHANG_PROXY_ADDRESS``) about the client's address and the scheme, so that the
    audit trail and the per-address login lock see the person's address, not the
    proxy's; the same headers from anyone else are dropped."""
    import os

    if os.environ.get("TAIZHANG_BEHIND_PROXY") != "1":
        return {}
    return {
        "trusted_proxy": os.environ.get("TAIZHANG_PROXY_ADDRESS", "127.0.0.1"),
        "trusted_proxy_count": 1,
        "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
        "clear_untrusted_proxy_headers": True,
    }


def demo(
    persons: int = typer.Option(
        DEMO_PERSONS, "--persons", min=100, max=5_000_000, help="size of the synthetic county"
    ),
    seed: int = typer.Option(1, "--seed", min=0, help="random seed of the synthetic county"),
    port: int = typer.Option(8000, "--port", help="port on 127.0.0.1"),
    no_serve: bool = typer.Option(False, "--no-serve", help="set up, print the logins, and stop"),
) -> None:
    """Create the database, build a synthetic county, create one login per role, and serve.

    A county already in the database is kept (the demo logins get new passwords). A
    synthetic county that an earlier demo left unfinished is removed and built again.
    """
    from taizhang.cli import setup_django, user_errors

    setup_django()
    with user_errors():
        prepare_county(persons=persons, seed=seed)
        show_logins(demo_logins())
    if not no_serve:
        _serve("127.0.0.1", port)


def county_state() -> str:
    """What the register holds: ``empty``; ``complete`` (a generated county whose
    generation finished, or a register filled by imports and records); or ``unfinished``
    (persons written by a generation that never finished — only earlier versions, which
    did not write a county in one transaction, could leave one)."""
    from taizhang.audit.models import AuditEntry
    from taizhang.register.models import Person

    if not Person.objects.exists():
        return "empty"
    if AuditEntry.objects.filter(action="generate").exists():
        return "complete"
    if Person.objects.filter(batch__isnull=False).exists():
        return "complete"  # imported: the county's own register
    return "unfinished"


def prepare_county(*, persons: int, seed: int) -> None:
    """Make sure the register holds a whole county, building the synthetic one if needed,
    and say what was done."""
    from taizhang import config
    from taizhang.register.models import Person
    from taizhang.synthetic.cli import generate_county

    state = county_state()
    where = config.database_label()
    if state == "complete":
        typer.echo(
            f"Using the county already in {where} ({Person.objects.count():,} persons). "
            f"To build a new one: {config.how_to_start_afresh()}."
        )
        return
    if state == "unfinished":
        typer.echo(
            f"The synthetic county in {where} was left unfinished by an earlier demo: "
            "removing it and building it again."
        )
        _empty_database()
    generate_county(persons=persons, seed=seed)


def _empty_database() -> None:
    """Remove every row of an unfinished synthetic county (its tables stay)."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)


def show_logins(logins: list[tuple[str, str, str, str]]) -> None:
    """The demo's logins as a labelled table: a rich table on a terminal, aligned plain
    text otherwise (so it can be read from a log or a pipe)."""
    import sys

    headers = ("Role", "User name", "Password", "Area")
    rows = [(role, username, password, area) for username, role, area, password in logins]
    typer.echo("Demo logins (each sees only its own area and what lies below it):")
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*headers)
        for row in rows:
            table.add_row(*row)
        Console().print(table)
        return
    widths = [max(_width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        typer.echo(
            "  "
            + "  ".join(
                cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)
            ).rstrip()
        )


def _width(text: str) -> int:
    """Columns a text takes on a terminal (a Chinese character takes two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _policy_password(user) -> str:
    """A random password the password policy accepts for ``user``: a random draw can, now
    and then, look too much like the user name (``town…`` for ``township``)."""
    from django.contrib.auth import password_validation
    from django.core.exceptions import ValidationError

    while True:
        password = secrets.token_urlsafe(9)
        try:
            password_validation.validate_password(password, user)
        except ValidationError:
            continue
        return password


def demo_logins() -> list[tuple[str, str, str, str]]:
    """One login per role: the county, its first township, and that township's first village."""
    from django.contrib.auth import get_user_model
    from django.utils import translation

    from taizhang.accounts.models import Profile, Role
    from taizhang.orgunits.models import OrgUnit

    county = OrgUnit.objects.filter(level=3).order_by("code").first()
    township = OrgUnit.objects.subtree(county.code).filter(level=4).order_by("code").first()
    village = OrgUnit.objects.subtree(township.code).filter(level=5).order_by("code").first()
    User = get_user_model()
    out = []
    for username, role, org in (
        ("county", Role.COUNTY_ADMIN, county),
        ("township", Role.TOWNSHIP_STATISTICIAN, township),
        ("village", Role.VILLAGE_WORKER, village),
    ):
        user, _ = User.objects.get_or_create(username=username)
        password = _policy_password(user)
        user.set_password(password)
        user.save()
        Profile.objects.update_or_create(user=user, defaults={"org_unit": org, "role": role})
        with translation.override("zh-hans"):
            chinese = str(role.label)
        with translation.override("en"):
            english = str(role.label)
        out.append((username, f"{chinese} ({english})", f"{org.code} {org.name}", password))
    return out
