"""The timeline rules, on single persons, without the database."""

import datetime as dt

from taizhang.register.models import OPEN_END
from taizhang.register.timeline import EventFacts, PersonFacts, derive, state_on

A = "410325100201"
B = "410325100202"
TODAY = dt.date(2026, 11, 29)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def ev(kind: str, date: str, row: int | None = None, **kw) -> EventFacts:
    return EventFacts(kind=kind, date=d(date), person=1, row=row, **kw)


def woman(**kw) -> PersonFacts:
    return PersonFacts(pk=1, sex="F", birth=d("1990-05-20"), village=A, **kw)


def man() -> PersonFacts:
    return PersonFacts(pk=1, sex="M", birth=d("1988-01-02"), village=A)


def messages(derived) -> list[tuple[int | None, str, str]]:
    return [(p.event.row, p.column, p.message) for p in derived.problems]


class TestResidence:
    def test_it_lives_in_the_registered_village_from_birth(self):
        out = derive(woman(), [], today=TODAY)
        assert out.residence == [(A, 19900520, OPEN_END, "")]

    def test_it_starts_at_the_first_move_in_when_that_is_the_first_move(self):
        out = derive(woman(), [ev("move_in", "2023-04-01", village=B)], today=TODAY)
        assert out.residence == [(B, 20230401, OPEN_END, "")]

    def test_it_splits_residence_at_a_move_within_and_ends_it_at_a_move_out(self):
        out = derive(
            woman(),
            [ev("move_out", "2024-07-01"), ev("move_within", "2023-02-10", village=B)],
            today=TODAY,
        )
        assert out.residence == [
            (A, 19900520, 20230210, "move_within"),
            (B, 20230210, 20240701, "move_out"),
        ]
        assert out.status_on(20240630) == ("resident", B)
        assert out.status_on(20240701) == ("moved_out", "")

    def test_it_refuses_a_move_in_of_a_resident(self):
        # The first move event is a move_in, so she lived outside before it; a second is wrong.
        out = derive(
            woman(),
            [ev("move_in", "2023-01-01", village=B), ev("move_in", "2024-01-01", row=4, village=A)],
            today=TODAY,
        )
        assert messages(out) == [
            (4, "village", f"the person already lives in village {B} (use move_within)")
        ]


class TestMarriage:
    def test_it_is_widowed_by_the_registered_spouses_death(self):
        out = derive(
            woman(),
            [ev("marriage", "2012-10-01", spouse=2)],
            spouse_deaths={2: d("2024-03-15")},
            today=TODAY,
        )
        assert out.unions == [(2, "", 20121001, 20240315, "widowhood", True, A)]
        p = woman()
        assert state_on(p, out, d("2024-03-14")).married is True
        after = state_on(p, out, d("2024-03-15"))
        assert (after.married, after.widowed) == (False, True)

    def test_it_refuses_a_second_marriage_of_a_married_person(self):
        out = derive(
            woman(),
            [ev("marriage", "2012-10-01", spouse=2), ev("marriage", "2020-01-01", row=7, spouse=3)],
            today=TODAY,
        )
        assert messages(out) == [
            (
                7,
                "event",
                "the person is already married (since 2012-10-01); record a divorce or widowhood first",
            )
        ]

    def test_it_counts_the_marriage_under_the_husband_only_when_the_wife_is_outside(self):
        out = derive(man(), [ev("marriage", "2015-06-01", spouse_key="abc")], today=TODAY)
        assert out.unions == [(None, "abc", 20150601, OPEN_END, "", True, A)]
        out = derive(man(), [ev("marriage", "2015-06-01", spouse=9)], today=TODAY)
        assert out.unions[0][5] is False

    def test_it_refuses_a_divorce_of_an_unmarried_person(self):
        out = derive(woman(), [ev("divorce", "2020-01-01", row=2)], today=TODAY)
        assert messages(out) == [(2, "event", "the person is not married, so cannot divorce")]


class TestBirths:
    def test_it_numbers_twins_consecutively_after_earlier_births(self):
        out = derive(
            woman(live_births_before=1),
            [
                ev("birth", "2024-12-31", child=11, child_sex="M", delivery_place="facility"),
                ev("birth", "2024-12-31", child=12, child_sex="F", delivery_place="facility"),
            ],
            today=TODAY,
        )
        assert [(b.child, b.order, b.mother_age, b.village) for b in out.births] == [
            (11, 2, 34, A),
            (12, 3, 34, A),
        ]

    def test_it_counts_a_birth_where_the_mother_lived_when_she_died_that_day(self):
        out = derive(
            woman(),
            [ev("death", "2024-05-05"), ev("birth", "2024-05-05", child=11, child_sex="F")],
            today=TODAY,
        )
        assert [b.village for b in out.births] == [A]
        assert out.residence == [(A, 19900520, 20240505, "death")]

    def test_it_refuses_a_birth_to_a_man(self):
        out = derive(man(), [ev("birth", "2024-01-01", row=5, child=11)], today=TODAY)
        assert messages(out) == [(5, "event", "a birth cannot be recorded for a man")]

    def test_it_refuses_a_birth_to_a_girl_under_10(self):
        girl = PersonFacts(pk=1, sex="F", birth=d("2015-03-01"), village=A)
        out = derive(girl, [ev("birth", "2024-01-01", row=5, child=11)], today=TODAY)
        assert messages(out) == [
            (5, "event", "the mother was 8 years old on 2024-01-01 (under 10)")
        ]


class TestDeathAndDates:
    def test_it_refuses_a_death_before_birth(self):
        out = derive(woman(), [ev("death", "1980-01-01", row=2)], today=TODAY)
        assert messages(out) == [
            (2, "date", "death on 1980-01-01 is before the person's birth on 1990-05-20")
        ]

    def test_it_refuses_an_event_after_death(self):
        out = derive(
            woman(),
            [ev("death", "2024-01-01", row=2), ev("checkup", "2024-02-01", row=3)],
            today=TODAY,
        )
        assert messages(out) == [
            (3, "date", "the person died on 2024-01-01; no checkup event can follow")
        ]

    def test_it_blames_the_new_death_for_an_existing_later_event(self):
        existing = EventFacts(kind="checkup", date=d("2024-02-01"), person=1, key=40)
        death = ev("death", "2024-01-01", row=9)
        out = derive(woman(), [existing, death], today=TODAY)
        assert [(p.event.key, p.cause.row) for p in out.problems] == [(40, 9)]

    def test_it_refuses_a_date_in_the_future(self):
        out = derive(woman(), [ev("checkup", "2026-11-30", row=1)], today=TODAY)
        assert messages(out) == [(1, "date", "2026-11-30 is in the future")]


class TestMethods:
    def test_it_counts_a_woman_as_using_on_the_day_she_stops(self):
        out = derive(
            woman(),
            [ev("method_start", "2020-03-01", method="iud"), ev("method_stop", "2024-12-31")],
            today=TODAY,
        )
        assert out.methods == [("iud", 20200301, 20250101, "")]
        p = woman()
        assert state_on(p, out, d("2024-12-31")).methods == ["iud"]
        assert state_on(p, out, d("2025-01-01")).methods == []

    def test_it_counts_the_husbands_sterilisation_for_the_wife(self):
        wife = derive(woman(), [ev("marriage", "2010-01-01", spouse=2)], today=TODAY)
        husband_facts = PersonFacts(pk=2, sex="M", birth=d("1985-01-01"), village=A)
        husband = derive(
            husband_facts,
            [
                EventFacts(
                    kind="method_start", date=d("2018-06-01"), person=2, method="male_sterilization"
                )
            ],
            today=TODAY,
        )
        state = state_on(woman(), wife, d("2024-12-31"), spouse_derived=husband)
        assert (state.methods, state.spouse_methods) == ([], ["male_sterilization"])

    def test_it_asks_which_method_stopped_when_several_are_in_use(self):
        out = derive(
            woman(),
            [
                ev("method_start", "2020-01-01", method="pill"),
                ev("method_start", "2020-01-01", method="condom"),
                ev("method_stop", "2021-01-01", row=3),
            ],
            today=TODAY,
        )
        assert messages(out) == [
            (3, "method", "the person uses condom, pill: say which one stopped")
        ]

    def test_it_refuses_a_female_method_for_a_man(self):
        out = derive(man(), [ev("method_start", "2020-01-01", row=1, method="iud")], today=TODAY)
        assert messages(out) == [(1, "method", "iud is a method for women")]
