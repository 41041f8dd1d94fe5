"""Writing family-development support (三结合): the only write path of ``FamilySupport``.

Support is voluntary: it starts from the household's own request (``applied_on``) and
records what was offered and how it ended. Each action validates, writes and audits in
one transaction; a refused action raises ``UserError`` with a sentence saying why.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from taizhang.audit.actions import record as audit
from taizhang.errors import UserError
from taizhang.ledgers.models import FamilySupport, SupportKind, SupportResult
from taizhang.register.models import Household, Person


def _not_future(day: dt.date, today: dt.date, what: str) -> None:
    if not isinstance(day, dt.date):
        raise UserError(_("The %(what)s is missing.") % {"what": what})
    if day > today:
        raise UserError(
            _("The %(what)s %(date)s is in the future.") % {"what": what, "date": day.isoformat()}
        )


def start_support(
    household: Household,
    *,
    kind: str,
    applied_on: dt.date,
    start: dt.date,
    description: str = "",
    person: Person | None = None,
    user,
    today: dt.date,
) -> FamilySupport:
    """Record support the household asked for on ``applied_on``, starting on ``start``."""
    if kind not in SupportKind.values:
        raise UserError(
            _("%(kind)s is not a kind of support: use %(kinds)s.")
            % {"kind": kind or _("(empty)"), "kinds": "|".join(SupportKind.values)}
        )
    _not_future(applied_on, today, _("date the household asked"))
    _not_future(start, today, _("start date"))
    if start < applied_on:
        raise UserError(
            _("Support starts on or after the household asked for it (%(applied)s), not %(start)s.")
            % {"applied": applied_on.isoformat(), "start": start.isoformat()}
        )
    if person is not None and person.household_id != household.pk:
        raise UserError(
            _("%(name)s is not a member of household %(household)s.")
            % {"name": person.name, "household": household.number}
        )
    description = (description or "").strip()
    if len(description) > 200:
        raise UserError(_("The description is longer than 200 characters."))
    with transaction.atomic():
        support = FamilySupport.objects.create(
            household=household,
            person=person,
            kind=kind,
            description=description,
            applied_on=applied_on,
            start=start,
            created_by=user,
        )
        audit(
            "family_support_start",
            user=user,
            object_type="family_support",
            object_id=support.pk,
            org_code=household.village_id,
            household=household.number,
            kind=kind,
            applied_on=applied_on.isoformat(),
            start=start.isoformat(),
        )
    return support


def record_support_result(
    support: FamilySupport, *, on: dt.date, result: str, note: str = "", user, today: dt.date
) -> FamilySupport:
    """The support's result on ``on``: still ongoing, completed or ended early."""
    if result not in SupportResult.values:
        raise UserError(
            _("%(result)s is not a result: use %(results)s.")
            % {"result": result or _("(empty)"), "results": "|".join(SupportResult.values)}
        )
    _not_future(on, today, _("date"))
    note = (note or "").strip()
    if len(note) > 200:
        raise UserError(_("The note is longer than 200 characters."))
    with transaction.atomic():
        current = FamilySupport.objects.select_for_update().get(pk=support.pk)
        if on < current.start:
            raise UserError(
                _("The date %(date)s is before the support started (%(start)s).")
                % {"date": on.isoformat(), "start": current.start.isoformat()}
            )
        if current.result != SupportResult.ONGOING:
            raise UserError(
                _("The support already ended on %(date)s.")
                % {"date": current.result_on.isoformat() if current.result_on else ""}
            )
        current.result = result
        current.result_on = None if result == SupportResult.ONGOING else on
        current.result_note = note or current.result_note
        current.save(update_fields=["result", "result_on", "result_note"])
        audit(
            "family_support_result",
            user=user,
            object_type="family_support",
            object_id=current.pk,
            org_code=current.household.village_id,
            on=on.isoformat(),
            result=result,
            note=note,
        )
    support.result, support.result_on, support.result_note = (
        current.result,
        current.result_on,
        current.result_note,
    )
    return support
