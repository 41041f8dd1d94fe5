"""Where a village's ledgers of a month stand: printed (when, by whom), returned (when,
rows applied), rows still pending; and the same for every village of a township or
county at once (from the archive records and the returned rows alone).

Who may print: a ledger that prints ID or phone numbers in full is printed by those who
may see them (``taizhang.accounts.scope.may_see_identity``: the village's own workers and
county administrators); the others (family support, report forms, petitions without the
petitioners' details) by anyone whose area holds the village.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Max

from taizhang.accounts.models import Role
from taizhang.accounts.scope import in_area, user_org_code, user_role
from taizhang.ledgers.base import Ledger, Request
from taizhang.ledgers.build import build_many
from taizhang.ledgers.declarations import KINDS, LEDGERS
from taizhang.ledgers.models import Direction, LedgerFile, ReturnedRow
from taizhang.lib.periods import Period
from taizhang.orgunits.models import OrgUnit, prefix_range

IDENTITY_COLUMNS = frozenset({"id_number", "phone"})


def prints_identity(ledger: Ledger) -> bool:
    return any(c.key in IDENTITY_COLUMNS for c in ledger.columns)


def may_print(user, village: str, ledger: Ledger) -> bool:
    """May ``user`` print (download) ``ledger`` of ``village``?"""
    if not in_area(user, village):
        return False
    if not prints_identity(ledger):
        return True
    role = user_role(user)
    if role == Role.COUNTY_ADMIN:
        return True
    return role == Role.VILLAGE_WORKER and user_org_code(user) == village


@dataclass
class LedgerStatus:
    ledger: Ledger
    rows: int  # listed now
    pending: int  # listed now and not yet returned
    printed: LedgerFile | None  # the last file printed
    prints: int
    returned: LedgerFile | None  # the last file returned
    rows_returned: int
    may_print: bool


def village_ledgers(user, village: OrgUnit, month: Period) -> list[LedgerStatus]:
    """The eleven ledgers of a village for a month, each with its rows as listed now and
    where it stands."""
    request = Request.village(village.code, month)
    number = int(month.code)
    files: dict[tuple[str, str], list[LedgerFile]] = {}
    for f in LedgerFile.objects.filter(village=village.code, month=number).select_related(
        "created_by"
    ):
        files.setdefault((f.kind, f.direction), []).append(f)  # the latest first
    returned = set(
        ReturnedRow.objects.filter(village=village.code, month=number).values_list("key", "kind")
    )
    returned_keys = {key for key, _kind in returned}
    out = []
    for kind in KINDS:
        ledger = LEDGERS[kind]
        doc = build_many(kind, [village], month, request=request)[village.code]
        printed = files.get((kind, Direction.GENERATED), [])
        back = files.get((kind, Direction.RETURNED), [])
        out.append(
            LedgerStatus(
                ledger=ledger,
                rows=len(doc.rows),
                pending=sum(1 for r in doc.rows if r.key not in returned_keys),
                printed=printed[0] if printed else None,
                prints=len(printed),
                returned=back[0] if back else None,
                rows_returned=sum(1 for _key, k in returned if k == kind),
                may_print=may_print(user, village.code, ledger),
            )
        )
    return out


@dataclass
class Cell:
    printed: dt.datetime | None = None
    returned: dt.datetime | None = None
    rows_returned: int = 0


@dataclass
class VillageRow:
    village: OrgUnit
    cells: list[Cell] = field(default_factory=list)

    @property
    def printed(self) -> int:
        return sum(1 for c in self.cells if c.printed)

    @property
    def returned(self) -> int:
        return sum(1 for c in self.cells if c.returned)


def overview(unit: OrgUnit, month: Period) -> list[VillageRow]:
    """Every village of ``unit`` (a township or county; a village alone) × the eleven
    ledgers of ``month``: when each was last printed and returned, rows returned."""
    low, high = prefix_range(unit.code)
    number = int(month.code)
    villages = list(OrgUnit.objects.subtree(unit.code).villages().order_by("code"))
    files = (
        LedgerFile.objects.filter(village__gte=low, village__lt=high, month=number)
        .values("village", "kind", "direction")
        .annotate(last=Max("created_at"))
        .order_by()
    )
    cells: dict[tuple[str, str], Cell] = {}
    for f in files:
        cell = cells.setdefault((f["village"], f["kind"]), Cell())
        if f["direction"] == Direction.GENERATED:
            cell.printed = f["last"]
        else:
            cell.returned = f["last"]
    rows = (
        ReturnedRow.objects.filter(village__gte=low, village__lt=high, month=number)
        .values("village", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    for r in rows:
        cells.setdefault((r["village"], r["kind"]), Cell()).rows_returned = r["n"]
    return [VillageRow(v, [cells.get((v.code, kind), Cell()) for kind in KINDS]) for v in villages]
