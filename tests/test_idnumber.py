"""Resident ID numbers: normalising, checking, the parts of an ID, and making IDs for test data."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from taizhang.lib import idnumber
from taizhang.lib.idnumber import IDNumberError

TODAY = dt.date(2024, 6, 30)

# 1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2 times the weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2:
# 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2; "10X98765432"[2] = "X".
ID_WITH_X = "11010519491231002X"

# 4 1 0 3 2 5 1 9 9 0 0 5 2 0 1 2 3 times the weights:
# 28+9+0+15+16+20+2+9+54+0+0+45+20+0+8+8+6 = 240; 240 mod 11 = 9; "10X98765432"[9] = "3".
ID_1990 = "410325199005201233"

# 4 1 0 3 2 5 1 9 9 0 0 1 0 1 0 0 2 times the weights:
# 28+9+0+15+16+20+2+9+54+0+0+9+0+5+0+0+4 = 171; 171 mod 11 = 6; "10X98765432"[6] = "6".
ID_GIRL = "410325199001010026"

regions = st.from_regex(r"[1-9][0-9]{5}", fullmatch=True)
births = st.dates(min_value=dt.date(1880, 1, 1), max_value=dt.date(2024, 6, 30))
sequences = st.integers(min_value=0, max_value=999)


def error_of(raw: str, today: dt.date = TODAY) -> str:
    with pytest.raises(IDNumberError) as caught:
        idnumber.normalize(raw, today=today)
    return str(caught.value)


class TestCheckDigit:
    def test_it_computes_x_for_a_remainder_of_2(self):
        assert idnumber.check_digit(ID_WITH_X[:17]) == "X"

    def test_it_computes_a_digit(self):
        assert idnumber.check_digit(ID_1990[:17]) == "3"

    @given(st.from_regex(r"[0-9]{17}", fullmatch=True))
    def test_it_agrees_with_python_stdnum(self, first17):
        # stdnum's calc_check_digit expects the whole number and ignores the last character.
        assert idnumber.check_digit(first17) == ric.calc_check_digit(first17 + "0")

    def test_it_refuses_anything_but_17_digits(self):
        with pytest.raises(
            IDNumberError, match="'1234' is not 17 digits, so it has no check digit"
        ):
            idnumber.check_digit("1234")


class TestNormalize:
    def test_it_accepts_a_valid_id(self):
        assert idnumber.normalize(ID_1990, today=TODAY) == ID_1990

    def test_it_uppercases_a_final_x(self):
        assert idnumber.normalize("11010519491231002x", today=TODAY) == ID_WITH_X

    def test_it_drops_spaces_around_and_inside(self):
        assert idnumber.normalize("  410325 19900520 1233 ", today=TODAY) == ID_1990

    def test_it_reads_full_width_digits_and_spaces(self):
        typed = "４１０３２５\u3000１９９００５２０１２３３"
        assert idnumber.normalize(typed, today=TODAY) == ID_1990

    def test_it_upgrades_a_15_digit_old_id(self):
        # 410325 900520 123 -> 410325 19 900520 123, then the check digit 3 (worked out above).
        assert idnumber.normalize("410325900520123", today=TODAY) == ID_1990

    def test_it_uses_today_by_default(self):
        assert idnumber.normalize(ID_WITH_X) == ID_WITH_X

    def test_it_accepts_a_birth_on_today(self):
        born_today = idnumber.make("410325", TODAY, 21)
        assert idnumber.normalize(born_today, today=TODAY) == born_today

    def test_it_says_the_check_digit_is_wrong(self):
        assert error_of("410325199005201234") == "the check digit is wrong (expected 3)"

    def test_it_suspects_excel_when_a_wrong_id_ends_in_000(self):
        # 28+9+0+15+16+20+2+9+54+0+0+9+0+5+0+0+0 = 167; 167 mod 11 = 2 -> "X".
        assert error_of("410325199001010000") == (
            "the check digit is wrong (expected X); an ID ending in 000 often means Excel "
            "stored it as a number: format the column as text and enter the ID again"
        )

    def test_it_says_how_many_characters_there_are(self):
        assert error_of("41032519900520123") == (
            "must have 18 characters (or 15 for an old ID), not 17"
        )

    def test_it_says_the_id_is_empty(self):
        assert error_of("   ") == "the ID number is empty"

    @pytest.mark.parametrize(
        "raw", ["4.10325E+17", "4.10325199001010e+17", "410325199001010000.0", "4E+17"]
    )
    def test_it_recognises_an_excel_number(self, raw):
        assert error_of(raw) == (
            f"looks like an Excel number ({raw}): format the column as text and enter the ID again"
        )

    def test_it_names_a_character_that_is_not_a_digit(self):
        assert error_of("4103251990O5201233") == (
            "character 11 ('O') is not allowed: an ID has 17 digits followed by a digit or X"
        )

    def test_it_allows_x_only_at_the_end(self):
        assert error_of("41032519900520123Y") == (
            "character 18 ('Y') is not allowed: an ID has 17 digits followed by a digit or X"
        )

    def test_it_refuses_x_in_an_old_id(self):
        assert error_of("41032590052012X") == (
            "character 15 ('X') is not allowed: a 15-digit old ID has only digits"
        )

    def test_it_refuses_a_birth_date_that_does_not_exist(self):
        assert error_of("41032519901340002X") == (
            "birth date 19901340 in the ID is not a real date"
        )

    def test_it_refuses_29_february_of_a_common_year(self):
        assert error_of("410325202302290021") == (
            "birth date 20230229 in the ID is not a real date"
        )

    def test_it_refuses_a_birth_date_in_the_future(self):
        tomorrow = idnumber.make("410325", TODAY + dt.timedelta(days=1), 21)
        assert error_of(tomorrow) == "birth date 20240701 in the ID is in the future"

    def test_it_refuses_a_birth_date_before_1880(self):
        old = idnumber.make("410325", dt.date(1879, 12, 31), 21)
        assert error_of(old) == "birth date 18791231 in the ID is before 1880"


class TestParts:
    def test_it_reads_the_birth_date(self):
        assert idnumber.birth_date(ID_1990) == dt.date(1990, 5, 20)

    def test_it_reads_male_from_an_odd_17th_digit(self):
        assert idnumber.sex(ID_1990) == "M"  # sequence 123

    def test_it_reads_female_from_an_even_17th_digit(self):
        assert idnumber.sex(ID_GIRL) == "F"  # sequence 002

    def test_it_reads_the_region(self):
        assert idnumber.region(ID_WITH_X) == "110105"

    def test_it_masks_all_but_the_region_and_the_last_four(self):
        assert idnumber.mask(ID_GIRL) == "410325********0026"

    def test_it_refuses_to_read_a_birth_date_that_does_not_exist(self):
        with pytest.raises(IDNumberError, match="birth date 19900231 in the ID is not a real date"):
            idnumber.birth_date("410325199002310021")


class TestMake:
    def test_it_builds_a_hand_checked_id(self):
        assert idnumber.make("410325", dt.date(1990, 5, 20), 123) == ID_1990

    def test_it_builds_a_female_id(self):
        assert idnumber.make("410325", dt.date(1990, 1, 1), 2) == ID_GIRL

    def test_it_pads_the_sequence_to_three_digits(self):
        assert idnumber.make("110105", dt.date(1949, 12, 31), 2) == ID_WITH_X

    @given(regions, births, sequences)
    def test_it_makes_ids_that_normalize_to_themselves(self, region6, birth, seq):
        made = idnumber.make(region6, birth, seq)
        assert idnumber.normalize(made, today=TODAY) == made
        assert idnumber.birth_date(made) == birth
        assert idnumber.region(made) == region6
        assert idnumber.sex(made) == ("M" if seq % 2 else "F")

    @given(
        regions,
        births,
        sequences,
        st.integers(min_value=0, max_value=16),
        st.integers(min_value=1, max_value=9),
    )
    def test_it_detects_any_one_changed_digit(self, region6, birth, seq, position, step):
        made = idnumber.make(region6, birth, seq)
        digit = str((int(made[position]) + step) % 10)
        changed = made[:position] + digit + made[position + 1 : 17]
        assert idnumber.check_digit(changed) != made[17]

    def test_it_refuses_a_sequence_beyond_three_digits(self):
        with pytest.raises(IDNumberError, match="the sequence number must be 0 to 999, not 1000"):
            idnumber.make("410325", dt.date(1990, 5, 20), 1000)

    def test_it_refuses_a_negative_sequence(self):
        with pytest.raises(IDNumberError, match="the sequence number must be 0 to 999, not -1"):
            idnumber.make("410325", dt.date(1990, 5, 20), -1)

    def test_it_refuses_a_region_that_is_not_6_digits(self):
        with pytest.raises(IDNumberError, match="the region code must be 6 digits, not '41032'"):
            idnumber.make("41032", dt.date(1990, 5, 20), 1)
