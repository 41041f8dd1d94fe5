"""Fuzzing the readers: whatever bytes come in as .csv or .xlsx — random bytes, random zip
archives, random sheet XML with random cell references — reading them ends in a table,
a ``FileError`` (``read_table``) or a ``UserError`` (a ledger read back), and never in
any other exception, a crash or a hang. About 30 seconds in all."""

from __future__ import annotations

import contextlib
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hostile_files import (
    _CONTENT_TYPES,
    _RELS,
    _SHEET_HEAD,
    _SHEET_TAIL,
    _WORKBOOK,
    _WORKBOOK_RELS,
)

from taizhang.errors import UserError
from taizhang.imports.readers import FileError, read_table
from taizhang.ledgers.returns import read_file
from taizhang.lib import sheets

# Small limits keep each example quick; the checks are the same.
LIMITS = sheets.Limits(
    unzipped_mb=8, part_mb=8, rows=5_000, columns=64, cells=50_000, memory_mb=512, seconds=20
)
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_letters = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz", min_size=0, max_size=4)
_digits = st.integers(min_value=0, max_value=2_000_000).map(str) | st.text(
    alphabet="0123456789 -x", max_size=9
)
_reference = st.tuples(_letters, _digits).map("".join)
_value = st.one_of(
    st.text(max_size=12).map(lambda t: f"<v>{_escape(t)}</v>"),
    st.integers().map(lambda n: f"<v>{n}</v>"),
    st.text(max_size=12).map(lambda t: f"<is><t>{_escape(t)}</t></is>"),
    st.just(""),
)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def _cell(draw) -> str:
    attrs = ""
    if draw(st.booleans()):
        attrs += f' r="{draw(_reference)}"'
    kind = draw(
        st.sampled_from(
            ["", ' t="inlineStr"', ' t="s"', ' t="str"', ' t="b"', ' t="e"', ' t="d"', ' t="zz"']
        )
    )
    prefix = draw(st.sampled_from(["", "", "", "x:"]))
    return f"<{prefix}c{attrs}{kind}>{draw(_value)}</{prefix}c>"


@st.composite
def _sheet(draw) -> bytes:
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        r = f' r="{draw(_digits)}"' if draw(st.booleans()) else ""
        cells = "".join(draw(st.lists(_cell(), max_size=5)))
        rows.append(f"<row{r}>{cells}</row>")
    xml = _SHEET_HEAD + "".join(rows) + _SHEET_TAIL
    if draw(st.booleans()):  # break it somewhere
        cut = draw(st.integers(0, len(xml)))
        xml = xml[:cut] + draw(st.text(max_size=8)) + xml[cut:]
    return xml.encode("utf-8", "surrogatepass")


@st.composite
def _archive(draw) -> bytes:
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES.encode(),
        "_rels/.rels": _RELS.encode(),
        "xl/workbook.xml": _WORKBOOK.encode(),
        "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS.encode(),
        "xl/worksheets/sheet1.xml": draw(_sheet()),
    }
    for name in draw(st.lists(st.sampled_from(sorted(parts)), max_size=2)):
        if draw(st.booleans()):
            parts.pop(name, None)  # the same part may be drawn twice
        else:
            parts[name] = draw(st.binary(max_size=64))
    for name, data in draw(
        st.dictionaries(st.text(min_size=1, max_size=12), st.binary(max_size=64), max_size=2)
    ).items():
        parts[name] = data
    out = io.BytesIO()
    method = draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED]))
    with zipfile.ZipFile(out, "w", method) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    data = out.getvalue()
    if draw(st.booleans()):  # damage it: cut it short, or flip bytes
        if draw(st.booleans()):
            data = data[: draw(st.integers(0, len(data)))]
        else:
            data = bytearray(data)
            for _ in range(draw(st.integers(1, 4))):
                i = draw(st.integers(0, len(data) - 1))
                data[i] = draw(st.integers(0, 255))
            data = bytes(data)
    return data


@pytest.fixture(autouse=True)
def small_limits(monkeypatch):
    monkeypatch.setitem(sheets.PROFILES, "import", LIMITS)
    monkeypatch.setitem(sheets.PROFILES, "ledger_return", LIMITS)


def _read_table(tmp_path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        read_table(path)
    except FileError as e:
        assert str(e).startswith(
            ("the file ", "the workbook ", "missing column", "cannot tell", "the column")
        ), e


def _read_back(data: bytes, name: str) -> None:
    with contextlib.suppress(UserError):
        read_file(data, name)


@FUZZ
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_random_bytes(tmp_path, data, suffix):
    _read_table(tmp_path, data, suffix)
    _read_back(data, f"f{suffix}")


@FUZZ
@given(data=_archive())
def test_random_workbooks(tmp_path, data):
    _read_table(tmp_path, data, ".xlsx")
    _read_back(data, "f.xlsx")


@FUZZ
@given(
    text=st.text(max_size=300),
    encoding=st.sampled_from(["utf-8", "gb18030", "utf-16", "big5", "shift_jis"]),
)
def test_random_texts(tmp_path, text, encoding):
    data = ("id_number,name,sex,village\n" + text).encode(encoding, "replace")
    _read_table(tmp_path, data, ".csv")
    _read_back(data, "f.csv")
