"""Projection inputs given in a JSON file (a census base and a published life table).

The shape is the one of docs/formats.md (``taizhang project --inputs FILE.json``)::

    {"base_year": 1993, "step": 5, "srb": 1.05, "radix": 100000,
     "ages": [0, 5, ..., 85],
     "female": {"population": [...], "L": [...], "net_migration": [...]},
     "male":   {"population": [...], "L": [...], "net_migration": [...]},
     "asfr": [...], "steps": 1}

``net_migration`` (net migrants of each group in one step) may be left out for a
closed population, and ``steps`` defaults to 1. Every problem found is reported, each
as a sentence naming the field: ``read_inputs`` raises one ``UserError`` listing them.
The messages are translated once Django is set up; a file projection does not need it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.utils.translation import gettext

from taizhang.errors import UserError
from taizhang.projection.engine import STEPS, Inputs, SexInputs, project

FIELDS = ("base_year", "step", "srb", "radix", "ages", "female", "male", "asfr", "steps")
SEX_FIELDS = ("population", "L", "net_migration")
MAX_STEPS = 200


def _(message: str) -> str:
    """``message`` in the user's language once Django is set up, else as written."""
    return gettext(message) if settings.configured else message


def read_inputs(path: Path) -> Inputs:
    """The inputs in the JSON file at ``path``, checked; ``UserError`` if any is wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(_("%(path)s: no such file.") % {"path": path}) from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(
            _("%(path)s: cannot be read as UTF-8 text (%(e)s).") % {"path": path, "e": e}
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise UserError(
            _("%(path)s: not valid JSON (line %(line)s, column %(column)s: %(why)s).")
            % {"path": path, "line": e.lineno, "column": e.colno, "why": e.msg}
        ) from None
    return parse_inputs(data, source=str(path))


def parse_inputs(data: Any, source: str = "inputs") -> Inputs:
    """Check ``data`` (the parsed JSON) field by field and build the engine's inputs."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise UserError(
            _("%(source)s: must be a JSON object with the fields %(fields)s.")
            % {"source": source, "fields": ", ".join(FIELDS)}
        )
    for key in sorted(set(data) - set(FIELDS)):
        problems.append(
            _("%(key)s: is not a known field; the fields are %(fields)s.")
            % {"key": key, "fields": ", ".join(FIELDS)}
        )
    for key in ("base_year", "step", "srb", "radix", "ages", "female", "male", "asfr"):
        if key not in data:
            problems.append(_("%(key)s: is missing.") % {"key": key})

    base_year = _integer(data, "base_year", problems)
    step = _integer(data, "step", problems)
    if step is not None and step not in STEPS:
        problems.append(_("step: must be 1 or 5 (years), not %(step)s.") % {"step": step})
        step = None
    steps = _integer(data, "steps", problems, default=1)
    if steps is not None and not 1 <= steps <= MAX_STEPS:
        problems.append(
            _("steps: must be between 1 and %(max)s, not %(steps)s.")
            % {"max": MAX_STEPS, "steps": steps}
        )
    srb = _number(data, "srb", problems, positive=True)
    radix = _number(data, "radix", problems, positive=True)

    ages = _numbers(data.get("ages"), "ages", problems) if "ages" in data else None
    size = len(ages) if ages is not None else None
    if ages is not None:
        if size < 3:
            problems.append(
                _("ages: needs at least 3 age groups (the last one open), not %(size)s.")
                % {"size": size}
            )
        elif step is not None:
            for i, age in enumerate(ages):
                if age != i * step:
                    problems.append(
                        _(
                            "ages: must be the group starts 0, %(step)s, %(two)s, … in steps "
                            "of %(step)s years; value %(i)s is %(age)s, not %(want)s."
                        )
                        % {
                            "step": step,
                            "two": 2 * step,
                            "i": i + 1,
                            "age": _show(age),
                            "want": i * step,
                        }
                    )
                    break

    asfr = _vector(data, "asfr", size, problems, ages, step)
    if asfr is not None and size and asfr[0] != 0:
        problems.append(
            _(
                "asfr: the first age group (age 0) cannot bear children; its rate must be 0, "
                "not %(rate)s."
            )
            % {"rate": _show(asfr[0])}
        )
    sexes = {}
    for sex in ("female", "male"):
        sexes[sex] = _sex(data.get(sex), sex, size, problems, ages, step)

    if problems:
        raise UserError(f"{source}:\n" + "\n".join(f"  {p}" for p in problems))
    return Inputs(
        base_year=base_year,
        step=step,
        ages=np.asarray(ages, dtype=int),
        female=sexes["female"],
        male=sexes["male"],
        asfr=asfr,
        srb=srb,
        radix=radix,
        steps=steps,
    )


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _integer(data: dict, key: str, problems: list[str], default: int | None = None) -> int | None:
    if key not in data:
        return default
    value = data[key]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(
            _("%(key)s: must be a whole number, not %(value)s.")
            % {"key": key, "value": _show(value)}
        )
        return None
    return value


def _number(data: dict, key: str, problems: list[str], *, positive: bool) -> float | None:
    if key not in data:
        return None
    value = data[key]
    if not _is_number(value):
        problems.append(
            _("%(key)s: must be a number, not %(value)s.") % {"key": key, "value": _show(value)}
        )
        return None
    if positive and value <= 0:
        problems.append(
            _("%(key)s: must be greater than 0, not %(value)s.")
            % {"key": key, "value": _show(value)}
        )
        return None
    return float(value)


def _numbers(value: Any, name: str, problems: list[str]) -> list | None:
    if not isinstance(value, list):
        problems.append(
            _("%(name)s: must be a list of numbers, not %(value)s.")
            % {"name": name, "value": _show(value)}
        )
        return None
    bad = [i for i, v in enumerate(value) if not _is_number(v)]
    if bad:
        i = bad[0]
        problems.append(
            _("%(name)s: value %(i)s must be a number, not %(value)s.")
            % {"name": name, "i": i + 1, "value": _show(value[i])}
        )
        return None
    return value


def _at(i: int, ages: list | None, step: int | None) -> str:
    """Where a value lies, for people: 'value 4 (age 15)'."""
    if ages is not None and i < len(ages) and step is not None:
        age = ages[i]
        label = f"{_show(age)}+" if i == len(ages) - 1 else f"{_show(age)}"
        return _("value %(i)s (age %(age)s)") % {"i": i + 1, "age": label}
    return _("value %(i)s") % {"i": i + 1}


def _vector(
    data: dict,
    name: str,
    size: int | None,
    problems: list[str],
    ages: list | None,
    step: int | None,
    *,
    path: str | None = None,
    positive: bool = False,
    signed: bool = False,
) -> np.ndarray | None:
    """A list of one number per age group (``path`` names it in messages)."""
    label = path or name
    if name not in data:
        return None
    values = _numbers(data[name], label, problems)
    if values is None:
        return None
    if size is not None and len(values) != size:
        problems.append(
            _("%(label)s: has %(n)s values, but ages has %(size)s: one value per age group.")
            % {"label": label, "n": len(values), "size": size}
        )
        return None
    for i, v in enumerate(values):
        if positive and v <= 0:
            problems.append(
                _("%(label)s: %(at)s must be greater than 0, not %(value)s.")
                % {"label": label, "at": _at(i, ages, step), "value": _show(v)}
            )
            return None
        if not positive and not signed and v < 0:
            problems.append(
                _("%(label)s: %(at)s must not be negative (%(value)s).")
                % {"label": label, "at": _at(i, ages, step), "value": _show(v)}
            )
            return None
    return np.asarray(values, dtype=float)


def _sex(
    value: Any, sex: str, size: int | None, problems: list[str], ages: list | None, step: int | None
) -> SexInputs | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(
            _("%(sex)s: must be an object with %(fields)s, not %(value)s.")
            % {"sex": sex, "fields": ", ".join(SEX_FIELDS), "value": _show(value)}
        )
        return None
    for key in sorted(set(value) - set(SEX_FIELDS)):
        problems.append(
            _("%(key)s: is not a known field; the fields are %(fields)s.")
            % {"key": f"{sex}.{key}", "fields": ", ".join(SEX_FIELDS)}
        )
    for key in ("population", "L"):
        if key not in value:
            problems.append(_("%(key)s: is missing.") % {"key": f"{sex}.{key}"})
    population = _vector(value, "population", size, problems, ages, step, path=f"{sex}.population")
    person_years = _vector(value, "L", size, problems, ages, step, path=f"{sex}.L", positive=True)
    migration = _vector(
        value, "net_migration", size, problems, ages, step, path=f"{sex}.net_migration", signed=True
    )
    if population is None or person_years is None:
        return None
    if migration is None:
        if "net_migration" in value:
            return None
        migration = np.zeros_like(population)
    return SexInputs(population=population, L=person_years, net_migration=migration)


def inputs_report(inputs: Inputs) -> dict:
    """The ``--inputs`` JSON of docs/formats.md: per step, the female and male population
    by age group and the births of the step."""
    p = project(inputs)
    return {
        "years": [
            {
                "year": int(year),
                "female": [round(float(v), 3) for v in p.female[k]],
                "male": [round(float(v), 3) for v in p.male[k]],
                "births": {
                    "total": round(float(p.births[k]), 3),
                    "female": round(float(p.births_female[k]), 3),
                    "male": round(float(p.births_male[k]), 3),
                    "by_mother_age": [round(float(v), 3) for v in p.births_by_mother_age[k]],
                },
            }
            for k, year in enumerate(p.years)
        ]
    }
