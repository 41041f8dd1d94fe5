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
