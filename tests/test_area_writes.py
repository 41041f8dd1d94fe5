"""Writes across areas by ID number (docs/imports.md, "Writes across areas").

A user with an org unit names persons only inside it: a person registered outside answers
exactly as an ID number not in the register does, and is left untouched. A birth cannot
create a child whose ID number is registered outside: one sentence refuses it, the same
for every such child, saying nothing of them. The county (a command without ``--user``)
writes across the whole register.

The register is that of ``test_people`` (alice: village A of 城关镇; charlie: village C of
田湖镇), with, imported by the county:

    A  赵刚 (M 1992-02-02), 钱明 (M 1993-03-03), 周梅 (F 1994-04-04): not married
    C  孙丽 (F 1985-03-03), married to 张伟 (C) since 2003-11-02; her daughter 张小宝
       (b. 2020-08-08, recorded by a birth event); 郑一 (M 1990-09-09), not married
    B  李小军 (M b. 2020-08-08), registered without a mother

``NOBODY_F``/``NOBODY_M`` are valid ID numbers of nobody in the register.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from helpers import EVENT_HEADER, write_csv
from test_ledgers import ledger_village  # noqa: F401  (a fixture)
from test_people import OTHER, WOMAN, A, B, C, people  # noqa: F401  (people is a fixture)

from taizhang.imports.events import OUTSIDE_AREA
from taizhang.imports.persons import OUTSIDE_AREA as OUTSIDE_AREA_PERSON
from taizhang.lib import crypto
from taizhang.lib.idnumber import make, mask
from taizhang.register.models import (
    BirthFact,
    Event,
    MethodSpell,
    Person,
    ResidenceSpell,
    UnionSpell,
)

pytestmark = pytest.mark.django_db

ZHAO = make("410325", dt.date(1992, 2, 2), 11)
QIAN = make("410325", dt.date(1993, 3, 3), 13)
ZHOU = make("410325", dt.date(1994, 4, 4), 16)
SUN = make("410325", dt.date(1985, 3, 3), 2)
KID_C = make("410325", dt.date(2020, 8, 8), 22)  # 张小宝, C, with a mother
KID_B = make("410325", dt.date(2020, 8, 8), 23)  # 李小军, B, without
NEW_KID = make("410325", dt.date(2020, 8, 8), 26)  # nobody yet: a girl
ZHENG = make("410325", dt.date(1990, 9, 9), 17)
NOBODY_F = make("410325", dt.date(1985, 3, 3), 4)
NOBODY_M = make("410325", dt.date(1985, 7, 7), 5)
WEDDING = "2024-05-01"


def cli_import(taizhang, path, kind, header, rows, *user):
    return taizhang("import", write_csv(path, header, rows), "--kind", kind, *user)


@pytest.fixture
def county(people, taizhang, tmp_path):  # noqa: F811
    for kind, header, rows in (
        (
            "persons",
            ["id_number", "name", "sex", "village", "household"],
            [
                [ZHAO, "赵刚", "M", A, "H4"],
                [QIAN, "钱明", "M", A, "H5"],
                [ZHOU, "周梅", "F", A, "H6"],
                [SUN, "孙丽", "F", C, "H3"],
                [KID_B, "李小军", "M", B, "H2"],
                [ZHENG, "郑一", "M", C, "H7"],
            ],
        ),
        (
            "events",
            EVENT_HEADER,
            [
                [SUN, "marriage", "2003-11-02", OTHER],
                [SUN, "birth", "2020-08-08", "", KID_C, "张小宝", "F", "facility"],
            ],
        ),
    ):
        r = cli_import(taizhang, tmp_path / f"county-{kind}.csv", kind, header, rows)
        assert r.exit_code == 0, r.output
    by_name = {p.name: p for p in Person.objects.all()}
    for name, key in (
        ("赵刚", "zhao"),
        ("钱明", "qian"),
        ("周梅", "zhou"),
        ("孙丽", "sun"),
        ("郑一", "zheng"),
    ):
        setattr(people, key, by_name[name])
    people.kid_c, people.kid_b = by_name["张小宝"], by_name["李小军"]
    return people


def snapshot(*persons) -> dict:
    """Everything the register holds of these persons: their row, events and spells."""
    out = {}
    for p in persons:
        pk = p.pk
        out[pk] = (
            list(Person.objects.filter(pk=pk).values()),
            list(Event.objects.filter(person_id=pk).values().order_by("id")),
            list(Event.objects.filter(spouse_id=pk).values().order_by("id")),
            list(Event.objects.filter(child_id=pk).values().order_by("id")),
            list(ResidenceSpell.objects.filter(person_id=pk).values().order_by("id")),
            list(UnionSpell.objects.filter(person_id=pk).values().order_by("start")),
            list(UnionSpell.objects.filter(spouse_id=pk).values().order_by("start")),
            list(MethodSpell.objects.filter(person_id=pk).values().order_by("start")),
            list(BirthFact.objects.filter(child_id=pk).values()),
        )
    return out


def post_event(client, user, person, kind, **values):
    client.logout()  # a new session: no message left from an earlier answer
    client.force_login(user)
    return client.post(reverse("record_event", args=[person.pk, kind]), values)


def answer(r) -> tuple:
    """What a form's answer says: status, the form's errors and the messages shown."""
    form = r.context["form"] if r.context and "form" in r.context else None
    errors = {k: list(v) for k, v in form.errors.items()} if form is not None else {}
    return r.status_code, errors, [str(m) for m in get_messages(r.wsgi_request)]


def unmasked(text: str, *numbers: str) -> str:
    """``text`` with the masked ID numbers in it made alike."""
    for number in numbers:
        text = text.replace(mask(number), "ID")
    return text


class TestEventForm:
    def test_a_marriage_to_a_woman_of_another_township_is_as_to_one_not_registered(
        self, client, county
    ):
        # 孙丽 of C has been married since 2003-11-02: alice must not learn it. Her
        # resident's marriage is recorded as one to a spouse outside the register (kept by
        # ID number alone), exactly as for an ID number nobody has; 孙丽 is untouched.
        before = snapshot(county.sun, county.other)
        outside = answer(
            post_event(
                client, county.alice, county.zhao, "marriage", date=WEDDING, spouse_id_number=SUN
            )  # fmt: skip
        )
        nobody = answer(
            post_event(
                client,
                county.alice,
                county.qian,
                "marriage",
                date=WEDDING,
                spouse_id_number=NOBODY_F,
            )  # fmt: skip
        )
        assert outside == nobody == (302, {}, ["Marriage on 2024-05-01 recorded."])
        assert snapshot(county.sun, county.other) == before
        zhao = Event.objects.get(person=county.zhao, kind="marriage")
        assert (zhao.spouse_id, zhao.spouse_id_index) == (None, crypto.blind_index(SUN))
        union = UnionSpell.objects.get(person=county.zhao)
        assert (union.spouse_id, union.start) == (None, 20240501)

    def test_the_old_answer_leaked_the_outside_womans_marriage(self, client, county):
        # The answer the issue reported ("already married since 2003-11-02") is gone for
        # alice, and still given inside the area that holds 孙丽 (charlie's).
        r = post_event(client, county.alice, county.zhao, "marriage", date=WEDDING,
                       spouse_id_number=SUN)  # fmt: skip
        assert r.status_code == 302
        r = post_event(client, county.charlie, county.zheng, "marriage", date=WEDDING,
                       spouse_id_number=SUN)  # fmt: skip
        assert r.status_code == 400
        assert "2003-11-02" in str(answer(r)[1]), answer(r)

    def test_a_refusal_reads_the_same_for_an_outside_person_and_for_nobody(self, client, county):
        # A man to a man: 张伟 of C is a man; NOBODY_M's number says a man.
        before = snapshot(county.other)
        outside = answer(
            post_event(
                client, county.alice, county.zhao, "marriage", date=WEDDING, spouse_id_number=OTHER
            )  # fmt: skip
        )
        nobody = answer(
            post_event(
                client,
                county.alice,
                county.zhao,
                "marriage",
                date=WEDDING,
                spouse_id_number=NOBODY_M,
            )  # fmt: skip
        )
        assert outside == nobody
        assert outside[:2] == (
            400,
            {"spouse_id_number": ["the spouse's ID number is of the same sex as the person"]},
        )
        assert snapshot(county.other) == before
        assert not Event.objects.filter(person=county.zhao).exists()

    def test_a_marriage_inside_the_area_links_both_records(self, client, county):
        r = post_event(client, county.alice, county.qian, "marriage", date=WEDDING,
                       spouse_id_number=ZHOU)  # fmt: skip
        assert answer(r) == (302, {}, ["Marriage on 2024-05-01 recorded."])
        assert UnionSpell.objects.get(person=county.zhou).spouse_id == county.qian.pk
        assert UnionSpell.objects.get(person=county.qian).spouse_id == county.zhou.pk

    def test_a_birth_naming_a_child_registered_outside_is_refused_in_one_sentence(
        self, client, county
    ):
        # 张小宝 (C, her mother 孙丽) and 李小军 (B, no mother): the same answer for both,
        # naming neither, their mother, village or birth; neither changes, and no second
        # person with their ID number is made.
        before = snapshot(county.kid_c, county.kid_b, county.sun)
        persons = Person.objects.count()
        answers = []
        for kid, sex in ((KID_C, "F"), (KID_B, "M")):
            r = post_event(client, county.alice, county.woman, "birth", date="2020-08-08",
                           child_id_number=kid, child_name="王宝", child_sex=sex,
                           delivery_place="facility")  # fmt: skip
            answers.append(answer(r))
            html = r.content.decode()
            assert not any(word in html for word in ("孙丽", "张小宝", "李小军", "张伟", C, B))
        assert answers[0] == answers[1] == (400, {"child_id_number": [OUTSIDE_AREA]}, [])
        assert snapshot(county.kid_c, county.kid_b, county.sun) == before
        assert Person.objects.count() == persons
        assert not Event.objects.filter(person=county.woman, kind="birth").exists()

    def test_a_birth_inside_the_area_creates_the_child(self, client, county):
        r = post_event(client, county.alice, county.woman, "birth", date="2020-08-08",
                       child_id_number=NEW_KID, child_name="王宝", child_sex="F",
                       delivery_place="facility")  # fmt: skip
        assert answer(r) == (302, {}, ["Birth on 2020-08-08 recorded."])
        kid = Person.objects.get(id_index=crypto.blind_index(NEW_KID))
        assert (kid.mother_id, kid.current_village) == (county.woman.pk, A)

    def test_the_township_of_both_villages_links_the_child(self, client, county):
        # tom's area holds A and B: 李小军 of B is known to him, and linked to 王秀英.
        r = post_event(client, county.tom, county.woman, "birth", date="2020-08-08",
                       child_id_number=KID_B, child_sex="M", delivery_place="facility")  # fmt: skip
        assert r.status_code == 302
        assert Person.objects.get(pk=county.kid_b.pk).mother_id == county.woman.pk


class TestImport:
    def test_a_village_worker_imports_events_of_her_area_only(self, taizhang, tmp_path, county):
        before = snapshot(county.sun, county.kid_c, county.kid_b, county.other)
        events = Event.objects.count()

        def run(name, rows):
            r = cli_import(taizhang, tmp_path / name, "events", EVENT_HEADER, rows,
                           "--user", "alice")  # fmt: skip
            return r.exit_code, r.stderr

        # A row about 孙丽 reads as a row about nobody (the masked numbers made alike).
        outside = run("outside.csv", [[SUN, "checkup", "2024-03-03"]])
        nobody = run("nobody.csv", [[NOBODY_F, "checkup", "2024-03-03"]])
        assert outside[0] == nobody[0] == 1
        assert unmasked(outside[1], SUN) == unmasked(nobody[1], NOBODY_F).replace(
            "nobody", "outside"
        )
        assert "row 1: id_number: no person with ID number ID is in the register" in (
            unmasked(outside[1], SUN)
        )
        # A birth naming a child registered outside: the one sentence.
        code, err = run("birth.csv", [[WOMAN, "birth", "2020-08-08", "", KID_C, "王宝", "F",
                                       "facility"]])  # fmt: skip
        assert code == 1
        assert f"row 1: child_id_number: {OUTSIDE_AREA}" in err
        # A marriage to 孙丽: recorded as to a spouse outside the register, as to nobody.
        outside = taizhang("import", write_csv(tmp_path / "m1.csv", EVENT_HEADER,
                           [[ZHAO, "marriage", WEDDING, SUN]]), "--user", "alice")  # fmt: skip
        nobody = taizhang("import", write_csv(tmp_path / "m2.csv", EVENT_HEADER,
                          [[QIAN, "marriage", WEDDING, NOBODY_F]]), "--user", "alice")  # fmt: skip
        assert (outside.exit_code, nobody.exit_code) == (0, 0)
        assert outside.output.replace("m1", "m2") == nobody.output
        assert snapshot(county.sun, county.kid_c, county.kid_b, county.other) == before
        assert Event.objects.count() == events + 2
        # A move into a village outside her area, as the form says.
        code, err = run("move.csv", [[ZHAO, "move_within", "2024-06-01", "", "", "", "", "", B]])
        assert code == 1 and f"row 1: village: village {B} is outside your area" in err

    def test_the_county_imports_across_the_county(self, taizhang, tmp_path, county):
        rows = [[SUN, "checkup", "2024-03-03"], [ZHAO, "checkup", "2024-03-03"]]
        for user in ((), ("--user", "ada")):
            Event.objects.filter(kind="checkup").delete()
            r = cli_import(taizhang, tmp_path / "c.csv", "events", EVENT_HEADER, rows, *user)
            assert r.exit_code == 0, r.output
            assert Event.objects.filter(kind="checkup").count() == 2

    def test_a_village_worker_cannot_register_or_update_a_person_elsewhere(
        self, taizhang, tmp_path, county
    ):
        before = snapshot(county.sun)
        header = ["id_number", "name", "sex", "village", "phone"]
        r = cli_import(taizhang, tmp_path / "p.csv", "persons", header,
                       [[SUN, "孙丽", "F", A, "13900000000"],
                        [NOBODY_F, "某人", "F", C, ""]], "--user", "alice")  # fmt: skip
        assert r.exit_code == 1
        assert f"row 1: id_number: {OUTSIDE_AREA_PERSON}" in r.stderr
        assert f"row 2: village: village {C} is outside your area" in r.stderr
        assert snapshot(county.sun) == before
        assert not Person.objects.filter(id_index=crypto.blind_index(NOBODY_F)).exists()
        # Her own: registered.
        r = cli_import(taizhang, tmp_path / "p2.csv", "persons", header,
                       [[NOBODY_F, "某人", "F", A, ""]], "--user", "alice")  # fmt: skip
        assert r.exit_code == 0, r.output

    def test_benefits_name_persons_of_the_area_only(self, taizhang, tmp_path, county):
        header = ["id_number", "scheme", "start_month"]

        def run(number):
            r = cli_import(taizhang, tmp_path / "e.csv", "enrolments", header,
                           [[number, "reward", "202401"]], "--user", "alice")  # fmt: skip
            return r.exit_code, unmasked(r.stderr, number)

        assert run(SUN) == run(NOBODY_F)
        assert run(SUN)[0] == 1


class TestCases:
    def test_a_petitioner_outside_the_area_is_not_linked(self, county):
        from taizhang.cases import actions

        def receive(number):
            return actions.receive(
                channel="visit",
                received_on=dt.date(2024, 3, 3),
                subject="土地",
                category="other",
                org_code=A,
                petitioner_name="某人",
                id_number=number,
                user=county.alice,
                today=dt.date(2024, 3, 4),
            )

        assert receive(SUN).petitioner_id is None
        assert receive(ZHAO).petitioner_id == county.zhao.pk


class TestLedgers:
    """The ledger village of ``test_ledgers`` (alice: 东街村 A; ben, made here: 西街村 B)."""

    @pytest.fixture
    def village(self, ledger_village, data_dir, taizhang, tmp_path):  # noqa: F811
        from helpers import make_user

        from taizhang.accounts.models import Role

        make_user("ben", Role.VILLAGE_WORKER, LEDGER_B)
        # A child of B registered by the county, born the day 黄燕's birth is returned.
        r = cli_import(taizhang, tmp_path / "kid.csv", "persons",
                       ["id_number", "name", "sex", "village"],
                       [[B_KID, "朱小龙", "M", LEDGER_B]])  # fmt: skip
        assert r.exit_code == 0, r.output
        return Person.objects.get(name="朱小龙")

    def test_a_returned_birth_naming_a_child_of_another_village_is_refused(
        self, village, taizhang, tmp_path
    ):
        from test_ledger_return import fill, printed

        before = snapshot(village)
        persons = Person.objects.count()
        row = {"date": dt.date(2026, 4, 5), "outcome": "活产", "delivery_place": "住院分娩",
               "child_name": "黄小四", "child_sex": "男"}  # fmt: skip
        path = fill(printed(taizhang, tmp_path, "births"), "births",
                    {1: {**row, "child_id_number": B_KID}})  # fmt: skip
        r = taizhang("ledger-return", path, "--user", "alice")
        assert r.exit_code == 1
        assert r.stderr.splitlines()[0] == f"row 1: child_id_number: {OUTSIDE_AREA}"
        assert "朱小龙" not in r.output
        assert snapshot(village) == before
        assert Person.objects.count() == persons
        # The county links him; alice's own new child is created.
        r = taizhang("ledger-return", path, "--dry-run")
        assert r.exit_code == 0, r.output
        own = make("410325", dt.date(2026, 4, 5), 47)
        path = fill(printed(taizhang, tmp_path, "births"), "births",
                    {1: {**row, "child_id_number": own}})  # fmt: skip
        r = taizhang("ledger-return", path, "--user", "alice")
        assert r.exit_code == 0, r.output
        assert Person.objects.get(id_index=crypto.blind_index(own)).current_village == LEDGER_A

    def test_a_row_of_a_person_who_has_moved_away_is_not_written(self, village, taizhang, tmp_path):
        # 黄燕 moves to B after her row was printed: alice's return writes nothing to her,
        # as for a person not in the register; ben's area now holds her.
        from test_ledger_return import fill, names, printed

        path = printed(taizhang, tmp_path, "checkup")
        n = names(path, "checkup").index("黄燕") + 1
        fill(path, "checkup", {n: {"date": dt.date(2026, 3, 25)}})
        r = cli_import(taizhang, tmp_path / "move.csv", "events", EVENT_HEADER,
                       [[HUANG, "move_within", "2026-04-01", "", "", "", "", "", LEDGER_B]])  # fmt: skip
        assert r.exit_code == 0, r.output
        huang = Person.objects.get(name="黄燕")
        before = snapshot(huang)
        r = taizhang("ledger-return", path, "--user", "alice")
        assert r.exit_code == 1
        assert f"row {n}: row_key: the person of this row is not in the register" in r.stderr
        assert snapshot(huang) == before

    def test_the_check_in_answers_an_outside_person_as_nobody(self, village, client):
        from taizhang.ledgers.models import Attendance

        def check_in(user, number):
            client.logout()
            client.force_login(user)
            data = {"kind": "checkup", "date": "2026-11-20", "stage": "", "code": number}
            r = client.post("/ledgers/check-in/", data, HTTP_HX_REQUEST="true")
            return r.status_code, unmasked(r.content.decode(), number)

        from django.contrib.auth import get_user_model

        ben = get_user_model().objects.get(username="ben")
        huang = Person.objects.get(name="黄燕")
        before = snapshot(huang)
        outside = check_in(ben, HUANG)
        nobody = check_in(ben, NOBODY_F)
        assert outside == nobody
        assert outside[0] == 404
        assert "No person with ID number ID lives in your area." in outside[1]
        assert snapshot(huang) == before
        assert not Attendance.objects.exists()
        # His own: 朱小龙 of B.
        assert check_in(ben, B_KID)[0] == 200
        assert Attendance.objects.get().person == village


LEDGER_A, LEDGER_B = "410325100201", "410325100202"
B_KID = make("410325", dt.date(2026, 4, 5), 45)  # a boy
HUANG = "410325199404040166"  # 黄燕 of A
