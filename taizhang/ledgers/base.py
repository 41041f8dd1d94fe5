"""The parts a ledger is declared with (``taizhang.ledgers.declarations``).

- :class:`Column` — a printed column, filled from the register.
- :class:`FillColumn` — a column the village worker fills in: a date, a choice among coded
  answers (:class:`Choice`), a number or a text. ``parse`` reads a filled cell back with a
  sentence for a wrong value.
- :class:`Return` — what filled values become when the file comes back, as data: a life
  event, a benefit payment, a case's return visit, a support result, a reported figure.
  ``effects`` applies a ledger's returns to one filled row.
- :class:`Ledger` — one ledger: kind, titles, what it lists, its columns and its returns.
- :class:`Request` and :class:`Row` — the villages and month asked for, and one listed row.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from taizhang.errors import UserError
from taizhang.lib.periods import DateError, parse_date

if TYPE_CHECKING:
    from taizhang.ledgers.rowkeys import RowKey
    from taizhang.lib.periods import Period

FILL_TYPES = ("date", "choice", "number", "text")
TEXT_MAX = 200


@dataclass(frozen=True)
class Choice:
    """A coded answer: ``code`` is what a return carries (``stored``, when given, is what
    the register keeps instead, e.g. a stop reason's words); ``zh`` is printed."""

    code: str
    zh: str
    en: str
    stored: str = ""

    @property
    def value(self) -> str:
        return self.stored or self.code


@dataclass(frozen=True)
class Column:
    """A printed column: ``key`` names the cell of each row; ``width`` in characters."""

    key: str
    zh: str
    en: str
    width: int = 10


@dataclass(frozen=True)
class FillColumn:
    """A column the worker fills in. ``tag``, when given, prefixes the value where several
    columns are joined into one field (a referral written into the findings)."""

    key: str
    zh: str
    en: str
    type: str  # one of FILL_TYPES
    choices: tuple[Choice, ...] = ()
    low: float | None = None  # numbers: the allowed range
    high: float | None = None
    width: int = 10
    tag: str = ""

    def __post_init__(self):
        if self.type not in FILL_TYPES:
            raise ValueError(
                f"fill column {self.key}: type {self.type!r} is not one of {FILL_TYPES}"
            )
        if (self.type == "choice") != bool(self.choices):
            raise ValueError(f"fill column {self.key}: only a choice has choices")

    def labels(self) -> list[str]:
        """The answers as printed (the XLSX drop-down list)."""
        return [c.zh for c in self.choices]

    def choice(self, code: str) -> Choice:
        return next(c for c in self.choices if c.code == code)

    def parse(self, raw: Any, *, today: dt.date) -> Any:
        """The value of a filled cell: a date, a choice's code, a number (int or Decimal) or
        a text; None for an empty cell. A wrong value raises ``UserError`` naming the
        column (its Chinese label) and what is wrong."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        name = f"{self.zh} ({self.key})"
        if self.type == "date":
            if isinstance(raw, dt.datetime):
                raw = raw.date()
            if isinstance(raw, dt.date):
                value = raw
            else:
                try:
                    value = parse_date(str(raw))
                except DateError as e:
                    raise UserError(f"{name}: {e}") from None
            if value > today:
                raise UserError(
                    _("%(column)s: %(date)s is in the future.")
                    % {"column": name, "date": value.isoformat()}
                )
            return value
        text = str(raw).strip()
        if self.type == "choice":
            for c in self.choices:
                if text in (c.code, c.zh, c.en) or text.lower() in (c.code, c.en.lower()):
                    return c.code
            raise UserError(
                _("%(column)s: %(value)s is not one of the answers: %(answers)s.")
                % {"column": name, "value": text, "answers": "、".join(self.labels())}
            )
        if self.type == "number":
            try:
                number = decimal.Decimal(text.replace(",", ""))
            except decimal.InvalidOperation:
                raise UserError(
                    _("%(column)s: %(value)s is not a number.") % {"column": name, "value": text}
                ) from None
            if not number.is_finite():
                raise UserError(
                    _("%(column)s: %(value)s is not a number.") % {"column": name, "value": text}
                )
            if (self.low is not None and number < self.low) or (
                self.high is not None and number > self.high
            ):
                raise UserError(
                    _("%(column)s: %(value)s is outside %(low)s–%(high)s.")
                    % {"column": name, "value": text, "low": self.low, "high": self.high}
                )
            return int(number) if number == number.to_integral_value() else number
        if len(text) > TEXT_MAX:
            raise UserError(
                _("%(column)s: the text is longer than %(max)s characters.")
                % {"column": name, "max": TEXT_MAX}
            )
        return text


# What a return writes, and through which action (see ``Return``).
TARGETS: dict[str, str] = {
    "event": "a life event of the row's person: taizhang.register.actions.record_events, the "
    "fields being events-file column keys (taizhang.imports.events.event_from_values)",
    "benefits.payment": "the row's payment of the month: taizhang.benefits.actions."
    "record_payment(status, paid_date, channel, reference)",
    "cases.return_visit": "taizhang.cases.actions.return_visit(on, satisfaction, note) on the "
    "row's case",
    "family.result": "taizhang.ledgers.actions.record_support_result(on, result, note) on the "
    "support named by the row's task",
    "reports.figure": "a row of the `reports` import kind (org, period, item, value, "
    "submitted_at, submitted_by) for the row's item",
    "note": "nothing in the register: kept with the returned file",
}


@dataclass(frozen=True)
class Return:
    """What filled values become on return, declared as data.

    The return applies to a row when its task starts with one of ``tasks`` (any row when
    empty), every fill column of ``when`` is filled, and each fill column of ``values``
    holds one of the codes given. ``fields`` maps the target's fields to a source: a fill
    column's key, ``"=text"`` for a constant, ``"@month"`` / ``"@village"`` / ``"@item"``
    for facts of the row's key, or a tuple of fill keys whose filled values are joined by
    ';' (each prefixed by its column's ``tag``). ``kind`` is the event kind for ``"event"``.
    """

    target: str
    fields: Mapping[str, str | tuple[str, ...]]
    when: tuple[str, ...] = ()
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tasks: tuple[str, ...] = ()
    kind: str = ""
    describe: str = ""  # the rule in words, for people

    def __post_init__(self):
        if self.target not in TARGETS:
            raise ValueError(f"return target {self.target!r} is not one of {list(TARGETS)}")
        if (self.target == "event") != bool(self.kind):
            raise ValueError("an event return names its event kind, and only an event return")

    def applies(self, task: str, filled: Mapping[str, Any]) -> bool:
        if self.tasks and not task.startswith(self.tasks):
            return False
        if any(filled.get(k) in (None, "") for k in self.when):
            return False
        return all(filled.get(k) in codes for k, codes in self.values.items())


@dataclass(frozen=True)
class Effect:
    """One change a returned row asks for: ``target`` (TARGETS), the event ``kind``, the
    subject of the row and the target's ``fields`` (dates as ``datetime.date``)."""

    target: str
    kind: str
    subject: str
    subject_id: int
    task: str
    fields: dict[str, Any]

    def as_text(self) -> dict[str, str]:
        """The fields as text (dates ISO): what an events-file row would hold."""
        return {
            k: v.isoformat() if isinstance(v, dt.date) else ("" if v is None else str(v))
            for k, v in self.fields.items()
        }


@dataclass
class Row:
    """One row of a ledger: the task and subject its key names, the printed cells, the
    fill-in cells written in advance (``prefill``, codes of choices), and the person whose
    ID and phone the row prints (so that printing is audited)."""

    village: str
    task: str
    subject: str  # person | enrolment | case | household | orgunit
    subject_id: int
    cells: dict[str, Any]
    prefill: dict[str, Any] = field(default_factory=dict)
    person_id: int | None = None
    sort_key: tuple = ()
    key: str = ""  # set when the ledger is built


@dataclass(frozen=True)
class Request:
    """Ledgers asked for: the villages whose codes lie in ``[low, high]`` (one village, a
    township's, or a run of them) and a month (a ``Period`` of kind month). ``memo`` keeps
    what several ledgers of the same request share (the follow-ups due, the people in a
    life stage), so each is queried once."""

    low: str
    high: str
    month: Period
    memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def village(cls, code: str, month: Period) -> Request:
        return cls(code, code, month)

    @property
    def month_number(self) -> int:
        return int(self.month.code)

    def remember(self, key, compute: Callable[[], Any]) -> Any:
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


@dataclass(frozen=True)
class Ledger:
    """One ledger, declared once.

    ``number`` is its place among the nine (0 for the two added ones); ``lists`` says in
    words what it lists and ``rows`` is the set-based query that lists it for every village
    of a :class:`Request` at once (each row names its village); ``tasks`` names the kinds
    of row (task code prefix → zh, en).
    """

    kind: str
    number: int
    title_zh: str
    title_en: str
    lists: str
    rows: Callable[[Request], list[Row]]
    columns: tuple[Column, ...]
    fill: tuple[FillColumn, ...]
    returns: tuple[Return, ...]
    tasks: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self):
        keys = [c.key for c in self.columns] + [c.key for c in self.fill]
        if len(keys) != len(set(keys)):
            raise ValueError(f"ledger {self.kind}: column keys repeat")
        fill_keys = {c.key for c in self.fill}
        for r in self.returns:
            named = set(r.when) | set(r.values)
            for source in r.fields.values():
                sources = source if isinstance(source, tuple) else (source,)
                named |= {s for s in sources if not s.startswith(("=", "@"))}
            if named - fill_keys:
                raise ValueError(f"ledger {self.kind}: a return names {named - fill_keys}")

    def fill_column(self, key: str) -> FillColumn:
        return next(c for c in self.fill if c.key == key)

    def task_label(self, task: str, language: str = "zh") -> str:
        # The longest declared prefix names the task ("WITHIN-IN" before "IN").
        for prefix in sorted(self.tasks, key=len, reverse=True):
            if task.startswith(prefix):
                zh, en = self.tasks[prefix]
                return zh if language == "zh" else en
        return task

    def parse_row(self, values: Mapping[str, Any], *, today: dt.date) -> dict[str, Any]:
        """The filled cells of one returned row (fill key → raw value) read by their
        columns' types; a wrong value raises ``UserError``."""
        return {c.key: c.parse(values.get(c.key), today=today) for c in self.fill}

    def effects(self, key: RowKey, filled: Mapping[str, Any]) -> list[Effect]:
        """What the filled row (``parse_row``'s values) of the row ``key`` asks for, in the
        order of the declared returns (a method stopped before the new one starts)."""
        out = []
        for r in self.returns:
            if not r.applies(key.task, filled):
                continue
            out.append(
                Effect(
                    target=r.target,
                    kind=r.kind,
                    subject=key.subject,
                    subject_id=key.subject_id,
                    task=key.task,
                    fields={name: self._value(src, key, filled) for name, src in r.fields.items()},
                )
            )
        return out

    def _value(self, source, key: RowKey, filled: Mapping[str, Any]) -> Any:
        if isinstance(source, tuple):
            parts = []
            for k in source:
                v = filled.get(k)
                if v in (None, ""):
                    continue
                column = self.fill_column(k)
                text = column.choice(v).value if column.type == "choice" else str(v)
                parts.append(f"{column.tag}:{text}" if column.tag else text)
            return ";".join(parts)
        if source.startswith("="):
            return source[1:]
        if source == "@month":
            return f"{key.month:06d}"
        if source == "@village":
            return key.village
        if source == "@item":
            return key.task.lower().replace("-", "_")
        column = self.fill_column(source)
        value = filled.get(source)
        if column.type == "choice" and value is not None:
            return column.choice(value).value
        return value
