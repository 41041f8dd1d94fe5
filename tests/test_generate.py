"""`taizhang generate`: a synthetic county shaped like a real one, the same for the same seed,
written through the register's own checks."""

import datetime as dt
from collections import Counter, defaultdict

import numpy as np
import pytest
from django.db import transaction

from taizhang.lib import crypto, idnumber
from taizhang.orgunits.models import OrgUnit
from taizhang.register.models import BirthFact, Event, Household, Person, ResidenceSpell
from taizhang.register.timeline import COUPLE_KINDS, PersonFacts, derive
from taizhang.synthetic import names, simulate
from taizhang.synthetic.write import build_events, generate

SMALL = 3_000

# The county is simulated up to the day before the clock's today: the clock is set, so
# every test here sees the same county on any day it runs.
pytestmark = pytest.mark.usefixtures("fixed_clock")


@pytest.fixture(scope="module")
def small_county():
    """The simulation alone (no database): 3,000 persons, seed 1."""
    return simulate.simulate(SMALL, 1)


def _slow_selected(request) -> bool:
    # The full-size checks run only when asked for (``pytest -m slow``), so that a
    # plain ``pytest`` stays fast.
    return "slow" in (request.config.option.markexpr or "") and "not slow" not in (
        request.config.option.markexpr or ""
    )


# ---------------------------------------------------------------------------
# The county tree


def test_it_has_the_real_townships_and_317_villages():
    geo = names.geography()
    assert geo.county == ("410325", "嵩县")
    assert [code for code, _ in geo.townships] == [f"410325{n}" for n in range(100, 110)] + [
        f"410325{n}" for n in range(200, 206)
    ]
    assert [name for _, name in geo.townships][:3] == ["城关镇", "田湖镇", "车村镇"]
    assert geo.townships[-1] == ("410325205", "木植街乡")
    assert len(geo.villages) == 317
    codes = [v.code for v in geo.villages]
    assert len(set(codes)) == 317
    assert all(
        len(c) == 12 and c[:9] == v.township for c, v in zip(codes, geo.villages, strict=True)
    )
    # The county seat's street communities are 001..; villages are 201..
    assert codes[0] == "410325100001"
    assert geo.villages[0].name == "东街社区"
    assert "410325101201" in codes
    # Names are unique within a township.
    by_township = Counter((v.township, v.name) for v in geo.villages)
    assert max(by_township.values()) == 1


def test_it_sizes_villages_for_600_to_4000_people_at_full_scale():
    geo = names.geography()
    people = np.array([v.size for v in geo.villages]) * 540_000
    assert people.min() >= 550
    assert people.max() <= 4_200
    assert np.median(people) == pytest.approx(1_600, rel=0.25)
    assert geo == names.geography()  # the same tree on every call, whatever the seed


def test_it_uses_a_life_table_with_life_expectancy_about_78():
    women, men = simulate.life_expectancy(0), simulate.life_expectancy(1)
    assert 80 <= women <= 83
    assert 74 <= men <= 77
    assert 77 <= (women + men) / 2 <= 79.5


# ---------------------------------------------------------------------------
# The simulation (no database)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_it_makes_lives_the_timeline_accepts(seed):
    # The register's own rules, folded over every person without a database: what
    # record_events would refuse (an event after death, a second marriage, ...).
    county = simulate.simulate(SMALL, seed)
    pks = np.arange(county.persons) + 1
    villages = [v.code for v in county.geography.villages]
    timelines, spouses, deaths = defaultdict(list), defaultdict(set), {}
    for e in build_events(county, pks):
        timelines[e.person].append(e)
        if e.spouse is not None and e.kind in COUPLE_KINDS:
            timelines[e.spouse].append(e.as_seen_by(e.spouse))
            spouses[e.person].add(e.spouse)
            spouses[e.spouse].add(e.person)
        elif e.kind == "death":
            deaths[e.person] = e.date
    problems, born_in = [], {}
    for i, pk in enumerate(pks.tolist()):
        facts = PersonFacts(
            pk,
            "FM"[county.sex[i]],
            dt.date.fromordinal(int(county.birth[i])),
            villages[county.village[i]],
            int(county.lbb[i]),
        )
        widowed_by = {s: deaths[s] for s in spouses[pk] if s in deaths}
        derived = derive(facts, timelines[pk], spouse_deaths=widowed_by, today=simulate.END)
        problems += [f"{p.event.kind} {p.event.date}: {p.message}" for p in derived.problems]
        born_in.update({b.child: b.village for b in derived.births})
    assert problems == []
    # A child starts life in the village where the mother lived that day.
    assert all(villages[county.village[child - 1]] == v for child, v in born_in.items())
    assert len(born_in) == county.counts()["birth"]


def test_it_gives_the_same_county_for_the_same_seed(small_county):
    again = simulate.simulate(SMALL, 1)
    assert again.id_numbers == small_county.id_numbers
    assert again.given == small_county.given
    assert again.counts() == small_county.counts()
    for column in ("person", "kind", "day", "a", "b", "c", "recorded"):
        assert np.array_equal(getattr(again, column), getattr(small_county, column))
    assert np.array_equal(again.phone, small_county.phone)


def test_it_gives_another_county_for_another_seed(small_county):
    other = simulate.simulate(SMALL, 2)
    assert other.id_numbers != small_county.id_numbers
    assert other.counts() != small_county.counts()


def test_it_makes_valid_distinct_resident_ids(small_county):
    c = small_county
    today = simulate.END
    everyone = c.id_numbers + c.outside_id_numbers
    assert len(set(everyone)) == len(everyone)
    for i, number in enumerate(c.id_numbers):
        assert idnumber.normalize(number, today=today) == number
        assert idnumber.birth_date(number) == dt.date.fromordinal(int(c.birth[i]))
        assert idnumber.sex(number) == "FM"[c.sex[i]]
    for number in c.outside_id_numbers:
        assert idnumber.normalize(number, today=today) == number
        assert number[:6] in names.OUTSIDE_REGIONS


def test_it_gives_natives_the_county_region_and_migrants_another(small_county):
    c = small_county
    regions = np.array([n[:6] for n in c.id_numbers])
    assert (regions[c.origin == simulate.BORN] == "410325").all()
    assert (regions[c.origin == simulate.MIGRANT] != "410325").all()
    assert all(r.startswith("41") for r in regions)
    base = regions[c.origin == simulate.BASE]
    assert (base == "410325").mean() > 0.9


def test_it_keeps_every_event_within_the_simulated_years(small_county):
    c = small_county
    after_start = c.day >= simulate.START_DAY
    # Only the opening state (marriages, methods in use, pregnancies under way) is older.
    opening = {simulate.K["marriage"], simulate.K["method_start"], simulate.K["pregnancy"]}
    assert set(np.unique(c.kind[~after_start]).tolist()) <= opening
    assert c.day.max() <= c.end.toordinal() == simulate.END.toordinal()
    assert (c.recorded >= c.day).all() and c.recorded.max() <= c.end.toordinal()


def test_it_groups_people_in_households_of_about_three(small_county):
    c = small_county
    base = c.origin == simulate.BASE
    sizes = np.bincount(c.household[base])
    sizes = sizes[sizes > 0]
    assert 2.3 <= sizes.mean() <= 3.6


def test_it_gives_phones_to_most_adults(small_county):
    c = small_county
    age = simulate.age_on(c.birth, np.full(c.persons, c.end.toordinal()))
    adults = age >= 18
    assert (c.phone[adults] > 0).mean() > 0.8
    assert (c.phone[age < 16] == 0).all()
    phones = c.phone[c.phone > 0]
    assert len(np.unique(phones)) == len(phones)


# ---------------------------------------------------------------------------
# Writing through the register


@pytest.mark.django_db
def test_it_writes_the_county_with_no_problems(settings):
    result = generate(SMALL, 1)
    c = result.county
    assert result.written.org_units == 1 + 16 + 317
    assert OrgUnit.objects.filter(level=4).count() == 16
    assert OrgUnit.objects.filter(level=5).count() == 317
    assert Person.objects.count() == c.persons
    assert Event.objects.count() == c.events == result.written.events
    assert BirthFact.objects.count() == c.counts()["birth"]
    assert Household.objects.count() == len(c.household_village)
    # Every person has a residence spell: the timeline derived everyone.
    assert ResidenceSpell.objects.values("person_id").distinct().count() == c.persons
    # Children born in the register are linked to their mothers.
    assert Person.objects.filter(mother__isnull=False).count() == (c.origin == simulate.BORN).sum()


@pytest.mark.django_db
def test_it_stores_valid_ids_that_agree_with_sex_and_birth():
    generate(SMALL, 1)
    seen = set()
    for number, sex, birth in Person.objects.values_list("id_cipher", "sex", "birth_date"):
        number = crypto.decrypt(number)
        assert idnumber.normalize(number, today=dt.date(2026, 12, 3)) == number
        assert idnumber.sex(number) == sex
        assert idnumber.birth_date(number) == birth
        seen.add(number)
    assert len(seen) == Person.objects.count()
    outside = Event.objects.exclude(spouse_id_cipher=None).values_list(
        "spouse_id_cipher", flat=True
    )
    for number in outside:
        assert crypto.decrypt(number)[:6] in names.OUTSIDE_REGIONS


@pytest.mark.django_db
def test_it_writes_the_same_ids_and_event_counts_for_the_same_seed():
    def run(seed):
        with transaction.atomic():
            generate(SMALL, seed)
            ids = sorted(
                crypto.decrypt(b) for b in Person.objects.values_list("id_cipher", flat=True)
            )
            kinds = Counter(Event.objects.values_list("kind", flat=True))
            transaction.set_rollback(True)
        return ids, kinds

    first, second, other = run(5), run(5), run(6)
    assert first == second
    assert other[0] != first[0]
    assert other[1] != first[1]


@pytest.mark.django_db
def test_it_records_most_births_within_30_days():
    generate(SMALL, 1)
    delays = [
        (simulate_date(r) - simulate_date(d)).days
        for d, r in BirthFact.objects.values_list("date", "recorded")
    ]
    within = sum(1 for x in delays if 0 <= x <= 30) / len(delays)
    assert 0.8 <= within < 1.0
    assert min(delays) >= 0


def simulate_date(ymd: int) -> dt.date:
    return dt.date(ymd // 10000, ymd // 100 % 100, ymd % 100)


@pytest.mark.django_db
def test_it_refuses_a_register_that_holds_persons(taizhang):
    generate(300, 1)
    before = (Person.objects.count(), Event.objects.count())
    result = taizhang("generate", "--persons", 300, "--seed", 2)
    assert result.exit_code == 1
    assert f"already holds {before[0]:,} persons" in result.output
    from taizhang import config

    assert config.how_to_start_afresh() in result.output
    assert (Person.objects.count(), Event.objects.count()) == before


@pytest.mark.django_db
def test_it_prints_what_it_made_and_the_last_full_year(taizhang):
    result = taizhang("generate", "--persons", 1000, "--seed", 3)
    assert result.exit_code == 0, result.output
    persons = Person.objects.count()
    assert f"{persons:,} persons" in result.output
    assert f"{Event.objects.count():,} events" in result.output
    assert "2025: population" in result.output


@pytest.mark.django_db
def test_it_rejects_a_county_too_small(taizhang):
    result = taizhang("generate", "--persons", 5)
    assert result.exit_code == 2
    assert not Person.objects.exists()


# ---------------------------------------------------------------------------
# Rates of a mid-size county (docs/cli.md, "generate")


@pytest.mark.slow
@pytest.mark.django_db
def test_it_has_plausible_rates_for_a_mid_size_county(request):
    if not _slow_selected(request):
        pytest.skip("a 30,000-person county: run with -m slow")
    from taizhang.indicators.engine import compute

    generate(30_000, 1)
    codes = ["CBR", "CDR", "CPR", "MWRA_SHARE", "FACILITY_DELIVERY"]
    boys = girls = 0
    for year in range(2021, 2026):
        found = {
            i["code"]: i for i in compute("410325", str(year), codes=[*codes, "SRB"])["indicators"]
        }
        assert 7 <= found["CBR"]["value"] <= 13, (year, found["CBR"])
        assert 5 <= found["CDR"]["value"] <= 8, (year, found["CDR"])
        assert 80 <= found["CPR"]["value"] <= 90, (year, found["CPR"])
        assert 18 <= found["MWRA_SHARE"]["value"] <= 22, (year, found["MWRA_SHARE"])
        assert 96 <= found["FACILITY_DELIVERY"]["value"] <= 100, (year, found["FACILITY_DELIVERY"])
        boys += found["SRB"]["numerator"]
        girls += found["SRB"]["denominator"]
    # About 300 births a year: the sex ratio is checked over the five years together.
    assert 103 <= boys / girls * 100 <= 120
