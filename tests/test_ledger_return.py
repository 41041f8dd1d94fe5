"""``taizhang ledger-return``: a filled-in ledger read back, worked out by hand.

The register is the ledger village of ``test_ledgers`` (东街村 A, 410325100201, March
2026; its docstring lists every person). Each test prints a ledger of A for March as the
village worker would get it (``taizhang ledger ... --format xlsx``: archived), fills cells
with openpyxl as Excel would (the sheet keeps its protection) and returns it.

Rows are numbered as the printed 序号: row 1 is the first under the table's header.
"""

from __future__ import annotations

import csv
import datetime as dt
import json

import openpyxl
import pytest
from test_ledgers import MARCH, A, B, ledger_village  # noqa: F401  (the fixture)

from taizhang import clock
from taizhang.audit.models import AuditEntry
from taizhang.ledgers.declarations import LEDGERS
from taizhang.ledgers.models import LedgerFile, ReturnedRow
from taizhang.ledgers.render import HEADER_ROW
from taizhang.ledgers.rowkeys import make_key, parse_key
from taizhang.register.models import Event, Person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_village", "data_dir")]


def printed(taizhang, tmp_path, kind: str, fmt: str = "xlsx"):
    """The ledger ``kind`` of A for March as printed (and archived)."""
    path = tmp_path / f"{kind}.{fmt}"
    result = taizhang("ledger", kind, "--village", A, "--month", MARCH, "--format", fmt, "-o", path)
    assert result.exit_code == 0, result.output
    return path


def column(kind: str, key: str) -> int:
    """The sheet column (1-based) of a fill-in column, or of the row key."""
    ledger = LEDGERS[kind]
    keys = ["no", *(c.key for c in ledger.columns), *(c.key for c in ledger.fill), "row_key"]
    return keys.index(key) + 1


def fill(path, kind: str, rows: dict[int, dict], out=None):
    """Write values into rows (序号) of a printed XLSX, as a worker does in Excel."""
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    for n, values in rows.items():
        for key, value in values.items():
            sheet.cell(HEADER_ROW + n, column(kind, key)).value = value
    assert sheet.protection.sheet  # still protected: only the fill-in cells were open
    book.save(out or path)
    return out or path


def cell(path, kind: str, n: int, key: str):
    return openpyxl.load_workbook(path).worksheets[0].cell(HEADER_ROW + n, column(kind, key)).value


def names(path, kind: str) -> list[str]:
    """The names printed in the rows, in order (序号 1, 2, ...)."""
    sheet = openpyxl.load_workbook(path).worksheets[0]
    out = []
    n = 1
    while (key := sheet.cell(HEADER_ROW + n, column(kind, "row_key")).value) is not None:
        out.append(sheet.cell(HEADER_ROW + n, column(kind, "name")).value if key else None)
        n += 1
    return out


def person(name: str) -> Person:
    return Person.objects.get(name=name)


def events(name: str, kind: str) -> list[tuple]:
    return list(
        Event.objects.filter(person=person(name), kind=kind)
        .order_by("date")
        .values_list("date", "findings")
    )


class TestCheckupReturn:
    # The check-up ledger of A for March lists the seven women due (test_ledgers):
    # 王芳, 刘洋, 杨敏, 赵婷, 黄燕, 周娟, 徐红 — rows 1 to 7.

    def test_it_records_each_filled_row_once(self, taizhang, tmp_path):
        path = printed(taizhang, tmp_path, "checkup")
        assert names(path, "checkup") == ["王芳", "刘洋", "杨敏", "赵婷", "黄燕", "周娟", "徐红"]
        fill(path, "checkup", {1: {"date": dt.date(2026, 3, 25), "findings": "正常"},
                               4: {"date": dt.date(2026, 3, 26)}})  # fmt: skip
        result = taizhang("ledger-return", path)
        assert result.exit_code == 0, result.output
        # Rows 1 and 4 become check-ups; the five others are pending.
        assert "checkup 410325100201 202603, 7 rows: applied 2, already returned 0, pending 5" in (
            result.output
        )
        assert "events 2" in result.output
        assert events("王芳", "checkup")[-1] == (dt.date(2026, 3, 25), "正常")
        assert events("赵婷", "checkup") == [(dt.date(2026, 3, 26), "")]
        # The returned file is archived beside the printed one it answers, with who and when.
        generated = LedgerFile.objects.get(direction="generated")
        returned = LedgerFile.objects.get(direction="returned")
        assert returned.answers == generated
        assert (returned.kind, returned.village, returned.month, returned.rows) == (
            "checkup",
            A,
            202603,
            2,
        )
        assert returned.created_by.username == "taizhang"
        assert returned.original_name == "checkup.xlsx"
        assert "/returned/" in returned.path
        rows = ReturnedRow.objects.order_by("row")
        assert [(r.row, r.subject_id, r.values) for r in rows] == [
            (1, person("王芳").pk, {"date": "2026-03-25", "findings": "正常"}),
            (4, person("赵婷").pk, {"date": "2026-03-26"}),
        ]
        entry = AuditEntry.objects.get(action="ledger_return")
        assert entry.object_id == str(returned.pk)
        assert entry.detail["persons"] == sorted([person("王芳").pk, person("赵婷").pk])

        # The same file again: nothing changes, and it leaves no trace.
        before = Event.objects.count()
        again = taizhang("ledger-return", path)
        assert again.exit_code == 0, again.output
        assert "applied 0, already returned 2, pending 5" in again.output
        assert Event.objects.count() == before
        assert LedgerFile.objects.filter(direction="returned").count() == 1
        assert AuditEntry.objects.filter(action="ledger_return").count() == 1

        # A later file with row 4 as before and row 7 newly filled: only row 7 is new.
        later = fill(printed(taizhang, tmp_path, "checkup"), "checkup",
                     {4: {"date": dt.date(2026, 3, 26)}, 7: {"date": dt.date(2026, 3, 27)}})  # fmt: skip
        result = taizhang("ledger-return", later)
        assert "applied 1, already returned 1, pending 5" in result.output
        assert events("徐红", "checkup")[-1] == (dt.date(2026, 3, 27), "")
        assert Event.objects.count() == before + 1

    def test_a_row_returned_again_with_other_values_is_refused(self, taizhang, tmp_path):
        # A payment row: a changed check-up row corrects its event instead
        # (test_ledger_return_corrections).
        path = printed(taizhang, tmp_path, "benefits")
        fill(path, "benefits", {1: {"paid_date": dt.date(2026, 3, 30)}})
        assert taizhang("ledger-return", path).exit_code == 0
        fill(path, "benefits", {1: {"paid_date": dt.date(2026, 3, 31)}})
        result = taizhang("ledger-return", path)
        assert result.exit_code == 1
        today = clock.today()  # the day it was returned (the time zone is a day off at most)
        assert "row 1: row_key: this row was returned on" in result.stderr
        assert "now it says otherwise (发放日期 2026-03-30 → 2026-03-31)" in result.stderr
        assert str(today.year) in result.stderr
        assert ReturnedRow.objects.get().values == {"paid_date": "2026-03-30"}

    def test_a_file_with_bad_rows_is_refused_whole_naming_each(self, taizhang, tmp_path):
        # Row 1 is good; row 2 has no such date (2026-02-30); row 3 a date after today
        # (the next year); row 5's findings run past 200 characters.
        path = printed(taizhang, tmp_path, "checkup")
        future = clock.today().year + 1
        fill(path, "checkup", {
            1: {"date": dt.date(2026, 3, 25)},
            2: {"date": "2026-02-30"},
            3: {"date": f"{future}-01-05"},
            5: {"date": dt.date(2026, 3, 20), "findings": "很" * 201},
        })  # fmt: skip
        errors = tmp_path / "errors.json"
        before = Event.objects.count()
        result = taizhang("ledger-return", path, "--errors-json", errors)
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [
            "row 2: date: 2026-02-30 is not a real date (use YYYY-MM-DD)",
            f"row 3: date: {future}-01-05 is in the future.",
            "row 5: findings: the text is longer than 200 characters.",
            "checkup.xlsx: nothing recorded — 3 of 7 rows have errors",
        ]
        assert json.loads(errors.read_text(encoding="utf-8"))[0] == {
            "row": 2,
            "column": "date",
            "message": "2026-02-30 is not a real date (use YYYY-MM-DD)",
        }
        # Nothing written: not even the good row 1.
        assert Event.objects.count() == before
        assert not ReturnedRow.objects.exists()
        assert not LedgerFile.objects.filter(direction="returned").exists()
        assert "Traceback" not in result.output

    def test_an_answer_not_in_the_list_is_refused_with_the_answers(self, taizhang, tmp_path):
        # Contraception row 2 (张丽): a method written as "避孕环", which is not one of the
        # drop-down's answers; row 1 (王芳 stops her IUD) is good but is not recorded either.
        path = fill(printed(taizhang, tmp_path, "contraception"), "contraception", {
            1: {"date": dt.date(2026, 3, 20), "method_stopped": "宫内节育器",
                "stop_reason": "计划怀孕"},
            2: {"date": dt.date(2026, 3, 28), "method_started": "避孕环"},
        })  # fmt: skip
        before = Event.objects.count()
        result = taizhang("ledger-return", path)
        assert result.exit_code == 1
        answers = "、".join(
            c.zh for c in LEDGERS["contraception"].fill_column("method_started").choices
        )
        assert result.stderr.splitlines()[0] == (
            f"row 2: method_started: 避孕环 is not one of the answers: {answers}."
        )
        assert answers.startswith("宫内节育器、")
        assert Event.objects.count() == before
        assert not Event.objects.filter(person=person("王芳"), kind="method_stop").exists()

    def test_a_dry_run_checks_and_writes_nothing(self, taizhang, tmp_path):
        path = fill(printed(taizhang, tmp_path, "checkup"), "checkup",
                    {1: {"date": dt.date(2026, 3, 25)}})  # fmt: skip
        before = Event.objects.count()
        result = taizhang("ledger-return", path, "--dry-run")
        assert result.exit_code == 0, result.output
        assert result.output.startswith("dry run, nothing written: checkup.xlsx")
        assert "applied 1" in result.output
        assert Event.objects.count() == before
        assert not ReturnedRow.objects.exists()

    def test_a_row_filled_without_its_date_is_pending_with_a_notice(self, taizhang, tmp_path):
        path = fill(printed(taizhang, tmp_path, "checkup"), "checkup", {2: {"findings": "正常"}})
        result = taizhang("ledger-return", path)
        assert result.exit_code == 0, result.output
        assert result.stderr.splitlines() == [
            "row 2: findings: 检查结果 filled in, but nothing is recorded without 康检日期 (pending)"
        ]
        assert "applied 0, already returned 0, pending 7" in result.output
        assert not ReturnedRow.objects.exists()
        # On the contraception ledger a married woman's row records a method stopped or
        # started: a date and findings alone record nothing (findings go with IUD checks).
        path = fill(printed(taizhang, tmp_path, "contraception"), "contraception",
                    {1: {"date": dt.date(2026, 3, 20), "findings": "正常"}})  # fmt: skip
        result = taizhang("ledger-return", path)
        assert result.stderr.splitlines() == [
            "row 1: date: 日期、检查结果 filled in, but nothing is recorded without 停用措施 or "
            "新用/改用措施 (pending)"
        ]


class TestRefusedFiles:
    def test_a_tampered_key_is_refused(self, taizhang, tmp_path):
        path = printed(taizhang, tmp_path, "checkup")
        key = cell(path, "checkup", 1, "row_key")
        # The subject P<id> of row 1 changed to another person's id: the MAC no longer fits.
        tampered = key.replace(f".P{person('王芳').pk}.", f".P{person('刘洋').pk}.")
        fill(path, "checkup", {1: {"date": dt.date(2026, 3, 25), "row_key": tampered}})
        result = taizhang("ledger-return", path)
        assert result.exit_code == 1
        assert f"row 1: row_key: The row key {tampered} does not check: it was altered" in (
            result.stderr
        )
        assert not Event.objects.filter(person=person("刘洋"), kind="checkup").exists()

    def test_a_key_of_another_village_or_month_or_ledger_is_refused(self, taizhang, tmp_path):
        path = printed(taizhang, tmp_path, "checkup")
        pk = person("王芳").pk
        fill(path, "checkup", {
            1: {"date": dt.date(2026, 3, 25),
                "row_key": make_key("checkup", B, 202603, "DUE", "person", pk)},
            2: {"date": dt.date(2026, 3, 25),
                "row_key": make_key("checkup", A, 202602, "DUE", "person", pk)},
            3: {"date": dt.date(2026, 3, 25),
                "row_key": make_key("screening", A, 202603, "DUE", "person", pk)},
        })  # fmt: skip
        result = taizhang("ledger-return", path)
        assert result.exit_code == 1
        assert result.stderr.splitlines()[:3] == [
            f"row 1: row_key: the row key is of village {B}, not of this file's {A}",
            "row 2: row_key: the row key is of 202602, not of this file's month 202603",
            "row 3: row_key: the row key is of the screening ledger, not of this file's checkup",
        ]

    def test_a_file_for_another_month_than_its_header_says_is_refused(self, taizhang, tmp_path):
        # The hidden sheet made to say February while the header above the table says March.
        path = fill(printed(taizhang, tmp_path, "checkup"), "checkup",
                    {1: {"date": dt.date(2026, 3, 25)}})  # fmt: skip
        book = openpyxl.load_workbook(path)
        meta = book["_ledger"]
        row = next(r for r in meta.iter_rows() if r[0].value == "month")
        row[1].value = "202602"
        book.save(path)
        result = taizhang("ledger-return", path)
        assert result.exit_code == 1
        assert result.stderr.splitlines()[0] == (
            "file: The header of checkup.xlsx names the month 202603, but the file is the "
            "ledger of 202602: the file has been altered."
        )
        # The header line changed instead, the hidden sheet left alone: refused the same way.
        path = fill(printed(taizhang, tmp_path, "checkup"), "checkup",
                    {1: {"date": dt.date(2026, 3, 25)}})  # fmt: skip
        book = openpyxl.load_workbook(path)
        line = book.worksheets[0].cell(3, 1)
        line.value = line.value.replace("2026年3月", "2026年4月")
        book.save(path)
        result = taizhang("ledger-return", path)
        assert "names the month 202604, but the file is the ledger of 202603" in result.stderr
        assert not ReturnedRow.objects.exists()

    def test_a_user_returns_only_the_ledgers_of_their_area(self, taizhang, tmp_path):
        # ben works in B: A's file returned under his account is refused whole.
        from helpers import make_user

        from taizhang.accounts.models import Role

        make_user("ben", Role.VILLAGE_WORKER, B)
        path = fill(printed(taizhang, tmp_path, "checkup"), "checkup",
                    {1: {"date": dt.date(2026, 3, 25)}})  # fmt: skip
        result = taizhang("ledger-return", path, "--user", "ben")
        assert result.exit_code == 1
        assert result.stderr.splitlines()[0] == f"file: Village {A} is not in your area."
        result = taizhang("ledger-return", path, "--user", "alice")  # A's own worker
        assert result.exit_code == 0, result.output
        assert LedgerFile.objects.get(direction="returned").created_by.username == "alice"

    def test_a_file_that_is_not_a_ledger_is_refused(self, taizhang, tmp_path):
        other = tmp_path / "list.xlsx"
        book = openpyxl.Workbook()
        book.active["A1"] = "姓名"
        book.save(other)
        result = taizhang("ledger-return", other)
        assert result.exit_code == 1
        assert "list.xlsx is not a ledger made by this system" in result.stderr
        pdf = printed(taizhang, tmp_path, "checkup", "pdf")
        result = taizhang("ledger-return", pdf)
        assert result.exit_code == 1
        assert "comes back as .xlsx (or .csv), not .pdf" in result.stderr


class TestEveryTarget:
    def test_a_change_of_method_stops_the_old_and_starts_the_new(self, taizhang, tmp_path):
        # Contraception rows (test_ledgers): 1 王芳 (IUD since 2026-01-30), 2 张丽 (pill
        # since 2026-03-05). 张丽 switches to an implant on 2026-03-28.
        path = printed(taizhang, tmp_path, "contraception")
        assert names(path, "contraception")[:2] == ["王芳", "张丽"]
        fill(path, "contraception", {2: {"date": dt.date(2026, 3, 28), "method_stopped": "口服避孕药",
                                         "stop_reason": "更换方法", "method_started": "皮下埋植"}})  # fmt: skip
        result = taizhang("ledger-return", path)
        assert result.exit_code == 0, result.output
        zhang = person("张丽")
        stop = Event.objects.get(person=zhang, kind="method_stop")
        start = Event.objects.get(person=zhang, kind="method_start", date=dt.date(2026, 3, 28))
        assert (stop.date, stop.method, stop.reason) == (dt.date(2026, 3, 28), "pill", "更换方法")
        assert start.method == "implant"
        # The derived method spells ([start, end) days; a method stopped on a day was
        # still used that day) now say implant from 2026-03-28, open-ended.
        from taizhang.register.models import MethodSpell

        spells = MethodSpell.objects.filter(person=zhang).order_by("start")
        assert [(s.method, s.start, s.end) for s in spells] == [
            ("pill", 20260305, 20260329),
            ("implant", 20260328, 99991231),
        ]

    def test_a_live_birth_creates_the_child(self, taizhang, tmp_path):
        # Births row 1: 黄燕, LMP 2025-07-01. A daughter born 2026-04-05 at a facility.
        from taizhang.lib import crypto, idnumber

        child_id = idnumber.make("410325", dt.date(2026, 4, 5), 42)  # even: a girl
        path = printed(taizhang, tmp_path, "births")
        assert names(path, "births")[0] == "黄燕"
        fill(path, "births", {1: {"date": dt.date(2026, 4, 5), "outcome": "活产",
                                  "delivery_place": "住院分娩", "child_name": "黄小四",
                                  "child_sex": "女", "child_id_number": child_id}})  # fmt: skip
        result = taizhang("ledger-return", path)
        assert result.exit_code == 0, result.output
        assert "children created 1" in result.output
        child = Person.objects.get(id_index=crypto.blind_index(child_id))
        assert (child.name, child.sex, child.birth_date, child.mother) == (
            "黄小四",
            "F",
            dt.date(2026, 4, 5),
            person("黄燕"),
        )
        birth = Event.objects.get(person=person("黄燕"), kind="birth")
        assert (birth.date, birth.delivery_place, birth.child) == (
            dt.date(2026, 4, 5),
            "facility",
            child,
        )
        # The child's ID number is kept only as its blind index with the returned row.
        (row,) = ReturnedRow.objects.all()
        assert row.values["child_id_number"] == "#" + crypto.blind_index(child_id)
        assert child_id not in json.dumps(row.values)

    def test_a_payment_a_return_visit_a_report_and_a_session(self, taizhang, tmp_path):
        from taizhang.benefits.models import Payment
        from taizhang.cases.models import Case
        from taizhang.quality.models import ReportedFigure

        # Benefits row 1: 郭玉珍's 202603 payment of 80 yuan, paid 2026-03-30 by bank.
        path = fill(printed(taizhang, tmp_path, "benefits"), "benefits", {1: {
            "paid_date": dt.date(2026, 3, 30), "amount_paid": 80, "channel": "银行"}})  # fmt: skip
        assert taizhang("ledger-return", path).exit_code == 0
        payment = Payment.objects.get(period="202603")
        assert (payment.status, payment.paid_date, payment.channel) == (
            "paid",
            dt.date(2026, 3, 30),
            "bank",
        )
        # Cases row 1: K-1's return visit on 2026-03-31, satisfied.
        path = fill(printed(taizhang, tmp_path, "cases"), "cases",
                    {1: {"date": dt.date(2026, 3, 31), "satisfaction": "满意"}})  # fmt: skip
        result = taizhang("ledger-return", path)
        assert result.exit_code == 0, result.output
        case = Case.objects.get(number="K-1")
        assert (case.state, case.satisfaction) == ("visited", "satisfied")
        # Reports row 1 (births): the village reported 1 on 2026-04-01.
        path = fill(printed(taizhang, tmp_path, "reports"), "reports", {1: {
            "value": 1, "submitted_by": "李村医", "date": dt.date(2026, 4, 1)}})  # fmt: skip
        assert taizhang("ledger-return", path).exit_code == 0
        figure = ReportedFigure.objects.get(org_id=A, period=MARCH, item="births")
        assert (figure.value, figure.submitted_by, figure.version, figure.source) == (
            1,
            "李村医",
            1,
            "ledger",
        )
        # Education row 1: 赵婷 (newly-wed; the stage is written in advance) came on 03-12.
        path = printed(taizhang, tmp_path, "education")
        assert cell(path, "education", 1, "stage") == "新婚期"
        fill(path, "education", {1: {"date": dt.date(2026, 3, 12)}})
        result = taizhang("ledger-return", path)
        assert result.exit_code == 0, result.output
        # Nine rows (test_ledgers); the eight others hold only their stage: pending, silently.
        assert "applied 1, already returned 0, pending 8" in result.output
        assert result.stderr == ""
        session = Event.objects.get(person=person("赵婷"), kind="education")
        assert (session.date, session.stage) == (dt.date(2026, 3, 12), "newlywed")

    def test_a_payment_of_another_amount_is_refused(self, taizhang, tmp_path):
        path = fill(printed(taizhang, tmp_path, "benefits"), "benefits", {1: {
            "paid_date": dt.date(2026, 3, 30), "amount_paid": 70}})  # fmt: skip
        result = taizhang("ledger-return", path)
        assert result.exit_code == 1
        assert "row 1: amount_paid: 70 is not the payment's amount, 80.00 yuan" in result.stderr

    def test_the_csv_comes_back_too(self, taizhang, tmp_path):
        # The CSV as printed, its fill-in cells filled in a spreadsheet and saved as CSV:
        # row 2 (刘洋) had her check-up on 2026-03-18.
        path = printed(taizhang, tmp_path, "checkup", "csv")
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        date_col = column("checkup", "date") - 1
        rows[2][date_col] = "2026/3/18"
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f).writerows(rows)
        result = taizhang("ledger-return", path)
        assert result.exit_code == 0, result.output
        assert "checkup 410325100201 202603, 7 rows: applied 1" in result.output
        assert events("刘洋", "checkup") == [(dt.date(2026, 3, 18), "")]
        returned = LedgerFile.objects.get(direction="returned")
        assert (returned.format, returned.answers) == ("csv", None)
        assert parse_key(ReturnedRow.objects.get().key).subject_id == person("刘洋").pk

    def test_a_support_result_comes_back_on_the_family_ledger(self, taizhang, tmp_path):
        # 王芳's household asked for training on 2026-01-05, given from 02-01 (the family
        # ledger lists it in March); it was completed on 2026-03-30.
        from taizhang.ledgers import actions
        from taizhang.ledgers.models import FamilySupport

        wang = person("王芳")
        support = actions.start_support(
            wang.household, kind="training", applied_on=dt.date(2026, 1, 5),
            start=dt.date(2026, 2, 1), person=wang, user=None, today=dt.date(2026, 4, 1),
        )  # fmt: skip
        path = fill(printed(taizhang, tmp_path, "family"), "family", {1: {
            "date": dt.date(2026, 3, 30), "result": "已完成", "note": "结业"}})  # fmt: skip
        result = taizhang("ledger-return", path)
        assert result.exit_code == 0, result.output
        assert "support results 1" in result.output
        support = FamilySupport.objects.get(pk=support.pk)
        assert (support.result, support.result_on, support.result_note) == (
            "completed",
            dt.date(2026, 3, 30),
            "结业",
        )

    def test_the_registers_objections_name_the_row_and_column(self, taizhang, tmp_path):
        # Births row 1 (黄燕): a daughter whose ID number gives another birth date than the
        # one written. Contraception row 1 (王芳, IUD since 2026-01-30): the pill stopped —
        # she is not using it. Follow-up row 1 (王芳's IUD check): a visit in 1980, before
        # she was born (1990-05-05). The events file's column each concerns is the ledger's
        # fill-in column it came from.
        from taizhang.lib import idnumber

        child_id = idnumber.make("410325", dt.date(2026, 4, 6), 42)
        path = fill(printed(taizhang, tmp_path, "births"), "births", {1: {
            "date": dt.date(2026, 4, 5), "outcome": "活产", "delivery_place": "住院分娩",
            "child_name": "黄小四", "child_sex": "女", "child_id_number": child_id}})  # fmt: skip
        result = taizhang("ledger-return", path)
        assert result.exit_code == 1
        assert result.stderr.splitlines()[0] == (
            "row 1: child_id_number: the child's ID number gives birth date 2026-04-06, "
            "not 2026-04-05"
        )
        assert not Person.objects.filter(name="黄小四").exists()
        path = fill(printed(taizhang, tmp_path, "contraception"), "contraception",
                    {1: {"date": dt.date(2026, 3, 20), "method_stopped": "口服避孕药"}})  # fmt: skip
        result = taizhang("ledger-return", path)
        assert result.stderr.splitlines()[0] == (
            "row 1: method_stopped: the person is not using pill"
        )
        path = fill(printed(taizhang, tmp_path, "followup"), "followup",
                    {1: {"date": dt.date(1980, 3, 20)}})  # fmt: skip
        result = taizhang("ledger-return", path)
        assert result.stderr.splitlines()[0] == (
            "row 1: date: followup event on 1980-03-20 is before the person's birth on 1990-05-05"
        )
        assert not ReturnedRow.objects.exists()


def test_a_page_shows_the_counts_in_the_users_language():
    from django.utils import translation

    from taizhang.ledgers.returns import ReturnResult

    result = ReturnResult(name="checkup.xlsx")
    result.counts.update(applied=2, pending=5, events=2)
    # The command prints the keys; a page the user's words (zero counts past the first
    # three are left out).
    assert result.summary() == "applied 2, already returned 0, pending 5, events 2"
    with translation.override("zh-hans"):
        assert result.summary(translated=True) == "已登记 2，此前已回收 0，待填 5，事件 2"


def test_a_file_over_the_limit_is_refused_before_it_is_read(taizhang, tmp_path):
    # 21 MB (a sparse file: no memory, no disk) against the 20 MB limit of a ledger return.
    big = tmp_path / "huge.xlsx"
    with big.open("wb") as f:
        f.truncate(21 * 1024 * 1024)
    result = taizhang("ledger-return", big)
    assert result.exit_code == 1
    assert "huge.xlsx is larger than 20 MB: it is not a ledger of one village." in result.output
    assert LedgerFile.objects.filter(direction="returned").count() == 0
    assert ReturnedRow.objects.count() == 0
