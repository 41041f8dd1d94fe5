"""``taizhang audit``: the data-quality audit of an org unit for a year."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer


class Format(enum.StrEnum):
    json = "json"
    table = "table"
    pdf = "pdf"


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)


def audit_command(
    org: Annotated[str, typer.Option("--org", help="org unit code, e.g. 410325")],
    period: Annotated[str, typer.Option("--period", help="a year, e.g. 2024")],
    output_format: Annotated[
        Format | None,
        typer.Option("--format", help="json, table or pdf (default: table on a terminal)"),
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="file to write")] = None,
) -> None:
    """Audit the register of an org unit for a year (澄清底子): eight checks, each with its
    status (pass/warn/fail), thresholds and findings naming the village or township, and
    the under-registration estimate per township from the census base carried forward.

    JSON (docs/formats.md) goes to the terminal unless -o names a file; the PDF (A4, for the
    county meeting) needs -o. Thresholds: ``TAIZHANG_AUDIT`` or ``taizhang-data/audit.toml``.
    """
    from django.utils.translation import gettext as _

    from taizhang.cli import fail, setup_django, user_errors

    setup_django()
    from taizhang.audit.actions import record as audit_trail
    from taizhang.quality.checks import audit
    from taizhang.quality.render import print_table, to_json, to_pdf

    chosen = output_format or (Format.table if sys.stdout.isatty() and not output else Format.json)
    if chosen is Format.pdf and output is None:
        fail(_("a pdf audit is written to a file: add -o FILE."))
    with user_errors():
        result = audit(org, period)
    if chosen is Format.table:
        print_table(result)
        return
    body = to_json(result).encode("utf-8") if chosen is Format.json else to_pdf(result)
    if output is None:
        typer.echo(body.decode("utf-8"))
        return
    output.write_bytes(body)
    audit_trail(
        "audit_export",
        object_type="audit",
        object_id=result["period"],
        org_code=result["org"],
        source="cli",
        format=chosen.value,
    )
    typer.echo(
        _("audit %(org)s %(period)s: wrote %(file)s")
        % {"org": result["org"], "period": result["period"], "file": output}
    )
