"""The ``taizhang`` command: a thin shell over the same functions the web app uses.

Each app contributes its commands from its own ``cli.py`` (``register(app)``).
Exit status: 0 success, 1 invalid input (with a row/field-level report), 2 a usage
error or an unexpected error (its details in a log file under the data folder's
``logs/``, named on the terminal). No traceback ever reaches the terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys

import typer

from taizhang.errors import UserError

__all__ = [
    "UserError",
    "account",
    "app",
    "fail",
    "fail_on_row_errors",
    "get_app",
    "main",
    "setup_django",
    "user_errors",
]

app = typer.Typer(
    name="taizhang",
    help="Taizhang (台帐): the register, ledgers and numbers of a county's population services.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@contextlib.contextmanager
def django_in_english():
    """Django set up (the database migrated when needed), speaking English: the messages
    of commands are in English, like the row errors of imports."""
    setup_django()
    from django.utils import translation

    with translation.override("en"):
        yield


def setup_django(*, migrate: bool = True) -> None:
    """Configure Django for a command, creating or upgrading the database when needed."""
    import django
    from django.conf import settings

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings")
    if not settings.configured or not django.apps.apps.ready:
        django.setup()
    if migrate:
        _connect()
        _check_key(before_migrating=True)
        _migrate_if_needed()
        _check_key()


def _check_key(*, before_migrating: bool = False) -> None:
    """Stop (exit 2, a sentence) when the key the register was written with is missing or
    another one; never make a new key over encrypted data (``taizhang.operations.keys``).
    Checked before migrating too (where the register already keeps its key's fingerprint):
    a migration may encrypt."""
    from django.db import DatabaseError, connection

    from taizhang.operations import keys

    if before_migrating:
        try:
            if "operations_keyfingerprint" not in connection.introspection.table_names():
                return
        except DatabaseError:
            return
    keys.secure_files()
    try:
        keys.check_key()
    except UserError as e:
        fail(str(e), e.status)
    except DatabaseError:
        if not before_migrating:
            raise


def _connect() -> None:
    """Open the database, or say in a sentence why it cannot be opened."""
    from django.db import OperationalError, connection

    from taizhang import config

    try:
        connection.ensure_connection()
    except OperationalError as e:
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        reason = lines[0] if lines else type(e).__name__
        raise UserError(
            f"cannot open the database ({config.database_label()}): {reason.rstrip('.')} — "
            "check TAIZHANG_DATABASE_URL and that the database server is running"
        ) from None


def _migrate_if_needed() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def fail(message: str, status: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(status)


@contextlib.contextmanager
def user_errors():
    """Turn a UserError raised by the work into its message on stderr and its exit status."""
    try:
        yield
    except UserError as e:
        fail(str(e), e.status)


def account(username: str | None = None):
    """The account a command's work is recorded under: ``--user``'s, else the system
    account ``taizhang`` (made on first use, with no password to log in with)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    if username:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            fail(f"no account named {username}", 1)
    user, created = User.objects.get_or_create(username="taizhang")
    if created:
        user.set_unusable_password()
        user.save()
    return user


def fail_on_row_errors(file_name: str, result, errors_json, nothing: str) -> None:
    """For a file read row by row (``result`` with ``errors`` and ``rows``): write the
    errors as JSON when asked, and if there are any print each and exit 1 with a summary
    ("<file>: <nothing> — N of M rows have errors")."""
    import json

    if errors_json:
        errors_json.write_text(
            json.dumps([e.as_json() for e in result.errors], ensure_ascii=False, indent=2),
            encoding="utf-8",
        )
    if not result.errors:
        return
    for e in result.errors:
        typer.echo(str(e), err=True)
    summary = f"{file_name}: {nothing}"
    rows = len({e.row for e in result.errors if e.row})
    if rows:
        summary += f" — {rows} of {result.rows} rows have errors"
    fail(summary, 1)


_registered = False


def get_app() -> typer.Typer:
    """The command with every app's subcommands registered (tests invoke this)."""
    global _registered
    if not _registered:
        from taizhang.accounts import cli as accounts_cli
        from taizhang.benefits import cli as benefits_cli
        from taizhang.cases import cli as cases_cli
        from taizhang.corrections import cli as corrections_cli
        from taizhang.exchange import cli as exchange_cli
        from taizhang.figures import cli as figures_cli
        from taizhang.imports import cli as imports_cli
        from taizhang.indicators import cli as indicators_cli
        from taizhang.ledgers import cli as ledgers_cli
        from taizhang.operations import cli as operations_cli
        from taizhang.projection import cli as projection_cli
        from taizhang.quality import cli as quality_cli
        from taizhang.register import cli as register_cli
        from taizhang.reports import cli as reports_cli
        from taizhang.synthetic import cli as synthetic_cli
        from taizhang.targets import cli as targets_cli
        from taizhang.web import cli as web_cli

        imports_cli.register(app)
        indicators_cli.register(app)
        figures_cli.register(app)
        synthetic_cli.register(app)
        web_cli.register(app)
        benefits_cli.register(app)
        cases_cli.register(app)
        targets_cli.register(app)
        exchange_cli.register(app)
        reports_cli.register(app)
        ledgers_cli.register(app)
        projection_cli.register(app)
        quality_cli.register(app)
        operations_cli.register(app)
        accounts_cli.register(app)
        register_cli.register(app)
        corrections_cli.register(app)
        _registered = True
    return app


def main() -> None:
    """The ``taizhang`` console script. A ``UserError`` ends in its sentence and exit 1;
    anything unforeseen in one line naming the log file with its details, and exit 2."""
    try:
        get_app()()
    except UserError as e:
        typer.echo(str(e), err=True)
        sys.exit(e.status)
    except Exception as e:  # noqa: BLE001 - the last line of defence: never a traceback
        from taizhang import incidents

        try:
            reference, path = incidents.record(e, doing="taizhang " + " ".join(sys.argv[1:]))
        except Exception:  # noqa: BLE001 - not even a log file: still one line, no traceback
            typer.echo(f"taizhang: the command stopped on an unexpected error: {e!r}", err=True)
            sys.exit(2)
        typer.echo(
            f"taizhang: the command stopped on an unexpected error ({type(e).__name__}, "
            f"reference {reference}). The details are in {path}: "
            "send that file to whoever looks after this installation.",
            err=True,
        )
        sys.exit(2)


class progress_bar:
    """A rich progress bar on a terminal, one task per phase: ``with progress_bar() as
    progress`` gives ``progress(phase, done, total)``. When output goes to a file or a
    pipe: None (nothing is shown), or with ``labels`` a plain line as each phase starts.
    ``labels`` names the phases ({phase: what it does})."""

    def __init__(self, labels: dict[str, str] | None = None):
        self.labels = labels
        self.bar = None
        self.seen: set[str] = set()
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        if not sys.stderr.isatty():
            return self.update if self.labels is not None else None
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            transient=True,
        )
        self.bar.start()
        return self.update

    def update(self, phase: str, done: int, total: int) -> None:
        label = (self.labels or {}).get(phase, phase)
        if self.bar is None:
            if phase not in self.seen:
                self.seen.add(phase)
                typer.echo(f"{label} ...", err=True)
            return
        if phase not in self.tasks:
            self.tasks[phase] = self.bar.add_task(label, total=max(total, 1))
        self.bar.update(self.tasks[phase], completed=done, total=max(total, 1))

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False
