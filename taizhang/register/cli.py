"""``taizhang duplicate-persons``, ``taizhang merge-persons`` and ``taizhang
unmerge-persons``: thin shells over ``taizhang.register.duplicates`` and ``merges``;
``taizhang rebuild``: every person's derived rows again from the events."""

from __future__ import annotations

import enum
import io
import json
import sys
from typing import Annotated

import typer

from taizhang.lib import cells

CSV_COLUMNS = ["a", "a_name", "a_village", "b", "b_name", "b_village", "reasons", "score"]
USER_HELP = "the account the command runs as (its area and role; default: the system account)"


class Format(enum.StrEnum):
    json = "json"
    csv = "csv"
    table = "table"


def register(app: typer.Typer) -> None:
    app.command("duplicate-persons")(duplicate_persons_command)
    app.command("merge-persons")(merge_persons_command)
    app.command("unmerge-persons")(unmerge_persons_command)
    app.command("rebuild")(rebuild_command)


def _acting(username: str | None):
    """The account, and the area it may name persons in (None: the whole register)."""
    from taizhang.accounts.scope import write_area
    from taizhang.cli import account

    user = account(username)
    return user, write_area(user)


def _may_merge(user) -> None:
    from taizhang.accounts.models import Role
    from taizhang.accounts.scope import user_role
    from taizhang.errors import UserError

    if user_role(user) == Role.VILLAGE_WORKER:
        raise UserError(
            "a village worker cannot merge persons: a township statistician or a county "
            "administrator does"
        )


def duplicate_persons_command(
    org: Annotated[str, typer.Option("--org", help="org unit code, e.g. 410325")],
    output_format: Annotated[
        Format | None,
        typer.Option(
            "--format", help="json, csv or table (default: table on a terminal, else json)"
        ),
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help=USER_HELP)] = None,
) -> None:
    """List likely duplicate registrations among the persons of an org unit (both
    persons inside it), highest score first (docs/cli.md).

    JSON: ``{"pairs": [{"a": ID_NUMBER, "b": ID_NUMBER, "reasons": [...], "score":
    0.85}]}``, ``a`` the one registered first. Under --user, only an org unit inside the
    account's area, and ID numbers as the account may see them (masked for a township
    statistician). Exit status 1 for an unknown org unit.
    """
    from taizhang.cli import setup_django, user_errors

    setup_django()
    from taizhang.errors import UserError
    from taizhang.orgunits.models import OrgUnit
    from taizhang.register.duplicates import likely_duplicates

    with user_errors():
        account, area = _acting(user)
        if not OrgUnit.objects.filter(code=org).exists() or (
            area is not None and not org.startswith(area)
        ):
            raise UserError(f"org unit {org} is not in the register")
        pairs = likely_duplicates(org)
    shown = _shown(pairs, account if area is not None else None)
    chosen = output_format or (Format.table if sys.stdout.isatty() else Format.json)
    if chosen is Format.json:
        document = {"pairs": [p.as_json() | {"a": a, "b": b} for p, (a, b, *_) in shown]}
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
    elif chosen is Format.csv:
        typer.echo(to_csv(shown), nl=False)
    else:
        _print_table(shown)


def _shown(pairs, account) -> list[tuple]:
    """Each pair with what is shown of it: (pair, (a's number, b's number, a's name,
    a's village, b's name, b's village)); numbers masked unless ``account`` (None: the
    system account) may see them."""
    from taizhang.accounts.scope import may_see_identity
    from taizhang.lib import idnumber
    from taizhang.register.models import Person

    persons = Person.objects.only("name", "current_village").in_bulk(
        [p.a for p in pairs] + [p.b for p in pairs]
    )

    def number(pk: int, text: str) -> str:
        if account is None or may_see_identity(account, persons[pk]):
            return text
        return idnumber.mask(text)

    return [
        (
            p,
            (
                number(p.a, p.a_id_number),
                number(p.b, p.b_id_number),
                persons[p.a].name,
                persons[p.a].current_village,
                persons[p.b].name,
                persons[p.b].current_village,
            ),
        )
        for p in pairs
    ]


def to_csv(shown: list[tuple]) -> str:
    """The pairs as CSV (``CSV_COLUMNS``), every text cell neutralised (lib/cells.py)."""
    out = io.StringIO()
    writer = cells.csv_writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p, (a, b, a_name, a_village, b_name, b_village) in shown:
        writer.writerow([a, a_name, a_village, b, b_name, b_village, "; ".join(p.reasons), p.score])
    return out.getvalue()


def _print_table(shown: list[tuple]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(shown)} likely duplicate pairs")
    for header in ("A", "name", "village", "B", "name", "village", "reasons", "score"):
        table.add_column(header, justify="right" if header == "score" else "left")
    for p, (a, b, a_name, a_village, b_name, b_village) in shown:
        table.add_row(
            a, a_name, a_village, b, b_name, b_village, "; ".join(p.reasons), f"{p.score:.2f}"
        )
    Console().print(table)


def merge_persons_command(
    keep: Annotated[str, typer.Argument(help="the ID number of the record to keep")],
    drop: Annotated[str, typer.Argument(help="the ID number of the duplicate record")],
    reason: Annotated[str, typer.Option("--reason", help="why: recorded with the merge")],
    user: Annotated[str | None, typer.Option("--user", help=USER_HELP)] = None,
) -> None:
    """Merge a duplicate registration (DROP) into the person's other record (KEEP).

    DROP's events, the children it is the mother of and every record naming it (benefit
    enrolments and payments, petitions, ledger attendance, family support) move to KEEP;
    an event KEEP already has stays with DROP, where it counts nowhere. DROP is then
    merged: it counts nowhere, and every figure counts the person once. One transaction,
    journaled and audited; ``taizhang unmerge-persons`` undoes it.

    Refused (exit status 1, nothing written) for an unknown ID number (or one outside
    the --user account's area), the same person twice, a person already merged, persons
    of different sex, or a merged record that would contradict itself; a village
    worker's account cannot merge.
    """
    from taizhang.cli import setup_django, user_errors

    setup_django()
    from taizhang.register import merges

    with user_errors():
        account, area = _acting(user)
        _may_merge(account)
        kept = merges.find_person(keep, area=area)
        dropped = merges.find_person(drop, area=area)
        merge = merges.merge_persons(kept, dropped, reason=reason, user=account, source="cli")
    moved, staying = len(merge.journal["moved"]), len(merge.journal["kept"])
    typer.echo(
        f"merge {merge.pk}: {dropped.name} ({drop}) merged into {kept.name} ({keep}); "
        f"{moved} records moved, {staying} events already recorded for {kept.name} "
        "left with the duplicate"
    )


def unmerge_persons_command(
    merge_id: Annotated[int, typer.Argument(help="the merge's number")],
    reason: Annotated[str, typer.Option("--reason", help="why: recorded with the undo")],
    user: Annotated[str | None, typer.Option("--user", help=USER_HELP)] = None,
) -> None:
    """Undo a merge: exactly the records it moved go back to the duplicate registration,
    which is a person of its own again. Journaled and audited; refused (exit status 1,
    nothing written) for an unknown merge, one already undone, or one whose kept person
    has since been merged again."""
    from taizhang.cli import setup_django, user_errors

    setup_django()
    from taizhang.register import merges

    with user_errors():
        account, area = _acting(user)
        _may_merge(account)
        merge = merges.unmerge_persons(
            merge_id, reason=reason, user=account, source="cli", area=area
        )
    typer.echo(
        f"merge {merge.pk} undone: {merge.drop.name} is a person of their own again; "
        f"{len(merge.journal['moved'])} records moved back"
    )


def rebuild_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="report what would change, write nothing")
    ] = False,
) -> None:
    """Rebuild every person's derived rows (residence, marriages, method use, births) from
    the events, and say how many persons' rows were out of step with them (0 on a sound
    register: the rows are a pure function of the events). Run it after restoring a
    database by other means than ``taizhang restore``, or when an update says so."""
    from taizhang.cli import setup_django

    setup_django()
    from django.db import transaction

    from taizhang.register import actions

    class _DryRun(Exception):
        pass

    try:
        with transaction.atomic():
            result = actions.rebuild_all()
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    prefix = "dry run, nothing written: " if dry_run else ""
    typer.echo(
        f"{prefix}{result['persons']} persons rebuilt; "
        f"{result['changed']} had derived rows out of step with their events"
    )
