"""The audit trail's one writer: every service (partners, matching, the exchange) records
what it changed through ``audit``."""

from __future__ import annotations

from typing import Any

from partners.actors import Actor
from partners.models import AuditAction, AuditEvent, Brand


def audit(
    *,
    actor: Actor,
    action: AuditAction,
    obj: Any,
    brand: Brand | None = None,
    reason: str = "",
    data: dict | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        **actor.audit_fields(),
        action=action,
        brand=brand,
        object_type=obj.__class__.__name__.lower(),
        object_id=str(obj.pk),
        reason=reason,
        data=data or {},
    )
