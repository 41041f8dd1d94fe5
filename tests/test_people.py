"""The people pages: search, a person's record, recording an event.

The register (imported through `taizhang import`, as a county would):

    410325 嵩县
      410325100 城关镇
        A = 410325100201 东街村: 王秀英 (F 1990-05-20, phone 13800001234) married on
            2015-06-01 to 李建国 (M 1988-01-02), male sterilisation since 2020-03-01;
            household H1 holds both
        B = 410325100202 西街村: 王小红 (F 2016-03-01), household H2
      410325101 田湖镇
        C = 410325101201 田湖村: 张伟 (M 1985-07-07), household H3

Users: alice and bob (village workers of A), charlie (village worker of C: "must see
nothing" of A), tom (township statistician of 城关镇), ada (county administrator).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from helpers import EVENT_HEADER, area_users, write_csv

from taizhang import clock
from taizhang.audit.models import AuditEntry
from taizhang.indicators.engine import compute
from taizhang.lib.idnumber import make, mask
from taizhang.register.models import Event, Person

pytestmark = pytest.mark.django_db

A, B, C = "410325100201", "410325100202", "410325101201"
WOMAN = make("410325", dt.date(1990, 5, 20), 2)
MAN = make("410325", dt.date(1988, 1, 2), 1)
GIRL = make("410325", dt.date(2016, 3, 1), 4)
OTHER = make("410325", dt.date(1985, 7, 7), 3)
BABY = make("410325", dt.date(2024, 6, 30), 12)  # even sequence: a girl
PHONE = "13800001234"


def import_rows(taizhang, path, kind, header, rows):
    """Import rows with `taizhang import`; returns the CLI result."""
    return taizhang("import", write_csv(path, header, rows), "--kind", kind)


@pytest.fixture
def people(tmp_path, taizhang):
    """The register and users of the module docstring."""
    for kind, header, rows in (
        (
            "orgunits",
            ["code", "name", "parent"],
            [
                ["410325", "嵩县", ""],
                ["410325100", "城关镇", "410325"],
                [A, "东街村", "410325100"],
                [B, "西街村", "410325100"],
                ["410325101", "田湖镇", "410325"],
                [C, "田湖村", "410325101"],
            ],
        ),
        (
            "persons",
            ["id_number", "name", "sex", "village", "household", "phone"],
            [
                [WOMAN, "王秀英", "F", A, "H1", PHONE],
                [MAN, "李建国", "M", A, "H1", ""],
                [GIRL, "王小红", "F", B, "H2", ""],
                [OTHER, "张伟", "M", C, "H3", ""],
            ],
        ),
        (
            "events",
            EVENT_HEADER,
            [
                [WOMAN, "marriage", "2015-06-01", MAN],
                [MAN, "method_start", "2020-03-01", "", "", "", "", "", "", "male_sterilization"],
            ],
        ),
    ):
        r = import_rows(taizhang, tmp_path / f"{kind}.csv", kind, header, rows)
        assert r.exit_code == 0, r.output
    by_name = {p.name: p for p in Person.objects.all()}
    users = area_users(a=A, c=C, township="410325100", county="410325")
    users.woman, users.man = by_name["王秀英"], by_name["李建国"]
    users.girl, users.other = by_name["王小红"], by_name["张伟"]
    users.tmp_path = tmp_path
    return users


def found(client, user, **params) -> list[str]:
    """The names the people search lists for ``user``, searched as the page does: posted
    (a name search then goes on to its own address; a number's is answered at once)."""
    client.force_login(user)
    r = client.post(reverse("people"), params, follow=True)
    assert r.status_code == 200
    return [row.name for row in r.context["rows"]]


class TestSearch:
    def test_it_finds_a_person_by_pinyin_initials(self, client, people):
        assert found(client, people.alice, q="wxy") == ["王秀英"]
        assert found(client, people.alice, q="WX") == ["王秀英"]

    def test_it_finds_names_containing_the_text(self, client, people):
        assert found(client, people.tom, q="秀英") == ["王秀英"]
        assert found(client, people.tom, q="王") == ["王小红", "王秀英"]  # wxh before wxy

    def test_it_finds_a_whole_id_number_only(self, client, people):
        assert found(client, people.alice, q=WOMAN) == ["王秀英"]
        assert found(client, people.alice, q=WOMAN.lower()[:-1] + WOMAN[-1]) == ["王秀英"]
        assert found(client, people.alice, q=WOMAN[-4:]) == []
        assert found(client, people.alice, q=WOMAN[:-1]) == []

    def test_it_finds_an_exact_phone_number(self, client, people):
        assert found(client, people.alice, q="138 0000 1234") == ["王秀英"]
        assert found(client, people.alice, q="1234") == []

    def test_it_finds_a_household(self, client, people):
        assert found(client, people.alice, q="H1") == ["李建国", "王秀英"]

    def test_it_filters_by_sex_status_and_village(self, client, people):
        assert found(client, people.tom, sex="M") == ["李建国"]
        assert found(client, people.tom, village=B) == ["王小红"]
        assert found(client, people.tom, status="deceased") == []
        assert found(client, people.ada, sex="M") == ["李建国", "张伟"]

    @pytest.mark.parametrize(
        ("username", "q", "names"),
        [
            # Each kind of search in an area of each size: the database is asked in a
            # different way for each (see people.find_persons).
            ("alice", "王", ["王秀英"]),
            ("alice", "", ["李建国", "王秀英"]),
            ("tom", "w", ["王小红", "王秀英"]),
            ("tom", "", ["李建国", "王小红", "王秀英"]),
            ("ada", "王", ["王小红", "王秀英"]),
            ("ada", "伟", ["张伟"]),
            ("ada", "zw", ["张伟"]),
            ("ada", "", ["李建国", "王小红", "王秀英", "张伟"]),
            ("ada", OTHER, ["张伟"]),
        ],
    )
    def test_it_answers_each_kind_of_search_in_each_area(self, client, people, username, q, names):
        assert found(client, getattr(people, username), q=q) == names

    def test_it_refuses_a_village_outside_the_area(self, client, people):
        client.force_login(people.tom)
        r = client.get(reverse("people"), {"village": C})
        assert r.context["rows"] == []
        assert "village" in r.context["form"].errors

    def test_it_sends_only_the_results_to_htmx(self, client, people):
        client.force_login(people.alice)
        r = client.get(reverse("people"), {"q": "wxy"}, HTTP_HX_REQUEST="true")
        assert r.status_code == 200
        body = r.content.decode()
        assert "<html" not in body
        assert f'data-person="{people.woman.pk}"' in body

    def test_it_shows_the_age_today_and_the_village(self, client, people):
        client.force_login(people.alice)
        r = client.get(reverse("people"), {"q": "wxy"})
        [row] = r.context["rows"]
        today = clock.today()
        expected_age = today.year - 1990 - ((today.month, today.day) < (5, 20))
        assert (row.age, row.village, row.status_code) == (expected_age, "东街村", "resident")

    def test_it_pages_fifty_at_a_time(self, client, people, taizhang):
        rows = [
            [make("410325", dt.date(2000, 1, 1), 2 * i), f"王{i:02d}", "F", A] for i in range(60)
        ]
        r = import_rows(
            taizhang,
            people.tmp_path / "more.csv",
            "persons",
            ["id_number", "name", "sex", "village"],
            rows,
        )
        assert r.exit_code == 0, r.output
        client.force_login(people.alice)
        first = client.get(reverse("people"), {"q": "w"})
        second = client.get(reverse("people"), {"q": "w", "page": 2})
        assert first.context["page"].paginator.count == 61  # the 60 and 王秀英
        assert (len(first.context["rows"]), len(second.context["rows"])) == (50, 11)


class TestIdentity:
    def test_it_shows_the_whole_id_number_to_the_village_worker(self, client, people):
        client.force_login(people.alice)
        [row] = client.get(reverse("people"), {"q": "wxy"}).context["rows"]
        assert row.id_number == WOMAN

    def test_it_masks_the_id_number_for_the_township_statistician(self, client, people):
        client.force_login(people.tom)
        [row] = client.get(reverse("people"), {"q": "wxy"}).context["rows"]
        assert row.id_number == mask(WOMAN) == f"410325********{WOMAN[-4:]}"
        r = client.get(reverse("person", args=[people.woman.pk]))
        assert r.context["id_number"] == mask(WOMAN)
        assert r.context["phone"] == "*******1234"
        assert WOMAN not in r.content.decode()

    def test_it_shows_the_whole_id_number_to_the_county_administrator(self, client, people):
        client.force_login(people.ada)
        r = client.get(reverse("person", args=[people.woman.pk]))
        assert (r.context["id_number"], r.context["phone"]) == (WOMAN, PHONE)


class TestPersonPage:
    def test_it_shows_the_state_derived_today(self, client, people):
        client.force_login(people.alice)
        r = client.get(reverse("person", args=[people.woman.pk]))
        state = r.context["state"]
        assert (state.status, state.village, state.married, state.spouse) == (
            "resident",
            A,
            True,
            people.man.pk,
        )
        assert (state.methods, state.spouse_methods) == ([], ["male_sterilization"])
        assert (state.parity, state.pregnant) == (0, False)
        assert r.context["spouse"].pk == people.man.pk

    def test_it_lists_the_household_and_the_timeline_newest_first(self, client, people):
        client.force_login(people.alice)
        man = client.get(reverse("person", args=[people.man.pk])).context
        assert [m.name for m in man["members"]] == ["王秀英"]
        assert [(e.kind, e.date) for e in man["timeline"]] == [
            ("method_start", dt.date(2020, 3, 1)),
            ("marriage", dt.date(2015, 6, 1)),  # recorded on her row, shown on his page too
        ]
        assert man["state"].methods == ["male_sterilization"]

    def test_it_writes_one_audit_entry_per_view(self, client, people):
        client.force_login(people.bob)
        before = AuditEntry.objects.filter(action="person_view").count()
        client.get(reverse("person", args=[people.woman.pk]))
        entries = AuditEntry.objects.filter(action="person_view")
        assert entries.count() == before + 1
        entry = entries.first()
        assert (entry.user, entry.object_type, entry.object_id, entry.org_code, entry.source) == (
            people.bob,
            "person",
            str(people.woman.pk),
            A,
            "127.0.0.1",
        )

    def test_it_hides_a_mother_outside_the_area(self, client, people, taizhang):
        # A mother in village B whose child moved to village A: alice sees the child, and
        # that the mother is registered, but not who she is.
        mother = make("410325", dt.date(1992, 2, 2), 6)
        child = make("410325", dt.date(2024, 6, 30), 16)
        header = ["id_number", "name", "sex", "village"]
        r = import_rows(
            taizhang, people.tmp_path / "m.csv", "persons", header, [[mother, "赵敏", "F", B]]
        )
        assert r.exit_code == 0, r.output
        r = import_rows(
            taizhang,
            people.tmp_path / "birth.csv",
            "events",
            EVENT_HEADER,
            [
                [mother, "birth", "2024-06-30", "", child, "赵小明", "F", "home"],
                [child, "move_within", "2024-08-01", "", "", "", "", "", A],
            ],
        )
        assert r.exit_code == 0, r.output
        client.force_login(people.alice)
        kid = Person.objects.get(name="赵小明")
        page = client.get(reverse("person", args=[kid.pk]))
        assert page.context["mother"].pk is None
        assert "赵敏" not in page.content.decode()


def post_event(client, user, person, kind, **values):
    client.force_login(user)
    return client.post(reverse("record_event", args=[person.pk, kind]), values)


def births_2024(org: str) -> int:
    [births] = compute(org, "2024", ["BIRTHS"])["indicators"]
    return births["numerator"]


class TestRecordEvent:
    def test_it_records_a_birth_creates_the_child_and_counts_it_at_once(self, client, people):
        assert births_2024(A) == 0
        r = post_event(
            client,
            people.alice,
            people.woman,
            "birth",
            date="2024-06-30",
            child_id_number=BABY,
            child_name="李小花",
            child_sex="F",
            delivery_place="facility",
            birth_weight_g="3200",
        )
        assert r.status_code == 302
        assert r.url == reverse("person", args=[people.woman.pk])
        child = Person.objects.get(name="李小花")
        assert (child.mother_id, child.sex, child.birth_date, child.current_village) == (
            people.woman.pk,
            "F",
            dt.date(2024, 6, 30),
            A,
        )
        assert child.household_id == people.woman.household_id
        assert births_2024(A) == 1
        assert births_2024("410325101") == 0
        event = Event.objects.get(kind="birth")
        assert (event.recorded_by, event.birth_weight_g) == (people.alice, 3200)
        entry = AuditEntry.objects.get(action="event_record")
        assert (entry.object_id, entry.org_code, entry.detail) == (
            str(people.woman.pk),
            A,
            {"kind": "birth", "date": "2024-06-30", "event": event.pk, "child": child.pk},
        )
        page = client.get(reverse("person", args=[people.woman.pk])).context
        assert page["state"].parity == 1
        assert [c.name for c in page["children"]] == ["李小花"]

    def test_it_shows_the_import_sentence_for_a_bad_field(self, client, people, taizhang):
        values = {
            "date": "2024-07-01",
            "child_id_number": BABY,
            "child_name": "李小花",
            "child_sex": "F",
            "delivery_place": "facility",
        }
        r = post_event(client, people.alice, people.woman, "birth", **values)
        message = "the child's ID number gives birth date 2024-06-30, not 2024-07-01"
        assert r.status_code == 400
        assert r.context["form"].errors["child_id_number"] == [message]
        imported = import_rows(
            taizhang,
            people.tmp_path / "bad.csv",
            "events",
            EVENT_HEADER,
            [[WOMAN, "birth", "2024-07-01", "", BABY, "李小花", "F", "facility"]],
        )
        assert f"row 1: child_id_number: {message}" in imported.stderr.splitlines()
        assert not Person.objects.filter(name="李小花").exists()

    def test_it_shows_the_import_sentence_for_what_the_register_refuses(
        self, client, people, taizhang
    ):
        r = post_event(
            client,
            people.alice,
            people.woman,
            "marriage",
            date="2024-01-01",
            spouse_id_number=OTHER,
        )
        message = (
            "the person is already married (since 2015-06-01); record a divorce or widowhood first"
        )
        assert r.context["form"].non_field_errors() == [message]
        imported = import_rows(
            taizhang,
            people.tmp_path / "bad.csv",
            "events",
            EVENT_HEADER,
            [[WOMAN, "marriage", "2024-01-01", OTHER]],
        )
        assert f"row 1: event: {message}" in imported.stderr.splitlines()
        assert Event.objects.filter(kind="marriage").count() == 1

    def test_it_names_the_empty_field_as_the_import_does(self, client, people):
        r = post_event(client, people.alice, people.man, "method_start", date="2024-01-01")
        assert r.context["form"].errors["method"] == [
            "(empty) is not a method: use iud|implant|injectable|pill|condom|"
            "female_sterilization|male_sterilization|other"
        ]

    def test_it_refuses_a_move_to_a_village_outside_the_area(self, client, people):
        r = post_event(
            client, people.alice, people.woman, "move_within", date="2024-02-01", village=B
        )
        assert r.status_code == 400
        assert r.context["form"].errors["village"] == [f"village {B} is outside your area"]
        assert not Event.objects.filter(kind="move_within").exists()

    def test_it_lets_the_township_move_a_person_between_its_villages(self, client, people):
        r = post_event(
            client, people.tom, people.woman, "move_within", date="2024-02-01", village=B
        )
        assert r.status_code == 302
        people.woman.refresh_from_db()
        assert people.woman.current_village == B
        # Alice's village no longer holds her record: she is out of alice's area now.
        client.force_login(people.alice)
        assert client.get(reverse("person", args=[people.woman.pk])).status_code == 404

    def test_it_does_not_record_the_same_event_twice(self, client, people):
        values = {"date": "2024-03-03", "findings": "贫血"}
        assert (
            post_event(client, people.alice, people.woman, "checkup", **values).status_code == 302
        )
        assert post_event(client, people.bob, people.woman, "checkup", **values).status_code == 302
        assert Event.objects.filter(kind="checkup").count() == 1
        assert AuditEntry.objects.filter(action="event_record").count() == 1

    def test_it_offers_a_form_for_every_kind_of_event(self, client, people):
        from taizhang.imports.events import KINDS

        client.force_login(people.alice)
        for kind in KINDS:
            r = client.get(reverse("record_event", args=[people.woman.pk, kind]))
            assert r.status_code == 200, kind
            assert "date" in r.context["form"].fields

    def test_it_refuses_an_unknown_kind(self, client, people):
        client.force_login(people.alice)
        r = client.get(reverse("record_event", args=[people.woman.pk, "void"]))
        assert r.status_code == 404
