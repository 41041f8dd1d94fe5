"""``taizhang rebuild-figures``: make the maintained figures again from the register."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``rebuild-figures`` command to the ``taizhang`` app."""
    app.command("rebuild-figures")(rebuild_figures_command)


SHOWN = 20  # differences printed one by one; the rest are counted


def rebuild_figures_command(
    org: Annotated[
        str | None,
        typer.Option("--org", help="only this org unit's figures (a township, a village)"),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="compare only: write nothing, exit 1 on any difference"),
    ] = False,
) -> None:
    """Make the maintained figures (counts per org unit and month that every write keeps up
    to date) again from the register's residence, union and method spells and births, and
    name every stored count that differed from the recomputed one.

    Run it after an upgrade that says so, or after restoring a database by other means
    than ``taizhang restore``; until it has run once, figures are counted from the
    register's tables (the same numbers, more slowly). Without --org it also moves the
    months kept to this year's (from seven years back to next year). Exit status 1 with
    --check when a stored count differs.
    """
    from taizhang.cli import progress_bar, setup_django, user_errors

    setup_django()
    from taizhang.figures import store
    from taizhang.indicators.engine import get_org_unit

    with user_errors():
        if org:
            org = get_org_unit(org).code
        with progress_bar() as bar:
            progress = (lambda done, total: bar("persons", done, total)) if bar else None
            result = store.rebuild(org=org, check_only=check, progress=progress)
    for difference in result.differences[:SHOWN]:
        typer.echo(difference.describe())
    if len(result.differences) > SHOWN:
        typer.echo(f"... and {len(result.differences) - SHOWN} more")
    where = f" of {org}" if org else ""
    verb = "recomputed" if check else "written"
    compared = (
        f"{len(result.differences)} differed from the stored ones"
        if result.compared
        else "none were kept for these months before"
    )
    typer.echo(
        f"{result.cells} counts{where} {verb} for the months {result.first}–{result.last}; "
        f"{compared}"
    )
    if check and result.differences:
        raise typer.Exit(1)
