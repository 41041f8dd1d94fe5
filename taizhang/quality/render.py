"""Laying an audit out: JSON (the result as it is), a table for the terminal, and an A4
PDF for the county meeting (WeasyPrint, Noto Sans CJK SC embedded, as the report forms)."""

from __future__ import annotations

import json

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from taizhang import clock
from taizhang.orgunits.models import OrgUnit, prefix_range
from taizhang.quality.checks import check_name, check_short_name, group_name
from taizhang.quality.scorecard import (
    STATUS_LABELS,
    QualityRow,
    quality_cells,
    quality_headers,
    register_quality,
    scorecard,
)

STATUS_COLOURS = {"pass": "green", "warn": "yellow", "fail": "red"}


def to_json(result: dict) -> str:
    return json.dumps(result, ensure_ascii=False, indent=2)


def names_for(result: dict) -> dict[str, str]:
    low, high = prefix_range(result["org"])
    return dict(OrgUnit.objects.filter(code__gte=low, code__lt=high).values_list("code", "name"))


def _interval(entry: dict) -> str:
    low, high = entry["interval"]
    return f"{low:,.0f} – {high:,.0f}"


def print_table(result: dict) -> None:
    """The scorecard, the under-registration estimates and every finding, on a terminal."""
    from rich.console import Console
    from rich.table import Table

    names = names_for(result)
    console = Console()
    title = _("Data-quality audit of %(name)s (%(org)s), %(period)s") % {
        "name": names.get(result["org"], ""),
        "org": result["org"],
        "period": result["period"],
    }
    table = Table(title=title)
    table.add_column(_("Org unit"))
    for check in result["checks"]:
        table.add_column(check_short_name(check["code"]), justify="center")
    for row in scorecard(result):
        cells = [
            f"[{STATUS_COLOURS[c.status]}]{STATUS_LABELS[c.status]}"
            + (f" ({c.findings})" if c.findings else "")
            + "[/]"
            for c in row.cells
        ]
        table.add_row(f"{row.org} {row.name}", *cells, style="bold" if row.total else None)
    console.print(table)

    if result["under_registration"]:
        under = Table(title=_("Under-registration: the census carried forward"))
        for header, justify in (
            (_("Org unit"), "left"),
            (_("Group"), "left"),
            (_("Expected"), "right"),
            (_("Registered"), "right"),
            (_("Missing"), "right"),
            (_("Interval"), "right"),
        ):
            under.add_column(header, justify=justify)
        for e in result["under_registration"]:
            under.add_row(
                f"{e['org']} {names.get(e['org'], '')}",
                group_name(e["group"]),
                f"{e['expected']:,.0f}",
                f"{e['registered']:,}",
                f"{e['missing']:,.0f}",
                _interval(e),
            )
        console.print(under)

    for check in result["checks"]:
        status = check["status"]
        console.print(
            f"\n[bold]{check['code']}[/] {check_name(check['code'])}: "
            f"[{STATUS_COLOURS[status]}]{STATUS_LABELS[status]}[/]"
        )
        for f in check["findings"]:
            colour = STATUS_COLOURS[f["status"]]
            console.print(
                f"  [{colour}]{STATUS_LABELS[f['status']]}[/] {f['org']} "
                f"{names.get(f['org'], '')}: {f['message']}",
                highlight=False,
            )


def to_pdf(result: dict, quality: list[QualityRow] | None = None) -> bytes:
    """The audit as an A4 PDF (landscape: one column per check), Chinese text embedded,
    with the register-quality indicators of its rows (``quality``: computed when None)."""
    from weasyprint import HTML

    html = render_to_string("quality/pdf.html", pdf_context(result, quality))
    return HTML(string=html).write_pdf()


def pdf_context(result: dict, quality: list[QualityRow] | None = None) -> dict:
    names = names_for(result)
    if quality is None:
        quality = register_quality(result["org"], result["period"])
    return {
        "quality_headers": quality_headers(),
        "quality_rows": [
            {"org": row.org, "name": row.name, "total": row.total, "cells": quality_cells(row)}
            for row in quality
        ],
        "result": result,
        "org_name": names.get(result["org"], ""),
        "generated_at": clock.local_now().isoformat(timespec="seconds"),
        "rows": [
            {
                "org": row.org,
                "name": row.name,
                "total": row.total,
                "cells": [
                    {"status": c.status, "label": STATUS_LABELS[c.status], "findings": c.findings}
                    for c in row.cells
                ],
            }
            for row in scorecard(result)
        ],
        "checks": [
            {
                "code": c["code"],
                "name": check_name(c["code"]),
                "status": c["status"],
                "status_label": STATUS_LABELS[c["status"]],
                "findings": [
                    f | {"name": names.get(f["org"], ""), "label": STATUS_LABELS[f["status"]]}
                    for f in c["findings"]
                ],
            }
            for c in result["checks"]
        ],
        "under": [
            e
            | {
                "name": names.get(e["org"], ""),
                "group_label": group_name(e["group"]),
                "interval_text": _interval(e),
            }
            for e in result["under_registration"]
        ],
    }
