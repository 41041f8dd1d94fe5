"""CSV text from outside: the encodings read, and the text refused.

A CSV file is UTF-8 (with or without a byte-order mark) or GB18030, what Excel saves on
Chinese Windows (CONTRACTS.md). Two kinds of file would otherwise get through wrong:

- **A NUL character** (a zero byte) is no text: PostgreSQL refuses it in a text column,
  and the import would end in a traceback. A file holding one is refused, naming the
  line (``check_nul``); a file whose every other byte is zero is UTF-16 without its
  byte-order mark, and is told so.
- **Another legacy encoding.** GB18030 gives a character to nearly every pair of bytes,
  so a Big5 file (Traditional Chinese, Taiwan and Hong Kong) or a Shift-JIS one
  (Japanese) decodes as GB18030 without an error — into garbled names, imported
  silently. A file read as GB18030 is therefore checked to be plausible Chinese
  (``check_gb18030``): of its first ``SAMPLE`` characters outside ASCII, the common
  Chinese ones are those of GB2312 (its 6,763 characters and its punctuation and
  full-width forms, rows 1-3 and 16-87 — what names, villages and notes are written
  with). Big5 read as GB18030 lands among kana, box-drawing characters, the private use
  area and the rare characters of GBK's extensions; Shift-JIS almost entirely among
  the rare ones. The file is refused when two characters or more are kana,
  box-drawing, bopomofo or private-use (no Chinese register has them; in a genuine
  GB18030 file they are next to impossible), or when at least 3 characters, and two
  fifths of all, are no common Chinese characters (Big5 gives about two thirds, Shift-JIS
  nearly all; genuine names have a rare character in one name of a hundred or so). A
  file too small for a share (a name or two) with two such characters is refused when
  its bytes read, as Big5 or Shift-JIS, as that encoding's commonest characters only.
  charset-normalizer names the encoding the file looks like, in the message. A
  single Big5 name with a single garbled character still gets through: that is the
  limit of telling encodings apart by their text. UTF-8 is not checked: text that
  decodes as UTF-8 is UTF-8, and a file saved as UTF-8 is always read as it is.

Refusals are ``taizhang.lib.sheets.SheetError``s, whose reason follows the file's name.
"""

from __future__ import annotations

import codecs
import functools
import os
import re

from taizhang.lib.sheets import SheetError, gettext_noop

SAMPLE = 20_000  # characters outside ASCII looked at in a GB18030 file
_CHUNK = 1024 * 1024
_GUESS_BYTES = 32 * 1024

NUL = gettext_noop(
    "holds a NUL character (a zero byte, which is not text) on line %(line)s: the file is "
    "damaged or is no text file; save it again as CSV"
)
UTF16 = gettext_noop(
    "is UTF-16 text without a byte-order mark (every other byte of it is zero): "
    "save it as CSV UTF-8"
)
NOT_TEXT = gettext_noop("is not valid UTF-8 or GB18030 text")
NOT_TEXT_LIKE = gettext_noop(
    "is not valid UTF-8 or GB18030 text: it looks like %(encoding)s; save it as CSV UTF-8"
)
NOT_CHINESE = gettext_noop(
    "does not read as Chinese in GB18030 (%(bad)s of its %(total)s characters outside "
    "ASCII are no common Chinese characters, e.g. “%(sample)s”): it is in another "
    "encoding; save it as CSV UTF-8"
)
NOT_CHINESE_LIKE = gettext_noop(
    "does not read as Chinese in GB18030 (it would give names like “%(sample)s”): it "
    "looks like %(encoding)s; save it as CSV UTF-8"
)

# charset-normalizer's codec names → how the message names the encoding.
_ENCODINGS = {
    "big5": "Big5 (Traditional Chinese)",
    "big5hkscs": "Big5 (Traditional Chinese)",
    "cp950": "Big5 (Traditional Chinese)",
    "cp932": "Shift-JIS (Japanese)",
    "shift_jis": "Shift-JIS (Japanese)",
    "shift_jis_2004": "Shift-JIS (Japanese)",
    "shift_jisx0213": "Shift-JIS (Japanese)",
    "euc_jp": "EUC-JP (Japanese)",
    "euc_kr": "EUC-KR (Korean)",
    "cp949": "EUC-KR (Korean)",
    "utf_16_le": "UTF-16 without a byte-order mark",
    "utf_16_be": "UTF-16 without a byte-order mark",
}
_CANDIDATES = [
    "gb18030",
    "utf_8",
    "big5",
    "cp950",
    "cp932",
    "euc_jp",
    "euc_kr",
    "utf_16_le",
    "utf_16_be",
]
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_NON_ASCII_BYTE = re.compile(rb"[\x80-\xff]")


def check_nul(source: str | os.PathLike | bytes) -> None:
    """``SheetError`` when the bytes of an ASCII-based text (UTF-8, GB18030) hold a NUL
    character, naming its line. The file is read in chunks; ``find`` is a memchr."""
    line = 1
    for chunk in _chunks(source):
        at = chunk.find(b"\x00")
        if at == -1:
            line += chunk.count(b"\n")
            continue
        if _looks_utf16(chunk):
            raise SheetError(UTF16)
        raise SheetError(NUL, line=line + chunk.count(b"\n", 0, at))


def _looks_utf16(chunk: bytes) -> bool:
    head = chunk[:1024]
    return len(head) >= 8 and (
        head[0::2].count(0) > len(head) // 4 or head[1::2].count(0) > len(head) // 4
    )


def checked_lines(lines, first: int = 1):
    """The lines of a decoded text (UTF-16), ``SheetError`` at the first with a NUL."""
    for n, line in enumerate(lines, first):
        if "\x00" in line:
            raise SheetError(NUL, line=n)
        yield line


def check_gb18030(source: str | os.PathLike | bytes) -> None:
    """``SheetError`` when a text decoded as GB18030 is not plausible Chinese (see the
    module); ``UnicodeDecodeError`` when it is not GB18030 at all."""
    decoder = codecs.getincrementaldecoder("gb18030")()
    sample: list[str] = []
    size = 0
    for chunk in _chunks(source):
        for run in _NON_ASCII.findall(decoder.decode(chunk)):
            sample.append(run)
            size += len(run)
        if size >= SAMPLE:
            break
    else:
        for run in _NON_ASCII.findall(decoder.decode(b"", final=True)):
            sample.append(run)
    text = "".join(sample)[:SAMPLE]
    good = _common_chinese()
    bad = [c for c in text if c not in good]
    if not bad:
        return
    shown = next(run for run in sample if any(c not in good for c in run))[:12]
    strong = sum(_garbled(c) for c in bad)
    if strong >= 2 or (len(bad) >= 3 and len(bad) * 5 >= 2 * len(text)):
        encoding = guess_encoding(source)
        if encoding:
            raise SheetError(NOT_CHINESE_LIKE, sample=shown, encoding=encoding)
        raise SheetError(NOT_CHINESE, bad=len(bad), total=len(text), sample=shown)
    # Too few characters to tell by their share (a file of one name): the file is Big5
    # or Shift-JIS when it reads, in that encoding, as its commonest characters only.
    if len(bad) < 2:
        return
    head = _head(source)
    for codec, encoding, common in _LEGACY:
        if _reads_as(head, codec, common):
            raise SheetError(NOT_CHINESE_LIKE, sample=shown, encoding=encoding)


# A legacy encoding, and the lead bytes of its commonest characters: Big5's 5,401
# frequently used hanzi (A440-C67E); Shift-JIS's punctuation, kana and level-1 kanji.
_LEGACY = (
    ("big5", "Big5 (Traditional Chinese)", frozenset(range(0xA4, 0xC7))),
    ("cp932", "Shift-JIS (Japanese)", frozenset((0x81, 0x82, 0x83, *range(0x88, 0x99)))),
)


def _reads_as(head: bytes, codec: str, common: frozenset[int]) -> bool:
    try:
        text = head.decode(codec)
    except UnicodeDecodeError:
        return False
    chars = "".join(_NON_ASCII.findall(text))
    return bool(chars) and all(c.encode(codec)[0] in common for c in chars)


def not_text(source: str | os.PathLike | bytes) -> SheetError:
    """The refusal of a text that is neither UTF-8 nor GB18030, naming what it looks like."""
    encoding = guess_encoding(source)
    if encoding:
        return SheetError(NOT_TEXT_LIKE, encoding=encoding)
    return SheetError(NOT_TEXT)


def decode(data: bytes) -> str:
    """A whole text in memory: UTF-8 with or without a byte-order mark, or GB18030 that
    reads as Chinese; ``SheetError`` otherwise, and for a NUL character."""
    check_nul(data)
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError:
            raise not_text(data) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise not_text(data) from None
    check_gb18030(data)
    return text


def guess_encoding(source: str | os.PathLike | bytes) -> str | None:
    """The legacy encoding a text looks like to charset-normalizer (Big5, Shift-JIS,
    EUC-KR...), as the message names it; None when it looks like GB18030 or UTF-8, or
    like nothing. It looks at the lines from the first that is not ASCII."""
    from charset_normalizer import from_bytes

    head = _head(source)
    if not head:
        return None
    best = from_bytes(head, cp_isolation=_CANDIDATES).best()
    return _ENCODINGS.get(best.encoding) if best is not None else None


def _head(source: str | os.PathLike | bytes) -> bytes:
    """Up to 32 KB of whole lines, from the first line that is not ASCII."""
    head = b""
    for chunk in _chunks(source):
        found = _NON_ASCII_BYTE.search(chunk)
        if head or found:
            start = 0 if head else chunk.rfind(b"\n", 0, found.start()) + 1
            head += chunk[start : start + _GUESS_BYTES - len(head)]
        if len(head) >= _GUESS_BYTES:
            break
    if len(head) >= _GUESS_BYTES and b"\n" in head:
        head = head[: head.rfind(b"\n") + 1]
    return head


def _chunks(source: str | os.PathLike | bytes):
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        for i in range(0, len(data), _CHUNK):
            yield data[i : i + _CHUNK]
        return
    with open(source, "rb") as f:
        while chunk := f.read(_CHUNK):
            yield chunk


@functools.cache
def _common_chinese() -> frozenset[str]:
    """The characters of GB2312 rows 1-3 (punctuation, symbols, full-width forms) and
    16-87 (the 6,763 hanzi)."""
    chars = set()
    for high in (*range(0xA1, 0xA4), *range(0xB0, 0xF8)):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


def _garbled(c: str) -> bool:
    """Kana, bopomofo, box drawing, half-width katakana or the private use area: what
    Big5 read as GB18030 gives, and no Chinese register holds."""
    o = ord(c)
    return (
        0x3040 <= o <= 0x30FF
        or 0x3100 <= o <= 0x312F
        or 0x2500 <= o <= 0x257F
        or 0xFF61 <= o <= 0xFF9F
        or 0xE000 <= o <= 0xF8FF
    )
