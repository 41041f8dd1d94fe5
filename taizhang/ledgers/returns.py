"""Reading a filled-in ledger back (回收录入): every filled row becomes the changes its
ledger declares (``Ledger.effects``), written by the action that owns each target
(``taizhang.ledgers.base.TARGETS``): life events through the register's one write path
with the events import's checks, payments, return visits, support results and reported
figures through their apps' actions.

The rules are those of an import:

- The file is one transaction: with any bad row nothing is written, and every bad row is
  reported as ``row N: column: reason`` (N counts the rows under the table's header, as
  the printed 序号 does; the column is the fill-in column's key, ``row_key`` for the key).
- The file says what it is. An XLSX by its hidden ``_ledger`` sheet (ledger, village,
  month, template version, columns), which the header lines above the table must agree
  with; a CSV by its header row (the ledger's printed labels) and the keys of its rows.
  Every row key must check (not altered, made by this installation) and name the file's
  ledger, village and month; a file for another village or month than the one expected
  (the page it is uploaded on) is refused whole.
- A row with nothing filled in is pending and skipped. A row whose filled cells ask for
  nothing (the date is missing) is pending too, with a notice.
- A row is applied once. Its key is recorded (``ReturnedRow``) with the values it came
  back with and the ids of the events it recorded (``event_ids``: a fresh event's new
  id, or the one the register already had, found by its identity,
  ``register.actions.event_key``). Returned again with the same values (the same file
  twice, or the row in a later file) it changes nothing.
- Returned again with other values, a row that recorded life events corrects them: the
  village worker corrected the paper. Each of its events whose columns the new values
  change (the events import's keys, as ``add_event`` maps them) becomes a correction
  (``taizhang.corrections.actions.submit``, source "ledger", the reason naming the
  ledger, village, month and row), followed to the correction made since, if any; a
  row returned before rows kept their events stands for the person's event of its kind
  on its date. A correction is applied (``corrected``), or waits for the township's
  approval when the worker may not correct that month (``waiting for approval``, with a
  notice), or is refused with the register's reasons as row errors. The row then holds
  the new values and the events it stands for; what it held before goes to its
  ``history``. Refused instead: new values that record nothing (erasing a row retracts
  nothing: retract on the person's page or with a corrections file), record another
  kind of event (a correction keeps the kind), or change none of the row's events; and
  any change of a row that recorded a payment, a return visit, a support result or a
  reported figure — those are corrected where they are kept (a reported figure's new
  value is a new version through the ``reports`` import).
- A file that applies or corrects nothing leaves no trace. Otherwise it is archived
  (``LedgerFile`` direction "returned", ``answers`` the generated file when its
  generation time is known), with who returned it and when, and the return is audited
  (``ledger_return``, naming the persons whose records it wrote and the rows corrected).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import decimal
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang import clock
from taizhang.accounts.scope import in_area, user_org_code, within, write_area
from taizhang.audit.actions import record as audit
from taizhang.errors import UserError
from taizhang.imports.fields import FieldError
from taizhang.imports.service import Errors, RowError
from taizhang.ledgers import archive
from taizhang.ledgers.base import FillColumn, Ledger, Return
from taizhang.ledgers.declarations import LEDGERS, TEMPLATE_VERSION
from taizhang.ledgers.models import Direction, LedgerFile, ReturnedRow
from taizhang.ledgers.render import HEADER_ROW, KEY_LABEL, META_SHEET, NO_LABEL
from taizhang.ledgers.rowkeys import RowKey, parse_key
from taizhang.lib import crypto, sheets, textfiles
from taizhang.lib.sheets import SheetError

FORMATS = ("xlsx", "csv")
MAX_BYTES = 20 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
# The limits of a workbook read back (taizhang.lib.sheets; docs/imports.md, "Limits").
SHEET_LIMITS = "ledger_return"
_SHOWN_VILLAGE = re.compile(r"村：[^（]*（([0-9]{12})）")
_SHOWN_MONTH = re.compile(r"月份：([0-9]{4})年([0-9]{1,2})月")
# Counts in the order they are printed.
COUNTS = (
    "applied",
    "already_returned",
    "pending",
    "corrected",
    "waiting_for_approval",
    "events",
    "events_unchanged",
    "children_created",
    "payments",
    "payments_unchanged",
    "return_visits",
    "return_visits_unchanged",
    "support_results",
    "support_results_unchanged",
    "reports",
    "reports_changed",
    "reports_unchanged",
    "notes",
)
# The counts as a page shows them (the command prints the keys).
COUNT_LABELS = {
    "applied": gettext_lazy("applied"),
    "already_returned": gettext_lazy("already returned"),
    "pending": gettext_lazy("pending"),
    "corrected": gettext_lazy("corrected"),
    "waiting_for_approval": gettext_lazy("waiting for approval"),
    "events": gettext_lazy("events"),
    "events_unchanged": gettext_lazy("events unchanged"),
    "children_created": gettext_lazy("children created"),
    "payments": gettext_lazy("payments"),
    "payments_unchanged": gettext_lazy("payments unchanged"),
    "return_visits": gettext_lazy("return visits"),
    "return_visits_unchanged": gettext_lazy("return visits unchanged"),
    "support_results": gettext_lazy("support results"),
    "support_results_unchanged": gettext_lazy("support results unchanged"),
    "reports": gettext_lazy("reports"),
    "reports_changed": gettext_lazy("reports changed"),
    "reports_unchanged": gettext_lazy("reports unchanged"),
    "notes": gettext_lazy("notes"),
}


@dataclass
class FilledRow:
    n: int  # 1 = the first row under the table's header
    key: str
    values: dict[str, str]  # fill key -> the cell as text


@dataclass
class ReturnedFile:
    """A filled-in ledger as read, before any value is checked."""

    name: str
    format: str
    content: bytes
    ledger: Ledger
    village: str
    month: int  # YYYYMM
    template_version: str
    generated_at: dt.datetime | None
    rows: list[FilledRow]


@dataclass
class ReturnResult:
    """What a return did (or, with errors or a dry run, would have done)."""

    name: str
    kind: str = ""
    village: str = ""
    month: int = 0
    format: str = ""
    rows: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    errors: list[RowError] = field(default_factory=list)
    notices: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    record: LedgerFile | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self, *, translated: bool = False) -> str:
        """The counts in one line: ``applied 3, pending 9, events 3`` (in the user's
        language when ``translated``)."""
        shown = [(k, v) for k, v in self.counts.items() if v or k in COUNTS[:3]]
        if translated:
            return _(", ").join(f"{COUNT_LABELS[k]} {v}" for k, v in shown)
        return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in shown)


# ---------------------------------------------------------------------------
# Reading


def read_file(content: bytes, name: str) -> ReturnedFile:
    """The filled-in ledger in ``content`` (a file named ``name``: .xlsx or .csv), or a
    ``UserError`` saying why it is not one that can be read back."""
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise UserError(
            _("%(name)s: a filled-in ledger comes back as .xlsx (or .csv), not %(type)s.")
            % {"name": name, "type": f".{suffix}" if suffix else _("a file without extension")}
        )
    check_size(len(content), name)
    if suffix == "xlsx":
        return _read_xlsx(content, name)
    return _read_csv(content, name)


def check_size(size: int, name: str) -> None:
    """``UserError`` for a file too large to be a ledger of one village."""
    if size > MAX_BYTES:
        raise UserError(
            _("%(name)s is larger than %(mb)s MB: it is not a ledger of one village.")
            % {"name": name, "mb": MAX_BYTES // (1024 * 1024)}
        )


def _columns(ledger: Ledger) -> list[str]:
    return ["no", *(c.key for c in ledger.columns), *(c.key for c in ledger.fill), "row_key"]


def _labels(ledger: Ledger) -> list[str]:
    return [NO_LABEL, *(c.zh for c in ledger.columns), *(c.zh for c in ledger.fill), KEY_LABEL]


def _not_a_ledger(name: str) -> UserError:
    return UserError(
        _(
            "%(name)s is not a ledger made by this system: return the file as it was "
            "printed, with the fill-in columns filled."
        )
        % {"name": name}
    )


def _refused(name: str, e: SheetError) -> UserError:
    """A file refused as a whole by ``taizhang.lib.sheets`` or ``textfiles``, in a
    sentence naming it."""
    reason = _(e.reason) % e.params if e.params else _(e.reason)
    return UserError(_("%(name)s %(reason)s.") % {"name": name, "reason": reason})


def _read_xlsx(content: bytes, name: str) -> ReturnedFile:
    # Inspected, then read in a child process within limits: a hostile workbook is a
    # sentence, never a crash of the web server.
    wanted = [f"={META_SHEET}", f"!{META_SHEET}"]
    try:
        book = sheets.read_xlsx(content, wanted, sheets.limits(SHEET_LIMITS))
    except SheetError as e:
        raise _refused(name, e) from None
    meta_sheet, main_sheet = book.tables
    if meta_sheet is None or main_sheet is None:
        raise _not_a_ledger(name)
    # From the first row with a value, as calamine's to_python() gives a sheet.
    meta_rows = meta_sheet.rows[meta_sheet.first_row :]
    table = main_sheet.rows[main_sheet.first_row :]
    meta = {r[0].strip(): r[1].strip() for r in meta_rows if len(r) >= 2}
    ledger = LEDGERS.get(meta.get("kind", ""))
    village, month = meta.get("village", ""), meta.get("month", "")
    if ledger is None or not _is_village(village) or not _is_month(month):
        raise _not_a_ledger(name)
    version = meta.get("template_version", "")
    if meta.get("columns", "").split(",") != _columns(ledger):
        raise UserError(
            _(
                "%(name)s was made with template version %(version)s, whose columns are not "
                "those of this version (%(current)s): print the ledger again."
            )
            % {"name": name, "version": version or "?", "current": TEMPLATE_VERSION}
        )
    text = [[v.strip() for v in row] for row in table]
    _check_shown_header(text, name, village, month)
    header = HEADER_ROW - 1
    if len(text) <= header or _trimmed(text[header]) != _labels(ledger):
        raise UserError(
            _("The table of %(name)s has been changed (its header row is not the ledger's).")
            % {"name": name}
        )
    try:
        count = int(meta.get("rows", "0"))
    except ValueError:
        raise _not_a_ledger(name) from None
    first_fill = 1 + len(ledger.columns)
    key_col = first_fill + len(ledger.fill)
    rows = []
    for n, cells in enumerate(text[header + 1 : header + 1 + count], start=1):
        cells = cells + [""] * (key_col + 1 - len(cells))
        values = {c.key: cells[first_fill + j] for j, c in enumerate(ledger.fill)}
        rows.append(FilledRow(n, cells[key_col], values))
    return ReturnedFile(
        name=name,
        format="xlsx",
        content=content,
        ledger=ledger,
        village=village,
        month=int(month),
        template_version=version,
        generated_at=_moment(meta.get("generated_at", "")),
        rows=rows,
    )


def _check_shown_header(text: list[list[str]], name: str, village: str, month: str) -> None:
    """The header lines above the table name the village and month the file was made for."""
    shown = " ".join(row[0] for row in text[1:3] if row)
    found = _SHOWN_VILLAGE.search(shown)
    if found and found[1] != village:
        raise UserError(
            _(
                "The header of %(name)s names village %(shown)s, but the file is the ledger "
                "of village %(village)s: the file has been altered."
            )
            % {"name": name, "shown": found[1], "village": village}
        )
    found = _SHOWN_MONTH.search(shown)
    if found and f"{found[1]}{int(found[2]):02d}" != month:
        raise UserError(
            _(
                "The header of %(name)s names the month %(shown)s, but the file is the "
                "ledger of %(month)s: the file has been altered."
            )
            % {"name": name, "shown": f"{found[1]}{int(found[2]):02d}", "month": month}
        )


def _read_csv(content: bytes, name: str) -> ReturnedFile:
    if content.startswith(_ZIP_MAGIC):
        raise UserError(
            _("%(name)s is an Excel workbook named .csv: rename it to .xlsx.") % {"name": name}
        )
    try:
        # UTF-8 (with or without a byte-order mark) or GB18030 that reads as Chinese; no
        # NUL character (PostgreSQL refuses it in text).
        text = textfiles.decode(content)
    except SheetError as e:
        raise _refused(name, e) from None
    try:
        records = [[v.strip() for v in r] for r in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as e:
        raise UserError(
            _("%(name)s is not valid CSV (%(reason)s).") % {"name": name, "reason": e}
        ) from None
    start = next((i for i, r in enumerate(records) if any(r)), None)
    if start is None:
        raise _not_a_ledger(name)
    header = _trimmed(records[start])
    ledger = next((lg for lg in LEDGERS.values() if _labels(lg) == header), None)
    if ledger is None:
        raise UserError(
            _(
                "The header row of %(name)s is not that of a ledger: return the CSV file as "
                "it was made (%(first)s … %(last)s), with the fill-in columns filled."
            )
            % {"name": name, "first": NO_LABEL, "last": KEY_LABEL}
        )
    first_fill = 1 + len(ledger.columns)
    key_col = first_fill + len(ledger.fill)
    rows = []
    for n, cells in enumerate(records[start + 1 :], start=1):
        if not any(cells):
            continue
        cells = cells + [""] * (key_col + 1 - len(cells))
        values = {c.key: cells[first_fill + j] for j, c in enumerate(ledger.fill)}
        rows.append(FilledRow(n, cells[key_col], values))
    # A CSV names its village and month only in its keys: those of the first that checks.
    first = None
    for row in rows:
        try:
            first = parse_key(row.key)
            break
        except UserError:
            continue
    if first is None:
        raise UserError(
            _("No row of %(name)s has a valid row key: its village and month cannot be told.")
            % {"name": name}
        )
    return ReturnedFile(
        name=name,
        format="csv",
        content=content,
        ledger=ledger,
        village=first.village,
        month=first.month,
        template_version="",
        generated_at=None,
        rows=rows,
    )


def _trimmed(cells: list[str]) -> list[str]:
    cells = list(cells)
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _is_village(code: str) -> bool:
    return len(code) == 12 and code.isdigit()


def _is_month(code: str) -> bool:
    return len(code) == 6 and code.isdigit() and 1 <= int(code[4:]) <= 12


def _moment(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


# ---------------------------------------------------------------------------
# Applying


class _Rollback(Exception):
    pass


def return_file(
    content: bytes,
    name: str,
    *,
    user=None,
    dry_run: bool = False,
    today: dt.date | None = None,
    source: str = "",
    village: str | None = None,
    month: int | None = None,
) -> ReturnResult:
    """Read a filled-in ledger back and apply it (see the module's rules). ``village`` and
    ``month``, when given, are the ones the file must be for. Returns the counts, or the
    errors (and then nothing is written)."""
    today = today or clock.today()
    result = ReturnResult(name=name, dry_run=dry_run)
    try:
        doc = read_file(content, name)
        result.kind, result.village, result.month = doc.ledger.kind, doc.village, doc.month
        result.format, result.rows = doc.format, len(doc.rows)
        _check_expected(doc, user, village, month)
    except UserError as e:
        result.errors = [RowError(0, "", str(e))]
        return result
    errors = Errors()
    written: list[Path] = []
    try:
        with transaction.atomic():
            applier = _Applier(doc, user=user, today=today, errors=errors, source=source)
            applier.run()
            result.counts.update(applier.counts)
            result.notices = applier.notices
            if errors or dry_run or not (applier.new_rows or applier.fixes):
                raise _Rollback
            result.record = _archive(doc, applier, user=user, source=source, written=written)
    except _Rollback:
        pass
    except BaseException:
        for path in written:  # the transaction is undone: so is the archived copy
            path.unlink(missing_ok=True)
        raise
    result.errors = errors.sorted()
    return result


def _check_expected(doc: ReturnedFile, user, village: str | None, month: int | None) -> None:
    if village is not None and doc.village != village:
        raise UserError(
            _("%(name)s is the ledger of village %(file)s, not of village %(village)s.")
            % {"name": doc.name, "file": doc.village, "village": village}
        )
    if month is not None and doc.month != month:
        raise UserError(
            _("%(name)s is the ledger of %(file)s, not of %(month)s.")
            % {"name": doc.name, "file": f"{doc.month:06d}", "month": f"{month:06d}"}
        )
    if user is not None and user_org_code(user) and not in_area(user, doc.village):
        raise UserError(_("Village %(village)s is not in your area.") % {"village": doc.village})


def stored_values(ledger: Ledger, filled: dict[str, Any]) -> dict[str, str]:
    """The filled values as kept with a returned row: text (dates ISO, choices' codes), an
    ID number as its blind index (never in clear)."""
    out = {}
    for column in ledger.fill:
        value = filled.get(column.key)
        if value is None or value == "":
            continue
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
        if column.key.endswith("id_number"):
            text = "#" + crypto.blind_index(text.upper())
        out[column.key] = text
    return out


def _message(error: Exception, column: FillColumn) -> str:
    """A parse error without its column's name (the report names the column)."""
    text = str(error)
    prefix = f"{column.zh} ({column.key}): "
    return text[len(prefix) :] if text.startswith(prefix) else text


class _Applier:
    """Checks every row of a file and applies the valid ones inside the caller's
    transaction; events are checked together at the end, as an events import's are."""

    def __init__(self, doc: ReturnedFile, *, user, today: dt.date, errors: Errors, source: str):
        self.doc, self.ledger = doc, doc.ledger
        self.user, self.today, self.errors, self.source = user, today, errors, source
        self.counts = dict.fromkeys(COUNTS, 0)
        self.notices: list[RowError] = []
        self.new_rows: list[ReturnedRow] = []
        self.events: list = []
        self.children: dict = {}
        self.event_return: dict[int, Return] = {}  # id(event) -> its return
        self.row_events: dict[int, list] = {}  # row -> the events it brings
        self.rows_by_n: dict[int, ReturnedRow] = {}  # row -> its new ReturnedRow
        self.fixes: list[_Fix] = []  # rows returned again with other values: corrections
        self.reports: list = []
        self.persons: set[int] = set()

    def error(self, n: int, column: str, message: str) -> None:
        self.errors.add(n, column, message)

    # -- rows

    def run(self) -> None:
        doc = self.doc
        keys = {}
        for row in doc.rows:
            with contextlib.suppress(UserError):  # reported with the row, if it is filled
                keys[row.n] = parse_key(row.key)
        prior = {
            r.key: r for r in ReturnedRow.objects.filter(key__in=[k.text for k in keys.values()])
        }
        seen: dict[str, int] = {}
        for row in doc.rows:
            filled, bad = self.parse(row)
            if not bad and all(v is None for v in filled.values()):
                self.counts["pending"] += 1  # nothing filled in: its key is not even read
                continue
            key = self.check_key(row, keys.get(row.n), seen)
            if key is None or bad:
                continue
            returns = [r for r in self.ledger.returns if r.applies(key.task, filled)]
            effects = self.ledger.effects(key, filled)
            before = prior.get(key.text)
            if not effects:
                if before is not None and _recorded_events(before) and self.written(filled):
                    self.error(row.n, "row_key", self.erased(before))
                    continue
                self.counts["pending"] += 1
                self.notice_incomplete(row.n, key.task, filled)
                continue
            values = stored_values(self.ledger, filled)
            if before is not None:
                if before.values == values:
                    self.counts["already_returned"] += 1
                else:
                    self.correct(row.n, key, before, values, returns, effects)
                continue
            for r, effect in zip(returns, effects, strict=True):
                self.apply(row.n, key, r, effect)
            self.counts["applied"] += 1
            self.rows_by_n[row.n] = ReturnedRow(
                key=key.text,
                kind=key.kind,
                village=key.village,
                month=key.month,
                task=key.task,
                subject=key.subject,
                subject_id=key.subject_id,
                values=values,
                effects=_effect_names(returns),
                row=row.n,
            )
            self.new_rows.append(self.rows_by_n[row.n])
        self.submit_corrections()
        self.record_events()
        self.record_reports()

    def parse(self, row: FilledRow) -> tuple[dict[str, Any], bool]:
        """The row's filled values by their columns' types, and whether any was wrong."""
        filled, bad = {}, False
        for column in self.ledger.fill:
            try:
                filled[column.key] = column.parse(row.values.get(column.key), today=self.today)
            except UserError as e:
                self.error(row.n, column.key, _message(e, column))
                filled[column.key], bad = row.values.get(column.key), True
        return filled, bad

    def check_key(self, row: FilledRow, key: RowKey | None, seen: dict[str, int]):
        doc = self.doc
        if key is None:
            if not row.key.strip():
                self.error(row.n, "row_key", _("the row has no row key: its values cannot be told"))
                return None
            try:
                parse_key(row.key)
            except UserError as e:
                self.error(row.n, "row_key", str(e))
            return None
        problem = ""
        if key.kind != doc.ledger.kind:
            problem = _("the row key is of the %(kind)s ledger, not of this file's %(file)s") % {
                "kind": key.kind,
                "file": doc.ledger.kind,
            }
        elif key.village != doc.village:
            problem = _("the row key is of village %(village)s, not of this file's %(file)s") % {
                "village": key.village,
                "file": doc.village,
            }
        elif key.month != doc.month:
            problem = _("the row key is of %(month)s, not of this file's month %(file)s") % {
                "month": f"{key.month:06d}",
                "file": f"{doc.month:06d}",
            }
        elif key.text in seen:
            problem = _("the same row key is also on row %(row)d") % {"row": seen[key.text]}
        if problem:
            self.error(row.n, "row_key", problem)
            return None
        seen[key.text] = row.n
        return key

    def notice_incomplete(self, n: int, task: str, filled: dict[str, Any]) -> None:
        """A row with cells filled in that record nothing: say what is missing."""
        written = self.written(filled)
        if not written:
            return
        wanting = []
        for r in self.ledger.returns:
            if r.tasks and not task.startswith(r.tasks):
                continue
            missing = [self.ledger.fill_column(k).zh for k in r.when if filled.get(k) is None]
            if missing:
                wanting.append("、".join(missing))
        columns = "、".join(c.zh for c in written)
        if wanting:
            fewest = min(w.count("、") for w in wanting)
            options = dict.fromkeys(w for w in wanting if w.count("、") == fewest)
            message = _("%(columns)s filled in, but nothing is recorded without %(missing)s") % {
                "columns": columns,
                "missing": _(" or ").join(options),
            }
        else:
            message = _("%(columns)s filled in, but this row records nothing from them") % {
                "columns": columns
            }
        self.notices.append(RowError(n, written[0].key, message))

    def written(self, filled: dict[str, Any]) -> list[FillColumn]:
        """The cells the worker wrote. Answers written in advance are choices: a row holding
        only those is untouched."""
        return [c for c in self.ledger.fill if c.type != "choice" and filled.get(c.key) is not None]

    def differences(self, before: ReturnedRow, values: dict[str, str]) -> str:
        differences = []
        for column in self.ledger.fill:
            old, new = before.values.get(column.key, ""), values.get(column.key, "")
            if old == new:
                continue
            if column.key.endswith("id_number"):
                differences.append(_("%(column)s changed") % {"column": column.zh})
            else:
                differences.append(f"{column.zh} {old or '—'} → {new or '—'}")
        return "; ".join(differences)

    def changed(self, before: ReturnedRow, values: dict[str, str]) -> str:
        """The refusal of a row returned again with other values that cannot be corrected
        from the ledger (it recorded a payment, a return visit, a reported figure or a
        support result, or its events are no longer those it recorded)."""
        return _(
            "this row was returned on %(date)s and recorded; now it says otherwise (%(changes)s). "
            "A row is recorded once: correct the record itself instead (a correction is kept "
            "beside what it corrects)."
        ) % {
            "date": _returned_on(before),
            "changes": self.differences(before, values),
        }

    def erased(self, before: ReturnedRow) -> str:
        return _(
            "this row was returned on %(date)s and recorded; erasing what it said does not "
            "retract it: retract the event on the person's page or with a corrections file"
        ) % {"date": _returned_on(before)}

    # -- a row returned again with other values: corrections of the events it recorded

    def correct(
        self,
        n: int,
        key: RowKey,
        before: ReturnedRow,
        values: dict[str, str],
        returns: list[Return],
        effects: list,
    ) -> None:
        """Ask for the corrections that make the events ``before`` recorded say what the
        row says now (submitted with the file's others by ``submit_corrections``)."""
        from taizhang.corrections import actions as corrections

        if not _recorded_events(before):
            self.error(n, "row_key", self.changed(before, values))
            return
        earlier = [e.partition(":")[2] for e in before.effects]
        now = [(r, e) for r, e in zip(returns, effects, strict=True) if e.target != "note"]
        if sorted(earlier) != sorted(e.kind for _r, e in now if e.target == "event") or any(
            e.target != "event" for _r, e in now
        ):
            self.error(
                n,
                "row_key",
                _(
                    "this row was returned on %(date)s and recorded %(before)s; now it says "
                    "%(after)s. A correction keeps the kind of event: retract it on the "
                    "person's page or with a corrections file, and record the right one"
                )
                % {
                    "date": _returned_on(before),
                    "before": "、".join(_kind_label(k) for k in earlier),
                    "after": "、".join(_kind_label(e.kind or e.target) for _r, e in now) or "—",
                },
            )
            return
        events = self.earlier_events(key, before, earlier)
        if events is None:
            self.error(n, "row_key", self.changed(before, values))
            return
        reason = _(
            "corrected on the returned ledger: %(kind)s %(village)s %(month)s row %(row)d"
        ) % {
            "kind": key.kind,
            "village": key.village,
            "month": f"{key.month:06d}",
            "row": n,
        }
        fix = _Fix(before, n, values, _effect_names(returns))
        for r, effect in now:
            event = events[effect.kind].pop(0)
            text = effect.as_text()
            if effect.kind == "method_stop":  # a correction names a stop's reason so
                text["stop_reason"] = text.pop("reason", "")
            wanted = corrections.given(text, effect.kind)
            current = corrections.event_values(event)
            if all(current.get(k, "") == v for k, v in wanted.items()):
                fix.event_ids.append(event.pk)  # this event says what the row says
                continue
            request = corrections.Request(event.pk, "correct", reason, text, row=n)
            fix.requests.append((r, request))
            fix.event_ids.append(request)
        if not fix.requests:
            self.error(
                n,
                "row_key",
                _(
                    "this row was returned on %(date)s and recorded; now it says otherwise "
                    "(%(changes)s), which changes none of the events it recorded: correct the "
                    "record on the person's page"
                )
                % {"date": _returned_on(before), "changes": self.differences(before, values)},
            )
            return
        self.fixes.append(fix)
        self.persons.add(key.subject_id)

    def earlier_events(
        self, key: RowKey, before: ReturnedRow, kinds: list[str]
    ) -> dict[str, list] | None:
        """The events the row recorded, as the register has them now (a correction made
        since in their place), by kind; None when they cannot be told or one has been
        retracted."""
        from taizhang.register.models import Event

        ids = list(before.event_ids)
        if not ids:
            # Returned before rows kept their events: the person's effective event of each
            # kind on the row's date, when there is exactly one.
            superseded = Event.objects.filter(supersedes__isnull=False).values("supersedes_id")
            for kind in kinds:
                found = list(
                    Event.objects.filter(
                        person_id=key.subject_id, kind=kind, date=before.values.get("date")
                    )
                    .exclude(pk__in=superseded)
                    .values_list("pk", flat=True)[:2]
                )
                if len(found) != 1:
                    return None
                ids.append(found[0])
        out: dict[str, list] = {}
        for pk in ids:
            while later := Event.objects.filter(supersedes_id=pk).values_list("pk").first():
                pk = later[0]
            event = Event.objects.filter(pk=pk).select_related("person").first()
            if event is None or event.kind == "void":
                return None
            out.setdefault(event.kind, []).append(event)
        if sorted(out) != sorted(set(kinds)) or any(len(out[k]) != kinds.count(k) for k in out):
            return None
        return out

    def submit_corrections(self) -> None:
        """Submit the corrections of every changed row at once: applied, waiting for the
        township's approval, made before, or refused with errors naming the row."""
        from taizhang.corrections import actions as corrections
        from taizhang.corrections.models import Source

        asked = [(fix, r, request) for fix in self.fixes for r, request in fix.requests]
        if not asked:
            return
        results = corrections.submit(
            [request for _f, _r, request in asked],
            user=self.user,
            today=self.today,
            source=Source.LEDGER,
        )
        done: dict[int, int] = {}  # id(request) -> the event the row now stands for
        for (fix, r, request), result in zip(asked, results, strict=True):
            if result.errors:
                for e in result.errors:
                    self.error(fix.n, self.correction_column(r, request, e.column), str(e))
                continue
            if result.status == "applied":
                self.counts["corrected"] += 1
                done[id(request)] = result.journal.correction_id
            elif result.status == "pending":
                self.counts["waiting_for_approval"] += 1
                done[id(request)] = request.event_id
                self.notices.append(
                    RowError(
                        fix.n,
                        self.column_of(r, "date", "date"),
                        _("the correction waits for approval by the township (request %(id)d)")
                        % {"id": result.journal.pk},
                    )
                )
            else:  # made before
                self.counts["events_unchanged"] += 1
                done[id(request)] = request.event_id
        for fix in self.fixes:
            fix.event_ids = [
                done.get(id(e), e.event_id) if not isinstance(e, int) else e for e in fix.event_ids
            ]

    def correction_column(self, r: Return, request, column: str) -> str:
        """The fill column a correction's error concerns (its column is an events-file
        key; ``event_id`` and the correction's own reason are the row's)."""
        if column in ("", "event_id", "event", "action", "reason"):
            return "row_key"
        if column == "stop_reason":
            column = "reason"
        return self.column_of(r, column, "date")

    # -- effects

    def apply(self, n: int, key: RowKey, r: Return, effect) -> None:
        target = effect.target
        if target == "event":
            self.add_event(n, key, r, effect)
        elif target == "benefits.payment":
            self.pay(n, key, effect)
        elif target == "cases.return_visit":
            self.return_visit(n, key, effect)
        elif target == "family.result":
            self.support_result(n, key, effect)
        elif target == "reports.figure":
            self.add_report(n, effect)
        else:
            self.counts["notes"] += 1

    @staticmethod
    def column_of(r: Return, name: str | None, default: str) -> str:
        """The fill column a target field comes from (``method`` → ``method_stopped``)."""
        source = r.fields.get(name or "")
        if isinstance(source, str) and not source.startswith(("=", "@")):
            return source
        if isinstance(source, tuple) and source:
            return source[0]
        return "row_key" if name == "id_number" else default

    def add_event(self, n: int, key: RowKey, r: Return, effect) -> None:
        from taizhang.imports.events import event_from_values
        from taizhang.register.models import Person

        # A person who has since moved out of the user's area is, like one not in the
        # register, not written to by this user (docs/imports.md, "Writes across areas").
        area = write_area(self.user)
        village = None
        if key.subject == "person":
            village = (
                Person.objects.filter(pk=key.subject_id)
                .values_list("current_village", flat=True)
                .first()
            )
        if village is None or not within(area, village):
            self.error(n, "row_key", _("the person of this row is not in the register"))
            return
        values = {"event": effect.kind, **effect.as_text()}
        try:
            event, children = event_from_values(
                values, person=key.subject_id, today=self.today, area=area
            )
        except FieldError as e:
            self.error(n, self.column_of(r, e.column, "date"), str(e))
            return
        event.row = n
        self.events.append(event)
        self.row_events.setdefault(n, []).append(event)
        self.children.update(children)
        self.event_return[id(event)] = r
        self.persons.add(key.subject_id)

    def record_events(self) -> None:
        from taizhang.register import actions

        if not self.events:
            return
        outcome = actions.record_events(
            self.events,
            new_children=self.children,
            user=self.user,
            today=self.today,
            write=not self.errors,
        )
        for p in outcome.problems:
            row = p.event.row or (p.cause.row if p.cause else None) or 0
            r = self.event_return.get(id(p.event)) or (
                self.event_return.get(id(p.cause)) if p.cause else None
            )
            column = self.column_of(r, p.column, p.column) if r else p.column
            self.error(row, column, p.message)
        self.counts["events"] += outcome.counts.get("events", 0)
        self.counts["events_unchanged"] += outcome.counts.get("events_unchanged", 0)
        self.counts["children_created"] += outcome.counts.get("persons_created", 0)
        if not outcome.problems and not self.errors:
            self.remember_events()

    def remember_events(self) -> None:
        """Each new row's events by id: a fresh event has its id once written; one the
        register already had (counted unchanged) is found by its identity."""
        from taizhang.register import actions

        known: dict[int, dict[tuple, int]] = {}
        for n, events in self.row_events.items():
            row = self.rows_by_n.get(n)
            if row is None:
                continue
            ids = []
            for e in events:
                if e.key is None:
                    if e.person not in known:
                        known[e.person] = {
                            actions.event_key(x): x.key for x in actions.load_events([e.person])
                        }
                    e.key = known[e.person].get(actions.event_key(e))
                if e.key is not None:
                    ids.append(e.key)
            row.event_ids = ids

    def pay(self, n: int, key: RowKey, effect) -> None:
        from taizhang.benefits import actions
        from taizhang.benefits.models import Payment, PaymentStatus

        period = key.task.partition("-")[2]
        payment = Payment.objects.filter(enrolment_id=key.subject_id, period=period).first()
        if payment is None:
            self.error(
                n,
                "paid_date",
                _("the payment of %(period)s is not in the register") % {"period": period},
            )
            return
        fields = effect.fields
        amount = fields.get("amount")
        if amount is not None and decimal.Decimal(str(amount)) != decimal.Decimal(
            payment.amount_yuan
        ):
            self.error(
                n,
                "amount_paid",
                _("%(amount)s is not the payment's amount, %(due)s yuan")
                % {"amount": amount, "due": payment.amount_yuan},
            )
            return
        paid_date = fields["paid_date"]
        if payment.status == PaymentStatus.PAID and payment.paid_date == paid_date:
            self.counts["payments_unchanged"] += 1
            return
        try:
            actions.record_payment(
                payment,
                status=PaymentStatus.PAID,
                paid_date=paid_date,
                channel=fields.get("channel") or "",
                user=self.user,
                today=self.today,
                source=self.source,
            )
        except UserError as e:
            self.error(n, "paid_date", str(e))
            return
        self.counts["payments"] += 1

    def return_visit(self, n: int, key: RowKey, effect) -> None:
        from taizhang.cases import actions
        from taizhang.cases.models import Case, CaseAction

        case = Case.objects.filter(pk=key.subject_id).first()
        if case is None:
            self.error(n, "row_key", _("the case of this row is not in the register"))
            return
        on, satisfaction = effect.fields["on"], effect.fields["satisfaction"]
        note = effect.fields.get("note") or ""
        done = CaseAction.objects.filter(case=case, action="return_visit", on=on)
        if any(a.detail.get("satisfaction") == satisfaction for a in done):
            self.counts["return_visits_unchanged"] += 1
            return
        try:
            actions.return_visit(
                case, on=on, satisfaction=satisfaction, note=note, user=self.user, today=self.today
            )
        except UserError as e:
            self.error(n, "date", str(e))
            return
        self.counts["return_visits"] += 1

    def support_result(self, n: int, key: RowKey, effect) -> None:
        from taizhang.ledgers import actions
        from taizhang.ledgers.models import FamilySupport, SupportResult

        number = key.task.rpartition("-")[2]
        support = None
        if number.isdigit():
            support = FamilySupport.objects.filter(
                pk=int(number), household_id=key.subject_id
            ).first()
        if support is None:
            self.error(n, "row_key", _("the support of this row is not in the register"))
            return
        on, result = effect.fields["on"], effect.fields["result"]
        ended_on = None if result == SupportResult.ONGOING else on
        if support.result == result and support.result_on == ended_on and result != "ongoing":
            self.counts["support_results_unchanged"] += 1
            return
        try:
            actions.record_support_result(
                support,
                on=on,
                result=result,
                note=effect.fields.get("note") or "",
                user=self.user,
                today=self.today,
            )
        except UserError as e:
            self.error(n, "date", str(e))
            return
        self.counts["support_results"] += 1

    def add_report(self, n: int, effect) -> None:
        from taizhang.quality import actions

        fields = effect.fields
        value = fields["value"]
        if value != int(value):
            self.error(n, "value", _("the value must be a whole number"))
            return
        day = fields.get("submitted_at")
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time())) if day else None
        report = actions.Report(
            org=fields["org"],
            period=fields["period"],
            item=fields["item"],
            value=int(value),
            submitted_at=moment,
            submitted_by=fields.get("submitted_by") or "",
        )
        try:
            actions.check_reports([report], self.today)
        except UserError as e:
            self.error(n, "value", str(e))
            return
        self.reports.append(report)

    def record_reports(self) -> None:
        from taizhang.quality import actions

        if not self.reports or self.errors:
            return
        counts = actions.record_reports(
            self.reports, user=self.user, source="ledger", today=self.today
        )
        self.counts["reports"] += counts.get("reports", 0)
        self.counts["reports_changed"] += counts.get("changed", 0)
        self.counts["reports_unchanged"] += counts.get("unchanged", 0)


@dataclass
class _Fix:
    """A row returned again with other values: the corrections of its events."""

    before: ReturnedRow
    n: int
    values: dict[str, str]
    effects: list[str]
    requests: list = field(default_factory=list)  # (Return, corrections Request)
    event_ids: list = field(default_factory=list)  # ids, or the Request of a corrected one

    def save(self, record: LedgerFile, now: dt.datetime, by) -> None:
        """The row as returned now; what it said before kept in its history."""
        row = self.before
        row.history = [
            *row.history,
            {
                "values": row.values,
                "event_ids": row.event_ids,
                "effects": row.effects,
                "file": row.file_id,
                "row": row.row,
                "returned_at": row.returned_at.isoformat(),
                "returned_by": row.returned_by_id,
            },
        ]
        row.values, row.event_ids, row.effects = self.values, self.event_ids, self.effects
        row.file, row.row, row.returned_at, row.returned_by = record, self.n, now, by
        row.save()


def _recorded_events(row: ReturnedRow) -> bool:
    """Did the row's return record life events, and only those?"""
    return bool(row.effects) and all(e.startswith("event:") for e in row.effects)


def _effect_names(returns: list[Return]) -> list[str]:
    return [f"{r.target}:{r.kind}" if r.kind else r.target for r in returns]


def _kind_label(kind: str) -> str:
    """An event kind as the register names it (妊娠结局, 出生, ...)."""
    from taizhang.register.models import EventKind

    return str(EventKind(kind).label) if kind in EventKind.values else kind


def _returned_on(row: ReturnedRow) -> str:
    return timezone.localtime(row.returned_at).date().isoformat()


def _generated(doc: ReturnedFile) -> LedgerFile | None:
    """The generated file the returned one was filled in from, when its generation time
    is known (the XLSX's ``_ledger`` sheet holds it, to the second)."""
    if doc.generated_at is None:
        return None
    start = doc.generated_at
    return (
        LedgerFile.objects.filter(
            kind=doc.ledger.kind,
            village=doc.village,
            month=doc.month,
            direction=Direction.GENERATED,
            created_at__gte=start,
            created_at__lt=start + dt.timedelta(seconds=1),
        )
        .order_by("-format", "created_at")  # the xlsx before the pdf and csv of that second
        .first()
    )


def _archive(doc: ReturnedFile, applier: _Applier, *, user, source: str, written) -> LedgerFile:
    record = archive.store(
        doc.content,
        kind=doc.ledger.kind,
        village=doc.village,
        month=doc.month,
        file_format=doc.format,
        rows=applier.counts["applied"] + len(applier.fixes),
        template_version=doc.template_version or TEMPLATE_VERSION,
        user=user,
        source=source,
        direction=Direction.RETURNED,
        original_name=doc.name,
        answers=_generated(doc),
    )
    written.append(archive.path_of(record))
    now = record.created_at
    by = user if user is not None and user.pk else None
    for row in applier.new_rows:
        row.file, row.returned_at, row.returned_by = record, now, by
    ReturnedRow.objects.bulk_create(applier.new_rows)
    for fix in applier.fixes:
        fix.save(record, now, by)
    audit(
        "ledger_return",
        user=by,
        object_type="ledger_file",
        object_id=record.pk,
        org_code=doc.village,
        source=source,
        kind=doc.ledger.kind,
        month=f"{doc.month:06d}",
        format=doc.format,
        sha256=record.sha256,
        answers=record.answers_id,
        counts={k: v for k, v in applier.counts.items() if v},
        rows=[r.row for r in applier.new_rows],
        corrected_rows=[fix.n for fix in applier.fixes],
        persons=sorted(applier.persons),
    )
    return record
