"""The only write path for targets: set (or change) and withdraw, each journaled and audited.

A target is keyed by (indicator, org unit, year). Setting one that is already in force
with the same value and direction changes nothing and writes nothing; anything else
updates the row in force and adds a ``TargetChange`` saying what it was and what it
became. Nothing is deleted: withdrawing sets ``active=False``.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from taizhang import clock
from taizhang.audit.actions import record as audit
from taizhang.errors import UserError
from taizhang.orgunits.models import OrgUnit
from taizhang.targets import rules
from taizhang.targets.models import ChangeKind, Target, TargetChange

CREATED, CHANGED, UNCHANGED = "created", "changed", "unchanged"


def set_target(
    *,
    indicator: str,
    org_code: str,
    year: int | str,
    value: Decimal | str | float,
    direction: str = "",
    user=None,
    source: str = "",
) -> tuple[Target, str]:
    """Put a target in force. Returns it and what happened: created, changed or unchanged.

    ``direction`` is ge/le (or ≥/≤, >=/<=); empty means the indicator's default
    (``rules.default_direction``). Raises ``UserError`` for an unknown indicator or org
    unit, a bad year or value.
    """
    code = rules.indicator_code(indicator)
    the_year = rules.year(year)
    number = rules.value(value)
    the_direction = rules.direction(direction, code)
    if not OrgUnit.objects.filter(code=org_code).exists():
        raise UserError(_("org unit %(code)s is not in the register") % {"code": org_code})
    now = clock.now()
    with transaction.atomic():
        target = (
            Target.objects.select_for_update()
            .filter(indicator=code, org_id=org_code, year=the_year)
            .first()
        )
        if target is None:
            target = Target.objects.create(
                indicator=code,
                org_id=org_code,
                year=the_year,
                value=number,
                direction=the_direction,
                set_by=user,
                set_at=now,
            )
            _journal(target, ChangeKind.SET, None, "", user, now, source)
            return target, CREATED
        if target.active and target.value == number and target.direction == the_direction:
            return target, UNCHANGED
        old_value, old_direction = (target.value, target.direction) if target.active else (None, "")
        target.value, target.direction, target.active = number, the_direction, True
        target.set_by, target.set_at = user, now
        target.save(update_fields=["value", "direction", "active", "set_by", "set_at"])
        kind = ChangeKind.CHANGE if old_value is not None else ChangeKind.SET
        _journal(target, kind, old_value, old_direction, user, now, source)
        return target, CHANGED


def withdraw_target(target: Target, *, user=None, source: str = "") -> Target:
    """Take a target out of force; its row and history stay."""
    now = clock.now()
    with transaction.atomic():
        current = Target.objects.select_for_update().get(pk=target.pk)
        if not current.active:
            raise UserError(_("this target is already withdrawn"))
        old_value, old_direction = current.value, current.direction
        current.active, current.set_by, current.set_at = False, user, now
        current.save(update_fields=["active", "set_by", "set_at"])
        _journal(current, ChangeKind.WITHDRAW, old_value, old_direction, user, now, source)
    return current


def _journal(target: Target, kind, old_value, old_direction, user, at, source) -> None:
    withdrawn = kind == ChangeKind.WITHDRAW
    new_value = None if withdrawn else target.value
    new_direction = "" if withdrawn else target.direction
    TargetChange.objects.create(
        target=target,
        kind=kind,
        old_value=old_value,
        new_value=new_value,
        old_direction=old_direction,
        new_direction=new_direction,
        by=user,
        at=at,
        source=source,
    )
    audit(
        f"target_{kind}",
        user=user,
        object_type="target",
        object_id=target.pk,
        org_code=target.org_id,
        source=source,
        indicator=target.indicator,
        year=target.year,
        old=None if old_value is None else f"{rules.SYMBOLS[old_direction]} {old_value}",
        new=None if new_value is None else f"{rules.SYMBOLS[new_direction]} {new_value}",
    )
