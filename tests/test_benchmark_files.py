"""The benchmark's import files: a small set checked against the register's rules.

``benchmarks/make_import_files.py`` writes the files the import benchmark loads. Here a
small set (200 persons, 2,000 events) is written and replayed in plain Python, in date
order, against the rules of docs/imports.md: valid ID numbers, nothing before a
person's birth, after their death or in the future, births only to resident women aged
15-49, marriages only of unmarried adults, methods only started when not in use and
stopped when in use, moves consistent with where the person lives. The replay is written
independently of the generator so that a mistake in either shows up here.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LATEST = dt.date(2026, 11, 29)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Within one day the register applies events in this order (a move in before anything
# else, a stop before a start, a death last).
DAY_ORDER = [
    "move_in", "move_within", "marriage", "divorce", "widowhood", "pregnancy", "outcome",
    "birth", "method_stop", "method_start", "checkup", "screening", "followup", "education",
    "move_out", "death",
]  # fmt: skip
METHODS = {
    "iud", "implant", "injectable", "pill", "condom", "female_sterilization",
    "male_sterilization", "other",
}  # fmt: skip
MEN_METHODS = {"condom", "male_sterilization"}
STAGES = {"newlywed", "pregnancy", "lactation", "childrearing", "menopause"}


def _generator():
    """The generator script, loaded as a module (benchmarks/ is not a package)."""
    name = "make_import_files"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def small_set(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    _generator().generate(persons=200, events=2000, seed=7, out=out)
    return out


# ---------------------------------------------------------------------------
# An independent reading of the files


def id_valid(number: str) -> bool:
    """GB 11643: 17 digits, a real birth date, and the check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], WEIGHTS, strict=True))
    return number[17] == "10X98765432"[total % 11]


def id_birth(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def id_sex(number: str) -> str:
    return "M" if int(number[16]) % 2 else "F"


def age(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def problems_in(folder: Path) -> list[str]:
    """Every way the three files contradict the register's rules, as sentences."""
    out: list[str] = []
    orgs = read(folder / "orgunits.csv")
    parent = {o["code"]: o["parent"] for o in orgs}
    villages = {c for c in parent if len(c) == 12}
    for code, up in parent.items():
        if up and (up not in parent or not code.startswith(up)):
            out.append(f"org unit {code}: parent {up} is not a prefix in the file")

    persons: dict[str, dict[str, str]] = {}
    for n, p in enumerate(read(folder / "persons.csv"), start=1):
        idn = p["id_number"]
        if not id_valid(idn) or idn[:6] != "410325":
            out.append(f"persons row {n}: {idn} is not a valid ID of region 410325")
            continue
        if idn in persons:
            out.append(f"persons row {n}: {idn} appears twice")
        if p["birth_date"] != id_birth(idn).isoformat() or p["sex"] != id_sex(idn):
            out.append(f"persons row {n}: birth date or sex disagrees with the ID number")
        if p["village"] not in villages or (
            p["hukou_village"] and p["hukou_village"] not in villages
        ):
            out.append(f"persons row {n}: unknown village")
        persons[idn] = p

    events = read(folder / "events.csv")
    first_move: dict[str, str] = {}
    for e in sorted(events, key=lambda e: (e["date"], DAY_ORDER.index(e["event"]))):
        if e["event"].startswith("move"):
            first_move.setdefault(e["id_number"], e["event"])

    sex = {idn: id_sex(idn) for idn in persons}
    birth = {idn: id_birth(idn) for idn in persons}
    village = {idn: p["village"] for idn, p in persons.items() if first_move.get(idn) != "move_in"}
    spouse: dict[str, str] = {}
    couple_days: set[tuple[str, str, frozenset]] = set()  # a couple's second row of one event
    methods: dict[str, set[str]] = {}
    pregnant: dict[str, dt.date] = {}
    dead: dict[str, dt.date] = {}
    seen: set[tuple[str, str, str]] = set()

    order = sorted(
        range(len(events)),
        key=lambda i: (events[i]["date"], DAY_ORDER.index(events[i]["event"]), i),
    )
    for i in order:
        e = events[i]
        row, who, kind = i + 1, e["id_number"], e["event"]
        day = dt.date.fromisoformat(e["date"])
        where = f"events row {row} ({kind} on {day})"
        if who not in birth:
            out.append(f"{where}: {who} is not a registered person")
            continue
        if day > LATEST or day < birth[who] or who in dead:
            out.append(f"{where}: dated in the future, before birth or after death")
            continue
        if kind != "birth" and (who, kind, e["date"]) in seen:
            out.append(f"{where}: a second {kind} the same day")
        seen.add((who, kind, e["date"]))
        if kind in ("marriage", "divorce"):
            other = e["spouse_id_number"]
            key = (kind, e["date"], frozenset((who, other)))
            if key in couple_days:  # the other spouse's row of the same event
                continue
            couple_days.add(key)
            if not id_valid(other) or id_sex(other) == sex[who]:
                out.append(f"{where}: the spouse's ID is invalid or of the same sex")
            if kind == "marriage":
                adult = 20 if sex[who] == "F" else 22
                if who in spouse or age(birth[who], day) < adult:
                    out.append(f"{where}: the person is married already or under {adult}")
                if other in birth and (other in spouse or other in dead):
                    out.append(f"{where}: the registered spouse is married already or dead")
                spouse[who] = other
                if other in birth:
                    spouse[other] = who
            else:
                if spouse.get(who) != other:
                    out.append(f"{where}: the person is not married to {other}")
                spouse.pop(who, None)
                if other in birth:
                    spouse.pop(other, None)
        elif kind == "widowhood":
            if who not in spouse or spouse[who] in birth:
                out.append(f"{where}: not married to a spouse outside the register")
            spouse.pop(who, None)
        elif kind in ("pregnancy", "outcome", "birth") and sex[who] != "F":
            out.append(f"{where}: recorded for a man")
        elif kind == "pregnancy":
            if who in pregnant and (day - pregnant[who]).days < 300:
                out.append(f"{where}: a pregnancy is already registered")
            pregnant[who] = day
        elif kind == "outcome":
            if e["outcome"] not in ("stillbirth", "miscarriage", "induced_abortion"):
                out.append(f"{where}: outcome {e['outcome']!r}")
            pregnant.pop(who, None)
        elif kind == "birth":
            child = e["child_id_number"]
            if not 15 <= age(birth[who], day) <= 49 or village.get(who) is None:
                out.append(f"{where}: the mother is not a resident woman aged 15-49")
            if not id_valid(child) or child in birth or id_birth(child) != day:
                out.append(f"{where}: the child's ID is invalid, known already or of another day")
            elif id_sex(child) != e["child_sex"] or not e["child_name"]:
                out.append(f"{where}: the child's sex disagrees with the ID, or no name")
            if e["delivery_place"] not in ("facility", "home"):
                out.append(f"{where}: delivery place {e['delivery_place']!r}")
            pregnant.pop(who, None)
            birth[child], sex[child], village[child] = day, id_sex(child), village.get(who)
        elif kind == "method_start":
            m = e["method"]
            using = methods.setdefault(who, set())
            if m not in METHODS or m in using:
                out.append(f"{where}: method {m!r} unknown or already in use")
            if (sex[who] == "M") != (m in MEN_METHODS) and not (sex[who] == "F" and m == "condom"):
                out.append(f"{where}: {m} is not a method for this sex")
            using.add(m)
        elif kind == "method_stop":
            if e["method"] not in methods.get(who, set()):
                out.append(f"{where}: method {e['method']!r} is not in use")
            methods.get(who, set()).discard(e["method"])
        elif kind == "move_in":
            if village.get(who) is not None or e["village"] not in villages:
                out.append(f"{where}: already resident, or unknown village")
            village[who] = e["village"]
        elif kind == "move_within":
            if village.get(who) in (None, e["village"]) or e["village"] not in villages:
                out.append(f"{where}: not resident, or not a move to another village")
            village[who] = e["village"]
        elif kind == "move_out":
            if village.get(who) is None:
                out.append(f"{where}: not resident")
            village[who] = None
        elif kind == "death":
            dead[who] = day
            if who in spouse:
                spouse.pop(spouse.pop(who), None)
        elif kind == "education" and e["stage"] not in STAGES:
            out.append(f"{where}: stage {e['stage']!r}")
    return out


# ---------------------------------------------------------------------------


def test_it_computes_the_check_character_of_the_standard_examples():
    gen = _generator()
    assert gen.check_digit("11010519491231002") == "X"
    assert gen.check_digit("44052418800101001") == "4"
    assert id_valid("11010519491231002X")
    assert not id_valid("110105194912310021")


def test_it_writes_the_county_tree(small_set):
    orgs = read(small_set / "orgunits.csv")
    levels = Counter(len(o["code"]) for o in orgs)
    assert levels == {6: 1, 9: 16, 12: 317}
    assert orgs[0] == {"code": "410325", "name": "嵩县", "parent": ""}
    assert {"code": "410325100", "name": "城关镇", "parent": "410325"} in orgs
    assert {"code": "410325115", "name": "木植街乡", "parent": "410325"} in orgs


def test_it_writes_the_persons_and_events_asked_for(small_set):
    persons = read(small_set / "persons.csv")
    events = read(small_set / "events.csv")
    assert len(persons) == 200
    assert len({p["id_number"] for p in persons}) == 200
    assert len(events) == 2000
    assert list(events[0]) == _generator().EVENT_COLUMNS


def test_it_writes_files_that_agree_with_the_register_rules(small_set):
    assert problems_in(small_set) == []


def test_it_mostly_writes_service_events(small_set):
    kinds = Counter(e["event"] for e in read(small_set / "events.csv"))
    services = kinds["checkup"] + kinds["screening"] + kinds["followup"] + kinds["education"]
    assert services > 0.75 * 2000
    assert kinds["marriage"] > 0 and kinds["birth"] > 0 and kinds["method_start"] > 0


def test_it_writes_the_same_bytes_for_the_same_arguments(small_set, tmp_path):
    _generator().generate(persons=200, events=2000, seed=7, out=tmp_path)
    for name in ("orgunits.csv", "persons.csv", "events.csv"):
        assert (tmp_path / name).read_bytes() == (small_set / name).read_bytes()


def test_the_replay_finds_a_birth_to_a_man_and_an_event_after_death(small_set, tmp_path):
    # The checker above must be able to fail: plant two contradictions in a copy.
    for name in ("orgunits.csv", "persons.csv"):
        (tmp_path / name).write_bytes((small_set / name).read_bytes())
    persons = read(small_set / "persons.csv")
    man = next(p for p in persons if p["sex"] == "M" and p["birth_date"] < "1990")
    woman = next(p for p in persons if p["sex"] == "F" and p["birth_date"] < "1990")
    child = _generator().make_id("410325", dt.date(2024, 3, 1), 15)
    text = (small_set / "events.csv").read_text(encoding="utf-8")
    text += f"{man['id_number']},birth,2024-03-01,,,{child},李明,M,facility,3300,,,,,,\n"
    text += f"{woman['id_number']},death,2022-01-01,,,,,,,,,,,,,\n"
    text += f"{woman['id_number']},checkup,2023-01-01,,,,,,,,,,,,,\n"
    (tmp_path / "events.csv").write_text(text, encoding="utf-8")
    found = problems_in(tmp_path)
    assert "events row 2001 (birth on 2024-03-01): recorded for a man" in found
    assert (
        "events row 2003 (checkup on 2023-01-01): dated in the future, before birth or after death"
        in found
    )


@pytest.mark.django_db
def test_the_importer_accepts_all_three_files(small_set, taizhang):
    from taizhang.register.models import Person

    births = sum(1 for e in read(small_set / "events.csv") if e["event"] == "birth")
    for name in ("orgunits", "persons", "events"):
        result = taizhang("import", small_set / f"{name}.csv", "--kind", name)
        assert result.exit_code == 0, result.output
    # The 200 registered persons and one new person per child born.
    assert Person.objects.count() == 200 + births
