"""The data values an export sends, taken from the indicator engine and named by a mapping.

Nothing is computed here: every figure is the engine's (``compute``), so an export
says exactly what ``taizhang indicators`` says.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from taizhang.exchange.mapping import PARTS, Mapping, load_mapping

__all__ = ["DataValue", "Group", "collect", "format_number"]


@dataclass(frozen=True)
class DataValue:
    data_element: str
    value: str


@dataclass(frozen=True)
class Group:
    """The values of one org unit for one period, under the receiver's codes."""

    org_unit: str  # the receiver's id (the Taizhang code when not mapped)
    period: str  # the Taizhang (DHIS2-style) period code, e.g. 2024Q3
    values: list[DataValue]


def collect(
    org: str,
    period: str,
    codes: Sequence[str] | None = None,
    by: str | None = None,
    mapping: Mapping | None = None,
) -> list[Group]:
    """The groups to send: one per org unit (``org``, or those of level ``by`` inside it).

    ``codes`` are indicator codes (the demographic set if None). Each indicator sends
    the parts its mapping names; a value that does not exist (denominator 0) is left
    out, its numerator and denominator still go. Raises ``UserError`` for an unknown
    org unit, period, indicator or level (from the engine).
    """
    from taizhang.indicators.engine import compute

    mapping = mapping or load_mapping()
    result = compute(org, period, codes, by)
    results = result if isinstance(result, list) else [result]
    return [
        Group(
            org_unit=mapping.org_unit_of(numbers["org"]),
            period=numbers["period"],
            values=[
                DataValue(element, format_number(entry[part]))
                for entry in numbers["indicators"]
                for part, element in _parts(mapping.elements_of(entry["code"]))
                if entry[part] is not None
            ],
        )
        for numbers in results
    ]


def _parts(elements: dict[str, str]) -> list[tuple[str, str]]:
    return [(part, elements[part]) for part in PARTS if part in elements]


def format_number(number: int | float) -> str:
    """A number as a plain decimal: no exponent, a whole float without ``.0``.

    ``format_number(163.93) == "163.93"``, ``format_number(14.0) == "14"``,
    ``format_number(1e-05) == "0.00001"``.
    """
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise TypeError(f"not a number: {number!r}")
    if isinstance(number, int):
        return str(number)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {number!r}")
    if number.is_integer():
        return str(int(number))
    # repr is the shortest text that reads back as the same float; Decimal drops the exponent.
    return format(Decimal(repr(number)), "f")
