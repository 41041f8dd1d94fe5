"""The rules of a target, without the database: which direction is better by default, and
reading an indicator code, a year, a target value and a direction typed by a person.

Each reader returns the value or raises ``UserError`` with a sentence naming the problem;
the import turns it into ``row N: column: reason`` and the web form shows it.
"""

from __future__ import annotations

import decimal
import unicodedata
from decimal import Decimal

from django.utils.translation import gettext as _

from taizhang.errors import UserError
from taizhang.indicators.definitions import INDICATORS_BY_CODE

GE, LE = "ge", "le"

# Indicators where a lower figure is better; every other one is "higher is better".
LOWER_IS_BETTER: frozenset[str] = frozenset(
    {
        "SRB",
        "CDR",
        "DEATHS",
        "BIRTH_ORDER_3P",
        # The register's error rates (漏册率, 漏管率, 差错率).
        "UNDER_REGISTRATION",
        "UNSERVED_RATE",
        "ENTRY_ERROR_RATE",
    }
)

DIRECTION_WORDS: dict[str, str] = {
    "ge": GE,
    ">=": GE,
    "≥": GE,
    "≧": GE,
    "不低于": GE,
    "le": LE,
    "<=": LE,
    "≤": LE,
    "≦": LE,
    "不高于": LE,
    "不超过": LE,
}
SYMBOLS = {GE: "≥", LE: "≤"}

FIRST_YEAR, LAST_YEAR = 2000, 2100
# DecimalField(max_digits=14, decimal_places=2): at most 12 digits before the point.
LIMIT = Decimal(10) ** 12


def default_direction(code: str) -> str:
    return LE if code in LOWER_IS_BETTER else GE


def indicator_code(raw: str) -> str:
    code = unicodedata.normalize("NFKC", raw).strip().upper()
    if not code:
        raise UserError(_("the indicator code is empty"))
    if code not in INDICATORS_BY_CODE:
        raise UserError(_("%(code)s is not an indicator code") % {"code": raw.strip()})
    return code


def year(raw: str | int) -> int:
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if text.endswith(".0"):  # a year typed in a spreadsheet cell formatted as a number
        text = text[:-2]
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise UserError(
            _("%(text)s is not a year from %(first)s to %(last)s")
            % {"text": text or _("(empty)"), "first": FIRST_YEAR, "last": LAST_YEAR}
        )
    return int(text)


def value(raw: str | Decimal | float | int) -> Decimal:
    """A target value: a number with at most 2 decimals (figures are reported to 2)."""
    text = unicodedata.normalize("NFKC", str(raw)).strip().replace(",", "")
    try:
        number = Decimal(text)
    except decimal.InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise UserError(_("%(text)s is not a number") % {"text": text or _("(empty)")})
    if number != number.quantize(Decimal("0.01"), rounding=decimal.ROUND_DOWN):
        raise UserError(_("%(text)s has more than 2 decimals") % {"text": text})
    if abs(number) >= LIMIT:
        raise UserError(_("%(text)s is too large for a target") % {"text": text})
    return number.quantize(Decimal("0.01"))


def direction(raw: str, code: str) -> str:
    """``ge`` or ``le`` from ≥/≤, >=/<=, ge/le; the indicator's default when empty."""
    text = unicodedata.normalize("NFKC", raw).strip().lower().replace(" ", "")
    if not text:
        return default_direction(code)
    found = DIRECTION_WORDS.get(text)
    if found is None:
        raise UserError(_("%(text)s is not a direction: use ≥ or ≤ (ge/le)") % {"text": raw})
    return found
