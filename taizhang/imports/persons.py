"""Import of persons (docs/imports.md, "persons").

The ID number must be valid (GB 11643 check digit) and agree with ``sex`` and
``birth_date``; ``village`` must be a village of the register. A person already
in the register (same ID number) is updated where their attributes changed —
except the village they were registered in: a change of residence is a move
event, not an edit.

A user with an org unit (``taizhang.accounts.scope.write_area``) registers persons in
its villages only, and cannot touch a person registered outside it: such a row is refused
with a sentence that says nothing of that person (``OUTSIDE_AREA``), neither updated nor
created a second time (docs/imports.md, "Writes across areas").
"""

from __future__ import annotations

from taizhang.accounts.scope import within, write_area
from taizhang.audit.actions import record as audit
from taizhang.figures.store import declared_before
from taizhang.imports import fields
from taizhang.imports.fields import FieldError
from taizhang.lib import crypto, idnumber
from taizhang.lib.pinyin import initials
from taizhang.orgunits.models import OrgUnit
from taizhang.register import actions, db
from taizhang.register.models import Household, Person

OUTSIDE_AREA = (
    "this ID number is already registered outside your area: ask the county to record this person"
)

ATTRIBUTES = (
    "name",
    "hukou_village",
    "household",
    "phone_index",
    "ethnicity",
    "live_births_before",
)


def run(ctx) -> dict[str, int]:
    table, errors, today = ctx.table, ctx.errors, ctx.today
    ix = table.index
    villages = set(OrgUnit.objects.villages().values_list("code", flat=True))
    area = write_area(ctx.user)

    def get(values, key):
        i = ix.get(key)
        return values[i] if i is not None else ""

    parsed: dict[str, tuple[int, dict]] = {}  # id -> (row, values)
    for n, values in table.rows:
        try:
            column = "id_number"
            idn = fields.id_number(get(values, "id_number"), today)
            column = "name"
            name = get(values, "name")
            if not name:
                raise FieldError("the name is empty")
            if len(name) > 50:
                raise FieldError("the name is longer than 50 characters")
            column = "sex"
            sex = fields.sex(get(values, "sex"))
            if sex != idnumber.sex(idn):
                raise FieldError(
                    f"{get(values, 'sex')} does not agree with the ID number "
                    f"({fields.SEX_WORDS[idnumber.sex(idn)]})"
                )
            column = "birth_date"
            birth = idnumber.birth_date(idn)
            if get(values, "birth_date"):
                given = fields.date(get(values, "birth_date"), today, what="birth date")
                if given != birth:
                    raise FieldError(f"{given} does not agree with the ID number ({birth})")
            column = "village"
            village = fields.village(get(values, "village"), villages)
            if not within(area, village):
                raise FieldError(f"village {village} is outside your area")
            column = "hukou_village"
            hukou = (
                fields.code12(get(values, "hukou_village"))
                if get(values, "hukou_village")
                else village
            )
            column = "phone"
            phone = fields.phone(get(values, "phone")) if get(values, "phone") else ""
            column = "live_births_before"
            lbb = get(values, "live_births_before")
            lbb = fields.integer(lbb, low=0, high=20, what="live births before") if lbb else 0
            if lbb and sex != "F":
                raise FieldError("live births are recorded for women")
        except FieldError as e:
            errors.add(n, column, str(e))
            continue
        record = {
            "name": name,
            "sex": sex,
            "birth": birth,
            "village": village,
            "hukou_village": hukou,
            "household": get(values, "household"),
            "phone": phone,
            "ethnicity": get(values, "ethnicity"),
            "live_births_before": lbb,
        }
        if idn in parsed:
            first_row, first = parsed[idn]
            if first != record:
                errors.add(
                    n, "id_number", f"the same ID number is on row {first_row} with other details"
                )
            continue
        parsed[idn] = (n, record)
    if ctx.progress:
        ctx.progress("check", len(table.rows), len(table.rows))

    # Persons already in the register.
    index_of = {idn: crypto.blind_index(idn) for idn in parsed}
    quote = db.connection.ops.quote_name
    existing = {
        r[0]: r
        for r in db.select_where_in(
            f"SELECT p.id_index, p.id, p.name, p.hukou_village, h.number, p.phone_index, "
            f"p.ethnicity, p.live_births_before, p.village_id, p.current_village "
            f"FROM {quote(Person._meta.db_table)} p "
            f"LEFT JOIN {quote(Household._meta.db_table)} h ON h.id = p.household_id "
            "WHERE p.id_index IN ({in})",
            list(index_of.values()),
        )
    }
    updates = []
    for idn, (n, rec) in parsed.items():
        old = existing.get(index_of[idn])
        if old is None:
            continue
        if not within(area, old[9]):
            errors.add(n, "id_number", OUTSIDE_AREA)
            continue
        if old[8] != rec["village"]:
            errors.add(
                n,
                "village",
                f"the person is registered in village {old[8]}; record a move event to change where they live",
            )
            continue
        new = (
            rec["name"],
            rec["hukou_village"],
            rec["household"] or None,
            crypto.blind_index(rec["phone"], "phone") if rec["phone"] else "",
            rec["ethnicity"],
            rec["live_births_before"],
        )
        if new != tuple(old[2:8]):
            updates.append((old[1], rec, dict(zip(ATTRIBUTES, old[2:8], strict=True))))
    if errors:
        return {}

    households = _households(
        {rec["household"]: rec["village"] for _, rec in parsed.values() if rec["household"]}
    )
    new = [(idn, n, rec) for idn, (n, rec) in parsed.items() if index_of[idn] not in existing]
    pks = actions.reserve_person_ids(len(new))
    persons = [
        actions.NewPerson(
            pk=pk,
            name=rec["name"],
            sex=rec["sex"],
            birth=rec["birth"],
            id_number=idn,
            village=rec["village"],
            hukou_village=rec["hukou_village"],
            household=households.get(rec["household"]),
            phone=rec["phone"],
            ethnicity=rec["ethnicity"],
            live_births_before=rec["live_births_before"],
            row=n,
        )
        for pk, (idn, n, rec) in zip(pks, new, strict=True)
    ]
    if ctx.progress:
        ctx.progress("write", 0, len(persons))
    actions.insert_persons(persons, user=ctx.user, batch=ctx.batch)
    _apply_updates(updates, households, ctx)
    declared = {
        pk: old["live_births_before"]
        for pk, rec, old in updates
        if rec["live_births_before"] != old["live_births_before"]
    }
    with declared_before(declared):  # the maintained parities move from the old number
        actions.rebuild([p.pk for p in persons] + list(declared), today=today)
    if ctx.progress:
        ctx.progress("write", len(persons), len(persons))
    return {
        "created": len(persons),
        "updated": len(updates),
        "unchanged": len(parsed) - len(persons) - len(updates),
        "households_created": households.created,
    }


class _HouseholdIds(dict):
    created = 0


def _households(numbers: dict[str, str]) -> _HouseholdIds:
    """Household ids by number, creating the missing ones in the first member's village."""
    quote = db.connection.ops.quote_name
    ids = _HouseholdIds(
        db.select_where_in(
            f"SELECT number, id FROM {quote(Household._meta.db_table)} WHERE number IN ({{in}})",
            list(numbers),
        )
    )
    missing = [num for num in numbers if num not in ids]
    new_ids = db.reserve_ids(Household._meta.db_table, len(missing))
    db.insert_rows(
        Household._meta.db_table,
        ["id", "number", "village_id", "address"],
        [(pk, num, numbers[num], "") for pk, num in zip(new_ids, missing, strict=True)],
    )
    ids.update(zip(missing, new_ids, strict=True))
    ids.created = len(missing)
    return ids


def _apply_updates(updates, households, ctx) -> None:
    for pk, rec, old in updates:
        person = Person.objects.get(pk=pk)
        person.name = rec["name"]
        person.name_initials = initials(rec["name"])
        person.hukou_village = rec["hukou_village"]
        person.household_id = households.get(rec["household"]) if rec["household"] else None
        person.phone_cipher = crypto.encrypt(rec["phone"]) if rec["phone"] else None
        person.phone_index = crypto.blind_index(rec["phone"], "phone") if rec["phone"] else ""
        person.ethnicity = rec["ethnicity"]
        person.live_births_before = rec["live_births_before"]
        person.save()
        changed = sorted(
            k
            for k, v in old.items()
            if k != "phone_index" and v != (rec[k] if k != "household" else rec[k] or None)
        )
        if old["phone_index"] != person.phone_index:
            changed.append("phone")
        audit(
            "person_update",
            user=ctx.user,
            object_type="person",
            object_id=pk,
            org_code=person.current_village,
            source="import",
            fields=changed,
        )
