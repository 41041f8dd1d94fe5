"""A ledger row returned again with other values corrects what it recorded, by hand.

The register is the ledger village of ``test_ledgers`` (东街村 A, 410325100201, March
2026; its docstring lists every person), the files printed and filled as in
``test_ledger_return``. Check-up rows 1–7: 王芳, 刘洋, 杨敏, 赵婷, 黄燕, 周娟, 徐红.
Contraception rows 1 王芳 (IUD since 2026-01-30) and 2 张丽 (pill since 2026-03-05).
Benefits row 1: 郭玉珍's 202603 payment of 80 yuan.

The clock is the machine's (December 2026: March is an older month, corrected at once by
the county's system account) except in ``TestApproval``, which stands on 2026-04-15 in
Beijing: March is the village's previous month, open to its worker until reported.
"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import make_user
from test_ledger_return import fill, person, printed
from test_ledgers import MARCH, A, ledger_village  # noqa: F401  (the fixture)

from taizhang.audit.models import AuditEntry
from taizhang.corrections.models import CorrectionRequest
from taizhang.indicators.engine import compute
from taizhang.ledgers.models import LedgerFile, ReturnedRow
from taizhang.register.actions import load_events
from taizhang.register.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def village(ledger_village, data_dir):  # noqa: F811
    return A


def checkups(name: str) -> list[tuple[dt.date, str]]:
    """The person's check-ups as the register counts them (corrected ones left out)."""
    return sorted(
        (e.date, e.findings) for e in load_events([person(name).pk]) if e.kind == "checkup"
    )


def count(org: str, period: str, code: str) -> int:
    [indicator] = compute(org, period, [code])["indicators"]
    return indicator["numerator"]


def returned(taizhang, path, *more):
    result = taizhang("ledger-return", path, *more)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.usefixtures("village")
class TestCorrectedRows:
    def test_a_checkup_returned_with_another_date_is_corrected_once(self, taizhang, tmp_path):
        # 王芳's check-up (row 1) returned on 2026-03-25, then the paper corrected to 03-26.
        path = fill(printed(taizhang, tmp_path, "checkup"), "checkup",
                    {1: {"date": dt.date(2026, 3, 25), "findings": "正常"}})  # fmt: skip
        returned(taizhang, path)
        [first] = Event.objects.filter(person=person("王芳"), kind="checkup", date="2026-03-25")
        row = ReturnedRow.objects.get()
        assert row.event_ids == [first.pk]

        fill(path, "checkup", {1: {"date": dt.date(2026, 3, 26)}})
        result = returned(taizhang, path)
        assert "7 rows: applied 0, already returned 0, pending 6, corrected 1 (archived" in (
            result.output
        )
        # One correction event, superseding the first; she is counted on the new date.
        [correction] = Event.objects.filter(supersedes=first)
        assert (correction.kind, correction.date, correction.findings) == (
            "checkup",
            dt.date(2026, 3, 26),
            "正常",
        )
        assert checkups("王芳") == [(dt.date(2025, 3, 10), ""), (dt.date(2026, 3, 26), "正常")]
        journal = CorrectionRequest.objects.get()
        assert (journal.event_id, journal.status, journal.source, journal.values) == (
            first.pk,
            "applied",
            "ledger",
            {"date": "2026-03-26"},  # what the correction changes
        )
        assert (
            journal.reason == "corrected on the returned ledger: checkup 410325100201 202603 row 1"
        )
        # The row now says what the paper says, and stands for the correction; what it said
        # before is kept in its history, with the file it came back with.
        row = ReturnedRow.objects.get()
        first_file, second_file = LedgerFile.objects.filter(direction="returned").order_by("pk")
        assert (row.values, row.event_ids, row.file) == (
            {"date": "2026-03-26", "findings": "正常"},
            [correction.pk],
            second_file,
        )
        assert [(h["values"], h["event_ids"], h["file"]) for h in row.history] == [
            ({"date": "2026-03-25", "findings": "正常"}, [first.pk], first_file.pk)
        ]
        entry = AuditEntry.objects.filter(action="ledger_return").latest("pk")
        assert entry.detail["corrected_rows"] == [1]
        assert entry.detail["counts"] == {"corrected": 1, "pending": 6}

        # The same corrected file a third time changes nothing and leaves no trace.
        events = Event.objects.count()
        again = returned(taizhang, path)
        assert again.stdout.rstrip().endswith("7 rows: applied 0, already returned 1, pending 6")
        assert Event.objects.count() == events
        assert LedgerFile.objects.filter(direction="returned").count() == 2
        assert CorrectionRequest.objects.count() == 1

    def test_a_method_row_changed_moves_the_figures(self, taizhang, tmp_path):
        # 张丽 (row 2) changes from the pill to an implant on 2026-03-28; the paper is then
        # corrected: it was an IUD, on 2026-04-02. METHOD_STARTS in A: March had her pill
        # (03-05); the first return adds the implant (2, IMPLANT 1); the correction moves the
        # stop and the start to April (March 1, IMPLANT 0; April 1, IUD 1).
        assert (count(A, MARCH, "METHOD_STARTS"), count(A, "202604", "METHOD_STARTS")) == (1, 0)
        path = fill(printed(taizhang, tmp_path, "contraception"), "contraception", {2: {
            "date": dt.date(2026, 3, 28), "method_stopped": "口服避孕药",
            "stop_reason": "更换方法", "method_started": "皮下埋植"}})  # fmt: skip
        returned(taizhang, path)
        assert count(A, MARCH, "METHOD_STARTS") == 2
        assert count(A, MARCH, "METHOD_STARTS_IMPLANT") == 1
        fill(
            path,
            "contraception",
            {2: {"date": dt.date(2026, 4, 2), "method_started": "宫内节育器"}},
        )
        result = returned(taizhang, path)
        assert "corrected 2" in result.output  # the stop (its date) and the start
        assert count(A, MARCH, "METHOD_STARTS") == 1
        assert count(A, MARCH, "METHOD_STARTS_IMPLANT") == 0
        assert count(A, "202604", "METHOD_STARTS") == 1
        assert count(A, "202604", "METHOD_STARTS_IUD") == 1
        methods = sorted(
            (e.kind, e.date, e.method, e.reason)
            for e in load_events([person("张丽").pk])
            if e.kind.startswith("method")
        )
        assert methods == [
            ("method_start", dt.date(2026, 3, 5), "pill", ""),
            ("method_start", dt.date(2026, 4, 2), "iud", ""),
            ("method_stop", dt.date(2026, 4, 2), "pill", "更换方法"),
        ]
        # Only the stop reason changed now: the stop alone is corrected (the start stays).
        fill(path, "contraception", {2: {"stop_reason": "副作用"}})
        result = returned(taizhang, path)
        assert "corrected 1" in result.output
        [stop] = [e for e in load_events([person("张丽").pk]) if e.kind == "method_stop"]
        assert stop.reason == "副作用"
        assert count(A, "202604", "METHOD_STOPS_SIDE_EFFECTS") == 1

    def test_a_births_row_changed_moves_the_outcome(self, taizhang, tmp_path):
        # 黄燕 (births row 1) miscarried on 2026-03-20, then the paper says 2026-04-01.
        path = fill(printed(taizhang, tmp_path, "births"), "births",
                    {1: {"date": dt.date(2026, 3, 20), "outcome": "自然流产"}})  # fmt: skip
        returned(taizhang, path)
        fill(path, "births", {1: {"date": dt.date(2026, 4, 1)}})
        assert "corrected 1" in returned(taizhang, path).output
        outcomes = [
            (e.date, e.outcome) for e in load_events([person("黄燕").pk]) if e.kind == "outcome"
        ]
        assert outcomes == [(dt.date(2026, 4, 1), "miscarriage")]

    def test_a_changed_row_that_records_nothing_or_another_kind_is_refused(
        self, taizhang, tmp_path
    ):
        # Check-up row 1 returned with a date and findings; then the date erased (the
        # findings left): erasing does not retract. Births row 1: a miscarriage first, then
        # a live birth — another kind of event.
        path = fill(printed(taizhang, tmp_path, "checkup"), "checkup",
                    {1: {"date": dt.date(2026, 3, 25), "findings": "正常"}})  # fmt: skip
        returned(taizhang, path)
        fill(path, "checkup", {1: {"date": None}})
        result = taizhang("ledger-return", path)
        assert result.exit_code == 1
        assert result.stderr.splitlines()[0].startswith("row 1: row_key: this row was returned on ")
        assert result.stderr.splitlines()[0].endswith(
            "and recorded; erasing what it said does not retract it: retract the event on "
            "the person's page or with a corrections file"
        )
        assert checkups("王芳")[-1] == (dt.date(2026, 3, 25), "正常")

        path = fill(printed(taizhang, tmp_path, "births"), "births",
                    {1: {"date": dt.date(2026, 3, 20), "outcome": "自然流产"}})  # fmt: skip
        returned(taizhang, path)
        from taizhang.lib import idnumber

        child_id = idnumber.make("410325", dt.date(2026, 3, 20), 42)
        fill(path, "births", {1: {"outcome": "活产", "delivery_place": "住院分娩",
                                  "child_name": "黄小四", "child_sex": "女",
                                  "child_id_number": child_id}})  # fmt: skip
        result = taizhang("ledger-return", path)
        assert result.exit_code == 1
        assert "recorded 妊娠结局; now it says 出生. A correction keeps the kind of event" in (
            result.stderr
        )
        assert not Event.objects.filter(kind="birth", person=person("黄燕")).exists()
        assert CorrectionRequest.objects.count() == 0

    def test_a_payment_row_changed_is_still_refused(self, taizhang, tmp_path):
        path = fill(printed(taizhang, tmp_path, "benefits"), "benefits",
                    {1: {"paid_date": dt.date(2026, 3, 30), "amount_paid": 80}})  # fmt: skip
        returned(taizhang, path)
        fill(path, "benefits", {1: {"paid_date": dt.date(2026, 3, 31)}})
        result = taizhang("ledger-return", path)
        assert result.exit_code == 1
        assert "row 1: row_key: this row was returned on" in result.stderr
        assert (
            "now it says otherwise (发放日期 2026-03-30 → 2026-03-31). A row is recorded once: "
            "correct the record itself instead" in result.stderr
        )
        from taizhang.benefits.models import Payment

        assert Payment.objects.get(period="202603").paid_date == dt.date(2026, 3, 30)
        assert CorrectionRequest.objects.count() == 0

    def test_a_correction_the_register_refuses_names_the_row_and_column(self, taizhang, tmp_path):
        # 王芳's follow-up (IUD check, contraception row... the follow-up ledger's row 1)
        # returned on 2026-03-20, then the paper says 1980-03-20: before her birth.
        path = fill(printed(taizhang, tmp_path, "followup"), "followup",
                    {1: {"date": dt.date(2026, 3, 20)}})  # fmt: skip
        returned(taizhang, path)
        fill(path, "followup", {1: {"date": dt.date(1980, 3, 20)}})
        result = taizhang("ledger-return", path)
        assert result.exit_code == 1
        assert result.stderr.splitlines()[0] == (
            "row 1: date: followup event on 1980-03-20 is before the person's birth on 1990-05-05"
        )
        assert not Event.objects.filter(supersedes__isnull=False).exists()
        assert ReturnedRow.objects.get().values == {"date": "2026-03-20"}


class TestApproval:
    @pytest.fixture
    def april(self, request):
        from zoneinfo import ZoneInfo

        import time_machine

        moment = dt.datetime(2026, 4, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
        with time_machine.travel(moment, tick=True):
            request.getfixturevalue("data_dir")
            request.getfixturevalue("ledger_village")
            yield moment

    def test_a_reported_month_waits_for_the_township(self, april, taizhang, tmp_path):
        # alice, A's village worker, on 2026-04-15: March is open until A reports it.
        path = fill(printed(taizhang, tmp_path, "checkup"), "checkup",
                    {1: {"date": dt.date(2026, 3, 25)}})  # fmt: skip
        returned(taizhang, path, "--user", "alice")
        fill(path, "checkup", {1: {"date": dt.date(2026, 3, 26)}})
        assert "corrected 1" in returned(taizhang, path, "--user", "alice").output
        assert checkups("王芳")[-1] == (dt.date(2026, 3, 26), "")
        # A reports March on its reports ledger (births: 1).
        report = fill(printed(taizhang, tmp_path, "reports"), "reports",
                      {1: {"value": 1, "date": dt.date(2026, 4, 1)}})  # fmt: skip
        returned(taizhang, report, "--user", "alice")
        # Now the paper says 03-27: the correction waits; nothing is applied.
        fill(path, "checkup", {1: {"date": dt.date(2026, 3, 27)}})
        result = returned(taizhang, path, "--user", "alice")
        assert result.stdout.startswith(
            "checkup.xlsx: checkup 410325100201 202603, 7 rows: applied 0, already returned 0, "
            "pending 6, waiting for approval 1 (archived"
        )
        waiting = CorrectionRequest.objects.get(status="pending")
        assert result.stderr.splitlines() == [
            f"row 1: date: the correction waits for approval by the township (request "
            f"{waiting.pk}) (pending)"
        ]
        assert (waiting.values, waiting.months, waiting.requested_by.username) == (
            {"date": "2026-03-27"},
            ["202603", "202604"],
            "alice",
        )
        assert checkups("王芳")[-1] == (dt.date(2026, 3, 26), "")
        # The same file again: the row is as returned, nothing more is asked.
        assert "already returned 1" in returned(taizhang, path, "--user", "alice").output
        assert CorrectionRequest.objects.count() == 2
        # The township approves: the check-up is on 03-27.
        from taizhang.corrections import actions as corrections

        township = make_user("stat_t", "township_statistician", "410325100")
        assert corrections.approve(waiting, user=township, note="checked") == []
        assert checkups("王芳")[-1] == (dt.date(2026, 3, 27), "")


@pytest.mark.usefixtures("village")
class TestWhichEvents:
    def test_an_event_the_register_had_is_found_by_its_identity(self, taizhang, tmp_path):
        # 徐红 (check-up row 7) had her check-up on 2026-03-20 recorded already: the row
        # records nothing new (events unchanged 1) but stands for that event.
        path = fill(printed(taizhang, tmp_path, "checkup"), "checkup",
                    {7: {"date": dt.date(2026, 3, 20)}})  # fmt: skip
        assert "events unchanged 1" in returned(taizhang, path).stdout
        had = Event.objects.get(person=person("徐红"), kind="checkup", date="2026-03-20")
        assert ReturnedRow.objects.get().event_ids == [had.pk]

    def test_a_row_returned_before_rows_kept_their_events_is_corrected_too(
        self, taizhang, tmp_path
    ):
        # A row kept without its events (returned by an earlier version): its event is the
        # person's check-up of the row's date.
        path = fill(printed(taizhang, tmp_path, "checkup"), "checkup",
                    {4: {"date": dt.date(2026, 3, 25)}})  # fmt: skip
        returned(taizhang, path)
        ReturnedRow.objects.update(event_ids=[])
        fill(path, "checkup", {4: {"date": dt.date(2026, 3, 24)}})
        assert "corrected 1" in returned(taizhang, path).stdout
        first = Event.objects.get(person=person("赵婷"), kind="checkup", date="2026-03-25")
        correction = Event.objects.get(supersedes=first)
        assert correction.date == dt.date(2026, 3, 24)
        assert ReturnedRow.objects.get().event_ids == [correction.pk]
        assert checkups("赵婷") == [(dt.date(2026, 3, 24), "")]
