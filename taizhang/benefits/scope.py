"""Which enrolments and payments a user may see: those whose ``village`` lies in the
user's subtree (``taizhang.accounts.scope``). Anything else answers 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from taizhang.accounts.models import Role
from taizhang.accounts.scope import user_org_code, user_role
from taizhang.benefits.models import Enrolment, Payment
from taizhang.orgunits.models import prefix_range

VERIFYING_ROLES = (Role.COUNTY_ADMIN, Role.TOWNSHIP_STATISTICIAN)


def in_subtree(rows: QuerySet, org_code: str) -> QuerySet:
    """``rows`` (enrolments or payments) whose village lies under ``org_code``."""
    low, high = prefix_range(org_code)
    return rows.filter(village__gte=low, village__lt=high)


def enrolments_for(user) -> QuerySet[Enrolment]:
    root = user_org_code(user)
    return in_subtree(Enrolment.objects.all(), root) if root else Enrolment.objects.none()


def payments_for(user) -> QuerySet[Payment]:
    root = user_org_code(user)
    return in_subtree(Payment.objects.all(), root) if root else Payment.objects.none()


def get_enrolment_for_user(user, pk: int) -> Enrolment:
    try:
        return enrolments_for(user).select_related("person", "payee").get(pk=pk)
    except Enrolment.DoesNotExist:
        raise Http404 from None


def get_payment_for_user(user, pk: int) -> Payment:
    try:
        return payments_for(user).select_related("enrolment", "person").get(pk=pk)
    except Payment.DoesNotExist:
        raise Http404 from None


def may_verify(user) -> bool:
    """Township statisticians and county administrators verify enrolments and run payments;
    village workers see them."""
    return user_role(user) in VERIFYING_ROLES
