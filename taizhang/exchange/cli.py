"""``taizhang export``: aggregate values for another system, as ADX XML or DHIS2 JSON."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated

import typer

from taizhang.cli import setup_django, user_errors
from taizhang.errors import UserError
from taizhang.indicators.cli import Level


class Format(enum.StrEnum):
    adx = "adx"
    dhis2_json = "dhis2-json"


def register(app: typer.Typer) -> None:
    """Add the ``export`` command to the ``taizhang`` app."""
    app.command("export")(export_command)


def export_command(
    output_format: Annotated[Format, typer.Option("--format", help="adx or dhis2-json")],
    org: Annotated[str, typer.Option("--org", help="org unit code, e.g. 410325")],
    period: Annotated[str, typer.Option("--period", help="2024, 2024S1, 2024Q1 or 202401")],
    indicator: Annotated[
        list[str] | None,
        typer.Option(
            "--indicator",
            help="an indicator code (repeat, or separate with commas); the demographic set if none",
        ),
    ] = None,
    by: Annotated[
        Level | None, typer.Option("--by", help="one group per org unit of this level")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help="JSON file of the receiver's codes, over the default"),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="write to this file, not stdout")
    ] = None,
    validate: Annotated[
        bool, typer.Option("--validate", help="check the ADX document against adx_loose.xsd")
    ] = False,
) -> None:
    """Export indicator values of an org unit and a period for another system.

    ADX XML (IHE QRPH ADX, urn:ihe:qrph:adx:2015) or DHIS2 dataValueSets JSON. The
    values are the indicator engine's, each sent with its numerator and denominator
    when the mapping names data elements for them; a value that does not exist
    (denominator 0) is left out. Exit status 1 for an unknown org unit, period or
    indicator, a bad mapping file or a failed --validate; 2 for a bad --format,
    --validate without --format adx, or a --by level that is not below the org unit.
    """
    setup_django()
    from taizhang.exchange.adx import export_adx, validate_adx
    from taizhang.exchange.dhis2 import export_dhis2
    from taizhang.exchange.mapping import load_mapping

    codes = [c for option in indicator or [] for c in option.split(",") if c.strip()] or None
    level = by.value if by else None
    with user_errors():
        if validate and output_format is not Format.adx:
            raise UserError("--validate checks ADX documents; use it with --format adx.", status=2)
        the_mapping = load_mapping(mapping)
        if output_format is Format.adx:
            document = export_adx(org, period, codes, level, the_mapping)
            if validate:
                validate_adx(document)
            text = document.decode("utf-8") + "\n"
        else:
            data_value_set = export_dhis2(org, period, codes, level, the_mapping)
            text = json.dumps(data_value_set, ensure_ascii=False, indent=2) + "\n"
        if output is None:
            typer.echo(text, nl=False)
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as e:
            raise UserError(f"cannot write {output}: {e.strerror}.") from None
    typer.echo(f"Wrote {output_format.value} export of {org} for {period} to {output}.")
