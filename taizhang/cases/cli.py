"""``taizhang cases``: overdue petitions and the case register, from the command line."""

from __future__ import annotations

import io
import json

import typer

from taizhang.lib import cells

FORMATS = ("table", "json", "csv")
OVERDUE_COLUMNS = ("list", "number", "received_on", "org", "state", "due", "days_overdue")


def register(app: typer.Typer) -> None:
    cases = typer.Typer(
        help="Petitions and complaints (信访): overdue lists and the case register.",
        no_args_is_help=True,
    )
    cases.command("overdue")(overdue_command)
    cases.command("report")(report_command)
    app.add_typer(cases, name="cases")


def _check_format(fmt: str) -> None:
    from taizhang.cli import fail

    if fmt not in FORMATS:
        fail(f"--format must be one of {'|'.join(FORMATS)}, not {fmt}", 2)


def _org(code: str) -> str:
    from taizhang.errors import UserError
    from taizhang.orgunits.models import OrgUnit

    if not OrgUnit.objects.filter(code=code).exists():
        raise UserError(f"there is no org unit with code {code}")
    return code


def overdue_command(
    org: str = typer.Option(..., "--org", help="org unit code: its whole subtree is listed"),
    as_of: str = typer.Option(None, "--as-of", help="the day (YYYY-MM-DD; default today)"),
    fmt: str = typer.Option("table", "--format", help="table|json|csv"),
) -> None:
    """Cases overdue on a day: not acknowledged by their acknowledgement deadline
    (``ack``), or not concluded by their conclusion deadline (``conclude``)."""
    from taizhang.cli import setup_django, user_errors

    _check_format(fmt)
    setup_django()

    from taizhang import clock
    from taizhang.cases.reports import overdue
    from taizhang.errors import UserError
    from taizhang.lib.periods import DateError, parse_date

    with user_errors():
        try:
            day = parse_date(as_of) if as_of else clock.today()
        except DateError as e:
            raise UserError(f"--as-of: {e}") from None
        lists = overdue(_org(org), day)
        records = [
            {
                "list": name,
                "number": c.number,
                "received_on": c.received_on.isoformat(),
                "org": c.org_id,
                "state": c.state,
                "due": (c.ack_due if name == "ack" else c.conclude_due).isoformat(),
                "days_overdue": (day - (c.ack_due if name == "ack" else c.conclude_due)).days,
            }
            for name, cases in lists.items()
            for c in cases
        ]
    if fmt == "json":
        out = {"org": org, "as_of": day.isoformat(), "ack": [], "conclude": []}
        for r in records:
            out[r["list"]].append({k: v for k, v in r.items() if k != "list"})
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        _echo_rows(OVERDUE_COLUMNS, [[r[k] for k in OVERDUE_COLUMNS] for r in records], fmt)


REPORT_COLUMNS = (
    "number",
    "received_on",
    "channel",
    "category",
    "org",
    "state",
    "handler",
    "ack_due",
    "acknowledged_on",
    "ack_on_time",
    "conclude_due",
    "closed_on",
    "days_taken",
    "on_time",
    "repeat_of",
)


def report_command(
    org: str = typer.Option(..., "--org", help="org unit code"),
    period: str = typer.Option(..., "--period", help="2026, 2026S1, 2026Q1 or 202601"),
    fmt: str = typer.Option("table", "--format", help="table|json|csv"),
) -> None:
    """The case register (台账) of a period: every case received, open or due to close in
    it, and per township the cases received, accepted, declined, closed on time and late
    (CASE_CLOSURE_RATE's definition), open and overdue at the end of the period."""
    from taizhang.cli import setup_django, user_errors

    _check_format(fmt)
    setup_django()
    from taizhang.cases.reports import TOTAL_KEYS, register_report
    from taizhang.errors import UserError
    from taizhang.lib.periods import PeriodError

    with user_errors():
        try:
            report = register_report(_org(org), period)
        except PeriodError as e:
            raise UserError(f"--period: {e}") from None
    rows = [r.as_json() for r in report["rows"]]
    if fmt == "json":
        out = {
            "org": report["org"],
            "period": report["period"],
            "rows": rows,
            "units": report["units"],
            "total": report["total"],
        }
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    _echo_rows(REPORT_COLUMNS, [[r[k] for k in REPORT_COLUMNS] for r in rows], fmt)
    if fmt == "table":
        typer.echo("")
    units = [*report["units"], {"org": "total", "name": "", **report["total"]}]
    columns = ("org", "name", *TOTAL_KEYS, "closure_rate")
    _echo_rows(columns, [[u[k] for k in columns] for u in units], fmt)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _echo_rows(header, rows, fmt: str) -> None:
    texts = [[_text(v) for v in row] for row in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = cells.csv_writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(texts)
        typer.echo(buffer.getvalue(), nl=False)
        return
    widths = [max([len(h), *(len(r[i]) for r in texts)]) for i, h in enumerate(header)]
    for line in [list(header), *texts]:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
