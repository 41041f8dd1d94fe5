"""Period codes, integer dates, ages and the reading of typed dates."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taizhang.lib import periods
from taizhang.lib.periods import DateError, Period, PeriodError

D = dt.date

years = st.integers(min_value=1900, max_value=2999)
codes = st.one_of(
    years.map(str),
    st.builds(lambda y, s: f"{y}S{s}", years, st.integers(1, 2)),
    st.builds(lambda y, q: f"{y}Q{q}", years, st.integers(1, 4)),
    st.builds(lambda y, m: f"{y}{m:02d}", years, st.integers(1, 12)),
)
dates = st.dates(min_value=D(1880, 1, 1), max_value=D(2999, 12, 31))


class TestParse:
    def test_it_reads_a_leap_year(self):
        assert periods.parse("2024") == Period("2024", "year", D(2024, 1, 1), D(2024, 12, 31))
        assert periods.parse("2024").days == 366

    def test_it_reads_a_common_year(self):
        assert periods.parse("2023").days == 365

    def test_it_reads_half_years(self):
        assert periods.parse("2024S1") == Period(
            "2024S1", "semester", D(2024, 1, 1), D(2024, 6, 30)
        )
        assert periods.parse("2024S2") == Period(
            "2024S2", "semester", D(2024, 7, 1), D(2024, 12, 31)
        )

    def test_it_reads_quarters(self):
        assert periods.parse("2023Q1") == Period("2023Q1", "quarter", D(2023, 1, 1), D(2023, 3, 31))
        assert periods.parse("2023Q1").days == 31 + 28 + 31
        assert periods.parse("2024Q4").start == D(2024, 10, 1)

    def test_it_reads_a_february_of_a_leap_year(self):
        assert periods.parse("202402") == Period("202402", "month", D(2024, 2, 1), D(2024, 2, 29))

    def test_it_reads_december(self):
        assert periods.parse("202412").end == D(2024, 12, 31)

    def test_it_strips_whitespace_and_accepts_lowercase(self):
        assert periods.parse("  2024q3\n").code == "2024Q3"

    def test_it_reads_full_width_characters(self):
        assert periods.parse("２０２４Ｓ２").code == "2024S2"

    def test_it_accepts_the_first_and_last_years(self):
        assert periods.parse("1900").start == D(1900, 1, 1)
        assert periods.parse("299912").end == D(2999, 12, 31)

    @pytest.mark.parametrize(
        "code", ["2024Q5", "2024Q0", "2024S3", "2024S0", "202413", "202400", "2024-01", "24", "abc"]
    )
    def test_it_refuses_a_code_that_is_not_a_period(self, code):
        with pytest.raises(PeriodError) as caught:
            periods.parse(code)
        assert str(caught.value) == (
            f"period {code} is not a valid period code: use 2024, 2024S1, 2024Q1 or 202401"
        )

    @pytest.mark.parametrize("code", ["1899", "3000Q1", "189912"])
    def test_it_refuses_a_year_out_of_range(self, code):
        with pytest.raises(PeriodError) as caught:
            periods.parse(code)
        assert str(caught.value) == (
            f"period {code} is not a valid period code: the year must be between 1900 and 2999"
        )

    def test_it_says_the_period_is_empty(self):
        with pytest.raises(PeriodError) as caught:
            periods.parse(" ")
        assert str(caught.value) == "the period is empty: use 2024, 2024S1, 2024Q1 or 202401"


class TestPeriod:
    def test_it_gives_its_dates_as_integers(self):
        q = periods.parse("2024Q2")
        assert (q.start_ymd, q.end_ymd) == (20240401, 20240630)

    def test_it_gives_the_day_before_it_starts(self):
        assert periods.parse("2024").day_before_start == D(2023, 12, 31)
        assert periods.parse("202403").day_before_start == D(2024, 2, 29)

    def test_it_knows_its_year(self):
        assert periods.parse("2024S2").year == 2024

    def test_it_contains_its_first_and_last_days_only(self):
        march = periods.parse("202403")
        assert march.contains(D(2024, 3, 1))
        assert march.contains(D(2024, 3, 31))
        assert not march.contains(D(2024, 2, 29))
        assert not march.contains(D(2024, 4, 1))

    def test_it_lists_the_months_of_a_quarter(self):
        assert [m.code for m in periods.parse("2024Q3").months()] == ["202407", "202408", "202409"]

    def test_a_month_is_its_own_only_month(self):
        assert periods.parse("202405").months() == [periods.parse("202405")]

    def test_it_prints_as_its_code(self):
        assert str(periods.parse("2024s1")) == "2024S1"

    @given(codes)
    def test_its_months_tile_it_exactly(self, code):
        period = periods.parse(code)
        months = period.months()
        assert months[0].start == period.start
        assert months[-1].end == period.end
        for before, after in zip(months, months[1:], strict=False):
            assert after.start == before.end + dt.timedelta(days=1)
        assert sum(m.days for m in months) == period.days
        assert all(m.kind == "month" for m in months)

    def test_a_year_has_17_periods(self):
        got = [p.code for p in periods.year_periods(2024)]
        assert got == [
            *(f"2024{m:02d}" for m in range(1, 13)),
            "2024Q1",
            "2024Q2",
            "2024Q3",
            "2024Q4",
            "2024",
        ]
        assert periods.year_periods(2024)[-1] == periods.parse("2024")


class TestIntegerDates:
    def test_it_writes_a_date_as_an_integer(self):
        assert periods.ymd(D(2024, 3, 5)) == 20240305

    def test_it_reads_an_integer_date(self):
        assert periods.from_ymd(20240305) == D(2024, 3, 5)

    @given(dates)
    def test_it_reads_back_what_it_wrote(self, day):
        assert periods.from_ymd(periods.ymd(day)) == day

    @given(dates, dates)
    def test_integers_compare_like_the_dates(self, a, b):
        assert (periods.ymd(a) < periods.ymd(b)) == (a < b)

    def test_it_refuses_an_integer_that_is_not_a_date(self):
        with pytest.raises(DateError) as caught:
            periods.from_ymd(20230229)
        assert str(caught.value) == "20230229 is not a real date (use YYYYMMDD)"


class TestAge:
    def test_a_29_february_birthday_comes_on_1_march_in_a_common_year(self):
        assert periods.age_on(D(2008, 2, 29), D(2023, 2, 28)) == 14
        assert periods.age_on(D(2008, 2, 29), D(2023, 3, 1)) == 15

    def test_a_29_february_birthday_comes_on_the_day_in_a_leap_year(self):
        assert periods.age_on(D(2008, 2, 29), D(2024, 2, 28)) == 15
        assert periods.age_on(D(2008, 2, 29), D(2024, 2, 29)) == 16

    def test_it_counts_the_birthday_itself(self):
        assert periods.age_on(D(1990, 5, 20), D(2024, 5, 19)) == 33
        assert periods.age_on(D(1990, 5, 20), D(2024, 5, 20)) == 34

    def test_it_is_zero_on_the_day_of_birth(self):
        assert periods.age_on(D(2024, 6, 30), D(2024, 6, 30)) == 0

    @given(dates, dates)
    def test_it_equals_the_integer_date_formula(self, birth, day):
        assert periods.age_on(birth, day) == (periods.ymd(day) - periods.ymd(birth)) // 10000

    @given(dates, dates)
    def test_it_equals_the_calendar_definition(self, birth, day):
        if day < birth:
            birth, day = day, birth
        had_birthday = (day.month, day.day) >= (birth.month, birth.day)
        assert periods.age_on(birth, day) == day.year - birth.year - (0 if had_birthday else 1)


class TestShiftYears:
    def test_it_moves_a_date_by_whole_years(self):
        assert periods.shift_years(D(1990, 5, 20), 15) == D(2005, 5, 20)
        assert periods.shift_years(D(1990, 5, 20), -50) == D(1940, 5, 20)

    def test_it_turns_29_february_into_28_february_in_a_common_year(self):
        assert periods.shift_years(D(2008, 2, 29), 15) == D(2023, 2, 28)

    def test_it_keeps_29_february_in_a_leap_year(self):
        assert periods.shift_years(D(2008, 2, 29), 16) == D(2024, 2, 29)


class TestParseDate:
    @pytest.mark.parametrize(
        "text",
        [
            "2024-03-05",
            " 2024-03-05 ",
            "2024/03/05",
            "2024/3/5",
            "2024-3-5",
            "20240305",
            "2024-03-05 00:00:00",
            "2024-03-05T00:00:00",
            "2024-03-05 00:00:00.000",
            "2024年3月5日",
            "２０２４－０３－０５",
        ],
    )
    def test_it_reads_the_accepted_forms(self, text):
        assert periods.parse_date(text) == D(2024, 3, 5)

    def test_it_refuses_a_day_that_does_not_exist(self):
        with pytest.raises(DateError) as caught:
            periods.parse_date("2024-02-30")
        assert str(caught.value) == "2024-02-30 is not a real date (use YYYY-MM-DD)"

    def test_it_refuses_29_february_of_a_common_year(self):
        with pytest.raises(DateError) as caught:
            periods.parse_date("20230229")
        assert str(caught.value) == "20230229 is not a real date (use YYYY-MM-DD)"

    @pytest.mark.parametrize("text", ["05/03/2024", "2024-03", "2024-03/05", "yesterday", "45356"])
    def test_it_refuses_other_forms(self, text):
        with pytest.raises(DateError) as caught:
            periods.parse_date(text)
        assert str(caught.value) == f"{text} is not a date in the form YYYY-MM-DD"

    def test_it_refuses_a_time_of_day(self):
        with pytest.raises(DateError) as caught:
            periods.parse_date("2024-03-05 14:30:00")
        assert str(caught.value) == (
            "2024-03-05 14:30:00 has a time of day: enter the date alone (YYYY-MM-DD)"
        )

    def test_it_says_the_date_is_empty(self):
        with pytest.raises(DateError) as caught:
            periods.parse_date("")
        assert str(caught.value) == "the date is empty (use YYYY-MM-DD)"
