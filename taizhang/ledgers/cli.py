"""``taizhang ledger``, ``taizhang ledgers``, ``taizhang ledger-return``, ``taizhang
purge``, ``taizhang archived`` and ``taizhang handbook``: thin shells over
``taizhang.ledgers.service``, ``returns``, ``archive`` and ``handbook``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

KIND_HELP = (
    "contraception, checkup, births, migrants, family, reports, education, screening, "
    "followup, benefits or cases"
)


def register(app: typer.Typer) -> None:
    app.command("ledger")(ledger_command)
    app.command("ledgers")(ledgers_command)
    app.command("ledger-return")(ledger_return_command)
    app.command("purge")(purge_command)
    app.command("archived")(archived_command)
    app.command("handbook")(handbook_command)


def _account(username: str | None):
    from taizhang.cli import account

    return account(username)


def ledger_command(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    village: Annotated[str, typer.Option("--village", help="12-digit village code")],
    month: Annotated[str, typer.Option("--month", help="YYYYMM, e.g. 202611")],
    output: Annotated[Path, typer.Option("-o", "--output", help="the file to write")],
    output_format: Annotated[str, typer.Option("--format", help="pdf, xlsx or csv")] = "pdf",
    user: Annotated[
        str | None, typer.Option("--user", help="the account the printing is recorded under")
    ] = None,
) -> None:
    """Make one ledger of a village for a month: the file is written to -o, stored in the
    archive and its printing recorded in the audit trail."""
    from taizhang.cli import setup_django, user_errors

    setup_django()
    from taizhang.ledgers.service import generate

    with user_errors():
        record, _content = generate(
            kind, village, month, output_format, output=output, user=_account(user), source="cli"
        )
    typer.echo(
        f"{record.kind} {record.village} {record.month}: {record.rows} rows, wrote {output} "
        f"(archived as {record.path})"
    )


def ledgers_command(
    month: Annotated[str, typer.Option("--month", help="YYYYMM, e.g. 202611")],
    output: Annotated[Path, typer.Option("-o", "--output", help="the folder to write into")],
    township: Annotated[
        str | None,
        typer.Option("--township", help="township code (9 digits; a village code makes one)"),
    ] = None,
    county: Annotated[
        str | None,
        typer.Option(
            "--county", help="county code: the whole county, or the one the township lies in"
        ),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="formats, comma-separated: pdf,xlsx,csv")
    ] = "pdf,xlsx",
    jobs: Annotated[int | None, typer.Option("--jobs", help="processes (default: 2)")] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="the account the printing is recorded under")
    ] = None,
) -> None:
    """Make every ledger of every village of a township (or, with --county alone, of the
    whole county) for a month, in parallel: one folder per village in the output folder;
    every file archived and its printing audited."""
    from taizhang.cli import fail, setup_django, user_errors

    if township is None and county is None:
        fail("Say which villages: --township CODE, or --county CODE for the whole county.", 2)
    setup_django()
    from taizhang.ledgers import service

    with user_errors():
        villages = (
            service.villages_of(township, county) if township else service.villages_of(county)
        )
        formats = service.check_formats(output_format.split(","))
        workers = jobs if jobs is not None else service.default_jobs()
        if workers < 1:
            from taizhang.errors import UserError

            raise UserError("--jobs is 1 or more.", status=2)
        account = _account(user)
        with _Progress(len(villages)) as progress:
            results = service.generate_many(
                villages,
                month,
                output,
                formats=formats,
                jobs=workers,
                user=account,
                source="cli",
                progress=progress,
            )
    files = sum(len(r.files) for r in results)
    typer.echo(f"{len(results)} villages, {files} files written to {output}")


def ledger_return_command(
    file: Annotated[Path, typer.Argument(help="the filled-in ledger: .xlsx (or its .csv)")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="check everything, write nothing")
    ] = False,
    errors_json: Annotated[
        Path | None, typer.Option("--errors-json", help="also write the errors as JSON")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="the account the return is recorded under")
    ] = None,
) -> None:
    """Read a filled-in ledger back: every filled row becomes what its ledger declares
    (a life event, a payment, a return visit, a support result, a reported figure).

    The file is one transaction: if any row is invalid nothing is written, every bad row is
    reported as ``row N: column: reason`` and the exit status is 1. A row is recorded once:
    returning it again with the same values changes nothing; with other values it corrects
    the life events it recorded (a correction of a closed month waits for the township's
    approval), and is refused if it recorded anything else. Rows with nothing filled in are pending. The file is
    archived and the return audited.
    """

    from taizhang.cli import fail, fail_on_row_errors, setup_django, user_errors

    if not file.is_file():
        fail(f"{file}: no such file", 1)
    setup_django()
    from django.utils import translation

    from taizhang.ledgers.returns import check_size, return_file

    with translation.override("en"):  # the command speaks English, as every command does
        with user_errors():
            check_size(file.stat().st_size, file.name)  # before reading the file at all
        result = return_file(
            file.read_bytes(), file.name, user=_account(user), dry_run=dry_run, source="cli"
        )
    fail_on_row_errors(file.name, result, errors_json, "nothing recorded")
    for notice in result.notices:
        typer.echo(f"{notice} (pending)", err=True)
    prefix = "dry run, nothing written: " if dry_run else ""
    archived = f" (archived as {result.record.path})" if result.record else ""
    typer.echo(
        f"{prefix}{file.name}: {result.kind} {result.village} {result.month}, "
        f"{result.rows} rows: {result.summary()}{archived}"
    )


class _Progress:
    """A rich progress bar on a terminal; a plain line per village otherwise."""

    def __init__(self, total: int):
        self.total = total
        self.bar = None

    def __enter__(self):
        if sys.stderr.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("ledgers"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} villages"),
                TimeElapsedColumn(),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("ledgers", total=max(self.total, 1))
        return self.update

    def update(self, result, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done)
        else:
            rows = sum(r for _, _, r in result.files)
            typer.echo(
                f"[{done}/{total}] {result.village}: {len(result.files)} files, {rows} rows, "
                f"{result.seconds:.1f} s"
            )

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


def purge_command(
    apply: Annotated[
        bool, typer.Option("--apply", help="remove the files (without it: only list them)")
    ] = False,
    user: Annotated[
        str | None, typer.Option("--user", help="the account the purge is recorded under")
    ] = None,
) -> None:
    """Remove archived ledger files older than the retention period
    (TAIZHANG_RETENTION_MONTHS, 24 by default). Without --apply nothing is removed: the
    files that would be are listed. Their records stay, marked purged; the purge is
    audited. Nothing in the register is ever purged."""
    from taizhang.cli import setup_django, user_errors

    setup_django()
    from taizhang.ledgers import archive

    with user_errors():
        result = archive.purge(apply=apply, user=_account(user) if apply else None, source="cli")
    verb = "removed" if apply else "would remove"
    for r in result.records:
        typer.echo(
            f"{verb} {r.path} ({r.kind} {r.village} {r.month} {r.format}, {r.created_at:%Y-%m-%d})"
        )
    summary = (
        f"{len(result.records)} files ({result.bytes} bytes) stored before {result.cutoff} "
        f"are past the {result.months}-month retention"
    )
    if apply:
        typer.echo(f"{summary}: removed; their records are marked purged.")
    else:
        typer.echo(f"{summary}. Dry run: nothing removed (add --apply to remove them).")


def archived_command(
    file: Annotated[
        str,
        typer.Argument(
            help="the archived file: its record number, or its path in the archive (as "
            "`ledger` and `purge` print it, or under the data folder's archive/)"
        ),
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="the file to write")],
    user: Annotated[
        str | None, typer.Option("--user", help="the account the reading is recorded under")
    ] = None,
) -> None:
    """Copy one archived ledger file out of the archive, as it was made: archived files
    are kept encrypted with the installation's key. The reading is recorded in the audit
    trail (a ledger prints ID and phone numbers)."""
    from taizhang.cli import fail, setup_django, user_errors

    setup_django()
    from taizhang.ledgers import archive

    with user_errors():
        record = archive.find(file)
        content = archive.read_audited(record, user=_account(user), source="cli")
    try:
        output.write_bytes(content)
    except OSError as e:
        fail(f"{output}: {e.strerror or e}", 1)
    typer.echo(
        f"{record.kind} {record.village} {record.month} {record.format} "
        f"({record.direction}, {record.created_at:%Y-%m-%d}): wrote {output}"
    )


def handbook_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="the PDF file to write")] = Path(
        "handbook.pdf"
    ),
) -> None:
    """Write the ledger handbook (台帐手册) as an A4 PDF: what each ledger lists and why, how
    to fill it in and return it, check-in, privacy and the voluntary principle, in Chinese.
    The same text as the page /ledgers/handbook/."""
    from taizhang.cli import fail, setup_django, user_errors

    folder = output.parent
    if not folder.is_dir():
        fail(f"The folder {folder} does not exist: create it or choose another -o.", 1)
    setup_django(migrate=False)  # the handbook holds no one's data: no database needed
    from taizhang.ledgers import handbook

    with user_errors():
        content = handbook.to_pdf()
    try:
        output.write_bytes(content)
    except OSError as e:
        fail(f"{output}: {e.strerror or e}", 1)
    typer.echo(f"wrote {output}")
