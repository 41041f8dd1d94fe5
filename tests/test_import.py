"""`taizhang import`: every bad-input rule reports its row, column and reason, and writes nothing."""

import datetime as dt
import json

import pytest
from helpers import EVENT_HEADER, write_csv

from taizhang.lib.idnumber import make
from taizhang.register.models import Event, Person, ResidenceSpell, UnionSpell

pytestmark = pytest.mark.django_db

V1, V2, V3 = "410325100201", "410325100202", "410325101201"
WOMAN = make("410325", dt.date(1990, 5, 20), 2)  # even sequence: female
MAN = make("410325", dt.date(1988, 1, 2), 1)
GIRL = make("410325", dt.date(2016, 3, 1), 4)
OTHER_MAN = make("410325", dt.date(1985, 7, 7), 3)
BABY = make("410325", dt.date(2024, 6, 30), 12)
BABY2 = make("410325", dt.date(2024, 6, 30), 14)
OUTSIDER = make("410221", dt.date(1991, 9, 9), 5)


@pytest.fixture
def county(tmp_path, taizhang):
    orgs = write_csv(
        tmp_path / "orgunits.csv",
        ["code", "name", "parent"],
        [
            ["410325", "嵩县", ""],
            ["410325100", "城关镇", "410325"],
            [V1, "东街村", "410325100"],
            [V2, "西街村", "410325100"],
            ["410325101", "田湖镇", "410325"],
            [V3, "田湖村", "410325101"],
        ],
    )
    persons = write_csv(
        tmp_path / "persons.csv",
        ["id_number", "name", "sex", "birth_date", "village", "household"],
        [
            [WOMAN, "王秀英", "F", "1990-05-20", V1, "H1"],
            [MAN, "李建国", "M", "", V1, "H1"],
            [GIRL, "王小红", "女", "", V2, "H2"],
            [OTHER_MAN, "张伟", "男", "", V3, "H3"],
        ],
    )
    for path, kind in ((orgs, "orgunits"), (persons, "persons")):
        r = taizhang("import", path, "--kind", kind)
        assert r.exit_code == 0, r.output
    return tmp_path


def events_file(tmp_path, rows, name="events.csv"):
    full = [row + [""] * (len(EVENT_HEADER) - len(row)) for row in rows]
    return write_csv(tmp_path / name, EVENT_HEADER, full)


def assert_refused(result, *lines):
    assert result.exit_code == 1, result.output
    for line in lines:
        assert line in result.stderr.splitlines(), result.stderr


class TestOrgUnits:
    def test_it_refuses_a_code_of_the_wrong_length(self, tmp_path, taizhang):
        path = write_csv(
            tmp_path / "o.csv",
            ["code", "name", "parent"],
            [["410325", "嵩县", ""], ["41032510", "x", "410325"]],
        )
        r = taizhang("import", path, "--kind", "orgunits")
        assert_refused(
            r, "row 2: code: 41032510 is not an org-unit code of 2, 4, 6, 9 or 12 digits"
        )
        from taizhang.orgunits.models import OrgUnit

        assert OrgUnit.objects.count() == 0

    def test_it_refuses_a_child_whose_code_does_not_start_with_its_parents(
        self, tmp_path, taizhang
    ):
        path = write_csv(
            tmp_path / "o.csv",
            ["代码", "名称", "上级代码"],
            [["410325", "嵩县", ""], ["410326100", "x", "410325"]],
        )
        r = taizhang("import", path, "--kind", "orgunits")
        assert_refused(
            r, "row 2: parent: code 410326100 does not start with its parent's code 410325"
        )


class TestPersons:
    def test_it_imports_and_encrypts_the_id_number(self, county):
        woman = Person.objects.get(name="王秀英")
        assert WOMAN.encode() not in bytes(woman.id_cipher)
        assert (woman.sex, woman.birth_date, woman.current_village) == (
            "F",
            dt.date(1990, 5, 20),
            V1,
        )
        assert list(
            ResidenceSpell.objects.filter(person=woman).values_list("village", "start", "end")
        ) == [(V1, 19900520, 99991231)]

    def test_it_changes_nothing_when_the_same_file_comes_twice(self, county, taizhang):
        r = taizhang("import", county / "persons.csv", "--kind", "persons")
        assert r.exit_code == 0
        assert "created 0" in r.stdout and "unchanged 4" in r.stdout
        assert Person.objects.count() == 4

    def test_it_refuses_a_wrong_check_digit(self, county, taizhang):
        bad = WOMAN[:-1] + ("0" if WOMAN[-1] != "0" else "1")
        path = write_csv(
            county / "p.csv", ["id_number", "name", "sex", "village"], [[bad, "甲", "F", V1]]
        )
        r = taizhang("import", path, "--kind", "persons")
        assert r.exit_code == 1
        assert r.stderr.startswith("row 1: id_number: ") and "check digit" in r.stderr

    def test_it_tells_to_format_an_excel_number_column_as_text(self, county, taizhang):
        path = write_csv(
            county / "p.csv",
            ["id_number", "name", "sex", "village"],
            [["4.10325E+17", "甲", "F", V1]],
        )
        r = taizhang("import", path, "--kind", "persons")
        assert r.exit_code == 1 and "format the column as text" in r.stderr

    def test_it_refuses_a_sex_or_birth_date_that_disagrees_with_the_id(self, county, taizhang):
        new_woman = make("410325", dt.date(1995, 1, 1), 8)
        path = write_csv(
            county / "p.csv",
            ["id_number", "name", "sex", "birth_date", "village"],
            [[new_woman, "甲", "M", "", V1], [new_woman, "甲", "F", "1995-01-02", V1]],
        )
        r = taizhang("import", path, "--kind", "persons")
        assert_refused(
            r,
            "row 1: sex: M does not agree with the ID number (female)",
            "row 2: birth_date: 1995-01-02 does not agree with the ID number (1995-01-01)",
        )
        assert Person.objects.count() == 4

    def test_it_refuses_an_unknown_village(self, county, taizhang):
        path = write_csv(
            county / "p.csv",
            ["id_number", "name", "sex", "village"],
            [[make("410325", dt.date(1995, 1, 1), 8), "甲", "F", "410325100299"]],
        )
        r = taizhang("import", path, "--kind", "persons")
        assert_refused(r, "row 1: village: village 410325100299 is not in the register")

    def test_it_reads_gb18030_with_chinese_headers(self, county, taizhang):
        path = write_csv(
            county / "gb.csv",
            ["身份证号", "姓名", "性别", "现居住地代码"],
            [[make("410325", dt.date(1999, 9, 9), 6), "赵敏", "女", V3]],
            encoding="gb18030",
        )
        r = taizhang("import", path, "--kind", "persons")
        assert r.exit_code == 0, r.output
        assert Person.objects.get(name="赵敏").current_village == V3


class TestEvents:
    def test_it_reports_every_contradiction_and_writes_nothing(self, county, taizhang):
        path = events_file(
            county,
            [
                [WOMAN, "marriage", "2012-10-01", MAN],  # 1 fine on its own
                [
                    MAN,
                    "birth",
                    "2024-06-30",
                    "",
                    BABY,
                    "小宝",
                    "F",
                    "facility",
                ],  # 2 a birth to a man
                [GIRL, "birth", "2024-06-30", "", BABY2, "小花", "F", "facility"],  # 3 a girl of 8
                [OTHER_MAN, "death", "1980-01-01"],  # 4 death before birth
                [WOMAN, "marriage", "2020-01-01", OTHER_MAN],  # 5 second marriage
                [WOMAN, "checkup", "2030-01-01"],  # 6 in the future
                [OUTSIDER, "checkup", "2024-01-01"],  # 7 unknown person
                [WOMAN, "move_within", "2024-01-01", "", "", "", "", "", "410325100299"],  # 8
                [MAN, "death", "2024-07-01"],  # 9 fine on its own
                [MAN, "checkup", "2024-08-01"],  # 10 after death
            ],
        )
        r = taizhang("import", path, "--kind", "events")
        assert r.exit_code == 1
        lines = r.stderr.splitlines()
        assert lines[:-1] == [
            "row 2: event: a birth cannot be recorded for a man",
            "row 3: event: the mother was 8 years old on 2024-06-30 (under 10)",
            "row 4: date: death on 1980-01-01 is before the person's birth on 1985-07-07",
            "row 5: event: the person is already married (since 2012-10-01); record a divorce or widowhood first",
            "row 6: date: 2030-01-01 is in the future",
            f"row 7: id_number: no person with ID number {OUTSIDER[:6]}********{OUTSIDER[-4:]} is in the register",
            "row 8: village: village 410325100299 is not in the register",
            "row 10: date: the person died on 2024-07-01; no checkup event can follow",
        ]
        assert Event.objects.count() == 0 and Person.objects.count() == 4

    def test_it_records_a_couples_marriage_once_and_changes_nothing_twice(self, county, taizhang):
        path = events_file(
            county,
            [
                [WOMAN, "marriage", "2012-10-01", MAN],
                [MAN, "marriage", "2012-10-01", WOMAN],
                [WOMAN, "birth", "2024-06-30", "", BABY, "小宝", "F", "home"],
            ],
        )
        r = taizhang("import", path, "--kind", "events")
        assert r.exit_code == 0, r.output
        assert Event.objects.filter(kind="marriage").count() == 1
        assert UnionSpell.objects.count() == 2
        baby = Person.objects.get(name="小宝")
        assert (baby.mother.name, baby.current_village, baby.birth_date) == (
            "王秀英",
            V1,
            dt.date(2024, 6, 30),
        )
        before = Event.objects.count()
        r = taizhang("import", path, "--kind", "events")
        assert r.exit_code == 0, r.output
        assert (Event.objects.count(), Person.objects.count()) == (before, 5)

    def test_it_widows_the_wife_when_the_registered_husband_dies(self, county, taizhang):
        taizhang(
            "import",
            events_file(county, [[WOMAN, "marriage", "2012-10-01", MAN]], "a.csv"),
            "--kind",
            "events",
        )
        r = taizhang(
            "import",
            events_file(county, [[MAN, "death", "2024-03-15"]], "b.csv"),
            "--kind",
            "events",
        )
        assert r.exit_code == 0, r.output
        wife = UnionSpell.objects.get(person__name="王秀英")
        assert (wife.end, wife.end_reason) == (20240315, "widowhood")

    def test_it_writes_the_errors_as_json_and_a_dry_run_writes_nothing(self, county, taizhang):
        bad = events_file(county, [[WOMAN, "checkup", "2030-01-01"]], "bad.csv")
        out = county / "errors.json"
        r = taizhang("import", bad, "--kind", "events", "--errors-json", out)
        assert r.exit_code == 1
        assert json.loads(out.read_text()) == [
            {"row": 1, "column": "date", "message": "2030-01-01 is in the future"}
        ]
        good = events_file(county, [[WOMAN, "checkup", "2024-01-01"]], "good.csv")
        r = taizhang("import", good, "--kind", "events", "--dry-run")
        assert r.exit_code == 0 and Event.objects.count() == 0


class TestCorrections:
    def test_it_retracts_a_death_and_the_person_lives_again(self, county, taizhang):
        from django.db import transaction

        from taizhang.register import actions

        taizhang(
            "import",
            events_file(county, [[MAN, "death", "2024-07-01"]], "d.csv"),
            "--kind",
            "events",
        )
        death = Event.objects.get(kind="death")
        with transaction.atomic():
            outcome = actions.correct_event(
                death.pk, replacement=None, reason="recorded for the wrong man"
            )
        assert outcome.problems == []
        man = Person.objects.get(name="李建国")
        assert (man.status, man.current_village) == ("resident", V1)
        assert list(ResidenceSpell.objects.filter(person=man).values_list("end", flat=True)) == [
            99991231
        ]
        # The death stays in the record, superseded by a void event that names it.
        assert Event.objects.get(supersedes=death).kind == "void"

    def test_it_refuses_a_correction_that_contradicts_the_register(self, county, taizhang):
        from django.db import transaction

        from taizhang.register import actions
        from taizhang.register.timeline import EventFacts

        taizhang(
            "import",
            events_file(
                county,
                [
                    [WOMAN, "move_within", "2023-05-01", "", "", "", "", "", V2],
                    [WOMAN, "checkup", "2024-01-01"],
                ],
                "m.csv",
            ),
            "--kind",
            "events",
        )
        checkup = Event.objects.get(kind="checkup")
        with transaction.atomic():
            outcome = actions.correct_event(
                checkup.pk,
                replacement=EventFacts(kind="death", date=dt.date(1980, 1, 1), person=0),
            )
        assert [p.message for p in outcome.problems] == [
            "death on 1980-01-01 is before the person's birth on 1990-05-20"
        ]
        assert Event.objects.count() == 2
        assert Person.objects.get(name="王秀英").current_village == V2
