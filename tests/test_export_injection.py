"""No CSV or XLSX file the system writes holds a live formula (CSV injection, OWASP).

Names, petition subjects and org-unit names are typed by people. Each export is made here
through its real command (or page) with hand-made hostile values, then read back as a
spreadsheet program would find it: with the ``csv`` module (a text cell that begins like a
formula starts with ``'``) and with openpyxl (a string cell, never a formula, holding the
text exactly). ``test_every_export_is_enumerated`` keeps the list of writers here complete:
a new CSV or XLSX writer must go through ``taizhang.lib.cells`` and be added below.

The register is the ledger village of ``test_ledgers`` (东街村 A, 西街村 B of 城关镇,
March 2026).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse
from helpers import make_user, write_csv
from test_ledger_return import column, fill
from test_ledgers import MARCH, A, B, ledger_village  # noqa: F401  (the fixture)

from taizhang.lib import cells

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_village", "data_dir")]

NAME = '=HYPERLINK("http://x","a")'
ORG = "+cmd|' /C calc'!A0"
SUBJECT = "@SUM(A1)"
VILLAGE = "-2+3村"
TOWNSHIP = "410325100"
ROOT = Path(__file__).parent.parent / "taizhang"

# Every module that writes CSV or XLSX, and the tests below that export through it.
WRITERS = {
    "ledgers/render.py": ("test_ledger_csv", "test_ledger_xlsx", "test_ledger_download"),
    "reports/render.py": ("test_report_xlsx",),
    "projection/render.py": ("test_projection_csv_and_xlsx",),
    "indicators/cli.py": ("test_indicators_csv",),
    "cases/cli.py": ("test_cases_csv",),
    "targets/cli.py": ("test_targets_csv",),
    "benefits/cli.py": ("test_benefits_csv",),
    "register/cli.py": ("test_duplicate_persons_csv",),
}


# ---------------------------------------------------------------------------
# Helpers


def rename_person(old: str, new: str) -> None:
    from taizhang.register.models import Person

    assert Person.objects.filter(name=old).update(name=new) == 1


def rename_org(code: str, new: str) -> None:
    from taizhang.orgunits.models import OrgUnit

    assert OrgUnit.objects.filter(code=code).update(name=new) == 1


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def assert_safe_csv(rows: list[list[str]]) -> None:
    """No cell begins like a formula, unless it is a plain number."""
    for row in rows:
        for value in row:
            if value.startswith(cells.TRIGGERS):
                assert cells.is_number_text(value), f"live formula in a CSV cell: {value!r}"


def assert_safe_xlsx(content: bytes) -> list:
    """No cell of any sheet is a formula; the workbook's cells, for more checks."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    found = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", f"formula in {sheet.title}!{c.coordinate}: {c.value!r}"
                found.append(c)
    # openpyxl's reading could hide a formula: look at the sheets' XML too.
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    return found


def string_cell(found, text: str):
    """The cell holding exactly ``text``: a string (type 's'), not a formula."""
    matches = [c for c in found if c.value == text]
    assert matches, f"{text!r} not found"
    for c in matches:
        assert c.data_type == "s" and isinstance(c.value, str)
    return matches[0]


def printed(taizhang, tmp_path, kind: str, fmt: str) -> Path:
    path = tmp_path / f"{kind}.{fmt}"
    result = taizhang("ledger", kind, "--village", A, "--month", MARCH, "--format", fmt, "-o", path)
    assert result.exit_code == 0, result.output
    return path


def hostile_ledger_village() -> None:
    from taizhang.cases.models import Case

    rename_person("王芳", NAME)
    rename_org(TOWNSHIP, ORG)
    assert Case.objects.filter(number="K-2").update(subject=SUBJECT) == 1


# ---------------------------------------------------------------------------
# The rule


class TestTheRule:
    @pytest.mark.parametrize(
        "value",
        [NAME, ORG, SUBJECT, "-2+3", "+86 138", "@x", "\t=1", "\r=1", "\n=1", "-", "+", "=",
         "-1-1", "-e5"],
    )  # fmt: skip
    def test_a_text_that_begins_like_a_formula_gets_a_quote(self, value):
        assert cells.neutralise(value) == "'" + value

    @pytest.mark.parametrize(
        "value", ["-0.5", "+3", "-12", "1e-3", "-1.5E+2", ".5", "-.5", "王芳", "a=1", " =1", ""]
    )
    def test_numbers_and_other_text_are_left_alone(self, value):
        assert cells.neutralise(value) == value

    @pytest.mark.parametrize("value", [-0.5, -3, 0, None, True, dt.date(2026, 3, 1)])
    def test_a_value_that_is_not_text_is_left_alone(self, value):
        assert cells.neutralise(value) is value

    def test_the_csv_writers_quote_every_cell(self):
        out = io.StringIO()
        cells.csv_writer(out, lineterminator="\n").writerows([[NAME, -0.5, "-0.5"]])
        writer = cells.DictWriter(out, ["a", "b"], lineterminator="\n")
        writer.writerow({"a": SUBJECT, "b": -1})
        assert csv_rows(out.getvalue()) == [["'" + NAME, "-0.5", "-0.5"], ["'" + SUBJECT, "-1"]]

    def test_the_workbook_never_makes_a_formula_whatever_it_is_asked(self):
        out = io.BytesIO()
        book = cells.workbook(out, {"strings_to_formulas": True, "strings_to_urls": True})
        sheet = book.add_worksheet()
        sheet.write(0, 0, NAME)  # the plain write() too
        sheet.write(0, 1, "http://x")
        cells.write(sheet, 0, 2, -0.5)
        cells.write(sheet, 0, 3, ORG)
        cells.write(sheet, 0, 4, float("nan"))
        book.close()
        found = assert_safe_xlsx(out.getvalue())
        string_cell(found, NAME)
        string_cell(found, ORG)
        (number,) = [c for c in found if c.value == -0.5]
        assert number.data_type == "n"
        assert not openpyxl.load_workbook(io.BytesIO(out.getvalue())).active["B1"].hyperlink


def test_every_export_is_enumerated():
    """Every CSV and XLSX writer goes through ``taizhang.lib.cells``, and is tested here."""
    raw = re.compile(r"\bcsv\.(writer|DictWriter)\(|\bxlsxwriter\b|\bopenpyxl\b")
    safe = re.compile(r"\bcells\.(csv_writer|DictWriter|workbook)\(")
    around, through = [], set()
    for path in sorted(ROOT.rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name == "lib/cells.py":
            continue
        text = path.read_text(encoding="utf-8")
        if raw.search(text):
            around.append(name)
        if safe.search(text):
            through.add(name)
        assert "strings_to_formulas" not in text, name
    assert around == [], "CSV/XLSX written around taizhang.lib.cells"
    assert through == set(WRITERS), "add the new writer to WRITERS, with its test"
    tests = {n for n, v in globals().items() if n.startswith("test_") and callable(v)}
    tests |= {n for n in dir(TestLedgers) if n.startswith("test_")}
    for names in WRITERS.values():
        assert set(names) <= tests


# ---------------------------------------------------------------------------
# Each export


class TestLedgers:
    def test_ledger_csv(self, taizhang, tmp_path):
        hostile_ledger_village()
        rows = csv_rows(printed(taizhang, tmp_path, "contraception", "csv").read_text("utf-8"))
        assert_safe_csv(rows)
        assert {v for r in rows for v in r if NAME in v} == {"'" + NAME}  # her two rows
        rows = csv_rows(printed(taizhang, tmp_path, "cases", "csv").read_text("utf-8"))
        assert_safe_csv(rows)
        assert [v for r in rows for v in r if SUBJECT in v] == ["'" + SUBJECT]
        # The numbers printed stay numbers (序号).
        assert [r[0] for r in rows[1:]] == ["1", "2"]

    def test_ledger_csv_comes_back(self, taizhang, tmp_path):
        # The quote is in a printed column, which a return does not read: the CSV with a
        # return visit filled in (K-1, replied 2026-03-10) applies as usual.
        hostile_ledger_village()
        path = printed(taizhang, tmp_path, "cases", "csv")
        rows = csv_rows(path.read_text("utf-8"))
        n = next(i for i, r in enumerate(rows) if r[column("cases", "number") - 1] == "K-1")
        rows[n][column("cases", "date") - 1] = "2026-03-31"
        rows[n][column("cases", "satisfaction") - 1] = "满意"
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f).writerows(rows)
        result = taizhang("ledger-return", path)
        assert result.exit_code == 0, result.output
        assert "applied 1" in result.output

    def test_ledger_xlsx(self, taizhang, tmp_path):
        hostile_ledger_village()
        found = assert_safe_xlsx(printed(taizhang, tmp_path, "contraception", "xlsx").read_bytes())
        string_cell(found, NAME)  # the text itself: no quote in an XLSX
        header = [c.value for c in found if isinstance(c.value, str) and c.value.startswith("县")]
        assert any(ORG in v for v in header)  # the header line names the township
        path = printed(taizhang, tmp_path, "cases", "xlsx")
        string_cell(assert_safe_xlsx(path.read_bytes()), SUBJECT)
        # Filled in and saved as Excel would (openpyxl) it stays text, and comes back.
        n = 1 + [c.value for c in openpyxl.load_workbook(path).worksheets[0]["B"]][5:].index("K-1")
        fill(path, "cases", {n: {"date": dt.date(2026, 3, 31), "satisfaction": "满意"}})
        string_cell(assert_safe_xlsx(path.read_bytes()), SUBJECT)
        result = taizhang("ledger-return", path)
        assert result.exit_code == 0, result.output
        assert "applied 1" in result.output

    def test_ledger_download(self, client, tmp_path):
        from django.contrib.auth import get_user_model

        hostile_ledger_village()
        client.force_login(get_user_model().objects.get(username="alice"))
        r = client.get(reverse("ledgers:download", args=[A, MARCH, "contraception", "csv"]))
        assert r.status_code == 200
        rows = csv_rows(r.content.decode("utf-8"))
        assert_safe_csv(rows)
        assert "'" + NAME in [v for row in rows for v in row]
        r = client.get(reverse("ledgers:download", args=[A, MARCH, "cases", "xlsx"]))
        assert r.status_code == 200
        string_cell(assert_safe_xlsx(r.content), SUBJECT)


def test_report_xlsx(taizhang, tmp_path, client):
    from taizhang.accounts.models import Role

    rename_org(TOWNSHIP, ORG)
    rename_org(A, NAME)
    out = tmp_path / "report.xlsx"
    result = taizhang(
        "report", "population-change", "--period", MARCH, "--org", "410325",
        "--format", "xlsx", "-o", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    found = assert_safe_xlsx(out.read_bytes())
    string_cell(found, ORG)  # the township's column
    assert any(c.data_type == "n" for c in found)  # figures stay numbers
    out = tmp_path / "township.xlsx"
    result = taizhang(
        "report", "population-change", "--period", MARCH, "--org", TOWNSHIP,
        "--format", "xlsx", "-o", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    string_cell(assert_safe_xlsx(out.read_bytes()), NAME)  # the village's column
    # The page's download is the same file.
    client.force_login(make_user("ada", Role.COUNTY_ADMIN, "410325"))
    query = f"?form=population-change&org=410325&period={MARCH}&format=xlsx"
    r = client.get(reverse("reports:download") + query)
    assert r.status_code == 200
    string_cell(assert_safe_xlsx(r.content), ORG)


def test_indicators_csv(taizhang):
    rename_org(A, NAME)
    rename_org(B, VILLAGE)
    result = taizhang(
        "indicators", "--org", TOWNSHIP, "--period", "2026", "--by", "village",
        "--indicator", "RNI,POP_END", "--format", "csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = csv_rows(result.stdout)
    assert_safe_csv(rows)
    header = rows[0]
    names = {r[header.index("org")]: r[header.index("org_name")] for r in rows[1:]}
    assert names == {A: "'" + NAME, B: "'" + VILLAGE}
    for r in rows[1:]:
        for key in ("value", "numerator", "denominator"):
            assert r[header.index(key)] == "" or float(r[header.index(key)]) is not None


def test_indicators_csv_keeps_negative_numbers():
    # A negative figure (a natural increase below zero) is a number, in the CSV too.
    from taizhang.indicators.cli import to_csv

    rename_org(A, NAME)
    result = {
        "org": A,
        "period": "2026",
        "indicators": [
            {"code": "RNI", "value": -0.5, "numerator": -1, "denominator": 2000.0,
             "unit": "per_mille"},
        ],
    }  # fmt: skip
    (header, row) = csv_rows(to_csv([result]))
    got = dict(zip(header, row, strict=True))
    assert (got["org_name"], got["value"], got["numerator"]) == ("'" + NAME, "-0.5", "-1")


def test_projection_csv_and_xlsx(taizhang, tmp_path):
    rename_org("410325", NAME)
    base = ["project", "--org", "410325", "--base-year", "2025", "--years", "2"]
    result = taizhang(*base, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert_safe_csv(csv_rows(result.stdout))
    out = tmp_path / "projection.xlsx"
    result = taizhang(*base, "--format", "xlsx", "-o", out)
    assert result.exit_code == 0, result.output
    found = assert_safe_xlsx(out.read_bytes())
    assert any(isinstance(c.value, str) and NAME in c.value for c in found)  # the title


def test_cases_csv(taizhang):
    rename_org(TOWNSHIP, ORG)
    result = taizhang("cases", "report", "--org", "410325", "--period", "2026", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = csv_rows(result.stdout)
    assert_safe_csv(rows)
    assert "'" + ORG in [v for r in rows for v in r]
    result = taizhang(
        "cases", "overdue", "--org", "410325", "--as-of", "2026-06-30", "--format", "csv"
    )
    assert result.exit_code == 0, result.output
    assert_safe_csv(csv_rows(result.stdout))


def test_targets_csv(taizhang, tmp_path):
    rename_org(A, NAME)
    path = tmp_path / "targets.csv"
    write_csv(path, ["indicator", "org", "year", "target"], [["CPR", A, "2026", "85"]])
    result = taizhang("import", path, "--kind", "targets")
    assert result.exit_code == 0, result.output
    result = taizhang("targets", "list", "--org", "410325", "--year", "2026", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = csv_rows(result.stdout)
    assert_safe_csv(rows)
    (row,) = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert (row["org_name"], row["target"]) == ("'" + NAME, "85.0")


def test_benefits_csv(taizhang):
    rename_org(TOWNSHIP, ORG)
    result = taizhang(
        "benefits", "report", "--org", "410325", "--period", "2026", "--format", "csv"
    )
    assert result.exit_code == 0, result.output
    rows = csv_rows(result.stdout)
    assert_safe_csv(rows)
    assert "'" + ORG in [v for r in rows for v in r]
    # The JSON is the data itself: no quote there.
    result = taizhang(
        "benefits", "report", "--org", "410325", "--period", "2026", "--format", "json"
    )
    assert ORG in {r["township_name"] for r in json.loads(result.stdout)["rows"]}


def test_duplicate_persons_csv(taizhang, tmp_path):
    import datetime as dt

    from taizhang.lib.idnumber import make
    from taizhang.register.models import Person

    twice = [make("410325", dt.date(1979, 9, 9), 2), make("410325", dt.date(1979, 9, 9), 4)]
    path = write_csv(
        tmp_path / "twice.csv",
        ["id_number", "name", "sex", "village"],
        [[number, "某某", "F", A] for number in twice],
    )
    assert taizhang("import", path, "--kind", "persons").exit_code == 0
    assert Person.objects.filter(name="某某").update(name=NAME) == 2
    result = taizhang("duplicate-persons", "--org", A, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = csv_rows(result.stdout)
    assert_safe_csv(rows)
    (row,) = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert (row["a"], row["a_name"], row["b_name"]) == (twice[0], "'" + NAME, "'" + NAME)
