"""``taizhang users``: make, list, deactivate and reactivate accounts, reset passwords, and
import a file of accounts — through the same actions (and checks, and audit) as the
users page. Messages are in English, like the row errors of imports."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from taizhang.cli import django_in_english as _django

users_app = typer.Typer(
    name="users",
    help="Accounts: create, list, deactivate, reactivate, reset-password, import.",
    no_args_is_help=True,
)

ROLE_HELP = "county (a county administrator), township (statistician) or village (worker)"
USER_HELP = "the account the change is recorded under (default: the system account)"


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


def _acting(user: str | None):
    from taizhang.accounts.actions import Acting
    from taizhang.cli import account

    return Acting(account(user), "cli")


def read_password_file(path: Path) -> str:
    """The password in ``path`` (``-``: standard input): its first line, without the line
    ending. Spaces are part of the password."""
    from taizhang.cli import fail

    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        fail(f"{path}: no such file", 1)
    except (OSError, UnicodeDecodeError) as e:
        fail(f"{path}: cannot read the password file ({getattr(e, 'strerror', None) or e})", 1)
    return text.splitlines()[0] if text.splitlines() else ""


def _find(username: str):
    """The account named ``username`` (as typed, or normalised as names are)."""
    from django.contrib.auth import get_user_model

    from taizhang.accounts.actions import normalise_username
    from taizhang.cli import fail

    User = get_user_model()
    for name in (username, normalise_username(username)):
        user = User._default_manager.filter(username=name).first()
        if user is not None:
            return user
    fail(f"no account named {username}", 1)


def _refused(e) -> None:
    from taizhang.cli import fail

    fail(f"{e.field}: {e.message}" if e.field else e.message, 1)


@users_app.command("create")
def create(
    username: str = typer.Argument(..., help="the new account's user name"),
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
    org: str = typer.Option(..., "--org", help="the code of the account's org unit"),
    password_file: Path = typer.Option(
        ..., "--password-file", help="a file whose first line is the password (- : stdin)"
    ),
    user: str = typer.Option(None, "--user", help=USER_HELP),
) -> None:
    """Make an account. The name is normalised (NFKC, no surrounding spaces); it may hold
    letters, digits and @ . + - _ only, and may not differ from an existing name only by
    case or width. The role goes with the org unit's level; the password must pass the
    password policy. Audited."""
    password = read_password_file(password_file)
    with _django():
        from taizhang.accounts import actions

        try:
            made = actions.create_user(username, role, org, password, acting=_acting(user))
        except actions.AccountError as e:
            _refused(e)
        typer.echo(
            f"made the account {made.username} "
            f"({actions.SHORT_NAMES[made.profile.role]}, {made.profile.org_unit})"
        )


@users_app.command("list")
def list_users(
    org: str = typer.Option(None, "--org", help="only accounts of this org unit's subtree"),
    inactive: bool = typer.Option(True, "--inactive/--active-only", help="list deactivated too"),
) -> None:
    """Every account with its role, org unit, state and last login (tab-separated)."""
    with _django():
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        from taizhang.accounts.actions import SHORT_NAMES

        users = get_user_model()._default_manager.select_related("profile__org_unit")
        if not inactive:
            users = users.filter(is_active=True)
        typer.echo("username\trole\torg\torg_name\tstate\tlast_login")
        for u in users.order_by("username"):
            profile = getattr(u, "profile", None)
            if org and (profile is None or not profile.org_unit_id.startswith(org)):
                continue
            last = (
                timezone.localtime(u.last_login).strftime("%Y-%m-%d %H:%M") if u.last_login else "-"
            )
            typer.echo(
                "\t".join(
                    [
                        u.username,
                        SHORT_NAMES.get(profile.role, profile.role) if profile else "-",
                        profile.org_unit_id if profile else "-",
                        profile.org_unit.name if profile else "-",
                        "active" if u.is_active else "deactivated",
                        last,
                    ]
                )
            )


@users_app.command("deactivate")
def deactivate(
    username: str = typer.Argument(...), user: str = typer.Option(None, "--user", help=USER_HELP)
) -> None:
    """Refuse the account's logins and end its sessions. Nothing is deleted: the account,
    its history and its audit trail stay, and ``reactivate`` undoes it. Audited."""
    with _django():
        from taizhang.accounts import actions

        target = _find(username)
        try:
            changed = actions.deactivate_user(target, acting=_acting(user))
        except actions.AccountError as e:
            _refused(e)
        typer.echo(f"{target.username} {'deactivated' if changed else 'was already deactivated'}")


@users_app.command("reactivate")
def reactivate(
    username: str = typer.Argument(...), user: str = typer.Option(None, "--user", help=USER_HELP)
) -> None:
    """Let a deactivated account log in again. Audited."""
    with _django():
        from taizhang.accounts import actions

        target = _find(username)
        changed = actions.reactivate_user(target, acting=_acting(user))
        typer.echo(f"{target.username} {'reactivated' if changed else 'was already active'}")


@users_app.command("reset-password")
def reset_password(
    username: str = typer.Argument(...),
    password_file: Path = typer.Option(
        ..., "--password-file", help="a file whose first line is the password (- : stdin)"
    ),
    user: str = typer.Option(None, "--user", help=USER_HELP),
) -> None:
    """Give an account a new password (checked by the password policy); its sessions end
    and a lock after failed logins is lifted. Audited."""
    password = read_password_file(password_file)
    with _django():
        from taizhang.accounts import actions

        target = _find(username)
        try:
            actions.reset_password(target, password, acting=_acting(user))
        except actions.AccountError as e:
            _refused(e)
        typer.echo(f"the password of {target.username} has been reset")


@users_app.command("import")
def import_users(
    file: Path = typer.Argument(..., help="a .csv file: username, role, org, password"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check everything, write nothing"),
    errors_json: Path = typer.Option(None, "--errors-json", help="also write the errors as JSON"),
    user: str = typer.Option(None, "--user", help=USER_HELP),
) -> None:
    """Make the accounts of a file as one transaction: if any row is invalid, nothing is
    written, every bad row is reported as ``row N: column: reason`` and the exit status is
    1. An account that exists with the same role and org unit is left as it is."""
    from taizhang.cli import fail, fail_on_row_errors

    if not file.exists():
        fail(f"{file}: no such file", 1)
    with _django():
        from taizhang.accounts.users_file import import_users as run

        result = run(file, acting=_acting(user), dry_run=dry_run)
        fail_on_row_errors(file.name, result, errors_json, "nothing imported")
        prefix = "dry run, nothing written: " if dry_run else ""
        typer.echo(
            f"{prefix}{file.name}: {result.rows} rows: created {result.counts['created']}, "
            f"unchanged {result.counts['unchanged']}"
        )
