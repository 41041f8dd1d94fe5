"""Which codes the receiving system knows Taizhang's figures and org units by.

A mapping is JSON (the default ships as ``mapping.json`` next to this module)::

    {"dataElements": {"CBR": {"value": "TZ_CBR", "numerator": "TZ_CBR_NUM",
                              "denominator": "TZ_CBR_DEN"}, ...},
     "orgUnits": {"410325": "ImspTQPwCqd"},
     "categoryOptionCombo": "HllvX50cXC0",
     "attributeOptionCombo": "HllvX50cXC0"}

``dataElements`` names, per indicator, the receiver's data element for each part
that is sent: the value, and the numerator and denominator so that the receiver
can add org units up again. A part without an element is not sent; an indicator
with no entry is sent as its value under its own code. ``orgUnits`` maps a
Taizhang org-unit code to the receiver's id; a unit not listed keeps its code.
The two option combos are optional and only used in DHIS2 JSON.

A mapping file given by the user is laid over the default: its entry for an
indicator replaces the default entry for that indicator (name every part you want
sent), its org units and option combos are added or replace the default ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from taizhang.errors import UserError
from taizhang.indicators.definitions import INDICATORS_BY_CODE

__all__ = ["DEFAULT_MAPPING_PATH", "PARTS", "Mapping", "load_mapping", "parse_mapping"]

DEFAULT_MAPPING_PATH = Path(__file__).with_name("mapping.json")

# The parts of an indicator's entry that can be sent, in the order they are sent.
PARTS = ("value", "numerator", "denominator")
COMBOS = ("categoryOptionCombo", "attributeOptionCombo")
TOP_KEYS = ("dataElements", "orgUnits", *COMBOS)


@dataclass(frozen=True)
class Mapping:
    """Data elements per indicator and part, receiver org-unit ids, option combos."""

    data_elements: dict[str, dict[str, str]] = field(default_factory=dict)
    org_units: dict[str, str] = field(default_factory=dict)
    category_option_combo: str | None = None
    attribute_option_combo: str | None = None

    def elements_of(self, code: str) -> dict[str, str]:
        """``{part: data element}`` for indicator ``code``; its own code for its value if
        the mapping does not name it."""
        return self.data_elements.get(code, {"value": code})

    def org_unit_of(self, code: str) -> str:
        """The receiver's id of the Taizhang org unit ``code`` (the code itself if not mapped)."""
        return self.org_units.get(code, code)

    def laid_over(self, base: Mapping) -> Mapping:
        """This mapping over ``base``: an indicator entry here replaces base's whole entry."""
        return Mapping(
            data_elements={**base.data_elements, **self.data_elements},
            org_units={**base.org_units, **self.org_units},
            category_option_combo=self.category_option_combo or base.category_option_combo,
            attribute_option_combo=self.attribute_option_combo or base.attribute_option_combo,
        )


def load_mapping(path: str | Path | None = None) -> Mapping:
    """The default mapping, with the mapping file ``path`` laid over it when given.

    Raises ``UserError`` naming the file and the key when the file cannot be read,
    is not JSON, names an unknown indicator or part, or gives a code that is not text.
    """
    default = parse_mapping(_read_json(DEFAULT_MAPPING_PATH), "the default mapping")
    if path is None:
        return default
    return parse_mapping(_read_json(Path(path)), f"mapping file {path}").laid_over(default)


def parse_mapping(data: object, source: str = "the mapping") -> Mapping:
    """A ``Mapping`` from decoded JSON; ``source`` starts every error message."""
    if not isinstance(data, dict):
        raise UserError(f"{source}: the mapping must be a JSON object, not {_kind(data)}.")
    for key in data:
        if key not in TOP_KEYS:
            raise UserError(f"{source}: key {key!r} is not known; use {_either(TOP_KEYS)}.")
    elements = _object(data, "dataElements", source)
    org_units = _object(data, "orgUnits", source)
    return Mapping(
        data_elements={
            _indicator_code(code, source): _entry(code, entry, source)
            for code, entry in elements.items()
        },
        org_units={
            str(unit).strip(): _code(receiver, f"orgUnits.{unit}", source)
            for unit, receiver in org_units.items()
        },
        category_option_combo=_optional_code(data, COMBOS[0], source),
        attribute_option_combo=_optional_code(data, COMBOS[1], source),
    )


def _read_json(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise UserError(f"mapping file {path} cannot be read: {reason}.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise UserError(
            f"mapping file {path} is not valid JSON: line {e.lineno} column {e.colno}: {e.msg}."
        ) from None


def _object(data: dict, key: str, source: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise UserError(f"{source}: {key} must be a JSON object, not {_kind(value)}.")
    return value


def _indicator_code(code: str, source: str) -> str:
    wanted = code.strip().upper()
    if wanted not in INDICATORS_BY_CODE:
        valid = ", ".join(INDICATORS_BY_CODE)
        raise UserError(
            f"{source}: dataElements.{code}: indicator {code} is not known; "
            f"the valid codes are: {valid}."
        )
    return wanted


def _entry(code: str, entry: object, source: str) -> dict[str, str]:
    where = f"dataElements.{code}"
    if not isinstance(entry, dict):
        raise UserError(
            f"{source}: {where} must be a JSON object such as "
            f'{{"value": "..."}}, not {_kind(entry)}.'
        )
    indicator = INDICATORS_BY_CODE[code.strip().upper()]
    for part in entry:
        if part not in PARTS:
            raise UserError(f"{source}: {where}.{part} is not a part; use {_either(PARTS)}.")
        if part == "denominator" and indicator.denominator is None:
            raise UserError(f"{source}: {where}.denominator: {indicator.code} has no denominator.")
    return {part: _code(entry[part], f"{where}.{part}", source) for part in PARTS if part in entry}


def _optional_code(data: dict, key: str, source: str) -> str | None:
    return _code(data[key], key, source) if key in data else None


def _code(value: object, where: str, source: str) -> str:
    if not isinstance(value, str):
        raise UserError(f"{source}: {where} must be a code in quotes, not {_kind(value)}.")
    if not value.strip():
        raise UserError(f"{source}: {where} is empty; give the receiving system's code.")
    return value.strip()


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return repr(value)


def _either(words: tuple[str, ...]) -> str:
    return ", ".join(words[:-1]) + " or " + words[-1]
