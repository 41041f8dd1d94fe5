"""The maintained figures (``taizhang.figures``): kept up to date by every write, equal to
the figures counted from the register's records, and made again by
``taizhang rebuild-figures``.

The county is the hand-built one (tests/data/handbuilt, its figures worked out by hand in
test_handbuilt_indicators.py), imported through the command: every figure of 2024 there
is read from the maintained counts. Here: what a correction does to them, worked out by
hand from the same county (its README names who is who), and that they are what counting
the records gives, for every period and level.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import kept_indicator_codes

from taizhang.figures import measures, store
from taizhang.figures.models import Cell
from taizhang.indicators.engine import compute, compute_many, counted_from_records, records_behind
from taizhang.register import actions
from taizhang.register.merges import find_person
from taizhang.register.models import Event

DATA = Path(__file__).parent / "data" / "handbuilt"
COUNTY = "410325"
A = "410325100"  # 城关镇: villages A1 and A2
A1 = "410325100201"

P03 = "410325198806120156"  # 张伟, male sterilisation since 2019-05-10, husband of P04
P08 = "410325198512030286"  # 孙丽, pill since 2015
P09 = "410325198301300194"  # 周斌, dies 2024-09-15, husband of P08


def figures(result: dict, *codes: str) -> dict:
    return {
        i["code"]: (i["value"], i["numerator"], i["denominator"])
        for i in result["indicators"]
        if i["code"] in codes
    }


def retract(id_number: str, kind: str) -> None:
    person = find_person(id_number)
    event = Event.objects.get(person=person, kind=kind)
    outcome = actions.correct_event(event.pk, replacement=None, reason="entered by mistake")
    assert not outcome.problems, outcome.problems


def kept_and_counted(periods: list[str], levels=(None, "township", "village")):
    """Every indicator the maintained figures keep, read from them and counted."""
    codes = kept_indicator_codes()
    kept = compute_many(COUNTY, periods, codes, list(levels))
    with counted_from_records():
        counted = compute_many(COUNTY, periods, codes, list(levels))
    return kept, counted


@pytest.mark.django_db
class TestKeptOnEveryWrite:
    def test_the_imported_county_is_kept_and_its_figures_are_the_counted_ones(
        self, hand_built_county
    ):
        assert store.shape() is not None
        # Population, fertility, contraception, moves, methods started and stopped, users
        # by method, home and timely births: all but the services on a schedule, the
        # register-quality rates, benefits and petitions.
        assert len(kept_indicator_codes()) == 60
        kept, counted = kept_and_counted(["2023", "2024", "2024S2", "2024Q1", "202403", "202409"])
        assert kept == counted

    def test_a_retracted_death_gives_back_a_person_and_a_marriage_at_once(self, hand_built_county):
        codes = ("POP_END", "DEATHS", "MWRA", "CPR")
        # County 2024 (test_handbuilt_indicators): END 32, deaths 2 (P09 and a child),
        # MWRA 10, of whom 7 use a method.
        assert figures(compute(COUNTY, "2024"), *codes) == {
            "POP_END": (32, 32, None),
            "DEATHS": (2, 2, None),
            "MWRA": (10, 10, None),
            "CPR": (70.0, 7, 10),
        }
        retract(P09, "death")
        # P09 lives on; his wife P08 (39, pill since 2015) is married at the end of 2024.
        assert figures(compute(COUNTY, "2024"), *codes) == {
            "POP_END": (33, 33, None),
            "DEATHS": (1, 1, None),
            "MWRA": (11, 11, None),
            "CPR": (72.73, 8, 11),
        }
        kept, counted = kept_and_counted(["2024", "202409", "2024Q3", "2025"])
        assert kept == counted

    def test_a_husbands_retracted_method_leaves_his_wife_without_one(self, hand_built_county):
        # P04 has no method of her own: the couple's is P03's sterilisation.
        before = figures(compute(A, "2024"), "CPR", "MCPR")
        retract(P03, "method_start")
        after = figures(compute(A, "2024"), "CPR", "MCPR")
        for code in ("CPR", "MCPR"):
            (_, used, women), (_, used_after, women_after) = before[code], after[code]
            assert (used_after, women_after) == (used - 1, women)
        kept, counted = kept_and_counted(["2024", "2019", "201906"])
        assert kept == counted

    def test_a_declared_number_of_births_moves_the_parity_at_once(
        self, hand_built_county, taizhang, tmp_path
    ):
        # In June 2024 P08 (married to P09 until his death in September, no births) has
        # parity 0; the persons file now says she had three children before registering.
        before = figures(compute(COUNTY, "2024Q2"), "PARITY_0", "PARITY_2P")
        rows = (DATA / "persons.csv").read_text(encoding="utf-8").splitlines()
        changed = [row[: row.rindex(",")] + ",3" if row.startswith(P08) else row for row in rows]
        assert changed != rows
        (tmp_path / "persons.csv").write_text("\n".join(changed) + "\n", encoding="utf-8")
        result = taizhang("import", tmp_path / "persons.csv", "--kind", "persons")
        assert result.exit_code == 0, result.output
        after = figures(compute(COUNTY, "2024Q2"), "PARITY_0", "PARITY_2P")
        assert after["PARITY_0"][1:] == (before["PARITY_0"][1] - 1, before["PARITY_0"][2])
        assert after["PARITY_2P"][1:] == (before["PARITY_2P"][1] + 1, before["PARITY_2P"][2])
        kept, counted = kept_and_counted(["2024Q2", "2024"])
        assert kept == counted

    def test_a_check_up_writes_no_count(self, hand_built_county):
        cells = sorted(Cell.objects.values_list("measure", "unit", "month", "kind", "key", "n"))
        person = find_person(P08)
        outcome = actions.record_events(
            [actions.EventFacts("checkup", _day("2024-10-01"), person.pk)]
        )
        assert not outcome.problems, outcome.problems
        assert Event.objects.filter(person=person, kind="checkup").exists()
        after = sorted(Cell.objects.values_list("measure", "unit", "month", "kind", "key", "n"))
        assert after == cells

    def test_the_records_behind_each_kept_count_are_as_many_as_it(self, hand_built_county):
        result = compute(A1, "2024")
        for entry in result["indicators"]:
            code = entry["code"]
            if code in ("POP_END", "POP_START", "BIRTHS", "DEATHS", "MWRA"):
                assert len(records_behind(code, A1, "2024")) == entry["numerator"], code
            if code in ("CPR", "MCPR", "PARITY_0", "PARITY_1", "PARITY_2P", "BIRTH_ORDER_2"):
                assert len(records_behind(code, A1, "2024")) == entry["numerator"], code
                assert (
                    len(records_behind(code, A1, "2024", "denominator")) == (entry["denominator"])
                ), code


def _day(iso: str):
    import datetime as dt

    return dt.date.fromisoformat(iso)


@pytest.mark.django_db
class TestRebuild:
    def test_a_wrong_count_is_named_by_the_check_and_put_right_by_the_rebuild(
        self, hand_built_county, taizhang
    ):
        assert taizhang("rebuild-figures", "--check").exit_code == 0
        cell = Cell.objects.filter(measure="pop", unit=A1, kind="s").order_by("month").first()
        Cell.objects.filter(pk=cell.pk).update(n=cell.n + 5)
        checked = taizhang("rebuild-figures", "--check")
        assert checked.exit_code == 1
        december = measures.yyyymm(measures.from_yyyymm(cell.month))
        assert (
            f"pop at the end of {december} in {A1}: stored {cell.n + 5}, recomputed {cell.n}"
            in checked.output
        )
        assert "1 differed from the stored ones" in checked.output
        rebuilt = taizhang("rebuild-figures", "--org", A)
        assert rebuilt.exit_code == 0, rebuilt.output
        assert "1 differed" in rebuilt.output
        assert taizhang("rebuild-figures", "--check").exit_code == 0
        assert Cell.objects.get(pk__isnull=False, measure="pop", unit=A1, kind="s",
                                month=cell.month).n == cell.n  # fmt: skip

    def test_an_unknown_org_unit_is_refused_with_a_sentence(self, hand_built_county, taizhang):
        result = taizhang("rebuild-figures", "--org", "999")
        assert result.exit_code == 1
        assert "org unit 999 is not in the register" in result.output

    def test_without_kept_figures_every_figure_is_counted(self, hand_built_county):
        kept = compute(COUNTY, "2024")
        store.State.objects.all().delete()
        assert store.shape() is None
        assert compute(COUNTY, "2024") == kept


class TestMonths:
    """Ages as the indicators compute them, on ``YYYYMMDD`` integers."""

    def test_a_leap_day_birth_turns_15_at_the_end_of_march_in_a_common_year(self):
        born = 20080229
        # (20230228 - 20080229) // 10000 = 14; on 2023-03-31 she is 15.
        assert measures._first_end_on_or_after(born + 150000) == measures.month_of(20230331)
        # On the first day after a month: 1 March 2023 is the first day she is 15.
        assert measures._first_next_day_on_or_after(born + 150000) == measures.month_of(20230228)

    def test_someone_born_on_the_first_is_older_on_the_first_day_after_a_month(self):
        born = 20080301
        assert measures._first_next_day_on_or_after(born + 150000) == measures.month_of(20230228)
        assert measures._first_end_on_or_after(born + 150000) == measures.month_of(20230331)
