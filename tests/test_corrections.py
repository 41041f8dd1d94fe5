"""Corrections and retractions, and the figures after each, worked out by hand.

County 410325; township 城关镇 (410325100) with villages A (…201) and B (…202). The clock
stands at 2026-12-03 10:00 in Beijing (``fixed_clock``). Persons (persons.csv):

    M1 woman born 1990-01-01, lives in A; H1 her husband, born 1988-01-01, in A
    W2 woman born 1992-02-02, lives in B; H2 a man born 1985-05-05, in B
    K  a boy born 2026-03-10 who moved into A that very day (registered in A)

Events (events.csv, all recorded on 2026-12-03 unless a ``recorded_at`` is given):

    M1 marries H1 2015-05-01 (on M1's row)
    H2 marries W2 2020-01-01 (on H2's row)
    H1 dies 2024-01-10
    W2 gives birth to a girl on 2025-03-01, recorded 2025-03-05 (4 days: on time)
    M1 moves from A to B on 2025-05-01, and gives birth to twins on 2025-06-30 (in B)
    K  moves into A on 2026-03-10, his birth day
    M1 and W2 have check-ups on 2025-09-09
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from helpers import make_user, write_csv

from taizhang.corrections.models import Revision, Status
from taizhang.indicators.engine import compute
from taizhang.lib import crypto
from taizhang.lib.idnumber import make
from taizhang.register import actions
from taizhang.register.models import Event, Person, ResidenceSpell
from taizhang.register.timeline import EventFacts

pytestmark = pytest.mark.django_db

COUNTY, T, A, B = "410325", "410325100", "410325100201", "410325100202"


def pid(birth: str, seq: int) -> str:
    return make(COUNTY, dt.date.fromisoformat(birth), seq)


M1, H1 = pid("1990-01-01", 2), pid("1988-01-01", 3)
W2, H2 = pid("1992-02-02", 4), pid("1985-05-05", 5)
K = pid("2026-03-10", 7)
GIRL = pid("2025-03-01", 8)
TWIN1, TWIN2 = pid("2025-06-30", 10), pid("2025-06-30", 11)

EVENT_HEADER = [
    "id_number", "event", "date", "spouse_id_number", "child_id_number", "child_name",
    "child_sex", "delivery_place", "village", "recorded_at",
]  # fmt: skip


@pytest.fixture
def county(tmp_path, taizhang, fixed_clock):
    write_csv(
        tmp_path / "o.csv",
        ["code", "name", "parent"],
        [[COUNTY, "嵩县", ""], [T, "城关镇", COUNTY], [A, "东街村", T], [B, "西街村", T]],
    )
    write_csv(
        tmp_path / "p.csv",
        ["id_number", "name", "sex", "birth_date", "village"],
        [
            [M1, "母一", "F", "1990-01-01", A],
            [H1, "夫一", "M", "1988-01-01", A],
            [W2, "妇二", "F", "1992-02-02", B],
            [H2, "夫二", "M", "1985-05-05", B],
            [K, "男孩", "M", "2026-03-10", A],
        ],
    )
    write_csv(
        tmp_path / "e.csv",
        EVENT_HEADER,
        [
            [M1, "marriage", "2015-05-01", H1, "", "", "", "", "", ""],
            [H2, "marriage", "2020-01-01", W2, "", "", "", "", "", ""],
            [H1, "death", "2024-01-10", "", "", "", "", "", "", ""],
            [W2, "birth", "2025-03-01", "", GIRL, "女婴", "F", "facility", "", "2025-03-05"],
            [M1, "move_within", "2025-05-01", "", "", "", "", "", B, ""],
            [M1, "birth", "2025-06-30", "", TWIN1, "双一", "F", "facility", "", ""],
            [M1, "birth", "2025-06-30", "", TWIN2, "双二", "M", "facility", "", ""],
            [K, "move_in", "2026-03-10", "", "", "", "", "", A, ""],
            [M1, "checkup", "2025-09-09", "", "", "", "", "", "", ""],
            [W2, "checkup", "2025-09-09", "", "", "", "", "", "", ""],
        ],
    )
    for name in ("o", "p", "e"):
        result = taizhang("import", tmp_path / f"{name}.csv")
        assert result.exit_code == 0, result.output
    return tmp_path


def person(id_number: str) -> Person:
    return Person.objects.get(id_index=crypto.blind_index(id_number))


def event_of(id_number: str, kind: str, **more) -> Event:
    return Event.objects.get(person=person(id_number), kind=kind, supersedes__isnull=True, **more)


def values(org: str, period: str, *codes: str) -> dict:
    result = compute(org, period, list(codes))
    return {i["code"]: (i["numerator"], i["denominator"]) for i in result["indicators"]}


def count(org: str, period: str, code: str) -> int:
    return values(org, period, code)[code][0]


def balance(org: str, period: str, level: str) -> tuple[int, int]:
    """(START + births − deaths + in − out, END)."""
    codes = ["POP_START", "POP_END", "BIRTHS", "DEATHS", f"MOVES_IN_{level}", f"MOVES_OUT_{level}"]
    v = {code: n for code, (n, _d) in values(org, period, *codes).items()}
    flows = v["BIRTHS"] - v["DEATHS"] + v[f"MOVES_IN_{level}"] - v[f"MOVES_OUT_{level}"]
    return v["POP_START"] + flows, v["POP_END"]


def check_up(id_number: str, day: str = "2026-12-01") -> None:
    outcome = actions.record_events(
        [EventFacts(kind="checkup", date=dt.date.fromisoformat(day), person=person(id_number).pk)]
    )
    assert not outcome.problems


# ---------------------------------------------------------------------------
# The defects the register had, each with its figure


def test_d1_a_birth_imported_late_is_late(county):
    # 2025: the girl recorded after 4 days; the twins born 2025-06-30, recorded on
    # 2026-12-03 (521 days later). On time: 1 of 3.
    assert values(COUNTY, "2025", "BIRTH_REG_TIMELY")["BIRTH_REG_TIMELY"] == (1, 3)


def test_d2_a_retracted_marriage_stays_retracted_for_the_other_spouse(county):
    # H2's marriage to W2 (on H2's row) retracted: W2 is no married woman. MWRA in B at
    # the end of 2025: M1 (married 2015, widowed 2024-01-10: not married) and W2: 0 after
    # the retraction; and still 0 after an unrelated check-up of W2.
    assert count(B, "2025", "MWRA") == 1
    marriage = event_of(H2, "marriage")
    outcome = actions.correct_event(marriage.pk, replacement=None, reason="entered by mistake")
    assert not outcome.problems
    assert count(B, "2025", "MWRA") == 0
    check_up(W2)
    assert count(B, "2025", "MWRA") == 0
    assert count(COUNTY, "2020", "MARRIAGE_RATE") == 0


def test_d3_retracting_a_husbands_death_gives_his_wife_her_marriage_back(county):
    # H1's death retracted: M1 is married at the end of 2024 (in A) and of 2025 (in B).
    assert count(A, "2024", "MWRA") == 0
    death = event_of(H1, "death")
    assert not actions.correct_event(death.pk, replacement=None, reason="he lives").problems
    assert count(A, "2024", "MWRA") == 1
    assert count(B, "2025", "MWRA") == 2  # M1 and W2
    # Her later, unrelated check-up changes no figure of 2024.
    check_up(M1)
    assert count(A, "2024", "MWRA") == 1


def test_d4_a_mothers_move_redated_after_a_birth_moves_the_children(county):
    # M1's move A → B redated from 2025-05-01 to 2025-08-01: the twins are born in A and
    # live there (no move of their own). 2025: births A 2, B 1 (the girl); at the end of
    # 2025 A has H1? no (died 2024), K? not yet born: the twins, K later → END A = 2;
    # B: M1 (moved 08-01), W2, H2, the girl = 4.
    assert count(A, "2025", "BIRTHS") == 0
    move = event_of(M1, "move_within")
    replacement = EventFacts(
        kind="move_within", date=dt.date(2025, 8, 1), person=move.person_id, village=B
    )
    assert not actions.correct_event(move.pk, replacement=replacement, reason="date").problems
    assert count(A, "2025", "BIRTHS") == 2
    assert count(B, "2025", "BIRTHS") == 1
    assert count(A, "2025", "POP_END") == 2
    assert count(B, "2025", "POP_END") == 4
    assert {person(TWIN1).current_village, person(TWIN2).current_village} == {A}
    assert person(TWIN1).village_id == A
    for org, level in ((A, "VILLAGE"), (B, "VILLAGE"), (T, "TOWNSHIP")):
        start_plus_flows, end = balance(org, "2025", level)
        assert start_plus_flows == end, org


def test_d5_born_and_moved_in_on_the_same_day_is_a_move_in(county):
    # K, born 2026-03-10 and moved into A that day: March 2026 in A, START 0 + 0 births
    # + 1 move in = END 1 (M1 left A in 2025 and H1 died in 2024).
    assert count(A, "202603", "MOVES_IN_VILLAGE") == 1
    assert balance(A, "202603", "VILLAGE") == (1, 1)
    [spell] = ResidenceSpell.objects.filter(person=person(K))
    assert spell.start_reason == "move_in"


def test_d6_a_birth_cannot_be_redated_away_from_the_childs_birth_date(county):
    birth = event_of(M1, "birth", child=person(TWIN1))
    replacement = EventFacts(
        kind="birth",
        date=dt.date(2025, 7, 1),
        person=birth.person_id,
        child=birth.child_id,
        child_sex="F",
        delivery_place="facility",
    )
    outcome = actions.correct_event(birth.pk, replacement=replacement, reason="date")
    assert [p.message for p in outcome.problems] == [
        "the child was born on 2025-06-30 (as registered), not on 2025-07-01"
    ]
    assert not Event.objects.filter(supersedes=birth).exists()


def test_a_correction_of_a_correction_counts_the_last(county):
    move = event_of(M1, "move_within")
    first = EventFacts(
        kind="move_within", date=dt.date(2025, 8, 1), person=move.person_id, village=B
    )
    outcome = actions.correct_event(move.pk, replacement=first, reason="date")
    second = EventFacts(
        kind="move_within", date=dt.date(2025, 6, 1), person=move.person_id, village=B
    )
    outcome = actions.correct_event(
        outcome.counts["correction"], replacement=second, reason="again"
    )
    assert not outcome.problems
    # Back to a move before the birth: the twins are B's again.
    assert count(B, "2025", "BIRTHS") == 3
    assert person(TWIN1).village_id == B


# ---------------------------------------------------------------------------
# The commands: events and the corrections import


def test_events_lists_a_persons_events_with_ids_and_status(county, taizhang):
    move = event_of(M1, "move_within")
    replacement = EventFacts(
        kind="move_within", date=dt.date(2025, 5, 2), person=move.person_id, village=B
    )
    new = actions.correct_event(move.pk, replacement=replacement, reason="date").counts[
        "correction"
    ]
    result = taizhang("events", M1, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["id_number"] == M1
    rows = {(r["event"], r["date"]): r for r in data["events"]}
    assert [(r["event"], r["date"]) for r in data["events"]] == [
        ("marriage", "2015-05-01"),
        ("move_within", "2025-05-01"),
        ("move_within", "2025-05-02"),
        ("birth", "2025-06-30"),
        ("birth", "2025-06-30"),
        ("checkup", "2025-09-09"),
    ]
    assert rows[("move_within", "2025-05-01")]["status"] == "corrected"
    assert rows[("move_within", "2025-05-01")]["corrected_by"] == new
    assert rows[("move_within", "2025-05-02")]["status"] == "current"
    assert rows[("move_within", "2025-05-02")]["corrects"] == move.pk
    assert rows[("move_within", "2025-05-02")]["village"] == B
    assert rows[("marriage", "2015-05-01")]["spouse_id_number"] == H1
    assert taizhang("events", pid("1999-09-09", 21)).exit_code == 1


def test_import_corrections_applies_retracts_and_is_idempotent(county, taizhang, tmp_path):
    move, checkup = event_of(M1, "move_within"), event_of(W2, "checkup")
    path = tmp_path / "c.csv"
    write_csv(
        path,
        ["事件编号", "操作", "原因", "日期", "村代码"],
        [
            [move.pk, "更正", "搬家日期记错", "2025-08-01", ""],
            [checkup.pk, "撤销", "重复录入", "", ""],
        ],
    )
    result = taizhang("import", path)
    assert result.exit_code == 0, result.output
    assert "corrections, 2 rows: corrected 1, retracted 1" in result.output
    assert count(A, "2025", "BIRTHS") == 2  # the move now after the twins' birth
    again = taizhang("import", path)
    assert again.exit_code == 0
    assert "unchanged 2" in again.output
    assert Event.objects.filter(supersedes__isnull=False).count() == 2


def test_import_corrections_refuses_bad_rows_and_writes_nothing(county, taizhang, tmp_path):
    move, birth = event_of(M1, "move_within"), event_of(M1, "birth", child=person(TWIN1))
    actions.correct_event(event_of(W2, "checkup").pk, replacement=None, reason="twice")
    retracted = Event.objects.get(kind="checkup", person=person(W2))
    path = tmp_path / "c.csv"
    write_csv(
        path,
        ["event_id", "action", "reason", "event", "date"],
        [
            [move.pk, "correct", "date", "", "2025-08-01"],  # fine on its own
            [birth.pk, "correct", "date", "", "2025-07-01"],  # D6
            [retracted.pk, "retract", "twice", "", ""],  # already retracted
            [move.pk, "retract", "", "", ""],  # no reason; and the move twice
            ["x1", "correct", "r", "", ""],
            [move.pk, "correct", "kind", "death", ""],
        ],
    )
    result = taizhang("import", path)
    assert result.exit_code == 1
    out = result.output
    assert (
        "row 2: child_id_number: the child's ID number gives birth date 2025-06-30, not 2025-07-01"
        in out
    )
    void = Event.objects.get(supersedes=retracted).pk
    assert (
        f"row 3: event_id: event {retracted.pk} has already been retracted by event {void}" in out
    )
    assert "row 4: reason: a correction needs a reason" in out
    assert "row 5: event_id: x1 is not an event number" in out
    assert "row 6: event: a correction cannot change the kind of event (move_within)" in out
    assert Event.objects.filter(supersedes__isnull=False).count() == 1
    assert count(A, "2025", "BIRTHS") == 0


# ---------------------------------------------------------------------------
# Approval


def test_a_village_worker_corrects_open_months_and_asks_for_older(county, taizhang, tmp_path):
    worker = make_user("worker_b", "village_worker", B)
    township = make_user("stat_t", "township_statistician", T)
    from taizhang.corrections import actions as corrections

    # An event of this month (2026-12): applied at once.
    check_up(W2, "2026-12-01")
    recent = Event.objects.get(person=person(W2), kind="checkup", date=dt.date(2026, 12, 1))
    [done] = corrections.submit(
        [corrections.Request(recent.pk, "correct", "findings", {"findings": "正常"})], user=worker
    )
    assert done.status == "applied" and not done.errors
    # The twins' birth of 2025: waits for the township.
    move = event_of(M1, "move_within")
    [waiting] = corrections.submit(
        [corrections.Request(move.pk, "correct", "date wrong", {"date": "2025-08-01"})],
        user=worker,
    )
    assert waiting.status == "pending"
    assert count(A, "2025", "BIRTHS") == 0  # nothing applied yet
    journal = waiting.journal
    assert corrections.approve(journal, user=worker) != []  # a worker decides nothing
    assert corrections.approve(journal, user=township, note="checked") == []
    journal.refresh_from_db()
    assert journal.status == Status.APPLIED and journal.unseen_decision
    assert count(A, "2025", "BIRTHS") == 2


def test_a_reported_month_closes_and_its_revision_is_recorded(county, taizhang, tmp_path):
    # A and B reported June 2025 (births: A 0, B 2, the twins) and B November 2026.
    write_csv(
        tmp_path / "r.csv",
        ["org", "period", "item", "value"],
        [[A, "202506", "births", "0"], [B, "202506", "births", "2"], [B, "202611", "births", "0"]],
    )
    assert taizhang("import", tmp_path / "r.csv", "--kind", "reports").exit_code == 0
    from taizhang.corrections import actions as corrections

    today = dt.date(2026, 12, 3)
    assert corrections.open_months(A, today) == {"202611", "202612"}
    assert corrections.open_months(B, today) == {"202612"}  # B reported November
    # B's worker: a check-up of 2026-11-20 is in a reported month: it waits.
    check_up(W2, "2026-11-20")
    nov = Event.objects.get(person=person(W2), kind="checkup", date=dt.date(2026, 11, 20))
    worker_b = make_user("worker_b", "village_worker", B)
    [pending] = corrections.submit(
        [corrections.Request(nov.pk, "retract", "twice", {})], user=worker_b
    )
    assert pending.status == "pending"
    assert pending.journal.months == ["202611", "202612"]
    # The county redates M1's move A → B from 2025-05-01 to 2025-08-01: the twins are born
    # in A. June 2025 as recorded: A 0 → 2 births, B 2 → 0; the township's stays 2.
    admin = make_user("admin", "county_admin", COUNTY)
    move = event_of(M1, "move_within")
    [done] = corrections.submit(
        [corrections.Request(move.pk, "correct", "moved later", {"date": "2025-08-01"})], user=admin
    )
    assert done.status == "applied", done.errors
    revisions = {(r.org, r.period, r.item): (r.before, r.after) for r in Revision.objects.all()}
    assert revisions == {(A, "202506", "births"): (0, 2), (B, "202506", "births"): (2, 0)}
    assert Revision.objects.get(org=A).requests == [done.journal.pk]


def test_the_report_form_page_shows_the_revision(county, taizhang, tmp_path, client):
    write_csv(
        tmp_path / "r.csv", ["org", "period", "item", "value"], [[B, "202506", "births", "2"]]
    )
    assert taizhang("import", tmp_path / "r.csv", "--kind", "reports").exit_code == 0
    from taizhang.corrections import actions as corrections

    admin = make_user("admin", "county_admin", COUNTY)
    move = event_of(M1, "move_within")
    corrections.submit(
        [corrections.Request(move.pk, "correct", "moved later", {"date": "2025-08-01"})], user=admin
    )
    assert [(r.org, r.before, r.after) for r in Revision.objects.all()] == [(B, 2, 0)]
    client.force_login(admin)
    page = client.get(f"/quality/reports/?org={B}&period=202506").content.decode()
    revised = page[page.index('<table class="revisions">') :]
    assert (
        '<tr data-item="births"><td>Births</td><td class="num">2</td><td class="num">0</td>'
        in revised
    )


def test_rebuild_finds_a_register_in_step_with_its_events(county, taizhang):
    # Eight persons (five registered, the girl, the twins). After corrections, a rebuild
    # of everyone changes nothing …
    move = event_of(M1, "move_within")
    replacement = EventFacts(
        kind="move_within", date=dt.date(2025, 8, 1), person=move.person_id, village=B
    )
    actions.correct_event(move.pk, replacement=replacement, reason="date")
    # M1, widowed in 2024, marries a man from outside the register.
    outside = crypto.blind_index(pid("1987-07-07", 31))
    marriage = EventFacts(
        kind="marriage", date=dt.date(2026, 1, 1), person=person(M1).pk, spouse_key=outside
    )
    assert not actions.record_events([marriage]).problems
    result = taizhang("rebuild")
    assert result.exit_code == 0, result.output
    assert "8 persons rebuilt; 0 had derived rows out of step with their events" in result.output
    # … and one put out of step by hand (a twin's spell moved to B) is found and put right.
    ResidenceSpell.objects.filter(person=person(TWIN1)).update(village=B)
    dry = taizhang("rebuild", "--dry-run")
    assert "dry run, nothing written: 8 persons rebuilt; 1 had derived rows" in dry.output
    assert ResidenceSpell.objects.get(person=person(TWIN1)).village == B
    taizhang("rebuild")
    assert ResidenceSpell.objects.get(person=person(TWIN1)).village == A


def test_a_child_born_here_cannot_move_in(county):
    # The girl was born in B (her mother lived there): she lives in the county from birth,
    # so a move in, on her birth day or later, contradicts the register.
    for day in (dt.date(2025, 3, 1), dt.date(2025, 6, 1)):
        outcome = actions.record_events(
            [EventFacts(kind="move_in", date=day, person=person(GIRL).pk, village=A)]
        )
        assert [p.message for p in outcome.problems] == [
            f"the person already lives in village {B} (use move_within)"
        ]


def test_a_newcomers_retracted_move_in_makes_her_an_arrival_by_registration(county):
    # K was born on 2026-03-10 and moved into A that day. Retracted, he is in the register
    # as registered in A from birth with no registered birth: still an arrival of March.
    move = event_of(K, "move_in")
    assert not actions.correct_event(move.pk, replacement=None, reason="registered").problems
    assert count(A, "202603", "MOVES_IN_VILLAGE") == 1
    assert count(A, "202603", "BIRTHS") == 0
    assert balance(A, "202603", "VILLAGE") == (1, 1)
