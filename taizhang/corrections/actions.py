"""Corrections (更正) and retractions (撤销) of recorded events: putting the register right.

A correction names an event and says what it should have been — its columns as text, the
events import's keys (``date``, ``village``, ``method`` ...); a column not given keeps its
value; the kind cannot change (retract it and record the right event) and neither can a
birth's child — or that it should never have been recorded (a retraction), always with a
reason. Every column is read by the events import's own parsers
(``taizhang.imports.events.event_from_values``) and the result goes through the
register's one write path (``taizhang.register.actions.correct_event``): the original
stays, the correction is a new event naming it, everyone it touches is rebuilt, and a
correction that contradicts the register is refused as a new event would be.

Who may apply what (``needs_approval``): a county administrator and a township
statistician apply the corrections of persons in their area. A village worker applies
those of her village's persons whose months are open — the current month, and the
previous one until her village (or its township) has reported it; a correction of an
older event, or one that moves an event into or out of a month already reported, waits
for approval: a township statistician of the person's township, or a county
administrator, applies it or refuses it with a note, and the requester sees the decision
on the corrections page.

A correction that changes a month a village or township has reported records the change
of that month's recorded figures (``Revision``: before → after), shown on the quality
pages beside what was reported.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet

from taizhang import clock
from taizhang.accounts.models import Role
from taizhang.accounts.scope import user_role, within, write_area
from taizhang.audit.actions import record as audit
from taizhang.corrections.models import Action, CorrectionRequest, Revision, Source, Status
from taizhang.imports.fields import FieldError
from taizhang.lib import crypto
from taizhang.orgunits.models import prefix_range
from taizhang.register import actions as register
from taizhang.register.models import Event, Person

# The columns a correction may give, in the events import's order.
EVENT_COLUMNS = (
    "date",
    "spouse_id_number",
    "lmp_date",
    "child_id_number",
    "child_name",
    "child_sex",
    "delivery_place",
    "birth_weight_g",
    "outcome",
    "village",
    "method",
    "stop_reason",
    "findings",
    "stage",
)
# The columns each kind reads (besides the date); the rest are ignored for it.
KIND_COLUMNS = {
    "marriage": ("spouse_id_number",),
    "divorce": ("spouse_id_number",),
    "pregnancy": ("lmp_date",),
    "outcome": ("outcome",),
    "birth": ("child_id_number", "child_sex", "delivery_place", "birth_weight_g"),
    "move_in": ("village",),
    "move_within": ("village",),
    "move_out": ("village",),
    "method_start": ("method",),
    "method_stop": ("method", "stop_reason"),
    "checkup": ("findings",),
    "screening": ("findings",),
    "followup": ("findings",),
    "education": ("stage",),
}
REASON_MAX = 200


class CorrectionError(Exception):
    """A correction that cannot be made: ``column`` names the field, when there is one."""

    def __init__(self, message: str, column: str = ""):
        super().__init__(message)
        self.column = column


@dataclass
class Request:
    """A correction asked for: of event ``event_id``, ``action`` correct or retract."""

    event_id: int
    action: str
    reason: str
    values: dict[str, str] = field(default_factory=dict)
    row: int | None = None


@dataclass
class Result:
    """What became of a request: applied (``correction`` the new event), waiting for
    approval, unchanged (made before), or refused with the sentences why."""

    request: Request
    status: str = ""  # applied | pending | unchanged | refused
    journal: CorrectionRequest | None = None
    errors: list[CorrectionError] = field(default_factory=list)
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# An event's columns as text


def event_values(event: Event) -> dict[str, str]:
    """The event's own columns as an events file would carry them (its kind's columns)."""
    values = {"date": event.date.isoformat()}
    kind = event.kind
    if kind in ("marriage", "divorce"):
        values["spouse_id_number"] = _spouse_id(event)
    elif kind == "pregnancy":
        values["lmp_date"] = event.lmp_date.isoformat() if event.lmp_date else ""
    elif kind == "outcome":
        values["outcome"] = event.outcome
    elif kind == "birth":
        child = Person.objects.filter(pk=event.child_id).first()
        values["child_id_number"] = _decrypt(child.id_cipher) if child else ""
        values["child_sex"] = child.sex if child else ""
        values["delivery_place"] = event.delivery_place
        values["birth_weight_g"] = str(event.birth_weight_g or "")
    elif kind in ("move_in", "move_within"):
        values["village"] = event.village
    elif kind == "move_out":
        values["village"] = event.destination
    elif kind == "method_start":
        values["method"] = event.method
    elif kind == "method_stop":
        values["method"] = event.method
        values["stop_reason"] = event.reason
    elif kind in ("checkup", "screening", "followup"):
        values["findings"] = event.findings
    elif kind == "education":
        values["stage"] = event.stage
    return values


def _spouse_id(event: Event) -> str:
    if event.spouse_id is not None:
        cipher = Person.objects.values_list("id_cipher", flat=True).get(pk=event.spouse_id)
        return _decrypt(cipher)
    return _decrypt(event.spouse_id_cipher) if event.spouse_id_cipher else ""


def _decrypt(cipher) -> str:
    try:
        return crypto.decrypt(bytes(cipher))
    except crypto.DecryptionError:
        return ""


def given(values: dict[str, str], kind: str) -> dict[str, str]:
    """The values of a request that concern the event's kind, stripped; empty ones dropped."""
    wanted = ("date", *KIND_COLUMNS.get(kind, ()))
    return {k: str(values[k]).strip() for k in wanted if str(values.get(k) or "").strip()}


def changes(request: Request, event: Event, before: dict[str, str]) -> dict[str, str]:
    """What a correction changes: the values given that differ from the event's."""
    if request.action != Action.CORRECT:
        return {}
    return {k: v for k, v in given(request.values, event.kind).items() if before.get(k, "") != v}


# ---------------------------------------------------------------------------
# Who may apply what


def months_changed(first: dt.date, today: dt.date) -> list[str]:
    """The months a correction may change: from the earlier of the event's old and new
    dates to this month. Where a person lived, whether they lived and whom they were
    married to decide the figures of every later month (a mother's move redated moves her
    children's births), so no month after the first is safe to leave out."""
    out, year, month = [], first.year, first.month
    while (year, month) <= (today.year, today.month):
        out.append(f"{year:04d}{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def open_months(village: str, today: dt.date) -> set[str]:
    """The months a village worker of ``village`` corrects herself: this month, and the
    previous one until the village or its township has reported it."""
    from taizhang.quality.models import ReportedFigure

    this = f"{today.year:04d}{today.month:02d}"
    first = today.replace(day=1) - dt.timedelta(days=1)
    previous = f"{first.year:04d}{first.month:02d}"
    reported = ReportedFigure.objects.filter(
        org_id__in=[village, village[:9]], period=previous
    ).exists()
    return {this} if reported else {this, previous}


def needs_approval(user, village: str, months: list[str], today: dt.date) -> bool:
    """Does ``user``'s correction of an event of a person of ``village`` changing these
    months wait for the township's approval?"""
    if user is None or user_role(user) != Role.VILLAGE_WORKER:
        return False  # the system account of a command writes as the county does
    return not set(months) <= open_months(village, today)


def pending_for(user) -> QuerySet[CorrectionRequest]:
    """The requests waiting for this user's decision: those of persons in their area, for
    a township statistician or a county administrator."""
    area = write_area(user)
    pending = CorrectionRequest.objects.filter(status=Status.PENDING)
    if area is not None:
        low, high = prefix_range(area)
        pending = pending.filter(village__gte=low, village__lt=high)
    return pending.select_related("event", "requested_by").order_by("requested_at", "id")


def may_decide(user, journal: CorrectionRequest) -> bool:
    """A township statistician of the person's township, or a county administrator."""
    role = user_role(user)
    if role not in (Role.COUNTY_ADMIN, Role.TOWNSHIP_STATISTICIAN):
        return False
    return within(write_area(user), journal.village)


# ---------------------------------------------------------------------------
# Making corrections


def check(request: Request, *, user, today: dt.date) -> tuple[Event, object | None, Result]:
    """Read a request against the register without writing: the event, the replacement
    (``EventFacts``; None for a retraction) and a Result with the old and new values, or
    its errors."""
    from taizhang.imports.events import event_from_values

    result = Result(request)
    area = write_area(user)
    event = (
        Event.objects.filter(pk=request.event_id).select_related("person").first()
        if request.event_id
        else None
    )
    if event is None or event.kind == "void" or not within(area, event.person.current_village):
        result.errors.append(
            CorrectionError(f"no event {request.event_id} is in the register", "event_id")
        )
        return event, None, result
    if request.action not in Action.values:
        result.errors.append(
            CorrectionError("the action is correct (更正) or retract (撤销)", "action")
        )
    reason = request.reason.strip()
    if not reason:
        result.errors.append(CorrectionError("a correction needs a reason", "reason"))
    elif len(reason) > REASON_MAX:
        result.errors.append(
            CorrectionError(f"the reason is longer than {REASON_MAX} characters", "reason")
        )
    result.before = event_values(event)
    if request.action != Action.CORRECT or result.errors:
        return event, None, result
    kind = (request.values.get("event") or "").strip()
    if kind and kind not in (event.kind, _kind_label(event.kind)):
        result.errors.append(
            CorrectionError(
                f"a correction cannot change the kind of event ({event.kind}): "
                "retract it and record the right one",
                "event",
            )
        )
        return event, None, result
    new = changes(request, event, result.before)
    if not new:
        result.errors.append(
            CorrectionError("the correction changes nothing: give the values as they should be")
        )
        return event, None, result
    values = {**result.before, **new, "event": event.kind}
    if event.kind == "birth":
        values["child_name"] = "—"  # the child is registered: the name is not read
    if event.kind == "method_stop":
        values["reason"] = values.pop("stop_reason", "")
    try:
        replacement, children = event_from_values(
            values, person=event.person_id, today=today, area=area
        )
    except FieldError as e:
        column = "stop_reason" if e.column == "reason" else (e.column or "")
        result.errors.append(CorrectionError(str(e), column))
        return event, None, result
    if event.kind == "birth" and (children or replacement.child != event.child_id):
        result.errors.append(
            CorrectionError(
                "a correction cannot change the child of a birth: retract it and record the "
                "right birth",
                "child_id_number",
            )
        )
        return event, None, result
    replacement.row = request.row
    result.after = {**result.before, **new}
    return event, replacement, result


def _kind_label(kind: str) -> str:
    from taizhang.register.models import EventKind

    return EventKind(kind).label


def submit(
    requests: list[Request],
    *,
    user=None,
    today: dt.date | None = None,
    source: str = Source.WEB,
    batch=None,
) -> list[Result]:
    """Make these corrections: each applied at once, or left waiting for approval, or
    refused with its errors. The caller holds the transaction and, when any request is
    refused, rolls it back (an import: nothing written)."""
    today = today or clock.today()
    results = []
    revise = _Revisions(user)
    seen: dict[int, int] = {}
    for request in requests:
        event, replacement, result = check(request, user=user, today=today)
        results.append(result)
        if result.errors:
            continue
        if request.event_id in seen:
            result.errors.append(
                CorrectionError(
                    f"event {request.event_id} is corrected on row {seen[request.event_id]} "
                    "already",
                    "event_id",
                )
            )
            continue
        seen[request.event_id] = request.row or 0
        if _made_before(request, event, result):
            continue
        changed = changes(request, event, result.before)
        new_date = replacement.date if replacement is not None else event.date
        months = months_changed(min(event.date, new_date), today)
        village = event.person.current_village
        journal = CorrectionRequest(
            event=event,
            person_id=event.person_id,
            action=request.action,
            values=changed,
            reason=request.reason.strip(),
            village=village,
            months=months,
            source=source,
            requested_at=clock.now(),
            requested_by=user,
            batch=batch,
        )
        if needs_approval(user, village, months, today):
            journal.status = Status.PENDING
            journal.save()
            result.status, result.journal = "pending", journal
            audit(
                "correction_request",
                user=user,
                object_type="event",
                object_id=event.pk,
                org_code=village,
                source=source,
                request=journal.pk,
                change=request.action,
            )
            continue
        revise.before(months)
        problems = _apply(journal, replacement, user=user, today=today)
        if problems:
            result.errors.extend(problems)
            continue
        revise.applied(months, journal)
        result.status, result.journal = "applied", journal
    revise.write()
    return results


def _made_before(request: Request, event: Event, result: Result) -> bool:
    """The same correction made before is unchanged; another one of the same event is an
    error naming what replaced it, or the request waiting for approval."""
    values = changes(request, event, event_values(event))
    earlier = CorrectionRequest.objects.filter(
        event=event, status__in=[Status.PENDING, Status.APPLIED]
    ).first()
    replaced_by = Event.objects.filter(supersedes_id=event.pk).values_list("pk", flat=True).first()
    if earlier is not None and (earlier.action, earlier.values, earlier.reason) == (
        request.action,
        values,
        request.reason.strip(),
    ):
        result.status, result.journal = "unchanged", earlier
        return True
    if earlier is not None and earlier.status == Status.PENDING:
        result.errors.append(
            CorrectionError(
                f"a correction of event {event.pk} is waiting for approval (request {earlier.pk})",
                "event_id",
            )
        )
        return True
    if replaced_by is not None:
        how = "retracted" if Event.objects.get(pk=replaced_by).kind == "void" else "corrected"
        result.errors.append(
            CorrectionError(
                f"event {event.pk} has already been {how} by event {replaced_by}", "event_id"
            )
        )
        return True
    return False


def _apply(journal: CorrectionRequest, replacement, *, user, today) -> list[CorrectionError]:
    """Write the correction through the register; the register's objections, if any."""
    try:
        with transaction.atomic():
            outcome = register.correct_event(
                journal.event_id,
                replacement=replacement,
                user=user,
                reason=journal.reason,
                today=today,
                batch=journal.batch,
                source=journal.source,
            )
            if outcome.problems:
                raise _Refused(outcome.problems)
    except _Refused as refused:
        return [CorrectionError(p.message, _column_of(p.column)) for p in refused.args[0]]
    journal.correction_id = outcome.counts["correction"]
    journal.status = Status.APPLIED
    if journal.pk is not None:
        journal.decided_at = clock.now()
        journal.decided_by = user
        journal.unseen_decision = journal.requested_by_id != getattr(user, "pk", None)
    journal.save()
    return []


def _column_of(column: str) -> str:
    return {"id_number": "event_id", "event": "event_id"}.get(column, column)


class _Refused(Exception):
    pass


# ---------------------------------------------------------------------------
# Approval


def _undecidable(journal: CorrectionRequest, user) -> list[str]:
    if journal.status != Status.PENDING:
        return [f"request {journal.pk} is {journal.status}, not waiting for approval"]
    if not may_decide(user, journal):
        return [f"request {journal.pk} is decided by the township of village {journal.village}"]
    return []


def approve(journal: CorrectionRequest, *, user, note: str = "", today=None) -> list[str]:
    """Apply a waiting correction. Returns the register's objections (then it still
    waits: the approver may refuse it)."""
    today = today or clock.today()
    if refused := _undecidable(journal, user):
        return refused
    request = Request(journal.event_id, journal.action, journal.reason, dict(journal.values))
    with transaction.atomic():
        event, replacement, result = check(request, user=None, today=today)
        if result.errors:
            return [str(e) for e in result.errors]
        if Event.objects.filter(supersedes_id=journal.event_id).exists():
            return [f"event {journal.event_id} has been corrected since the request was made"]
        revise = _Revisions(user)
        revise.before(journal.months)
        journal.decision_note = note.strip()[:REASON_MAX]
        problems = _apply(journal, replacement, user=user, today=today)
        if problems:
            transaction.set_rollback(True)
            return [str(p) for p in problems]
        revise.applied(journal.months, journal)
        revise.write()
        audit(
            "correction_approve",
            user=user,
            object_type="event",
            object_id=journal.event_id,
            org_code=journal.village,
            request=journal.pk,
            correction=journal.correction_id,
        )
    return []


def refuse(journal: CorrectionRequest, *, user, note: str) -> list[str]:
    """Refuse a waiting correction, saying why; the requester is told."""
    if refused := _undecidable(journal, user):
        return refused
    if not note.strip():
        return ["say why the correction is refused"]
    journal.status = Status.REFUSED
    journal.decided_at = clock.now()
    journal.decided_by = user
    journal.decision_note = note.strip()[:REASON_MAX]
    journal.unseen_decision = True
    journal.save()
    audit(
        "correction_refuse",
        user=user,
        object_type="event",
        object_id=journal.event_id,
        org_code=journal.village,
        request=journal.pk,
    )
    return []


# ---------------------------------------------------------------------------
# Revisions of reported months


class _Revisions:
    """The recorded figures of reported months before and after corrections."""

    def __init__(self, user):
        self.user = user
        self.first: dict[tuple[str, str, str], int] = {}
        self.read: set[str] = set()  # the months whose figures ``first`` holds
        self.made: list[tuple[set[str], int]] = []  # (months, request) of each correction

    def _reported(self, months) -> set[tuple[str, str]]:
        from taizhang.quality.models import ReportedFigure

        return set(
            ReportedFigure.objects.filter(period__in=list(months)).values_list("org_id", "period")
        )

    def _figures(self, months) -> dict[tuple[str, str, str], int]:
        """The recorded items of the reported (org unit, month) pairs among ``months``."""
        from taizhang.orgunits.models import OrgUnit
        from taizhang.quality.figures import recorded_by_level

        reported = self._reported(months)
        if not reported:
            return {}
        first_month, last_month = min(p for _o, p in reported), max(p for _o, p in reported)
        first = dt.date(int(first_month[:4]), int(first_month[4:]), 1)
        last = dt.date(int(last_month[:4]), int(last_month[4:]), 1)
        last = (last + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        out = {(org, period, item): 0 for org, period in reported for item in _items()}
        roots = OrgUnit.objects.filter(parent__isnull=True).values_list("code", flat=True)
        for root in roots:
            for counts in recorded_by_level(root, first, last, [12, 9]).values():
                for (org, period, item), n in counts.items():
                    if (org, period) in reported:
                        out[(org, period, item)] = n
        return out

    def before(self, months) -> None:
        """The figures of the months not yet read, before a correction changes them."""
        unread = [m for m in months if m not in self.read]
        self.read.update(months)
        for key, n in self._figures(unread).items():
            self.first.setdefault(key, n)

    def applied(self, months, journal: CorrectionRequest) -> None:
        self.made.append((set(months), journal.pk))

    def write(self) -> None:
        """Once, after every correction: the figures that changed, each with the corrections
        whose months hold it."""
        if not self.made:
            return
        now = clock.now()
        Revision.objects.bulk_create(
            Revision(
                org=org,
                period=period,
                item=item,
                before=self.first[(org, period, item)],
                after=n,
                requests=[pk for months, pk in self.made if period in months],
                revised_at=now,
                revised_by=self.user,
            )
            for (org, period, item), n in sorted(self._figures(self.read).items())
            if (org, period, item) in self.first and n != self.first[(org, period, item)]
        )


def _items() -> tuple[str, ...]:
    from taizhang.quality.models import ITEMS

    return ITEMS
