"""The child process that reads a workbook for ``taizhang.lib.sheets`` (and ``cell_text``).

It is started as ``python -I -S -c ...`` with the folders of ``taizhang`` and of
``python_calamine`` on its path, so that it starts in a few hundredths of a second and
imports nothing but this module and calamine. Its limits are set before calamine is
imported: an address space of ``memory_mb`` (a failed allocation of calamine's aborts the
child, one of Python's raises ``MemoryError``), ``seconds`` of processor time, no core
file. It writes one marshalled tuple to standard output:

- ``("ok", names, tables)``: the workbook's sheet names and, per sheet asked for, None
  or ``(name, first_row, first_column, rows, nul)`` — ``rows`` as text (``cell_text``),
  ``nul`` the ``(row, column)`` indexes of the first cell holding a NUL character;
- ``("error", code, detail)``: ``password``, ``memory`` or ``unreadable``.
"""

from __future__ import annotations

import datetime as dt
import marshal
import os
import sys

MB = 1024 * 1024


def main(args: list[str]) -> None:
    """Read the sheets asked for and write them, marshalled, to standard output."""
    import gc

    memory_mb, seconds, path, *wanted = args
    gc.disable()  # lists of strings hold no cycles
    _limit(int(memory_mb), int(seconds))
    try:
        result = read(path, wanted)
    except MemoryError:
        result = ("error", "memory", "")
    except BaseException as e:  # a Rust panic arrives as pyo3's PanicException
        result = ("error", *_error(e))
    try:
        data = marshal.dumps(result)
    except MemoryError:
        del result
        data = marshal.dumps(("error", "memory", ""))
    out = sys.stdout.buffer
    out.write(data)
    out.flush()
    os._exit(0)


def _limit(memory_mb: int, seconds: int) -> None:
    try:
        import resource
    except ImportError:  # not a POSIX system: the parent's wall-clock limit still holds
        return
    for kind, value in (
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_AS, memory_mb * MB),
        (resource.RLIMIT_CPU, seconds + 1),
    ):
        try:
            hard = resource.getrlimit(kind)[1]
            soft = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(kind, (soft, hard))
        except (ValueError, OSError):
            pass


def read(path: str, wanted: list[str]) -> tuple:
    from python_calamine import CalamineWorkbook

    tables: list = []
    with CalamineWorkbook.from_path(path) as book:
        names = list(book.sheet_names)
        for spec in wanted:
            name = pick(names, spec)
            if name is None:
                tables.append(None)
                continue
            sheet = book.get_sheet_by_name(name)
            first_row, first_column = sheet.start or (0, 0)
            rows = [[cell_text(v) for v in row] for row in sheet.iter_rows()]
            tables.append((name, first_row, first_column, rows, _first_nul(rows)))
    return ("ok", names, tables)


def pick(names: list[str], spec: str) -> str | None:
    """The sheet ``spec`` names: ``#N`` (the sheet at index N), ``=NAME`` or ``!NAME``
    (the first sheet not named NAME)."""
    how, value = spec[:1], spec[1:]
    if how == "#":
        i = int(value)
        return names[i] if i < len(names) else None
    if how == "=":
        return value if value in names else None
    if how == "!":
        return next((n for n in names if n != value), None)
    raise ValueError(f"no sheet {spec!r}: use #N, =NAME or !NAME")


def _first_nul(rows: list[list[str]]) -> tuple[int, int] | None:
    for i, row in enumerate(rows):
        if "\x00" in "".join(row):
            return i, next(j for j, v in enumerate(row) if "\x00" in v)
    return None


def _error(e: BaseException) -> tuple[str, str]:
    name = type(e).__name__
    if name == "PasswordError":
        return "password", ""
    text = str(e).strip()
    if name not in ("CalamineError", "XmlError", "ZipError", "WorksheetNotFound", "OSError"):
        text = f"{name}: {text}"
    return "unreadable", text if len(text) <= 200 else text[:200] + "…"


# Above 1e15 a double no longer holds every integer, so an 18-digit ID number
# stored as a number has already lost its last digits; it is shown the way
# Excel shows it and the ID check rejects it.
_EXACT_INTEGER_LIMIT = 1e15


def cell_text(value: object) -> str:
    """The text of one spreadsheet cell as a person would have typed it.

    Integers (and floats holding an integer below 1e15) give their digits, so a
    village code stored as a number still reads ``410325100201``. Larger floats
    have lost digits: they give Excel's scientific text (``4.10325199001010E+17``)
    for the ID check to reject. Other floats give up to 15 significant digits.
    Dates give ``YYYY-MM-DD``; date-times ``YYYY-MM-DD HH:MM:SS`` unless at
    midnight; booleans ``TRUE``/``FALSE``.
    """
    kind = type(value)
    if kind is str:
        return value
    if kind is float:
        if abs(value) < _EXACT_INTEGER_LIMIT:
            if value.is_integer():
                return str(int(value))
            text = f"{value:.15g}"
            if "e" not in text:
                return text
        return f"{value:.14E}"
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is int:
        return str(value)
    if kind is dt.datetime:
        # Excel stores times as fractions of a day; round off the float noise.
        try:
            value = (value + dt.timedelta(microseconds=500_000)).replace(microsecond=0)
        except OverflowError:  # the last instant of the year 9999
            value = value.replace(microsecond=0)
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if kind is dt.date:
        return value.isoformat()
    if kind is dt.time:
        return value.replace(microsecond=0).isoformat()
    if value is None:
        return ""
    return str(value)
