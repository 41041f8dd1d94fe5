"""Writing to cases: every change to a petition goes through these named actions.

Each action checks that it may happen now (the case's state, the date), writes
one row of the case's journal (``CaseAction``, never edited), updates the cached
state and dates on the case, and records it in the audit trail — in one
transaction. A refused action raises ``UserError`` with a sentence saying why.

The workflow::

    received ─accept→ accepted ─assign→ assigned ─reply→ replied ─return_visit→ visited
        └─decline→ declined                       (assign again)      └──────close──────┴→ closed

A repeat petition about a closed or declined case is a new case linked to the
earlier one (``reopen``). Dates: an action's date is not in the future and not
before the date of the case's previous workflow action (attachments and notes
do not count). Deadlines: see ``taizhang.cases.config``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from taizhang import clock
from taizhang import config as taizhang_config
from taizhang.accounts.scope import user_org_code, within, write_area
from taizhang.audit.actions import record as audit
from taizhang.cases import config
from taizhang.cases.models import (
    ActionKind,
    Attachment,
    Case,
    CaseAction,
    Category,
    Channel,
    Satisfaction,
    State,
)
from taizhang.cases.reports import overdue, register_report  # noqa: F401  (part of the API)
from taizhang.errors import UserError
from taizhang.imports import fields
from taizhang.lib import crypto, idnumber
from taizhang.orgunits.models import OrgUnit
from taizhang.register.models import Person

# Actions whose dates must follow one another; attachments and notes can come any day.
WORKFLOW = frozenset({"receive", "accept", "decline", "assign", "reply", "return_visit", "close"})
OPEN_STATES = frozenset(State.values) - {State.CLOSED, State.DECLINED}
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "accept": frozenset({State.RECEIVED}),
    "decline": frozenset({State.RECEIVED}),
    "assign": frozenset({State.ACCEPTED, State.ASSIGNED}),
    "reply": frozenset({State.ASSIGNED}),
    "return_visit": frozenset({State.REPLIED}),
    "close": frozenset({State.REPLIED, State.VISITED}),
    "reopen": frozenset({State.CLOSED, State.DECLINED}),
    "attach": OPEN_STATES,
    "note": OPEN_STATES,
}
# The state a workflow action leads to; reopening, attachments and notes leave it as it is.
LEADS_TO: dict[str, str] = {
    "accept": State.ACCEPTED,
    "decline": State.DECLINED,
    "assign": State.ASSIGNED,
    "reply": State.REPLIED,
    "return_visit": State.VISITED,
    "close": State.CLOSED,
}
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
_NUMBER = re.compile(r"XF-(\d{4})-(\d{6})")


def _requirement(action: str) -> str:
    """Why an action is refused in the wrong state: the rule, as a sentence."""
    return {
        "accept": _("only a case just received can be accepted"),
        "decline": _("only a case just received can be declined"),
        "assign": _("a case is assigned to a handler once it is accepted"),
        "reply": _("a reply comes after the case is assigned to a handler"),
        "return_visit": _("a return visit comes after the reply"),
        "close": _("a case is closed after the reply"),
        "reopen": _("a repeat petition reopens a case that is closed or declined"),
        "attach": _("nothing more is added to it"),
        "note": _("nothing more is added to it"),
    }[action]


def allowed_actions(case: Case) -> list[str]:
    """The named actions the case's state allows now (whoever asks)."""
    return [a for a, states in ALLOWED_FROM.items() if case.state in states]


# ---------------------------------------------------------------------------
# Checks


def _check_state(case: Case, action: str) -> None:
    if case.state in ALLOWED_FROM[action]:
        return
    state = str(State(case.state).label).lower()
    if case.state == State.CLOSED and action != "reopen":
        raise UserError(
            _(
                "Case %(number)s is closed: a closed case takes no more actions "
                "(a repeat petition opens a new case)."
            )
            % {"number": case.number}
        )
    raise UserError(
        _("Case %(number)s is %(state)s: %(rule)s.")
        % {"number": case.number, "state": state, "rule": _requirement(action)}
    )


def _last_workflow(case: Case) -> CaseAction | None:
    return CaseAction.objects.filter(case=case, action__in=WORKFLOW).order_by("-on", "-id").first()


def _check_date(case: Case | None, on: dt.date, today: dt.date) -> None:
    if not isinstance(on, dt.date):
        raise UserError(_("The date is missing."))
    if on > today:
        raise UserError(_("The date %(date)s is in the future.") % {"date": on.isoformat()})
    last = _last_workflow(case) if case is not None else None
    if last is not None and on < last.on:
        raise UserError(
            _("The date %(date)s is before the case's previous action (%(action)s on %(last)s).")
            % {
                "date": on.isoformat(),
                "action": str(ActionKind(last.action).label).lower(),
                "last": last.on.isoformat(),
            }
        )


def _choice(value: str, choices, what: str) -> str:
    if value not in choices.values:
        raise UserError(
            _("%(value)s is not a %(what)s: use %(choices)s.")
            % {"value": value or _("(empty)"), "what": what, "choices": "|".join(choices.values)}
        )
    return value


def _today(today: dt.date | None) -> dt.date:
    return today or clock.today()


# ---------------------------------------------------------------------------
# Writing


def _journal(case: Case, action: str, on: dt.date, user, /, **detail) -> CaseAction:
    entry = CaseAction.objects.create(
        case=case, action=action, on=on, at=clock.now(), by=user, detail=detail
    )
    audit(
        f"case_{action}",
        user=user,
        object_type="case",
        object_id=case.pk,
        org_code=case.org_id,
        number=case.number,
        on=on.isoformat(),
        **detail,
    )
    return entry


def _act(case: Case, action: str, *, on: dt.date, user, today, detail=None, **updates) -> Case:
    """Check the state and date, journal the action, and update the cached fields: the
    state it leads to (``LEADS_TO``) and ``updates``."""
    if action in LEADS_TO:
        updates = {"state": LEADS_TO[action], **updates}
    with transaction.atomic():
        current = Case.objects.select_for_update().get(pk=case.pk)
        _check_state(current, action)
        _check_date(current, on, _today(today))
        for name, value in updates.items():
            setattr(current, name, value)
        if updates:
            current.save(update_fields=list(updates))
        _journal(current, action, on, user, **(detail or {}))
    for name, value in updates.items():
        setattr(case, name, value)
    case.state = current.state
    return case


# ---------------------------------------------------------------------------
# Intake


def receive(
    *,
    channel: str,
    received_on: dt.date,
    subject: str,
    category: str,
    org_code: str,
    petitioner_name: str = "",
    id_number: str = "",
    phone: str = "",
    anonymous: bool = False,
    user,
    today: dt.date,
    number: str | None = None,
) -> Case:
    """Register a new petition. Its deadlines are fixed now (``config.deadlines``)."""
    _choice(channel, Channel, _("channel"))
    _choice(category, Category, _("category"))
    subject = (subject or "").strip()
    if not subject:
        raise UserError(_("The subject of the petition is empty."))
    org = OrgUnit.objects.filter(code=org_code).first()
    if org is None:
        raise UserError(_("There is no org unit with code %(code)s.") % {"code": org_code})
    petitioner_name = (petitioner_name or "").strip()
    if anonymous and (petitioner_name or id_number or phone):
        raise UserError(_("An anonymous petition has no petitioner name, ID number or phone."))
    if not anonymous and not petitioner_name:
        raise UserError(
            _("The petitioner's name is empty: give it, or mark the petition anonymous.")
        )
    if len(petitioner_name) > 50:
        raise UserError(_("The petitioner's name is longer than 50 characters."))
    details = {
        "petitioner_name_cipher": crypto.encrypt(petitioner_name) if petitioner_name else None,
        "petitioner_phone_cipher": crypto.encrypt(_phone(phone)) if phone else None,
        **_identity(id_number, today, write_area(user)),
    }
    _check_date(None, received_on, today)
    with transaction.atomic():
        return _create(
            number=_number(number, received_on),
            received_on=received_on,
            channel=channel,
            subject=subject,
            category=category,
            org=org,
            anonymous=anonymous,
            user=user,
            **details,
        )


def _identity(id_number: str, today: dt.date, area: str | None = None) -> dict:
    """The ciphertext and blind index of the petitioner's ID, and the person it names when
    that person lives inside ``area``, the receiver's (``scope.write_area``): a petitioner
    registered elsewhere is kept by the ID number alone, as one not in the register is
    (docs/imports.md, "Writes across areas")."""
    if not id_number:
        return {"petitioner_id_cipher": None, "petitioner_id_index": "", "petitioner": None}
    try:
        number = idnumber.normalize(id_number, today=today)
    except idnumber.IDNumberError as e:
        raise UserError(_("The petitioner's ID number: %(reason)s.") % {"reason": e}) from None
    index = crypto.blind_index(number)
    return {
        "petitioner_id_cipher": crypto.encrypt(number),
        "petitioner_id_index": index,
        "petitioner": next(
            (p for p in Person.objects.filter(id_index=index) if within(area, p.current_village)),
            None,
        ),
    }


def _phone(raw: str) -> str:
    try:
        return fields.phone(raw)
    except fields.FieldError as e:
        raise UserError(_("The petitioner's phone: %(reason)s.") % {"reason": e}) from None


def _number(number: str | None, received_on: dt.date) -> str:
    """The given case number (checked to be free), or the next ``XF-<year>-<nnnnnn>``."""
    if number is not None:
        number = number.strip()
        if not number or len(number) > 40:
            raise UserError(_("A case number has 1 to 40 characters."))
        if Case.objects.filter(number=number).exists():
            raise UserError(_("Case number %(number)s is already taken.") % {"number": number})
        return number
    prefix = f"XF-{received_on.year}-"
    taken = Case.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    last = max((int(m[2]) for n in taken if (m := _NUMBER.fullmatch(n))), default=0)
    return f"{prefix}{last + 1:06d}"


def _create(*, number, received_on, user, repeat_of: Case | None = None, **values) -> Case:
    ack_due, conclude_due = config.deadlines(received_on)
    case = Case.objects.create(
        number=number,
        received_on=received_on,
        ack_due=ack_due,
        conclude_due=conclude_due,
        repeat_of=repeat_of,
        created_by=user,
        state=State.RECEIVED,
        **values,
    )
    detail = {"channel": case.channel, "category": case.category}
    if repeat_of is not None:
        detail["repeat_of"] = repeat_of.number
    _journal(case, "receive", received_on, user, **detail)
    return case


# ---------------------------------------------------------------------------
# The workflow


def accept(case: Case, *, on: dt.date, user, today: dt.date | None = None) -> Case:
    return _act(case, "accept", on=on, user=user, today=today, acknowledged_on=on)


def decline(case: Case, *, on: dt.date, reason: str, user, today: dt.date | None = None) -> Case:
    reason = (reason or "").strip()
    if not reason:
        raise UserError(_("A petition is declined with a reason: the reason is empty."))
    detail = {"reason": reason}
    return _act(case, "decline", on=on, user=user, today=today, detail=detail, acknowledged_on=on)


def handler_may_take(handler, case: Case) -> bool:
    """ "The right org unit": the case's own org unit, or one above or below it within its
    township (a village's case goes to the village or its township, a township's case to
    the township or one of its villages)."""
    code = user_org_code(handler) or ""
    org = case.org_id
    return (
        bool(code) and code.startswith(org[:9]) and (code.startswith(org) or org.startswith(code))
    )


def assign(case: Case, *, handler, on: dt.date, user, today: dt.date | None = None) -> Case:
    if handler is None or not handler.is_active:
        raise UserError(_("Choose an active account to handle the case."))
    if not handler_may_take(handler, case):
        raise UserError(
            _(
                "%(handler)s cannot handle case %(number)s: the handler works in org unit "
                "%(org)s, or above or below it within its township; %(handler)s works in "
                "%(code)s."
            )
            % {
                "handler": handler.username,
                "number": case.number,
                "org": case.org_id,
                "code": user_org_code(handler) or _("no org unit"),
            }
        )
    org = user_org_code(handler)
    detail = {"handler": handler.username, "handler_org": org}
    return _act(
        case,
        "assign",
        on=on,
        user=user,
        today=today,
        detail=detail,
        handler=handler,
        handler_org_id=org,
    )


def reply(case: Case, *, on: dt.date, text: str, user, today: dt.date | None = None) -> Case:
    text = (text or "").strip()
    if not text:
        raise UserError(_("The reply is empty."))
    return _act(case, "reply", on=on, user=user, today=today, detail={"text": text}, replied_on=on)


def return_visit(
    case: Case, *, on: dt.date, satisfaction: str, note: str = "", user, today=None
) -> Case:
    _choice(satisfaction, Satisfaction, _("satisfaction"))
    detail = {"satisfaction": satisfaction, "note": (note or "").strip()}
    return _act(
        case,
        "return_visit",
        on=on,
        user=user,
        today=today,
        detail=detail,
        satisfaction=satisfaction,
    )


def close(case: Case, *, on: dt.date, user, today: dt.date | None = None) -> Case:
    return _act(case, "close", on=on, user=user, today=today, closed_on=on)


def note(case: Case, *, on: dt.date, text: str, user, today: dt.date | None = None) -> Case:
    text = (text or "").strip()
    if not text:
        raise UserError(_("The note is empty."))
    return _act(case, "note", on=on, user=user, today=today, detail={"text": text})


def reopen(
    earlier_case: Case,
    *,
    received_on: dt.date,
    channel: str,
    subject: str,
    user,
    today: dt.date,
    number: str | None = None,
) -> Case:
    """A repeat petition: a new case linked to the earlier one (``repeat_of``), from the same
    petitioner about the same org unit and category, with its own deadlines. The earlier
    case's journal gets a "reopen" entry naming the new case; its state does not change."""
    _choice(channel, Channel, _("channel"))
    subject = (subject or "").strip()
    if not subject:
        raise UserError(_("The subject of the petition is empty."))
    with transaction.atomic():
        earlier = Case.objects.select_for_update().get(pk=earlier_case.pk)
        _check_state(earlier, "reopen")
        _check_date(earlier, received_on, today)
        case = _create(
            number=_number(number, received_on),
            received_on=received_on,
            user=user,
            repeat_of=earlier,
            channel=channel,
            subject=subject,
            category=earlier.category,
            org_id=earlier.org_id,
            anonymous=earlier.anonymous,
            petitioner_name_cipher=earlier.petitioner_name_cipher,
            petitioner_id_cipher=earlier.petitioner_id_cipher,
            petitioner_phone_cipher=earlier.petitioner_phone_cipher,
            petitioner_id_index=earlier.petitioner_id_index,
            petitioner_id=earlier.petitioner_id,
        )
        _journal(earlier, "reopen", received_on, user, case=case.number, case_id=case.pk)
    return case


# ---------------------------------------------------------------------------
# Attachments


def attachments_dir() -> Path:
    return taizhang_config.data_dir() / "attachments"


def attachment_path(attachment: Attachment) -> Path:
    return attachments_dir() / attachment.sha256


def attach(case: Case, uploaded_file, *, user, today: dt.date | None = None) -> Attachment:
    """Store an uploaded file with the case (once per content: the file is named by its
    SHA-256) and journal it. Attachments are never deleted."""
    filename = Path(str(uploaded_file.name or "")).name.strip()[:200] or "attachment"
    size = uploaded_file.size
    if not size:
        raise UserError(_("The file %(name)s is empty.") % {"name": filename})
    if size > MAX_ATTACHMENT_BYTES:
        raise UserError(
            _("The file %(name)s is larger than %(mb)d MB.")
            % {"name": filename, "mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)}
        )
    with transaction.atomic():
        current = Case.objects.select_for_update().get(pk=case.pk)
        _check_state(current, "attach")
        sha256 = _store(uploaded_file)
        attachment = Attachment.objects.create(
            case=current,
            filename=filename,
            content_type=(getattr(uploaded_file, "content_type", "") or "")[:100],
            size=size,
            sha256=sha256,
            uploaded_by=user,
        )
        _journal(
            current,
            "attach",
            _today(today),
            user,
            attachment=attachment.pk,
            filename=filename,
            sha256=sha256,
        )
    return attachment


def _store(uploaded_file) -> str:
    """Write the file under its SHA-256 (an identical file is stored once)."""
    folder = attachments_dir()
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in uploaded_file.chunks():
                digest.update(chunk)
                out.write(chunk)
        target = folder / digest.hexdigest()
        if target.exists():
            os.unlink(temp)
        else:
            os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return digest.hexdigest()


def find_handler(username: str):
    """The account named ``username``, or a UserError."""
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise UserError(_("There is no account named %(name)s.") % {"name": username}) from None
