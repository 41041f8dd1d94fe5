"""DHIS2 ``dataValueSets`` JSON: ``{"dataValues": [{"dataElement", "period", "orgUnit",
"value"}, ...]}``, the payload of ``POST /api/dataValueSets``.

DHIS2 period ids (``2024``, ``2024S1``, ``2024Q3``, ``202402``) are Taizhang's own
codes. Values are strings, as DHIS2 writes them. ``categoryOptionCombo`` and
``attributeOptionCombo`` are added to every value when the mapping names them
(DHIS2 uses its default combo otherwise). When the mapping gives codes rather than
DHIS2 uids, import with ``dataElementIdScheme=CODE`` / ``orgUnitIdScheme=CODE``.
"""

from __future__ import annotations

from collections.abc import Sequence

from taizhang.exchange.mapping import Mapping, load_mapping
from taizhang.exchange.values import Group, collect

__all__ = ["export_dhis2", "to_data_value_set"]


def export_dhis2(
    org: str,
    period: str,
    codes: Sequence[str] | None = None,
    by: str | None = None,
    mapping: Mapping | None = None,
) -> dict:
    """The dataValueSets object of the indicators ``codes`` of ``org`` over ``period``.

    Arguments as for ``taizhang.exchange.values.collect``. Raises ``UserError`` for
    bad input.
    """
    mapping = mapping or load_mapping()
    return to_data_value_set(collect(org, period, codes, by, mapping), mapping)


def to_data_value_set(groups: Sequence[Group], mapping: Mapping) -> dict:
    """``{"dataValues": [...]}`` of ``groups``, one object per value, in order."""
    combos = {
        key: combo
        for key, combo in (
            ("categoryOptionCombo", mapping.category_option_combo),
            ("attributeOptionCombo", mapping.attribute_option_combo),
        )
        if combo
    }
    return {
        "dataValues": [
            {
                "dataElement": value.data_element,
                "period": group.period,
                "orgUnit": group.org_unit,
                **combos,
                "value": value.value,
            }
            for group in groups
            for value in group.values
        ]
    }
