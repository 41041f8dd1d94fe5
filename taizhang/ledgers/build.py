"""Building a ledger for a village and a month: the rows its declaration lists, each with
its row key, and the facts of the header every format prints alike (四统一)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _

from taizhang import clock
from taizhang.errors import UserError
from taizhang.ledgers.base import Ledger, Request, Row
from taizhang.ledgers.declarations import LEDGERS, TEMPLATE_VERSION
from taizhang.ledgers.rowkeys import make_key
from taizhang.lib import periods
from taizhang.orgunits.models import OrgUnit


@dataclass
class LedgerDoc:
    """A built ledger: what every format renders."""

    ledger: Ledger
    village: OrgUnit
    township: OrgUnit | None
    county: OrgUnit | None
    month: periods.Period
    generated_at: dt.datetime  # local time
    rows: list[Row]
    template_version: str = TEMPLATE_VERSION

    @property
    def month_number(self) -> int:
        return int(self.month.code)

    @property
    def month_zh(self) -> str:
        return f"{self.month.start.year}年{self.month.start.month}月"

    def facts(self) -> list[tuple[str, str]]:
        """The header block: (label, value), the same in every format."""

        def unit(u: OrgUnit | None) -> str:
            return f"{u.name}（{u.code}）" if u is not None else ""

        return [
            ("县", unit(self.county)),
            ("乡镇", unit(self.township)),
            ("村", unit(self.village)),
            ("月份", self.month_zh),
            ("模板版本", self.template_version),
            ("生成时间", self.generated_at.strftime("%Y-%m-%d %H:%M")),
            ("条数", str(len(self.rows))),
        ]

    @property
    def running_head(self) -> str:
        """The line at the top of every PDF page."""
        return f"{self.village.name}（{self.village.code}） {self.month_zh} {self.ledger.title_zh}"

    def persons_printed(self) -> list[int]:
        """The persons whose ID and phone numbers the ledger prints."""
        return sorted({r.person_id for r in self.rows if r.person_id is not None})


def ledger_of(kind: str) -> Ledger:
    """The declared ledger of a kind, or a ``UserError`` (usage: exit status 2) naming them."""
    ledger = LEDGERS.get(str(kind).strip().lower())
    if ledger is None:
        raise UserError(
            _("%(kind)s is not a ledger: use one of %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(LEDGERS)},
            status=2,
        )
    return ledger


def village_of(code: str) -> OrgUnit:
    """The village with this 12-digit code, or a ``UserError``."""
    unit = OrgUnit.objects.filter(code=str(code).strip()).first()
    if unit is None:
        raise UserError(_("Village %(code)s is not in the register.") % {"code": code})
    if not unit.is_village:
        raise UserError(
            _("%(code)s %(name)s is a %(level)s: a ledger is made for a village (12 digits).")
            % {"code": unit.code, "name": unit.name, "level": unit.level_name}
        )
    return unit


def month_of(text: str, *, today: dt.date | None = None) -> periods.Period:
    """The month ``YYYYMM``, or a ``UserError``; a ledger may be made for any month up to
    the next one (printed ahead of it)."""
    try:
        period = periods.parse(str(text).strip())
    except periods.PeriodError as e:
        raise UserError(_("The month: %(reason)s.") % {"reason": e}) from None
    if period.kind != "month":
        raise UserError(
            _("%(code)s is not a month: use YYYYMM, e.g. 202611.") % {"code": period.code}
        )
    today = today or clock.today()
    next_month = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    if period.start > next_month:
        raise UserError(
            _("%(code)s is too far ahead: ledgers are made up to next month (%(next)s).")
            % {"code": period.code, "next": f"{next_month:%Y%m}"}
        )
    return period


def build_many(
    kind: str,
    villages: list[OrgUnit],
    month: periods.Period,
    *,
    now: dt.datetime | None = None,
    request: Request | None = None,
) -> dict[str, LedgerDoc]:
    """The ledger ``kind`` of each of ``villages`` (a run of consecutive codes, e.g. a
    township's) for ``month``, from one set of queries: {village code: ledger}. Villages
    with nothing to list get an empty ledger. ``request`` shares what several ledgers of the
    same villages and month have in common (see ``Request.memo``)."""
    ledger = ledger_of(kind)
    codes = [v.code for v in villages]
    request = request or Request(min(codes), max(codes), month)
    wanted = set(codes)
    with translation.override("zh-hans"):
        rows = ledger.rows(request)
    rows.sort(key=lambda r: r.sort_key)
    by_village: dict[str, list[Row]] = {code: [] for code in codes}
    seen: set[str] = set()
    has_task = "task" in {c.key for c in ledger.columns}
    for row in rows:
        if row.village not in wanted:
            continue
        row.key = make_key(
            ledger.kind, row.village, request.month_number, row.task, row.subject, row.subject_id
        )
        if row.key in seen:  # the same task for the same subject is one row
            continue
        seen.add(row.key)
        if has_task:
            row.cells["task"] = ledger.task_label(row.task)
        by_village[row.village].append(row)
    parents = {
        u.code: u
        for u in OrgUnit.objects.filter(code__in={c[:6] for c in codes} | {c[:9] for c in codes})
    }
    generated_at = (now or clock.now()).astimezone(clock.zone())
    return {
        v.code: LedgerDoc(
            ledger=ledger,
            village=v,
            township=parents.get(v.code[:9]),
            county=parents.get(v.code[:6]),
            month=month,
            generated_at=generated_at,
            rows=by_village[v.code],
        )
        for v in villages
    }


def build(
    kind: str,
    village: str | OrgUnit,
    month: str | periods.Period,
    *,
    now: dt.datetime | None = None,
) -> LedgerDoc:
    """The ledger ``kind`` of one village for ``month`` (``YYYYMM``): its rows in order, each
    with its row key."""
    ledger = ledger_of(kind)
    unit = village if isinstance(village, OrgUnit) else village_of(village)
    period = month if isinstance(month, periods.Period) else month_of(month)
    return build_many(ledger.kind, [unit], period, now=now)[unit.code]
