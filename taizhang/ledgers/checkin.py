"""Checking people in at a service session (签到): a check-up, a screening or a life-stage
education session.

The worker scans a ledger row's QR code (the scanner types the row key and Enter) or
types the person's ID number, found through its blind index as the people search finds
it. A person outside the user's area is not found, as if not in the register. The
attendance is the register's event of the session (``checkup``, ``screening``,
``education`` with its life stage), recorded through the register's one write path with
the events import's checks, and an ``Attendance`` row saying who checked the person in,
how and when; both are audited (``attendance_record``). A person checked in twice for the
same kind of session (and stage) on the same day is recorded once.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from taizhang import clock
from taizhang.accounts.scope import persons_for, user_org_code
from taizhang.audit.actions import record as audit
from taizhang.errors import UserError
from taizhang.imports.fields import FieldError
from taizhang.ledgers.models import Attendance, CheckInBy, SessionKind
from taizhang.ledgers.rowkeys import VERSION, parse_key
from taizhang.lib import crypto, idnumber
from taizhang.orgunits.models import prefix_range
from taizhang.register.models import Event, LifeStage, Person

_ID_LIKE = re.compile(r"[0-9]{17}[0-9X]")


class NotFound(UserError):
    """No such person in the user's area (the page answers 404)."""


@dataclass(frozen=True)
class Found:
    person: Person
    by: str  # CheckInBy
    stage: str = ""  # the life stage an education ledger's row names


def find_person(user, text: str, *, today: dt.date) -> Found:
    """The person a scanned row key or a typed ID number names, in ``user``'s area.

    Raises ``NotFound`` for a person not in the area (or not in the register) and
    ``UserError`` for text that is neither a valid row key nor a valid ID number."""
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    compact = "".join(raw.split()).upper()
    if not compact:
        raise UserError(_("Scan a ledger row's QR code or type an ID number."))
    if compact.startswith(VERSION + "."):
        key = parse_key(compact)
        if key.subject != "person":
            raise UserError(
                _("This row key names %(subject)s, not a person: scan the row of a person.")
                % {"subject": _subject_words()[key.subject]}
            )
        person = persons_for(user).filter(pk=key.subject_id).first()
        if person is None:
            raise NotFound(_("The person of this row key is not in your area."))
        stage = key.task.lower() if key.kind == "education" else ""
        return Found(person, CheckInBy.KEY, stage if stage in LifeStage.values else "")
    if _ID_LIKE.fullmatch(compact):
        try:
            number = idnumber.normalize(compact, today=today)
        except idnumber.IDNumberError as e:
            raise UserError(_("The ID number: %(reason)s.") % {"reason": e}) from None
        person = persons_for(user).filter(id_index=crypto.blind_index(number)).first()
        if person is None:
            raise NotFound(
                _("No person with ID number %(number)s lives in your area.")
                % {"number": idnumber.mask(number)}
            )
        return Found(person, CheckInBy.ID_NUMBER)
    raise UserError(
        _("%(text)s is neither a ledger row key nor an 18-character ID number.")
        % {"text": raw[:40]}
    )


def _subject_words() -> dict[str, str]:
    return {
        "enrolment": _("a benefit enrolment"),
        "case": _("a petition"),
        "household": _("a household"),
        "orgunit": _("an org unit"),
    }


def check_in(
    found: Found,
    *,
    kind: str,
    day: dt.date,
    stage: str = "",
    user,
    today: dt.date,
    source: str = "",
) -> tuple[Attendance, bool]:
    """Record that ``found.person`` attended a session of ``kind`` on ``day`` (for
    education, of ``stage``, or of the stage the scanned row names). Returns the attendance
    and whether it is new (False: already checked in, nothing written). The register's
    objections (a session after death, a date in the future) raise ``UserError``."""
    from taizhang.imports.events import event_from_values
    from taizhang.register import actions

    if kind not in SessionKind.values:
        raise UserError(
            _("%(kind)s is not a kind of session: use %(kinds)s.")
            % {"kind": kind or _("(empty)"), "kinds": "|".join(SessionKind.values)}
        )
    if day > today:
        raise UserError(_("The date %(date)s is in the future.") % {"date": day.isoformat()})
    if kind == SessionKind.EDUCATION:
        stage = stage or found.stage
        if stage not in LifeStage.values:
            raise UserError(_("Choose the life stage of the education session."))
    else:
        stage = ""
    person = found.person
    try:
        with transaction.atomic():
            existing = Attendance.objects.filter(
                person=person, kind=kind, stage=stage, date=day
            ).first()
            if existing is not None:
                return existing, False
            values = {"event": kind, "date": day.isoformat(), "stage": stage}
            try:
                event, _children = event_from_values(values, person=person.pk, today=today)
            except FieldError as e:
                raise UserError(str(e)) from None
            outcome = actions.record_events([event], user=user, today=today)
            if outcome.problems:
                raise UserError(outcome.problems[0].message)
            event_id = event.key if outcome.counts.get("events") else _recorded(person, kind, day)
            attendance = Attendance.objects.create(
                person=person,
                kind=kind,
                stage=stage,
                date=day,
                village=person.current_village,
                event_id=event_id,
                by=found.by,
                recorded_at=clock.now(),
                recorded_by=user,
            )
            audit(
                "attendance_record",
                user=user,
                object_type="person",
                object_id=person.pk,
                org_code=person.current_village,
                source=source,
                kind=kind,
                stage=stage,
                date=day.isoformat(),
                by=found.by,
                event=event_id,
                new_event=bool(outcome.counts.get("events")),
            )
    except IntegrityError:  # checked in at the same moment from another device
        existing = Attendance.objects.get(person=person, kind=kind, stage=stage, date=day)
        return existing, False
    return attendance, True


def _recorded(person: Person, kind: str, day: dt.date) -> int | None:
    """The event the register already held for the session (recorded some other way)."""
    return (
        Event.objects.filter(person=person, kind=kind, date=day)
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    )


def attendances(user, *, kind: str, day: dt.date, stage: str = "") -> list[Attendance]:
    """The check-ins of a session (kind, day, and stage for education) of persons in the
    user's area, the latest first."""
    root = user_org_code(user)
    if not root:
        return []
    low, high = prefix_range(root)
    found = Attendance.objects.filter(
        kind=kind, date=day, village__gte=low, village__lt=high
    ).select_related("person", "recorded_by")
    if kind == SessionKind.EDUCATION and stage:
        found = found.filter(stage=stage)
    return list(found.order_by("-recorded_at", "-id"))
