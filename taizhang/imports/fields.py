"""Parsing one field of an import row into a value, or a sentence saying what is wrong.

Each parser returns the value or raises ``FieldError``; the importer turns that into
``row N: column: reason``.
"""

from __future__ import annotations

import datetime as dt

from taizhang.lib import idnumber
from taizhang.lib.periods import DateError, parse_date


class FieldError(ValueError):
    """A field's value is wrong; ``column`` names the field when it is not the one being read."""

    def __init__(self, message: str, column: str | None = None):
        super().__init__(message)
        self.column = column


SEXES = {"M": "M", "F": "F", "男": "M", "女": "F", "m": "M", "f": "F", "1": "M", "2": "F"}
SEX_WORDS = {"M": "male", "F": "female"}


def id_number(raw: str, today: dt.date) -> str:
    if not raw:
        raise FieldError("the ID number is empty")
    try:
        return idnumber.normalize(raw, today=today)
    except idnumber.IDNumberError as e:
        raise FieldError(str(e)) from None


def sex(raw: str) -> str:
    value = SEXES.get(raw.strip())
    if value is None:
        raise FieldError(f"{raw or '(empty)'} is not a sex: use M/F or 男/女")
    return value


def date(raw: str, today: dt.date, *, what: str = "date") -> dt.date:
    if not raw:
        raise FieldError(f"the {what} is empty")
    try:
        value = parse_date(raw)
    except DateError as e:
        raise FieldError(str(e)) from None
    if value > today:
        raise FieldError(f"{value} is in the future")
    return value


def optional_date(raw: str, today: dt.date, *, what: str = "date") -> dt.date | None:
    return date(raw, today, what=what) if raw else None


def village(raw: str, villages: set[str]) -> str:
    if not raw:
        raise FieldError("the village code is empty")
    if not (raw.isdigit() and len(raw) == 12):
        raise FieldError(f"{raw} is not a 12-digit village code")
    if raw not in villages:
        raise FieldError(f"village {raw} is not in the register")
    return raw


def code12(raw: str) -> str:
    if not (raw.isdigit() and len(raw) == 12):
        raise FieldError(f"{raw} is not a 12-digit village code")
    return raw


def integer(raw: str, *, low: int, high: int, what: str) -> int:
    text = raw.strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit():
        raise FieldError(f"{raw} is not a whole number ({what})")
    value = int(text)
    if not low <= value <= high:
        raise FieldError(f"{value} is outside {low}–{high} ({what})")
    return value


def choice(raw: str, choices, *, what: str) -> str:
    """One of ``choices`` (a tuple, in the order the message lists them)."""
    if raw in choices:
        return raw
    value = raw.strip().lower()
    if value not in choices:
        raise FieldError(f"{raw or '(empty)'} is not a {what}: use {'|'.join(choices)}")
    return value


def phone(raw: str) -> str:
    digits = "".join(ch for ch in raw if ch.isdigit())
    plus = "+" if raw.strip().startswith("+") else ""
    if not 5 <= len(digits) <= 15 or any(ch not in "0123456789+-() " for ch in raw):
        raise FieldError(f"{raw} is not a phone number")
    return plus + digits
