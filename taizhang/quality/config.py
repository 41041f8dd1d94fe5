"""The thresholds of the audit's checks, and where a county changes them.

Every check prints the thresholds it used with its result (``"thresholds"`` in the
JSON). The defaults below can be overridden per check by the Django setting
``TAIZHANG_AUDIT`` (``{"outliers": {"warn_p": 0.01}}``) or by the file
``<TAIZHANG_DATA>/audit.toml``::

    [structure]
    mwra_share = [17.0, 23.0]

    [census_comparison]
    census_rse = 0.02

The setting wins over the file. An unknown check or setting is an error that names it.
"""

from __future__ import annotations

import copy
import tomllib
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from taizhang import config
from taizhang.errors import UserError

DEFAULTS: dict[str, dict[str, Any]] = {
    # 1. Monthly report forms of every village: a month's form counts as submitted when
    # it has at least one item; on time when its first submission came by ``due_day`` of
    # the next month. Shares below ``warn``/``fail`` are flagged.
    "completeness": {
        "due_day": 5,
        "completeness_warn": 0.9,
        "completeness_fail": 0.75,
        "timeliness_warn": 0.8,
        "timeliness_fail": 0.6,
    },
    # 2. Reported vs recorded, per org unit, month and item: every difference is listed
    # (warn); a year's total off by ``fail_share`` of the recorded total and by at least
    # ``fail_min`` events fails.
    "reported_vs_recorded": {"fail_share": 0.1, "fail_min": 3},
    # 3. A village's monthly count against its own history (the other months of the year
    # and ``history_years`` before it), leave-one-out: the chance of a count this far
    # out under a Poisson rate learnt from that history, with the township's other
    # villages' rate as a prior worth ``prior_months`` months (a negative-binomial
    # predictive). ``warn_p`` and ``fail_p`` are family-wise over the village-months of
    # one item (Bonferroni), and a count must differ from its expectation by at least
    # ``min_excess`` (twins and a household's events come together). Moves are left out
    # by default: a household moves together, so its members are not independent events.
    "outliers": {
        "items": ["births", "deaths", "marriages", "method_starts"],
        "history_years": 3,
        "prior_months": 12,
        "warn_p": 0.05,
        "fail_p": 0.001,
        "min_excess": 3,
    },
    # 4. A year's total against the mean of the three before: a ratio beyond ±``tolerance``
    # of the whole's (the audited unit's own trend; 1 for the unit itself) is a warning,
    # beyond ±``fail_tolerance`` a failure — when the change is larger than chance
    # (two-sided p below ``significance``, family-wise over the units and items tested)
    # and the mean is at least ``min_mean``.
    "consistency": {
        "tolerance": 0.33,
        "fail_tolerance": 0.5,
        "min_mean": 10,
        "significance": 0.05,
    },
    # 5. Related figures, each expected in a band: births per pregnancy registered 6-10
    # months earlier, the share of births in a facility, children aged 0 at the year's end
    # per birth in it. Flagged when the interval lies outside the band; ``confidence`` is
    # family-wise over the figures tested (Bonferroni).
    "related": {
        "births_per_pregnancy": [0.75, 1.0],
        "facility_share": [0.9, 1.0],
        "children_0_per_birth": [0.85, 1.05],
        "confidence": 0.95,
    },
    # 6. Structure: married women 15-49 as a % of the population, marriages per 1,000,
    # the sex ratio at birth (overall and by birth order), each flagged when its
    # interval lies outside the band (``confidence`` family-wise, as above); and a one-child
    # share of married women that falls by ``parity_1_drop`` points while second births
    # fall by ``second_births_drop`` (and by more than chance).
    "structure": {
        "mwra_share": [18.0, 22.0],
        "marriage_rate": [4.0, 12.0],
        "srb": [103.0, 107.0],
        "parity_1_drop": 1.0,
        "second_births_drop": 0.1,
        "confidence": 0.95,
    },
    # 7. The census base carried forward with the register's own births, deaths and
    # moves, per township and group. ``census_rse``: the census's relative standard
    # error. Flagged when the interval excludes 0 and the missing share reaches
    # ``warn_share`` / ``fail_share``.
    "census_comparison": {
        "groups": ["women_15_49", "women_20_29", "population"],
        "census_rse": 0.01,
        "confidence": 0.95,
        "warn_share": 0.02,
        "fail_share": 0.05,
    },
}

CHECK_SETTINGS = tuple(DEFAULTS)


def _file_overrides() -> dict[str, dict]:
    path = config.data_dir() / "audit.toml"
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise UserError(_("%(file)s: %(problem)s") % {"file": path, "problem": e}) from None


def thresholds() -> dict[str, dict[str, Any]]:
    """The thresholds in force: the defaults, then ``audit.toml``, then the setting."""
    found = copy.deepcopy(DEFAULTS)
    for source in (_file_overrides(), getattr(settings, "TAIZHANG_AUDIT", None) or {}):
        for check, changes in source.items():
            if check not in found:
                raise UserError(
                    _("the audit settings name %(check)r: use %(checks)s")
                    % {"check": check, "checks": ", ".join(CHECK_SETTINGS)}
                )
            unknown = sorted(set(changes) - set(DEFAULTS[check]))
            if unknown:
                raise UserError(
                    _("the audit settings of %(check)s name unknown settings: %(unknown)s")
                    % {"check": check, "unknown": unknown}
                )
            found[check].update(changes)
    return found
