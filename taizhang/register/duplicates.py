"""Likely duplicate registrations (重复登记): the same person registered twice.

``likely_duplicates(org)`` looks at the persons living (or last living) in an org unit's
subtree, leaving out those already merged into another person, and pairs them on four
kinds of evidence, each a reason in the result:

- ``same name and birth date``;
- ``ID numbers one digit apart``: the first 17 characters differ in one position (the
  18th is the check digit, which follows from them, so two valid numbers with one digit
  typed differently also differ in the check digit);
- ``ID numbers differ by two adjacent digits swapped``, in the first 17 characters;
- ``same mother and birth date``.

No pair of persons is compared directly. ID numbers are decrypted once, and their
first 17 characters read as integers: for each position, the numbers with that digit
left out are sorted and the equal ones grouped; for each adjacent pair of digits, the
numbers with the two swapped are looked up among all the numbers (NumPy, a county of
100,000 persons in about 3 seconds, most of it reading and decrypting).

The score of a pair (in [0, 1], two decimals) combines its reasons as independent
evidence, ``1 - Π(1 - w)`` with the weights of ``WEIGHTS`` (0.7 same name and birth
date, 0.6 a swap, 0.5 one digit, 0.4 same mother and birth date), then

- × 0.4 when the names differ: persons born on the same day in the same county have ID
  numbers that differ in a digit or two of the sequence, so near numbers alone are no
  evidence; under the same mother differing names are those of twins;
- × 0.5 when the sexes differ (so a high score needs the same sex; a merge needs it).

A pair is listed when its score is at least ``LISTED`` (0.4). Twins — the same mother
and birth date, different names — are never listed, whatever their ID numbers.
Examples: the same name and birth date 0.70; and IDs one digit apart 0.85; the same
name, mother and birth date with two digits swapped 0.93; the same name with IDs one
digit apart and birth dates that differ (a typo in the ID's date) 0.50.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.db import connection

from taizhang.lib import crypto
from taizhang.orgunits.models import prefix_range
from taizhang.register.models import Person

SAME_NAME_BIRTH = "same name and birth date"
ONE_DIGIT = "ID numbers one digit apart"
SWAPPED = "ID numbers differ by two adjacent digits swapped"
SAME_MOTHER_BIRTH = "same mother and birth date"
REASONS = (SAME_NAME_BIRTH, ONE_DIGIT, SWAPPED, SAME_MOTHER_BIRTH)

WEIGHTS = {SAME_NAME_BIRTH: 0.7, SWAPPED: 0.6, ONE_DIGIT: 0.5, SAME_MOTHER_BIRTH: 0.4}
NAMES_DIFFER = 0.4
SEXES_DIFFER = 0.5
LISTED = 0.4
BODY = 17  # the characters of an ID number before its check digit
_DIGITS = re.compile(r"[0-9]{17}")


@dataclass(frozen=True, slots=True)
class Pair:
    """Two persons likely to be one: ``a`` is the lower register number."""

    a: int
    b: int
    a_id_number: str
    b_id_number: str
    reasons: tuple[str, ...]
    score: float

    def as_json(self) -> dict:
        return {
            "a": self.a_id_number,
            "b": self.b_id_number,
            "reasons": list(self.reasons),
            "score": self.score,
        }


@dataclass(slots=True)
class _Person:
    pk: int
    name: str
    sex: str
    birth: dt.date | str  # as the database gives it
    mother: int | None
    id_number: str


def likely_duplicates(org_code: str) -> list[Pair]:
    """The likely duplicate pairs among the persons of ``org_code``'s subtree (both
    persons inside it), by score (highest first), then by ID numbers."""
    persons = _persons(org_code)
    evidence: dict[tuple[int, int], set[str]] = defaultdict(set)

    def add(group, reason: str) -> None:
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                evidence[(a, b) if a < b else (b, a)].add(reason)

    by_name_birth: dict[tuple, list[int]] = defaultdict(list)
    by_mother_birth: dict[tuple, list[int]] = defaultdict(list)
    for p in persons.values():
        by_name_birth[("".join(p.name.split()), p.birth)].append(p.pk)
        if p.mother is not None:
            by_mother_birth[(p.mother, p.birth)].append(p.pk)
    for group in by_name_birth.values():
        if len(group) > 1:
            add(group, SAME_NAME_BIRTH)
    for group in by_mother_birth.values():
        if len(group) > 1:
            add(group, SAME_MOTHER_BIRTH)

    for a, b, reason in _near_numbers(persons.values()):
        evidence[(a, b) if a < b else (b, a)].add(reason)

    pairs = []
    for (a, b), reasons in evidence.items():
        pa, pb = persons[a], persons[b]
        same_name = "".join(pa.name.split()) == "".join(pb.name.split())
        if reasons == {SAME_MOTHER_BIRTH} and not same_name:
            continue  # twins
        s = score(reasons, same_name=same_name, same_sex=pa.sex == pb.sex)
        if s < LISTED:
            continue
        ordered = tuple(r for r in REASONS if r in reasons)
        pairs.append(Pair(a, b, pa.id_number, pb.id_number, ordered, s))
    pairs.sort(key=lambda p: (-p.score, p.a_id_number, p.b_id_number))
    return pairs


def score(reasons, *, same_name: bool, same_sex: bool) -> float:
    """The score of a pair with these reasons (see the module's docstring)."""
    doubt = 1.0
    for reason in reasons:
        doubt *= 1 - WEIGHTS[reason]
    value = 1 - doubt
    if not same_name:
        value *= NAMES_DIFFER
    if not same_sex:
        value *= SEXES_DIFFER
    return round(value, 2)


def _near_numbers(persons) -> list[tuple[int, int, str]]:
    """Pairs of persons whose ID numbers are one digit apart or two adjacent digits
    swapped (in the first 17 characters), as (pk, pk, reason).

    The 17 characters are a 17-digit integer; NumPy does the arithmetic for all of them
    at once: for each position, the number with that digit left out (equal for numbers
    that differ only there), and for each adjacent pair of digits, the number with the
    two swapped, looked up among all the numbers.
    """
    known = [
        (int(p.id_number[:BODY]), p.pk) for p in persons if _DIGITS.fullmatch(p.id_number[:BODY])
    ]
    if len(known) < 2:
        return []
    bodies = np.array([b for b, _pk in known], dtype=np.int64)
    pks = np.array([pk for _b, pk in known], dtype=np.int64)
    found: list[tuple[int, int, str]] = []
    for position in range(BODY):
        high, low = 10 ** (BODY - position), 10 ** (BODY - 1 - position)
        keys = (bodies // high) * low + bodies % low
        values, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        shared = np.flatnonzero(counts[inverse] > 1)
        groups: dict[int, list[int]] = defaultdict(list)
        for i in shared.tolist():
            groups[int(inverse[i])].append(int(pks[i]))
        for group in groups.values():
            found.extend((a, b, ONE_DIGIT) for i, a in enumerate(group) for b in group[i + 1 :])
    order = np.argsort(bodies)
    ordered = bodies[order]
    for j in range(BODY - 1):
        left, right = 10 ** (BODY - 1 - j), 10 ** (BODY - 2 - j)
        d1, d2 = (bodies // left) % 10, (bodies // right) % 10
        swapped = bodies + (d2 - d1) * (left - right)
        at = np.clip(np.searchsorted(ordered, swapped), 0, len(ordered) - 1)
        hit = np.flatnonzero((ordered[at] == swapped) & (d1 != d2))
        for i in hit.tolist():
            a, b = int(pks[i]), int(pks[order[at[i]]])
            if a < b:
                found.append((a, b, SWAPPED))
    return found


def _persons(org_code: str) -> dict[int, _Person]:
    low, high = prefix_range(org_code)
    rows = Person.objects.filter(
        current_village__gte=low, current_village__lt=high, merged_into__isnull=True
    ).values_list("pk", "name", "sex", "birth_date", "mother_id", "id_cipher")
    # Read without Django's converters (a date and a memoryview per row cost more than
    # the rest): the birth date is only compared, as the database gives it.
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    out = {}
    for pk, name, sex, birth, mother, cipher in fetched:
        try:
            number = crypto.decrypt(cipher)
        except crypto.DecryptionError:
            number = ""  # compared by name and birth only
        out[pk] = _Person(pk, name, sex, birth, mother, number)
    return out
