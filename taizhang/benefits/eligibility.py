"""Who is due a benefit in a month, computed from the register (the accrual rule is in
``taizhang.benefits.schemes``).

Everything is read from the register's derived tables: a person is alive and living
in the county on day D when one of their ResidenceSpells covers D (a death or a move
out of the county ends the spell), and ResidenceSpell carries the birth date, so an
age condition is a range condition on it. Ages are exact in ``YYYYMMDD`` integers:
aged ≥ a on day D ⇔ ``birth ≤ D − a·10000``.

The children of a person:

- a woman's: her BirthFact rows (as mother), plus ``Person.live_births_before``
  (a count only; their sex is unknown);
- a man's: the BirthFact rows whose mother was his wife in one of his UnionSpells
  (person = him, spouse = her) covering the birth date, plus his own
  ``live_births_before``.

Rules, on the last day L of the month:

- ``reward``: aged ≥ min_age, and exactly one child, or exactly two that are both
  known daughters (linked births of sex F);
- ``special``: aged ≥ min_age, exactly one child ever (linked), and that child died
  on or before L. A disabled only child is not in the register: such a family
  applies, and the township verifies the application;
- ``childcare``: the beneficiary is the child, aged < max_age; the payee is the mother.

An enrolment that people verified outside the register (an application, an imported
list) is held to the register's part of the rule only: alive, resident, and the age.

Every rule is one set-based query over ResidenceSpell with correlated subqueries on
BirthFact and UnionSpell (indexed by mother and by person), never a loop over persons.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)

from taizhang.benefits.models import Enrolment, EnrolmentState
from taizhang.benefits.schemes import Scheme, month_last_day, months_between
from taizhang.lib.periods import ymd
from taizhang.orgunits.models import prefix_range
from taizhang.register.models import BirthFact, ResidenceSpell, UnionSpell

# A person with an enrolment in one of these states is not proposed again.
BLOCKING_STATES = (EnrolmentState.PROPOSED, EnrolmentState.ENROLLED, EnrolmentState.REJECTED)


def _count(rows: QuerySet) -> Subquery:
    """The number of ``rows``, as a scalar subquery (COUNT without GROUP BY: one row)."""
    counted = rows.order_by().annotate(n=Func(F("id"), function="COUNT")).values("n")
    return Subquery(counted, output_field=IntegerField())


@dataclass(frozen=True)
class Candidate:
    person_id: int
    village: str
    reason_text: str


def _births(sex: str, last: int) -> QuerySet[BirthFact]:
    """The linked births by ``last`` of the person of the outer ResidenceSpell (see module doc)."""
    if sex == "F":
        return BirthFact.objects.filter(mother_id=OuterRef("person_id"), date__lte=last)
    unions = UnionSpell.objects.filter(person_id=OuterRef(OuterRef("person_id")))
    during = unions.filter(
        spouse_id=OuterRef("mother_id"), start__lte=OuterRef("date"), end__gt=OuterRef("date")
    )
    # The IN lets the database walk the births of his wives by the (mother, date) index.
    return BirthFact.objects.filter(
        date__lte=last, mother_id__in=unions.values("spouse_id")
    ).filter(Exists(during))


def _by_sex(make, output_field):
    """One expression for women and one for men, chosen per row by the spell's sex."""
    return Case(When(sex="F", then=make("F")), default=make("M"), output_field=output_field)


def due_spells(
    scheme: Scheme, month: int, *, org_code: str | None = None, verified: bool = False
) -> QuerySet[ResidenceSpell]:
    """The residence spells (one per person) of the persons due ``scheme`` for ``month``.

    ``org_code`` limits them to a subtree (by the village they live in on the month's
    last day); ``verified`` applies only the register's part of the rule (see module doc).
    Annotated, for the reward and special rules, with ``births``, ``daughters`` and
    ``children`` (births + live births before registration).
    """
    last = ymd(month_last_day(month))
    spells = ResidenceSpell.objects.filter(start__lte=last, end__gt=last, birth__lte=last)
    if org_code:
        low, high = prefix_range(org_code)
        spells = spells.filter(village__gte=low, village__lt=high)
    if scheme.min_age is not None:
        spells = spells.filter(birth__lte=last - scheme.min_age * 10000)
    if scheme.max_age is not None:
        spells = spells.filter(birth__gt=last - scheme.max_age * 10000)
    if scheme.rule == "childcare" or verified:
        return spells
    spells = spells.annotate(
        births=_by_sex(lambda s: _count(_births(s, last)), IntegerField()),
        children=F("births") + F("person__live_births_before"),
    )
    if scheme.rule == "reward":
        return spells.annotate(
            daughters=_by_sex(lambda s: _count(_births(s, last).filter(sex="F")), IntegerField())
        ).filter(Q(children=1) | Q(children=2, births=2, daughters=2))
    died = ResidenceSpell.objects.filter(
        person_id=OuterRef("child_id"), end_reason="death", end__lte=last
    )
    return spells.annotate(
        child_died=_by_sex(lambda s: Exists(_births(s, last).filter(Exists(died))), BooleanField())
    ).filter(children=1, births=1, child_died=True)


def is_due(scheme: Scheme, person_id: int, month: int, *, verified: bool = False) -> bool:
    return due_spells(scheme, month, verified=verified).filter(person_id=person_id).exists()


def due_months(
    scheme: Scheme, person, first_month: int, last_month: int, *, verified: bool = False
) -> list[int]:
    """The months (YYYYMM) of first_month..last_month that are due for ``person``."""
    pk = getattr(person, "pk", person)
    return [
        m
        for m in months_between(first_month, last_month)
        if is_due(scheme, pk, m, verified=verified)
    ]


def _reason(scheme: Scheme, month: int, row) -> str:
    last = month_last_day(month).isoformat()
    if scheme.rule == "childcare":
        return f"under {scheme.max_age} on {last}"
    age = f"aged {scheme.min_age} or over on {last}"
    if scheme.rule == "special":
        return f"{age}; the only child has died"
    if row["children"] == 1:
        return f"{age}; one child"
    return f"{age}; two daughters"


def candidates(scheme: Scheme, org_code: str, month: int) -> list[Candidate]:
    """Persons in the subtree due ``scheme`` for ``month`` with no proposed, enrolled or
    rejected enrolment in it (a rejected person is not proposed again)."""
    if isinstance(scheme, str):
        from taizhang.benefits.schemes import scheme as scheme_of

        scheme = scheme_of(scheme)
    blocking = Enrolment.objects.filter(
        scheme=scheme.code, person_id=OuterRef("person_id"), state__in=BLOCKING_STATES
    )
    rows = due_spells(scheme, month, org_code=org_code).filter(~Exists(blocking))
    fields = ["person_id", "village"] + ([] if scheme.rule == "childcare" else ["children"])
    return [
        Candidate(r["person_id"], r["village"], _reason(scheme, month, r))
        for r in rows.order_by("village", "person_id").values(*fields)
    ]
