"""Pinyin initials of Chinese names, for finding a person by typing ``wxy`` for 王秀英.

The first character of a name is read as a surname: the surnames whose
reading differs from the character's everyday one (单 Shàn, 曾 Zēng, 解 Xiè,
区 Ōu, ...) use the surname reading. The rest of the name is read by pypinyin,
which uses the words it knows for context (王长江 → ``wcj``, 长 as in 长江).
"""

from __future__ import annotations

import functools
import re
import unicodedata

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT

__all__ = ["initials"]

# Surnames read differently from the character's usual reading, by first letter.
_SURNAMES = {
    "长孙": "zs",
    "尉迟": "yc",
    "万俟": "mq",
    "单": "s",  # Shàn
    "曾": "z",  # Zēng
    "解": "x",  # Xiè
    "区": "o",  # Ōu
    "仇": "q",  # Qiú
    "查": "z",  # Zhā
    "乐": "y",  # Yuè
    "翟": "z",  # Zhái
    "覃": "q",  # Qín
    "种": "c",  # Chóng
    "重": "c",  # Chóng
    "长": "c",  # Cháng
    "繁": "p",  # Pó
    "召": "s",  # Shào
    "折": "s",  # Shé
    "秘": "b",  # Bì
    "隗": "w",  # Wěi
}
_COMPOUND_SURNAMES = {name for name in _SURNAMES if len(name) == 2}

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# Runs of Chinese characters, and runs of anything else.
_RUNS = re.compile(f"(?:{_HAN.pattern})+|(?:(?!{_HAN.pattern}).)+", re.DOTALL)


def initials(name: str) -> str:
    """Lowercase pinyin first letters of a name: 王秀英 → ``wxy``.

    Letters that are not Chinese are kept, lowercased (``Anna王`` → ``annaw``);
    digits, spaces and punctuation are dropped.
    """
    return _initials(name)


@functools.lru_cache(maxsize=1 << 17)
def _initials(name: str) -> str:
    # Names repeat a lot in a county, hence the cache on whole names.
    text = (name if name.isascii() else unicodedata.normalize("NFKC", name)).strip()
    out = []
    if text[:2] in _COMPOUND_SURNAMES:
        out.append(_SURNAMES[text[:2]])
        text = text[2:]
    elif _HAN.match(text):
        out.append(_SURNAMES.get(text[0]) or _char_letter(text[0]))
        text = text[1:]
    for run in _RUNS.findall(text):
        if _HAN.match(run):
            out.append(_han_letters(run))
        else:
            out.extend(c.lower() for c in run if c.isalpha())
    return "".join(out)


def _han_letters(run: str) -> str:
    """First letters of a run of Chinese characters, read in context."""
    if len(run) > 1 and _has_phrase(run):
        letters = lazy_pinyin(run, style=Style.FIRST_LETTER, errors="ignore")
        return "".join(c for c in "".join(letters) if c.isascii() and c.isalpha())
    # No word of pypinyin's dictionary inside: it would read each character on its own.
    return "".join(_char_letter(c) for c in run)


def _has_phrase(run: str) -> bool:
    n = len(run)
    return any(run[i:j] in PHRASES_DICT for i in range(n - 1) for j in range(i + 2, n + 1))


@functools.cache
def _char_letter(char: str) -> str:
    """The first letter of a character's usual reading ('' if pypinyin does not know it)."""
    letters = lazy_pinyin(char, style=Style.FIRST_LETTER, errors="ignore")
    return "".join(c for c in "".join(letters) if c.isascii() and c.isalpha())
