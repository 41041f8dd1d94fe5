"""Cells of the CSV and XLSX files Taizhang writes, safe to open in a spreadsheet.

A name, a petition's subject or an org unit's name is typed by people, and a spreadsheet
takes a cell that begins with ``=``, ``+``, ``-`` or ``@`` for a formula (CSV injection:
``=HYPERLINK(...)`` leaks data, ``+cmd|' /C calc'!A0`` runs a program through DDE).
Every CSV and XLSX export goes through this module; a test makes sure none writes
around it (tests/test_export_injection.py).

- **CSV** (``csv_writer``, ``DictWriter``, ``neutralise``): the OWASP rule. A text cell
  beginning with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed is
  written with a single quote ``'`` in front, which a spreadsheet shows as text. A text
  that is a plain number (``-0.5``, ``+3``, ``1e-3``) is a number, not a formula, and is
  left as it is, as is every value that is not text (ints, floats, decimals): a negative
  indicator value stays a negative number.
- **XLSX** (``workbook``, ``write``): the workbook never turns a string into a formula,
  a link or a number (XlsxWriter's ``strings_to_formulas``, ``strings_to_urls`` and
  ``strings_to_numbers`` off), and ``write`` writes text with ``write_string``. A string
  cell is never evaluated, so no quote is added: the cell holds exactly the text, and a
  filled-in ledger read back gets exactly what was printed.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import math
import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "TRIGGERS",
    "WORKBOOK_OPTIONS",
    "DictWriter",
    "csv_row",
    "csv_writer",
    "is_number_text",
    "neutralise",
    "workbook",
    "write",
]

# The first characters that make a spreadsheet read a cell as a formula (OWASP), with the
# line feed: some spreadsheets drop a leading line break and read what follows.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

# XlsxWriter's options that turn strings into something else: all off.
WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def is_number_text(text: str) -> bool:
    """Whether ``text`` is a plain decimal number (a sign, digits, a point, an exponent)."""
    return _NUMBER.fullmatch(text) is not None


def neutralise(value: Any) -> Any:
    """``value`` as a CSV cell that no spreadsheet reads as a formula: a text beginning
    with one of ``TRIGGERS`` gets a leading ``'`` unless it is a plain number; anything
    else is returned unchanged."""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not is_number_text(value):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a row through ``neutralise``."""
    return [neutralise(v) for v in values]


class _SafeWriter:
    """A ``csv.writer`` whose every cell goes through ``neutralise``."""

    def __init__(self, writer):
        self._writer = writer

    @property
    def dialect(self):
        return self._writer.dialect

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(csv_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(f, dialect: str | type[csv.Dialect] = "excel", **fmtparams) -> _SafeWriter:
    """``csv.writer(f, ...)`` that writes safe cells."""
    return _SafeWriter(csv.writer(f, dialect, **fmtparams))


class DictWriter(csv.DictWriter):
    """``csv.DictWriter`` that writes safe cells (the header too)."""

    def __init__(self, f, fieldnames, *args, **kwargs):
        super().__init__(f, fieldnames, *args, **kwargs)
        self.writer = _SafeWriter(self.writer)


def workbook(out, options: dict | None = None):
    """An ``xlsxwriter.Workbook`` writing to ``out`` (in memory) that never turns a string
    into a formula, a link or a number, whatever ``options`` say."""
    import xlsxwriter

    return xlsxwriter.Workbook(out, {"in_memory": True, **(options or {}), **WORKBOOK_OPTIONS})


def write(sheet, row: int, col: int, value: Any, cell_format=None) -> None:
    """One cell by the value's type: a number (int, float, Decimal; not a bool) as a
    number, nothing as a blank cell, a date as its ISO text, anything else as a string
    (``write_string``: never a formula). A float that is not finite is written as text."""
    if value is None:
        sheet.write_blank(row, col, None, cell_format)
    elif isinstance(value, bool):
        sheet.write_string(row, col, "yes" if value else "no", cell_format)
    elif isinstance(value, int | float) and math.isfinite(value):
        sheet.write_number(row, col, value, cell_format)
    elif isinstance(value, decimal.Decimal) and value.is_finite():
        sheet.write_number(row, col, float(value), cell_format)
    elif isinstance(value, dt.date):
        sheet.write_string(row, col, value.isoformat(), cell_format)
    else:
        sheet.write_string(row, col, str(value), cell_format)
