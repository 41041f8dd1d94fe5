"""Laying a ledger's table out on a grid of monospaced character cells, for the PDF.

A ledger can run to hundreds of rows, and a county prints hundreds of thousands a month.
Laying each table cell out as its own box costs WeasyPrint about half a millisecond, so
the table is set the way printed forms were: in Noto Sans Mono CJK SC, where a Chinese
character is exactly two half-width cells and a Latin letter or digit one, each row's
cells are wrapped to their column's width here, and each page becomes one block of text
lines. The rules between cells and the QR codes are drawn behind the text as one SVG and
one PNG per page, at the same coordinates. A page costs WeasyPrint a few boxes instead of
a thousand; what is printed is the same text, selectable and searchable.

Widths come from the font itself (``fontTools``, which WeasyPrint depends on); a
character the font does not hold at one or two cells wide is printed as its compatibility
form or "?".
"""

from __future__ import annotations

import functools
import math
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field

MONO_FAMILY = "Noto Sans Mono CJK SC"


@functools.cache
def _font_widths():
    """The mono font's cmap and advance widths (in ems), or None when it is not found."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        found = subprocess.run(
            [fc_match, "-f", "%{file}\n%{index}", MONO_FAMILY],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.split("\n")
        from fontTools.ttLib import TTFont

        font = TTFont(found[0], fontNumber=int(found[1] or 0), lazy=True)
        if "Mono" not in font["name"].getDebugName(4):
            return None
        return font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    except (ImportError, OSError, subprocess.SubprocessError, ValueError, IndexError, KeyError):
        return None


@functools.lru_cache(maxsize=65536)
def cells_of(ch: str) -> int:
    """How many half-width cells a character takes: 1 or 2; 0 if it must be replaced."""
    metrics = _font_widths()
    if metrics is None:
        return 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    cmap, hmtx, units = metrics
    glyph = cmap.get(ord(ch))
    if glyph is None:
        return 0
    advance = hmtx[glyph][0] / units
    if advance == 0.5:
        return 1
    if advance == 1.0:
        return 2
    return 0


# Characters the font sets at other widths, and what stands for them on the grid.
SUBSTITUTES = {"–": "-", "—": "-", "‐": "-", "‒": "-", "−": "-"}


@functools.lru_cache(maxsize=4096)
def printable(ch: str) -> str:
    """The character as printed on the grid: itself, its compatibility form, a substitute
    (a dash for a dash), or '?'."""
    if ch in "\t\r\n":
        return " "
    if cells_of(ch):
        return ch
    for folded in (unicodedata.normalize("NFKC", ch), SUBSTITUTES.get(ch, "")):
        if folded and all(cells_of(c) for c in folded):
            return folded
    return "?"


def width(text: str) -> int:
    return sum(cells_of(c) for c in text)


def clean(text: str) -> str:
    return "".join(printable(c) for c in text)


def wrap(text: str, cells: int) -> list[str]:
    """``text`` broken into lines of at most ``cells`` half-width cells (a break may fall
    anywhere, as in Chinese text; a space at the start of a continued line is dropped)."""
    lines, current, used = [], "", 0
    for ch in clean(text):
        w = cells_of(ch) or 1
        if used + w > cells:
            lines.append(current)
            current, used = "", 0
            if ch == " ":
                continue
        current += ch
        used += w
    lines.append(current)
    return lines


def pad(text: str, cells: int) -> str:
    return text + " " * (cells - width(text))


@dataclass
class GridRow:
    lines: list[str]  # each exactly the grid's width
    key: str = ""  # the row key drawn as a QR code in the last column ("" for the header)


@dataclass
class Grid:
    """Columns of ``widths`` cells (each with one blank cell either side), the last one
    kept for the QR code; ``fill`` marks the columns the worker fills in."""

    widths: list[int]
    fill: list[bool]
    min_lines: int = 3  # a row is at least as tall as its QR code
    header: GridRow | None = None
    rows: list[GridRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(w + 2 for w in self.widths)

    def boundaries(self) -> list[int]:
        """The x of every rule between columns, in cells, from the left edge."""
        out, x = [0], 0
        for w in self.widths:
            x += w + 2
            out.append(x)
        return out

    def make_row(self, texts: list[str], key: str = "", min_lines: int | None = None) -> GridRow:
        wrapped = [wrap(t, w) for t, w in zip(texts, self.widths, strict=True)]
        height = max(min_lines if min_lines is not None else self.min_lines, *map(len, wrapped))
        lines = []
        for k in range(height):
            parts = [
                pad(cell[k] if k < len(cell) else "", w)
                for cell, w in zip(wrapped, self.widths, strict=True)
            ]
            lines.append(" " + "  ".join(parts) + " ")
        return GridRow(lines, key)


def fit_widths(widths: list[int], available: int) -> list[int]:
    """Widen the columns (all but the last) to fill ``available`` cells, in proportion."""
    total = sum(w + 2 for w in widths)
    extra = available - total
    if extra <= 0:
        return list(widths)
    body = widths[:-1]
    share = sum(body)
    grown = [w + math.floor(extra * w / share) for w in body]
    left = available - sum(w + 2 for w in grown) - (widths[-1] + 2)
    for i in sorted(range(len(grown)), key=lambda i: -body[i])[: max(0, left)]:
        grown[i] += 1
    return [*grown, widths[-1]]


def paginate(rows: list[GridRow], header: GridRow, first: int, then: int) -> list[list[GridRow]]:
    """Rows split into pages of at most ``first`` lines (the first page) and ``then`` lines
    (the others), the header's lines counted on every page; a row is never split."""
    pages: list[list[GridRow]] = [[]]
    room = first - len(header.lines)
    for row in rows:
        if len(row.lines) > room and pages[-1]:
            pages.append([])
            room = then - len(header.lines)
        pages[-1].append(row)
        room -= len(row.lines)
    return pages
