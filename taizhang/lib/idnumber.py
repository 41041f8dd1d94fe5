"""Chinese resident ID numbers (居民身份证号码, GB 11643-1999).

An ID has 18 characters: a 6-digit region code (GB/T 2260), the birth date as
YYYYMMDD, a 3-digit sequence number whose parity gives the sex (odd = male),
and a check digit (ISO 7064 MOD 11-2) that is ``0``-``9`` or ``X``. IDs issued
before 1999 had 15 digits (two-digit year, no check digit); ``normalize``
upgrades them.

Every error is an ``IDNumberError`` whose text is a sentence for the person who
typed the ID, e.g. "the check digit is wrong (expected 7)".
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import unicodedata

from taizhang import clock

__all__ = [
    "IDNumberError",
    "birth_date",
    "check_digit",
    "make",
    "mask",
    "normalize",
    "region",
    "sex",
]

# ISO 7064 MOD 11-2 as GB 11643 writes it out: weight i is 2**(17-i) mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH = dt.date(1880, 1, 1)
_DIGITS = frozenset("0123456789")


class IDNumberError(ValueError):
    """An ID number that cannot be right; ``str(e)`` says why, for people."""


def _check_char(first17: str) -> str:
    # No validation: callers have made sure these are 17 ASCII digits.
    return _CHECK_CHARS[_weighted_sum(first17, _WEIGHTS) % 11]


def check_digit(first17: str) -> str:
    """The check character (``0``-``9`` or ``X``) for the first 17 digits of an ID."""
    if len(first17) != 17 or not _DIGITS.issuperset(first17):
        raise IDNumberError(f"{first17!r} is not 17 digits, so it has no check digit")
    return _check_char(first17)


def _looks_like_excel_number(text: str) -> bool:
    # A spreadsheet that took the ID for a number shows it as 4.10325E+17 or
    # 410325199001010000.0; neither can be an ID, and the digits are lost.
    return "." in text or "e+" in text.lower()


def normalize(raw: str, *, today: dt.date | None = None) -> str:
    """Check an ID number as typed and return it as 18 characters.

    Spaces anywhere are dropped, full-width digits become ASCII, a final ``x``
    becomes ``X``, and a 15-digit old ID is upgraded to 18. The birth date must
    be a real date between 1880-01-01 and ``today`` (default: the current
    date), and the check digit must be right.
    """
    text = str(raw)
    if not text.isascii():
        # Chinese input methods type full-width digits (０-９) and spaces (U+3000).
        text = unicodedata.normalize("NFKC", text)
    text = "".join(text.split())
    if not text:
        raise IDNumberError("the ID number is empty")
    if _looks_like_excel_number(text):
        raise IDNumberError(
            f"looks like an Excel number ({text}): format the column as text and enter the ID again"
        )
    if len(text) == 15:
        if not _DIGITS.issuperset(text):
            raise IDNumberError(f"{_first_bad_char(text, 15)}: a 15-digit old ID has only digits")
        first17 = f"{text[:6]}19{text[6:]}"
        id18 = first17 + _check_char(first17)
    elif len(text) == 18:
        id18 = text[:17] + "X" if text[17] == "x" else text
        if not _DIGITS.issuperset(id18[:17]) or id18[17] not in _CHECK_CHARS:
            raise IDNumberError(
                f"{_first_bad_char(id18, 18)}: an ID has 17 digits followed by a digit or X"
            )
    else:
        raise IDNumberError(f"must have 18 characters (or 15 for an old ID), not {len(text)}")
    _check_birth_date(id18[6:14], today or clock.today())
    expected = _check_char(id18[:17])
    if id18[17] != expected:
        message = f"the check digit is wrong (expected {expected})"
        if id18.endswith("000"):
            # Excel keeps 15 significant digits, turning the last three into 000.
            message += (
                "; an ID ending in 000 often means Excel stored it as a number: "
                "format the column as text and enter the ID again"
            )
        raise IDNumberError(message)
    return id18


def _first_bad_char(text: str, length: int) -> str:
    for position, char in enumerate(text, start=1):
        allowed = _DIGITS if position < 18 or length == 15 else _CHECK_CHARS
        if char not in allowed:
            return f"character {position} ({char!r}) is not allowed"
    return "a character is not allowed"  # pragma: no cover - callers found one


def _check_birth_date(yyyymmdd: str, today: dt.date) -> dt.date:
    try:
        birth = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        raise IDNumberError(f"birth date {yyyymmdd} in the ID is not a real date") from None
    if birth < _EARLIEST_BIRTH:
        raise IDNumberError(f"birth date {yyyymmdd} in the ID is before 1880")
    if birth > today:
        raise IDNumberError(f"birth date {yyyymmdd} in the ID is in the future")
    return birth


def birth_date(id18: str) -> dt.date:
    """The birth date written in an 18-character ID."""
    try:
        return dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
    except ValueError:
        raise IDNumberError(f"birth date {id18[6:14]} in the ID is not a real date") from None


def sex(id18: str) -> str:
    """``'M'`` if the sequence number (17th digit) is odd, else ``'F'``."""
    return "M" if (ord(id18[16]) - 48) % 2 else "F"


def region(id18: str) -> str:
    """The 6-digit region code (GB/T 2260) where the ID was first issued."""
    return id18[:6]


def mask(id18: str) -> str:
    """The ID with the birth date and most of the sequence hidden: ``410325********0021``."""
    return f"{id18[:6]}********{id18[-4:]}"


def make(region6: str, birth: dt.date, seq: int) -> str:
    """Build a valid 18-character ID from a region code, a birth date and a sequence 0..999.

    The sequence's parity gives the sex (odd = male). Meant for data
    generators, which call it about a million times: the weighted sums of
    every field are looked up in tables rather than recomputed digit by digit.
    """
    region_sum = _REGION_SUMS.get(region6)
    if region_sum is None:
        if len(region6) != 6 or not _DIGITS.issuperset(region6):
            raise IDNumberError(f"the region code must be 6 digits, not {region6!r}")
        region_sum = _REGION_SUMS[region6] = _weighted_sum(region6, _WEIGHTS[:6])
    if not 0 <= seq <= 999:
        raise IDNumberError(f"the sequence number must be 0 to 999, not {seq}")
    years, months, days, seqs = _make_tables()
    year_text, year_sum = years[birth.year]
    month_text, month_sum = months[birth.month]
    day_text, day_sum = days[birth.day]
    seq_text, seq_sum = seqs[seq]
    check = _CHECK_CHARS[(region_sum + year_sum + month_sum + day_sum + seq_sum) % 11]
    return f"{region6}{year_text}{month_text}{day_text}{seq_text}{check}"


_REGION_SUMS: dict[str, int] = {}


def _weighted_sum(digits: str, weights: tuple[int, ...]) -> int:
    # map() over bytes keeps this at ~1 µs: it runs once per row of every import.
    return sum(map(operator.mul, weights, digits.encode("ascii"))) - 48 * sum(
        weights[: len(digits)]
    )


_Table = list[tuple[str, int]]


@functools.cache
def _make_tables() -> tuple[_Table, _Table, _Table, _Table]:
    """For each field of ``make``: value -> (its digits, their weighted sum)."""

    def table(count: int, width: int, weights: tuple[int, ...]) -> _Table:
        rows = []
        for value in range(count):
            text = f"{value:0{width}d}"
            rows.append((text, _weighted_sum(text, weights)))
        return rows

    return (
        table(10000, 4, _WEIGHTS[6:10]),
        table(13, 2, _WEIGHTS[10:12]),
        table(32, 2, _WEIGHTS[12:14]),
        table(1000, 3, _WEIGHTS[14:17]),
    )
