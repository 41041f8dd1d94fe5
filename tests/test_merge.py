"""Merging a duplicate registration, and undoing it.

    410325 嵩县 — 410325100 城关镇: A = 410325100201 东街村, B = 410325100202 西街村

    A  陈红 (KEEP) F 1988-04-04: married 2012-05-01 to 周强 (M, A); check-up 2023-06-01
    B  陈红 (DROP) F 1988-04-04, the same woman registered again (ID one digit apart):
       check-up 2023-06-01 (the same as KEEP's), check-up 2024-03-10, gave birth on
       2015-08-08 to 周小 (F, lives in B); checked in at a session on 2024-03-10
    B  陈红 (OTHER) F 1988-04-04, a third record: married 2014-02-02 to 吴刚 (M, B)

Before the merge the county has 6 persons at the end of 2024 (陈红 ×3, 周强, 周小, 吴刚).
Due a check-up in 2024 are the married women 15-49, KEEP and OTHER; neither had one
(CHECKUP_RATE 0 of 2: DROP, unmarried, is not due, and her check-up counts for nobody).
After DROP is merged: 5 persons, and KEEP's 2024 check-up (recorded on DROP) counts: 1
of 2. The 2015 birth is counted in A, where KEEP lived, no longer in B.
"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import EVENT_HEADER, write_csv

from taizhang import clock
from taizhang.audit.models import AuditEntry
from taizhang.indicators.engine import compute
from taizhang.ledgers.models import Attendance
from taizhang.lib.idnumber import make
from taizhang.register.models import BirthFact, Event, Person, PersonMerge, ResidenceSpell

pytestmark = pytest.mark.django_db

COUNTY, T1 = "410325", "410325100"
A, B = "410325100201", "410325100202"
KEEP = make("410325", dt.date(1988, 4, 4), 22)
DROP = make("410325", dt.date(1988, 4, 4), 24)
OTHER = make("410325", dt.date(1988, 4, 4), 26)
HUSBAND = make("410325", dt.date(1986, 1, 1), 11)
OTHER_HUSBAND = make("410325", dt.date(1985, 2, 2), 13)
CHILD = make("410325", dt.date(2015, 8, 8), 42)


def row(id_number, event, date, spouse="", child="", name="", sex=""):
    return [id_number, event, date, spouse, child, name, sex, "facility" if child else "", "", ""]


@pytest.fixture
def county(tmp_path, taizhang):
    files = (
        (
            "orgunits",
            ["code", "name", "parent"],
            [[COUNTY, "嵩县", ""], [T1, "城关镇", COUNTY], [A, "东街村", T1], [B, "西街村", T1]],
        ),
        (
            "persons",
            ["id_number", "name", "sex", "village"],
            [
                [KEEP, "陈红", "F", A],
                [DROP, "陈红", "F", B],
                [OTHER, "陈红", "F", B],
                [HUSBAND, "周强", "M", A],
                [OTHER_HUSBAND, "吴刚", "M", B],
            ],
        ),
        (
            "events",
            EVENT_HEADER,
            [
                row(KEEP, "marriage", "2012-05-01", spouse=HUSBAND),
                row(KEEP, "checkup", "2023-06-01"),
                row(DROP, "checkup", "2023-06-01"),
                row(DROP, "checkup", "2024-03-10"),
                row(DROP, "birth", "2015-08-08", child=CHILD, name="周小", sex="F"),
                row(OTHER, "marriage", "2014-02-02", spouse=OTHER_HUSBAND),
            ],
        ),
    )
    for kind, header, rows in files:
        r = taizhang("import", write_csv(tmp_path / f"{kind}.csv", header, rows), "--kind", kind)
        assert r.exit_code == 0, r.output
    Attendance.objects.create(
        person=person(DROP),
        kind="checkup",
        date=dt.date(2024, 3, 10),
        village=B,
        by="id_number",
        recorded_at=clock.now(),
    )


def person(number: str) -> Person:
    from taizhang.lib import crypto

    return Person.objects.get(id_index=crypto.blind_index(number))


def figure(code: str, period: str, org: str = COUNTY) -> tuple:
    (entry,) = compute(org, period, [code])["indicators"]
    return entry["numerator"], entry["denominator"]


def snapshot() -> dict:
    """Everything a refused merge must leave as it was."""
    return {
        "events": sorted(Event.objects.values_list("pk", "person_id", "spouse_id", "child_id")),
        "persons": sorted(
            Person.objects.values_list("pk", "mother_id", "merged_into_id", "status")
        ),
        "attendance": sorted(Attendance.objects.values_list("pk", "person_id")),
        "spells": sorted(ResidenceSpell.objects.values_list("person_id", "village", "start")),
        "merges": PersonMerge.objects.count(),
        "audit": AuditEntry.objects.filter(action__startswith="person_").count(),
    }


def test_a_merge_moves_the_rows_and_every_figure_counts_her_once(county, taizhang):
    keep, drop, child = person(KEEP), person(DROP), person(CHILD)
    assert figure("POP_END", "2024") == (6, None)
    assert figure("CHECKUP_RATE", "2024") == (0, 2)
    assert figure("BIRTHS", "2015", B) == (1, None)
    checkup_2023 = Event.objects.get(person=drop, kind="checkup", date=dt.date(2023, 6, 1))

    r = taizhang("merge-persons", KEEP, DROP, "--reason", "registered twice")
    assert r.exit_code == 0, r.output
    merge = PersonMerge.objects.get()
    assert r.output.startswith(f"merge {merge.pk}: 陈红 ({DROP}) merged into 陈红 ({KEEP}); ")
    assert "4 records moved, 1 events already recorded" in r.output

    # Her 2024 check-up and the birth are KEEP's now; the 2023 check-up KEEP already had
    # stays with DROP; the child's mother and the attendance are KEEP's.
    assert sorted(Event.objects.filter(person=keep).values_list("kind", "date")) == [
        ("birth", dt.date(2015, 8, 8)),
        ("checkup", dt.date(2023, 6, 1)),
        ("checkup", dt.date(2024, 3, 10)),
        ("marriage", dt.date(2012, 5, 1)),
    ]
    assert list(Event.objects.filter(person=drop).values_list("pk", flat=True)) == [checkup_2023.pk]
    child.refresh_from_db()
    drop.refresh_from_db()
    assert child.mother_id == keep.pk
    assert Attendance.objects.get().person_id == keep.pk
    assert (drop.merged_into_id, drop.status) == (keep.pk, "merged")
    assert not ResidenceSpell.objects.filter(person_id=drop.pk).exists()
    assert list(BirthFact.objects.values_list("mother_id", "village")) == [(keep.pk, A)]

    moved_events = Event.objects.filter(person=keep).exclude(kind="marriage")
    assert sorted((e["model"], e["pk"], e["field"]) for e in merge.journal["moved"]) == sorted(
        [
            ("ledgers.attendance", Attendance.objects.get().pk, "person"),
            ("register.event", moved_events.get(kind="birth").pk, "person"),
            ("register.event", moved_events.get(date=dt.date(2024, 3, 10)).pk, "person"),
            ("register.person", child.pk, "mother"),
        ]
    )
    assert merge.journal["kept"] == [
        {
            "model": "register.event",
            "pk": checkup_2023.pk,
            "field": "person",
            "same_as": Event.objects.get(person=keep, date=dt.date(2023, 6, 1)).pk,
        }
    ]

    # Once: 5 persons; the check-up recorded on DROP is KEEP's; the 2015 birth is A's.
    assert figure("POP_END", "2024") == (5, None)
    assert figure("CHECKUP_RATE", "2024") == (1, 2)
    assert figure("BIRTHS", "2015", B) == (0, None)
    assert figure("BIRTHS", "2015", A) == (1, None)

    entry = AuditEntry.objects.get(action="person_merge")
    assert (entry.object_type, entry.object_id, entry.org_code) == ("person", str(keep.pk), A)
    assert entry.detail == {
        "merge": merge.pk,
        "dropped": drop.pk,
        "moved": 4,
        "kept": 1,
        "reason": "registered twice",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (KEEP, make("410325", dt.date(1970, 1, 1), 2)),
            "no person with ID number 410325********0",
        ),
        ((KEEP, "12345"), "12345: "),
        ((KEEP, KEEP), "the same person is named twice: give two different persons"),
        ((KEEP, HUSBAND), "are of different sex: correct the sex of the wrong record first"),
        (
            (KEEP, OTHER),
            f"cannot be merged into 陈红 ({KEEP[:6]}********{KEEP[-4:]}): the merged record would "
            "contradict itself — marriage on 2014-02-02: the person is already married "
            "(since 2012-05-01); record a divorce or widowhood first",
        ),
    ],
)
def test_a_refused_merge_writes_nothing(county, taizhang, args, message):
    before = snapshot()
    r = taizhang("merge-persons", *args, "--reason", "registered twice")
    assert r.exit_code == 1
    assert message in r.output
    assert "Traceback" not in r.output
    assert snapshot() == before


def test_it_refuses_a_person_already_merged_and_a_missing_reason(county, taizhang):
    assert taizhang("merge-persons", KEEP, DROP, "--reason", "twice").exit_code == 0
    r = taizhang("merge-persons", OTHER, DROP, "--reason", "twice")
    assert r.exit_code == 1
    assert (
        r.output.strip()
        == f"陈红 ({DROP[:6]}********{DROP[-4:]}) has already been merged into another person"
    )
    r = taizhang("merge-persons", OTHER, KEEP, "--reason", "  ")
    assert (r.exit_code, r.output.strip()) == (1, "give the reason for the merge")


def test_an_undo_restores_exactly_what_was_there(county, taizhang):
    before = snapshot()
    pop = figure("POP_END", "2024")
    assert taizhang("merge-persons", KEEP, DROP, "--reason", "twice").exit_code == 0
    merge = PersonMerge.objects.get()

    r = taizhang("unmerge-persons", merge.pk, "--reason", "two different women after all")
    assert r.exit_code == 0, r.output
    after = snapshot()
    assert after.pop("merges") == 1 and after.pop("audit") == 2
    before.pop("merges"), before.pop("audit")
    assert after == before
    assert figure("POP_END", "2024") == pop
    merge.refresh_from_db()
    assert merge.undone_at is not None
    assert merge.undo_reason == "two different women after all"
    entry = AuditEntry.objects.get(action="person_unmerge")
    assert (entry.object_id, entry.detail["merge"], entry.detail["moved"]) == (
        str(person(DROP).pk),
        merge.pk,
        4,
    )

    # Once undone, not again; and an unknown merge is refused.
    r = taizhang("unmerge-persons", merge.pk, "--reason", "again")
    assert r.exit_code == 1 and "was undone on" in r.output
    r = taizhang("unmerge-persons", 999, "--reason", "again")
    assert (r.exit_code, r.output.strip()) == (1, "there is no merge 999")


def test_a_village_worker_cannot_merge(county, taizhang):
    from helpers import make_user

    from taizhang.accounts.models import Role

    make_user("alice", Role.VILLAGE_WORKER, A)
    make_user("tom", Role.TOWNSHIP_STATISTICIAN, T1)
    before = snapshot()
    r = taizhang("merge-persons", KEEP, DROP, "--reason", "twice", "--user", "alice")
    assert r.exit_code == 1
    assert r.output.startswith("a village worker cannot merge persons")
    assert snapshot() == before
    r = taizhang("merge-persons", KEEP, DROP, "--reason", "twice", "--user", "tom")
    assert r.exit_code == 0, r.output
    assert PersonMerge.objects.get().merged_by.username == "tom"
