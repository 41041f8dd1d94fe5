"""Spreadsheets from outside, read without letting one of them take the process down.

An ``.xlsx`` file is a zip archive of XML parts, and python-calamine reads a sheet into
a dense rectangle of cells in memory. Files made to hurt — or damaged by accident — do
three things to that reading:

- **a far cell**: one value in XFD1048576 makes the rectangle 1,048,576 × 16,384 cells;
  calamine asks for 512 GB at once and the process aborts (a failed Rust allocation is
  not an exception: a web server dies with it);
- **a zip bomb**: a few MB that unpack to gigabytes of sheet XML;
- **an amplification**: one long shared string referenced from a million cells, each
  of which becomes a Python string of its own.

So a workbook is first inspected without being loaded (``inspect_xlsx``, streaming): it
must be a zip archive, not cut short, of at most ``members`` parts; its parts must
unpack to at most ``unzipped_mb`` together and ``part_mb`` each, at a compression ratio
below ``ratio`` (the sizes actually unpacked, not those the headers claim); and every
cell reference in its XML must lie within ``columns`` columns and ``rows`` rows, the
area up to the farthest cell within ``cells`` cells. Only then is it read
(``read_xlsx``), in a child process whose address space is limited to ``memory_mb``,
its time to ``seconds`` and the text it hands back to ``text_mb``: whatever a file does
to calamine that the inspection did not foresee kills the child only, and the person is
told in a sentence ("… could not be read within the limits: …").

The limits are the ``Limits`` of a profile (``"import"`` for ``taizhang import``,
``"ledger_return"`` for a filled-in ledger, which also comes in through the web), which
``TAIZHANG_SHEET_LIMITS`` in the Django settings may change:
``{"import": {"rows": 500_000}}``. docs/imports.md ("Limits") lists them.

A refusal is a ``SheetError``: ``reason`` is an English phrase that follows the file's
name ("the file has a value in cell XFD1048576, …"), a msgid with ``params``, so that
each caller words the sentence in its own language. This module needs neither Django
nor a database: the child process imports it alone.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import marshal
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from xml.parsers import expat

from taizhang.lib.sheet_child import cell_text

__all__ = ["Limits", "SheetError", "cell_text", "inspect_xlsx", "limits", "read_xlsx"]

MB = 1024 * 1024


def gettext_noop(message: str) -> str:
    """Marks a reason as a message to translate; the caller translates it."""
    return message


@dataclass(frozen=True)
class Limits:
    """What a workbook may be and what reading it may take."""

    members: int = 1_000  # parts in the zip archive
    unzipped_mb: int = 400  # all parts together, unpacked
    part_mb: int = 300  # one part (a sheet's XML), unpacked
    ratio: int = 100  # unpacked : packed, for a part above RATIO_FLOOR unpacked
    rows: int = 1_048_576  # the last row a value may be in
    columns: int = 256  # the last column a value may be in (IV)
    cells: int = 16_777_216  # rows × columns up to the farthest value
    memory_mb: int = 3_072  # the reading child's address space
    seconds: int = 300  # the reading child's time
    text_mb: int = 1_024  # the text the child hands back


# Above a part of this size a compression ratio over ``ratio`` is a zip bomb; small parts
# of repeated markup legitimately pack tighter.
RATIO_FLOOR = 10 * MB

PROFILES = {
    # ``taizhang import``: a county's register may come as a workbook (a million rows is
    # the sheet's own limit; 16 columns of them read in about 1.1 GB).
    "import": Limits(),
    # A ledger of one village and month, from the web too (uploads are 20 MB at most).
    "ledger_return": Limits(
        unzipped_mb=100,
        part_mb=100,
        rows=100_000,
        cells=2_000_000,
        memory_mb=1_024,
        seconds=60,
        text_mb=64,
    ),
}


def limits(profile: str) -> Limits:
    """The limits of ``profile``, with the overrides of ``TAIZHANG_SHEET_LIMITS``."""
    base = PROFILES[profile]
    overrides = _configured().get(profile) or {}
    known = {f.name for f in dataclasses.fields(Limits)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(
            f"TAIZHANG_SHEET_LIMITS[{profile!r}]: no limit {', '.join(unknown)} "
            f"(the limits are {', '.join(sorted(known))})"
        )
    return dataclasses.replace(base, **{k: int(v) for k, v in overrides.items()})


def _configured() -> dict:
    try:
        from django.conf import settings
    except ImportError:  # pragma: no cover - Django is a dependency
        return {}
    if not settings.configured:
        return {}
    return getattr(settings, "TAIZHANG_SHEET_LIMITS", None) or {}


class SheetError(Exception):
    """A file refused as a whole. ``reason`` follows the file's name ("the file …",
    "persons.xlsx …"); it is a msgid, and ``params`` fill it in."""

    def __init__(self, reason: str, **params: object):
        super().__init__(reason % params if params else reason)
        self.reason = reason
        self.params = params


# The reasons: each follows the file's name.
OLD_XLS = gettext_noop("is an old Excel .xls workbook named .xlsx: save it as .xlsx")
PASSWORD = gettext_noop("is protected by a password: save it without one")
NOT_ZIP = gettext_noop(
    "is not a readable .xlsx workbook (it is not a zip archive, which every .xlsx file is)"
)
DAMAGED = gettext_noop(
    "is not a readable .xlsx workbook: it is damaged or cut short (%(detail)s); "
    "copy or upload it again"
)
ODS = gettext_noop("is an OpenDocument spreadsheet (.ods) named .xlsx: save it as .xlsx")
XLSB = gettext_noop("is an Excel binary workbook (.xlsb) named .xlsx: save it as .xlsx")
OTHER_ZIP = gettext_noop("is a zip archive, not an .xlsx workbook (it has no xl/workbook.xml)")
ENCRYPTED = gettext_noop("is an encrypted zip archive, not an .xlsx workbook")
MEMBERS = gettext_noop(
    "is not an ordinary workbook: it holds %(count)s parts, more than the %(limit)s read"
)
UNZIPPED = gettext_noop(
    "unpacks to more than %(limit)s MB, more than is read (a zip bomb is no workbook); "
    "save a table this large as CSV"
)
PART = gettext_noop(
    "unpacks to more than %(limit)s MB in its part %(part)s, more than is read; "
    "save a table this large as CSV"
)
RATIO = gettext_noop(
    "is compressed more than %(ratio)s to 1 in its part %(part)s: that is a zip bomb, "
    "not a workbook"
)
SIZE = gettext_noop(
    "is damaged: its part %(part)s does not unpack to the size its header gives; "
    "copy or upload it again"
)
XML = gettext_noop("is not a readable .xlsx workbook: the XML of %(part)s is damaged (%(detail)s)")
DTD = gettext_noop(
    "is not a readable .xlsx workbook: its part %(part)s declares a DTD, which no workbook has"
)
COLUMNS = gettext_noop(
    "has a value in cell %(cell)s, right of column %(last)s, the last of the %(limit)s "
    "columns read: delete what lies right of the table"
)
ROWS = gettext_noop(
    "has a value in cell %(cell)s, below row %(limit)s, the last row read: "
    "delete what lies below the table"
)
CELLS = gettext_noop(
    "has values as far as row %(rows)s and column %(column)s, an area of %(area)s cells, "
    "more than the %(limit)s read: delete what lies beyond the table, or save a table "
    "this large as CSV"
)
MEMORY = gettext_noop(
    "could not be read within the limits: reading it needs more than %(limit)s MB of memory"
)
TIME = gettext_noop(
    "could not be read within the limits: reading it takes longer than %(limit)s seconds"
)
TEXT = gettext_noop("could not be read within the limits: its text is more than %(limit)s MB")
CRASH = gettext_noop(
    "could not be read: the spreadsheet reader stopped on it (%(detail)s); the file is damaged"
)
UNREADABLE = gettext_noop("is not a readable .xlsx workbook (%(detail)s)")
NO_SHEET = gettext_noop("has no sheet")
NUL = gettext_noop(
    "holds a NUL character (a zero byte, which is not text) in cell %(cell)s of sheet "
    "%(sheet)s: the file is damaged; type the cell again"
)

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP = b"PK\x05\x06"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_CHUNK = 4 * MB


# ---------------------------------------------------------------------------------------
# Inspection


@dataclass
class Inspection:
    """What the inspection found: the parts, their unpacked size, and the farthest cell."""

    parts: int = 0
    unzipped: int = 0
    max_row: int = 0
    max_column: int = 0


def inspect_xlsx(source: str | os.PathLike | bytes, limits: Limits) -> Inspection:
    """Check a workbook (a path or its bytes) against ``limits`` without loading it;
    ``SheetError`` saying why it is refused."""
    with _inspector(source, limits) as inspector:
        return inspector.parts()


@contextlib.contextmanager
def _inspector(source: str | os.PathLike | bytes, limits: Limits) -> Iterator[_Inspector]:
    """The inspector of a workbook whose archive directory passed (``_Inspector.parts``
    goes on to unpack the parts)."""
    with _opened(source) as f:
        head = f.read(1 * MB)
        if head.startswith(_OLE_MAGIC):
            # An encrypted .xlsx is an OLE container too, with an EncryptionInfo stream.
            raise SheetError(PASSWORD if _ENCRYPTION_INFO in head else OLD_XLS)
        if not head.startswith((_ZIP_MAGIC, _EMPTY_ZIP)):
            raise SheetError(NOT_ZIP)
        f.seek(0)
        try:
            archive = zipfile.ZipFile(f)
            infos = archive.infolist()
        except Exception as e:  # zipfile fails on a damaged archive in many ways
            raise SheetError(DAMAGED, detail=_detail(e)) from None
        with archive:
            inspector = _Inspector(archive, infos, limits)
            inspector.directory()
            yield inspector


@contextlib.contextmanager
def _opened(source: str | os.PathLike | bytes) -> Iterator:
    if isinstance(source, bytes | bytearray | memoryview):
        yield io.BytesIO(source)
        return
    with open(source, "rb") as f:
        yield f


def _detail(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text if len(text) <= 200 else text[:200] + "…"


class _Irregular(Exception):
    """A part's cells are not all written as ``<c r="A1"``: read it again with expat."""


class _Inspector:
    def __init__(self, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits):
        self.archive, self.infos, self.limits = archive, infos, limits
        self.found = Inspection(parts=len(infos))

    def directory(self) -> None:
        """What the archive's directory says: the parts, their declared sizes, and the
        workbook part. An honest bomb is refused here, without unpacking it."""
        limits = self.limits
        if len(self.infos) > limits.members:
            raise SheetError(MEMBERS, count=len(self.infos), limit=limits.members)
        if sum(i.file_size for i in self.infos) > limits.unzipped_mb * MB:
            raise SheetError(UNZIPPED, limit=limits.unzipped_mb)
        for info in self.infos:
            self._check_size(info, info.file_size)
        names = {i.filename for i in self.infos}
        if "xl/workbook.xml" not in names:
            if "content.xml" in names or "mimetype" in names:
                raise SheetError(ODS)
            if "xl/workbook.bin" in names:
                raise SheetError(XLSB)
            raise SheetError(OTHER_ZIP)

    def parts(self) -> Inspection:
        """Every part as it really unpacks (the sizes in a header may lie), and the cells
        of every part."""
        for info in self.infos:
            if not info.is_dir():
                self._scan(info)
        return self.found

    def _check_size(self, info: zipfile.ZipInfo, size: int) -> None:
        limits = self.limits
        if size > limits.part_mb * MB:
            raise SheetError(PART, limit=limits.part_mb, part=info.filename)
        if size > RATIO_FLOOR and size > limits.ratio * max(info.compress_size, 1):
            raise SheetError(RATIO, ratio=limits.ratio, part=info.filename)

    def _scan(self, info: zipfile.ZipInfo) -> None:
        try:
            try:
                self._unpack(info, exact=False)
            except _Irregular:
                self._unpack(info, exact=True)
        except (SheetError, _Irregular):
            raise
        except RuntimeError as e:  # zipfile: "File ... is encrypted, password required"
            if "encrypted" in str(e):
                raise SheetError(ENCRYPTED) from None
            raise SheetError(DAMAGED, detail=_detail(e)) from None
        except Exception as e:  # zlib, CRC and header errors of a damaged archive
            raise SheetError(DAMAGED, detail=_detail(e)) from None

    def _unpack(self, info: zipfile.ZipInfo, *, exact: bool) -> None:
        # Read past the declared size, to the real end of the stream, so that a part that
        # unpacks to more than its header says is measured as it is.
        probe = copy.copy(info)
        probe.file_size = self.limits.part_mb * MB + 1
        size = 0
        cells: _Cells | None = None
        with self.archive.open(probe) as stream:
            while chunk := stream.read(_CHUNK):
                if cells is None:
                    cells = _Cells(info.filename, self.limits, chunk, exact=exact)
                size += len(chunk)
                self._check_size(info, size)
                if self.found.unzipped + size > self.limits.unzipped_mb * MB:
                    raise SheetError(UNZIPPED, limit=self.limits.unzipped_mb)
                cells.feed(chunk)
        if cells is not None:
            cells.close()
            self.found.max_row = max(self.found.max_row, cells.max_row)
            self.found.max_column = max(self.found.max_column, cells.max_column)
        if size != info.file_size:
            raise SheetError(SIZE, part=info.filename)
        self.found.unzipped += size


# A cell, and its reference when written as every spreadsheet program writes it:
# ``<c r="B7"``, the reference first. A cell written otherwise (no reference, the
# reference not first, lower case, spaces around ``=``) gives ``(b"", b"")``, and so does
# a cell with a namespace prefix (``_PREFIXED``). Legal XML all: the part is then read
# by expat.
_CELL = re.compile(rb'<c(?=[\s>/])(?: r="([A-Z]+)([0-9]+)")?')
_PREFIXED = re.compile(rb":c[\s>/]")
_IRREGULAR = (b"", b"")
_REFERENCE = re.compile(r"\s*([A-Za-z]+)\s*([0-9]+)\s*")
_CARRY = 4096


class _Cells:
    """The farthest cell of one part, checked against the limits as the part streams by.

    The fast way finds every ``<c r="B7"`` with a regular expression; a part with a
    cell written any other way is read again by expat (``exact``), which follows the
    cells the way calamine places them (a cell without a reference comes right of the
    one before it, in the row of its ``<row>``). A part that does not start as XML
    (an image) has only its regular references looked for.
    """

    def __init__(self, part: str, limits: Limits, first: bytes, *, exact: bool):
        self.part, self.limits = part, limits
        self.max_row = self.max_column = 0
        self.columns: set[bytes] = set()
        self.carry = b""
        start = first.lstrip(b"\xef\xbb\xbf \t\r\n")
        utf16 = first.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in first[:64]
        self.xml = start.startswith(b"<") or utf16
        self.parser = None
        if self.xml and (exact or utf16):
            self.parser = self._expat()
            self.row = self.column = 0

    # -- the fast way

    def feed(self, chunk: bytes) -> None:
        if self.parser is not None:
            self._parse(chunk, final=False)
            return
        data = self.carry + chunk
        cut = data.rfind(b"<")
        if cut == -1:
            body, self.carry = data, b""
        else:
            # The last tag may go on in the next chunk; a reference is at its start.
            body, self.carry = data[:cut], data[cut : cut + _CARRY]
        self._scan(body)

    def close(self) -> None:
        if self.parser is not None:
            self._parse(b"", final=True)
        else:
            self._scan(self.carry)

    def _scan(self, body: bytes) -> None:
        refs = _CELL.findall(body)
        if self.xml:
            if _IRREGULAR in refs or _PREFIXED.search(body):
                raise _Irregular
        else:
            refs = [r for r in refs if r[1]]
        if not refs:
            return
        rows = max(map(int, map(itemgetter(1), refs)))
        if rows > self.limits.rows:
            found = next(r for r in refs if int(r[1]) == rows)
            self._cell(column_number(found[0].decode()), rows)
        new = set(map(itemgetter(0), refs)) - self.columns
        if new:
            self.columns |= new
            widest = max(new, key=lambda c: (len(c), c))
            column = column_number(widest.decode())
            if column > self.limits.columns:
                found = next(r for r in refs if r[0] == widest)
                self._cell(column, int(found[1]))
            self.max_column = max(self.max_column, column)
        self.max_row = max(self.max_row, rows)
        self._area()

    # -- the exact way

    def _expat(self):
        parser = expat.ParserCreate(namespace_separator="}")
        parser.StartElementHandler = self._start
        parser.StartDoctypeDeclHandler = self._dtd
        parser.EntityDeclHandler = self._dtd
        return parser

    def _dtd(self, *args) -> None:
        raise SheetError(DTD, part=self.part)

    def _parse(self, chunk: bytes, *, final: bool) -> None:
        try:
            self.parser.Parse(chunk, final)
        except expat.ExpatError as e:
            raise SheetError(XML, part=self.part, detail=_detail(e)) from None

    def _start(self, name: str, attrs: dict) -> None:
        local = name.rpartition("}")[2]
        if local == "row":
            r = attrs.get("r", "").strip()
            self.row = int(r) if r.isdigit() else self.row + 1
            self.column = 0
        elif local == "c":
            found = _REFERENCE.fullmatch(attrs.get("r", ""))
            if found:
                column, row = column_number(found[1]), int(found[2])
            else:
                column, row = self.column + 1, max(self.row, 1)
            self.column = column
            self._cell(column, row)

    # -- both

    def _cell(self, column: int, row: int) -> None:
        if column > self.limits.columns:
            raise SheetError(
                COLUMNS,
                cell=_shown(column, row),
                last=column_letters(self.limits.columns),
                limit=self.limits.columns,
            )
        if row > self.limits.rows:
            raise SheetError(ROWS, cell=_shown(column, row), limit=self.limits.rows)
        self.max_row = max(self.max_row, row)
        self.max_column = max(self.max_column, column)
        self._area()

    def _area(self) -> None:
        area = self.max_row * self.max_column
        if area > self.limits.cells:
            raise SheetError(
                CELLS,
                rows=self.max_row,
                column=column_letters(self.max_column),
                area=area,
                limit=self.limits.cells,
            )


def column_number(letters: str) -> int:
    """``A`` → 1, ``Z`` → 26, ``AA`` → 27, ``XFD`` → 16384."""
    n = 0
    for letter in letters.upper():
        n = n * 26 + ord(letter) - 64
    return n


def column_letters(n: int) -> str:
    """1 → ``A``, 27 → ``AA``, 16384 → ``XFD``."""
    letters = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _shown(column: int, row: int) -> str:
    if column > 18_278:  # beyond ZZZ: a reference no spreadsheet makes
        return f"R{row}C{column}"
    return f"{column_letters(column)}{row}"


# ---------------------------------------------------------------------------------------
# Reading, in a child process


@dataclass
class SheetRows:
    """One sheet as text. ``rows[i]`` is the sheet's row ``i + 1`` (the blank rows above
    the first value included); ``rows[i][j]`` its column ``first_column + j + 1``."""

    name: str
    first_row: int  # the 0-based row of the first value
    first_column: int  # the 0-based column of the first value
    rows: list[list[str]]


@dataclass
class Workbook:
    sheets: list[str]  # the names of the sheets, in order
    tables: list[SheetRows | None]  # one per sheet asked for; None when there is none


def read_xlsx(source: str | os.PathLike | bytes, wanted: Sequence[str], limits: Limits) -> Workbook:
    """Inspect a workbook (a path or its bytes) and read the sheets ``wanted`` as text in
    a child process. Each of ``wanted`` is ``#N`` (the sheet at index N), ``=NAME`` (the
    sheet of that name) or ``!NAME`` (the first sheet not named NAME).

    The child starts once the archive's directory has passed, and reads while this
    process unpacks and scans the parts: the inspection costs no time on a machine with
    a second processor, and this process never loads the file. A refusal of the
    inspection stops the child and is the one reported.

    ``SheetError`` when the file is refused, cannot be read, or holds a NUL character."""
    with _inspector(source, limits) as inspector, _as_path(source) as path:
        child = _spawn(path, wanted, limits)
        try:
            inspector.parts()
            result = _collect(child, limits)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            child.stdout.close()
            child.stderr.close()
    _, names, tables = result
    book = Workbook(list(names), [])
    for table in tables:
        if table is None:
            book.tables.append(None)
            continue
        name, first_row, first_column, rows, nul = table
        if nul is not None:
            i, j = nul
            raise SheetError(NUL, cell=_shown(first_column + j + 1, i + 1), sheet=name)
        book.tables.append(SheetRows(name, first_row, first_column, rows))
    return book


@contextlib.contextmanager
def _as_path(source: str | os.PathLike | bytes) -> Iterator[str]:
    if not isinstance(source, bytes | bytearray | memoryview):
        yield os.fspath(source)
        return
    # An upload is handed to the child as a file of this process's account alone.
    with tempfile.TemporaryDirectory(prefix="taizhang-sheet-") as folder:
        path = Path(folder) / "upload.xlsx"
        path.write_bytes(source)
        yield str(path)


# The child starts isolated (-I: no environment, no user site) and without the site
# module (-S): on its path only the folders of taizhang and of python_calamine.
_BOOT = (
    "import sys; sys.path[:0] = sys.argv[1:3]; "
    "from taizhang.lib.sheet_child import main; main(sys.argv[3:])"
)


def _spawn(path: str, wanted: Sequence[str], limits: Limits) -> subprocess.Popen:
    import python_calamine

    folders = [
        str(Path(__file__).resolve().parents[2]),  # the folder of taizhang
        str(Path(python_calamine.__file__).resolve().parents[1]),
    ]
    command = [sys.executable, "-I", "-S", "-c", _BOOT, *folders]
    command += [str(limits.memory_mb), str(limits.seconds), path, *wanted]
    return subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _collect(child: subprocess.Popen, limits: Limits) -> tuple:
    """What the child read: ``("ok", names, tables)``; ``SheetError`` when it failed, took
    longer than ``limits.seconds`` or said more than ``limits.text_mb``."""
    deadline = time.monotonic() + limits.seconds
    out: list[bytes] = []
    err: list[bytes] = []
    size = 0
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ, out)
        selector.register(child.stderr, selectors.EVENT_READ, err)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise SheetError(TIME, limit=limits.seconds)
            for key, _ in selector.select(left):
                data = os.read(key.fd, 1 * MB)
                if not data:
                    selector.unregister(key.fileobj)
                elif key.data is out:
                    size += len(data)
                    if size > limits.text_mb * MB:
                        raise SheetError(TEXT, limit=limits.text_mb)
                    out.append(data)
                elif sum(map(len, err)) < 64 * 1024:
                    err.append(data)
    try:
        status = child.wait(max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        raise SheetError(TIME, limit=limits.seconds) from None
    errors = b"".join(err)
    if status == 0:
        try:
            result = marshal.loads(b"".join(out))
        except (ValueError, EOFError, TypeError) as e:
            raise SheetError(CRASH, detail=_detail(e)) from None
        if result[0] == "ok":
            return result
        _, code, detail = result
        if code == "password":
            raise SheetError(PASSWORD)
        if code == "memory":
            raise SheetError(MEMORY, limit=limits.memory_mb)
        raise SheetError(UNREADABLE, detail=detail)
    # Out of memory: calamine's allocation failed (abort), Python's did, or the kernel
    # ended the child. Out of time: the processor limit's signal.
    if b"memory allocation" in errors or b"MemoryError" in errors or status == -signal.SIGKILL:
        raise SheetError(MEMORY, limit=limits.memory_mb)
    if status == -signal.SIGXCPU:
        raise SheetError(TIME, limit=limits.seconds)
    if status < 0:
        try:
            detail = f"signal {signal.Signals(-status).name}"
        except ValueError:
            detail = f"signal {-status}"
    else:
        lines = errors.decode("utf-8", "replace").strip().splitlines()
        detail = lines[-1] if lines else f"exit status {status}"
    raise SheetError(CRASH, detail=_detail(Exception(detail)))
