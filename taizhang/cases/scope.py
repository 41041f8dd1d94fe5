"""What a user may see of petitions: the cases of their area, and who may see the petitioner.

A case belongs to the area of the org unit it concerns (``Case.org``); the handler's
org unit sees it too (a village worker handling a township's case). Petitioner
details (name, ID number, phone) are for fewer people: the handler's org unit, and
county administrators whose area contains the case.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from taizhang.accounts.models import Role
from taizhang.accounts.scope import in_area, user_org_code, user_role
from taizhang.cases.actions import allowed_actions
from taizhang.cases.models import Case
from taizhang.orgunits.models import prefix_range


def area_condition(code: str) -> Q:
    """Cases concerning an org unit in the subtree of ``code``, or handled there."""
    low, high = prefix_range(code)
    return Q(org_id__gte=low, org_id__lt=high) | Q(handler_org_id__gte=low, handler_org_id__lt=high)


def cases_for(user) -> QuerySet[Case]:
    root = user_org_code(user)
    if not root:
        return Case.objects.none()
    return Case.objects.filter(area_condition(root))


def get_case_for_user(user, pk: int) -> Case:
    try:
        return cases_for(user).select_related("org", "handler_org", "handler").get(pk=pk)
    except Case.DoesNotExist:
        raise Http404 from None


def may_see_petitioner(user, case: Case) -> bool:
    """Unmasked petitioner details: the handler's org unit, and county administrators
    whose area contains the case."""
    code = user_org_code(user)
    if not code:
        return False
    if user_role(user) == Role.COUNTY_ADMIN and in_area(user, case.org_id):
        return True
    return case.handler_org_id is not None and code == case.handler_org_id


def is_case_officer(user) -> bool:
    """Township statisticians and county administrators accept, decline, assign and close."""
    return user_role(user) in (Role.TOWNSHIP_STATISTICIAN, Role.COUNTY_ADMIN)


OFFICER_ACTIONS = frozenset({"accept", "decline", "assign", "close", "reopen"})
HANDLER_ACTIONS = frozenset({"reply", "return_visit"})
SHARED_ACTIONS = frozenset({"note", "attach"})


def actions_for(user, case: Case) -> list[str]:
    """The named actions this user may take on the case now: township statisticians and
    county administrators accept, decline, assign, close and open a repeat petition; the
    handler replies and records the return visit; either adds notes and files."""
    officer = is_case_officer(user)
    handler = case.handler_id is not None and case.handler_id == user.pk
    permitted = set()
    if officer:
        permitted |= OFFICER_ACTIONS
    if handler:
        permitted |= HANDLER_ACTIONS
    if officer or handler:
        permitted |= SHARED_ACTIONS
    return [a for a in allowed_actions(case) if a in permitted]
