"""Import of existing case lists (columns: ``cases`` in ``taizhang.imports.columns``).

Each row is a case with its history so far: received (``received_on``), then accepted
(``accepted_on``, with a ``handler`` account assigned that day) or declined
(``declined_on`` with a ``decline_reason``), replied (``replied_on``, ``reply``), return
visit (``return_visit_on``, ``satisfaction``) and closed (``closed_on``). The history is
replayed as journaled actions, in that order, through the very actions of
``taizhang.cases.actions``: their checks (states, dates in order, not in the future)
apply, and a refusal is reported against the column whose step it refused.

Rows are replayed in order of ``received_on``, so a ``repeat_of`` may name a case on
another row of the file, or one already in the register; a repeat petition concerns
the same org unit as the case it repeats, and takes its petitioner and category.

A case already in the register (same ``case_number``) is left as it is when the file
says the same; steps the file adds (a later reply, the closure) are replayed. Importing
the same file twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from taizhang.cases import actions
from taizhang.cases.models import Case, CaseAction, Category, Channel, Satisfaction
from taizhang.errors import UserError
from taizhang.imports import fields
from taizhang.imports.fields import FieldError
from taizhang.orgunits.models import OrgUnit

CHANNELS = {
    **{c: c for c in Channel.values},
    "来访": "visit",
    "走访": "visit",
    "来信": "letter",
    "信件": "letter",
    "来电": "phone",
    "电话": "phone",
    "网上": "online",
    "网上信访": "online",
}
CATEGORIES = {
    **{c: c for c in Category.values},
    "服务质量": "services",
    "奖励扶助": "benefits",
    "登记办证": "registration",
    "工作作风": "staff_conduct",
    "政策咨询": "information",
    "其他": "other",
}
SATISFACTIONS = {
    **{s: s for s in Satisfaction.values},
    "满意": "satisfied",
    "基本满意": "partly",
    "不满意": "unsatisfied",
    "无法联系": "unreachable",
}
# The steps of a history, in the order they are replayed: (action, date column).
STEPS = (
    ("accept", "accepted_on"),
    ("assign", "handler"),
    ("decline", "declined_on"),
    ("reply", "replied_on"),
    ("return_visit", "return_visit_on"),
    ("close", "closed_on"),
)


class RowProblem(Exception):
    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column


@dataclass
class Row:
    n: int
    number: str
    received_on: dt.date
    channel: str
    category: str
    org: str
    subject: str
    name: str
    id_number: str
    phone: str
    repeat_of: str
    dates: dict[str, dt.date | None]  # by step action
    handler: str
    decline_reason: str
    reply: str
    satisfaction: str


def _mapped(raw: str, mapping: dict[str, str], what: str, *, default: str = "") -> str:
    text = raw.strip()
    if not text and default:
        return default
    value = mapping.get(text) or mapping.get(text.lower())
    if value is None:
        keys = "|".join(v for k, v in mapping.items() if k == v)
        raise FieldError(f"{raw or '(empty)'} is not a {what}: use {keys}")
    return value


def _parse(n: int, get, today: dt.date, orgs: set[str]) -> Row:
    """One row's values, or FieldError naming the column (``column`` attribute)."""
    column = "case_number"

    def at(key):
        nonlocal column
        column = key
        return get(key).strip()

    try:
        number = at("case_number")
        if not number:
            raise FieldError("the case number is empty")
        if len(number) > 40:
            raise FieldError("the case number is longer than 40 characters")
        received_on = fields.date(at("received_on"), today, what="date received")
        channel = _mapped(at("channel"), CHANNELS, "channel")
        category = _mapped(at("category"), CATEGORIES, "category", default="other")
        org = at("org")
        if org not in orgs:
            raise FieldError(f"org unit {org or '(empty)'} is not in the register")
        subject = at("subject")
        if not subject:
            raise FieldError("the subject is empty")
        id_number = at("petitioner_id_number")
        id_number = fields.id_number(id_number, today) if id_number else ""
        phone = at("petitioner_phone")
        phone = fields.phone(phone) if phone else ""
        name = at("petitioner_name")
        if not name and (id_number or phone):
            raise FieldError(
                "the name is empty but an ID number or phone is given "
                "(an anonymous petition has none)",
                "petitioner_name",
            )
        dates = {}
        for action, key in STEPS:
            if action != "assign":
                dates[action] = fields.optional_date(at(key), today)
        decline_reason = at("decline_reason")
        if dates["decline"] and not decline_reason:
            raise FieldError("a declined petition needs the reason it was declined")
        reply = at("reply")
        if dates["reply"] and not reply:
            raise FieldError("a reply date needs the reply")
        satisfaction = at("satisfaction")
        if satisfaction:
            satisfaction = _mapped(satisfaction, SATISFACTIONS, "satisfaction")
        if dates["return_visit"] and not satisfaction:
            raise FieldError("a return visit needs the petitioner's satisfaction")
        if satisfaction and not dates["return_visit"]:
            raise FieldError("a satisfaction needs the date of the return visit")
        handler = at("handler")
        if handler and not dates["accept"]:
            raise FieldError(
                "a handler is assigned on the day the case is accepted: give accepted_on"
            )
        repeat_of = at("repeat_of")
    except FieldError as e:
        raise RowProblem(e.column or column, str(e)) from None
    dates["assign"] = dates["accept"] if handler else None
    return Row(
        n=n,
        number=number,
        received_on=received_on,
        channel=channel,
        category=category,
        org=org,
        subject=subject,
        name=name,
        id_number=id_number,
        phone=phone,
        repeat_of=repeat_of,
        dates=dates,
        handler=handler,
        decline_reason=decline_reason,
        reply=reply,
        satisfaction=satisfaction,
    )


def run(ctx) -> dict[str, int]:
    table, errors, today, user = ctx.table, ctx.errors, ctx.today, ctx.user
    orgs = set(OrgUnit.objects.values_list("code", flat=True))
    rows: list[Row] = []
    first_row: dict[str, int] = {}
    for n, values in table.rows:
        try:
            row = _parse(n, lambda key, values=values: table.get(values, key), today, orgs)
        except RowProblem as e:
            errors.add(n, e.column, str(e))
            continue
        if row.number in first_row:
            errors.add(
                n, "case_number", f"case {row.number} is also on row {first_row[row.number]}"
            )
            continue
        first_row[row.number] = n
        rows.append(row)
    counts = {"cases": 0, "updated": 0, "unchanged": 0}
    failed: dict[str, int] = {}
    for row in sorted(rows, key=lambda r: (r.received_on, r.n)):
        try:
            counts[_replay(row, user, today, failed)] += 1
        except RowProblem as e:
            errors.add(row.n, e.column, str(e))
            failed[row.number] = row.n
    return {} if errors else counts


def _replay(row: Row, user, today: dt.date, failed: dict[str, int]) -> str:
    """Bring the case of ``row`` up to the history the row gives; says what it did."""
    case = Case.objects.filter(number=row.number).select_related("repeat_of").first()
    status = "unchanged"
    if case is None:
        case = _receive(row, user, today, failed)
        status = "cases"
    else:
        if case.received_on != row.received_on:
            raise RowProblem(
                "received_on",
                f"case {row.number} is in the register, received on {case.received_on}",
            )
        if (case.repeat_of.number if case.repeat_of else "") != row.repeat_of:
            raise RowProblem(
                "repeat_of", f"case {row.number} is in the register with another earlier case"
            )
    done = _recorded_steps(case)
    for action, column in STEPS:
        on = row.dates[action]
        if on is None:
            continue
        if action in done:
            recorded_on, handler = done[action]
            if recorded_on != on or (action == "assign" and handler != row.handler):
                what = f"{recorded_on} ({handler})" if action == "assign" else str(recorded_on)
                raise RowProblem(column, f"case {row.number} is recorded with {column} {what}")
            continue
        try:
            _step(case, action, row, on, user, today)
        except UserError as e:
            raise RowProblem(column, str(e)) from None
        status = "updated" if status == "unchanged" else status
    return status


def _receive(row: Row, user, today: dt.date, failed: dict[str, int]) -> Case:
    try:
        if not row.repeat_of:
            return actions.receive(
                channel=row.channel,
                received_on=row.received_on,
                subject=row.subject,
                category=row.category,
                org_code=row.org,
                petitioner_name=row.name,
                id_number=row.id_number,
                phone=row.phone,
                anonymous=not row.name,
                user=user,
                today=today,
                number=row.number,
            )
        earlier = Case.objects.filter(number=row.repeat_of).first()
        if earlier is None:
            if row.repeat_of in failed:
                message = f"case {row.repeat_of} (row {failed[row.repeat_of]}) has errors"
            else:
                message = f"there is no case {row.repeat_of} in this file or the register"
            raise RowProblem("repeat_of", message)
        if earlier.org_id != row.org:
            raise RowProblem(
                "org",
                f"a repeat petition concerns the org unit of case {earlier.number} ({earlier.org_id})",
            )
        return actions.reopen(
            earlier,
            received_on=row.received_on,
            channel=row.channel,
            subject=row.subject,
            user=user,
            today=today,
            number=row.number,
        )
    except UserError as e:
        raise RowProblem("repeat_of" if row.repeat_of else "received_on", str(e)) from None


def _recorded_steps(case: Case) -> dict[str, tuple[dt.date, str]]:
    """The latest date (and handler) of each workflow step already journaled."""
    done = {}
    for entry in CaseAction.objects.filter(case=case).order_by("on", "id"):
        done[entry.action] = (entry.on, entry.detail.get("handler", ""))
    return done


def _step(case: Case, action: str, row: Row, on: dt.date, user, today: dt.date) -> None:
    if action == "accept":
        actions.accept(case, on=on, user=user, today=today)
    elif action == "assign":
        actions.assign(
            case, handler=actions.find_handler(row.handler), on=on, user=user, today=today
        )
    elif action == "decline":
        actions.decline(case, on=on, reason=row.decline_reason, user=user, today=today)
    elif action == "reply":
        actions.reply(case, on=on, text=row.reply, user=user, today=today)
    elif action == "return_visit":
        actions.return_visit(case, on=on, satisfaction=row.satisfaction, user=user, today=today)
    else:
        actions.close(case, on=on, user=user, today=today)
