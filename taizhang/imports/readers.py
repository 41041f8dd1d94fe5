"""Reading an import file into a table of strings, before any value is checked.

A file is ``.csv`` (UTF-8 with or without a byte-order mark, or GB18030, as
Excel saves it on Chinese Windows; comma-separated, or tab-separated when the
header has tabs and no commas) or ``.xlsx`` (the first sheet). The first
non-blank row is the header; its labels are matched to the canonical keys of
``columns.COLUMNS``. Every value comes back as a stripped string, so that the
importers check CSV and XLSX files the same way: an XLSX cell holding a number,
a date or a boolean is turned into the text a person would have typed.

Rows are numbered as the person sees them: row 1 is the first row after the
header and blank rows still count, so ``row 7`` in a message is the seventh
row under the header in the spreadsheet. Problems with the file as a whole
(no header, a missing or repeated column, an unreadable file) raise
``FileError`` with a message for the person who made the file.

Hostile and damaged files are refused the same way, never with a crash: a workbook is
inspected before it is read, and read in a child process within limits
(``taizhang.lib.sheets``, profile ``import``); a text with a NUL character, or one that
decodes as GB18030 but is not Chinese in it (Big5, Shift-JIS), is refused
(``taizhang.lib.textfiles``). docs/imports.md, "Limits".
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gc
import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from taizhang.imports.columns import COLUMNS, KINDS, REQUIRED, column_key, guess_kind, label
from taizhang.lib import sheets, textfiles
from taizhang.lib.sheets import SheetError, cell_text

__all__ = ["EXTENSIONS", "FileError", "Table", "cell_text", "read_table", "sha256_of"]

EXTENSIONS = (".csv", ".xlsx")

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc) format
_SNIFF_BYTES = 1 << 16


class FileError(Exception):
    """A problem with the file as a whole; the message is for the person who made it."""


@dataclass
class Table:
    """The rows of an import file as strings, addressed by canonical column key.

    ``columns`` holds one entry per header cell in file order: the canonical key,
    or None for a header that names no column of ``kind`` (those headers are in
    ``ignored``). Each row is ``(n, values)``: ``n`` the data-row number (1 = the
    first row after the header, blank rows counted), ``values`` the stripped cell
    texts aligned with ``columns`` ('' for an empty cell). Fully blank rows are
    left out. ``long_rows`` are the numbers of rows with non-empty cells to the
    right of the last header cell (those cells are not in ``values``).
    """

    kind: str
    columns: list[str | None]
    rows: list[tuple[int, list[str]]]
    ignored: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    long_rows: list[int] = field(default_factory=list)
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = {key: i for i, key in enumerate(self.columns) if key is not None}

    def get(self, values: Sequence[str], key: str) -> str:
        """The value of column ``key`` in one row's ``values``; '' when the file lacks it."""
        i = self.index.get(key)
        return values[i] if i is not None else ""

    def header(self, key: str) -> str:
        """The header the file itself uses for column ``key`` (the key when absent)."""
        i = self.index.get(key)
        return self.headers[i] if i is not None and i < len(self.headers) else key


def read_table(path: str | os.PathLike, kind: str | None = None) -> Table:
    """Read a ``.csv`` or ``.xlsx`` import file of ``kind`` (guessed from the header when None).

    Raises ``FileError`` when the file cannot be read, has no header, misses a
    required column, repeats a column, or (``kind`` None) fits no kind.
    """
    path = Path(path)
    if kind is not None and kind not in COLUMNS:
        raise FileError(f"unknown kind {kind!r}: use {'|'.join(KINDS)}")
    extension = path.suffix.lower()
    if extension not in EXTENSIONS:
        shown = extension or "(no extension)"
        raise FileError(f"unknown file type {shown}: save it as .xlsx or .csv")
    if not path.is_file():
        raise FileError(f"the file {path} does not exist")
    # The rows are lists of strings, which cannot form reference cycles: pausing
    # the cycle collector while millions of them are created saves a third of
    # the time of a large file.
    with collector_paused():
        if extension == ".csv":
            return _csv_table(path, kind)
        return _table(_xlsx_records(path), kind)


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of the file's bytes, in hex: what tells the same file imported twice."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cycle collector (see ``read_table``), restoring it afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _table(records: Iterable[Sequence[str]], kind: str | None) -> Table:
    records = iter(records)
    headers: list[str] | None = None
    for record in records:
        stripped = [v.strip() for v in record]
        if any(stripped):
            headers = stripped
            break
    if headers is None:
        raise FileError("the file has no header row")
    # A sheet's width is that of its widest row: the empty cells that pad the
    # header out to it are not columns, and data under them counts as a long row.
    while not headers[-1]:
        headers.pop()

    if kind is None:
        kind = guess_kind(headers)
        if kind is None:
            raise FileError(f"cannot tell what kind of file this is; give --kind {'|'.join(KINDS)}")
    columns = [column_key(kind, h) if h else None for h in headers]
    _check_columns(kind, headers, columns)
    rows, long_rows = _rows(records, len(columns))
    ignored = [h for h, key in zip(headers, columns, strict=True) if h and key is None]
    return Table(kind, columns, rows, ignored, headers, long_rows)


def _check_columns(kind: str, headers: list[str], columns: list[str | None]) -> None:
    seen: dict[str, str] = {}
    for header, key in zip(headers, columns, strict=True):
        if key is None:
            continue
        if key in seen:
            first = seen[key]
            if first == header:
                raise FileError(f"the column {header} appears twice; keep one")
            raise FileError(
                f"the columns {first} and {header} are both {label(kind, key)}; keep one"
            )
        seen[key] = header
    missing = [key for key in COLUMNS[kind] if key in REQUIRED[kind] and key not in seen]
    if missing:
        names = ", ".join(label(kind, key) for key in missing)
        message = f"missing column{'s' if len(missing) > 1 else ''} {names}"
        other = guess_kind(headers)
        if other is not None and other != kind:
            message += f"; this looks like a {other} file"
        raise FileError(message)


def _rows(
    records: Iterable[Sequence[str]], width: int
) -> tuple[list[tuple[int, list[str]]], list[int]]:
    # The hot loop of a large import: kept to list building and one any() per row.
    rows: list[tuple[int, list[str]]] = []
    long_rows: list[int] = []
    append = rows.append
    for n, record in enumerate(records, 1):
        values = [v.strip() for v in record]
        if len(values) != width:
            if len(values) < width:
                values.extend([""] * (width - len(values)))
            else:
                extra = values[width:]
                del values[width:]
                if any(extra):
                    long_rows.append(n)
                    append((n, values))
                    continue
        if any(values):
            append((n, values))
    return rows, long_rows


# --- CSV ---------------------------------------------------------------------------------


def _csv_table(path: Path, kind: str | None) -> Table:
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    if head.startswith(_ZIP_MAGIC):
        raise FileError("the file is an Excel workbook named .csv: rename it to .xlsx")
    if head.startswith(_OLE_MAGIC):
        raise FileError(
            "the file is an old Excel .xls workbook named .csv: save it as .xlsx or .csv"
        )
    if head.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)  # Excel's "Unicode text"
    else:
        encodings = ("utf-8", "gb18030")
    try:
        if encodings[0] != "utf-16":
            textfiles.check_nul(path)
        delimiter = "\t" if _is_tab_separated(head.decode(encodings[0], errors="replace")) else ","
        # The file is decoded as it is read, so a large file is never held twice in
        # memory; text that is not UTF-8 shows itself on the way and the file is read
        # again as GB18030 — once it reads as Chinese in GB18030 (not Big5, Shift-JIS).
        for encoding in encodings:
            try:
                if encoding == "gb18030":
                    textfiles.check_gb18030(path)
                with open(path, encoding=encoding, newline="") as f:
                    lines = textfiles.checked_lines(f) if encoding == "utf-16" else f
                    return _table(_checked_csv(csv.reader(lines, delimiter=delimiter)), kind)
            except UnicodeDecodeError:
                continue
        raise textfiles.not_text(path)
    except SheetError as e:
        raise FileError(f"the file {e}") from None


def _is_tab_separated(text: str) -> bool:
    """Whether the first non-blank line has tabs and no commas."""
    for line in text.splitlines():
        if line.strip():
            return "\t" in line and "," not in line
    return False


def _checked_csv(reader) -> Iterable[list[str]]:
    try:
        yield from reader
    except csv.Error as e:
        raise FileError(f"the file is not valid CSV near line {reader.line_num}: {e}") from None


# --- XLSX --------------------------------------------------------------------------------


def _xlsx_records(path: Path) -> list[list[str]]:
    try:
        book = sheets.read_xlsx(path, ["#0"], sheets.limits("import"))
    except SheetError as e:
        raise FileError(f"the file {e}") from None
    if book.tables[0] is None:
        raise FileError("the workbook has no sheet")
    return book.tables[0].rows
