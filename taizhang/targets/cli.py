"""``taizhang targets``: the targets in force, from the command line.

Targets are set by importing a file (``taizhang import FILE --kind targets``) or on the
web page; attainment and ranks are printed by ``taizhang indicators --targets``.
"""

from __future__ import annotations

import enum
import io
import json
from typing import Annotated

import typer

from taizhang.lib import cells

COLUMNS = ("indicator", "org", "org_name", "year", "direction", "target", "set_by", "set_at")


class Format(enum.StrEnum):
    json = "json"
    csv = "csv"
    table = "table"


def register(app: typer.Typer) -> None:
    targets = typer.Typer(help="Targets per indicator, org unit and year.", no_args_is_help=True)
    targets.command("list")(list_command)
    app.add_typer(targets, name="targets")


def list_command(
    org: Annotated[str, typer.Option("--org", help="org unit code")],
    year: Annotated[str, typer.Option("--year", help="the year, e.g. 2024")],
    output_format: Annotated[
        Format, typer.Option("--format", help="table, json or csv")
    ] = Format.table,
) -> None:
    """The targets in force for a year that apply inside an org unit: those set on the
    org unit or any unit below it, and those set above it (which apply where no unit has
    its own). Withdrawn targets are not listed."""
    from taizhang.cli import setup_django, user_errors

    setup_django()
    from taizhang.errors import UserError
    from taizhang.orgunits.models import OrgUnit
    from taizhang.targets import rules
    from taizhang.targets.attainment import ancestors
    from taizhang.targets.models import Target

    with user_errors():
        the_year = rules.year(year)
        if not OrgUnit.objects.filter(code=org).exists():
            raise UserError(f"org unit {org} is not in the register")
    targets = (
        (
            Target.objects.filter(active=True, year=the_year).filter(
                org__in=OrgUnit.objects.subtree(org)
            )
            | Target.objects.filter(active=True, year=the_year, org_id__in=ancestors(org))
        )
        .select_related("org", "set_by")
        .order_by("org_id", "indicator")
    )
    records = [
        {
            "indicator": t.indicator,
            "org": t.org_id,
            "org_name": t.org.name,
            "year": t.year,
            "direction": t.direction,
            "target": float(t.value),
            "set_by": t.set_by.username if t.set_by else "",
            "set_at": t.set_at.isoformat(timespec="seconds"),
        }
        for t in targets
    ]
    if output_format is Format.json:
        out = {"org": org, "year": the_year, "targets": records}
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if output_format is Format.csv:
        buffer = io.StringIO()
        writer = cells.DictWriter(buffer, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        typer.echo(buffer.getvalue(), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{org} · {the_year}")
    for column in COLUMNS:
        table.add_column(column, justify="right" if column == "target" else "left")
    for r in records:
        r["direction"] = rules.SYMBOLS[r["direction"]]
        table.add_row(*(str(r[c]) for c in COLUMNS))
    Console().print(table)
