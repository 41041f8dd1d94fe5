"""``taizhang backup``, ``taizhang restore`` and ``taizhang rotate-key`` (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
    app.command("rotate-key")(rotate_key_command)


def backup_command(
    output: Path = typer.Option(..., "-o", "--output", help="the backup file to write"),
    passphrase_file: Path = typer.Option(
        ..., "--passphrase-file", help="a file whose first line is the passphrase (10+ characters)"
    ),
    user: str = typer.Option(None, "--user", help="the account the backup is recorded under"),
) -> None:
    """Write one encrypted file holding the database (a consistent copy, also while the
    server runs), the ledger archive, the other files of the data folder and the keys.

    The passphrase (the first line of --passphrase-file, at least 10 characters) is all
    that opens it: keep it apart from the backup. Restore with ``taizhang restore``.
    """
    from taizhang.cli import account, setup_django, user_errors
    from taizhang.operations.container import read_passphrase

    with user_errors():
        passphrase = read_passphrase(passphrase_file)
    setup_django()
    from taizhang.operations.backup import backup

    with user_errors():
        made = backup(output, passphrase, user=account(user))
    m = made.manifest
    figures = m.get("figures")
    typer.echo(
        f"Backed up {m['engine']} database ({_rows(m)}), {_files(len(m['files']))} of the data "
        f"folder and the keys into {made.path} ({made.size:,} bytes)."
        + (
            f" Figures of {figures['org']} for {', '.join(figures['periods'])} kept to check a restore."
            if figures
            else ""
        )
    )


def restore_command(
    file: Path = typer.Argument(..., help="a file made by taizhang backup"),
    passphrase_file: Path = typer.Option(
        ..., "--passphrase-file", help="a file whose first line is the backup's passphrase"
    ),
) -> None:
    """Restore a backup into an empty data folder (TAIZHANG_DATA) and an empty database,
    then check it: the key, the row counts, the audit trail and a few figures as the
    backup recorded them.

    A wrong passphrase or a damaged or incomplete file is refused with exit status 1 and
    nothing written: the whole file is read and authenticated before anything is.
    """
    from taizhang.cli import setup_django, user_errors
    from taizhang.operations.backup import restore, verify
    from taizhang.operations.container import read_passphrase

    with user_errors():
        passphrase = read_passphrase(passphrase_file)
        # Before Django is set up, which makes the data folder and django.key: a refused
        # file leaves nothing behind.
        manifest = verify(file, passphrase)
    setup_django(migrate=False)
    from taizhang import config

    with user_errors():
        done = restore(file, passphrase, manifest)
    m = done.manifest
    key = (
        f"the key into {config.data_dir() / 'secret.key'}"
        if done.key_written
        else "the key (already in force)"
    )
    typer.echo(
        f"Restored the backup of {m['made_at']} (Taizhang {m['taizhang']}): the {m['engine']} "
        f"database into {config.database_label()} ({_rows(m)}), {_files(done.files)} into "
        f"{config.data_dir()}, and {key}."
    )
    if done.migrated:
        typer.echo("The database was brought up to this version of Taizhang.")
    if done.differences:
        for difference in done.differences:
            typer.echo(f"check: {difference}", err=True)
        typer.echo(
            "The restored register does not match what the backup recorded (above).", err=True
        )
        raise typer.Exit(1)
    figures = m.get("figures")
    typer.echo(
        f"Checked: the key, the audit trail ({m['audit']['count']:,} entries)"
        + (
            f" and the figures of {figures['org']} for {', '.join(figures['periods'])}"
            if figures
            else ""
        )
        + " are as backed up."
    )


def rotate_key_command(
    user: str = typer.Option(None, "--user", help="the account the rotation is recorded under"),
) -> None:
    """Re-encrypt every ID and phone number (and every archived ledger file) under a new
    key and recompute every search index, in one transaction; the old key is kept as
    secret.key.old-<date> (mode 600). Stop the web server first, and back up afterwards:
    older backups hold the old key. Ledgers printed before the rotation no longer verify
    when they come back: print them again.
    """
    from taizhang.cli import account, setup_django, user_errors

    setup_django()
    from taizhang.operations.rotation import rotate_key

    with user_errors():
        done = rotate_key(user=account(user))
    counts = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in done.counts.items())
    typer.echo(f"Rotated the key ({counts}); the old key is kept as {done.old_key_file}.")
    if done.unresolved_returned_ids:
        typer.echo(
            f"{done.unresolved_returned_ids} ID numbers in returned ledger rows are not in the "
            "register and keep their old index."
        )
    typer.echo(
        "Ledgers printed before now carry row keys of the old key: print the month's ledgers "
        "again. Make a new backup: older ones hold the old key."
    )


def _files(n: int) -> str:
    return "1 file" if n == 1 else f"{n:,} files"


def _rows(manifest: dict) -> str:
    from taizhang.register.models import Event, Person

    counts = manifest["counts"]
    persons = counts.get(Person._meta.db_table, 0)
    events = counts.get(Event._meta.db_table, 0)
    return f"{persons:,} persons, {events:,} events"
