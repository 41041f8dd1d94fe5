"""``taizhang benefits``: propose candidates, run a month, list arrears, the report per
township and the schemes in force — thin shells over ``taizhang.benefits.actions``."""

from __future__ import annotations

import dataclasses
import enum
import io
import json
from typing import Annotated

import typer

from taizhang import clock
from taizhang.cli import setup_django, user_errors
from taizhang.lib import cells

benefits_app = typer.Typer(
    help="Benefit schemes (奖励扶助, 特别扶助, 育儿补贴): candidates, payments, arrears, report.",
    no_args_is_help=True,
)


class Format(enum.StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


Org = Annotated[str, typer.Option("--org", help="org unit code, e.g. 410325")]
Month = Annotated[str, typer.Option("--month", help="YYYYMM, e.g. 202603")]


def register(app: typer.Typer) -> None:
    app.add_typer(benefits_app, name="benefits")


def _account():
    from taizhang.cli import account

    return account()


def _today():

    return clock.today()


@benefits_app.command("propose")
def propose_command(
    scheme: Annotated[str, typer.Option("--scheme", help="scheme code, e.g. reward")],
    org: Org,
    month: Month,
) -> None:
    """Propose every person of the org unit due the scheme for the month and not yet
    proposed, enrolled or rejected; a township verifies each proposal."""
    setup_django()
    from taizhang.benefits import actions
    from taizhang.benefits.schemes import parse_month

    with user_errors():
        n = actions.propose(scheme, org, parse_month(month), user=_account(), today=_today())
    typer.echo(f"{scheme} {org} {month}: {n} proposed")


@benefits_app.command("run")
def run_command(org: Org, month: Month) -> None:
    """End the enrolments whose beneficiary died, moved out or is no longer due, and list
    every missing payment up to the month (idempotent)."""
    setup_django()
    from taizhang.benefits import actions
    from taizhang.benefits.schemes import parse_month

    with user_errors():
        r = actions.run_month(org, parse_month(month), user=_account(), today=_today())
    ended = ", ".join(f"{k} {v}" for k, v in sorted(r.ended.items())) or "none"
    typer.echo(
        f"{org} {month}: {r.checked} enrolments checked, {r.payments} payments listed "
        f"({r.amount} yuan), ended: {ended}"
    )


@benefits_app.command("arrears")
def arrears_command(
    org: Org,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD (default: today)")
    ] = None,
) -> None:
    """Payments due by the date and not paid (due, returned, failed), per beneficiary."""
    setup_django()
    from taizhang.benefits import actions
    from taizhang.benefits.models import yuan
    from taizhang.errors import UserError
    from taizhang.lib.periods import DateError, parse_date

    with user_errors():
        try:
            day = parse_date(as_of) if as_of else _today()
        except DateError as e:
            raise UserError(f"--as-of: {e}") from None
        rows = actions.arrears(org, day)
    grand = 0
    for e, payments, total in rows:
        grand += total
        owed = " ".join(f"{p.period}({p.status})" for p in payments)
        typer.echo(f"{e.village}\t{e.scheme}\t{e.person.name}\t{yuan(total)}\t{owed}")
    typer.echo(f"{len(rows)} beneficiaries owed {yuan(grand)} yuan as of {day}")


@benefits_app.command("report")
def report_command(
    org: Org,
    period: Annotated[str, typer.Option("--period", help="2026, 2026Q1 or 202603")],
    output_format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """The benefits report per township and scheme, with a total per scheme (township
    empty): enrolled at the period end, new, ended by reason, payments due in the period,
    paid by the due date, paid late, unpaid, amounts due and paid (yuan)."""
    setup_django()
    from taizhang.benefits import actions

    with user_errors():
        rows = [r.as_dict() for r in actions.report(org, period)]
    if output_format == Format.json:
        typer.echo(json.dumps({"org": org, "period": period, "rows": rows}, ensure_ascii=False))
        return
    out = io.StringIO()
    writer = cells.DictWriter(
        out,
        fieldnames=list(rows[0]) if rows else [],
        delimiter="," if output_format == Format.csv else "\t",
        lineterminator="\n",
    )
    writer.writeheader()
    writer.writerows(rows)
    typer.echo(out.getvalue(), nl=False)


@benefits_app.command("schemes")
def schemes_command() -> None:
    """The schemes in force (defaults, the TAIZHANG_BENEFIT_SCHEMES setting, benefits.toml)."""
    setup_django(migrate=False)
    from taizhang.benefits.schemes import schemes

    with user_errors():
        found = schemes()
    for s in found.values():
        fields = ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(s).items() if k != "code")
        typer.echo(f"{s.code}: {fields}")
