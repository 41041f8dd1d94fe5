"""``taizhang indicators``: the demographic indicators of an org unit over a period.

Output formats: ``json`` (the "Numbers" shape of docs/formats.md, a list with
``--by``), ``csv`` (one row per org unit and indicator) and ``table`` (a rich
table for reading on screen). Without ``--format`` the output is a table on a
terminal and JSON when it goes to a file or a pipe.
"""

from __future__ import annotations

import enum
import io
import json
import sys
from typing import Annotated

import typer

from taizhang.cli import setup_django, user_errors
from taizhang.lib import cells

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
# Added by --targets.
TARGET_COLUMNS = ["target", "direction", "attained", "rank"]


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
    period: Annotated[
        list[str],
        typer.Option(
            "--period",
            help="2024, 2024S1, 2024Q1 or 202401 (repeat for several; 2024:all is the year "
            "with its semesters, quarters and months)",
        ),
    ],
    indicator: Annotated[
        list[str] | None,
        typer.Option(
            "--indicator",
            help="an indicator code (repeat, or separate with commas), or all; the "
            "demographic set if none",
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
    targets: Annotated[
        bool,
        typer.Option(
            "--targets",
            help="add each figure's target, direction, whether it is attained and, with "
            "--by, its rank (a year's figures only)",
        ),
    ] = False,
) -> None:
    """Compute demographic indicators (docs/indicators.md) for an org unit and a period.

    With several periods (--period repeated, or 2025:all) the JSON is a list with one
    object (with --by, one list) per period, in the order given.

    Every figure is counted from the register's records at the time of the call.
    A ratio whose denominator is 0 has no value (null in JSON, empty in CSV).
    Exit status 1 for an unknown org unit, period or indicator; 2 for a --by level
    that is not below the org unit, or --targets with a period shorter than a year.

    With --targets each indicator entry also has ``target`` and ``direction`` (the
    org unit's own target for the year, else the nearest one above it; null if none),
    ``attained`` (null without a target or a value) and, with --by, ``rank`` among the
    org units listed (1 = best in the target's direction, ties share a rank, null for
    no value); each org unit has ``score``, the number of targets attained.
    """
    setup_django()
    from taizhang.indicators.engine import compute_many, parse_periods

    codes = [c for option in indicator or [] for c in option.split(",") if c.strip()] or None
    level = by.value if by else None
    with user_errors():
        period_codes = parse_periods(period)
        computed = compute_many(org, period_codes, codes, [level])
        per_period = [computed[code, level] for code in period_codes]
        if targets:
            per_period = [
                _with_targets(result, code, ranked=by is not None)
                for code, result in zip(period_codes, per_period, strict=True)
            ]
    result = per_period[0] if len(per_period) == 1 else per_period
    chosen = output_format or (Format.table if sys.stdout.isatty() else Format.json)
    if chosen is Format.json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    each = [r if isinstance(r, list) else [r] for r in per_period]
    if chosen is Format.csv:
        typer.echo(to_csv([r for results in each for r in results], targets=targets), nl=False)
    else:
        for results in each:
            _print_table(results, wide=by is not None, targets=targets)


def _with_targets(result: dict | list[dict], period: str, *, ranked: bool) -> dict | list[dict]:
    """``result`` with the targets of the period's year (``taizhang.targets.attainment``)."""
    from taizhang.errors import UserError
    from taizhang.lib.periods import parse
    from taizhang.targets.attainment import annotate

    the_period = parse(period)
    if the_period.kind != "year":
        raise UserError(
            f"--targets compares a year's figures with that year's targets: "
            f"give --period as a year ({the_period.year}), not {the_period.code}.",
            status=2,
        )
    annotated = annotate(result if ranked else [result], the_period.year, ranked=ranked)
    return annotated if ranked else annotated[0]


def to_csv(results: list[dict], *, targets: bool = False) -> str:
    """The results as CSV text with the columns of ``CSV_COLUMNS`` (and ``TARGET_COLUMNS``
    with ``targets``); no value is an empty cell."""
    from taizhang.indicators.definitions import INDICATORS_BY_CODE

    names = _org_names([r["org"] for r in results])
    out = io.StringIO()
    writer = cells.csv_writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS + (TARGET_COLUMNS if targets else []))
    for result in results:
        for entry in result["indicators"]:
            extra = [_cell(entry.get(key)) for key in TARGET_COLUMNS] if targets else []
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
                    *extra,
                ]
            )
    return out.getvalue()


def _cell(value: int | float | str | bool | None) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _org_names(codes: list[str]) -> dict[str, str]:
    from taizhang.orgunits.models import OrgUnit

    return dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "name"))


def _print_table(results: list[dict], *, wide: bool, targets: bool = False) -> None:
    """One org unit: a row per indicator. Several (``--by``): a row per org unit and a
    column per indicator, to compare them at a glance. With ``targets``: the target and
    ✓/✗ per figure, and with ``--by`` the rank (#n) and a score column."""
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
                *((_target_shown(entry), _attained_shown(entry)) if targets else ()),
            )
            for entry in result["indicators"]
        ]
        headers = ("code", "indicator", "value", "numerator", "denominator", "unit")
        headers += ("target", "attained") if targets else ()
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
    if targets:
        table.add_column("score", justify="right")
    for result in results:
        cells = [_ranked_shown(e) if targets else _shown(e["value"]) for e in result["indicators"]]
        table.add_row(
            result["org"],
            names.get(result["org"], ""),
            *cells,
            *((str(result["score"]),) if targets else ()),
        )
    console.print(table)


def _target_shown(entry: dict) -> str:
    if entry["target"] is None:
        return "—"
    return f"{'≥' if entry['direction'] == 'ge' else '≤'} {_shown(entry['target'])}"


def _attained_shown(entry: dict) -> str:
    return {True: "✓", False: "✗", None: "—"}[entry["attained"]]


def _ranked_shown(entry: dict) -> str:
    """``8.36 ✓ #1``: the value, ✓ or ✗ when it was compared with a target, and the rank."""
    parts = [_shown(entry["value"])]
    if entry["attained"] is not None:
        parts.append(_attained_shown(entry))
    if entry.get("rank") is not None:
        parts.append(f"#{entry['rank']}")
    return " ".join(parts)


def _shown(number: int | float | None) -> str:
    if number is None:
        return "—"
    if isinstance(number, float):
        return f"{number:.2f}" if number != int(number) else f"{number:.1f}"
    return str(number)
