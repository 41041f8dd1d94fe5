"""Writing to the audit trail: one function, called by every action that changes or shows a record."""

from __future__ import annotations

from taizhang.audit.models import AuditEntry


def record(
    action: str,
    *,
    user=None,
    object_type: str = "",
    object_id: str | int = "",
    org_code: str = "",
    source: str = "",
    **detail,
) -> AuditEntry:
    return AuditEntry.objects.create(
        action=action,
        user=user,
        object_type=object_type,
        object_id=str(object_id),
        org_code=org_code,
        source=source,
        detail=detail,
    )


def request_source(request) -> str:
    """Where a web request came from, as the audit trail records it."""
    return request.META.get("REMOTE_ADDR", "")


def record_request(
    request, action: str, *, object_type: str, object_id: str | int, org_code: str, **detail
) -> AuditEntry:
    """``record`` for what a web request shows or does: by its user, from its address."""
    return record(
        action,
        user=request.user,
        object_type=object_type,
        object_id=object_id,
        org_code=org_code,
        source=request_source(request),
        **detail,
    )
