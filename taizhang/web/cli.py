"""``taizhang serve`` and ``taizhang demo``: the web app on the embedded server."""

from __future__ import annotations

import secrets

import typer

DEMO_PERSONS = 60_000


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("demo")(demo)


def serve(
    port: int = typer.Option(8000, "--port", help="port on 127.0.0.1"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
) -> None:
    """Serve the web app on an existing database."""
    from taizhang.cli import setup_django

    setup_django()
    _serve(host, port)


def _serve(host: str, port: int) -> None:
    from waitress import serve as waitress_serve

    from taizhang.wsgi import application

    typer.echo(f"Taizhang is at http://{host}:{port}/  (Ctrl+C to stop)")
    waitress_serve(application, host=host, port=port, threads=8, ident="taizhang")


def demo(
    persons: int = typer.Option(DEMO_PERSONS, "--persons", help="size of the synthetic county"),
    seed: int = typer.Option(1, "--seed", help="random seed of the synthetic county"),
    port: int = typer.Option(8000, "--port", help="port on 127.0.0.1"),
    no_serve: bool = typer.Option(False, "--no-serve", help="set up, print the logins, and stop"),
) -> None:
    """Create the database, build a synthetic county, create one login per role, and serve.

    An existing county in the database is kept; the demo logins get new passwords.
    """
    from taizhang.cli import setup_django

    setup_django()
    from taizhang.register.models import Person

    if not Person.objects.exists():
        from taizhang.synthetic.cli import generate_county

        generate_county(persons=persons, seed=seed)
    typer.echo("Demo logins (each sees only its own org unit and what lies below it):")
    for username, role, org, password in demo_logins():
        typer.echo(f"  {username:<9} {password:<14} {role} · {org}")
    if not no_serve:
        _serve("127.0.0.1", port)


def demo_logins() -> list[tuple[str, str, str, str]]:
    """One login per role: the county, its first township, and that township's first village."""
    from django.contrib.auth import get_user_model

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
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.save()
        Profile.objects.update_or_create(user=user, defaults={"org_unit": org, "role": role})
        out.append((username, role.label, f"{org.code} {org.name}", password))
    return out
