"""Brands: registration and profile edits."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partners import selectors, validation
from partners.actors import Actor
from partners.errors import PartnersError as E
from partners.models import AuditAction, Brand, BrandStatus, Channel, Membership, Role
from partners.services.audit import audit
from partners.services.channels import _check_verification
from partners.services.common import _denied, _notify_changed
from partners.tasks import brand_status_notify


@transaction.atomic
def brand_register(*, actor: Actor, data: dict[str, Any], require_credit_code: bool = True) -> Brand:
    """Register a brand for review (status ``pending``); the registering user becomes its owner.

    ``data`` uses the bulk-import field names (slug, name, category, price_tier, tone,
    audience, stores, credit_code, channels …). Self-registration requires a valid unified
    social credit code.
    """
    if actor.user is None and not actor.system:
        raise _denied(_("Sign in to register a brand."))
    fields = validation.clean_brand_profile(
        data, categories=selectors.category_lookup(), require_credit_code=require_credit_code
    )
    channels = validation.clean_channels(data.get("channels"))
    _check_verification(actor, data.get("channels"), stored={})
    if selectors.brand_slug_taken(slug=fields["slug"]):
        raise ValidationError({"slug": ValidationError(_("This slug is already taken."), code=E.SLUG_TAKEN)})
    brand = Brand(**fields, status=BrandStatus.PENDING, submitted_at=timezone.now())
    brand.active_audience = validation.active_audience(channels)
    brand.save()
    Channel.objects.bulk_create([Channel(brand=brand, **c) for c in channels])
    if actor.user is not None:
        Membership.objects.create(user=actor.user, brand=brand, role=Role.OWNER)
    audit(actor=actor, action=AuditAction.BRAND_REGISTERED, obj=brand, brand=brand)
    _notify_changed(brand.pk, "registered")
    return brand


def brand_update_clean(*, brand: Brand, data: dict[str, Any]) -> dict[str, Any]:
    """The validated model fields ``brand_update`` would write for ``data`` (partial), or the
    ValidationError it would raise. Writes nothing: a form (the Django admin's) calls it to
    show the service's errors on its fields before it saves through ``brand_update``."""
    if "slug" in data and data["slug"] != brand.slug:
        raise ValidationError({"slug": ValidationError(_("The slug cannot be changed."), code=E.INVALID)})
    payload = {k: v for k, v in data.items() if k not in ("slug", "channels", "blocked")}
    fields = validation.clean_brand_profile(payload, categories=selectors.category_lookup(), partial=True)
    if brand.credit_code and fields.get("credit_code") == "":
        raise ValidationError(
            {"credit_code": ValidationError(_("The credit code cannot be removed."), code=E.REQUIRED)}
        )
    return fields


# Fields the review checked (KYB): changing one on a reviewed brand needs a new review.
KYB_FIELDS = validation.BRAND_LEGAL_FIELDS


def brand_update_needs_review(*, actor: Actor, brand: Brand, fields: dict[str, Any]) -> list[str]:
    """The KYB fields whose change (``fields``: ``brand_update_clean``'s result) would send
    ``brand`` back to review if ``actor`` saved it; [] for an ordinary edit.

    Pure (reads only its arguments): ``brand_update`` decides the re-review with it, and the
    web form asks the member to confirm before saving such a change — one rule, one place.
    """
    changed = [k for k in KYB_FIELDS if k in fields and getattr(brand, k) != fields[k]]
    if not changed or actor.is_admin or brand.status not in (BrandStatus.APPROVED, BrandStatus.SUSPENDED):
        return []
    return changed


@transaction.atomic
def brand_update(*, actor: Actor, brand: Brand, data: dict[str, Any]) -> Brand:
    """Update profile fields given in ``data`` (partial). The slug cannot change.

    Re-review: the platform approved the brand's legal identity, so when a member or API key
    changes ``credit_code`` or ``legal_name`` of an ``approved`` or ``suspended`` brand, the
    brand goes back to ``pending`` (``status_reason`` says why), the change is audited as
    ``AuditAction.BRAND_KYB_CHANGED`` with each field's old and new value, and the members
    are e-mailed as for any status change. Admin corrections never trigger a re-review.

    A ``category`` change is allowed without re-review (a brand may re-classify itself; the
    matcher recomputes who competes on the ``profile`` signal), but it is audited with its
    old and new code in the ``BRAND_UPDATED`` event, since it changes which brands compete.
    """
    if not actor.can_edit(brand.pk):
        raise _denied()
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    fields = brand_update_clean(brand=brand, data=data)
    changed = sorted(k for k, v in fields.items() if getattr(brand, k) != v)
    before = {k: getattr(brand, k) for k in changed}
    kyb_changed = brand_update_needs_review(actor=actor, brand=brand, fields=fields)
    rereview = bool(kyb_changed)
    for key, value in fields.items():
        setattr(brand, key, value)
    previous_status = brand.status
    if rereview:
        brand.status = BrandStatus.PENDING
        brand.status_reason = _("The legal name or credit code changed; the brand is back in review.")
        brand.status_changed_at = brand.submitted_at = timezone.now()
    brand.save()
    if changed:
        event_data: dict[str, Any] = {"fields": changed}
        if "category" in changed:
            event_data["category"] = {"from": before["category"].code, "to": brand.category.code}
        audit(actor=actor, action=AuditAction.BRAND_UPDATED, obj=brand, brand=brand, data=event_data)
        _notify_changed(brand.pk, "profile")
    if rereview:
        event = audit(
            actor=actor,
            action=AuditAction.BRAND_KYB_CHANGED,
            obj=brand,
            brand=brand,
            reason=brand.status_reason,
            data={
                "from": previous_status,
                "to": BrandStatus.PENDING,
                "changes": {k: {"from": before[k], "to": getattr(brand, k)} for k in kyb_changed},
            },
        )
        transaction.on_commit(lambda: brand_status_notify.delay(event.pk))
        _notify_changed(brand.pk, "status")
    return brand
