"""What a user may see of targets: those set on an org unit of their area, or above it
(the targets their area is held to)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from taizhang.accounts.scope import user_org_code
from taizhang.orgunits.models import prefix_range
from taizhang.targets.attainment import ancestors
from taizhang.targets.models import Target


def targets_for(user) -> QuerySet[Target]:
    root = user_org_code(user)
    if not root:
        return Target.objects.none()
    low, high = prefix_range(root)
    return Target.objects.filter(
        Q(org_id__gte=low, org_id__lt=high) | Q(org_id__in=ancestors(root))
    )


def get_target_for_change(user, pk: int) -> Target:
    """A target set inside the user's area (not one above it); 404 otherwise."""
    root = user_org_code(user)
    target = Target.objects.filter(pk=pk).first()
    if target is None or not root or not target.org_id.startswith(root):
        raise Http404
    return target
