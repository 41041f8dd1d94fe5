"""ADX (IHE QRPH Aggregate Data Exchange, namespace ``urn:ihe:qrph:adx:2015``) documents.

One ``<group orgUnit=".." period="2024-07-01/P3M">`` per org unit holding one
``<dataValue dataElement=".." value=".."/>`` per value sent. Periods are ISO 8601
ranges: the period's first day and its length. The document is built with the
standard library; ``validate_adx`` checks it against the vendored loose schema
(``schemas/adx/adx_loose.xsd``) with lxml, a development dependency.
"""

from __future__ import annotations

import datetime as dt
import functools
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from taizhang import clock
from taizhang.errors import UserError
from taizhang.exchange.mapping import Mapping
from taizhang.exchange.values import Group, collect
from taizhang.lib import periods

__all__ = ["ADX_NAMESPACE", "SCHEMA_PATH", "export_adx", "iso_period", "to_adx", "validate_adx"]

ADX_NAMESPACE = "urn:ihe:qrph:adx:2015"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "adx" / "adx_loose.xsd"

# The ISO 8601 duration of each kind of period (taizhang.lib.periods).
DURATIONS = {"year": "P1Y", "semester": "P6M", "quarter": "P3M", "month": "P1M"}


def export_adx(
    org: str,
    period: str,
    codes: Sequence[str] | None = None,
    by: str | None = None,
    mapping: Mapping | None = None,
    exported: dt.datetime | None = None,
) -> bytes:
    """The ADX document (UTF-8 bytes) of the indicators ``codes`` of ``org`` over ``period``.

    Arguments as for ``taizhang.exchange.values.collect``; ``exported`` (default now)
    is the document's time stamp. Raises ``UserError`` for bad input.
    """
    return to_adx(collect(org, period, codes, by, mapping), exported)


def to_adx(groups: Sequence[Group], exported: dt.datetime | None = None) -> bytes:
    """The ADX document of ``groups``; a group with no value is left out (ADX requires one)."""
    kept = [group for group in groups if group.values]
    if not kept:
        raise UserError(
            "there is nothing to export: the mapping names no data element for any value."
        )
    stamp = exported or clock.now()
    # Unprefixed tags with the ADX namespace declared as the default one on the root.
    root = ET.Element("adx", xmlns=ADX_NAMESPACE, exported=stamp.isoformat(timespec="seconds"))
    for group in kept:
        element = ET.SubElement(
            root, "group", orgUnit=group.org_unit, period=iso_period(group.period)
        )
        for value in group.values:
            ET.SubElement(element, "dataValue", dataElement=value.data_element, value=value.value)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def iso_period(code: str) -> str:
    """The ISO 8601 range of a period code: ``2024Q3`` → ``2024-07-01/P3M``."""
    period = periods.parse(code)
    return f"{period.start.isoformat()}/{DURATIONS[period.kind]}"


def validate_adx(document: bytes) -> None:
    """Check an ADX document against the vendored ``adx_loose.xsd``.

    Raises ``UserError`` saying where the document breaks the schema, or that lxml
    (needed to validate) is not installed.
    """
    try:
        from lxml import etree
    except ImportError:
        raise UserError(
            "validating ADX needs lxml, which is not installed: pip install lxml "
            "(or install taizhang with its dev extras)."
        ) from None
    schema = _schema()
    try:
        doc = etree.fromstring(document)
    except etree.XMLSyntaxError as e:
        raise UserError(f"the ADX document is not well-formed XML: {e}.") from None
    if not schema.validate(doc):
        error = schema.error_log.last_error
        raise UserError(
            f"the ADX document does not validate against {SCHEMA_PATH.name}: "
            f"line {error.line}: {error.message}"
        )


@functools.cache
def _schema():
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
