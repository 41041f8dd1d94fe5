"""``taizhang report NAME``: a report form for an org unit and a period, as JSON, XLSX or PDF."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer


class Format(enum.StrEnum):
    json = "json"
    xlsx = "xlsx"
    pdf = "pdf"


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)


def report_command(
    name: Annotated[
        str,
        typer.Argument(
            help="population-change (month), contraception (quarter), annual-summary (year)"
        ),
    ],
    period: Annotated[
        str, typer.Option("--period", help="202403, 2024Q1 or 2024, as the report asks")
    ],
    org: Annotated[
        str | None, typer.Option("--org", help="org unit code (default: the top of the tree)")
    ] = None,
    output_format: Annotated[
        Format, typer.Option("--format", help="json, xlsx or pdf")
    ] = Format.json,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="file to write")] = None,
) -> None:
    """Fill a report form from the indicator engine: one column per sub-unit of the org
    unit (the townships of a county, the villages of a township) and one for the org
    unit; the annual summary lists every indicator with its target. JSON goes to the
    terminal when no file is named; XLSX and PDF need ``-o FILE``."""
    from taizhang.cli import fail, setup_django, user_errors

    setup_django()
    from taizhang.reports.build import build_report, default_org
    from taizhang.reports.render import render

    with user_errors():
        report = build_report(name, org or default_org(), period)
    if output is None:
        if output_format is not Format.json:
            fail(f"a {output_format.value} report is written to a file: add -o FILE.")
        typer.echo(render(report, "json").decode("utf-8"))
        return
    output.write_bytes(render(report, output_format.value))
    typer.echo(f"{report['report']} {report['org']} {report['period']}: wrote {output}")
