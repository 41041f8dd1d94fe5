"""``taizhang indicators``: the demographic indicators of an org unit over a period.

Output formats: ``json`` (the "Numbers" shape of CONTRACTS.md, a list with
``--by``), ``csv`` (one row per org unit and indicator) and ``table`` (a rich
table for reading on screen). Without ``--format`` the output is a table on a
terminal and JSON when it goes to a file or a pipe.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import sys
from typing import Annotated

import typer

from taizhang.cli import setup_django, user_errors

CSV_COLUMNS = [
    "org",
    "org_name",
    "period",
    "code",
    "name",
    "value",
    "numerator",
    "denominator",
    "unit",
]


class Level(enum.StrEnum):
    township = "township"
    village = "village"


class Format(enum.StrEnum):
    json = "json"
    csv = "csv"
    table = "table"


def register(app: typer.Typer) -> None:
    """Add the ``indicators`` command to the ``taizhang`` app."""
    app.command("indicators")(indicators_command)


def indicators_command(
    org: Annotated[str, typer.Option("--org", help="org unit code, e.g. 410325")],
    period: Annotated[str, typer.Option("--period", help="2024, 2024S1, 2024Q1 or 202401")],
    indicator: Annotated[
        list[str] | None,
        typer.Option(
            "--indicator", help="an indicator code (repeat, or separate with commas); all if none"
        ),
    ] = None,
    by: Annotated[
        Level | None, typer.Option("--by", help="one result per org unit of this level")
    ] = None,
    output_format: Annotated[
        Format | None,
        typer.Option(
            "--format", help="json, csv or table (default: table on a terminal, else json)"
        ),
    ] = None,
) -> None:
    """Compute demographic indicators (INDICATORS.md) for an org unit and a period.

    Every figure is counted from the register's records at the time of the call.
    A ratio whose denominator is 0 has no value (null in JSON, empty in CSV).
    Exit status 1 for an unknown org unit, period or indicator; 2 for a --by level
    that is not below the org unit.
    """
    setup_django()
    from taizhang.indicators.engine import compute

    codes = [c for option in indicator or [] for c in option.split(",") if c.strip()] or None
    with user_errors():
        result = compute(org, period, codes, by.value if by else None)
    results = result if isinstance(result, list) else [result]
    chosen = output_format or (Format.table if sys.stdout.isatty() else Format.json)
    if chosen is Format.json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    elif chosen is Format.csv:
        typer.echo(to_csv(results), nl=False)
    else:
        _print_table(results, wide=by is not None)


def to_csv(results: list[dict]) -> str:
    """The results as CSV text with the columns of ``CSV_COLUMNS``; no value is an empty cell."""
    from taizhang.indicators.definitions import INDICATORS_BY_CODE

    names = _org_names([r["org"] for r in results])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for result in results:
        for entry in result["indicators"]:
            writer.writerow(
                [
                    result["org"],
                    names.get(result["org"], ""),
                    result["period"],
                    entry["code"],
                    INDICATORS_BY_CODE[entry["code"]].name_zh,
                    _cell(entry["value"]),
                    _cell(entry["numerator"]),
                    _cell(entry["denominator"]),
                    entry["unit"],
                ]
            )
    return out.getvalue()


def _cell(number: int | float | None) -> str:
    return "" if number is None else str(number)


def _org_names(codes: list[str]) -> dict[str, str]:
    from taizhang.orgunits.models import OrgUnit

    return dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "name"))


def _print_table(results: list[dict], *, wide: bool) -> None:
    """One org unit: a row per indicator. Several (``--by``): a row per org unit and a
    column per indicator, to compare them at a glance."""
    from rich.console import Console
    from rich.table import Table

    from taizhang.indicators.definitions import INDICATORS_BY_CODE

    names = _org_names([r["org"] for r in results])
    console = Console()
    if not wide:
        (result,) = results
        rows = [
            (
                entry["code"],
                INDICATORS_BY_CODE[entry["code"]].name_zh,
                _shown(entry["value"]),
                _shown(entry["numerator"]),
                _shown(entry["denominator"]),
                entry["unit"],
            )
            for entry in result["indicators"]
        ]
        headers = ("code", "indicator", "value", "numerator", "denominator", "unit")
        table = Table(title=f"{result['org']} {names.get(result['org'], '')} · {result['period']}")
        for i, header in enumerate(headers):
            # Codes and numbers are read whole; on a narrow terminal the names give way.
            whole = header not in ("indicator", "unit")
            width = max([len(header), *(len(row[i]) for row in rows)]) if whole else None
            table.add_column(
                header,
                justify="right" if header in ("value", "numerator", "denominator") else "left",
                no_wrap=whole,
                min_width=width,
            )
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    period = results[0]["period"] if results else ""
    table = Table(title=f"{period}")
    table.add_column("org")
    table.add_column("name")
    codes = [entry["code"] for entry in results[0]["indicators"]] if results else []
    for code in codes:
        table.add_column(code, justify="right")
    for result in results:
        table.add_row(
            result["org"],
            names.get(result["org"], ""),
            *(_shown(entry["value"]) for entry in result["indicators"]),
        )
    console.print(table)


def _shown(number: int | float | None) -> str:
    if number is None:
        return "—"
    if isinstance(number, float):
        return f"{number:.2f}" if number != int(number) else f"{number:.1f}"
    return str(number)
