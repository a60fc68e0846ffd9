"""A brand's blocklist: brands it will never be matched with (either way)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from partners import selectors, validation
from partners.actors import Actor
from partners.errors import PartnersError as E
from partners.models import AuditAction, Brand, BrandBlock
from partners.services.audit import audit
from partners.services.common import _denied, _notify_changed


def _blocked_slug(value: str) -> str:
    """The slug a block names, checked for shape first (no control characters reach a lookup)."""
    try:
        return validation.validate_slug(value if isinstance(value, str) else "")
    except ValidationError as exc:
        raise ValidationError({"blocked": exc}) from None


@transaction.atomic
def brand_block(*, actor: Actor, brand: Brand, blocked_slug: str) -> BrandBlock:
    """``brand`` will never be matched with the brand ``blocked_slug`` (either way)."""
    if not actor.can_edit(brand.pk):
        raise _denied()
    # Only brands the caller may see: a hidden (pending, rejected, suspended) brand is as
    # unknown as a missing one, so blocking cannot probe for it (admins see all).
    blocked = selectors.brand_get(actor=actor, slug=_blocked_slug(blocked_slug))
    if blocked is None:
        raise ValidationError({"blocked": ValidationError(_("No brand with this slug."), code=E.UNKNOWN_BRAND)})
    if blocked.pk == brand.pk:
        raise ValidationError({"blocked": ValidationError(_("A brand cannot block itself."), code=E.SELF_BLOCK)})
    block, created = BrandBlock.objects.get_or_create(brand=brand, blocked=blocked)
    if created:
        audit(actor=actor, action=AuditAction.BRAND_BLOCKED, obj=brand, brand=brand, data={"blocked": blocked.slug})
        _notify_changed(brand.pk, "blocks")
        _notify_changed(blocked.pk, "blocks")
    return block


@transaction.atomic
def brand_unblock(*, actor: Actor, brand: Brand, blocked_slug: str) -> None:
    if not actor.can_edit(brand.pk):
        raise _denied()
    blocked_slug = _blocked_slug(blocked_slug)
    blocks = BrandBlock.objects.filter(brand=brand, blocked__slug=blocked_slug)
    unblocked_ids = list(blocks.values_list("blocked_id", flat=True))
    deleted, _ = blocks.delete()
    if deleted:
        audit(actor=actor, action=AuditAction.BRAND_UNBLOCKED, obj=brand, brand=brand, data={"blocked": blocked_slug})
        # Both sides' recommendations change (as for brand_block).
        _notify_changed(brand.pk, "blocks")
        for blocked_id in unblocked_ids:
            _notify_changed(blocked_id, "blocks")
