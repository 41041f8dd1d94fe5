"""Pinyin initials of names."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypinyin import Style, lazy_pinyin

from taizhang.lib.pinyin import initials

# Surnames read as usual, and given-name characters, some with several readings
# (长 cháng/zhǎng, 强 qiáng/jiàng, 平 píng/bìng) and some forming words (长江, 春华).
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "秀英芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰长江春华国建重朝行乐"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("王秀英", "wxy"),
        ("李娜", "ln"),
        ("欧阳娜娜", "oynn"),
        ("张 丽", "zl"),
        ("  王秀英  ", "wxy"),
    ],
)
def test_it_takes_the_first_letter_of_each_syllable(name, expected):
    assert initials(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("单秀英", "sxy"),  # Shàn, not dān
        ("曾伟", "zw"),  # Zēng, not céng
        ("解放", "xf"),  # Xiè, not jiě
        ("区志强", "ozq"),  # Ōu, not qū
        ("仇海", "qh"),  # Qiú, not chóu
        ("翟志刚", "zzg"),  # Zhái, not dí
        ("长孙无忌", "zswj"),  # the compound surname Zhǎngsūn
        ("长明", "cm"),  # the surname Cháng
    ],
)
def test_it_reads_a_first_character_as_a_surname(name, expected):
    assert initials(name) == expected


def test_it_reads_the_given_name_with_word_context():
    assert initials("王长江") == "wcj"  # 长 as in 长江 cháng, not zhǎng
    assert initials("李长") == "lz"  # alone, 长 takes its usual reading zhǎng


def test_it_keeps_other_letters_lowercased():
    assert initials("Anna王") == "annaw"
    assert initials("王Anna") == "wanna"


def test_it_drops_digits_spaces_and_punctuation():
    assert initials("张3 丽") == "zl"
    assert initials("阿依古丽·买买提") == "ayglmmt"


def test_it_reads_full_width_letters():
    assert initials("ＡＢ王") == "abw"


def test_an_empty_name_has_no_initials():
    assert initials("") == ""


@given(st.sampled_from(SURNAMES), st.text(alphabet=GIVEN, min_size=1, max_size=3))
def test_it_agrees_with_pypinyin_for_the_given_name(surname, given_name):
    by_pypinyin = lazy_pinyin(surname, style=Style.FIRST_LETTER) + lazy_pinyin(
        given_name, style=Style.FIRST_LETTER
    )
    assert initials(surname + given_name) == "".join(by_pypinyin)
