"""The one place that answers "what may this user see": their org unit and everything below it.

Views never filter by area themselves; they ask here. Anything outside the
user's subtree answers 404, as if it did not exist.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from taizhang.accounts.models import Role
from taizhang.orgunits.models import OrgUnit, prefix_range
from taizhang.register.models import Person


def user_org_code(user) -> str | None:
    """The code of the user's org unit, or None for a user with no area (sees nothing)."""
    profile = getattr(user, "profile", None) if user.is_authenticated else None
    return profile.org_unit_id if profile is not None else None


def user_role(user) -> str | None:
    profile = getattr(user, "profile", None) if user.is_authenticated else None
    return profile.role if profile is not None else None


def in_area(user, code: str) -> bool:
    """Is the org unit (or village) ``code`` inside the user's subtree?"""
    root = user_org_code(user)
    return bool(root) and bool(code) and code.startswith(root)


def org_units_for(user) -> QuerySet[OrgUnit]:
    root = user_org_code(user)
    if not root:
        return OrgUnit.objects.none()
    return OrgUnit.objects.subtree(root)


def get_org_unit_for_user(user, code: str) -> OrgUnit:
    if not in_area(user, code):
        raise Http404
    try:
        return OrgUnit.objects.get(code=code)
    except OrgUnit.DoesNotExist:
        raise Http404 from None


def persons_for(user) -> QuerySet[Person]:
    """Persons whose village (where they live, or lived last) is in the user's subtree."""
    root = user_org_code(user)
    if not root:
        return Person.objects.none()
    low, high = prefix_range(root)
    return Person.objects.filter(current_village__gte=low, current_village__lt=high)


def get_person_for_user(user, pk: int) -> Person:
    try:
        return persons_for(user).get(pk=pk)
    except Person.DoesNotExist:
        raise Http404 from None


def may_see_identity(user, person: Person) -> bool:
    """Unmasked ID and phone numbers: county administrators, and the person's own village."""
    role = user_role(user)
    if role == Role.COUNTY_ADMIN:
        return in_area(user, person.current_village)
    if role == Role.VILLAGE_WORKER:
        return user_org_code(user) == person.current_village
    return False


def write_area(user) -> str | None:
    """The org unit under which a write by ``user`` may name persons (by ID number or by a
    ledger row's key), or None for the whole register.

    A user with an org unit writes within its subtree: a person living elsewhere answers
    as if not in the register (docs/imports.md, "Writes across areas"). No user, or an
    account with no org unit (the system account a command runs under without ``--user``),
    writes across the whole register; the web pages refuse such an account before this.
    """
    if user is None:
        return None
    return user_org_code(user)


def within(area: str | None, village: str) -> bool:
    """Is a person whose village is ``village`` inside ``area`` (None: the whole register)?"""
    return area is None or bool(village and village.startswith(area))
