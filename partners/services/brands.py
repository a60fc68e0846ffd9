"""Brands: registration and profile edits."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huiliu.throttle import ThrottleScope, throttle
from partners import selectors, validation
from partners.actors import Actor
from partners.errors import PartnersError as E
from partners.models import AuditAction, Brand, BrandStatus, Channel, Membership, Role
from partners.services.audit import audit
from partners.services.channels import _check_verification
from partners.services.common import _denied, _notify_changed
from partners.signals import brand_status_changed
from partners.tasks import brand_status_notify


@transaction.atomic
def brand_register(*, actor: Actor, data: dict[str, Any], require_credit_code: bool = True) -> Brand:
    """Register a brand for review (status ``pending``); the registering user becomes its owner.

    ``data`` uses the bulk-import field names (slug, name, category, price_tier, tone,
    audience, stores, credit_code, channels …). Self-registration requires a valid unified
    social credit code. A person registers at most ``THROTTLE_RATES["brand_register"]`` brands
    per period (``huiliu.throttle.Throttled`` beyond it); the web wizard and the API share it.
    A credit code already used by another brand is accepted without a word to the registrant
    (that would tell them who holds it) and flagged to the reviewer instead
    (``selectors.brands_sharing_credit_code``).
    """
    if actor.user is None and not actor.system:
        raise _denied(_("Sign in to register a brand."))
    # Every problem at once (profile and channels), so the caller fixes its input in one round.
    errors: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    channels: list[dict[str, Any]] = []
    try:
        fields = validation.clean_brand_profile(
            data, categories=selectors.category_lookup(), require_credit_code=require_credit_code
        )
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        channels = validation.clean_channels(data.get("channels"))
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    _check_verification(actor, data.get("channels"), stored={})
    if selectors.brand_slug_taken(slug=fields["slug"]):
        raise ValidationError({"slug": ValidationError(_("This slug is already taken."), code=E.SLUG_TAKEN)})
    if actor.user is not None:  # counted once valid: a refused attempt does not use the budget
        throttle(ThrottleScope.BRAND_REGISTER, f"user:{actor.user.pk}")
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
REVIEWED_STATUSES = (BrandStatus.APPROVED, BrandStatus.SUSPENDED)


def brand_kyb_changes(*, actor: Actor, brand: Brand, fields: dict[str, Any]) -> list[str]:
    """The KYB fields (``credit_code``, ``legal_name``) whose change in ``fields`` (``brand_update_clean``'s
    result) a reviewer must see: edits by a member or an API key of an approved or suspended
    brand. Filling an empty legal entity while the credit code on file stays as reviewed is not
    one: the code identifies the company and the review checked it. Pure (reads its arguments).
    """
    changed = [k for k in KYB_FIELDS if k in fields and getattr(brand, k) != fields[k]]
    if not changed or actor.is_admin or brand.status not in REVIEWED_STATUSES:
        return []
    if changed == ["legal_name"] and not brand.legal_name and brand.credit_code:
        return []
    return changed


def brand_update_needs_review(*, actor: Actor, brand: Brand, fields: dict[str, Any]) -> list[str]:
    """The KYB fields whose change would send ``brand`` back to review if ``actor`` saved
    ``fields``; [] for an ordinary edit. Only an approved brand goes back to review (a suspended
    one stays suspended; its change is recorded for the reviewer). ``brand_update`` decides
    with the same rule, and the web form asks the member to confirm first — one rule, one place.
    """
    if brand.status != BrandStatus.APPROVED:
        return []
    return brand_kyb_changes(actor=actor, brand=brand, fields=fields)


@transaction.atomic
def brand_update(*, actor: Actor, brand: Brand, data: dict[str, Any]) -> Brand:
    """Update profile fields given in ``data`` (partial). The slug cannot change.

    Legal identity (KYB: ``credit_code``, ``legal_name``) edits by a member or an API key of a
    reviewed brand are audited as ``AuditAction.BRAND_KYB_CHANGED`` with each field's old and
    new value (``data.changes``), for the reviewer:

    - ``approved``: the brand goes back to ``pending`` (``status_reason`` says why) and leaves
      the marketplace until a reviewer approves it again; members are e-mailed as for any
      status change.
    - ``suspended``: the brand stays suspended with its reason. Only an admin's reinstatement
      ends a suspension, so an edit never turns it into a reviewable ``pending`` brand; the
      admin sees the change in the history when deciding.

    Filling in an empty legal entity of a brand whose credit code is on file (and unchanged)
    is a plain profile edit, not a re-review: the reviewed credit code already identifies the
    company. Admin corrections never trigger a re-review.

    Every change is audited as ``BRAND_UPDATED`` with the changed field names; a ``category``
    change (allowed without re-review: a brand may re-classify itself, and the matcher
    recomputes who competes on the ``profile`` signal) and a ``legal_name`` change carry their
    old and new value.
    """
    if not actor.can_edit(brand.pk):
        raise _denied()
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    fields = brand_update_clean(brand=brand, data=data)
    changed = sorted(k for k, v in fields.items() if getattr(brand, k) != v)
    before = {k: getattr(brand, k) for k in changed}
    kyb_changed = brand_kyb_changes(actor=actor, brand=brand, fields=fields)
    rereview = bool(brand_update_needs_review(actor=actor, brand=brand, fields=fields))
    previous_status = brand.status
    for key, value in fields.items():
        setattr(brand, key, value)
    if rereview:
        brand.status = BrandStatus.PENDING
        brand.status_reason = _("The legal name or credit code changed; the brand is back in review.")
        brand.status_changed_at = brand.submitted_at = timezone.now()
    brand.save()
    if changed:
        event_data: dict[str, Any] = {"fields": changed}
        if "category" in changed:
            event_data["category"] = {"from": before["category"].code, "to": brand.category.code}
        if "legal_name" in changed:
            event_data["legal_name"] = {"from": before["legal_name"], "to": brand.legal_name}
        audit(actor=actor, action=AuditAction.BRAND_UPDATED, obj=brand, brand=brand, data=event_data)
        _notify_changed(brand.pk, "profile")
    if kyb_changed:
        event = audit(
            actor=actor,
            action=AuditAction.BRAND_KYB_CHANGED,
            obj=brand,
            brand=brand,
            reason=brand.status_reason if rereview else "",
            data={
                "from": previous_status,
                "to": brand.status,
                "changes": {k: {"from": before[k], "to": getattr(brand, k)} for k in kyb_changed},
            },
        )
    if rereview:
        brand_status_changed.send(
            sender=Brand,
            brand_id=brand.pk,
            previous=previous_status,
            status=brand.status,
            reason=brand.status_reason,
        )
        transaction.on_commit(lambda: brand_status_notify.delay(event.pk))
        _notify_changed(brand.pk, "status")
    return brand
