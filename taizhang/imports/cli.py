"""``taizhang import``: load org units, persons or events from a CSV or XLSX file."""

from __future__ import annotations

from pathlib import Path

import typer

KIND_HELP = "orgunits|persons|events|corrections|enrolments|payments|cases|targets|reports|census (guessed from the headers when omitted)"


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)


def import_command(
    file: Path = typer.Argument(..., help="a .csv (UTF-8 or GB18030) or .xlsx file"),
    kind: str = typer.Option(None, "--kind", help=KIND_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="check everything, write nothing"),
    errors_json: Path = typer.Option(None, "--errors-json", help="also write the errors as JSON"),
    user: str = typer.Option(None, "--user", help="the account the import is recorded under"),
) -> None:
    """Import a file as one transaction: if any row is invalid, nothing is written.

    Every bad row is reported as ``row N: column: reason`` (N = the data row, 1 = the first
    row after the header) and the exit status is 1. Importing the same file twice changes
    nothing the second time.
    """
    from taizhang.cli import account, fail, fail_on_row_errors, progress_bar, setup_django

    if not file.exists():
        fail(f"{file}: no such file", 1)
    setup_django()
    from taizhang.imports.service import import_file

    account = account(user)
    with progress_bar() as progress:
        result = import_file(file, kind, user=account, dry_run=dry_run, progress=progress)
    fail_on_row_errors(file.name, result, errors_json, "nothing imported")
    counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.counts.items())
    prefix = "dry run, nothing written: " if dry_run else ""
    typer.echo(f"{prefix}{file.name}: {result.kind}, {result.rows} rows: {counts}")
