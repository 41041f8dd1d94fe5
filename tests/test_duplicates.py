"""Likely duplicate registrations: each reason on a hand-built register, the scores, twins
left out, the command's JSON and CSV, and the area of a user.

    410325 嵩县
      T1 = 410325100 城关镇: A = 410325100201 东街村, B = 410325100202 西街村
      T2 = 410325101 田湖镇: C = 410325101201 田湖村

    A  王秀英 F 1990-05-20 (410325…, seq 2)     C  王秀英 F 1990-05-20 (411122…, seq 2)
         → same name and birth date, nothing else: 0.70 (across the townships)
    A  李娜 F 1985-03-14 (seq 22)               A  李娜 F 1985-03-15 (seq 22)
         → ID numbers one digit apart (the day), birth dates differ: 0.50
    B  赵敏 F 1992-12-13 (seq 46)               B  赵敏 F 1992-12-31 (seq 46)
         → two adjacent digits swapped (13/31): 0.60
    B  张丽 F 1990-01-01 gives birth on 2020-03-01 to 张一 (seq 12), 张二 (seq 14) and
       张一 again (seq 124, a second registration of the same child):
         张一/张一 → same name and birth date, same mother and birth date: 0.82
         张一/张二 (twins, IDs one digit apart: 012/014) and 张二/张一: not listed
    C  刘洋 M 1980-01-01 (seq 11)               C  刘洋 F 1980-01-01 (seq 22)
         → same name and birth date but of different sex: 0.35, not listed
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from helpers import EVENT_HEADER, area_users, write_csv

from taizhang.lib.idnumber import make
from taizhang.register import duplicates
from taizhang.register.duplicates import (
    ONE_DIGIT,
    SAME_MOTHER_BIRTH,
    SAME_NAME_BIRTH,
    SWAPPED,
    likely_duplicates,
    score,
)
from taizhang.register.models import Person

pytestmark = pytest.mark.django_db

COUNTY, T1, T2 = "410325", "410325100", "410325101"
A, B, C = "410325100201", "410325100202", "410325101201"
WANG_A = make("410325", dt.date(1990, 5, 20), 2)
WANG_C = make("411122", dt.date(1990, 5, 20), 2)
LI_1 = make("410325", dt.date(1985, 3, 14), 22)
LI_2 = make("410325", dt.date(1985, 3, 15), 22)
ZHAO_1 = make("410325", dt.date(1992, 12, 13), 46)
ZHAO_2 = make("410325", dt.date(1992, 12, 31), 46)
MOTHER = make("410325", dt.date(1990, 1, 1), 8)
ZHANG_1 = make("410325", dt.date(2020, 3, 1), 12)
ZHANG_2 = make("410325", dt.date(2020, 3, 1), 14)
ZHANG_1_AGAIN = make("410325", dt.date(2020, 3, 1), 124)
LIU_M = make("410325", dt.date(1980, 1, 1), 11)
LIU_F = make("410325", dt.date(1980, 1, 1), 22)


def build(tmp_path, taizhang):
    files = (
        (
            "orgunits",
            ["code", "name", "parent"],
            [
                [COUNTY, "嵩县", ""],
                [T1, "城关镇", COUNTY],
                [A, "东街村", T1],
                [B, "西街村", T1],
                [T2, "田湖镇", COUNTY],
                [C, "田湖村", T2],
            ],
        ),
        (
            "persons",
            ["id_number", "name", "sex", "village"],
            [
                [WANG_A, "王秀英", "F", A],
                [WANG_C, "王秀英", "F", C],
                [LI_1, "李娜", "F", A],
                [LI_2, "李娜", "F", A],
                [ZHAO_1, "赵敏", "F", B],
                [ZHAO_2, "赵敏", "F", B],
                [MOTHER, "张丽", "F", B],
                [LIU_M, "刘洋", "M", C],
                [LIU_F, "刘洋", "F", C],
            ],
        ),
        (
            "events",
            EVENT_HEADER,
            [
                [MOTHER, "birth", "2020-03-01", "", ZHANG_1, "张一", "F", "facility"],
                [MOTHER, "birth", "2020-03-01", "", ZHANG_2, "张二", "F", "facility"],
                [MOTHER, "birth", "2020-03-01", "", ZHANG_1_AGAIN, "张一", "F", "facility"],
            ],
        ),
    )
    for kind, header, rows in files:
        r = taizhang("import", write_csv(tmp_path / f"{kind}.csv", header, rows), "--kind", kind)
        assert r.exit_code == 0, r.output


@pytest.fixture
def register(tmp_path, taizhang):
    build(tmp_path, taizhang)


def as_tuples(pairs):
    return [(p.a_id_number, p.b_id_number, list(p.reasons), p.score) for p in pairs]


def test_it_finds_each_reason_and_orders_by_score(register):
    assert as_tuples(likely_duplicates(COUNTY)) == [
        (ZHANG_1, ZHANG_1_AGAIN, [SAME_NAME_BIRTH, SAME_MOTHER_BIRTH], 0.82),
        (WANG_A, WANG_C, [SAME_NAME_BIRTH], 0.70),
        (ZHAO_1, ZHAO_2, [SWAPPED], 0.60),
        (LI_1, LI_2, [ONE_DIGIT], 0.50),
    ]


def test_a_is_the_person_registered_first(register):
    for pair in likely_duplicates(COUNTY):
        assert pair.a < pair.b
        numbers = dict(Person.objects.filter(pk__in=[pair.a, pair.b]).values_list("pk", "name"))
        assert set(numbers) == {pair.a, pair.b}


def test_twins_are_not_duplicates(register):
    # 张一 and 张二: the same mother and birth date, ID numbers one digit apart (012/014),
    # different names: twins.
    assert ZHANG_1[:17] != ZHANG_2[:17]
    assert sum(x != y for x, y in zip(ZHANG_1[:17], ZHANG_2[:17], strict=True)) == 1
    listed = {frozenset((p.a_id_number, p.b_id_number)) for p in likely_duplicates(COUNTY)}
    assert frozenset((ZHANG_1, ZHANG_2)) not in listed
    assert frozenset((ZHANG_2, ZHANG_1_AGAIN)) not in listed


def test_persons_of_different_sex_score_low(register):
    listed = {frozenset((p.a_id_number, p.b_id_number)) for p in likely_duplicates(COUNTY)}
    assert frozenset((LIU_M, LIU_F)) not in listed
    assert score({SAME_NAME_BIRTH}, same_name=True, same_sex=False) == 0.35


def test_the_scores_combine_the_reasons():
    assert score({SAME_NAME_BIRTH}, same_name=True, same_sex=True) == 0.70
    assert score({SAME_NAME_BIRTH, ONE_DIGIT}, same_name=True, same_sex=True) == 0.85
    assert score({SAME_NAME_BIRTH, SAME_MOTHER_BIRTH, SWAPPED}, same_name=True, same_sex=True) == (
        0.93
    )
    # Near numbers alone, with other names: people born the same day in the county.
    assert score({ONE_DIGIT}, same_name=False, same_sex=True) == 0.20
    assert score({SAME_MOTHER_BIRTH, ONE_DIGIT}, same_name=False, same_sex=True) == 0.28


def test_it_looks_inside_the_org_unit_only(register):
    # 王秀英's two records are in two townships: each township sees neither pair member's twin.
    assert as_tuples(likely_duplicates(T1)) == [
        (ZHANG_1, ZHANG_1_AGAIN, [SAME_NAME_BIRTH, SAME_MOTHER_BIRTH], 0.82),
        (ZHAO_1, ZHAO_2, [SWAPPED], 0.60),
        (LI_1, LI_2, [ONE_DIGIT], 0.50),
    ]
    assert as_tuples(likely_duplicates(A)) == [(LI_1, LI_2, [ONE_DIGIT], 0.50)]
    assert likely_duplicates(T2) == []


def test_it_leaves_out_merged_persons(register):
    second = Person.objects.get(name="李娜", birth_date=dt.date(1985, 3, 15))
    first = Person.objects.get(name="李娜", birth_date=dt.date(1985, 3, 14))
    Person.objects.filter(pk=second.pk).update(merged_into=first)
    assert as_tuples(likely_duplicates(A)) == []


def test_it_compares_every_position_without_comparing_every_pair():
    # Numbers one digit apart at the first and the last position of the 17, and a swap
    # of the first two digits, found among others that are not.
    people = [
        duplicates._Person(1, "甲", "F", "1990-01-01", None, "410325199001010021"),
        duplicates._Person(2, "甲", "F", "1990-01-02", None, "510325199001010021"),
        duplicates._Person(3, "乙", "F", "1990-01-03", None, "410325199001010031"),
        duplicates._Person(4, "丙", "F", "1990-01-04", None, "140325199001010021"),
        duplicates._Person(5, "丁", "F", "1990-01-05", None, "410325200001010021"),
    ]
    assert sorted(duplicates._near_numbers(people)) == [
        (1, 2, ONE_DIGIT),
        (1, 3, ONE_DIGIT),
        (1, 4, SWAPPED),
    ]


# ---------------------------------------------------------------------------
# The command


def test_the_command_gives_the_json_of_the_contract(register, taizhang):
    r = taizhang("duplicate-persons", "--org", T1, "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {
        "pairs": [
            {
                "a": ZHANG_1,
                "b": ZHANG_1_AGAIN,
                "reasons": ["same name and birth date", "same mother and birth date"],
                "score": 0.82,
            },
            {
                "a": ZHAO_1,
                "b": ZHAO_2,
                "reasons": ["ID numbers differ by two adjacent digits swapped"],
                "score": 0.6,
            },
            {"a": LI_1, "b": LI_2, "reasons": ["ID numbers one digit apart"], "score": 0.5},
        ]
    }


def test_the_command_neutralises_csv_cells(register, taizhang):
    Person.objects.filter(name="李娜").update(name='=HYPERLINK("http://x")')
    r = taizhang("duplicate-persons", "--org", A, "--format", "csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows == [
        ["a", "a_name", "a_village", "b", "b_name", "b_village", "reasons", "score"],
        [
            LI_1,
            '\'=HYPERLINK("http://x")',
            A,
            LI_2,
            '\'=HYPERLINK("http://x")',
            A,
            "ID numbers one digit apart",
            "0.5",
        ],
    ]


def test_the_command_refuses_an_unknown_org_unit(register, taizhang):
    r = taizhang("duplicate-persons", "--org", "999", "--format", "json")
    assert r.exit_code == 1
    assert r.output.strip() == "org unit 999 is not in the register"


def test_the_command_keeps_to_the_users_area(register, taizhang):
    users = area_users(a=A, c=C, township=T1, county=COUNTY)
    # charlie (village C) asks for the township of A: as if it did not exist.
    r = taizhang("duplicate-persons", "--org", T1, "--format", "json", "--user", "charlie")
    assert (r.exit_code, r.output.strip()) == (1, f"org unit {T1} is not in the register")
    # tom (the township) sees its pairs, with the ID numbers masked.
    r = taizhang("duplicate-persons", "--org", T1, "--format", "json", "--user", "tom")
    assert r.exit_code == 0, r.output
    first = json.loads(r.stdout)["pairs"][0]
    assert first["a"] == f"{ZHANG_1[:6]}********{ZHANG_1[-4:]}"
    # alice (village A) sees her village's pair in full, ada the county's four pairs.
    r = taizhang("duplicate-persons", "--org", A, "--format", "json", "--user", "alice")
    assert [p["a"] for p in json.loads(r.stdout)["pairs"]] == [LI_1]
    r = taizhang("duplicate-persons", "--org", COUNTY, "--format", "json", "--user", "ada")
    assert len(json.loads(r.stdout)["pairs"]) == 4
    assert users.ada.username == "ada"
    r = taizhang("duplicate-persons", "--org", T1, "--user", "nobody-of-that-name")
    assert (r.exit_code, r.output.strip()) == (1, "no account named nobody-of-that-name")


# ---------------------------------------------------------------------------
# The audit


def test_the_audit_counts_the_pairs_per_township(register):
    from taizhang.quality import checks

    result = checks.audit(COUNTY, "2024")
    check = next(c for c in result["checks"] if c["code"] == "DUPLICATE_PERSONS")
    assert check["status"] == "warn"
    assert check["thresholds"] == {"min_score": 0.4}
    # T1: 张一/张一, 赵敏, 李娜, and 王秀英 (the other in T2); T2: 王秀英.
    assert [(f["org"], f["status"], f["figures"]) for f in check["findings"]] == [
        (T1, "warn", {"pairs": 4, "across": 1}),
        (T2, "warn", {"pairs": 1, "across": 1}),
    ]
    assert check["findings"][1]["message"].startswith(
        "1 pair of persons is likely one person registered twice (1 with the other person "
        "in another township)"
    )
