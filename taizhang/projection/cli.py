"""``taizhang project``: the cohort-component population projection.

Two sources of inputs:

- the register: ``--org CODE --base-year YEAR [--years N]`` measures the base
  population, fertility, mortality, the sex ratio at birth and migration of the org
  unit (``taizhang.projection.register``) and projects them by single year of age;
- a file: ``--inputs FILE.json`` (a census base and a published life table, the shape
  of docs/formats.md) is projected as given, in steps of 1 or 5 years.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer


class Format(enum.StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    table = "table"


def register(app: typer.Typer) -> None:
    """Add the ``project`` command to the ``taizhang`` app."""
    app.command("project")(project_command)


def project_command(
    org: Annotated[str | None, typer.Option("--org", help="org unit code, e.g. 410325")] = None,
    base_year: Annotated[
        int | None,
        typer.Option("--base-year", help="the base population is counted at the end of it"),
    ] = None,
    years: Annotated[int, typer.Option("--years", help="years to project (1-100)")] = 30,
    inputs: Annotated[
        Path | None,
        typer.Option("--inputs", help="project the inputs of this JSON file instead"),
    ] = None,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            help="medium, low, high or zero-migration (repeat for several; default medium)",
        ),
    ] = None,
    scenarios: Annotated[
        str | None, typer.Option("--scenarios", help="all: every scenario side by side")
    ] = None,
    low: Annotated[
        float, typer.Option("--low-factor", help="the low scenario's fertility: measured × this")
    ] = 0.8,
    high: Annotated[
        float, typer.Option("--high-factor", help="the high scenario's fertility: measured × this")
    ] = 1.2,
    low_tfr: Annotated[
        float | None,
        typer.Option("--low-tfr", help="the low scenario at this total fertility instead"),
    ] = None,
    high_tfr: Annotated[
        float | None,
        typer.Option("--high-tfr", help="the high scenario at this total fertility instead"),
    ] = None,
    open_age: Annotated[
        int, typer.Option("--open-age", help="the last age group: 85 (85+) or 100 (100+)")
    ] = 85,
    by_age: Annotated[
        bool, typer.Option("--by-age", help="add the population by sex and single year of age")
    ] = False,
    output_format: Annotated[
        Format | None,
        typer.Option(
            "--format", help="json, csv, xlsx or table (default: table on a terminal, else json)"
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="file to write")] = None,
) -> None:
    """Project the population of an org unit from the register, or of given inputs.

    From the register, per year and scenario: the population at the end of the year,
    the births and deaths in it, women 15–49 and women 20–29 (and their share of women
    15–49); with --by-age the population by sex and single year of age. Every
    assumption (where each rate comes from, and why) is printed with the figures. The
    scenarios: medium (as measured), low and high (measured fertility × --low-factor /
    --high-factor, or at --low-tfr / --high-tfr), zero-migration.

    From --inputs FILE.json: the female and male population of each age group at the
    end of each step and the births in it, as docs/formats.md shows.

    Exit status 1 for an unknown org unit, a base year not yet over, or a bad inputs
    file (every problem named by its field); 2 for a wrong combination of options.
    """
    from taizhang.cli import fail, user_errors
    from taizhang.projection.inputs import _

    if inputs is not None and (org is not None or base_year is not None):
        fail(_("give either --inputs FILE or --org and --base-year, not both."), 2)
    if inputs is None and (org is None or base_year is None):
        fail(_("give --org CODE and --base-year YEAR (or --inputs FILE.json)."), 2)
    if scenarios is not None and scenarios.strip().lower() != "all":
        fail(
            _("--scenarios takes all, not %(value)r; name single ones with --scenario.")
            % {"value": scenarios},
            2,
        )
    if open_age not in (85, 100):
        fail(_("--open-age must be 85 or 100, not %(age)s.") % {"age": open_age}, 2)
    chosen_format = output_format or (
        Format.table if output is None and sys.stdout.isatty() else Format.json
    )
    if chosen_format is Format.xlsx and output is None:
        fail(_("an xlsx projection is written to a file: add -o FILE."), 2)

    with user_errors():
        if inputs is not None:
            body = _from_inputs(inputs, chosen_format)
        else:
            names = ["all"] if scenarios else scenario
            body = _from_register(
                org,
                base_year,
                years,
                names,
                chosen_format,
                by_age=by_age,
                open_age=open_age,
                factors=(low, high, low_tfr, high_tfr),
            )
    if output is None:
        typer.echo(body, nl=False)
        return
    if isinstance(body, str):
        output.write_text(body, encoding="utf-8")
    else:
        output.write_bytes(body)
    typer.echo(_("wrote %(path)s") % {"path": output})


def _from_inputs(path: Path, chosen: Format) -> str | bytes:
    from taizhang.projection import render
    from taizhang.projection.inputs import inputs_report, read_inputs

    inputs = read_inputs(path)
    result = inputs_report(inputs)
    ages = [int(a) for a in inputs.ages]
    if chosen is Format.json:
        return render.to_json(result) + "\n"
    if chosen is Format.csv:
        return render.inputs_to_csv(result, ages, inputs.step)
    if chosen is Format.xlsx:
        return render.inputs_to_xlsx(result, ages, inputs.step)
    return render.inputs_to_table(result, ages, inputs.step)


def _from_register(
    org: str,
    base_year: int,
    years: int,
    names: list[str] | None,
    chosen: Format,
    *,
    by_age: bool,
    open_age: int,
    factors: tuple,
) -> str | bytes:
    from taizhang.cli import setup_django

    setup_django()
    from taizhang.projection import render
    from taizhang.projection.build import build_projection, scenarios

    low, high, low_tfr, high_tfr = factors
    chosen_scenarios = scenarios(names, low=low, high=high, low_tfr=low_tfr, high_tfr=high_tfr)
    report = build_projection(
        org, base_year, years, chosen_scenarios, open_age=open_age, by_age=by_age
    )
    if chosen is Format.json:
        return render.to_json(report) + "\n"
    if chosen is Format.csv:
        return render.to_csv(report, by_age=by_age)
    if chosen is Format.xlsx:
        return render.to_xlsx(report, by_age=by_age)
    return render.to_table(report)
