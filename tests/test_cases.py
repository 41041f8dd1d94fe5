"""Petitions (信访): deadlines, named actions, repeat petitions, overdue lists, the case
register, the import and the command.

The county (built directly; cases need only org units and accounts):

    410325 嵩县
      410325100 城关镇 — A = 410325100201 东街村, B = 410325100202 西街村
      410325101 田湖镇 — C = 410325101201 田湖村

Accounts: alice and bob (village workers of A), bea (village worker of B), charlie
(village worker of C), tom (township statistician of 城关镇), ada (county admin).
"Today" is 2026-06-01 unless a test says otherwise.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from helpers import area_users, write_csv

from taizhang.accounts.models import Role
from taizhang.audit.models import AuditEntry
from taizhang.cases import actions
from taizhang.cases.models import Attachment, Case, CaseAction
from taizhang.cases.reports import overdue, register_report
from taizhang.cases.scope import may_see_petitioner
from taizhang.errors import UserError
from taizhang.lib import crypto
from taizhang.lib.idnumber import make
from taizhang.orgunits.models import OrgUnit

pytestmark = pytest.mark.django_db

A, B, C = "410325100201", "410325100202", "410325101201"
TODAY = dt.date(2026, 6, 1)
PETITIONER = make("410325", dt.date(1970, 2, 3), 11)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def county(db):
    for code, name, parent, level in (
        ("410325", "嵩县", None, 3),
        ("410325100", "城关镇", "410325", 4),
        (A, "东街村", "410325100", 5),
        (B, "西街村", "410325100", 5),
        ("410325101", "田湖镇", "410325", 4),
        (C, "田湖村", "410325101", 5),
    ):
        OrgUnit.objects.create(code=code, name=name, parent_id=parent, level=level)
    return area_users(a=A, c=C, township="410325100", county="410325", bea=(Role.VILLAGE_WORKER, B))


def new_case(county, received="2026-03-01", org=A, **kwargs) -> Case:
    values = {
        "channel": "visit",
        "subject": "奖励扶助金未按时发放",
        "category": "benefits",
        "petitioner_name": "赵大山",
        "id_number": PETITIONER,
        "phone": "13900001111",
    } | kwargs
    return actions.receive(
        received_on=d(received), org_code=org, user=county.tom, today=TODAY, **values
    )


def take_through(case, county, *, accepted="2026-03-02", replied="2026-03-20", closed=None):
    """Accept, assign to alice, reply (and close when ``closed`` is given)."""
    actions.accept(case, on=d(accepted), user=county.tom, today=TODAY)
    actions.assign(case, handler=county.alice, on=d(accepted), user=county.tom, today=TODAY)
    actions.reply(case, on=d(replied), text="已补发", user=county.alice, today=TODAY)
    if closed:
        actions.close(case, on=d(closed), user=county.tom, today=TODAY)
    return case


def repeat_petition(case, county, received="2026-05-10", *, channel="phone", subject="x") -> Case:
    """A repeat petition about ``case``, received by tom."""
    return actions.reopen(
        case,
        received_on=d(received),
        channel=channel,
        subject=subject,
        user=county.tom,
        today=TODAY,
    )


class TestDeadlines:
    def test_it_stores_the_deadlines_when_received(self, county):
        # Day 0 = 2026-03-01; +15 days = 03-16; +60 days = 03-01 + 30 (March) + 30 = 04-30.
        case = new_case(county)
        assert (case.ack_due, case.conclude_due) == (d("2026-03-16"), d("2026-04-30"))

    @pytest.mark.parametrize(("on", "on_time"), [("2026-03-16", True), ("2026-03-17", False)])
    def test_it_counts_an_acknowledgement_on_day_15_on_time_and_day_16_late(
        self, county, on, on_time
    ):
        case = new_case(county)
        actions.accept(case, on=d(on), user=county.tom, today=TODAY)
        (row,) = register_report("410325", "2026Q1")["rows"]
        assert row.ack_on_time is on_time

    @pytest.mark.parametrize(
        ("closed", "on_time", "late"), [("2026-04-30", 1, 0), ("2026-05-01", 0, 1)]
    )
    def test_it_counts_a_closure_on_day_60_on_time_and_day_61_late(
        self, county, closed, on_time, late
    ):
        take_through(new_case(county), county, closed=closed)
        total = register_report("410325", "2026Q2")["total"]
        # Due to close in 2026Q2: the one case (conclude_due 04-30).
        assert (total["due_to_close"], total["closed_on_time"], total["closed_late"]) == (
            1,
            on_time,
            late,
        )
        assert total["closure_rate"] == (100.0 if on_time else 0.0)

    def test_a_new_setting_does_not_move_old_deadlines(self, county, settings):
        old = new_case(county)
        settings.TAIZHANG_CASE_DEADLINES = {"ack_days": 7, "conclude_days": 30}
        new = new_case(county)
        old.refresh_from_db()
        assert (old.ack_due, old.conclude_due) == (d("2026-03-16"), d("2026-04-30"))
        # 03-01 + 7 = 03-08; 03-01 + 30 = 03-31.
        assert (new.ack_due, new.conclude_due) == (d("2026-03-08"), d("2026-03-31"))


class TestIntake:
    def test_it_numbers_cases_by_year_and_keeps_a_given_number(self, county):
        assert new_case(county).number == "XF-2026-000001"
        assert new_case(county).number == "XF-2026-000002"
        assert new_case(county, number="2019-东街-7").number == "2019-东街-7"
        assert new_case(county, received="2025-12-30").number == "XF-2025-000001"

    def test_it_refuses_a_number_already_taken(self, county):
        new_case(county, number="X-1")
        with pytest.raises(UserError, match="^Case number X-1 is already taken.$"):
            new_case(county, number="X-1")

    def test_it_encrypts_the_petitioner_details(self, county):
        case = new_case(county)
        assert crypto.decrypt(case.petitioner_name_cipher) == "赵大山"
        assert crypto.decrypt(case.petitioner_id_cipher) == PETITIONER
        assert crypto.decrypt(case.petitioner_phone_cipher) == "13900001111"
        assert case.petitioner_id_index == crypto.blind_index(PETITIONER)
        assert b"13900001111" not in bytes(case.petitioner_phone_cipher)

    def test_an_anonymous_petition_has_no_details(self, county):
        case = new_case(county, petitioner_name="", id_number="", phone="", anonymous=True)
        assert case.anonymous and case.petitioner_name_cipher is None
        with pytest.raises(UserError, match="anonymous petition has no petitioner name"):
            new_case(county, anonymous=True)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"petitioner_name": ""}, "The petitioner's name is empty: give it, or mark"),
            ({"channel": "fax"}, "fax is not a channel: use visit|letter|phone|online."),
            ({"subject": " "}, "The subject of the petition is empty."),
            ({"org": "410325999"}, "There is no org unit with code 410325999."),
            ({"received": "2026-06-02"}, "The date 2026-06-02 is in the future."),
            ({"id_number": "410325"}, "The petitioner's ID number: "),
        ],
    )
    def test_it_refuses_bad_intake(self, county, kwargs, message):
        with pytest.raises(UserError) as e:
            new_case(county, **kwargs)
        assert str(e.value).startswith(message)
        assert not Case.objects.exists()


class TestWorkflow:
    def test_it_journals_every_action_and_caches_the_state(self, county):
        # No return visit here: a case may close right after the reply.
        case = take_through(new_case(county), county, closed="2026-04-01")
        assert [(a.action, a.on.isoformat()) for a in case.journal.order_by("id")] == [
            ("receive", "2026-03-01"),
            ("accept", "2026-03-02"),
            ("assign", "2026-03-02"),
            ("reply", "2026-03-20"),
            ("close", "2026-04-01"),
        ]
        case.refresh_from_db()
        assert (case.state, case.acknowledged_on, case.replied_on, case.closed_on) == (
            "closed",
            d("2026-03-02"),
            d("2026-03-20"),
            d("2026-04-01"),
        )
        assert (case.handler, case.handler_org_id) == (county.alice, A)
        audited = AuditEntry.objects.filter(object_type="case", object_id=str(case.pk))
        assert sorted(audited.values_list("action", flat=True)) == sorted(
            ["case_receive", "case_accept", "case_assign", "case_reply", "case_close"]
        )

    def test_it_records_the_return_visit(self, county):
        case = take_through(new_case(county), county)
        actions.return_visit(
            case,
            on=d("2026-03-25"),
            satisfaction="partly",
            note="基本满意",
            user=county.alice,
            today=TODAY,
        )
        case.refresh_from_db()
        assert (case.state, case.satisfaction) == ("visited", "partly")
        assert case.journal.get(action="return_visit").detail == {
            "satisfaction": "partly",
            "note": "基本满意",
        }

    @pytest.mark.parametrize(
        ("step", "message"),
        [
            (
                lambda c, u: actions.reply(c, on=d("2026-03-05"), text="x", user=u, today=TODAY),
                "Case XF-2026-000001 is accepted: a reply comes after the case is assigned "
                "to a handler.",
            ),
            (
                lambda c, u: actions.close(c, on=d("2026-03-05"), user=u, today=TODAY),
                "Case XF-2026-000001 is accepted: a case is closed after the reply.",
            ),
            (
                lambda c, u: actions.accept(c, on=d("2026-03-05"), user=u, today=TODAY),
                "Case XF-2026-000001 is accepted: only a case just received can be accepted.",
            ),
            (
                lambda c, u: actions.return_visit(
                    c, on=d("2026-03-05"), satisfaction="satisfied", user=u, today=TODAY
                ),
                "Case XF-2026-000001 is accepted: a return visit comes after the reply.",
            ),
        ],
    )
    def test_it_refuses_a_wrong_transition_with_a_sentence(self, county, step, message):
        case = new_case(county)
        actions.accept(case, on=d("2026-03-02"), user=county.tom, today=TODAY)
        with pytest.raises(UserError) as e:
            step(case, county.tom)
        assert str(e.value) == message
        assert case.journal.count() == 2  # receive, accept: nothing written

    def test_nothing_follows_a_closure(self, county):
        case = take_through(new_case(county), county, closed="2026-04-01")
        with pytest.raises(UserError) as e:
            actions.note(case, on=d("2026-04-02"), text="x", user=county.tom, today=TODAY)
        assert str(e.value) == (
            "Case XF-2026-000001 is closed: a closed case takes no more actions "
            "(a repeat petition opens a new case)."
        )

    def test_it_refuses_a_decline_without_a_reason(self, county):
        case = new_case(county)
        with pytest.raises(UserError) as e:
            actions.decline(case, on=d("2026-03-02"), reason="  ", user=county.tom, today=TODAY)
        assert str(e.value) == "A petition is declined with a reason: the reason is empty."
        actions.decline(
            case, on=d("2026-03-02"), reason="不属于本部门职责", user=county.tom, today=TODAY
        )
        case.refresh_from_db()
        assert (case.state, case.acknowledged_on) == ("declined", d("2026-03-02"))

    def test_it_refuses_dates_out_of_order_or_in_the_future(self, county):
        case = new_case(county)
        actions.accept(case, on=d("2026-03-10"), user=county.tom, today=TODAY)
        with pytest.raises(UserError) as e:
            actions.assign(
                case, handler=county.alice, on=d("2026-03-09"), user=county.tom, today=TODAY
            )
        assert str(e.value) == (
            "The date 2026-03-09 is before the case's previous action (accepted on 2026-03-10)."
        )
        with pytest.raises(UserError, match=r"^The date 2026-06-02 is in the future\.$"):
            actions.assign(
                case, handler=county.alice, on=d("2026-06-02"), user=county.tom, today=TODAY
            )

    @pytest.mark.parametrize(
        ("org", "handler", "ok"),
        [
            (A, "alice", True),  # the village itself
            (A, "tom", True),  # its township
            (A, "bea", False),  # a sibling village
            (A, "charlie", False),  # another township
            (A, "ada", False),  # the county is above the township
            ("410325100", "alice", True),  # a township's case to one of its villages
        ],
    )
    def test_it_assigns_only_in_the_right_org_unit(self, county, org, handler, ok):
        case = new_case(county, org=org)
        actions.accept(case, on=d("2026-03-02"), user=county.tom, today=TODAY)
        user = getattr(county, handler)
        if ok:
            actions.assign(case, handler=user, on=d("2026-03-02"), user=county.tom, today=TODAY)
            assert Case.objects.get().handler_org_id == user.profile.org_unit_id
            return
        with pytest.raises(UserError) as e:
            actions.assign(case, handler=user, on=d("2026-03-02"), user=county.tom, today=TODAY)
        assert str(e.value) == (
            f"{handler} cannot handle case XF-2026-000001: the handler works in org unit {org}, "
            f"or above or below it within its township; {handler} works in "
            f"{user.profile.org_unit_id}."
        )


class TestReopen:
    def test_a_repeat_petition_is_a_new_case_linked_to_the_earlier_one(self, county):
        earlier = take_through(new_case(county), county, closed="2026-04-01")
        repeat = repeat_petition(earlier, county, subject="补发金额不足")
        assert repeat.number == "XF-2026-000002"
        assert repeat.repeat_of == earlier
        assert (repeat.state, repeat.org_id, repeat.category) == ("received", A, "benefits")
        # New deadlines from 05-10: +15 = 05-25; +60 = 05-10 + 21 (rest of May) + 30 + 9 = 07-09.
        assert (repeat.ack_due, repeat.conclude_due) == (d("2026-05-25"), d("2026-07-09"))
        assert crypto.decrypt(repeat.petitioner_name_cipher) == "赵大山"
        assert repeat.petitioner_id_index == earlier.petitioner_id_index
        entry = earlier.journal.get(action="reopen")
        assert (entry.on, entry.detail["case"]) == (d("2026-05-10"), "XF-2026-000002")
        earlier.refresh_from_db()
        assert earlier.state == "closed"

    def test_it_reopens_only_a_closed_or_declined_case(self, county):
        case = new_case(county)
        with pytest.raises(UserError) as e:
            repeat_petition(case, county)
        assert str(e.value) == (
            "Case XF-2026-000001 is received: a repeat petition reopens a case that is closed "
            "or declined."
        )


class TestOverdue:
    def test_it_lists_the_cases_overdue_on_a_day(self, county):
        # X received 03-01 (ack by 03-16, conclude by 04-30), accepted 03-10, replied, open.
        # Y received 03-05 (ack by 03-20), never acknowledged.
        # Z received 03-01, declined 03-20 (late, but acknowledged: on no list after).
        x = take_through(new_case(county), county)
        y = new_case(county, received="2026-03-05")
        z = new_case(county)
        actions.decline(z, on=d("2026-03-20"), reason="重复", user=county.tom, today=TODAY)
        numbers = lambda lists: {k: [c.number for c in v] for k, v in lists.items()}  # noqa: E731
        # On 03-17: Z's ack deadline 03-16 has passed and it is not yet declined.
        assert numbers(overdue("410325", d("2026-03-17"))) == {"ack": [z.number], "conclude": []}
        # On 03-21: Y's deadline 03-20 has passed; Z was declined on 03-20.
        assert numbers(overdue("410325", d("2026-03-21"))) == {"ack": [y.number], "conclude": []}
        # On 05-01: X and Y are past 04-30 (Y's conclusion is due 05-04: not yet).
        assert numbers(overdue("410325", d("2026-05-01"))) == {
            "ack": [y.number],
            "conclude": [x.number],
        }
        assert numbers(overdue(C, d("2026-05-01"))) == {"ack": [], "conclude": []}


class TestRegisterReport:
    def test_it_adds_up_the_townships_by_hand(self, county):
        # 城关镇 (A): P = 2026Q1 (01-01 .. 03-31).
        #   1 received 01-05, closed 03-01 (due 03-06): on time.
        #   2 received 01-10, closed 03-20 (due 03-11): late.
        #   3 received 02-01, declined 02-10.
        #   4 received 03-10, accepted 03-12, open at 03-31, not overdue (due 04-09 / 05-09).
        #   5 received 03-01, never acknowledged: ack overdue on 03-31 (due 03-16).
        # 田湖镇 (C): 6 received 2025-12-01, open, conclude due 2026-01-30: due in P, not closed.
        c1 = take_through(
            new_case(county, "2026-01-05"),
            county,
            accepted="2026-01-06",
            replied="2026-02-01",
            closed="2026-03-01",
        )
        c2 = take_through(
            new_case(county, "2026-01-10"),
            county,
            accepted="2026-01-11",
            replied="2026-02-01",
            closed="2026-03-20",
        )
        c3 = new_case(county, "2026-02-01")
        actions.decline(
            c3, on=d("2026-02-10"), reason="不属于信访事项", user=county.tom, today=TODAY
        )
        c4 = new_case(county, "2026-03-10")
        actions.accept(c4, on=d("2026-03-12"), user=county.tom, today=TODAY)
        new_case(county, "2026-03-01")
        new_case(county, "2025-12-01", org=C)
        report = register_report("410325", "2026Q1")
        by_unit = {u["org"]: u for u in report["units"]}
        assert {k: by_unit["410325100"][k] for k in report["total"]} == {
            "received": 5,
            "accepted": 3,  # c1, c2, c4
            "declined": 1,
            "due_to_close": 2,  # c1 (03-06), c2 (03-11); c5 is due 04-30
            "closed_on_time": 1,
            "closed_late": 1,
            "open": 2,  # c4, c5
            "overdue": 1,  # c5 (acknowledgement)
            "closure_rate": 50.0,
        }
        assert by_unit["410325101"] | {"name": ""} == {
            "org": "410325101",
            "name": "",
            "received": 0,
            "accepted": 0,
            "declined": 0,
            "due_to_close": 1,
            "closed_on_time": 0,
            "closed_late": 0,
            "open": 1,
            "overdue": 1,
            "closure_rate": 0.0,
        }
        assert report["total"]["due_to_close"] == 3
        assert report["total"]["closure_rate"] == 33.33  # 1 of 3
        rows = {r.number: r for r in report["rows"]}
        assert len(rows) == 6
        assert (rows[c1.number].days_taken, rows[c1.number].on_time) == (55, True)  # 01-05→03-01
        assert (rows[c2.number].days_taken, rows[c2.number].on_time) == (69, False)
        assert rows[c3.number].on_time is None


class TestAttachments:
    def test_it_stores_a_file_once_under_its_hash(self, county, tmp_path, monkeypatch):
        monkeypatch.setenv("TAIZHANG_DATA", str(tmp_path))
        case = new_case(county)
        upload = SimpleUploadedFile("信件.txt", "来信内容".encode(), content_type="text/plain")
        first = actions.attach(case, upload, user=county.tom, today=TODAY)
        second = actions.attach(
            case, SimpleUploadedFile("copy.txt", "来信内容".encode()), user=county.tom, today=TODAY
        )
        assert first.sha256 == second.sha256
        assert (tmp_path / "attachments" / first.sha256).read_bytes() == "来信内容".encode()
        assert len(list((tmp_path / "attachments").iterdir())) == 1
        assert Attachment.objects.count() == 2
        assert case.journal.filter(action="attach").count() == 2


class TestPrivacy:
    def test_the_handlers_org_unit_and_the_county_see_the_petitioner(self, county):
        case = take_through(new_case(county), county)  # handler alice, org unit A
        assert {u: may_see_petitioner(getattr(county, u), case) for u in vars(county)} == {
            "alice": True,
            "bob": True,  # same org unit as the handler
            "bea": False,
            "charlie": False,
            "tom": False,  # sees the case, not who brought it
            "ada": True,
        }


HEADER = [
    "case_number", "received_on", "channel", "petitioner_name", "petitioner_id_number",
    "subject", "category", "org", "accepted_on", "declined_on", "decline_reason", "handler",
    "replied_on", "reply", "return_visit_on", "satisfaction", "closed_on", "repeat_of",
]  # fmt: skip
GOOD = [
    ["2025-001", "2025-11-03", "来访", "赵大山", PETITIONER, "补助未到", "奖励扶助", A,
     "2025-11-05", "", "", "alice", "2025-11-20", "已补发", "2025-11-25", "满意", "2025-11-28", ""],
    ["2025-002", "2025-11-10", "letter", "", "", "办证难", "registration", "410325100",
     "", "2025-11-12", "不属于本部门", "", "", "", "", "", "", ""],
    ["2026-003", "2026-01-04", "phone", "", "", "补发不足", "", A,
     "", "", "", "", "", "", "", "", "", "2025-001"],
]  # fmt: skip


class TestImport:
    def test_it_replays_each_history_and_changes_nothing_the_second_time(
        self, county, tmp_path, taizhang
    ):
        path = write_csv(tmp_path / "cases.csv", HEADER, GOOD)
        result = taizhang("import", path, "--kind", "cases", "--user", "tom")
        assert result.exit_code == 0, result.output
        assert "cases 3, updated 0, unchanged 0" in result.output
        first = Case.objects.get(number="2025-001")
        assert [a.action for a in first.journal.order_by("id")] == [
            "receive", "accept", "assign", "reply", "return_visit", "close", "reopen",
        ]  # fmt: skip
        assert (first.state, first.satisfaction, first.handler) == (
            "closed",
            "satisfied",
            county.alice,
        )
        assert Case.objects.get(number="2025-002").state == "declined"
        repeat = Case.objects.get(number="2026-003")
        assert (repeat.repeat_of, repeat.category) == (first, "benefits")
        count = CaseAction.objects.count()
        again = taizhang("import", path, "--kind", "cases", "--user", "tom")
        assert again.exit_code == 0, again.output
        assert "cases 0, updated 0, unchanged 3" in again.output
        assert CaseAction.objects.count() == count

    def test_it_reports_every_bad_row_and_writes_nothing(self, county, tmp_path, taizhang):
        bad = [
            # replied before it was accepted
            ["X-1", "2026-03-01", "visit", "甲", "", "s", "", A,
             "2026-03-05", "", "", "alice", "2026-03-04", "r", "", "", "", ""],
            # declined without a reason
            ["X-2", "2026-03-01", "visit", "甲", "", "s", "", A,
             "", "2026-03-02", "", "", "", "", "", "", "", ""],
            # a handler outside the township
            ["X-3", "2026-03-01", "visit", "甲", "", "s", "", A,
             "2026-03-02", "", "", "charlie", "", "", "", "", "", ""],
            # repeats a case that is not there, closed before a reply
            ["X-4", "2026-03-01", "fax", "甲", "", "s", "", A,
             "", "", "", "", "", "", "", "", "", ""],
            ["X-5", "2026-03-09", "visit", "", "", "s", "", A,
             "", "", "", "", "", "", "", "", "", "NOPE"],
            ["X-6", "2026-03-01", "visit", "甲", "", "s", "", A,
             "2026-03-02", "", "", "", "", "", "", "", "2026-03-05", ""],
        ]  # fmt: skip
        path = write_csv(tmp_path / "bad.csv", HEADER, bad)
        result = taizhang("import", path, "--kind", "cases")
        assert result.exit_code == 1
        lines = [line for line in result.output.splitlines() if line.startswith("row ")]
        assert lines == [
            "row 1: replied_on: The date 2026-03-04 is before the case's previous action "
            "(assigned on 2026-03-05).",
            "row 2: decline_reason: a declined petition needs the reason it was declined",
            "row 3: handler: charlie cannot handle case X-3: the handler works in org unit "
            f"{A}, or above or below it within its township; charlie works in {C}.",
            "row 4: channel: fax is not a channel: use visit|letter|phone|online",
            "row 5: repeat_of: there is no case NOPE in this file or the register",
            "row 6: closed_on: Case X-6 is accepted: a case is closed after the reply.",
        ]
        assert not Case.objects.exists()


class TestCommand:
    def test_it_lists_overdue_cases_as_json(self, county, taizhang):
        new_case(county)  # ack due 03-16, conclude due 04-30, never acknowledged
        result = taizhang(
            "cases", "overdue", "--org", "410325", "--as-of", "2026-03-18", "--format", "json"
        )
        assert result.exit_code == 0, result.output
        out = json.loads(result.output)
        assert out["ack"] == [
            {
                "number": "XF-2026-000001",
                "received_on": "2026-03-01",
                "org": A,
                "state": "received",
                "due": "2026-03-16",
                "days_overdue": 2,
            }
        ]
        assert out["conclude"] == []

    def test_it_prints_the_register_as_csv(self, county, taizhang):
        take_through(new_case(county), county, closed="2026-04-30")
        result = taizhang(
            "cases", "report", "--org", "410325", "--period", "2026Q2", "--format", "csv"
        )
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[1].startswith("XF-2026-000001,2026-03-01,visit,benefits,410325100201,closed")
        assert "410325100,城关镇,0,0,0,1,1,0,0,0,100.0" in lines

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("--org", "999999", "--period", "2026"), "there is no org unit with code 999999"),
            (
                ("--org", "410325", "--period", "2026Q5"),
                "--period: period 2026Q5 is not a valid period code",
            ),
        ],
    )
    def test_it_refuses_bad_options_without_a_traceback(self, county, taizhang, args, message):
        result = taizhang("cases", "report", *args)
        assert result.exit_code == 1
        assert message in result.output
        assert "Traceback" not in result.output
