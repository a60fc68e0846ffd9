"""The brand status workflow: pending → approved / rejected, suspended, reinstated,
resubmitted. Each step is a ``Transition``.

These transitions are the only way a status changes, with one exception: a member's or a
key's legal-identity edit sends an *approved* brand back to ``pending`` (``brand_update``).
A *suspended* brand has no way out but an admin's ``reinstate``: no edit moves it to
``pending``, where a plain ``approve`` would lift the suspension."""

from __future__ import annotations

from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huiliu.text import clean_free_text
from partners.actors import Actor
from partners.errors import PartnersError as E
from partners.models import AuditAction, Brand, BrandStatus
from partners.services.audit import audit
from partners.services.common import _denied, _notify_changed
from partners.signals import brand_status_changed
from partners.tasks import brand_status_notify


class Transition(NamedTuple):
    """One step of the brand status workflow (``TRANSITIONS[action]``)."""

    sources: frozenset[str]  # the statuses it may start from
    target: str  # the status it leads to
    reason_required: bool
    admin_only: bool  # platform admins only; otherwise a member with an edit role (or an admin)
    audit_action: AuditAction  # what the history records


TRANSITIONS: dict[str, Transition] = {
    # A rejection can be reversed by an admin (e.g. the licence arrived by other means)
    # without the brand resubmitting first.
    "approve": Transition(
        sources=frozenset({BrandStatus.PENDING, BrandStatus.REJECTED}),
        target=BrandStatus.APPROVED,
        reason_required=False,
        admin_only=True,
        audit_action=AuditAction.BRAND_APPROVED,
    ),
    "reject": Transition(
        sources=frozenset({BrandStatus.PENDING}),
        target=BrandStatus.REJECTED,
        reason_required=True,
        admin_only=True,
        audit_action=AuditAction.BRAND_REJECTED,
    ),
    "suspend": Transition(
        sources=frozenset({BrandStatus.APPROVED}),
        target=BrandStatus.SUSPENDED,
        reason_required=True,
        admin_only=True,
        audit_action=AuditAction.BRAND_SUSPENDED,
    ),
    "reinstate": Transition(
        sources=frozenset({BrandStatus.SUSPENDED}),
        target=BrandStatus.APPROVED,
        reason_required=False,
        admin_only=True,
        audit_action=AuditAction.BRAND_REINSTATED,
    ),
    "resubmit": Transition(
        sources=frozenset({BrandStatus.REJECTED}),
        target=BrandStatus.PENDING,
        reason_required=False,
        admin_only=False,
        audit_action=AuditAction.BRAND_RESUBMITTED,
    ),
}


# Each action as people read it (buttons, messages): never the code.
TRANSITION_LABELS = {
    "approve": gettext_lazy("Approve"),
    "reject": gettext_lazy("Reject"),
    "suspend": gettext_lazy("Suspend"),
    "reinstate": gettext_lazy("Reinstate"),
    "resubmit": gettext_lazy("Resubmit for review"),
}


@transaction.atomic
def brand_transition(*, actor: Actor, brand: Brand, action: str, reason: str = "") -> Brand:
    """Move a brand through its status workflow; writes an AuditEvent and e-mails members."""
    if action not in TRANSITIONS:
        raise ValidationError({"action": ValidationError(_("Unknown action."), code=E.INVALID)})
    spec = TRANSITIONS[action]
    allowed = actor.is_admin if spec.admin_only else actor.can_edit(brand.pk)
    if not allowed:
        raise _denied(_("Only platform admins can do this.") if spec.admin_only else None)
    try:
        reason = clean_free_text(reason, "reason")
    except ValidationError as exc:
        raise ValidationError({"reason": exc}) from None
    if spec.reason_required and not reason:
        raise ValidationError({"reason": ValidationError(_("A reason is required."), code=E.REASON_REQUIRED)})
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    if brand.status not in spec.sources:
        raise ValidationError(
            {
                "status": ValidationError(
                    _("“%(action)s” is not possible for a brand that is %(status)s.")
                    % {"action": TRANSITION_LABELS[action], "status": brand.get_status_display()},
                    code=E.INVALID_TRANSITION,
                )
            }
        )
    previous = brand.status
    brand.status = spec.target
    brand.status_reason = reason
    brand.status_changed_at = timezone.now()
    if action == "resubmit":
        brand.submitted_at = brand.status_changed_at
    brand.save(update_fields=["status", "status_reason", "status_changed_at", "submitted_at", "updated_at"])
    event = audit(
        actor=actor,
        action=spec.audit_action,
        obj=brand,
        brand=brand,
        reason=reason,
        data={"from": previous, "to": spec.target},
    )
    brand_status_changed.send(sender=Brand, brand_id=brand.pk, previous=previous, status=brand.status, reason=reason)
    transaction.on_commit(lambda: brand_status_notify.delay(event.pk))
    _notify_changed(brand.pk, "status")
    return brand


def brand_approve(*, actor: Actor, brand: Brand, reason: str = "") -> Brand:
    return brand_transition(actor=actor, brand=brand, action="approve", reason=reason)


def brand_reject(*, actor: Actor, brand: Brand, reason: str) -> Brand:
    return brand_transition(actor=actor, brand=brand, action="reject", reason=reason)


def brand_suspend(*, actor: Actor, brand: Brand, reason: str) -> Brand:
    return brand_transition(actor=actor, brand=brand, action="suspend", reason=reason)


def brand_reinstate(*, actor: Actor, brand: Brand, reason: str = "") -> Brand:
    return brand_transition(actor=actor, brand=brand, action="reinstate", reason=reason)


def brand_resubmit(*, actor: Actor, brand: Brand) -> Brand:
    return brand_transition(actor=actor, brand=brand, action="resubmit")
