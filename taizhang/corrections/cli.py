"""``taizhang events`` (a person's events with their ids and what became of them) and
``taizhang corrections`` (the requests waiting for approval; approve or refuse one) —
through the same functions as the person's page and the corrections page. Messages are in
English, like the row errors of imports."""

from __future__ import annotations

import json
import sys

import typer

from taizhang.cli import django_in_english as _django

corrections_app = typer.Typer(
    name="corrections",
    help="Corrections waiting for approval: list, approve, refuse.",
    no_args_is_help=True,
)
FORMATS = ("json", "csv", "table")
USER_HELP = "the account the command acts as (its area and role)"


def register(app: typer.Typer) -> None:
    app.command("events")(events_command)
    app.add_typer(corrections_app, name="corrections")


def events_command(
    id_number: str = typer.Argument(..., help="the person's resident ID number"),
    format: str = typer.Option("table", "--format", help="json|csv|table"),
    user: str = typer.Option(None, "--user", help=USER_HELP),
) -> None:
    """List a person's events in date order, each with its event id (for a corrections
    file), its columns, when and by whom it was recorded, and its status: current,
    corrected (corrected_by: the correcting event) or retracted."""
    from taizhang.cli import account, fail

    if format not in FORMATS:
        fail(f"--format {format}: use json, csv or table", 1)
    with _django():
        from taizhang.accounts.scope import write_area
        from taizhang.corrections.history import person_events
        from taizhang.errors import UserError
        from taizhang.lib import idnumber
        from taizhang.register.merges import find_person

        try:
            person = find_person(id_number, area=write_area(account(user)))
        except UserError as e:
            fail(str(e), 1)
        _print(idnumber.normalize(id_number), person_events(person.pk), format)


def _print(id_number: str, rows: list[dict], format: str) -> None:
    if format == "json":
        typer.echo(json.dumps({"id_number": id_number, "events": rows}, ensure_ascii=False))
        return
    from taizhang.corrections.actions import EVENT_COLUMNS
    from taizhang.lib.cells import csv_writer, neutralise

    columns = ["event_id", "event", *EVENT_COLUMNS, "recorded_at", "recorded_by", "status"]
    columns += ["corrected_by", "corrects"]
    columns.remove("child_name")
    if format == "csv":
        writer = csv_writer(sys.stdout)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
        return
    shown = ["event_id", "event", "date", "status", "corrected_by", "recorded_at"]
    typer.echo("\t".join(shown + ["details"]))
    for row in rows:
        details = "; ".join(
            f"{c}={neutralise(row[c])}" for c in EVENT_COLUMNS if c != "date" and row.get(c)
        )
        typer.echo("\t".join([str(row.get(c, "")) for c in shown] + [details]))


@corrections_app.command("list")
def list_command(
    user: str = typer.Option(None, "--user", help=USER_HELP),
    format: str = typer.Option("table", "--format", help="json|table"),
) -> None:
    """The corrections waiting for approval in the acting account's area."""
    from taizhang.cli import account

    with _django():
        from taizhang.corrections.actions import pending_for

        rows = [
            {
                "request": r.pk,
                "event_id": r.event_id,
                "action": r.action,
                "values": r.values,
                "reason": r.reason,
                "village": r.village,
                "months": r.months,
                "requested_at": r.requested_at.isoformat(timespec="seconds"),
            }
            for r in pending_for(account(user))
        ]
        if format == "json":
            typer.echo(json.dumps({"pending": rows}, ensure_ascii=False))
            return
        for r in rows:
            typer.echo(
                f"{r['request']}\tevent {r['event_id']}\t{r['action']}\t{r['village']}\t"
                f"{','.join(r['months'])}\t{json.dumps(r['values'], ensure_ascii=False)}"
            )


@corrections_app.command("approve")
def approve_command(
    request: int = typer.Argument(..., help="the request's number"),
    note: str = typer.Option("", "--note"),
    user: str = typer.Option(None, "--user", help=USER_HELP),
) -> None:
    """Apply a correction waiting for approval."""
    _decide(request, user, note, approve=True)


@corrections_app.command("refuse")
def refuse_command(
    request: int = typer.Argument(..., help="the request's number"),
    note: str = typer.Option(..., "--note", help="why (the requester is told)"),
    user: str = typer.Option(None, "--user", help=USER_HELP),
) -> None:
    """Refuse a correction waiting for approval, saying why."""
    _decide(request, user, note, approve=False)


def _decide(pk: int, user: str | None, note: str, *, approve: bool) -> None:
    from taizhang.cli import account, fail

    with _django():
        from taizhang.corrections import actions
        from taizhang.corrections.models import CorrectionRequest

        acting = account(user)
        journal = CorrectionRequest.objects.filter(pk=pk).first()
        if journal is None:
            fail(f"no correction request {pk}", 1)
        if approve:
            problems = actions.approve(journal, user=acting, note=note)
        else:
            problems = actions.refuse(journal, user=acting, note=note)
        if problems:
            fail("; ".join(problems), 1)
        typer.echo(f"request {pk}: {'applied' if approve else 'refused'}")
