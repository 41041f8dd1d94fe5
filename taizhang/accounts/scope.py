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
