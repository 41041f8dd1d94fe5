"""`taizhang export`: ADX XML and DHIS2 dataValueSets JSON from the indicator engine.

The figures are those of the hand-built county, worked out by hand in
tests/test_handbuilt_indicators.py (the comments repeat the working used here):

    county 410325, 2024: BIRTHS 5, POP_AVG (29 + 32) / 2 = 30.5,
        CBR 5 / 30.5 * 1000 = 163.934... -> 163.93, GFR denominator (14 + 14) / 2 = 14.0,
        TFR 1 + 1 + 2 + 2 = 6.0
    township 410325100, 2024: CBR 4 / 19.5 * 1000 = 205.128... -> 205.13
    township 410325101, 2024: CBR 1 / 11 * 1000 = 90.909... -> 90.91
    village 410325100201 (A1), 2024: SRB 1 boy / 0 girls -> no value
    village 410325101202 (B2), 2024: nobody lives there, CBR 0 / 0.0 -> no value
    county 2024S1: CBR 4 / 31 * 1000 = 129.032... -> 129.03
    county 202403: CBR 2 / 32 * 1000 = 62.5
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import pytest
from lxml import etree

from taizhang.errors import UserError
from taizhang.exchange.adx import ADX_NAMESPACE, SCHEMA_PATH, iso_period, to_adx, validate_adx
from taizhang.exchange.mapping import DEFAULT_MAPPING_PATH, Mapping, load_mapping
from taizhang.exchange.values import DataValue, Group, format_number
from taizhang.indicators.definitions import INDICATORS_BY_CODE

COUNTY, T100, T101 = "410325", "410325100", "410325101"
A1, A2, B1, B2 = "410325100201", "410325100202", "410325101201", "410325101202"
NS = {"adx": ADX_NAMESPACE}

SCHEMA = etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def adx_groups(document: bytes) -> dict[str, tuple[str, dict[str, str]]]:
    """Validate an ADX document against the vendored XSD; ``{orgUnit: (period, {element:
    value})}``."""
    doc = etree.fromstring(document)
    SCHEMA.assertValid(doc)
    groups = {}
    for group in doc.findall("adx:group", NS):
        values = {v.get("dataElement"): v.get("value") for v in group.findall("adx:dataValue", NS)}
        groups[group.get("orgUnit")] = (group.get("period"), values)
    return groups


@pytest.fixture
def export(taizhang):
    """Run `taizhang export` and return the result, checking it succeeded."""

    def run(*args):
        result = taizhang("export", *args)
        assert result.exit_code == 0, result.output
        return result

    return run


def write_mapping(tmp_path, content) -> str:
    path = tmp_path / "mapping.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return str(path)


# ---------------------------------------------------------------------------
# ADX


@pytest.mark.django_db
class TestAdx:
    def test_it_exports_the_county_for_2024_as_valid_adx(self, hand_built_county, export):
        result = export("--format", "adx", "--org", COUNTY, "--period", "2024")
        document = result.stdout.encode("utf-8")
        root = etree.fromstring(document)
        assert root.tag == f"{{{ADX_NAMESPACE}}}adx"
        assert dt.datetime.fromisoformat(root.get("exported")).tzinfo is not None
        groups = adx_groups(document)
        assert list(groups) == [COUNTY]
        period, values = groups[COUNTY]
        assert period == "2024-01-01/P1Y"
        assert values["TZ_BIRTHS"] == "5"
        assert (values["TZ_CBR"], values["TZ_CBR_NUM"], values["TZ_CBR_DEN"]) == (
            "163.93",
            "5",
            "30.5",
        )
        assert values["TZ_POP_AVG"] == "30.5"
        assert values["TZ_GFR_DEN"] == "14"  # 14.0 written as a plain decimal
        assert values["TZ_TFR"] == "6"
        # A count has no numerator/denominator elements of its own.
        assert "TZ_BIRTHS_NUM" not in values
        # 7 indicators without denominator send 1 value, the 16 ratios 3; none is null.
        assert len(values) == 7 + 16 * 3

    @pytest.mark.parametrize(
        ("period", "iso", "expected"),
        [
            # 2024S1: CBR 4 / 31 * 1000 = 129.03, POP_AVG (29 + 33) / 2 = 31
            ("2024S1", "2024-01-01/P6M", {"TZ_CBR": "129.03", "TZ_CBR_DEN": "31"}),
            # 2024Q3 (July-September): births C25 Feb, C11a/b Mar, C05 Jun 30, C15 Nov -> 0;
            # deaths: P09 on 2024-09-15 -> 1
            ("2024Q3", "2024-07-01/P3M", {"TZ_BIRTHS": "0", "TZ_DEATHS": "1"}),
            # 202403: the twins, 2 births; CBR 2 / 32 * 1000 = 62.5
            ("202403", "2024-03-01/P1M", {"TZ_BIRTHS": "2", "TZ_CBR": "62.5"}),
        ],
    )
    def test_it_writes_valid_adx_for_each_kind_of_period(
        self, hand_built_county, export, period, iso, expected
    ):
        result = export("--format", "adx", "--org", COUNTY, "--period", period)
        got_period, values = adx_groups(result.stdout.encode())[COUNTY]
        assert got_period == iso
        assert {code: values[code] for code in expected} == expected

    def test_it_writes_one_group_per_township(self, hand_built_county, export):
        result = export("--format", "adx", "--org", COUNTY, "--period", "2024", "--by", "township")
        groups = adx_groups(result.stdout.encode())
        assert list(groups) == [T100, T101]
        assert groups[T100][1]["TZ_CBR"] == "205.13"  # 4 / 19.5 * 1000
        assert groups[T101][1]["TZ_CBR"] == "90.91"  # 1 / 11 * 1000
        assert {period for period, _ in groups.values()} == {"2024-01-01/P1Y"}

    def test_it_leaves_out_a_null_value_but_sends_its_parts(self, hand_built_county, export):
        result = export("--format", "adx", "--org", COUNTY, "--period", "2024", "--by", "village")
        groups = adx_groups(result.stdout.encode())
        assert list(groups) == [A1, A2, B1, B2]
        a1, b2 = groups[A1][1], groups[B2][1]
        # A1: one boy, no girl -> SRB has no value; 1 / 0 are still sent.
        assert "TZ_SRB" not in a1
        assert (a1["TZ_SRB_NUM"], a1["TZ_SRB_DEN"]) == ("1", "0")
        # B2: empty village -> CBR 0 / 0.0 has no value; counts are 0.
        assert "TZ_CBR" not in b2
        assert (b2["TZ_CBR_NUM"], b2["TZ_CBR_DEN"], b2["TZ_BIRTHS"]) == ("0", "0", "0")

    def test_it_validates_with_the_validate_option(self, hand_built_county, export):
        result = export(
            "--format",
            "adx",
            "--org",
            COUNTY,
            "--period",
            "2024",
            "--indicator",
            "CBR",
            "--validate",
        )
        assert adx_groups(result.stdout.encode())[COUNTY][1] == {
            "TZ_CBR": "163.93",
            "TZ_CBR_NUM": "5",
            "TZ_CBR_DEN": "30.5",
        }

    def test_it_stamps_the_export_time(self, hand_built_county):
        from taizhang.exchange.adx import export_adx

        stamp = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        document = export_adx(COUNTY, "2024", ["BIRTHS"], exported=stamp)
        root = etree.fromstring(document)
        assert root.get("exported") == "2025-01-02T03:04:05+00:00"
        assert adx_groups(document) == {COUNTY: ("2024-01-01/P1Y", {"TZ_BIRTHS": "5"})}


class TestAdxWithoutDatabase:
    @pytest.mark.parametrize(
        ("code", "iso"),
        [
            ("2024", "2024-01-01/P1Y"),
            ("2024S1", "2024-01-01/P6M"),
            ("2024S2", "2024-07-01/P6M"),
            ("2024Q3", "2024-07-01/P3M"),
            ("202402", "2024-02-01/P1M"),
        ],
    )
    def test_it_writes_periods_as_iso_ranges(self, code, iso):
        assert iso_period(code) == iso

    def test_it_refuses_a_document_against_the_schema(self):
        # A group without any dataValue breaks the schema (at least one is required).
        bad = f'<adx xmlns="{ADX_NAMESPACE}" exported="2025-01-01T00:00:00Z"><group orgUnit="1" period="2024-01-01/P1Y"/></adx>'
        with pytest.raises(UserError, match="does not validate against adx_loose.xsd: line 1"):
            validate_adx(bad.encode())

    def test_it_says_validation_needs_lxml(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "lxml", None)
        with pytest.raises(UserError, match="needs lxml"):
            validate_adx(b"<adx/>")

    def test_it_leaves_out_groups_with_nothing_to_send(self):
        # ADX requires at least one dataValue per group: an empty group is not written.
        document = to_adx([Group("1", "2024", []), Group("2", "2024Q1", [DataValue("X", "7")])])
        assert adx_groups(document) == {"2": ("2024-01-01/P3M", {"X": "7"})}

    @pytest.mark.parametrize(
        ("number", "text"),
        [
            (5, "5"),
            (30.5, "30.5"),
            (14.0, "14"),
            (1e-05, "0.00001"),
            (-3.25, "-3.25"),
            (1e16, "10000000000000000"),
        ],
    )
    def test_it_writes_numbers_without_exponent(self, number, text):
        assert format_number(number) == text


# ---------------------------------------------------------------------------
# DHIS2 JSON


@pytest.mark.django_db
class TestDhis2:
    def test_it_exports_data_values_with_string_values(self, hand_built_county, export):
        result = export(
            "--format",
            "dhis2-json",
            "--org",
            COUNTY,
            "--period",
            "2024",
            "--indicator",
            "CBR,BIRTHS",
        )
        data = json.loads(result.stdout)
        # BIRTHS before CBR: the order of docs/indicators.md.
        assert data == {
            "dataValues": [
                {"dataElement": "TZ_BIRTHS", "period": "2024", "orgUnit": COUNTY, "value": "5"},
                {"dataElement": "TZ_CBR", "period": "2024", "orgUnit": COUNTY, "value": "163.93"},
                {"dataElement": "TZ_CBR_NUM", "period": "2024", "orgUnit": COUNTY, "value": "5"},
                {"dataElement": "TZ_CBR_DEN", "period": "2024", "orgUnit": COUNTY, "value": "30.5"},
            ]
        }

    def test_it_uses_dhis2_period_ids_and_every_org_unit(self, hand_built_county, export):
        result = export(
            "--format", "dhis2-json", "--org", COUNTY, "--period", "2024q3", "--by", "village"
        )
        values = json.loads(result.stdout)["dataValues"]
        assert {v["period"] for v in values} == {"2024Q3"}
        assert [v["orgUnit"] for v in values if v["dataElement"] == "TZ_DEATHS"] == [A1, A2, B1, B2]
        # P09 died in A1 on 2024-09-15: the only death of the quarter.
        deaths = {v["orgUnit"]: v["value"] for v in values if v["dataElement"] == "TZ_DEATHS"}
        assert deaths == {A1: "1", A2: "0", B1: "0", B2: "0"}
        assert all(isinstance(v["value"], str) for v in values)

    def test_it_applies_a_mapping_file(self, hand_built_county, export, tmp_path):
        mapping = write_mapping(
            tmp_path,
            {
                "dataElements": {"CBR": {"value": "fbfJHSPpUQD"}},
                "orgUnits": {COUNTY: "ImspTQPwCqd"},
                "categoryOptionCombo": "HllvX50cXC0",
                "attributeOptionCombo": "HllvX50cXC1",
            },
        )
        args = ["--org", COUNTY, "--period", "2024", "--indicator", "BIRTHS", "--indicator", "CBR"]
        result = export("--format", "dhis2-json", *args, "--mapping", mapping)
        combos = {"categoryOptionCombo": "HllvX50cXC0", "attributeOptionCombo": "HllvX50cXC1"}
        common = {"period": "2024", "orgUnit": "ImspTQPwCqd", **combos}
        # CBR's entry replaces the default one: only its value is sent; BIRTHS keeps the default.
        assert json.loads(result.stdout)["dataValues"] == [
            {"dataElement": "TZ_BIRTHS", **common, "value": "5"},
            {"dataElement": "fbfJHSPpUQD", **common, "value": "163.93"},
        ]
        result = export("--format", "adx", *args, "--mapping", mapping)
        assert adx_groups(result.stdout.encode()) == {
            "ImspTQPwCqd": ("2024-01-01/P1Y", {"TZ_BIRTHS": "5", "fbfJHSPpUQD": "163.93"})
        }

    def test_it_exports_an_unmapped_indicator_under_its_own_code(self, hand_built_county):
        from taizhang.exchange.dhis2 import export_dhis2

        data = export_dhis2(COUNTY, "2024", ["CBR"], mapping=Mapping())
        assert data == {
            "dataValues": [
                {"dataElement": "CBR", "period": "2024", "orgUnit": COUNTY, "value": "163.93"}
            ]
        }


# ---------------------------------------------------------------------------
# The mapping


class TestMapping:
    def test_the_default_maps_every_indicator_and_its_parts(self):
        mapping = load_mapping()
        missing = set(INDICATORS_BY_CODE) - set(mapping.data_elements)
        assert not missing, f"add {sorted(missing)} to taizhang/exchange/mapping.json"
        for code, indicator in INDICATORS_BY_CODE.items():
            expected = {"value": f"TZ_{code}"}
            if indicator.denominator is not None:
                expected |= {"numerator": f"TZ_{code}_NUM", "denominator": f"TZ_{code}_DEN"}
            assert mapping.elements_of(code) == expected
        assert mapping.org_units == {}
        assert mapping.org_unit_of(COUNTY) == COUNTY
        assert json.loads(DEFAULT_MAPPING_PATH.read_text("utf-8"))["orgUnits"] == {}

    def test_a_file_adds_to_the_default(self, tmp_path):
        path = write_mapping(
            tmp_path, {"dataElements": {"cdr": {"value": "X"}}, "orgUnits": {B1: "ou"}}
        )
        mapping = load_mapping(path)
        assert mapping.elements_of("CDR") == {"value": "X"}
        assert mapping.elements_of("CBR")["numerator"] == "TZ_CBR_NUM"
        assert (mapping.org_unit_of(B1), mapping.org_unit_of(B2)) == ("ou", B2)

    def test_it_refuses_to_export_nothing(self):
        with pytest.raises(UserError, match="nothing to export"):
            to_adx([Group("1", "2024", [])])


BAD_MAPPINGS = [
    ('{"dataElements": {', "is not valid JSON: line 1 column 19"),
    (
        {"dataElements": {"BIRTHZ": {"value": "B"}}},
        "dataElements.BIRTHZ: indicator BIRTHZ is not known",
    ),
    (
        {"dataElements": {"CBR": {"value": 12}}},
        "dataElements.CBR.value must be a code in quotes, not the number 12.",
    ),
    (
        {"dataElements": {"CBR": {"total": "T"}}},
        "dataElements.CBR.total is not a part; use value, numerator or denominator.",
    ),
    (
        {"dataElements": {"BIRTHS": {"denominator": "D"}}},
        "dataElements.BIRTHS.denominator: BIRTHS has no denominator.",
    ),
    ({"dataElements": {"CBR": "TZ_CBR"}}, "dataElements.CBR must be a JSON object"),
    ({"orgUnits": {COUNTY: None}}, f"orgUnits.{COUNTY} must be a code in quotes, not null."),
    ({"categoryOptionCombo": " "}, "categoryOptionCombo is empty"),
    ({"dataElement": {}}, "key 'dataElement' is not known; use dataElements, orgUnits"),
    ([1, 2], "the mapping must be a JSON object, not a list."),
]


@pytest.mark.django_db
class TestCommand:
    def test_it_writes_a_file_with_o(self, hand_built_county, export, tmp_path):
        out = tmp_path / "county.adx.xml"
        result = export("--format", "adx", "--org", COUNTY, "--period", "2024", "-o", out)
        assert result.stdout == f"Wrote adx export of {COUNTY} for 2024 to {out}.\n"
        assert adx_groups(out.read_bytes())[COUNTY][1]["TZ_BIRTHS"] == "5"

    @pytest.mark.parametrize(("content", "message"), BAD_MAPPINGS)
    def test_it_refuses_a_bad_mapping_file(
        self, hand_built_county, taizhang, tmp_path, content, message
    ):
        mapping = write_mapping(tmp_path, content)
        out = tmp_path / "out.json"
        result = taizhang(
            "export",
            "--format",
            "dhis2-json",
            "--org",
            COUNTY,
            "--period",
            "2024",
            "--mapping",
            mapping,
            "-o",
            out,
        )
        assert result.exit_code == 1
        assert result.stderr.startswith(f"mapping file {mapping}")
        assert message in result.stderr
        assert "Traceback" not in result.output
        assert not out.exists()

    def test_it_says_when_the_mapping_file_is_missing(self, hand_built_county, taizhang, tmp_path):
        missing = tmp_path / "nope.json"
        result = taizhang(
            "export", "--format", "adx", "--org", COUNTY, "--period", "2024", "--mapping", missing
        )
        assert result.exit_code == 1
        assert (
            result.stderr == f"mapping file {missing} cannot be read: No such file or directory.\n"
        )

    @pytest.mark.parametrize(
        ("args", "status", "message"),
        [
            (["--org", "999", "--period", "2024"], 1, "org unit 999 is not in the register."),
            (
                ["--org", COUNTY, "--period", "2024Q5"],
                1,
                "period 2024Q5 is not a valid period code",
            ),
            (
                ["--org", COUNTY, "--period", "2024", "--indicator", "NOPE"],
                1,
                "indicator NOPE is not known",
            ),
            (
                ["--org", A1, "--period", "2024", "--by", "village"],
                2,
                "cannot be broken down by village",
            ),
        ],
    )
    def test_it_refuses_bad_input(
        self, hand_built_county, taizhang, tmp_path, args, status, message
    ):
        out = tmp_path / "out.xml"
        result = taizhang("export", "--format", "adx", *args, "-o", out)
        assert result.exit_code == status
        assert message in result.stderr
        assert "Traceback" not in result.output
        assert not out.exists()

    def test_it_refuses_an_unknown_format_as_a_usage_error(self, taizhang):
        result = taizhang("export", "--format", "sdmx", "--org", COUNTY, "--period", "2024")
        assert result.exit_code == 2
        assert "sdmx" in result.stderr

    def test_it_validates_only_adx(self, hand_built_county, taizhang):
        result = taizhang(
            "export", "--format", "dhis2-json", "--org", COUNTY, "--period", "2024", "--validate"
        )
        assert result.exit_code == 2
        assert result.stderr == "--validate checks ADX documents; use it with --format adx.\n"
